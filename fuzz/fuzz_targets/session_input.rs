//! An acceptor session fed arbitrary bytes and timer ticks (body: `fixgate_tests::fuzz::session_input`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fixgate_tests::fuzz::session_input(data));
