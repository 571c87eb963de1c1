//! What an operator reads about sessions and the engine: plain counters, kept as the messages go
//! by and handed out as snapshots ([`Engine::metrics`](crate::Engine::metrics),
//! [`Session::counters`](crate::Session::counters)). Nothing here reads a clock or does I/O; the
//! driver adds what only it can measure (latencies) and the exporters format it.

use std::fmt;
use std::marker::PhantomData;
use std::time::Instant;

use crate::action::DisconnectReason;
use crate::engine::{Refusal, SessionId};
use crate::reject::SessionRejectReason;
use crate::session::SessionState;
use crate::{Role, SeqNum};

/// A kind of reason that [`Counts`] counts by: each reason has an index below
/// [`LABELS`](Self::LABELS)`.len()` and a label (lower snake case, for Prometheus labels and
/// JSON keys). Sealed: the kinds are core's own, each with at most 24 reasons.
pub trait Reason: sealed::Sealed {
    /// The labels of every reason, by index.
    const LABELS: &'static [&'static str];
    /// The reason's index into [`LABELS`](Self::LABELS).
    fn index(&self) -> usize;
    /// The reason's label.
    fn label(&self) -> &'static str {
        Self::LABELS[self.index()]
    }
}

/// The most reasons any [`Reason`] has.
const MAX_REASONS: usize = 24;

mod sealed {
    /// Only core's kinds of reason are [`Reason`](super::Reason)s.
    pub trait Sealed {}
    impl Sealed for super::RejectKind {}
    impl Sealed for crate::action::DisconnectReason {}
    impl Sealed for crate::engine::Refusal {}
    impl Sealed for crate::session::SessionState {}
}

/// A count per reason.
pub struct Counts<R> {
    counts: [u64; MAX_REASONS],
    reason: PhantomData<fn(R)>,
}

impl<R: Reason> Counts<R> {
    /// Counts one more `reason`.
    #[inline]
    pub(crate) fn add(&mut self, reason: &R) {
        const { assert!(R::LABELS.len() <= MAX_REASONS) };
        self.counts[reason.index()] += 1;
    }

    /// How many times `reason` was counted.
    pub fn get(&self, reason: &R) -> u64 {
        self.counts[reason.index()]
    }

    /// The count of the reason labelled `label` (0 for a label no reason has).
    pub fn by_label(&self, label: &str) -> u64 {
        R::LABELS
            .iter()
            .position(|l| *l == label)
            .map_or(0, |i| self.counts[i])
    }

    /// Every reason's label and count, zeros included, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        R::LABELS.iter().copied().zip(self.counts.iter().copied())
    }

    /// All counts added up.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

impl<R> Default for Counts<R> {
    fn default() -> Self {
        Self {
            counts: [0; MAX_REASONS],
            reason: PhantomData,
        }
    }
}

impl<R> Clone for Counts<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Counts<R> {}

impl<R> PartialEq for Counts<R> {
    fn eq(&self, other: &Self) -> bool {
        self.counts == other.counts
    }
}

impl<R> Eq for Counts<R> {}

impl<R: Reason> fmt::Debug for Counts<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().filter(|(_, n)| *n > 0))
            .finish()
    }
}

/// The reason of a session-level Reject, sent or received: a `SessionRejectReason <373>`, or
/// [`Unknown`](Self::Unknown) for a received Reject without one or with a value we do not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectKind {
    /// A known `SessionRejectReason <373>`.
    Reason(SessionRejectReason),
    /// No `SessionRejectReason <373>`, or a value outside FIX's list.
    Unknown,
}

impl RejectKind {
    /// The kind of a received Reject whose `SessionRejectReason <373>` is `code`.
    pub fn from_code(code: Option<u32>) -> Self {
        code.and_then(SessionRejectReason::from_code)
            .map_or(Self::Unknown, Self::Reason)
    }
}

impl Reason for RejectKind {
    const LABELS: &'static [&'static str] = &[
        "invalid_tag_number",
        "required_tag_missing",
        "tag_not_defined_for_message_type",
        "undefined_tag",
        "tag_without_value",
        "value_out_of_range",
        "incorrect_data_format",
        "comp_id_problem",
        "sending_time_accuracy",
        "invalid_msg_type",
        "tag_appears_more_than_once",
        "tag_out_of_order",
        "repeating_group_out_of_order",
        "incorrect_num_in_group",
        "other",
        "unknown",
    ];

    fn index(&self) -> usize {
        use SessionRejectReason as R;
        match self {
            Self::Reason(reason) => match *reason {
                R::InvalidTagNumber => 0,
                R::RequiredTagMissing => 1,
                R::TagNotDefinedForMessageType => 2,
                R::UndefinedTag => 3,
                R::TagWithoutValue => 4,
                R::ValueOutOfRange => 5,
                R::IncorrectDataFormat => 6,
                R::CompIdProblem => 7,
                R::SendingTimeAccuracy => 8,
                R::InvalidMsgType => 9,
                R::TagAppearsMoreThanOnce => 10,
                R::TagOutOfOrder => 11,
                R::RepeatingGroupOutOfOrder => 12,
                R::IncorrectNumInGroup => 13,
                R::Other => 14,
            },
            Self::Unknown => 15,
        }
    }
}

