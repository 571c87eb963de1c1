//! The measurement of `shared/research/codec-anchors.md`, shared by the benches that run beside
//! its QuickFIX and fefix drivers: a warm-up of ITERS/10 calls, then 7 timed runs of ITERS calls,
//! printed as one JSON line (median, min and max in ns per message).

use std::hint::black_box;
use std::time::Instant;

const RUNS: usize = 7;

/// The iterations per run and the name filter, from the command line: `[ITERS] [FILTER]`. Run by
/// `cargo test` (without `--bench`), a few iterations only check that every measurement works.
pub(crate) fn iterations() -> (usize, Option<String>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench");
    let iters = match args.iter().find_map(|a| a.parse().ok()) {
        Some(n) => n,
        None if benching => 1_000_000,
        None => 100,
    };
    let filter = args
        .into_iter()
        .find(|a| !a.starts_with("--") && a.parse::<usize>().is_err());
    (iters, filter)
}

/// Times `f` and prints the JSON line of `bench` (`lib` names the crate measured).
pub(crate) fn measure<T>(
    lib: &str,
    bench: &str,
    bytes: usize,
    iters: usize,
    mut f: impl FnMut() -> T,
) {
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
        "{{\"suite\":\"fixgate\",\"lib\":\"{lib}\",\"bench\":\"{bench}\",\"bytes\":{bytes},\
         \"iters\":{iters},\"runs\":{RUNS},\"median_ns\":{:.1},\"min_ns\":{:.1},\"max_ns\":{:.1},\
         \"runs_ns\":[{runs_ns}],\"note\":\"\"}}",
        runs[RUNS / 2],
        runs[0],
        runs[RUNS - 1]
    );
}
