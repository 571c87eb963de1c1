//! Decode + validate against FIX44.xml measured the way `shared/research/codec-anchors.md`
//! measures QuickFIX's `parse_*_dd_validate`, so that `scripts/codec-anchors.sh` can run them
//! interleaved and report ratios. `*_remembered` is a session's steady state: the decoder
//! remembers the message's layout and validation its shape.
//!
//! `cargo bench -p fixgate-dictionary --bench validate_anchors -- [ITERS] [FILTER]`

use std::hint::black_box;

use bytes::Bytes;
use fixgate_core::codec::{Message, ParseCache};
use fixgate_core::dictionary::{Rules, ShapeCache};

mod fix44;

use fix44::{ER, NOS};

#[path = "../../core/benches/measure/mod.rs"]
mod measure;

use measure::{iterations, measure};

const LIB: &str = "fixgate-dictionary";

fn main() {
    let (iters, filter) = iterations();
    let selected = |name: &str| filter.as_ref().is_none_or(|f| name.contains(f.as_str()));
    let Some(dictionary) = fix44::dictionary() else {
        return;
    };
    let rules = Rules::default();
    for (name, fixture) in [("nos", NOS), ("er", ER)] {
        let frame = Bytes::from_static(fixture);
        let bench = format!("decode_validate_{name}");
        if selected(&bench) {
            measure(LIB, &bench, fixture.len(), iters, || {
                let msg = Message::parse(black_box(frame.clone())).unwrap();
                assert!(dictionary.validate(&msg, &rules).is_ok());
            });
        }
        let bench = format!("decode_validate_{name}_remembered");
        if selected(&bench) {
            let mut layouts = ParseCache::new();
            let mut shapes = ShapeCache::new();
            measure(LIB, &bench, fixture.len(), iters, || {
                let msg = Message::parse_cached(black_box(frame.clone()), &mut layouts).unwrap();
                assert!(
                    dictionary
                        .validate_cached(&msg, &rules, &mut shapes)
                        .is_ok()
                );
            });
        }
    }
}
