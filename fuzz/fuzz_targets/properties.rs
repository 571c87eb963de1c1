//! Arbitrary text as `engine.properties` (body: `fixgate_tests::fuzz::properties`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fixgate_tests::fuzz::properties(data));
