//! Fuzz target: see `jincheng_fuzz::oai_pmh`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jincheng_fuzz::oai_pmh(data));
