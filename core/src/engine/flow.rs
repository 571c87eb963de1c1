//! Flow control of a connection's outbound bytes: backpressure and slow consumers (DESIGN.md
//! section 5). The adapter reports what it wrote; the engine decides.

use std::time::{Duration, Instant};

/// The bytes handed to the adapter for one connection and not yet reported written.
#[derive(Debug, Default)]
pub(super) struct Outflow {
    unwritten: usize,
    /// Since when unwritten bytes have made no progress.
    stalled_since: Option<Instant>,
}

impl Outflow {
    /// `len` bytes were handed to the adapter.
    pub(super) fn sent(&mut self, len: usize, now: Instant) {
        self.unwritten += len;
        self.stalled_since.get_or_insert(now);
    }

    /// The adapter wrote `len` bytes: progress.
    pub(super) fn written(&mut self, len: usize, now: Instant) {
        self.unwritten = self.unwritten.saturating_sub(len);
        self.stalled_since = (self.unwritten > 0).then_some(now);
    }

    /// Whether `put()` must wait.
    pub(super) fn is_full(&self, max_unwritten: usize) -> bool {
        self.unwritten >= max_unwritten
    }

    /// When the peer counts as a slow consumer, if nothing is written before.
    pub(super) fn deadline(&self, timeout: Duration) -> Option<Instant> {
        self.stalled_since.map(|since| since + timeout)
    }

    /// Forgets a connection that is gone.
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }
}
