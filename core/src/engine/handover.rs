//! A Logon for a session that still has a connection (issue 20 item 7). A counterparty that
//! drops its connection and logs on again at once is common, and its old connection's end may
//! not be seen yet when the new Logon comes: the reader has not read the end of stream, or the
//! session has seen it and drains what it still holds (an answer waiting for a store sync)
//! before it lets the connection go. So an authenticated Logon for a connected session is not
//! refused at once: it waits for the session to let its connection go, and is then linked as
//! any other. If the old connection still looks alive after [`HANDOVER_GRACE`], the Logon is
//! refused as a duplicate (FIX test case 1S-b: the live connection is not disturbed, the new one
//! gets nothing). One Logon waits per session; a second is refused at once. What a waiting
//! connection sends meanwhile is kept for the session, up to `max_logon_size` bytes in all.

use std::time::{Duration, Instant};

use super::{ConnId, Engine, Refusal, SessionId};
use crate::codec::Decoder;

/// How long a Logon waits for its session's old connection to end while that connection looks
/// alive (its end not yet read).
pub(super) const HANDOVER_GRACE: Duration = Duration::from_secs(1);

/// An authenticated Logon waiting for its session's connection to go.
#[derive(Clone, Copy, Debug)]
pub(super) struct Handover {
    conn: ConnId,
    /// When it is refused if the old connection still looks alive.
    until: Instant,
}

impl Engine {
    /// Pending connection `conn`, whose Logon authenticated for session `id`, waits for the
    /// session's connection to go.
    pub(super) fn await_handover(&mut self, conn: ConnId, id: SessionId) {
        let waiting = self.handovers.get(&id);
        if waiting.is_some_and(|handover| self.pending.contains_key(&handover.conn)) {
            return self.refuse(conn, Refusal::DuplicateIdentity);
        }
        let Some(pending) = self.pending.get_mut(&conn) else {
            return;
        };
        // Its later bytes are kept for the session, not routed.
        pending.handing_over = true;
        let until = self.now.mono + HANDOVER_GRACE;
        self.handovers.insert(id, Handover { conn, until });
    }

    /// Session `id` let its connection go: the Logon waiting for it is linked now. If the
    /// session went with its connection (one made for an unregistered Logon), the Logon is
    /// routed again from its first byte, as if it had just come.
    pub(super) fn hand_over(&mut self, id: &SessionId) {
        // Nearly always none waits: no hashing then.
        if self.handovers.is_empty() {
            return;
        }
        let Some(handover) = self.handovers.remove(id) else {
            return;
        };
        if self.sessions.contains_key(id) {
            return self.link(handover.conn, id);
        }
        let max = self.config.max_logon_size;
        if let Some(pending) = self.pending.get_mut(&handover.conn) {
            pending.handing_over = false;
            pending.decoder = Decoder::with_max_message_size(max);
            pending.decoder.feed(&pending.raw);
            self.route(handover.conn);
        }
    }

    /// Refuses the Logons whose grace has passed while their sessions' connections still look
    /// alive; the others wait on (within LogonTimeout) for the session to let go.
    pub(super) fn expire_handovers(&mut self) {
        let now = self.now.mono;
        let sessions = &self.sessions;
        let pending = &self.pending;
        let mut refused = Vec::new();
        self.handovers.retain(|id, handover| {
            let alive = sessions
                .get(id)
                .is_some_and(|slot| slot.conn.is_some() && slot.session.is_connected());
            let keep = pending.contains_key(&handover.conn) && !(alive && handover.until <= now);
            if !keep {
                refused.push(handover.conn);
            }
            keep
        });
        for conn in refused {
            if self.pending.contains_key(&conn) {
                self.refuse(conn, Refusal::DuplicateIdentity);
            }
        }
    }

    /// The next grace to expire (those past expired already: their Logons wait for a session
    /// that is letting its connection go).
    pub(super) fn next_handover(&self) -> Option<Instant> {
        let now = self.now.mono;
        self.handovers
            .values()
            .map(|handover| handover.until)
            .filter(|&until| until > now)
            .min()
    }
}
