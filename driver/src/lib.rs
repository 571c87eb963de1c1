//! # fixgate-driver
//!
//! The drive loop of fixgate, written once for every runtime: the engine task that owns
//! fixgate-core's sans-IO [`Engine`](fixgate_core::Engine) and carries out its outputs, the
//! connections' readers, the writing of every connection on the engine task, the handles
//! ([`FixEngine`], [`Session`], [`SessionSender`]), the [`Application`] callbacks, waiting under
//! backpressure, graceful shutdown, and the places where TLS and socket options plug in.
//!
//! It runs over a small [`Runtime`] trait (quinn's shape): tasks, a blocking pool, one
//! resettable timer, TCP, the clock and randomness. `fixgate-tokio` and `fixgate-async-std`
//! implement it; a simulated runtime can too, since the driver takes all time and chance from
//! it and waits on its sources in a fixed order. It holds no protocol, routing or timer rule of
//! its own (DESIGN.md section 2).

#![warn(missing_docs)]

mod app;
mod channel;
mod command;
mod conn;
mod failure;
mod handle;
mod metrics;
mod runtime;
mod secret;
mod security;
mod task;
mod time_zone;
mod waiting;
mod write_queue;

use std::io;
use std::net::SocketAddr;

use fixgate_core::{Delivered, DisconnectReason, EngineError, Event, SessionId};

pub use crate::app::{Application, Context};
pub use crate::command::SessionControl;
pub use crate::failure::ConnectFailure;
pub use crate::handle::{FixEngine, Session, SessionSender};
pub use crate::metrics::{Histogram, Metrics};
pub use crate::runtime::{
    AsyncTimer, Listener, ReadBuffer, ReadHalf, Runtime, SocketOptions, TcpStream,
};
pub use crate::secret::read_secret;
pub use crate::security::Security;
#[cfg(feature = "tls")]
pub use crate::security::TlsConfig;
pub use crate::time_zone::{IanaTimeZone, resolve_time_zone};
/// The rustls crate the driver's TLS is built on, for making [`TlsConfig`]s.
#[cfg(feature = "tls")]
pub use futures_rustls::rustls;

/// Where the application's messages and events go when it reads them as a stream: called on
/// the engine task for each, so it must not block (a channel's non-blocking send).
pub type EventSink = Box<dyn FnMut(AppEvent) + Send>;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine refused it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The engine task is gone (shut down).
    #[error("the engine has stopped")]
    Stopped,
    /// The properties are invalid.
    #[error(transparent)]
    Properties(#[from] Box<fixgate_core::properties::PropertiesError>),
    /// A session's settings are invalid (an unknown `TimeZone`).
    #[error(transparent)]
    Config(#[from] fixgate_core::ConfigError),
    /// A secret setting (`Password = env:NAME` or `file:PATH`) could not be read.
    #[error("cannot read a secret: {0}")]
    Secret(io::Error),
    /// The listening port could not be opened.
    #[error("cannot listen: {0}")]
    Io(#[from] io::Error),
}

/// What the application receives.
// `Deliver` holds a message with its inline field index; boxing it would allocate per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum AppEvent {
    /// An application message, which MUST be settled with [`FixEngine::ack`] or
    /// [`FixEngine::reply`].
    Deliver {
        /// The session it came on.
        session: SessionId,
        /// The message.
        delivered: Delivered,
    },
    /// Something that happened in a session.
    Event {
        /// The session.
        session: SessionId,
        /// What happened.
        event: Event,
    },
    /// A session's connection ended; the session waits for the next one.
    Disconnected {
        /// The session.
        session: SessionId,
        /// Why.
        reason: DisconnectReason,
    },
    /// An initiator's connection could not be opened (TCP, or its TLS handshake); the session
    /// tries again after `ReconnectInterval`, backing off.
    ConnectFailed {
        /// The initiator session.
        session: SessionId,
        /// Where it connected.
        addr: SocketAddr,
        /// Why it failed.
        reason: ConnectFailure,
    },
}