impl Reason for DisconnectReason {
    const LABELS: &'static [&'static str] = &[
        "logged_out",
        "logout_timeout",
        "heartbeat_timeout",
        "logon_timeout",
        "logon_refused",
        "msg_seq_num_too_low",
        "next_expected_msg_seq_num_too_high",
        "incorrect_begin_string",
        "comp_id_problem",
        "sending_time_accuracy",
        "message_too_large",
        "protocol_violation",
        "store",
        "requested",
        "slow_consumer",
        "connection_closed",
        "logon_unanswered",
    ];

    fn index(&self) -> usize {
        match self {
            Self::LoggedOut => 0,
            Self::LogoutTimeout => 1,
            Self::HeartbeatTimeout => 2,
            Self::LogonTimeout => 3,
            Self::LogonRefused(_) => 4,
            Self::MsgSeqNumTooLow { .. } => 5,
            Self::NextExpectedMsgSeqNumTooHigh { .. } => 6,
            Self::IncorrectBeginString => 7,
            Self::CompIdProblem => 8,
            Self::SendingTimeAccuracy => 9,
            Self::MessageTooLarge(_) => 10,
            Self::ProtocolViolation => 11,
            Self::Store(_) => 12,
            Self::Requested => 13,
            Self::SlowConsumer => 14,
            Self::ConnectionClosed => 15,
            Self::LogonUnanswered => 16,
        }
    }
}

impl Reason for Refusal {
    const LABELS: &'static [&'static str] = &[
        "not_logon",
        "garbled",
        "unknown_session",
        "comp_id_not_allowed",
        "refused_by_manager",
        "authentication_failed",
        "address_not_allowed",
        "duplicate_identity",
        "logon_timeout",
        "too_many_pending_connections",
        "too_many_pending_from_address",
        "store_unavailable",
        "locked_out",
        "shutting_down",
        "not_owned",
    ];

    fn index(&self) -> usize {
        match self {
            Self::NotLogon => 0,
            Self::Garbled => 1,
            Self::UnknownSession => 2,
            Self::CompIdNotAllowed => 3,
            Self::RefusedByManager => 4,
            Self::AuthenticationFailed => 5,
            Self::AddressNotAllowed => 6,
            Self::DuplicateIdentity => 7,
            Self::LogonTimeout => 8,
            Self::TooManyPendingConnections => 9,
            Self::TooManyPendingFromAddress => 10,
            Self::StoreUnavailable => 11,
            Self::LockedOut => 12,
            Self::ShuttingDown => 13,
            Self::NotOwned => 14,
        }
    }
}

impl Reason for SessionState {
    const LABELS: &'static [&'static str] = &[
        "disconnected",
        "wait_for_logon",
        "logon_sent",
        "active",
        "logout_sent",
        "finalized",
    ];

    fn index(&self) -> usize {
        match self {
            Self::Disconnected => 0,
            Self::WaitForLogon => 1,
            Self::LogonSent => 2,
            Self::Active => 3,
            Self::LogoutSent => 4,
            Self::Finalized => 5,
        }
    }
}

/// What one session counted since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionCounters {
    /// Application messages received (every decoded one, resent copies included).
    pub app_messages_in: u64,
    /// Session-level messages received.
    pub admin_messages_in: u64,
    /// Application messages sent (resent copies included).
    pub app_messages_out: u64,
    /// Session-level messages sent.
    pub admin_messages_out: u64,
    /// Bytes received on the session's connections.
    pub bytes_in: u64,
    /// Bytes sent on the session's connections.
    pub bytes_out: u64,
    /// ResendRequests received.
    pub resend_requests_in: u64,
    /// ResendRequests sent.
    pub resend_requests_out: u64,
    /// SequenceReset-GapFills received.
    pub gap_fills_in: u64,
    /// SequenceReset-GapFills sent.
    pub gap_fills_out: u64,
    /// Session-level Rejects sent, by reason.
    pub rejects_sent: Counts<RejectKind>,
    /// Session-level Rejects received, by reason.
    pub rejects_received: Counts<RejectKind>,
    /// Connections that ended, by reason.
    pub disconnects: Counts<DisconnectReason>,
}

