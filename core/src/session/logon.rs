//! The Logon rule: the exchange that starts a FIX session (FIX test case 1).
//!
//! The initiator sends its Logon (1B); the acceptor checks the counterparty's (MsgType,
//! BeginString, CompIDs, the required fields, SendingTime, the schedule, the application's
//! check) before it changes any state, and answers with its own (1S). A refused Logon is dropped
//! silently or answered with one unstored Logout (1S d, e). A MsgSeqNum below the expected one
//! ends the connection; above it, the Logon is answered and the gap requested (1S c). A Logon
//! with `ResetSeqNumFlag <141>` = Y resets both sequences, at logon or while logged on (test case
//! 9 and QuickFIX's SessionReset scripts).

use std::time::Duration;

use super::sequence::Ahead;
use super::timer::Timer;
use super::{Session, SessionState};
use crate::action::{DisconnectReason, Event, LogonRefusal};
use crate::codec::{FieldIssueKind, Message};
use crate::config::Role;
use crate::msg_type::wire;
use crate::reject::SessionRejectReason;
use crate::secret::Secret;
use crate::time::UtcTimestamp;
use crate::version::BeginString;
use crate::{SeqNum, tag};

/// The fields of an acceptable Logon.
struct Logon {
    seq: SeqNum,
    heart_bt_int: Duration,
    reset: bool,
    /// `NextExpectedMsgSeqNum <789>`, when present.
    next_expected: Option<SeqNum>,
}

impl Session {
    /// The initiator's side of a new connection: send our Logon.
    pub(super) fn send_logon(&mut self) {
        if !self.schedule_open() {
            return self.close(DisconnectReason::LogonRefused(
                LogonRefusal::OutsideSchedule,
            ));
        }
        let reset = self.config.reset_on_logon || self.new_period();
        if reset && let Err(error) = self.reset_sequences() {
            return self.close(DisconnectReason::Store(error));
        }
        self.send_logon_message(reset, None);
        self.set_state(SessionState::LogonSent);
    }

    /// The first message of a connection (acceptor), or the reply to our Logon (initiator).
    /// A refused Logon changes no state: the checks come first, the reset after them.
    pub(super) fn on_logon_candidate(&mut self, msg: &Message) {
        self.report_inbound(msg);
        let logon = match self.check_logon(msg) {
            Ok(logon) => logon,
            Err(refusal) => return self.refuse_logon(refusal),
        };
        let acceptor = self.config.role == Role::Acceptor;
        let reset = logon.reset || (acceptor && (self.config.reset_on_logon || self.new_period()));
        // NextExpectedMsgSeqNum, when both sides use it (FIX 4.4 and FIXT.1.1), is checked
        // before a reset: a Logon refused for it changes no numbers. The acceptor's reply takes
        // the next number (1 after a reset); the initiator's Logon went before.
        let their_next = logon
            .next_expected
            .filter(|_| self.config.send_next_expected_msg_seq_num);
        let our_logon = match self.config.role {
            Role::Acceptor if reset => SeqNum::FIRST,
            Role::Acceptor => self.store.next_sender_seq(),
            Role::Initiator => self.logon_seq,
        };
        let most = if acceptor {
            our_logon
        } else {
            our_logon.next()
        };
        if let Some(received) = their_next.filter(|&n| n > most) {
            return self.next_expected_too_high(most, received);
        }
        if acceptor
            && reset
            && let Err(error) = self.reset_sequences()
        {
            return self.close(DisconnectReason::Store(error));
        }
        let expected = self.next_target;
        if logon.seq < expected {
            return self.too_low(expected, logon.seq);
        }
        if acceptor {
            self.heart_bt_int = logon.heart_bt_int;
            self.send_logon_message(logon.reset, Some(logon.seq));
        }
        self.set_state(SessionState::Active);
        self.timers.stop(Timer::Logon);
        self.arm_heartbeats();
        self.push_event(Event::LoggedOn { reset });
        match their_next.filter(|&n| n < our_logon) {
            // What the counterparty missed goes again at once, before what the application
            // put while our Logon was unanswered.
            Some(from) => self.start_resend(from, SeqNum::new(our_logon.get() - 1)),
            None => self.release_held(),
        }
        if logon.seq == expected {
            self.take(logon.seq, true);
        } else {
            // The Logon counts as received once the gap below it is filled (QuickFIX's
            // `nextQueued`).
            self.queue_ahead(logon.seq, Ahead::Handled);
            if their_next.is_some() {
                // Our Logon said where we are: the counterparty resends by itself.
                self.await_gap_fill(logon.seq);
            } else {
                self.request_gap_fill(expected, logon.seq);
            }
        }
    }

