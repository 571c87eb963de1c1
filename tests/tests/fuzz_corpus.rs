//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the targets' bodies, so that
//! every input the fuzzer ever kept, crashes included, stays a regression test on stable Rust.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable corpus entry").path())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("readable corpus file");
            (path, bytes)
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn decode_corpus_replays_cleanly() {
    let inputs = corpus("decode");
    assert!(inputs.len() >= 10, "the decode corpus is missing");
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| fixgate_tests::fuzz::decode(&bytes));
        assert!(result.is_ok(), "{} fails", path.display());
    }
}

#[test]
fn session_input_corpus_replays_cleanly() {
    let inputs = corpus("session_input");
    assert!(inputs.len() >= 5, "the session_input corpus is missing");
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| fixgate_tests::fuzz::session_input(&bytes));
        assert!(result.is_ok(), "{} fails", path.display());
    }
}

#[test]
fn engine_route_corpus_replays_cleanly() {
    let inputs = corpus("engine_route");
    assert!(inputs.len() >= 5, "the engine_route corpus is missing");
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| fixgate_tests::fuzz::engine_route(&bytes));
        assert!(result.is_ok(), "{} fails", path.display());
    }
}

#[test]
fn properties_corpus_replays_cleanly() {
    let inputs = corpus("properties");
    assert!(inputs.len() >= 5, "the properties corpus is missing");
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| fixgate_tests::fuzz::properties(&bytes));
        assert!(result.is_ok(), "{} fails", path.display());
    }
}

#[test]
fn dictionary_corpus_replays_cleanly() {
    let inputs = corpus("dictionary");
    assert!(inputs.len() >= 3, "the dictionary corpus is missing");
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| fixgate_tests::fuzz::dictionary(&bytes));
        assert!(result.is_ok(), "{} fails", path.display());
    }
}
