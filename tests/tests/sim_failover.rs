//! Failover in the whole-engine simulation (issue 21): two acceptor processes share a simulated
//! database whose leases decide which of them runs each session, while initiators that try both
//! addresses put orders, under faults drawn from one seed (`fixgate_tests::sim::failover`).
//!
//! A failing seed prints itself; `FIXGATE_SIM_FAILOVER_SEED=n cargo test -p fixgate-tests
//! --test sim_failover` replays it alone (`FIXGATE_SIM_TRACE=1` prints its trace).
//! `FIXGATE_SIM_FAILOVER_SEEDS=n` sets how many seeds the sweep runs (40 by default).

use fixgate_tests::sim::failover::{self, FailoverScenario};

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// Runs `seeds`, and fails with the first seed that breaks a property.
fn sweep(seeds: impl Iterator<Item = u64>) {
    let seeds: Vec<u64> = match env("FIXGATE_SIM_FAILOVER_SEED") {
        Some(seed) => vec![seed],
        None => seeds.collect(),
    };
    for seed in seeds {
        let outcome = failover::run(FailoverScenario::standard(seed));
        eprintln!(
            "seed {seed}: {} orders, {} takeovers, {} fenced commits",
            outcome.orders, outcome.takeovers, outcome.fenced
        );
        assert!(
            outcome.violations.is_empty(),
            "seed {seed} breaks the failover properties (replay: FIXGATE_SIM_FAILOVER_SEED={seed} \
             cargo test -p fixgate-tests --test sim_failover): {:#?}\nfaults: {:#?}",
            outcome.violations,
            outcome.faults
        );
    }
}

#[test]
fn a_calm_run_executes_every_order_once() {
    let outcome = failover::run(FailoverScenario {
        faults: false,
        ..FailoverScenario::standard(1)
    });
    assert!(outcome.violations.is_empty(), "{:#?}", outcome.violations);
    assert!(outcome.orders > 1000, "{} orders", outcome.orders);
    assert_eq!(
        outcome.executions, outcome.orders,
        "every order executed once"
    );
    assert_eq!((outcome.takeovers, outcome.fenced), (0, 0));
    assert!(outcome.faults.is_empty());
}

#[test]
fn one_seed_replays_bit_for_bit() {
    let first = failover::run(FailoverScenario::standard(7));
    let second = failover::run(FailoverScenario::standard(7));
    assert!(first.events > 1000, "{} events", first.events);
    assert_eq!(
        (first.trace, first.events, first.orders, first.executions),
        (
            second.trace,
            second.events,
            second.orders,
            second.executions
        ),
        "two runs of one seed differ"
    );
    assert!(first.takeovers > 0, "the seed takes a session over");
}

// The sweep in two halves, one per core.
#[test]
fn odd_seeds_keep_every_failover_property() {
    let seeds = env("FIXGATE_SIM_FAILOVER_SEEDS").unwrap_or(40);
    sweep((1..=seeds).filter(|s| s % 2 == 1));
}

#[test]
fn even_seeds_keep_every_failover_property() {
    let seeds = env("FIXGATE_SIM_FAILOVER_SEEDS").unwrap_or(40);
    sweep((1..=seeds).filter(|s| s % 2 == 0));
}

/// Issue 21's zombie rule: an owner whose writes reach the database after another process took
/// the session over is fenced by the token, and its application sees nothing more. These seeds
/// each send a late write. They found the engine handing the messages that a fenced commit held
/// back to the application, which executed orders the new owner executed too; a delivery now
/// waits while the store's lease does not hold.
#[test]
fn a_zombie_s_late_commit_is_fenced_and_its_application_sees_nothing_more() {
    let mut fenced = 0;
    for seed in [16, 18, 24, 27] {
        let outcome = failover::run(FailoverScenario {
            late_writes: true,
            ..FailoverScenario::standard(seed)
        });
        fenced += outcome.fenced;
        assert!(
            outcome.violations.is_empty(),
            "seed {seed} with late writes breaks the failover properties: {:#?}\nfaults: {:#?}",
            outcome.violations.iter().take(5).collect::<Vec<_>>(),
            outcome.faults
        );
    }
    assert!(fenced > 0, "a late write was fenced");
}
