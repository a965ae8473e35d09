//! Fuzz target: see `jincheng_fuzz::marc_iso2709`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jincheng_fuzz::marc_iso2709(data));
