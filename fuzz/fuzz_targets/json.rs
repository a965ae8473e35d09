//! Fuzz target: see `jincheng_fuzz::json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jincheng_fuzz::json(data));
