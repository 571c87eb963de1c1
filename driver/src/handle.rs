//! The handles the application holds: [`FixEngine`], the unique [`Session`], and the cloneable
//! [`SessionSender`]. Each call is a command to the engine task and waits for its answer.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use fixgate_core::{
    Delivered, EngineConfig, EngineError, MessageStore, SeqNum, SessionConfig, SessionId,
};

use crate::channel::Sender;
use crate::command::{Command, SessionControl};
use crate::metrics::Metrics;
use crate::runtime::Runtime;
use crate::security::Security;
use crate::task::{Delivery, Driver};
use crate::waiting::{Outgoing, OwnedHeader};
use crate::{Application, Error, EventSink};
use fixgate_core::metrics::SessionMetrics;

/// A handle to the engine task. Cloning it is cheap; the engine task stops once every handle
/// is gone.
#[derive(Clone, Debug)]
pub struct FixEngine {
    commands: Sender<Command>,
    local_addr: Option<SocketAddr>,
}

/// The unique handle of one session: [`finalize`](Self::finalize) consumes it, so a session
/// cannot be finalized twice.
#[derive(Debug)]
pub struct Session {
    id: SessionId,
    engine: FixEngine,
}

/// A cloneable handle that can only `put()`, for the tasks that send on a session. After the
/// session is finalized its `put()` fails.
#[derive(Clone, Debug)]
pub struct SessionSender {
    id: SessionId,
    engine: FixEngine,
}

impl FixEngine {
    /// Starts the engine task on `runtime`, listening on `listen` for acceptor sessions (one
    /// port serves them all), with `security` on every connection. Application messages and
    /// events go to `events`.
    pub fn start_on<R: Runtime>(
        runtime: R,
        config: EngineConfig,
        listen: Option<SocketAddr>,
        security: Security,
        events: EventSink,
    ) -> io::Result<Self> {
        Self::spawn(runtime, config, listen, security, Delivery::Events(events))
    }

    /// [`start_on`](Self::start_on) with `app` running on the engine task: messages and events
    /// go to its callbacks, with no hop between tasks.
    pub fn start_with_app_on<R: Runtime>(
        runtime: R,
        config: EngineConfig,
        listen: Option<SocketAddr>,
        security: Security,
        app: impl Application,
    ) -> io::Result<Self> {
        Self::spawn(
            runtime,
            config,
            listen,
            security,
            Delivery::App(Box::new(app)),
        )
    }

    fn spawn<R: Runtime>(
        runtime: R,
        mut config: EngineConfig,
        listen: Option<SocketAddr>,
        security: Security,
        delivery: Delivery,
    ) -> io::Result<Self> {
        // The default session is the unregistered acceptors' configuration.
        crate::secret::read_secrets(&mut config.default_session)?;
        crate::time_zone::resolve_time_zone(&mut config.default_session)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
        let (commands, received) = crate::channel::unbounded();
        let local_addr = Driver::spawn(runtime, config, listen, security, delivery, received)?;
        Ok(Self {
            commands,
            local_addr,
        })
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
        mut config: SessionConfig,
        store: Box<dyn MessageStore + Send>,
    ) -> Result<Session, Error> {
        crate::secret::read_secrets(&mut config).map_err(Error::Secret)?;
        crate::time_zone::resolve_time_zone(&mut config)?;
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

    /// The handle of session `id`, which the engine created itself (for a Logon no session was
    /// registered for): the application takes it once, to finalize the session and send on it.
    /// Its commands fail with `UnknownSession` while no such session exists.
    pub fn adopt(&self, id: SessionId) -> Session {
        Session {
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
                answer: to_caller(answer),
            },
            wait: true,
        })
        .await
    }

    /// A snapshot for operators: every session's state, numbers and counters, the engine's
    /// refusals, and the latencies the driver measures.
    pub async fn metrics(&self) -> Result<Metrics, Error> {
        let (reply, result) = async_channel::bounded(1);
        self.commands
            .send(Command::Metrics { reply })
            .map_err(|_| Error::Stopped)?;
        result.recv().await.map_err(|_| Error::Stopped)
    }

    /// Carries out an operator's command on session `id`, any session of the engine's, and
    /// returns the session's snapshot right after it.
    pub async fn control(
        &self,
        id: SessionId,
        control: SessionControl,
    ) -> Result<SessionMetrics, Error> {
        self.call(|reply| Command::Control { id, control, reply })
            .await
    }

    /// Sends every session's Logout, waits up to their LogoutTimeout, then stops the engine task.
    pub async fn shutdown(&self) {
        let (reply, done) = async_channel::bounded(1);
        if self.commands.send(Command::Shutdown { reply }).is_ok() {
            let _ = done.recv().await;
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
                answer: to_caller(answer),
            },
            wait,
        })
        .await
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(async_channel::Sender<Result<T, EngineError>>) -> Command,
    ) -> Result<T, Error> {
        let (reply, result) = async_channel::bounded(1);
        self.commands
            .send(command(reply))
            .map_err(|_| Error::Stopped)?;
        Ok(result.recv().await.map_err(|_| Error::Stopped)??)
    }
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
        self.connect_to_any(vec![addr]).await
    }

    /// Starts the session as an initiator towards the first of `addrs`, moving on to the next
    /// after each failed connection and each disconnect (QuickFIX's `SocketConnectHost1`, …):
    /// a standby acceptor that took the session over is found in turn.
    pub async fn connect_to_any(&self, addrs: Vec<SocketAddr>) -> Result<(), Error> {
        let id = self.id.clone();
        self.engine
            .call(|reply| Command::Initiate { id, addrs, reply })
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
    ///
    /// ```no_run
    /// async fn release(session: fixgate_driver::Session) -> Result<(), fixgate_driver::Error> {
    ///     session.finalize().await
    /// }
    /// ```
    ///
    /// It takes the handle, so a second `finalize` (or any other use) does not compile:
    ///
    /// ```compile_fail,E0382
    /// async fn release(session: fixgate_driver::Session) -> Result<(), fixgate_driver::Error> {
    ///     session.finalize().await?;
    ///     session.finalize().await
    /// }
    /// ```
    pub async fn finalize(self) -> Result<(), Error> {
        let id = self.id.clone();
        self.engine
            .call(|reply| Command::Finalize { id, reply })
            .await
    }
}

/// An [`Answer`](crate::waiting::Answer) that hands the result to the caller waiting on
/// `answer`.
fn to_caller(answer: async_channel::Sender<Result<SeqNum, EngineError>>) -> crate::waiting::Answer {
    Some(Box::new(move |result| {
        let _ = answer.try_send(result);
    }))
}
