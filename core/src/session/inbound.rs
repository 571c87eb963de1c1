//! Receiving: the dispatch of a decoded message. Before logon it goes to the Logon rule; after
//! it, every message passes the checks here (BeginString, MsgSeqNum present, the fields against
//! the dictionary or the codec's findings, the header's CompIDs and SendingTime, PossDupFlag;
//! FIX test cases 2, 3 and 14) on its way through the MsgSeqNum rule (`sequence.rs`), and then
//! the `match` in `process` hands it to its rule's handler: `heartbeat.rs`, `resend.rs`,
//! `gap_fill.rs`, `reject.rs`, `logon.rs`, `logout.rs`, or the application.

use super::reject::ref_tag;
use super::{Queued, Session, SessionState};
use crate::action::{DisconnectReason, Event};
use crate::codec::{FieldError, FieldIssueKind, Message};
use crate::reject::SessionRejectReason;
use crate::{MsgType, SeqNum, tag};

impl Session {
    /// A decoded message, read where it lies: it is not moved on its way through the rules.
    /// Returns its MsgSeqNum when it goes to the application (the caller queues it). Every
    /// message is counted, by kind: after logon by the MsgSeqNum rule, which classifies it anyway.
    #[inline]
    pub(super) fn on_message(&mut self, msg: &Message) -> Option<SeqNum> {
        self.note_received();
        match self.state {
            SessionState::WaitForLogon | SessionState::LogonSent => {
                self.count_received(MsgType::is_admin_value(msg.msg_type()));
                self.on_logon_candidate(msg);
                None
            }
            SessionState::Active | SessionState::LogoutSent => {
                let Some(seq) = self.admit(msg) else {
                    self.count_received(MsgType::is_admin_value(msg.msg_type()));
                    return None;
                };
                self.order_by_seq_num(msg, seq).then_some(seq)
            }
            SessionState::Disconnected | SessionState::Finalized => {
                self.count_received(MsgType::is_admin_value(msg.msg_type()));
                None
            }
        }
    }

    /// A message after logon must carry the session's BeginString and a MsgSeqNum: without
    /// either, Logout and close. Returns the MsgSeqNum, for the MsgSeqNum rule (`sequence.rs`).
    #[inline]
    fn admit(&mut self, msg: &Message) -> Option<SeqNum> {
        if msg.begin_string() != self.config.begin_string.as_str().as_bytes() {
            self.send_logout(Some(b"Incorrect BeginString"));
            self.close(DisconnectReason::IncorrectBeginString);
            return None;
        }
        let Ok(seq) = msg.seq_num(tag::MSG_SEQ_NUM) else {
            self.send_logout(Some(b"Received message without MsgSeqNum"));
            self.close(DisconnectReason::ProtocolViolation);
            return None;
        };
        Some(seq)
    }

    /// A message whose number is the expected one (or a SequenceReset-Reset): the field checks
    /// (against the data dictionary when the session has one), the header checks, then its
    /// handler. Field problems come first, as QuickFIX validates a
    /// message before it verifies its header: an empty or missing TargetCompID is "Tag
    /// specified without a value" or "Required tag missing", not "CompID problem" (FIX test
    /// cases 14b, 14d).
    ///
    /// Returns whether the message goes to the application: its caller then queues it, right
    /// behind the `Queued::Deliver` pushed here.
    pub(super) fn process(&mut self, msg: &Message, msg_type: MsgType, seq: SeqNum) -> bool {
        self.report_inbound(msg);
        if !self.passes_checks(msg, &msg_type, seq) {
            return false;
        }
        match msg_type {
            MsgType::Heartbeat => self.on_heartbeat(msg, seq),
            MsgType::TestRequest => self.on_test_request(msg, seq),
            MsgType::ResendRequest => {
                self.take(seq, true);
                self.on_resend_request(msg, seq);
            }
            MsgType::Reject => self.on_reject(msg, seq),
            MsgType::SequenceReset => self.on_sequence_reset(msg, seq),
            MsgType::Logout => self.on_logout(msg),
            // A second Logon on a logged-on session changes nothing.
            MsgType::Logon => self.take(seq, true),
            MsgType::App(_) if !self.supports(msg.msg_type()) => {
                self.take(seq, true);
                self.reject_unsupported(msg, seq);
            }
            MsgType::App(_) if self.already_answered.remove(&seq) => {
                // Answered before a restart: processing it again would execute it twice.
                self.take(seq, true);
                self.push_event(Event::AlreadyProcessed { seq });
            }
            MsgType::App(_) => {
                self.take(seq, false);
                self.queue.push_back(Queued::Deliver);
                return true;
            }
        }
        false
    }

    /// The field and header checks of [`process`](Self::process); a message that fails one is
    /// answered (Reject, or Reject and Logout) and goes no further.
    fn passes_checks(&mut self, msg: &Message, msg_type: &MsgType, seq: SeqNum) -> bool {
        let problem = match &self.config.dictionary {
            Some(dictionary) => dictionary
                .validate_cached(msg, &self.config.validation_rules(), &mut self.shapes)
                .err()
                .map(|violation| (violation.reason, violation.ref_tag(msg))),
            None => self.field_problem(msg, msg_type),
        };
        if let Some((reason, tag)) = problem {
            self.reject(msg, seq, reason, tag.as_deref());
            return false;
        }
        for required in [tag::SENDER_COMP_ID, tag::TARGET_COMP_ID] {
            if !msg.fields().contains(required) {
                self.reject(
                    msg,
                    seq,
                    SessionRejectReason::RequiredTagMissing,
                    Some(&ref_tag(required)),
                );
                return false;
            }
        }
        if self.config.check_comp_id
            && (msg.get(tag::SENDER_COMP_ID) != Some(self.config.target_comp_id.as_bytes())
                || msg.get(tag::TARGET_COMP_ID) != Some(self.config.sender_comp_id.as_bytes()))
        {
            self.reject_and_logout(
                msg,
                seq,
                SessionRejectReason::CompIdProblem,
                DisconnectReason::CompIdProblem,
            );
            return false;
        }
        match self.sending_time_ok(msg) {
            Ok(true) => {}
            Ok(false) => {
                self.reject_and_logout(
                    msg,
                    seq,
                    SessionRejectReason::SendingTimeAccuracy,
                    DisconnectReason::SendingTimeAccuracy,
                );
                return false;
            }
            Err(reason) => {
                self.reject(msg, seq, reason, Some(&ref_tag(tag::SENDING_TIME)));
                return false;
            }
        }
        msg.bool(tag::POSS_DUP_FLAG) != Ok(true) || self.check_poss_dup(msg, seq)
    }

    /// The PossDupFlag rules, for a message with PossDupFlag=Y: without OrigSendingTime, Reject 1
    /// (tag 122) and the session goes on; OrigSendingTime after SendingTime, Reject 10 then
    /// Logout. Returns whether the message passed.
    pub(super) fn check_poss_dup(&mut self, msg: &Message, seq: SeqNum) -> bool {
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
}

/// Whether a session-level message carries a repeating group (NoMsgTypes on a Logon, NoHops in
/// the header), in which repeated tags are legal.
fn has_group(msg: &Message) -> bool {
    msg.fields().contains(tag::NO_MSG_TYPES) || msg.fields().contains(tag::NO_HOPS)
}
