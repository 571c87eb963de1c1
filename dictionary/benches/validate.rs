//! Decode and validate against QuickFIX's FIX 4.4 dictionary (read from `../shared`): the
//! 203-byte NewOrderSingle and 291-byte ExecutionReport of `shared/research/perf-anchors.md`.
//! Compare with QuickFIX's `parse_*_dd_validate` anchors of `shared/research/codec-anchors.md`
//! (`scripts/codec-anchors.sh` runs `validate_anchors` beside them). The `*_shape_remembered`
//! rows validate through a [`ShapeCache`] holding the message's shape, as a session does after
//! the first message of that shape; `fix44_layout_and_shape_remembered` also decodes with the
//! message's layout remembered, as a session's decoder does: a session's steady state.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixgate_core::codec::{Message, ParseCache};
use fixgate_core::dictionary::{Rules, ShapeCache};

mod fix44;

use fix44::{ER, NOS};

fn decode_validate(c: &mut Criterion) {
    let Some(dictionary) = fix44::dictionary() else {
        return;
    };
    let rules = Rules::default();
    for (name, fixture) in [("nos", NOS), ("er", ER)] {
        let frame = Bytes::from_static(fixture);
        let msg = Message::parse(frame.clone()).unwrap();
        assert_eq!(dictionary.validate(&msg, &rules), Ok(()), "{name} is valid");
        let mut group = c.benchmark_group(format!("decode_validate_{name}"));
        group.throughput(Throughput::Bytes(fixture.len() as u64));
        group.bench_function("fix44", |b| {
            b.iter(|| {
                let msg = Message::parse(black_box(frame.clone())).unwrap();
                dictionary.validate(&msg, &rules).is_ok()
            })
        });
        group.bench_function("validate_only", |b| {
            b.iter(|| dictionary.validate(black_box(&msg), &rules).is_ok())
        });
        // A session's steady state: the counterparty's layout of this MsgType is remembered, and
        // only the values are checked.
        let mut shapes = ShapeCache::new();
        group.bench_function("fix44_shape_remembered", |b| {
            b.iter(|| {
                let msg = Message::parse(black_box(frame.clone())).unwrap();
                dictionary
                    .validate_cached(&msg, &rules, &mut shapes)
                    .is_ok()
            })
        });
        // The whole steady state: the decoder remembers the layout too (as a session's does).
        let mut layouts = ParseCache::new();
        group.bench_function("fix44_layout_and_shape_remembered", |b| {
            b.iter(|| {
                let msg = Message::parse_cached(black_box(frame.clone()), &mut layouts).unwrap();
                dictionary
                    .validate_cached(&msg, &rules, &mut shapes)
                    .is_ok()
            })
        });
        group.bench_function("validate_only_shape_remembered", |b| {
            b.iter(|| {
                dictionary
                    .validate_cached(black_box(&msg), &rules, &mut shapes)
                    .is_ok()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, decode_validate);
criterion_main!(benches);