    /// The counterparty expects a number we never sent: Logout, then close.
    fn next_expected_too_high(&mut self, most: SeqNum, received: SeqNum) {
        let text = format!(
            "NextExpectedMsgSeqNum(789) too high, expecting at most {most} but received {received}"
        );
        self.send_logout(Some(text.as_bytes()));
        self.close(DisconnectReason::NextExpectedMsgSeqNumTooHigh { most, received });
    }

    /// Our Logon: the initiator's first message, or the acceptor's reply to the Logon numbered
    /// `answered` (`reset` sets ResetSeqNumFlag, echoing the counterparty's).
    pub(super) fn send_logon_message(&mut self, reset: bool, answered: Option<SeqNum>) {
        let heart_bt_int = self.heart_bt_int.as_secs();
        let appl_ver_id = self.config.default_appl_ver_id.clone();
        let extra = std::mem::take(&mut self.config.logon_fields);
        // Credentials go out on an initiator's Logon, never on an acceptor's reply.
        let credentials = match self.config.role {
            Role::Initiator => (self.config.username.take(), self.config.password.take()),
            Role::Acceptor => (None, None),
        };
        // A reply says the number after the Logon it answers, when that Logon carried the
        // expected number (it is taken right after the reply).
        let answers_expected = answered == Some(self.next_target);
        let next_expected = self.config.send_next_expected_msg_seq_num.then(|| {
            if answers_expected {
                self.next_target.next().get()
            } else {
                self.next_target.get()
            }
        });
        self.logon_seq = self.store.next_sender_seq();
        self.send_admin(wire::LOGON, |body| {
            body.uint(tag::ENCRYPT_METHOD, 0)
                .uint(tag::HEART_BT_INT, heart_bt_int);
            if reset {
                body.bool(tag::RESET_SEQ_NUM_FLAG, true);
            }
            if let Some(username) = &credentials.0 {
                body.str(tag::USERNAME, username);
            }
            if let Some(password) = credentials.1.as_ref().and_then(Secret::value) {
                body.str(tag::PASSWORD, password);
            }
            for (t, value) in &extra {
                body.str(*t, value);
            }
            if let Some(next) = next_expected {
                body.uint(tag::NEXT_EXPECTED_MSG_SEQ_NUM, next);
            }
            if let Some(version) = &appl_ver_id {
                body.str(tag::DEFAULT_APPL_VER_ID, version);
            }
        });
        self.config.logon_fields = extra;
        if self.config.role == Role::Initiator {
            (self.config.username, self.config.password) = credentials;
        }
    }

    /// A Logon with ResetSeqNumFlag=Y while logged on: the counterparty resets both sequences.
    /// It answers ours (which already reset them), or we reset and answer it.
    pub(super) fn on_reset_logon(&mut self, msg: &Message, seq: SeqNum) {
        self.report_inbound(msg);
        if !std::mem::take(&mut self.awaiting_reset_reply) {
            if let Err(error) = self.reset_sequences() {
                return self.close(DisconnectReason::Store(error));
            }
            self.send_logon_message(true, Some(seq));
            self.report_seq_change();
        }
        self.take(seq, true);
    }

