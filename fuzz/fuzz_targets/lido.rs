//! Fuzz target: see `jincheng_fuzz::lido`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jincheng_fuzz::lido(data));
