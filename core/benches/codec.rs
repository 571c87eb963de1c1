//! Codec benchmarks on the fixtures of `shared/research/perf-anchors.md` section 4.
//!
//! Names follow `shared/research/codec-anchors.md`, so that each line compares with the QuickFIX
//! and fefix anchor of the same name measured in the same run:
//! - `decode_*`: check BodyLength, CheckSum and the first three fields, and index every field
//!   (QuickFIX `parse_*_nodd_chk`, fefix `decode_*`);
//! - `decode_*_read3`: the same, then read ClOrdID, Symbol and OrderQty;
//! - `stream_decode_*`: through the streaming decoder, copy into its buffer included;
//! - `encode_*_str`: build the body from pre-formatted values and frame it with a fresh MsgSeqNum
//!   (QuickFIX `build_serialize_er_str`, fefix `encode_er_str`).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixgate_core::codec::{Decoded, Decoder, FieldWriter, Message, ParseCache};
use fixgate_core::{UtcTimestamp, tag};

mod shared;

use shared::{ER, NOS, encode_er};

fn decode(c: &mut Criterion) {
    for (name, fixture) in [("nos", NOS), ("er", ER)] {
        let mut group = c.benchmark_group(format!("decode_{name}"));
        group.throughput(Throughput::Bytes(fixture.len() as u64));
        let frame = Bytes::from_static(fixture);
        group.bench_function("parse", |b| {
            b.iter(|| Message::parse(black_box(frame.clone())).unwrap())
        });
        // A session's steady state: the layout of this message type is remembered.
        let mut layouts = ParseCache::new();
        group.bench_function("parse_layout_remembered", |b| {
            b.iter(|| Message::parse_cached(black_box(frame.clone()), &mut layouts).unwrap())
        });
        group.bench_function("parse_read3", |b| {
            b.iter(|| {
                let msg = Message::parse(black_box(frame.clone())).unwrap();
                let cl_ord_id = msg.str(tag::CL_ORD_ID).unwrap().len();
                let symbol = msg.str(tag::SYMBOL).unwrap().len();
                cl_ord_id + symbol + msg.uint(tag::ORDER_QTY).unwrap() as usize
            })
        });
        group.bench_function("stream", |b| {
            let mut decoder = Decoder::new();
            b.iter(|| {
                decoder.feed(black_box(fixture));
                match decoder.decode() {
                    Ok(Some(Decoded::Message(msg))) => msg,
                    other => panic!("{other:?}"),
                }
            })
        });
        group.finish();
    }
}

fn encode(c: &mut Criterion) {
    let ts = UtcTimestamp::parse(b"20261126-14:36:27.123456").unwrap();
    let mut group = c.benchmark_group("encode_er");
    group.throughput(Throughput::Bytes(ER.len() as u64));
    group.bench_function("str", |b| {
        let mut body = FieldWriter::with_capacity(512);
        let mut out = BytesMut::with_capacity(1024);
        let mut seq = 1_234_567u64;
        b.iter(|| {
            seq += 1;
            encode_er(&mut body, &mut out, seq, ts)
        })
    });
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
