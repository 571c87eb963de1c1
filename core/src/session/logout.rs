//! The Logout rule: the exchange that ends a FIX session (FIX test cases 12 and 13).
//!
//! Our Logout waits up to LogoutTimeout for the counterparty's; the connection then closes (12).
//! The counterparty's Logout is honoured whatever its MsgSeqNum: it is answered with ours unless
//! it answers ours, and the connection closes after the answer (13). Its number is consumed only
//! when it is the expected one.

use super::timer::Timer;
use super::{Session, SessionState};
use crate::action::{DisconnectReason, Event};
use crate::codec::Message;
use crate::msg_type::wire;
use crate::tag;

impl Session {
    /// Sends our Logout and waits up to LogoutTimeout for the reply.
    pub(super) fn begin_logout(&mut self, text: Option<&[u8]>) {
        self.send_logout(text);
        self.set_state(SessionState::LogoutSent);
        self.timers
            .set(Timer::Logout, self.now.mono + self.config.logout_timeout);
    }

    /// A Logout from the counterparty: answered unless it answers ours, then the connection
    /// closes.
    pub(super) fn on_logout(&mut self, msg: &Message) {
        if let Ok(seq) = msg.seq_num(tag::MSG_SEQ_NUM)
            && seq == self.next_target
        {
            self.take(seq, true);
        }
        let text = msg.get_bytes(tag::TEXT);
        self.push_event(Event::LogoutReceived { text });
        if self.state == SessionState::Active {
            self.send_logout(None);
        }
        self.close(DisconnectReason::LoggedOut);
    }

    /// A Logout, with `Text <58>` when given.
    pub(super) fn send_logout(&mut self, text: Option<&[u8]>) {
        self.send_admin(wire::LOGOUT, |body| {
            if let Some(text) = text {
                body.bytes(tag::TEXT, text);
            }
        });
    }
}