/// A snapshot of one session.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionMetrics {
    /// The session.
    pub id: SessionId,
    /// Acceptor or initiator.
    pub role: Role,
    /// Its state.
    pub state: SessionState,
    /// Whether a connection is linked to it.
    pub connected: bool,
    /// The `MsgSeqNum <34>` of the next message it sends.
    pub next_sender_seq: SeqNum,
    /// The `MsgSeqNum <34>` it expects next.
    pub next_target_seq: SeqNum,
    /// What it counted.
    pub counters: SessionCounters,
    /// Application messages delivered and not yet settled.
    pub unsettled: usize,
    /// Messages received ahead of a gap, waiting for it to be filled.
    pub queued_out_of_order: usize,
    /// Outbound messages held behind a resend in progress or our unanswered Logon.
    pub held_messages: usize,
    /// Bytes handed to the adapter and not yet written: the connection's backpressure.
    pub unwritten_bytes: usize,
    /// Whether `put()` meets backpressure now (`MaxOutboundBytes` unwritten).
    pub backpressured: bool,
    /// When the last message came in, by the times the engine was given; `None` before any.
    pub last_received: Option<Instant>,
    /// When the last message went out; `None` before any.
    pub last_sent: Option<Instant>,
}

/// A snapshot of the engine and every session.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct EngineMetrics {
    /// Connections open and waiting for their Logon.
    pub pending_logon: usize,
    /// Connections refused before they reached a session, by reason.
    pub refusals: Counts<Refusal>,
    /// Every session, in the order of their ids.
    pub sessions: Vec<SessionMetrics>,
}

