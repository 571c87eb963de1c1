//! # fixgate-tokio
//!
//! The tokio adapter: it wires fixgate-core's sans-IO [`Engine`](fixgate_core::Engine) to
//! sockets, a clock and tasks, and holds no protocol, routing or timer rule of its own (DESIGN.md
//! section 2). One task owns the engine and writes every connection itself; each connection has a
//! reader task; the application talks to the engine task through [`FixEngine`] and [`Session`]
//! handles and receives [`AppEvent`]s.
//!
//! ```no_run
//! use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId, UtcTimestamp};
//! use fixgate_tokio::{AppEvent, FixEngine};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let (engine, mut events) = FixEngine::start(Default::default(), Some("127.0.0.1:9876".parse()?)).await?;
//! let id = SessionId::new("ISLD", "TW");
//! let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
//! let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
//! let session = engine.create_session(id, config, Box::new(store)).await?;
//! session.connect().await?; // an acceptor: Logons from TW to ISLD reach it
//! while let Some(event) = events.recv().await {
//!     if let AppEvent::Deliver { session: from, delivered } = event {
//!         // Echo it back, which settles it.
//!         let msg_type = delivered.message().msg_type().to_vec();
//!         engine.reply(from, delivered, msg_type, bytes::Bytes::new()).await?;
//!     }
//! }
//! session.finalize().await?;
//! # Ok(())
//! # }
//! ```

mod driver;
mod stream;

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use fixgate_core::{
    Delivered, DisconnectReason, EngineConfig, EngineError, Event, MessageStore, SeqNum,
    SessionConfig, SessionId,
};
use tokio::sync::{mpsc, oneshot};

use crate::driver::{Command, Driver};
use crate::stream::Security;
#[cfg(feature = "tls")]
pub use crate::stream::TlsConfig;
pub use fixgate_core::engine::{Application, Context};
use fixgate_core::engine::{Outgoing, OwnedHeader};
/// The rustls crate this adapter's TLS is built on, for making [`TlsConfig`]s.
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;

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
}

/// A handle to the engine task. Cloning it is cheap.
#[derive(Clone, Debug)]
pub struct FixEngine {
    commands: mpsc::UnboundedSender<Command>,
    local_addr: Option<SocketAddr>,
}

/// The unique handle of one session: [`finalize`](Self::finalize) consumes it, so a session
/// cannot be finalized twice.
#[derive(Debug)]
pub struct Session {
    id: SessionId,
    engine: FixEngine,
}

impl FixEngine {
    /// Starts the engine task, listening on `listen` for acceptor sessions (one port serves them
    /// all). Returns the handle and the stream of application events.
    pub async fn start(
        config: EngineConfig,
        listen: Option<SocketAddr>,
    ) -> io::Result<(Self, mpsc::UnboundedReceiver<AppEvent>)> {
        Self::start_with(config, listen, Security::default(), None).await
    }

    /// [`start`](Self::start) with `app` running on the engine task: messages and events go to
    /// its callbacks instead of the event stream (which stays empty), with no hop between tasks.
    /// `tls` (feature `tls`) as in [`start_tls`](Self::start_tls).
    pub async fn start_with_app(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        #[cfg(feature = "tls")] tls: TlsConfig,
        app: impl Application,
    ) -> io::Result<Self> {
        let security = Security {
            #[cfg(feature = "tls")]
            tls,
        };
        let (engine, _) = Self::start_with(config, listen, security, Some(Box::new(app))).await?;
        Ok(engine)
    }

    /// [`start`](Self::start), with TLS on the listening port (`tls.server`) and on the
    /// connections initiators open (`tls.client`).
    #[cfg(feature = "tls")]
    pub async fn start_tls(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        tls: TlsConfig,
    ) -> io::Result<(Self, mpsc::UnboundedReceiver<AppEvent>)> {
        Self::start_with(config, listen, Security { tls }, None).await
    }

    async fn start_with(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        security: Security,
        app: Option<Box<dyn Application>>,
    ) -> io::Result<(Self, mpsc::UnboundedReceiver<AppEvent>)> {
        let (commands, events, local_addr) = Driver::spawn(config, listen, security, app).await?;
        Ok((
            Self {
                commands,
                local_addr,
            },
            events,
        ))
    }

    /// FIX Antenna's engine from its properties: the engine settings, and the listening port
    /// when `ListenPort` is set (on `ListenAddress`, default 127.0.0.1). Sessions are then made
    /// with [`create_session`](Self::create_session) (`Properties::sessions()` lists the
    /// configured ones); TLS and an [`Application`] need the other constructors.
    pub async fn new(
        properties: &fixgate_core::properties::Properties,
    ) -> Result<(Self, mpsc::UnboundedReceiver<AppEvent>), Error> {
        let config = properties.engine_config().map_err(Box::new)?;
        let listen = properties.listen_address().map_err(Box::new)?;
        Ok(Self::start(config, listen).await?)
    }

    /// The address the acceptor port is bound to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Creates a session (FIX Antenna's `createSession`); it takes no connection until
    /// [`Session::connect`] or [`Session::connect_to`].
    pub async fn create_session(
        &self,
        id: SessionId,
        config: SessionConfig,
        store: Box<dyn MessageStore + Send>,
    ) -> Result<Session, Error> {
        let session_id = id.clone();
        self.call(|reply| Command::Create {
            id,
            config,
            store,
            reply,
        })
        .await?;
        Ok(Session {
            id: session_id,
            engine: self.clone(),
        })
    }

