//! The gap-fill rule (FIX test cases 2b, 10 and 11): gaps in the counterparty's sequence, and
//! how they close.
//!
//! A MsgSeqNum above the expected one is a gap: one ResendRequest (35=2) from the expected number
//! to the end (`EndSeqNo <16>` 0, or 999999 before FIX 4.2), unless one is outstanding, and again
//! after `ResendRequestTimeout` for what the counterparty's resend has not filled yet. The
//! counterparty's SequenceReset (35=4) closes it: in GapFill mode (`GapFillFlag <123>` = Y) it
//! stands for the session-level messages it does not resend, in Reset mode it moves the expected
//! number whatever its own MsgSeqNum. Neither may move the expected number backwards: that is
//! rejected with `SessionRejectReason <373>` 5 and no `RefTagID <371>`.

use super::Session;
use super::reject::ref_tag;
use super::timer::Timer;
use crate::action::Event;
use crate::codec::{FieldError, Message};
use crate::msg_type::wire;
use crate::reject::SessionRejectReason;
use crate::{SeqNum, tag};

impl Session {
    /// A gap from `expected` up to `received`: one ResendRequest, unless one is outstanding.
    pub(super) fn request_gap_fill(&mut self, expected: SeqNum, received: SeqNum) {
        self.push_event(Event::GapDetected {
            from: expected,
            received,
        });
        if self.awaiting_gap_fill.is_some() && !self.config.send_redundant_resend_requests {
            self.awaiting_gap_fill = self.awaiting_gap_fill.max(Some(received));
            return;
        }
        self.awaiting_gap_fill = Some(received);
        self.send_resend_request(expected);
        self.timers.set(
            Timer::GapFill,
            self.now.mono + self.config.resend_request_timeout,
        );
    }

    /// The gap is still open a while after our ResendRequest: ask only for what the
    /// counterparty's resend has not filled yet. A gap filled meanwhile leaves the timer stopped.
    pub(super) fn on_gap_fill_timer(&mut self) {
        if self.awaiting_gap_fill.is_some() && self.is_logged_on() {
            self.send_resend_request(self.next_target);
            self.timers.set(
                Timer::GapFill,
                self.now.mono + self.config.resend_request_timeout,
            );
        }
    }

    /// A ResendRequest from `from` to the end (`EndSeqNo` 0, or 999999 before FIX 4.2).
    pub(super) fn send_resend_request(&mut self, from: SeqNum) {
        let infinity = if self.config.begin_string.is_before_fix42() {
            999_999
        } else {
            0
        };
        self.send_admin(wire::RESEND_REQUEST, |body| {
            body.uint(tag::BEGIN_SEQ_NO, from.get())
                .uint(tag::END_SEQ_NO, infinity);
        });
    }

    /// A SequenceReset from the counterparty, in GapFill or Reset mode.
    pub(super) fn on_sequence_reset(&mut self, msg: &Message, seq: SeqNum) {
        let gap_fill = msg.bool(tag::GAP_FILL_FLAG) == Ok(true);
        let new_seq = match msg.seq_num(tag::NEW_SEQ_NO) {
            Ok(new_seq) => new_seq,
            Err(FieldError::Missing { .. }) => {
                return self.reject(
                    msg,
                    seq,
                    SessionRejectReason::RequiredTagMissing,
                    Some(&ref_tag(tag::NEW_SEQ_NO)),
                );
            }
            Err(_) => {
                return self.reject(
                    msg,
                    seq,
                    SessionRejectReason::IncorrectDataFormat,
                    Some(&ref_tag(tag::NEW_SEQ_NO)),
                );
            }
        };
        // Moving backwards is never allowed (FIX test cases 10 and 11c): a GapFill must move past
        // its own number, a Reset must not go below the expected one. The Reject carries no
        // RefTagID; the expected number stays, though a GapFill's own number is consumed.
        let backwards = if gap_fill {
            new_seq <= seq
        } else {
            new_seq < self.next_target
        };
        if backwards {
            self.take(seq, true);
            return self.reject_unconsumed(msg, seq, SessionRejectReason::ValueOutOfRange, None);
        }
        if !gap_fill {
            // Reset mode: adopt the number, whatever MsgSeqNum said.
            self.queued_inbound.retain(|&queued, _| queued >= new_seq);
        }
        let last = SeqNum::new(new_seq.get() - 1);
        self.next_target = new_seq;
        if self.settled.take(last, true) {
            self.persist_target();
        }
        self.push_event(Event::SequenceReset { new_seq, gap_fill });
        self.drain_queued();
    }
}
