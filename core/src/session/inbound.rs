//! Receiving: the checks every message goes through after logon, the sequence rules, and one
//! handler per session-level message type.

use super::reject::ref_tag;
use super::timer::Timer;
use super::{Queued, Session, SessionState};
use crate::action::{Delivered, DisconnectReason, Event, LogonRefusal};
use crate::codec::{Decoded, FieldError, FieldIssueKind, Message};
use crate::reject::SessionRejectReason;
use crate::{MsgType, SeqNum, tag};

impl Session {
    // The dispatchers are inlined into their one caller each, so that the decoded message is
    // not copied at every step on its way to `process` (a `Message` is a few hundred bytes).
    #[inline]
    pub(super) fn on_decoded(&mut self, decoded: Decoded) {
        self.note_received();
        match decoded {
            Decoded::Message(msg) => match self.state {
                SessionState::WaitForLogon | SessionState::LogonSent => {
                    self.on_logon_candidate(&msg)
                }
                SessionState::Active | SessionState::LogoutSent => self.on_message(msg),
                SessionState::Disconnected | SessionState::Finalized => {}
            },
            // Before logon a garbled frame ends the connection; after it, the frame is ignored
            // and the sequence number does not move.
            Decoded::Garbled { error, .. } if self.is_logged_on() => {
                self.push_event(Event::Garbled(error))
            }
            Decoded::Garbled { .. } => self.refuse_logon(LogonRefusal::Garbled),
        }
    }

    /// A message after logon: the BeginString and MsgSeqNum rules, then processing in order.
    #[inline]
    fn on_message(&mut self, msg: Message) {
        if msg.begin_string() != self.config.begin_string.as_str().as_bytes() {
            self.send_logout(Some(b"Incorrect BeginString"));
            return self.close(DisconnectReason::IncorrectBeginString);
        }
        let Ok(seq) = msg.seq_num(tag::MSG_SEQ_NUM) else {
            self.send_logout(Some(b"Received message without MsgSeqNum"));
            return self.close(DisconnectReason::ProtocolViolation);
        };
        let msg_type = MsgType::from_bytes(msg.msg_type());
        if msg_type == MsgType::Logon && msg.bool(tag::RESET_SEQ_NUM_FLAG) == Ok(true) {
            return self.on_reset_logon(&msg, seq);
        }
        let expected = self.next_target;
        // A Logout is honoured whatever its number, and a SequenceReset-Reset ignores it.
        if msg_type == MsgType::Logout && seq != expected {
            return self.on_logout(&msg);
        }
        if msg_type == MsgType::SequenceReset && msg.bool(tag::GAP_FILL_FLAG) != Ok(true) {
            return self.process(msg, msg_type, seq);
        }
        if seq > expected {
            // A ResendRequest is served at once, not queued behind the gap (DESIGN.md section 5);
            // its own number is gap-filled by the counterparty's resend.
            if msg_type == MsgType::ResendRequest {
                self.report_inbound(&msg);
                self.on_resend_request(&msg, seq);
            } else if self.queued_inbound.len() < self.config.max_queued_messages {
                self.queued_inbound.insert(seq, msg);
            }
            return self.request_gap_fill(expected, seq);
        }
        if seq < expected {
            // A ResendRequest is served whatever its number; a number below the expected one
            // consumes nothing (QuickFIX checks neither too high nor too low for it; FIX test
            // case 8: a repeated ResendRequest).
            if msg_type == MsgType::ResendRequest {
                self.report_inbound(&msg);
                return self.on_resend_request(&msg, seq);
            }
            if msg.bool(tag::POSS_DUP_FLAG) == Ok(true) {
                // A duplicate of something already processed: ignored, once its OrigSendingTime
                // passes the PossDupFlag rules (FIX test cases 2f, 2g).
                self.check_poss_dup(&msg, seq);
                return;
            }
            return self.too_low(expected, seq);
        }
        self.process(msg, msg_type, seq);
        self.drain_queued();
    }

    /// Processes the queued messages that the expected number has reached.
    fn drain_queued(&mut self) {
        while self.connected {
            let Some(entry) = self.queued_inbound.first_entry() else {
                break;
            };
            let seq = *entry.key();
            if seq > self.next_target {
                break;
            }
            let msg = entry.remove();
            if seq == self.next_target {
                let msg_type = MsgType::from_bytes(msg.msg_type());
                self.process(msg, msg_type, seq);
            }
        }
        if self
            .awaiting_gap_fill
            .is_some_and(|until| self.next_target > until)
        {
            self.awaiting_gap_fill = None;
        }
    }

