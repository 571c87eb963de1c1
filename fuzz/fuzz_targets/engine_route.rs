//! An engine routing connections with arbitrary bytes (body: `fixgate_tests::fuzz::engine_route`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fixgate_tests::fuzz::engine_route(data));
