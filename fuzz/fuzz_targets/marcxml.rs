//! Fuzz target: see `jincheng_fuzz::marcxml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jincheng_fuzz::marcxml(data));