    /// Sets the engine's sessions manager, authenticator or store factory, and anything else the
    /// core engine offers: `f` runs on the engine task.
    pub async fn with_engine(
        &self,
        f: impl FnOnce(&mut fixgate_core::Engine) + Send + 'static,
    ) -> Result<(), Error> {
        self.call(|reply| Command::With {
            f: Box::new(f),
            reply,
        })
        .await
    }

    /// A sender for session `id`, for any session: one created for an unregistered Logon, for
    /// example. Its `put()` fails with `UnknownSession` while no such session exists.
    pub fn sender(&self, id: SessionId) -> SessionSender {
        SessionSender {
            id,
            engine: self.clone(),
        }
    }

    /// Settles a delivered message that needs no reply.
    pub async fn ack(&self, session: SessionId, delivered: Delivered) -> Result<(), Error> {
        self.call(|reply| Command::Ack {
            session,
            delivered,
            reply,
        })
        .await
    }

    /// Answers a delivered message with `msg_type` and `body` (encoded fields), settling it.
    pub async fn reply(
        &self,
        session: SessionId,
        delivered: Delivered,
        msg_type: impl Into<Bytes>,
        body: Bytes,
    ) -> Result<SeqNum, Error> {
        let msg_type = msg_type.into();
        self.call(|answer| Command::Send {
            out: Outgoing::Reply {
                session,
                delivered,
                msg_type,
                header: OwnedHeader::default(),
                body,
                answer: Some(Box::new(move |result| {
                    let _ = answer.send(result);
                })),
            },
            wait: true,
        })
        .await
    }

    /// Sends every session's Logout, waits up to their LogoutTimeout, then stops the engine task.
    pub async fn shutdown(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Shutdown { reply }).is_ok() {
            let _ = done.await;
        }
    }

    /// `put()` on session `id`, for [`Session`] and [`SessionSender`]; `wait` waits out
    /// backpressure instead of failing with it.
    async fn put(
        &self,
        id: &SessionId,
        msg_type: Bytes,
        body: Bytes,
        wait: bool,
    ) -> Result<SeqNum, Error> {
        let id = id.clone();
        self.call(|answer| Command::Send {
            out: Outgoing::Put {
                id,
                msg_type,
                header: OwnedHeader::default(),
                body,
                answer: Some(Box::new(move |result| {
                    let _ = answer.send(result);
                })),
            },
            wait,
        })
        .await
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<T, EngineError>>) -> Command,
    ) -> Result<T, Error> {
        let (reply, result) = oneshot::channel();
        self.commands
            .send(command(reply))
            .map_err(|_| Error::Stopped)?;
        Ok(result.await.map_err(|_| Error::Stopped)??)
    }
}

/// A cloneable handle that can only `put()`, for the tasks that send on a session. After the
/// session is finalized its `put()` fails.
#[derive(Clone, Debug)]
pub struct SessionSender {
    id: SessionId,
    engine: FixEngine,
}

impl SessionSender {
    /// Sends an application message (`put()`): stored, then sent when logged on. While the
    /// connection holds `MaxOutboundBytes` unwritten, it waits.
    pub async fn put(&self, msg_type: impl Into<Bytes>, body: Bytes) -> Result<SeqNum, Error> {
        self.engine.put(&self.id, msg_type.into(), body, true).await
    }

    /// [`put`](Self::put) that fails with [`EngineError::Backpressure`] instead of waiting.
    pub async fn try_put(&self, msg_type: impl Into<Bytes>, body: Bytes) -> Result<SeqNum, Error> {
        self.engine
            .put(&self.id, msg_type.into(), body, false)
            .await
    }
}

impl Session {
    /// A cloneable sender for this session.
    pub fn sender(&self) -> SessionSender {
        SessionSender {
            id: self.id.clone(),
            engine: self.engine.clone(),
        }
    }

    /// The session's id.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// Registers the session as an acceptor (FIX Antenna's `connect()` without arguments).
    pub async fn connect(&self) -> Result<(), Error> {
        let id = self.id.clone();
        self.engine
            .call(|reply| Command::Register { id, reply })
            .await
    }

    /// Starts the session as an initiator towards `addr`, reconnecting as the engine decides.
    pub async fn connect_to(&self, addr: SocketAddr) -> Result<(), Error> {
        let id = self.id.clone();
        self.engine
            .call(|reply| Command::Initiate { id, addr, reply })
            .await
    }

    /// Sends an application message (`put()`): stored, then sent when logged on. While the
    /// connection holds `MaxOutboundBytes` unwritten, it waits.
    pub async fn put(&self, msg_type: impl Into<Bytes>, body: Bytes) -> Result<SeqNum, Error> {
        self.engine.put(&self.id, msg_type.into(), body, true).await
    }

    /// [`put`](Self::put) that fails with [`EngineError::Backpressure`] instead of waiting.
    pub async fn try_put(&self, msg_type: impl Into<Bytes>, body: Bytes) -> Result<SeqNum, Error> {
        self.engine
            .put(&self.id, msg_type.into(), body, false)
            .await
    }

    /// Ends the connection, with a Logout when logged on; the state stays for the next one.
    pub async fn disconnect(&self, reason: Option<String>) -> Result<(), Error> {
        let id = self.id.clone();
        self.engine
            .call(|reply| Command::Disconnect { id, reason, reply })
            .await
    }

    /// Resets both sequence numbers to 1; an error while connected.
    pub async fn reset_seq_num_local(&self) -> Result<(), Error> {
        let id = self.id.clone();
        self.engine
            .call(|reply| Command::ResetLocal { id, reply })
            .await
    }

    /// Releases the session: it leaves the engine, and this handle is gone.
    pub async fn finalize(self) -> Result<(), Error> {
        let id = self.id.clone();
        self.engine
            .call(|reply| Command::Finalize { id, reply })
            .await
    }
}