    /// A message whose number is the expected one (or a SequenceReset-Reset): the field checks
    /// (against the data dictionary when the session has one), the header checks, then its
    /// handler. Field problems come first, as QuickFIX validates a
    /// message before it verifies its header: an empty or missing TargetCompID is "Tag
    /// specified without a value" or "Required tag missing", not "CompID problem" (FIX test
    /// cases 14b, 14d).
    fn process(&mut self, msg: Message, msg_type: MsgType, seq: SeqNum) {
        self.report_inbound(&msg);
        let problem = match &self.config.dictionary {
            Some(dictionary) => dictionary
                .validate_cached(&msg, &self.config.validation_rules(), &mut self.shapes)
                .err()
                .map(|violation| (violation.reason, violation.ref_tag(&msg))),
            None => self.field_problem(&msg, &msg_type),
        };
        if let Some((reason, tag)) = problem {
            return self.reject(&msg, seq, reason, tag.as_deref());
        }
        for required in [tag::SENDER_COMP_ID, tag::TARGET_COMP_ID] {
            if !msg.fields().contains(required) {
                return self.reject(
                    &msg,
                    seq,
                    SessionRejectReason::RequiredTagMissing,
                    Some(&ref_tag(required)),
                );
            }
        }
        if self.config.check_comp_id
            && (msg.get(tag::SENDER_COMP_ID) != Some(self.config.target_comp_id.as_bytes())
                || msg.get(tag::TARGET_COMP_ID) != Some(self.config.sender_comp_id.as_bytes()))
        {
            return self.reject_and_logout(
                &msg,
                seq,
                SessionRejectReason::CompIdProblem,
                DisconnectReason::CompIdProblem,
            );
        }
        match self.sending_time_ok(&msg) {
            Ok(true) => {}
            Ok(false) => {
                return self.reject_and_logout(
                    &msg,
                    seq,
                    SessionRejectReason::SendingTimeAccuracy,
                    DisconnectReason::SendingTimeAccuracy,
                );
            }
            Err(()) => {
                return self.reject(
                    &msg,
                    seq,
                    SessionRejectReason::RequiredTagMissing,
                    Some(&ref_tag(tag::SENDING_TIME)),
                );
            }
        }
        if msg.bool(tag::POSS_DUP_FLAG) == Ok(true) && !self.check_poss_dup(&msg, seq) {
            return;
        }
        match msg_type {
            MsgType::Heartbeat => self.on_heartbeat(&msg, seq),
            MsgType::TestRequest => self.on_test_request(&msg, seq),
            MsgType::ResendRequest => {
                self.take(seq, true);
                self.on_resend_request(&msg, seq);
            }
            MsgType::Reject => {
                self.take(seq, true);
                self.push_event(Event::RejectReceived {
                    ref_seq: msg.seq_num(tag::REF_SEQ_NUM).ok(),
                    reason: msg
                        .uint(tag::SESSION_REJECT_REASON)
                        .ok()
                        .and_then(|r| u32::try_from(r).ok()),
                });
            }
            MsgType::SequenceReset => self.on_sequence_reset(&msg, seq),
            MsgType::Logout => self.on_logout(&msg),
            // A second Logon on a logged-on session changes nothing.
            MsgType::Logon => self.take(seq, true),
            MsgType::App(_) if !self.supports(msg.msg_type()) => {
                self.take(seq, true);
                self.reject_unsupported(&msg, seq);
            }
            MsgType::App(_) if self.already_answered.remove(&seq) => {
                // Answered before a restart: processing it again would execute it twice.
                self.take(seq, true);
                self.push_event(Event::AlreadyProcessed { seq });
            }
            MsgType::App(_) => {
                self.take(seq, false);
                self.delivered.push_back(Delivered {
                    message: msg,
                    seq,
                    epoch: self.epoch,
                });
                self.queue.push_back(Queued::Deliver);
            }
        }
    }

