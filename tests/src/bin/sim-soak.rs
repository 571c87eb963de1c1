//! The long simulation run, outside CI (issue 19, item 4): runs the standard scenario (three
//! simulated minutes of orders and faults per seed) for seed after seed until the time box ends,
//! then prints the seeds per second and every seed that broke a property.
//!
//!   cargo run --release -p fixgate-tests --bin sim-soak -- [MINUTES] [FIRST_SEED] [THREADS]
//!   (defaults: 60 minutes, seed 1, 2 threads; MINUTES 0 replays FIRST_SEED alone, and with
//!   FIXGATE_SIM_TRACE set prints its trace)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fixgate_tests::sim::scenario::{self, Scenario};

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"))
        .collect();
    let minutes = args.first().copied().unwrap_or(60);
    let first = args.get(1).copied().unwrap_or(1);
    if minutes == 0 {
        let outcome = scenario::run(Scenario::standard(first));
        println!(
            "seed {first}: {} orders, violations {:#?}\nfaults: {:#?}",
            outcome.orders, outcome.violations, outcome.faults
        );
        return;
    }
    let threads = args.get(2).copied().unwrap_or(2);
    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(first));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let orders = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (next, failures, orders) = (next.clone(), failures.clone(), orders.clone());
            std::thread::spawn(move || {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    let outcome = scenario::run(Scenario::standard(seed));
                    orders.fetch_add(outcome.orders, Ordering::Relaxed);
                    if !outcome.violations.is_empty() {
                        eprintln!(
                            "seed {seed}: {:#?}\nfaults: {:#?}",
                            outcome.violations, outcome.faults
                        );
                        failures.lock().unwrap().push(seed);
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    let seeds: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let took = started.elapsed().as_secs_f64();
    let failures = failures.lock().unwrap();
    println!(
        "{seeds} seeds (from {first}) in {took:.0} s: {:.2} seeds/s, {} orders; failing seeds: {:?}",
        seeds as f64 / took,
        orders.load(Ordering::Relaxed),
        *failures
    );
}
