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

/// Flow control of a connection's inbound messages: the application messages delivered and not
/// yet settled (acked or replied to). At `MaxUnsettledMessages` the engine asks the adapter to
/// stop reading the connection ([`Output::PauseInput`](super::Output::PauseInput)), so that a
/// counterparty faster than the application fills the kernel's buffers and then its own, not our
/// memory; at half of it, to read again.
#[derive(Debug, Default)]
pub(super) struct Inflow {
    unsettled: usize,
    paused: bool,
}

impl Inflow {
    /// A message was delivered; true if reading must pause now (`limit` 0: never).
    pub(super) fn delivered(&mut self, limit: usize) -> bool {
        self.unsettled += 1;
        let pause = limit > 0 && self.unsettled >= limit && !self.paused;
        self.paused |= pause;
        pause
    }

    /// A delivered message was settled; true if reading may resume now.
    pub(super) fn settled(&mut self, limit: usize) -> bool {
        self.unsettled = self.unsettled.saturating_sub(1);
        let resume = self.paused && self.unsettled <= limit / 2;
        self.paused &= !resume;
        resume
    }

    /// A new connection: its reader starts reading. Messages delivered on an earlier one that are
    /// settled later are not told apart, so the count may run low (never high) after a reconnect.
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflow_pauses_at_the_limit_and_resumes_at_half() {
        let mut inflow = Inflow::default();
        assert!(!(0..3).any(|_| inflow.delivered(4)));
        assert!(inflow.delivered(4), "the fourth unsettled message pauses");
        assert!(!inflow.delivered(4), "once");
        assert!(!inflow.settled(4) && !inflow.settled(4));
        assert!(inflow.settled(4), "two unsettled: resume");
        assert!(
            !inflow.settled(4) && !inflow.settled(4),
            "once; and never below zero"
        );
        let mut unlimited = Inflow::default();
        assert!(!(0..100_000).any(|_| unlimited.delivered(0)));
    }
}
