//! The codec measured the way `shared/research/codec-anchors.md` measures QuickFIX and fefix, so
//! that the three can run interleaved in one session and be compared as ratios.
//!
//! `cargo bench -p fixgate-core --bench anchors -- [ITERS]` prints one JSON line per measurement:
//! a warm-up of ITERS/10 calls, then 7 timed runs of ITERS calls; median, min and max in ns per
//! message. Run by `cargo test`, it only checks that every measurement works (a few iterations).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use fixgate_core::codec::{Decoded, Decoder, FieldWriter, Message};
use fixgate_core::{UtcTimestamp, tag};

mod measure;
mod shared;

use measure::{iterations, measure};

const LIB: &str = "fixgate-core";
use shared::{ER, NOS, encode_er};

fn main() {
    let (iters, filter) = iterations();
    let selected = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));

    for (name, fixture) in [("nos", NOS), ("er", ER)] {
        let frame = Bytes::from_static(fixture);
        if selected(&format!("decode_{name}")) {
            measure(LIB, &format!("decode_{name}"), fixture.len(), iters, || {
                Message::parse(black_box(frame.clone()))
                    .unwrap()
                    .fields()
                    .len()
            });
        }
        if selected(&format!("decode_{name}_read3")) {
            measure(
                LIB,
                &format!("decode_{name}_read3"),
                fixture.len(),
                iters,
                || {
                    let msg = Message::parse(black_box(frame.clone())).unwrap();
                    let cl_ord_id = msg.str(tag::CL_ORD_ID).unwrap().len();
                    let symbol = msg.str(tag::SYMBOL).unwrap().len();
                    cl_ord_id + symbol + msg.uint(tag::ORDER_QTY).unwrap() as usize
                },
            );
        }
        if selected(&format!("stream_decode_{name}")) {
            let mut decoder = Decoder::new();
            measure(
                LIB,
                &format!("stream_decode_{name}"),
                fixture.len(),
                iters,
                || {
                    decoder.feed(black_box(fixture));
                    match decoder.decode() {
                        Ok(Some(Decoded::Message(msg))) => msg.fields().len(),
                        other => panic!("{other:?}"),
                    }
                },
            );
        }
    }
    if selected("encode_er_str") {
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.123456").unwrap();
        let mut body = FieldWriter::with_capacity(512);
        let mut out = BytesMut::with_capacity(1024);
        let mut seq = 1_234_567u64;
        measure(LIB, "encode_er_str", ER.len(), iters, || {
            seq += 1;
            encode_er(&mut body, &mut out, seq, ts)
        });
    }
}