impl EngineMetrics {
    /// The number of sessions in each state, by [`SessionState`]'s labels.
    pub fn sessions_by_state(&self) -> Counts<SessionState> {
        let mut counts = Counts::default();
        for session in &self.sessions {
            counts.add(&session.state);
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::action::LogonRefusal;
    use crate::codec::DecodeError;
    use crate::store::StoreError;

    /// Checks that `reasons` (every variant of `R`) map to distinct indices that cover
    /// `R::LABELS` exactly, and that the labels are distinct and fit a [`Counts`].
    fn check<R: Reason>(reasons: &[R]) {
        let name = std::any::type_name::<R>();
        assert!(R::LABELS.len() <= MAX_REASONS, "{name}: too many labels");
        let indices: BTreeSet<usize> = reasons.iter().map(Reason::index).collect();
        assert_eq!(
            indices.len(),
            reasons.len(),
            "{name}: two variants share an index"
        );
        let expected: BTreeSet<usize> = (0..R::LABELS.len()).collect();
        assert_eq!(indices, expected, "{name}: indices do not cover LABELS");
        let labels: BTreeSet<&str> = R::LABELS.iter().copied().collect();
        assert_eq!(labels.len(), R::LABELS.len(), "{name}: a label repeats");
        // Counted and read back by label.
        let mut counts = Counts::<R>::default();
        for reason in reasons {
            counts.add(reason);
        }
        for reason in reasons {
            assert_eq!(
                counts.by_label(reason.label()),
                1,
                "{name}: {}",
                reason.label()
            );
        }
        assert_eq!(counts.total(), reasons.len() as u64);
    }

    #[test]
    fn reject_kinds_cover_their_labels() {
        let mut kinds: Vec<RejectKind> = (0..=99)
            .filter_map(SessionRejectReason::from_code)
            .map(RejectKind::Reason)
            .collect();
        // Every variant is listed above: a new one fails to compile here until it is added.
        for kind in &kinds {
            let RejectKind::Reason(reason) = kind else {
                unreachable!()
            };
            match reason {
                SessionRejectReason::InvalidTagNumber
                | SessionRejectReason::RequiredTagMissing
                | SessionRejectReason::TagNotDefinedForMessageType
                | SessionRejectReason::UndefinedTag
                | SessionRejectReason::TagWithoutValue
                | SessionRejectReason::ValueOutOfRange
                | SessionRejectReason::IncorrectDataFormat
                | SessionRejectReason::CompIdProblem
                | SessionRejectReason::SendingTimeAccuracy
                | SessionRejectReason::InvalidMsgType
                | SessionRejectReason::TagAppearsMoreThanOnce
                | SessionRejectReason::TagOutOfOrder
                | SessionRejectReason::RepeatingGroupOutOfOrder
                | SessionRejectReason::IncorrectNumInGroup
                | SessionRejectReason::Other => {}
            }
        }
        assert_eq!(kinds.len(), 15);
        kinds.push(RejectKind::Unknown);
        check(&kinds);
        assert_eq!(RejectKind::from_code(Some(5)).label(), "value_out_of_range");
        assert_eq!(RejectKind::from_code(Some(7)), RejectKind::Unknown);
        assert_eq!(RejectKind::from_code(None), RejectKind::Unknown);
    }

    #[test]
    fn disconnect_reasons_cover_their_labels() {
        let seq = SeqNum::FIRST;
        let reasons = [
            DisconnectReason::LoggedOut,
            DisconnectReason::LogoutTimeout,
            DisconnectReason::HeartbeatTimeout,
            DisconnectReason::LogonTimeout,
            DisconnectReason::LogonRefused(LogonRefusal::NotLogon),
            DisconnectReason::MsgSeqNumTooLow {
                expected: seq,
                received: seq,
            },
            DisconnectReason::NextExpectedMsgSeqNumTooHigh {
                most: seq,
                received: seq,
            },
            DisconnectReason::IncorrectBeginString,
            DisconnectReason::CompIdProblem,
            DisconnectReason::SendingTimeAccuracy,
            DisconnectReason::MessageTooLarge(DecodeError::NotAFrame),
            DisconnectReason::ProtocolViolation,
            DisconnectReason::Store(StoreError::Io(std::io::ErrorKind::Other)),
            DisconnectReason::Requested,
            DisconnectReason::SlowConsumer,
            DisconnectReason::ConnectionClosed,
            DisconnectReason::LogonUnanswered,
        ];
        // Every variant is listed above: a new one fails to compile here until it is added.
        for reason in &reasons {
            match reason {
                DisconnectReason::LoggedOut
                | DisconnectReason::LogoutTimeout
                | DisconnectReason::HeartbeatTimeout
                | DisconnectReason::LogonTimeout
                | DisconnectReason::LogonRefused(_)
                | DisconnectReason::MsgSeqNumTooLow { .. }
                | DisconnectReason::NextExpectedMsgSeqNumTooHigh { .. }
                | DisconnectReason::IncorrectBeginString
                | DisconnectReason::CompIdProblem
                | DisconnectReason::SendingTimeAccuracy
                | DisconnectReason::MessageTooLarge(_)
                | DisconnectReason::ProtocolViolation
                | DisconnectReason::Store(_)
                | DisconnectReason::Requested
                | DisconnectReason::SlowConsumer
                | DisconnectReason::ConnectionClosed
                | DisconnectReason::LogonUnanswered => {}
            }
        }
        check(&reasons);
    }

    #[test]
    fn refusals_cover_their_labels() {
        let refusals = [
            Refusal::NotLogon,
            Refusal::Garbled,
            Refusal::UnknownSession,
            Refusal::CompIdNotAllowed,
            Refusal::RefusedByManager,
            Refusal::AuthenticationFailed,
            Refusal::AddressNotAllowed,
            Refusal::DuplicateIdentity,
            Refusal::LogonTimeout,
            Refusal::TooManyPendingConnections,
            Refusal::TooManyPendingFromAddress,
            Refusal::StoreUnavailable,
            Refusal::LockedOut,
            Refusal::ShuttingDown,
            Refusal::NotOwned,
        ];
        // Every variant is listed above: a new one fails to compile here until it is added.
        for refusal in &refusals {
            match refusal {
                Refusal::NotLogon
                | Refusal::Garbled
                | Refusal::UnknownSession
                | Refusal::CompIdNotAllowed
                | Refusal::RefusedByManager
                | Refusal::AuthenticationFailed
                | Refusal::AddressNotAllowed
                | Refusal::DuplicateIdentity
                | Refusal::LogonTimeout
                | Refusal::TooManyPendingConnections
                | Refusal::TooManyPendingFromAddress
                | Refusal::StoreUnavailable
                | Refusal::LockedOut
                | Refusal::ShuttingDown
                | Refusal::NotOwned => {}
            }
        }
        check(&refusals);
    }

    #[test]
    fn session_states_cover_their_labels() {
        let states = [
            SessionState::Disconnected,
            SessionState::WaitForLogon,
            SessionState::LogonSent,
            SessionState::Active,
            SessionState::LogoutSent,
            SessionState::Finalized,
        ];
        // Every variant is listed above: a new one fails to compile here until it is added.
        for state in &states {
            match state {
                SessionState::Disconnected
                | SessionState::WaitForLogon
                | SessionState::LogonSent
                | SessionState::Active
                | SessionState::LogoutSent
                | SessionState::Finalized => {}
            }
        }
        check(&states);
    }
}
