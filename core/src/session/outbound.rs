//! Writing messages: the header the session owns (8, 9, 35, 34, 49, 52, 56, and 43 and 122 on a
//! copy sent again, DESIGN.md section 6), the store before the wire, and the queue that holds
//! frames behind a resend or our Logon. Each rule builds its own messages with `send_admin`
//! (stored) or `send_unstored_admin` (a GapFill, a SequenceReset-Reset or a refusing Logout,
//! which take no number of their own).

use bytes::Bytes;
use smallvec::SmallVec;

use super::{Appended, OutboundMessage, Queued, Session, SessionState};
use crate::action::Event;
use crate::codec::{FieldWriter, HeaderField, Value, encode_frame};
use crate::error::SendError;
use crate::store::StoreError;
use crate::{MsgType, SeqNum, tag};

impl Session {
    /// Encodes a message with the next MsgSeqNum, appends it to the store, then queues its bytes
    /// (or holds them behind a resend in progress, or, when `transmit` is false, leaves it in
    /// the store for a later resend). `admin` says whether `msg_type` is a session-level type.
    pub(super) fn store_and_send(
        &mut self,
        msg_type: &[u8],
        admin: bool,
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
            // Behind a resend in progress, held, in order; behind our Logon until its reply, what
            // the application put is held, and the session's own messages (a Logout answering a
            // reply whose numbers are wrong) go at once.
            let behind_logon = self.state == SessionState::LogonSent && !admin;
            if self.resend.is_some() || behind_logon {
                self.held.push_back((frame, admin));
            } else {
                self.queue
                    .push_back(Queued::Stored(frame, Appended::new(self.appended, admin)));
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
                .any(|q| matches!(q, Queued::Send(..) | Queued::Stored(..)))
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
    /// the Logout that refuses a Logon. `admin` says whether `msg_type` is a session-level type.
    pub(super) fn send_unstored(&mut self, msg_type: &[u8], admin: bool, frame: Bytes) {
        self.report_outbound(msg_type, &frame);
        self.queue.push_back(Queued::Send(frame, admin));
        self.note_sent();
    }

    /// Builds a session-level message's body with `build` and sends it under number `seq`
    /// without storing it (see [`send_unstored`](Self::send_unstored)); with
    /// `orig_sending_time`, as a copy sent again (PossDupFlag=Y).
    pub(super) fn send_unstored_admin(
        &mut self,
        seq: SeqNum,
        msg_type: &[u8],
        orig_sending_time: Option<&[u8]>,
        build: impl FnOnce(&mut FieldWriter),
    ) {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        build(&mut body);
        let frame = self.encode(seq, msg_type, &[], body.as_bytes(), orig_sending_time);
        self.body = body;
        self.send_unstored(msg_type, true, frame);
    }

    /// Encodes one frame with the session's header: 34, 49, 52, 56, for a resent copy
    /// PossDupFlag and OrigSendingTime, and with `EnableLastMsgSeqNumProcessed` from FIX 4.2
    /// on, LastMsgSeqNumProcessed (369) unless `extra_header` has one (a resent copy's own).
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
        if self.config.enable_last_msg_seq_num_processed
            && !self.config.begin_string.is_before_fix42()
            && !extra_header
                .iter()
                .any(|f| f.tag == tag::LAST_MSG_SEQ_NUM_PROCESSED)
        {
            // QuickFIX's meaning: the next expected number minus one (0 before the first).
            let processed = self.next_target.get() - 1;
            header.push(HeaderField::new(
                tag::LAST_MSG_SEQ_NUM_PROCESSED,
                Value::Uint(processed),
            ));
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
        let sent = self.store_and_send(msg_type, true, header, body.as_bytes(), None, transmit);
        self.body = body;
        if let Err(error) = sent {
            self.emit_store_failure(error);
        }
    }

    /// Stores an application message and sends it while logged on: [`send`](Self::send),
    /// [`reply`](Self::reply) (`answers` is the inbound number it settles).
    pub(super) fn send_app(
        &mut self,
        msg: OutboundMessage<'_>,
        answers: Option<SeqNum>,
    ) -> Result<SeqNum, SendError> {
        self.check_not_finalized()?;
        check_outbound(&msg)?;
        // After our Logout, new messages wait in the store for the next session's resend.
        let transmit =
            self.connected && matches!(self.state, SessionState::Active | SessionState::LogonSent);
        Ok(self.store_and_send(msg.msg_type, false, msg.header, msg.body, answers, transmit)?)
    }
}

/// The header fields the session writes itself: an application may not supply them, and a resent
/// copy does not repeat them from the stored message.
pub(super) const SESSION_OWNED_TAGS: [u32; 10] = [
    tag::BEGIN_STRING,
    tag::BODY_LENGTH,
    tag::MSG_TYPE,
    tag::MSG_SEQ_NUM,
    tag::SENDER_COMP_ID,
    tag::TARGET_COMP_ID,
    tag::SENDING_TIME,
    tag::POSS_DUP_FLAG,
    tag::ORIG_SENDING_TIME,
    tag::CHECK_SUM,
];

/// The checks on an application's message that are cheap enough for every `put()`.
fn check_outbound(msg: &OutboundMessage<'_>) -> Result<(), SendError> {
    if msg.msg_type.is_empty() || !msg.msg_type.iter().all(u8::is_ascii_alphanumeric) {
        return Err(SendError::InvalidMsgType);
    }
    if MsgType::is_admin_value(msg.msg_type) {
        return Err(SendError::AdminMsgType(
            String::from_utf8_lossy(msg.msg_type).into(),
        ));
    }
    if !msg.body.is_empty() && msg.body.last() != Some(&crate::codec::SOH) {
        return Err(SendError::MalformedBody);
    }
    match msg
        .header
        .iter()
        .find(|f| SESSION_OWNED_TAGS.contains(&f.tag))
    {
        Some(field) => Err(SendError::SessionOwnedTag { tag: field.tag }),
        None => Ok(()),
    }
}
