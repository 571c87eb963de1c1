//! Bodies of the cargo-fuzz targets. Each asserts invariants, so a violation is a crash.

use bytes::Bytes;
use fixgate_core::codec::{DecodeError, Decoded, Decoder, GroupSpec, Message};

/// A small limit, so that the fuzzer reaches the size errors too.
const FUZZ_MAX_MESSAGE_SIZE: usize = 4096;

/// What a decoder produced, normalised so that runs over different chunkings compare equal.
#[derive(Debug, PartialEq, Eq)]
enum Output {
    Message(Bytes),
    Garbled(DecodeError, Vec<u8>),
    Fatal(DecodeError),
}

/// Target `decode`: the first byte picks chunk sizes for the rest of the input.
///
/// - Decoding never panics, whatever the bytes.
/// - Every byte fed is accounted for: returned in a message, dropped as garbled, or still buffered.
/// - The same bytes give the same messages and garbled frames in one chunk or in many.
/// - Every message re-parses to the same fields, and its getters never panic.
pub fn decode(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = decode_in_chunks(stream, stream.len().max(1), 0);
    let chunked = decode_in_chunks(stream, usize::from(seed % 16) + 1, seed / 16);
    assert_eq!(whole, chunked, "chunking changed the decoding");
    let _ = Message::parse(Bytes::copy_from_slice(stream));
}

fn decode_in_chunks(stream: &[u8], first: usize, step: u8) -> Vec<Output> {
    let mut decoder = Decoder::with_max_message_size(FUZZ_MAX_MESSAGE_SIZE);
    let mut out: Vec<Output> = Vec::new();
    let mut fed = 0;
    let mut taken = 0;
    let mut size = first;
    while fed < stream.len() {
        let end = (fed + size).min(stream.len());
        decoder.feed(&stream[fed..end]);
        fed = end;
        size = (size + usize::from(step)) % 23 + 1;
        loop {
            match decoder.decode() {
                Ok(Some(Decoded::Message(msg))) => {
                    taken += msg.as_bytes().len();
                    check_message(&msg);
                    out.push(Output::Message(msg.as_bytes().clone()));
                }
                Ok(Some(Decoded::Garbled { error, bytes })) => {
                    assert!(error.is_garbled());
                    assert!(!bytes.is_empty(), "a garbled report must consume bytes");
                    taken += bytes.len();
                    match out.last_mut() {
                        // Garbage is reported in pieces as it arrives: join the pieces.
                        Some(Output::Garbled(_, prev)) if error == DecodeError::NotAFrame => {
                            prev.extend_from_slice(&bytes);
                        }
                        _ => out.push(Output::Garbled(error, bytes.to_vec())),
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    assert!(error.is_fatal());
                    assert_eq!(
                        decoder.decode().err(),
                        Some(error.clone()),
                        "failure must be sticky"
                    );
                    out.push(Output::Fatal(error));
                    return out;
                }
            }
        }
        assert_eq!(
            taken + decoder.buffered_len(),
            fed,
            "bytes were lost or invented"
        );
    }
    out
}

fn check_message(msg: &Message) {
    let again = Message::parse(msg.as_bytes().clone()).expect("a decoded frame re-parses");
    let fields = msg.fields();
    assert!(fields.iter().eq(again.fields().iter()));
    assert_eq!(fields.at(0).and_then(|f| f.tag()), Some(8));
    assert_eq!(fields.at(fields.len() - 1).and_then(|f| f.tag()), Some(10));
    for field in fields.iter() {
        let Some(tag) = field.tag() else { continue };
        let _ = (
            msg.uint(tag),
            msg.int(tag),
            msg.timestamp(tag),
            msg.str(tag),
        );
        let _ = fields.decimal(tag);
    }
    for issue in msg.issues() {
        assert!(issue.index < fields.len());
    }
    if let Some(tag) = fields.at(3).and_then(|f| f.tag()) {
        let members = [tag, 1, 2, 3];
        let spec = GroupSpec {
            count_tag: tag,
            delimiter: 1,
            members: &members,
        };
        if let Ok(group) = msg.group(&spec) {
            for entry in group {
                assert_eq!(entry.at(0).and_then(|f| f.tag()), Some(1));
            }
        }
    }
}
