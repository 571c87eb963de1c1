//! Arbitrary text as a QuickFIX XML data dictionary, then validation against it (body:
//! `fixgate_tests::fuzz::dictionary`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fixgate_tests::fuzz::dictionary(data));
