//! Fuzz target: see `jincheng_fuzz::native`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jincheng_fuzz::native(data));
