//! What only the driver can measure, the latencies of store commits and of settling, and the
//! snapshot it hands out ([`FixEngine::metrics`](crate::FixEngine::metrics)): core's counters
//! with those latencies beside them.

use std::time::{Duration, Instant};

use fixgate_core::Delivered;
use fixgate_core::metrics::EngineMetrics;

/// The first bucket of a [`Histogram`] holds latencies up to 2^`FIRST_BITS` ns (8.192 µs); each
/// next bucket doubles the bound, up to 2^(`FIRST_BITS` + `BOUNDED` - 1) ns (8.6 s); one more
/// takes what is longer. Powers of two make the bucket a count of leading zeros: recording costs
/// a few instructions on the path of every message.
const FIRST_BITS: u32 = 13;
/// The buckets with a bound.
const BOUNDED: usize = 21;

/// A latency histogram with exponential buckets (Prometheus' shape: cumulative counts by upper
/// bound, a sum and a count).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Per bucket, not cumulative; the last is above every bound.
    counts: [u64; BOUNDED + 1],
    sum_nanos: u64,
}

impl Histogram {
    /// Counts one latency.
    #[inline]
    pub(crate) fn record(&mut self, latency: Duration) {
        self.record_many(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX), 1);
    }

    /// Counts `count` latencies of `nanos` nanoseconds each.
    #[inline]
    fn record_many(&mut self, nanos: u64, count: u64) {
        // Bucket i holds nanos <= 2^(FIRST_BITS + i): the bit length of (nanos - 1) >> FIRST_BITS.
        let bits = u64::BITS - (nanos.saturating_sub(1) >> FIRST_BITS).leading_zeros();
        self.counts[(bits as usize).min(BOUNDED)] += count;
        self.sum_nanos = self.sum_nanos.saturating_add(nanos.saturating_mul(count));
    }

    /// How many latencies were counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// All latencies added up.
    pub fn sum(&self) -> Duration {
        Duration::from_nanos(self.sum_nanos)
    }

    /// Each bucket's upper bound with the number of latencies at or below it (cumulative), in
    /// increasing order; the count above the last bound is [`count`](Self::count) minus the
    /// last of these.
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        self.counts[..BOUNDED]
            .iter()
            .enumerate()
            .scan(0, |total, (i, n)| {
                *total += n;
                Some((Duration::from_nanos(1 << (FIRST_BITS + i as u32)), *total))
            })
    }
}

/// The latencies the driver measures, engine-wide.
#[derive(Clone, Debug, Default)]
pub(crate) struct Latencies {
    /// From an [`Output::Commit`](fixgate_core::Output::Commit) to the turn that takes its
    /// outcome.
    pub(crate) store_commit: Histogram,
    /// From the arrival of an application message's bytes to its settlement by the
    /// application (`ack` or `reply`, as the engine takes it).
    settle: Histogram,
    /// The settlements since the last [`end_burst`](Self::end_burst), by arrival, with the
    /// messages of one read merged: their settling time is read once, when the burst of
    /// outputs (and the callbacks in it) ends, so that the callbacks' own time counts.
    settled: Vec<(Instant, u64)>,
}

impl Latencies {
    /// Notes the settlement of `delivered` if `result` says the engine took it.
    #[inline]
    pub(crate) fn settling<T, E>(&mut self, result: &Result<T, E>, delivered: &Delivered) {
        if let (Ok(_), Some(at)) = (result, delivered.received_at()) {
            self.settled_at(at);
        }
    }

    /// A message that arrived at `at` was settled.
    #[inline]
    fn settled_at(&mut self, at: Instant) {
        match self.settled.last_mut() {
            Some((last, count)) if *last == at => *count += 1,
            _ => self.settled.push((at, 1)),
        }
    }

    /// Whether settlements wait for [`end_burst`](Self::end_burst).
    #[inline]
    pub(crate) fn has_settled(&self) -> bool {
        !self.settled.is_empty()
    }

    /// The settlements noted since the last call were complete at `now`: they are recorded.
    pub(crate) fn end_burst(&mut self, now: Instant) {
        for (at, count) in self.settled.drain(..) {
            let latency = now.saturating_duration_since(at);
            let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
            self.settle.record_many(nanos, count);
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
    /// The snapshot of `engine` at `now`, with the driver's `latencies` and `waiting` puts.
    pub(crate) fn new(
        engine: EngineMetrics,
        latencies: &mut Latencies,
        now: Instant,
        waiting: usize,
    ) -> Self {
        latencies.end_burst(now);
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
        for nanos in [0, 5_000, 8_192, 8_193, 700_000, 20_000_000_000] {
            histogram.record(Duration::from_nanos(nanos));
        }
        let buckets: Vec<_> = histogram.buckets().collect();
        assert_eq!(buckets.len(), 21);
        // 0, 5 µs and exactly 8.192 µs are at or below the first bound.
        assert_eq!(buckets[0], (Duration::from_nanos(8_192), 3));
        assert_eq!(buckets[1], (Duration::from_nanos(16_384), 4));
        // 700 µs: above 2^19 ns (524 µs), at or below 2^20 ns (1.05 ms).
        assert_eq!(buckets[6].1, 4);
        assert_eq!(buckets[7], (Duration::from_nanos(1 << 20), 5));
        // 20 s is above the last bound, 2^33 ns (8.6 s).
        assert_eq!(buckets[20], (Duration::from_nanos(1 << 33), 5));
        assert_eq!(histogram.count(), 6);
        assert_eq!(histogram.sum(), Duration::from_nanos(20_000_721_385));
    }

    #[test]
    fn settlements_count_until_the_burst_ends_and_none_is_lost() {
        let mut latencies = Latencies::default();
        let first = Instant::now();
        let second = first + Duration::from_micros(100);
        for at in [first, first, first, second] {
            latencies.settled_at(at);
        }
        assert_eq!(
            latencies.settled,
            [(first, 3), (second, 1)],
            "one entry per read"
        );
        // The burst (with the callbacks in it) ended 1 ms after the first read.
        latencies.end_burst(first + Duration::from_millis(1));
        assert!(!latencies.has_settled());
        let settle = &latencies.settle;
        assert_eq!(settle.count(), 4);
        assert_eq!(settle.sum(), Duration::from_micros(3 * 1_000 + 900));
        let buckets: Vec<_> = settle.buckets().collect();
        // 900 µs and 1 ms: above 2^19 ns (524 µs), at or below 2^20 ns (1.05 ms).
        assert_eq!(buckets[6].1, 0);
        assert_eq!(buckets[7], (Duration::from_nanos(1 << 20), 4));
        // Nothing is recorded twice.
        latencies.end_burst(first + Duration::from_secs(1));
        assert_eq!(latencies.settle.count(), 4);
    }
}
