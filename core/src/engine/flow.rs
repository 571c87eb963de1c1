//! Flow control of a connection's outbound bytes: backpressure and slow consumers (DESIGN.md
//! section 5). The adapter reports what it wrote; the engine decides.

use std::time::{Duration, Instant};

/// The bytes handed to the adapter for one connection and not yet reported written.
#[derive(Debug, Default)]
pub(super) struct Outflow {
    unwritten: usize,
    /// Since when unwritten bytes have made no progress.
    stalled_since: Option<Instant>,
    /// A command was refused for backpressure since the connection last had room: the adapter
    /// is told ([`Output::Drained`](super::Output::Drained)) once it has room again.
    refused: bool,
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

    /// The bytes not yet reported written.
    pub(super) fn unwritten(&self) -> usize {
        self.unwritten
    }

    /// Whether `put()` must wait.
    pub(super) fn is_full(&self, max_unwritten: usize) -> bool {
        self.unwritten >= max_unwritten
    }

    /// A command was refused because the connection is full.
    pub(super) fn refuse(&mut self) {
        self.refused = true;
    }

    /// True once after a refusal, as soon as the connection has room again: what waits for it
    /// may be tried again.
    pub(super) fn take_room(&mut self, max_unwritten: usize) -> bool {
        let room = self.refused && !self.is_full(max_unwritten);
        self.refused &= !room;
        room
    }

    /// When the peer counts as a slow consumer, if nothing is written before.
    pub(super) fn deadline(&self, timeout: Duration) -> Option<Instant> {
        self.stalled_since.map(|since| since + timeout)
    }

    /// Forgets a connection that is gone (without it, nothing is full). A refusal stays, for
    /// [`take_room`](Self::take_room) to report.
    pub(super) fn clear(&mut self) {
        *self = Self {
            refused: self.refused,
            ..Self::default()
        };
    }
}

/// Flow control of a connection's inbound messages, as the adapter sees it. At
/// `MaxUnsettledMessages` delivered and unsettled messages the session stops decoding
/// ([`Session::is_input_held`](crate::Session::is_input_held)); the engine then asks the adapter to
/// stop reading ([`Output::PauseInput`](super::Output::PauseInput)), so that a counterparty faster
/// than the application fills the kernel's buffers and then its own, not our memory; and at half
/// of it, to read again.
#[derive(Debug, Default)]
pub(super) struct Inflow {
    paused: bool,
}

impl Inflow {
    /// True if reading must pause now: the session holds its input.
    pub(super) fn pause(&mut self, held: bool) -> bool {
        let pause = held && !self.paused;
        self.paused |= pause;
        pause
    }

    /// True if reading may resume now: `unsettled` is down to half of `limit`.
    pub(super) fn resume(&mut self, unsettled: usize, limit: usize) -> bool {
        let resume = self.paused && unsettled <= limit / 2;
        self.paused &= !resume;
        resume
    }

    /// A new connection: its reader starts reading.
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflow_pauses_once_and_resumes_at_half() {
        let mut inflow = Inflow::default();
        assert!(!inflow.pause(false));
        assert!(!inflow.resume(0, 4), "never paused");
        assert!(inflow.pause(true));
        assert!(!inflow.pause(true), "once");
        assert!(!inflow.resume(3, 4));
        assert!(inflow.resume(2, 4), "half the limit");
        assert!(!inflow.resume(1, 4), "once");
    }
}
