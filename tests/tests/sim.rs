//! The whole engine, simulated deterministically (issue 19, item 4): an acceptor with many
//! sessions against initiator engines, the same driver and handles as in production, over a
//! simulated runtime with faults. A failing seed prints itself; `FIXGATE_SIM_SEED=n` replays it.

use std::time::Duration;

use fixgate_core::StorageDurability;
use fixgate_tests::sim::scenario::{self, Scenario};

fn quick(seed: u64) -> Scenario {
    Scenario {
        busy: Duration::from_secs(20),
        quiet: Duration::from_secs(20),
        ..Scenario::standard(seed)
    }
}

#[test]
fn a_calm_run_answers_every_order_once_and_in_order() {
    let outcome = scenario::run(Scenario {
        faults: false,
        durability: StorageDurability::Process,
        ..quick(1)
    });
    eprintln!("{outcome:#?}");
    assert!(outcome.violations.is_empty(), "{:#?}", outcome.violations);
    assert!(outcome.orders > 1000, "{} orders", outcome.orders);
}

#[test]
fn seeds_with_faults_keep_every_property() {
    for seed in 1..=20 {
        let outcome = scenario::run(quick(seed));
        assert!(
            outcome.violations.is_empty(),
            "seed {seed} (replay: FIXGATE_SIM_SEED={seed}): {:#?}\nfaults: {:#?}",
            outcome.violations,
            outcome.faults
        );
    }
}
