//! Counting for operators (`crate::metrics`): messages and bytes each way, the snapshot of a
//! session. Each rule counts its own events where it handles them (ResendRequests in
//! `resend.rs` and `gap_fill.rs`, Rejects in `reject.rs`, disconnects in `close`); what every
//! message passes through is counted here.

use super::Session;
use crate::action::DisconnectReason;
use crate::engine::SessionId;
use crate::metrics::{SessionCounters, SessionMetrics};
use crate::time::Now;

impl Session {
    /// A snapshot for operators; `unwritten_bytes` and `backpressured` are the engine's to fill.
    pub(crate) fn metrics(&self, id: &SessionId) -> SessionMetrics {
        let c = &self.counters;
        SessionMetrics {
            id: id.clone(),
            role: self.config.role,
            state: self.state,
            connected: self.connected,
            next_sender_seq: self.next_sender_seq(),
            next_target_seq: self.next_target_seq(),
            counters: *c,
            unsettled: self.unsettled_count(),
            queued_out_of_order: self.queued_inbound.len(),
            held_messages: self.held.len(),
            unwritten_bytes: 0,
            backpressured: false,
            last_received: (c.app_messages_in + c.admin_messages_in > 0)
                .then_some(self.last_received),
            last_sent: (c.app_messages_out + c.admin_messages_out > 0).then_some(self.last_sent),
        }
    }

    /// `len` bytes arrived on the connection, now.
    #[inline]
    pub(super) fn note_input(&mut self, len: usize) {
        self.counters.bytes_in += len as u64;
        self.input_at = self.now.mono;
    }

    /// Counts a message received (`admin`: a session-level one).
    #[inline]
    pub(super) fn count_received(&mut self, admin: bool) {
        *messages(&mut self.counters, Direction::In, admin) += 1;
    }

    /// Counts a frame of `len` bytes handed out to be written (`admin`: a session-level
    /// message).
    #[inline]
    pub(super) fn count_sent(&mut self, len: usize, admin: bool) {
        self.counters.bytes_out += len as u64;
        *messages(&mut self.counters, Direction::Out, admin) += 1;
    }

    /// Takes back the count of `frame`, taken from [`poll_step`](Self::poll_step) and then
    /// dropped unwritten (the engine had no connection for it any more): only frames handed
    /// out to be written are counted. Rare, so its MsgType is read from the frame here rather
    /// than carried along with every frame.
    #[cold]
    pub(crate) fn uncount_sent(&mut self, frame: &[u8]) {
        let msg_type = memchr::memmem::find(frame, b"\x0135=").and_then(|at| {
            let value = &frame[at + 4..];
            memchr::memchr(crate::codec::SOH, value).map(|end| &value[..end])
        });
        let admin = msg_type.is_some_and(crate::MsgType::is_admin_value);
        let counters = &mut self.counters;
        counters.bytes_out = counters.bytes_out.saturating_sub(frame.len() as u64);
        let sent = messages(counters, Direction::Out, admin);
        *sent = sent.saturating_sub(1);
    }

    /// The engine closed the connection itself, for `reason` (a store sync that failed): as
    /// [`handle_disconnected`](Self::handle_disconnected), but the connection's end is counted
    /// by the engine's reason, whatever the last bytes decided.
    pub(crate) fn handle_closed_by_engine(&mut self, now: Now, reason: &DisconnectReason) {
        let connected = self.connected;
        let counted = self.counters.disconnects;
        self.handle_disconnected(now);
        if connected {
            self.counters.disconnects = counted;
            self.counters.disconnects.add(reason);
        }
    }
}

/// Which way a message went.
#[derive(Clone, Copy)]
enum Direction {
    In,
    Out,
}

/// The count of messages that went `direction`, session-level (`admin`) or application ones.
#[inline]
fn messages(counters: &mut SessionCounters, direction: Direction, admin: bool) -> &mut u64 {
    match (direction, admin) {
        (Direction::In, true) => &mut counters.admin_messages_in,
        (Direction::In, false) => &mut counters.app_messages_in,
        (Direction::Out, true) => &mut counters.admin_messages_out,
        (Direction::Out, false) => &mut counters.app_messages_out,
    }
}
