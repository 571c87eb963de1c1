//! Writing messages: the header the session owns, the store before the wire, and one builder per
//! session-level message.

use bytes::Bytes;
use smallvec::SmallVec;

use super::{Queued, Session, SessionState};
use crate::action::Event;
use crate::codec::{FieldWriter, HeaderField, Value, encode_frame};
use crate::msg_type::wire;
use crate::store::StoreError;
use crate::time::UtcTimestamp;
use crate::{SeqNum, tag};

impl Session {
    /// Encodes a message with the next MsgSeqNum, appends it to the store, then queues its bytes
    /// (or holds them behind a resend in progress, or, when `transmit` is false, leaves it in
    /// the store for a later resend).
    pub(super) fn store_and_send(
        &mut self,
        msg_type: &[u8],
        extra_header: &[HeaderField<'_>],
        body: &[u8],
        answers: Option<SeqNum>,
        transmit: bool,
    ) -> Result<SeqNum, StoreError> {
        let seq = self.store.next_sender_seq();
        let frame = self.encode(seq, msg_type, extra_header, body, None);
        self.store.append_shared(seq, &frame, answers)?;
        self.appended += 1;
        self.report_outbound(msg_type, &frame);
        if transmit {
            // Behind a resend in progress, or behind our Logon until its reply: held, in order.
            if self.resend.is_some() || self.state == SessionState::LogonSent {
                self.held.push_back(frame);
            } else {
                self.queue.push_back(Queued::Stored(frame, self.appended));
                self.note_sent();
            }
        }
        Ok(seq)
    }

    /// Whether output waits to go: held behind a resend or our Logon, or queued and not yet
    /// taken by the caller (an engine stops taking at `MaxOutboundBytes`).
    pub(super) fn is_output_held(&self) -> bool {
        self.resend.is_some()
            || !self.held.is_empty()
            || self
                .queue
                .iter()
                .any(|q| matches!(q, Queued::Send(_) | Queued::Stored(..)))
    }

    /// Raises [`Event::Message`] for an outbound message, when configured.
    pub(super) fn report_outbound(&mut self, msg_type: &[u8], frame: &Bytes) {
        if self.config.report_messages.covers(msg_type) {
            let frame = frame.clone();
            self.push_event(Event::Message {
                inbound: false,
                frame,
            });
        }
    }

    /// Encodes a message that is not stored: a resent copy or a GapFill under an old number, or
    /// the Logout that refuses a Logon.
    pub(super) fn send_unstored(&mut self, msg_type: &[u8], frame: Bytes) {
        self.report_outbound(msg_type, &frame);
        self.queue.push_back(Queued::Send(frame));
        self.note_sent();
    }

    /// Encodes one frame with the session's header: 34, 49, 52, 56, and for a resent copy
    /// PossDupFlag and OrigSendingTime.
    pub(super) fn encode(
        &mut self,
        seq: SeqNum,
        msg_type: &[u8],
        extra_header: &[HeaderField<'_>],
        body: &[u8],
        orig_sending_time: Option<&[u8]>,
    ) -> Bytes {
        let precision = self.config.precision();
        let now = self.utc_now();
        let sending_time = self.stamps.format(now, precision);
        let mut header: SmallVec<[HeaderField<'_>; 8]> = SmallVec::new();
        header.extend([
            HeaderField::new(tag::MSG_SEQ_NUM, Value::Uint(seq.get())),
            HeaderField::new(
                tag::SENDER_COMP_ID,
                Value::Text(self.config.sender_comp_id.as_bytes()),
            ),
            HeaderField::new(tag::SENDING_TIME, Value::Text(sending_time.as_bytes())),
            HeaderField::new(
                tag::TARGET_COMP_ID,
                Value::Text(self.config.target_comp_id.as_bytes()),
            ),
        ]);
        if let Some(orig) = orig_sending_time {
            header.push(HeaderField::new(tag::POSS_DUP_FLAG, Value::Bool(true)));
            header.push(HeaderField::new(tag::ORIG_SENDING_TIME, Value::Text(orig)));
        }
        header.extend_from_slice(extra_header);
        let begin_string = self.config.begin_string.as_str().as_bytes();
        encode_frame(&mut self.out, begin_string, msg_type, &mut header, body);
        self.out.split().freeze()
    }

    /// Builds a session-level message's body with `build`, then stores and sends it. A store
    /// failure ends the connection: the session cannot keep its promises without its store.
    pub(super) fn send_admin(&mut self, msg_type: &[u8], build: impl FnOnce(&mut FieldWriter)) {
        self.send_admin_routed(msg_type, &[], build);
    }

    /// [`send_admin`](Self::send_admin) with routing header fields (a Reject's reverse route).
    pub(super) fn send_admin_routed(
        &mut self,
        msg_type: &[u8],
        header: &[HeaderField<'_>],
        build: impl FnOnce(&mut FieldWriter),
    ) {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        build(&mut body);
        let transmit = self.connected;
        let sent = self.store_and_send(msg_type, header, body.as_bytes(), None, transmit);
        self.body = body;
        if let Err(error) = sent {
            self.emit_store_failure(error);
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

    /// A SequenceReset-Reset to `new_seq`, under our next number, which it does not consume (the
    /// receiver ignores MsgSeqNum in Reset mode).
    pub(super) fn send_reset(&mut self, new_seq: SeqNum) {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        body.uint(tag::NEW_SEQ_NO, new_seq.get())
            .bool(tag::GAP_FILL_FLAG, false);
        let seq = self.store.next_sender_seq();
        let frame = self.encode(seq, wire::SEQUENCE_RESET, &[], body.as_bytes(), None);
        self.body = body;
        self.send_unstored(wire::SEQUENCE_RESET, frame);
    }

    /// A SequenceReset-GapFill under the old number `seq`, moving the counterparty to `new_seq`.
    pub(super) fn send_gap_fill(&mut self, seq: SeqNum, new_seq: SeqNum) {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        // Ascending tag order, as QuickFIX writes it: NewSeqNo <36>, then GapFillFlag <123>.
        body.uint(tag::NEW_SEQ_NO, new_seq.get())
            .bool(tag::GAP_FILL_FLAG, true);
        let sending_time =
            UtcTimestamp::from_system_time(self.now.utc).format(self.config.precision());
        let frame = self.encode(
            seq,
            wire::SEQUENCE_RESET,
            &[],
            body.as_bytes(),
            Some(sending_time.as_bytes()),
        );
        self.body = body;
        self.send_unstored(wire::SEQUENCE_RESET, frame);
    }
}
