//! What only the driver can measure, the latencies of store commits and of settling, and the
//! snapshot it hands out ([`FixEngine::metrics`](crate::FixEngine::metrics)): core's counters
//! with those latencies beside them.

use std::time::{Duration, Instant};

use fixgate_core::Delivered;
use fixgate_core::metrics::EngineMetrics;

/// The upper bounds of a [`Histogram`]'s buckets, from 10 µs to 10 s in steps of 1, 2.5, 5; a
/// last bucket takes what is longer.
const BOUNDS: [Duration; 19] = [
    Duration::from_micros(10),
    Duration::from_micros(25),
    Duration::from_micros(50),
    Duration::from_micros(100),
    Duration::from_micros(250),
    Duration::from_micros(500),
    Duration::from_millis(1),
    Duration::from_micros(2_500),
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(25),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_millis(2_500),
    Duration::from_secs(5),
    Duration::from_secs(10),
];

/// A latency histogram with fixed buckets (Prometheus' shape: cumulative counts by upper bound,
/// a sum and a count).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Per bucket, not cumulative; the last is above every bound.
    counts: [u64; BOUNDS.len() + 1],
    sum: Duration,
}

impl Histogram {
    /// Counts one latency.
    #[inline]
    pub(crate) fn record(&mut self, latency: Duration) {
        let bucket = BOUNDS.partition_point(|bound| *bound < latency);
        self.counts[bucket] += 1;
        self.sum += latency;
    }

    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// All latencies added up.
    pub fn sum(&self) -> Duration {
        self.sum
    }

    /// Each bucket's upper bound with the number of latencies at or below it (cumulative), in
    /// increasing order; the count above the last bound is [`count`](Self::count) minus the
    /// last of these.
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        BOUNDS
            .iter()
            .zip(self.counts.iter())
            .scan(0, |total, (bound, n)| {
                *total += n;
                Some((*bound, *total))
            })
    }
}

/// The latencies the driver measures, engine-wide.
#[derive(Clone, Debug, Default)]
pub(crate) struct Latencies {
    /// From an [`Output::Commit`](fixgate_core::Output::Commit) to its outcome.
    pub(crate) store_commit: Histogram,
    /// From the arrival of an application message's bytes to its settlement by the
    /// application (`ack` or `reply`, as the engine takes it).
    pub(crate) settle: Histogram,
}

impl Latencies {
    /// `delivered` was settled at `now`.
    #[inline]
    pub(crate) fn settled(&mut self, delivered: &Delivered, now: Instant) {
        if let Some(at) = delivered.received_at() {
            self.settle.record(now.saturating_duration_since(at));
        }
    }
}

/// A snapshot of the engine for operators: core's counters, and the latencies only the driver
/// measures.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Metrics {
    /// The engine's and every session's counters and state.
    pub engine: EngineMetrics,
    /// Store commits (`fsync` or a database transaction), from the request to its outcome.
    pub store_commit: Histogram,
    /// Application messages, from the arrival of their bytes to their settlement.
    pub settle: Histogram,
    /// Puts and replies waiting for room on their connections.
    pub waiting: usize,
}

impl Metrics {
    pub(crate) fn new(engine: EngineMetrics, latencies: &Latencies, waiting: usize) -> Self {
        Self {
            engine,
            store_commit: latencies.store_commit.clone(),
            settle: latencies.settle.clone(),
            waiting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_falls_in_the_first_bucket_whose_bound_is_not_below_it() {
        let mut histogram = Histogram::default();
        for micros in [5, 10, 11, 700, 20_000_000] {
            histogram.record(Duration::from_micros(micros));
        }
        let buckets: Vec<_> = histogram.buckets().collect();
        assert_eq!(buckets[0], (Duration::from_micros(10), 2));
        assert_eq!(buckets[1], (Duration::from_micros(25), 3));
        assert_eq!(buckets[5], (Duration::from_micros(500), 3));
        assert_eq!(buckets[6], (Duration::from_millis(1), 4));
        assert_eq!(buckets.last(), Some(&(Duration::from_secs(10), 4)));
        assert_eq!(histogram.count(), 5);
        assert_eq!(histogram.sum(), Duration::from_micros(20_000_726));
    }
}
