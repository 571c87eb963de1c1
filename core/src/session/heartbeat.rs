//! The heartbeat rule: a Heartbeat after HeartBtInt without output, a TestRequest after
//! 1.2 × HeartBtInt without input, a silent close at 2.4 × (FIX test cases 6 and 7), and the
//! answers to the counterparty's Heartbeats and TestRequests.
//!
//! The timers are armed lazily: sending and receiving only note the time (one store on the hot
//! path), a timer fires at the earliest moment its rule could be due, and its handler checks
//! the noted time and moves the timer on if it is not due yet (Netty's `IdleStateHandler`
//! works the same way). A fired timer is stopped first, so it fires at most once per deadline.

use super::Session;
use super::reject::ref_tag;
use super::timer::{Timer, scaled};
use crate::codec::Message;
use crate::msg_type::wire;
use crate::reject::SessionRejectReason;
use crate::{SeqNum, tag};

impl Session {
    /// Output went to the connection: the Heartbeat's interval starts again.
    #[inline]
    pub(super) fn note_sent(&mut self) {
        self.last_sent = self.now.mono;
    }

    /// Input came from the connection: the TestRequest's interval starts again.
    #[inline]
    pub(super) fn note_received(&mut self) {
        self.last_received = self.now.mono;
    }

    /// Arms the Heartbeat, TestRequest and silence timers from the times last noted, as the
    /// session's state allows: at Logon, when our TestRequest is answered, and when held input
    /// resumes.
    pub(super) fn arm_heartbeats(&mut self) {
        let hbi = self.heart_bt_int;
        for timer in [Timer::Heartbeat, Timer::TestRequest, Timer::Silence] {
            self.timers.stop(timer);
        }
        if !self.is_logged_on() || hbi.is_zero() {
            return;
        }
        if self.test_request_pending {
            // No Heartbeat while our TestRequest is unanswered: the counterparty is silent, and
            // the next step is the close at 2.4 × HeartBtInt (QuickFIX's rule; FIX test case 6).
            self.timers
                .set(Timer::Silence, self.last_received + scaled(hbi, 24));
        } else {
            self.timers.set(Timer::Heartbeat, self.last_sent + hbi);
            self.timers
                .set(Timer::TestRequest, self.last_received + scaled(hbi, 12));
        }
    }

    /// The Heartbeat timer fired: a Heartbeat, unless something was sent since.
    ///
    /// No Heartbeat is made while output is held (behind a resend, or not yet taken by a
    /// connection at `MaxOutboundBytes`): it would only queue behind frames that show the
    /// counterparty we are alive once they are written, and it would take a sequence number and
    /// store space for nothing. The timer looks again one interval later.
    pub(super) fn on_heartbeat_timer(&mut self) {
        let hbi = self.heart_bt_int;
        let due = self.last_sent + hbi;
        if due > self.now.mono {
            return self.timers.set(Timer::Heartbeat, due);
        }
        if !self.is_output_held() {
            self.send_heartbeat(None);
        }
        self.timers.set(Timer::Heartbeat, self.now.mono + hbi);
    }

    /// The TestRequest timer fired: a TestRequest, unless something was received since. While
    /// input is held the counterparty's silence is ours, not its: the timer stops, and
    /// resuming the input arms it again.
    pub(super) fn on_test_request_timer(&mut self) {
        let due = self.last_received + scaled(self.heart_bt_int, 12);
        if due > self.now.mono {
            return self.timers.set(Timer::TestRequest, due);
        }
        if self.is_input_held() {
            return;
        }
        self.send_test_request();
        self.arm_heartbeats();
    }

    /// The silence timer fired: close without a Logout (the acceptance suite's script 6 expects
    /// a silent close), unless something was received since.
    pub(super) fn on_silence_timer(&mut self) {
        let due = self.last_received + scaled(self.heart_bt_int, 24);
        if due > self.now.mono {
            return self.timers.set(Timer::Silence, due);
        }
        if !self.is_input_held() {
            self.close(crate::DisconnectReason::HeartbeatTimeout);
        }
    }

    /// A Heartbeat from the counterparty; one that carries our TestReqID answers our TestRequest.
    pub(super) fn on_heartbeat(&mut self, msg: &Message, seq: SeqNum) {
        if self.test_request_pending
            && msg.get(tag::TEST_REQ_ID) == Some(self.config.test_request_id.as_bytes())
        {
            self.test_request_pending = false;
            self.arm_heartbeats();
        }
        self.take(seq, true);
    }

    /// A TestRequest from the counterparty: a Heartbeat with its TestReqID, which it must carry.
    pub(super) fn on_test_request(&mut self, msg: &Message, seq: SeqNum) {
        self.take(seq, true);
        match msg.get(tag::TEST_REQ_ID) {
            Some(id) => {
                let id = id.to_vec();
                self.send_heartbeat(Some(&id));
            }
            None => self.reject(
                msg,
                seq,
                SessionRejectReason::RequiredTagMissing,
                Some(&ref_tag(tag::TEST_REQ_ID)),
            ),
        }
    }

    /// A Heartbeat, answering a TestRequest when `test_req_id` is given.
    pub(super) fn send_heartbeat(&mut self, test_req_id: Option<&[u8]>) {
        self.send_admin(wire::HEARTBEAT, |body| {
            if let Some(id) = test_req_id {
                body.bytes(tag::TEST_REQ_ID, id);
            }
        });
    }

    /// A TestRequest with the configured `TestReqID`.
    fn send_test_request(&mut self) {
        let id = std::mem::take(&mut self.config.test_request_id);
        self.send_admin(wire::TEST_REQUEST, |body| {
            body.str(tag::TEST_REQ_ID, &id);
        });
        self.config.test_request_id = id;
        self.test_request_pending = true;
        self.push_event(crate::Event::TestRequestSent);
    }
}
