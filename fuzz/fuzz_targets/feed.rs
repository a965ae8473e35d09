//! Fuzz target: see `jincheng_fuzz::feed`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jincheng_fuzz::feed(data));
