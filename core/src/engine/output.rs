//! What the engine asks of its adapter.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::action::{DisconnectReason, Event};

use super::{ConnId, SessionId};

/// One thing for the adapter to do, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Output {
    /// Write these bytes on this connection.
    Send {
        /// The connection.
        conn: ConnId,
        /// One complete FIX message.
        bytes: Bytes,
    },
    /// Close this connection, after the bytes sent on it before.
    Close {
        /// The connection.
        conn: ConnId,
        /// Why.
        reason: CloseReason,
    },
    /// Make this session's store durable, off the engine's task, then report the outcome with
    /// [`Engine::handle_committed`](super::Engine::handle_committed). Until then the engine
    /// holds back this session's later outputs (and only this session's); after a failure they
    /// are never sent: the connection closes without a Logout.
    Commit {
        /// The session.
        session: SessionId,
    },
    /// Commands on this session were refused with `EngineError::Backpressure`, and its
    /// connection has room again (or is gone): what waits for it may be tried again.
    Drained {
        /// The session.
        session: SessionId,
    },
    /// An application message arrived on this session: take it with
    /// [`Engine::take_delivered`](super::Engine::take_delivered) and hand it to the application,
    /// which MUST settle it through the engine. The message waits in its session, so that this
    /// output stays small: an adapter moves every output several times, and a message carries its
    /// field index inline.
    Deliver {
        /// The session it came on.
        session: SessionId,
    },
    /// Something that happened in a session.
    Event {
        /// The session.
        session: SessionId,
        /// What happened.
        event: Event,
    },
    /// Stop reading this connection: its session has `MaxUnsettledMessages` application messages
    /// delivered and not yet settled. Bytes already read are still handed in.
    PauseInput {
        /// The connection.
        conn: ConnId,
    },
    /// Read this connection again (after [`PauseInput`](Self::PauseInput)).
    ResumeInput {
        /// The connection.
        conn: ConnId,
    },
    /// Open a connection for this initiator, then report it with
    /// `Engine::handle_initiator_connected` (or `handle_connect_failed`).
    Connect {
        /// The initiator session.
        session: SessionId,
        /// Where to connect.
        addr: SocketAddr,
    },
}

/// Why the engine closes a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The session on it ended the connection.
    Session {
        /// The session.
        session: SessionId,
        /// Why.
        reason: DisconnectReason,
    },
    /// The connection was refused before it reached a session. The refusal is silent: nothing was
    /// sent on it.
    Refused(Refusal),
}

impl CloseReason {
    /// Whether the bytes sent before the close are still to be written. Not for a peer that
    /// stopped reading, nor for one that fell silent despite a TestRequest: they would never be
    /// read, and the socket must close now.
    pub fn flushes(&self) -> bool {
        !matches!(
            self,
            Self::Session {
                reason: DisconnectReason::SlowConsumer | DisconnectReason::HeartbeatTimeout,
                ..
            }
        )
    }
}

/// Why a connection was refused before it reached a session (DESIGN.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// The first message was not a Logon.
    NotLogon,
    /// The first frame was garbled, or too large.
    Garbled,
    /// No registered acceptor matches the Logon's CompIDs, and none may be created.
    UnknownSession,
    /// The session's store does not let this instance act for it now: another instance owns
    /// it, or this one's lease lapsed ([`MessageStore::held_until`](crate::MessageStore::held_until)).
    /// Refused as an unknown session is.
    NotOwned,
    /// The Logon addresses one of our CompIDs that `AcceptorCompIDs` does not allow.
    CompIdNotAllowed,
    /// The sessions manager refused the unregistered session.
    RefusedByManager,
    /// The credentials did not match.
    AuthenticationFailed,
    /// The Logon came from an address the session's `AllowedRemoteAddresses` does not list.
    AddressNotAllowed,
    /// The session already has a live connection (FIX test case 1S-b).
    DuplicateIdentity,
    /// No complete Logon within LogonTimeout.
    LogonTimeout,
    /// Too many connections waiting for their Logon.
    TooManyPendingConnections,
    /// Too many connections from this IP address waiting for their Logon
    /// (`MaxPendingConnectionsPerAddress`).
    TooManyPendingFromAddress,
    /// The store of a session to be created for an unregistered Logon could not be opened.
    StoreUnavailable,
    /// This source IP failed to authenticate as this CompID too often: it is locked out for now.
    LockedOut,
    /// The engine is shutting down.
    ShuttingDown,
}
