//! Errors of the application's commands to a session (caller misuse, or a store failure).

use crate::store::StoreError;

/// Why a command to a session was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session was finalized: it takes no more commands.
    #[error("the session is finalized")]
    Finalized,
    /// `put()` is for application messages; the session sends every session-level message itself.
    #[error("MsgType {0:?} is a session-level message type")]
    AdminMsgType(String),
    /// The MsgType is empty or not printable ASCII.
    #[error("MsgType is empty or not printable ASCII")]
    InvalidMsgType,
    /// A header field the session owns (8, 9, 35, 34, 49, 56, 52, 43, 122, 10) was supplied.
    #[error("tag {tag} is set by the session")]
    SessionOwnedTag {
        /// The tag.
        tag: u32,
    },
    /// The body is not a sequence of `tag=value<SOH>` fields.
    #[error("the body must be empty or end with SOH")]
    MalformedBody,
    /// The command needs a logged-on session.
    #[error("the session is not logged on")]
    NotLoggedOn,
    /// A SequenceReset-Reset must move our number forward.
    #[error("the new MsgSeqNum {new_seq} is not above the next one, {next}")]
    SeqNumNotAhead {
        /// Our next MsgSeqNum.
        next: crate::SeqNum,
        /// The number asked for.
        new_seq: crate::SeqNum,
    },
    /// The command needs the session to be disconnected.
    #[error("the session is connected")]
    Connected,
    /// The delivered message came before a sequence reset (ResetOnLogon, a reset Logon…): its
    /// MsgSeqNum belongs to the old sequence, so it can no longer be answered or settled.
    #[error("the message was delivered before a sequence reset")]
    StaleDelivery,
    /// The store failed; the message was not accepted.
    #[error(transparent)]
    Store(#[from] StoreError),
}
