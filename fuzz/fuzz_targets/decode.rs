//! The streaming decoder over arbitrary bytes in arbitrary chunks (body: `fixgate_tests::fuzz::decode`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fixgate_tests::fuzz::decode(data));
