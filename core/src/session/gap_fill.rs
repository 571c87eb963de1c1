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

/// A gap in the counterparty's sequence that we have asked for (or, after a Logon that carried
/// `NextExpectedMsgSeqNum <789>`, that the counterparty fills by itself).
#[derive(Clone, Copy, Debug)]
pub(super) struct Gap {
    /// The highest number received beyond the gap: the gap is open until the expected number
    /// passes it.
    until: SeqNum,
    /// The last number our ResendRequest asked for when `ResendRequestChunkSize` cut it short;
    /// `None` when it asked to the end.
    chunk_end: Option<SeqNum>,
}

impl Session {
    /// A gap from `expected` up to `received`: one ResendRequest, unless one is outstanding.
    pub(super) fn request_gap_fill(&mut self, expected: SeqNum, received: SeqNum) {
        self.push_event(Event::GapDetected {
            from: expected,
            received,
        });
        if let Some(gap) = &mut self.gap
            && !self.config.send_redundant_resend_requests
        {
            gap.until = gap.until.max(received);
            return;
        }
        self.gap = Some(Gap {
            until: received,
            chunk_end: None,
        });
        self.send_resend_request(expected);
    }

    /// A gap from the expected number up to `received` that the counterparty fills without
    /// being asked: it said which of our numbers it expects, so it knows its own to resend. Asked
    /// for only if still open after `ResendRequestTimeout`.
    pub(super) fn await_gap_fill(&mut self, received: SeqNum) {
        self.push_event(Event::GapDetected {
            from: self.next_target,
            received,
        });
        self.gap = Some(Gap {
            until: received,
            chunk_end: None,
        });
        self.arm_gap_fill_timer();
    }

    /// The gap is still open a while after our ResendRequest: ask only for what the
    /// counterparty's resend has not filled yet. A gap filled meanwhile leaves the timer stopped.
    pub(super) fn on_gap_fill_timer(&mut self) {
        if self.gap.is_some() && self.is_logged_on() {
            self.send_resend_request(self.next_target);
        }
    }

    /// The expected number moved: the gap closes once it passes the highest number received,
    /// and a chunked request asks for the next chunk once it passes the end of the last one.
    pub(super) fn on_gap_progress(&mut self) {
        let Some(gap) = self.gap else { return };
        if self.next_target > gap.until {
            self.gap = None;
        } else if gap.chunk_end.is_some_and(|end| self.next_target > end) && self.connected {
            self.send_resend_request(self.next_target);
        }
    }

    /// A ResendRequest from `from` to the end of the open gap (`EndSeqNo` 0, or 999999 before
    /// FIX 4.2), or for the first `ResendRequestChunkSize` numbers of it; the gap-fill timer
    /// starts again.
    fn send_resend_request(&mut self, from: SeqNum) {
        let chunk = self.config.resend_request_chunk_size;
        let chunk_end = self.gap.as_mut().and_then(|gap| {
            let last = from.get().saturating_add(chunk.saturating_sub(1));
            gap.chunk_end = (chunk > 0 && last < gap.until.get() - 1).then(|| SeqNum::new(last));
            gap.chunk_end
        });
        let infinity = if self.config.begin_string.is_before_fix42() {
            999_999
        } else {
            0
        };
        let end = chunk_end.map_or(infinity, SeqNum::get);
        self.counters.resend_requests_out += 1;
        self.send_admin(wire::RESEND_REQUEST, |body| {
            body.uint(tag::BEGIN_SEQ_NO, from.get())
                .uint(tag::END_SEQ_NO, end);
        });
        self.arm_gap_fill_timer();
    }

    fn arm_gap_fill_timer(&mut self) {
        self.timers.set(
            Timer::GapFill,
            self.now.mono + self.config.resend_request_timeout,
        );
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
        self.counters.gap_fills_in += u64::from(gap_fill);
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
