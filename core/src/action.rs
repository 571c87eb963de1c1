//! What a session asks of its caller: the [`Action`]s drained from `poll_action`.

use std::time::Instant;

use bytes::Bytes;

use crate::SeqNum;
use crate::codec::{DecodeError, Message};
use crate::reject::SessionRejectReason;
use crate::store::StoreError;

/// One thing for the caller to do, in queue order.
// `Deliver` holds a message with its inline field index; boxing it would allocate per message.
// The session keeps its queue of small entries and builds an `Action` only when it is polled.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Action {
    /// Write these bytes: exactly one complete, checksummed FIX message.
    Send(Bytes),
    /// Hand this application message to the application, which MUST settle it with
    /// `Session::ack` or `Session::reply`.
    Deliver(Delivered),
    /// Something the application or the log may want to know.
    Event(Event),
    /// Make the store durable (fsync/msync, off the executor) before writing the `Send`s after this.
    Commit,
    /// Close the connection, after writing every `Send` queued before this. The session lives on.
    Disconnect(DisconnectReason),
}

/// An application message delivered in sequence.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub(crate) message: Message,
    pub(crate) seq: SeqNum,
    /// The session's sequence epoch at delivery: a reset starts a new one, and a message of an
    /// earlier epoch can no longer be answered or settled.
    pub(crate) epoch: u64,
    /// The `now.mono` of the input that carried it; `None` in storage that holds no delivery.
    pub(crate) received_at: Option<Instant>,
}

impl Default for Delivered {
    /// An empty message that belongs to no session (settling it fails with
    /// `SendError::StaleDelivery`): storage for `Engine::take_delivered_into`.
    fn default() -> Self {
        Self {
            message: Message::default(),
            seq: SeqNum::FIRST,
            epoch: u64::MAX,
            received_at: None,
        }
    }
}

impl Delivered {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Its `MsgSeqNum <34>`, by which it is settled.
    pub fn seq(&self) -> SeqNum {
        self.seq
    }

    /// When the bytes that carried it were given to the engine: the `now` of the
    /// `handle_input` (or `handle_bytes`) that brought them, by the caller's clock. `None` only
    /// for storage that never held a delivery (`Delivered::default()`). A message decoded from
    /// input held back by `MaxUnsettledMessages` has the time of the last bytes given before it
    /// was decoded.
    pub fn received_at(&self) -> Option<Instant> {
        self.received_at
    }

    /// `PossDupFlag <43>=Y`: it may have been delivered before (a resend).
    pub fn is_poss_dup(&self) -> bool {
        self.message.bool(crate::tag::POSS_DUP_FLAG) == Ok(true)
    }

    /// `PossResend <97>=Y`: the sender may have sent its content before under another number.
    /// Deduplicating it is the application's job.
    pub fn is_poss_resend(&self) -> bool {
        self.message.bool(crate::tag::POSS_RESEND) == Ok(true)
    }
}