    fn check_logon(&mut self, msg: &Message) -> Result<Logon, LogonRefusal> {
        if msg.msg_type() != wire::LOGON {
            return Err(LogonRefusal::NotLogon);
        }
        if msg.begin_string() != self.config.begin_string.as_str().as_bytes() {
            return Err(LogonRefusal::WrongBeginString);
        }
        if msg.get(tag::SENDER_COMP_ID) != Some(self.config.target_comp_id.as_bytes())
            || msg.get(tag::TARGET_COMP_ID) != Some(self.config.sender_comp_id.as_bytes())
        {
            return Err(LogonRefusal::CompIdMismatch);
        }
        let malformed = msg.issues().iter().any(|issue| {
            matches!(
                issue.kind,
                FieldIssueKind::InvalidTag
                    | FieldIssueKind::MissingEquals
                    | FieldIssueKind::EmptyValue
                    | FieldIssueKind::DataLengthMismatch
            )
        });
        let seq = msg
            .seq_num(tag::MSG_SEQ_NUM)
            .map_err(|_| LogonRefusal::Malformed)?;
        let heart_bt_int = msg
            .uint(tag::HEART_BT_INT)
            .map_err(|_| LogonRefusal::Malformed)?;
        msg.uint(tag::ENCRYPT_METHOD)
            .map_err(|_| LogonRefusal::Malformed)?;
        let reset = match msg.bool(tag::RESET_SEQ_NUM_FLAG) {
            Ok(flag) => flag,
            Err(crate::codec::FieldError::Missing { .. }) => false,
            Err(_) => return Err(LogonRefusal::Malformed),
        };
        let next_expected = match msg.seq_num(tag::NEXT_EXPECTED_MSG_SEQ_NUM) {
            Ok(next) if next.get() == 0 => return Err(LogonRefusal::Malformed),
            Ok(next) => Some(next),
            Err(crate::codec::FieldError::Missing { .. }) => None,
            Err(_) => return Err(LogonRefusal::Malformed),
        };
        if malformed {
            return Err(LogonRefusal::Malformed);
        }
        if !self
            .sending_time_ok(msg)
            .map_err(|_| LogonRefusal::Malformed)?
        {
            return Err(LogonRefusal::SendingTime);
        }
        if self.config.begin_string == BeginString::Fixt11
            && !msg.fields().contains(tag::DEFAULT_APPL_VER_ID)
        {
            return Err(LogonRefusal::MissingDefaultApplVerId);
        }
        if !self.schedule_open() {
            return Err(LogonRefusal::OutsideSchedule);
        }
        if self.logon_check.as_ref().is_some_and(|check| !check(msg)) {
            return Err(LogonRefusal::RefusedByApplication);
        }
        Ok(Logon {
            seq,
            heart_bt_int: Duration::from_secs(heart_bt_int),
            reset,
            next_expected,
        })
    }

    /// Refuses a Logon: silently by default, or with one Logout that reveals nothing, is not
    /// stored and consumes no sequence number (`SendLogoutOnInvalidLogon`).
    pub(super) fn refuse_logon(&mut self, refusal: LogonRefusal) {
        if self.config.role == Role::Acceptor && self.config.send_logout_on_invalid_logon {
            let seq = self.store.next_sender_seq();
            self.send_unstored_admin(seq, wire::LOGOUT, None, |body| {
                body.str(tag::TEXT, "Logon rejected");
            });
        }
        self.close(DisconnectReason::LogonRefused(refusal));
    }

    /// Whether the schedule (if any) is open now.
    pub(super) fn schedule_open(&self) -> bool {
        let now = UtcTimestamp::from_system_time(self.now.utc);
        self.config.schedule.as_ref().is_none_or(|s| s.is_open(now))
    }

    /// Whether a new schedule period has begun since the store's sequence began: the sequence
    /// numbers reset at the boundary.
    pub(super) fn new_period(&self) -> bool {
        let now = UtcTimestamp::from_system_time(self.now.utc);
        let period = self
            .config
            .schedule
            .as_ref()
            .and_then(|s| s.period_start(now));
        period.is_some_and(|start| self.store.creation_time() < start)
    }

    /// Whether SendingTime is within `MaxLatency` of our clock (always true with `CheckLatency`
    /// off); `Err` with the reason to reject it when it is missing or malformed.
    pub(super) fn sending_time_ok(&mut self, msg: &Message) -> Result<bool, SessionRejectReason> {
        let value = msg
            .get(tag::SENDING_TIME)
            .ok_or(SessionRejectReason::RequiredTagMissing)?;
        let sent = self
            .sending_times
            .parse(value)
            .ok_or(SessionRejectReason::IncorrectDataFormat)?;
        if !self.config.check_latency {
            return Ok(true);
        }
        Ok(self.utc_now().is_within(sent, self.config.max_latency))
    }
}
