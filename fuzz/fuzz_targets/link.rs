//! Two sessions over a fuzzer-driven link: once healed, exactly-once, in-order delivery (body:
//! `fixgate_tests::fuzz::link`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fixgate_tests::fuzz::link(data));
