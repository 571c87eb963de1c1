//! The model test: an initiator and an acceptor on a link that splits bytes and drops the
//! connection at random, while both applications put messages and time passes. Every message put
//! on one side reaches the other side's application exactly once and in order.

use std::time::Duration;

use fixgate_tests::pair::{Pair, Side};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Put(Side),
    Tick(u16),
    Transmit(u16),
    Cut,
    Reconnect,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop_oneof![Just(Side::Initiator), Just(Side::Acceptor)].prop_map(Op::Put),
        2 => (1u16..3000).prop_map(Op::Tick),
        4 => (1u16..200).prop_map(Op::Transmit),
        1 => Just(Op::Cut),
        2 => Just(Op::Reconnect),
    ]
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut pair = Pair::new(Duration::from_secs(30));
    pair.connect();
    let mut put = [Vec::new(), Vec::new()];
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Put(side) => {
                let id = format!("{side:?}-{i}");
                pair.put(*side, &id);
                put[*side as usize].push(id);
            }
            Op::Tick(ms) => pair.tick(Duration::from_millis(u64::from(*ms))),
            Op::Transmit(bytes) => {
                pair.pump();
                pair.transmit(usize::from(*bytes));
            }
            Op::Cut => pair.cut(),
            Op::Reconnect => pair.connect(),
        }
        pair.pump();
    }
    // Let everything through: reconnect when needed, and give timers a chance.
    for _ in 0..20 {
        pair.connect();
        pair.settle();
        pair.tick(Duration::from_millis(500));
    }
    pair.settle();
    prop_assert!(pair.is_connected());
    prop_assert_eq!(
        pair.received(Side::Acceptor),
        put[Side::Initiator as usize].clone()
    );
    prop_assert_eq!(
        pair.received(Side::Initiator),
        put[Side::Acceptor as usize].clone()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("MODEL_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_message_is_delivered_exactly_once_in_order(ops in proptest::collection::vec(op(), 1..64)) {
        run(&ops)?;
    }
}

#[test]
fn messages_put_on_both_sides_across_two_cuts() {
    let ops = [
        Op::Put(Side::Initiator),
        Op::Transmit(30),
        Op::Cut,
        Op::Put(Side::Acceptor),
        Op::Put(Side::Initiator),
        Op::Reconnect,
        Op::Transmit(500),
        Op::Put(Side::Acceptor),
        Op::Cut,
        Op::Put(Side::Acceptor),
    ];
    run(&ops).unwrap();
}
