//! The codec measured the way `shared/research/codec-anchors.md` measures QuickFIX and fefix, so
//! that the three can run interleaved in one session and be compared as ratios.
//!
//! `cargo bench -p fixgate-core --bench anchors -- [ITERS]` prints one JSON line per measurement:
//! a warm-up of ITERS/10 calls, then 7 timed runs of ITERS calls; median, min and max in ns per
//! message. Run by `cargo test`, it only checks that every measurement works (a few iterations).

use std::hint::black_box;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use fixgate_core::codec::{Decoded, Decoder, FieldWriter, Message};
use fixgate_core::{TimestampFormatter, UtcTimestamp, tag};

mod shared;

use shared::{ER, NOS, encode_er};

const RUNS: usize = 7;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let iters: usize = match args.iter().find_map(|a| a.parse().ok()) {
        Some(n) => n,
        None if benching => 1_000_000,
        None => 100,
    };
    let filter = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<usize>().is_err());
    let selected = |name: &str| filter.is_none_or(|f| name.contains(f.as_str()));

    for (name, fixture) in [("nos", NOS), ("er", ER)] {
        let frame = Bytes::from_static(fixture);
        if selected(&format!("decode_{name}")) {
            measure(&format!("decode_{name}"), fixture.len(), iters, || {
                Message::parse(black_box(frame.clone()))
                    .unwrap()
                    .fields()
                    .len()
            });
        }
        if selected(&format!("decode_{name}_read3")) {
            measure(
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
        let mut stamps = TimestampFormatter::new();
        measure("encode_er_str", ER.len(), iters, || {
            seq += 1;
            encode_er(&mut body, &mut out, seq, ts, &mut stamps)
        });
    }
}

fn measure<T>(bench: &str, bytes: usize, iters: usize, mut f: impl FnMut() -> T) {
    for _ in 0..iters / 10 {
        black_box(f());
    }
    let mut runs: Vec<f64> = (0..RUNS)
        .map(|_| {
            // A benchmark reads the clock by design; the core's rule is about the library.
            #[allow(clippy::disallowed_methods)]
            let start = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    let runs_ns = runs
        .iter()
        .map(|r| format!("{r:.1}"))
        .collect::<Vec<_>>()
        .join(",");
    runs.sort_by(f64::total_cmp);
    println!(
        "{{\"suite\":\"fixgate\",\"lib\":\"fixgate-core\",\"bench\":\"{bench}\",\"bytes\":{bytes},\
         \"iters\":{iters},\"runs\":{RUNS},\"median_ns\":{:.1},\"min_ns\":{:.1},\"max_ns\":{:.1},\
         \"runs_ns\":[{runs_ns}],\"note\":\"\"}}",
        runs[RUNS / 2],
        runs[0],
        runs[RUNS - 1]
    );
}