/// Something that happened in a session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The Logon exchange completed.
    LoggedOn {
        /// Whether the sequence numbers were reset by it (`ResetSeqNumFlag <141>`).
        reset: bool,
    },
    /// A frame was garbled and ignored.
    Garbled(DecodeError),
    /// A message arrived with a higher MsgSeqNum than expected; a ResendRequest went out (unless
    /// one for the range was outstanding).
    GapDetected {
        /// The first missing number.
        from: SeqNum,
        /// The number received.
        received: SeqNum,
    },
    /// The counterparty asked us to resend.
    ResendRequested {
        /// `BeginSeqNo <7>`.
        from: SeqNum,
        /// The last number resent (EndSeqNo, or our last number when it was 0).
        to: SeqNum,
    },
    /// A stored application message was gap-filled instead of resent (`GapFillMessageTypes`).
    NotResent {
        /// Its MsgSeqNum.
        seq: SeqNum,
        /// Its MsgType.
        msg_type: crate::MsgType,
    },
    /// The counterparty moved our expected inbound number with a SequenceReset.
    SequenceReset {
        /// The new expected number.
        new_seq: SeqNum,
        /// Whether it was a GapFill (else a Reset).
        gap_fill: bool,
    },
    /// The counterparty rejected one of our messages.
    RejectReceived {
        /// `RefSeqNum <45>`.
        ref_seq: Option<SeqNum>,
        /// `SessionRejectReason <373>`, when present.
        reason: Option<u32>,
        /// Its `Text <58>`, if any (a slice of the received frame).
        text: Option<Bytes>,
    },
    /// We rejected one of the counterparty's messages.
    RejectSent {
        /// The rejected message's number.
        ref_seq: SeqNum,
        /// Why.
        reason: SessionRejectReason,
        /// The tag at fault, when one is.
        tag: Option<u32>,
    },
    /// The sequence numbers were set by a command, a SequenceReset-Reset we sent, or a reset
    /// Logon exchange (logged, because it changes what recovery means).
    SequenceNumbersChanged {
        /// Our next MsgSeqNum.
        next_sender: SeqNum,
        /// The next MsgSeqNum expected from the counterparty.
        next_target: SeqNum,
    },
    /// An application message came again that a stored reply already answers (settled out of
    /// order before a restart): it was settled without being delivered a second time.
    AlreadyProcessed {
        /// Its MsgSeqNum.
        seq: SeqNum,
    },
    /// A TestRequest went out because the counterparty was silent.
    TestRequestSent,
    /// A message went in or out, as `SessionConfig::report_messages` asks: for hooks on admin
    /// traffic, and for message logs.
    Message {
        /// Whether it was received (else sent).
        inbound: bool,
        /// The whole frame.
        frame: Bytes,
    },
    /// A Logout came from the counterparty.
    LogoutReceived {
        /// Its `Text <58>`, if any.
        text: Option<Bytes>,
    },
    /// The session's state changed (raised only when `SessionConfig::report_state_changes` is
    /// on): every change, in order, the short-lived ones included.
    StateChanged {
        /// The state it left.
        from: crate::SessionState,
        /// The state it is in now.
        to: crate::SessionState,
    },
    /// Making the store durable failed (`Output::Commit`) while the session had no connection:
    /// the messages it stored are not known to be on stable storage. With a connection, the
    /// connection closes instead ([`DisconnectReason::Store`]).
    StoreSyncFailed(StoreError),
}

/// Why a connection ended. The session outlives it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The Logout exchange completed (either side started it).
    LoggedOut,
    /// We sent a Logout and no reply came within LogoutTimeout.
    LogoutTimeout,
    /// Nothing came within 2.4 × HeartBtInt, despite a TestRequest.
    HeartbeatTimeout,
    /// No Logon (or Logon reply) came within LogonTimeout.
    LogonTimeout,
    /// The Logon was refused (silently unless `SendLogoutOnInvalidLogon`).
    LogonRefused(LogonRefusal),
    /// A message arrived with a lower MsgSeqNum than expected and no PossDupFlag.
    MsgSeqNumTooLow {
        /// The number expected.
        expected: SeqNum,
        /// The number received.
        received: SeqNum,
    },
    /// The counterparty's Logon asked for `NextExpectedMsgSeqNum <789>` above the next number we
    /// would send: it claims messages we never sent.
    NextExpectedMsgSeqNumTooHigh {
        /// The highest it could expect.
        most: SeqNum,
        /// What it asked for.
        received: SeqNum,
    },
    /// A message after logon had the wrong BeginString.
    IncorrectBeginString,
    /// A message had the wrong CompIDs.
    CompIdProblem,
    /// A message's SendingTime (or OrigSendingTime) was out of tolerance.
    SendingTimeAccuracy,
    /// A frame was larger than MaxMessageSize.
    MessageTooLarge(DecodeError),
    /// A message arrived while we were not connected or logged on in a way that fits no rule.
    ProtocolViolation,
    /// The store failed: the session cannot keep its promises, so it stops.
    Store(StoreError),
    /// The application asked for it.
    Requested,
    /// The peer stopped reading: bytes waited unwritten for SlowConsumerTimeout.
    SlowConsumer,
    /// The connection ended from the other side, or failed (end of stream, reset, I/O error),
    /// without a decision of the session's.
    ConnectionClosed,
    /// An initiator's connection ended while its Logon waited for the answer. Acceptors refuse
    /// an unknown CompID, wrong credentials or an address they do not allow this way, by
    /// closing without a word (a counterparty that failed looks the same).
    LogonUnanswered,
}

/// Why a Logon was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogonRefusal {
    /// The first message was not a Logon.
    NotLogon,
    /// A required field was missing or malformed (HeartBtInt, MsgSeqNum, SendingTime…).
    Malformed,
    /// The BeginString is not the session's.
    WrongBeginString,
    /// The CompIDs do not mirror the session's.
    CompIdMismatch,
    /// SendingTime is out of tolerance.
    SendingTime,
    /// A FIXT Logon without `DefaultApplVerID <1137>`.
    MissingDefaultApplVerId,
    /// The frame itself was garbled.
    Garbled,
    /// The application's Logon check said no.
    RefusedByApplication,
    /// The session's schedule is closed.
    OutsideSchedule,
}