    /// The PossDupFlag rules, for a message with PossDupFlag=Y: without OrigSendingTime, Reject 1
    /// (tag 122) and the session goes on; OrigSendingTime after SendingTime, Reject 10 then
    /// Logout. Returns whether the message passed.
    fn check_poss_dup(&mut self, msg: &Message, seq: SeqNum) -> bool {
        match msg.timestamp(tag::ORIG_SENDING_TIME) {
            Err(FieldError::Missing { .. }) => {
                self.reject(
                    msg,
                    seq,
                    SessionRejectReason::RequiredTagMissing,
                    Some(&ref_tag(tag::ORIG_SENDING_TIME)),
                );
                false
            }
            Err(_) => {
                self.reject(
                    msg,
                    seq,
                    SessionRejectReason::IncorrectDataFormat,
                    Some(&ref_tag(tag::ORIG_SENDING_TIME)),
                );
                false
            }
            Ok(orig)
                if msg
                    .timestamp(tag::SENDING_TIME)
                    .is_ok_and(|sent| orig > sent) =>
            {
                self.reject_and_logout(
                    msg,
                    seq,
                    SessionRejectReason::SendingTimeAccuracy,
                    DisconnectReason::SendingTimeAccuracy,
                );
                false
            }
            Ok(_) => true,
        }
    }

    /// Raises [`Event::Message`] for an inbound message, when configured.
    pub(super) fn report_inbound(&mut self, msg: &Message) {
        if self.config.report_messages.covers(msg.msg_type()) {
            let frame = msg.as_bytes().clone();
            self.push_event(Event::Message {
                inbound: true,
                frame,
            });
        }
    }

    fn supports(&self, msg_type: &[u8]) -> bool {
        self.config
            .supported_msg_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t.as_bytes() == msg_type))
    }

    /// Without a dictionary, the first field problem worth a Reject, by the settings: the codec
    /// reports, this judges.
    /// Without a dictionary a repeated tag is only judged in session-level messages, whose
    /// groups (NoMsgTypes, NoHops) the session knows.
    fn field_problem(
        &self,
        msg: &Message,
        msg_type: &MsgType,
    ) -> Option<(SessionRejectReason, Option<Vec<u8>>)> {
        let valid_type = (1..=4).contains(&msg.msg_type().len())
            && msg.msg_type().iter().all(u8::is_ascii_alphanumeric);
        if !valid_type {
            return Some((SessionRejectReason::InvalidMsgType, None));
        }
        for issue in msg.issues() {
            let raw = || msg.field_at(issue.index).map(|f| f.raw_tag().to_vec());
            let problem = match issue.kind {
                FieldIssueKind::InvalidTag | FieldIssueKind::MissingEquals => {
                    SessionRejectReason::InvalidTagNumber
                }
                FieldIssueKind::EmptyValue if self.config.validate_fields_have_values => {
                    SessionRejectReason::TagWithoutValue
                }
                FieldIssueKind::OutOfOrder if self.config.validate_fields_out_of_order => {
                    SessionRejectReason::TagOutOfOrder
                }
                FieldIssueKind::RepeatedTag if msg_type.is_admin() && !has_group(msg) => {
                    SessionRejectReason::TagAppearsMoreThanOnce
                }
                FieldIssueKind::DataLengthMismatch => SessionRejectReason::IncorrectDataFormat,
                _ => continue,
            };
            return Some((problem, raw()));
        }
        None
    }

    fn on_sequence_reset(&mut self, msg: &Message, seq: SeqNum) {
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

    /// Takes message `seq` (the expected one): the expected number moves on, and the settle
    /// window learns whether it is already settled.
    pub(super) fn take(&mut self, seq: SeqNum, settled: bool) {
        if seq != self.next_target {
            return; // A SequenceReset-Reset's number, which consumes nothing.
        }
        self.next_target = seq.next();
        if self.settled.take(seq, settled) {
            self.persist_target();
        }
    }

    fn persist_target(&mut self) {
        if let Err(error) = self.store.set_next_target_seq(self.settled.base()) {
            self.emit_store_failure(error);
        }
    }

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

    /// MsgSeqNum lower than expected without PossDupFlag: Logout, then close.
    pub(super) fn too_low(&mut self, expected: SeqNum, received: SeqNum) {
        let text = format!("MsgSeqNum too low, expecting {expected} but received {received}");
        self.send_logout(Some(text.as_bytes()));
        self.close(DisconnectReason::MsgSeqNumTooLow { expected, received });
    }

    pub(super) fn push_event(&mut self, event: Event) {
        self.queue.push_back(Queued::Event(event));
    }
}

/// Whether a session-level message carries a repeating group (NoMsgTypes on a Logon, NoHops in
/// the header), in which repeated tags are legal.
fn has_group(msg: &Message) -> bool {
    msg.fields().contains(tag::NO_MSG_TYPES) || msg.fields().contains(tag::NO_HOPS)
}
