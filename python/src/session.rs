//! `SessionId`, `FIXVersion` and `Session`: FIX Antenna's session handle.

use fixgate_core::{BeginString, OutboundMessage, Role, SessionConfig, SessionState};
use futures_lite::future::block_on;
use pyo3::prelude::*;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::callback;
use crate::engine::{Listener, Shared};
use crate::errors::{FixgateError, SessionFinalized, core_error, engine_error};
use crate::message::FixMessage;

/// A session's identity: our SenderCompID and the counterparty's (our TargetCompID).
#[pyclass(module = "fixgate", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct SessionId {
    sender: String,
    target: String,
}

impl SessionId {
    /// The Python id of the engine's `id`.
    pub(crate) fn from_core(id: &fixgate_core::SessionId) -> Self {
        Self {
            sender: id.sender_comp_id.to_string(),
            target: id.target_comp_id.to_string(),
        }
    }

    /// The engine's id.
    pub(crate) fn core(&self) -> fixgate_core::SessionId {
        fixgate_core::SessionId::new(self.sender.as_str(), self.target.as_str())
    }
}

#[pymethods]
impl SessionId {
    /// `SessionId(sender, target)`: `sender` is our CompID, `target` the counterparty's.
    #[new]
    fn new(sender: String, target: String) -> PyResult<Self> {
        if sender.is_empty() || target.is_empty() {
            return Err(FixgateError::new_err("a SessionId needs both CompIDs"));
        }
        Ok(Self { sender, target })
    }

    /// Our SenderCompID.
    #[getter]
    fn sender(&self) -> &str {
        &self.sender
    }

    /// The counterparty's CompID (our TargetCompID).
    #[getter]
    fn target(&self) -> &str {
        &self.target
    }

    /// `SessionId('SENDER', 'TARGET')`.
    fn __repr__(&self) -> String {
        format!("SessionId({:?}, {:?})", self.sender, self.target)
    }

    /// `SENDER->TARGET`.
    fn __str__(&self) -> String {
        format!("{}->{}", self.sender, self.target)
    }
}

/// The session protocol's version: the BeginString a session writes and expects.
#[pyclass(module = "fixgate", name = "FIXVersion", eq, eq_int, frozen, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FixVersion {
    /// FIX.4.0
    #[pyo3(name = "FIX40")]
    Fix40,
    /// FIX.4.1
    #[pyo3(name = "FIX41")]
    Fix41,
    /// FIX.4.2
    #[pyo3(name = "FIX42")]
    Fix42,
    /// FIX.4.3
    #[pyo3(name = "FIX43")]
    Fix43,
    /// FIX.4.4
    #[pyo3(name = "FIX44")]
    Fix44,
    /// FIXT.1.1, the transport of FIX 5.0 and later.
    #[pyo3(name = "FIXT11")]
    Fixt11,
}

impl FixVersion {
    /// The version of `begin`, the BeginString of a session.
    pub(crate) fn of(begin: BeginString) -> Self {
        match begin {
            BeginString::Fix40 => Self::Fix40,
            BeginString::Fix41 => Self::Fix41,
            BeginString::Fix42 => Self::Fix42,
            BeginString::Fix43 => Self::Fix43,
            BeginString::Fix44 => Self::Fix44,
            // FIXT.1.1, and any later transport.
            _ => Self::Fixt11,
        }
    }

    /// Its name as an application version ("FIX44"), for sessions nobody named one for.
    fn app_version(self) -> &'static str {
        match self {
            Self::Fix40 => "FIX40",
            Self::Fix41 => "FIX41",
            Self::Fix42 => "FIX42",
            Self::Fix43 => "FIX43",
            Self::Fix44 => "FIX44",
            Self::Fixt11 => "FIXT11",
        }
    }

    /// The engine's BeginString.
    pub(crate) fn begin_string(self) -> BeginString {
        match self {
            Self::Fix40 => BeginString::Fix40,
            Self::Fix41 => BeginString::Fix41,
            Self::Fix42 => BeginString::Fix42,
            Self::Fix43 => BeginString::Fix43,
            Self::Fix44 => BeginString::Fix44,
            Self::Fixt11 => BeginString::Fixt11,
        }
    }
}

/// What a session handle holds that changes.
pub(crate) struct Inner {
    /// The driver's handle; `None` once finalized.
    handle: Option<fixgate_driver::Session>,
    /// Its settings, to create it again as an initiator (`connect_to` before any other use).
    config: SessionConfig,
    /// Whether it was registered, started or sent on: its role is then settled.
    touched: bool,
}

/// A FIX session (FIX Antenna's `Session`): made by `FixEngine.create_session`, registered as an
/// acceptor by `connect()` or started as an initiator by `connect_to(host, port)`.
///
/// Calls wait for the engine with the GIL released. Inside a listener's callback (on the engine
/// thread) only `put()` and the getters may be used: `put()` on the callback's own session is
/// the reply to the message being handled, and never waits.
#[pyclass(module = "fixgate", frozen)]
pub(crate) struct Session {
    id: SessionId,
    app_version: String,
    version: FixVersion,
    engine: Arc<Shared>,
    sender: fixgate_driver::SessionSender,
    inner: Mutex<Inner>,
}

impl Session {
    /// A handle for the session `handle` that the engine created with `config`.
    pub(crate) fn new(
        id: SessionId,
        app_version: String,
        version: FixVersion,
        engine: Arc<Shared>,
        handle: fixgate_driver::Session,
        config: SessionConfig,
    ) -> Self {
        Self {
            id,
            app_version,
            version,
            sender: handle.sender(),
            engine,
            inner: Mutex::new(Inner {
                handle: Some(handle),
                config,
                touched: false,
            }),
        }
    }

    /// A handle for a session the engine created for an unregistered Logon: an acceptor already
    /// registered, so its role is settled.
    pub(crate) fn adopted(
        id: SessionId,
        version: FixVersion,
        engine: Arc<Shared>,
        handle: fixgate_driver::Session,
        config: SessionConfig,
    ) -> Self {
        let app_version = version.app_version().to_owned();
        let session = Self::new(id, app_version, version, engine, handle, config);
        session.lock().touched = true;
        session
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses a command that waits for the engine when called on the engine thread.
    fn outside_callbacks(&self, what: &str) -> PyResult<()> {
        if self.engine.is_engine_thread() {
            return Err(FixgateError::new_err(format!(
                "{what}() cannot be called inside a callback: it waits for the engine thread, \
                 which runs the callback"
            )));
        }
        Ok(())
    }

    /// Runs `f` with the driver's handle, without the GIL; `SessionFinalized` once finalized.
    fn with_handle<T: Send>(
        &self,
        py: Python<'_>,
        what: &str,
        f: impl FnOnce(&fixgate_driver::Session) -> Result<T, fixgate_driver::Error> + Send,
    ) -> PyResult<T> {
        self.outside_callbacks(what)?;
        py.allow_threads(|| {
            let mut inner = self.lock();
            inner.touched = true;
            let handle = inner.handle.as_ref().ok_or_else(|| finalized(&self.id))?;
            f(handle).map_err(engine_error)
        })
    }

    /// The state and sequence numbers: from the callback's context on the engine thread, else
    /// asked of the engine.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Option<(SessionState, u64, u64)>> {
        let id = self.id.core();
        let read = |session: &fixgate_core::Session| {
            (
                session.state(),
                session.next_sender_seq().get(),
                session.next_target_seq().get(),
            )
        };
        if let Some(found) = callback::with_frame(|ctx, _, _, _| ctx.session(&id).map(read)) {
            return Ok(found);
        }
        self.outside_callbacks("a session getter")?;
        let engine = self.engine.handle.clone();
        py.allow_threads(move || {
            let (tx, rx) = std::sync::mpsc::channel();
            block_on(engine.with_engine(move |engine| {
                let _ = tx.send(engine.session(&id).map(read));
            }))
            .map_err(engine_error)?;
            rx.recv()
                .map_err(|_| crate::errors::EngineStopped::new_err("the engine has stopped"))
        })
    }

    fn numbers(&self, py: Python<'_>) -> PyResult<(SessionState, u64, u64)> {
        self.snapshot(py)?.ok_or_else(|| finalized(&self.id))
    }
}

fn finalized(id: &SessionId) -> PyErr {
    SessionFinalized::new_err(format!("session {} was finalized", id.__str__()))
}

/// FIX Antenna's names of the session states.
pub(crate) fn state_name(state: SessionState) -> &'static str {
    match state {
        SessionState::Disconnected => "DISCONNECTED",
        SessionState::WaitForLogon => "WAIT_FOR_LOGON",
        SessionState::LogonSent => "WAIT_FOR_CONFIRM_LOGON",
        SessionState::Active => "CONNECTED",
        SessionState::LogoutSent => "WAIT_FOR_CONFIRM_LOGOUT",
        SessionState::Finalized => "FINALIZED",
    }
}

#[pymethods]
impl Session {
    /// The session's id.
    #[getter]
    fn id(&self) -> SessionId {
        self.id.clone()
    }

    /// The application version given to `create_session` ("FIX44"…).
    #[getter]
    fn app_version(&self) -> &str {
        &self.app_version
    }

    /// The FIX version given to `create_session`.
    #[getter]
    fn version(&self) -> FixVersion {
        self.version
    }

    /// FIX Antenna's `connect()`: without arguments, registers the session as an acceptor (a
    /// Logon with the mirrored CompIDs on the engine's port reaches it); `connect(hbi, host,
    /// port)` starts it as an initiator towards `host:port` with HeartBtInt `hbi` seconds, as
    /// `connect_to` does.
    #[pyo3(signature = (hbi = None, host = None, port = None))]
    fn connect(
        &self,
        py: Python<'_>,
        hbi: Option<u64>,
        host: Option<String>,
        port: Option<u16>,
    ) -> PyResult<()> {
        match (hbi, host, port) {
            (None, None, None) => {
                self.with_handle(py, "connect", |handle| block_on(handle.connect()))
            }
            (Some(hbi), Some(host), Some(port)) if hbi > 0 => {
                self.initiate(py, Some(hbi), host, port)
            }
            _ => Err(FixgateError::new_err(
                "connect() registers an acceptor; connect(hbi, host, port) starts an initiator \
                 (hbi above 0)",
            )),
        }
    }

    /// Starts the session as an initiator towards `host:port`; the engine reconnects after
    /// `ReconnectInterval` whenever the connection ends. A session not yet connected or sent on
    /// becomes an initiator; one already used as an acceptor raises (WrongRole).
    fn connect_to(&self, py: Python<'_>, host: String, port: u16) -> PyResult<()> {
        self.initiate(py, None, host, port)
    }

    /// Sends an application message (FIX Antenna's `put()`), returning its MsgSeqNum:
    /// stored, then sent at once when logged on, or with the
    /// resend after the next Logon.
    ///
    /// Inside this session's `on_new_message`, the first `put()` is the reply to the message
    /// being handled (it settles it); it never waits, and raises `BackpressureError` while the
    /// connection is full. Outside callbacks it waits for the engine with the GIL released,
    /// also while the connection is full.
    fn put(&self, py: Python<'_>, msg: PyRef<'_, FixMessage>) -> PyResult<u64> {
        let (msg_type, body) = msg.encode()?;
        drop(msg);
        let id = self.id.core();
        let inside = callback::with_frame(|ctx, session, delivered, replied| {
            let out = OutboundMessage::from_parts(&msg_type, &body);
            if *session == id && !*replied {
                let seq = ctx.try_reply(&id, delivered, out)?;
                *replied = true;
                Ok(seq.get())
            } else {
                ctx.try_send(&id, out).map(|seq| seq.get())
            }
        });
        if let Some(result) = inside {
            self.lock_free_touch();
            return result.map_err(core_error);
        }
        self.outside_callbacks("put")?;
        let sender = self.sender.clone();
        py.allow_threads(|| {
            let mut inner = self.lock();
            if inner.handle.is_none() {
                return Err(finalized(&self.id));
            }
            inner.touched = true;
            drop(inner);
            block_on(sender.put(msg_type, body.into()))
                .map(|seq| seq.get())
                .map_err(engine_error)
        })
    }

    /// Ends the connection, with a Logout (carrying `reason` as its Text) when logged on; the
    /// sequence numbers and stored messages stay for the next connection.
    #[pyo3(signature = (reason = None))]
    fn disconnect(&self, py: Python<'_>, reason: Option<String>) -> PyResult<()> {
        self.with_handle(py, "disconnect", |handle| {
            block_on(handle.disconnect(reason))
        })
    }

    /// Resets both sequence numbers to 1 (FIX Antenna's `resetSeqNumLocal`); raises while
    /// connected.
    fn reset_seq_num_local(&self, py: Python<'_>) -> PyResult<()> {
        self.with_handle(py, "reset_seq_num_local", |handle| {
            block_on(handle.reset_seq_num_local())
        })
    }

    /// Releases the session: its connection closes and it leaves the engine. Exactly once: a
    /// second call (or any later command) raises `SessionFinalized`.
    fn finalize(&self, py: Python<'_>) -> PyResult<()> {
        self.outside_callbacks("finalize")?;
        let handle = py.allow_threads(|| self.lock().handle.take());
        let handle = handle.ok_or_else(|| finalized(&self.id))?;
        self.engine.remove_listener(&self.id.core());
        py.allow_threads(|| block_on(handle.finalize()).map_err(engine_error))
    }

    /// Sets the object whose `on_new_message(session, msg)` receives this session's application
    /// messages, on the engine thread with the GIL held. It may also have
    /// `on_session_state_change(session, state)`, called with the state's name (as `state`
    /// gives it) on every change of the state, in order; `on_reject(session, direction, reason,
    /// text)` for each session-level Reject ("received" or "sent"; a `RejectReason`, the
    /// reason's label such as "required_tag_missing" with its 373 number as `.code`; the
    /// Reject's Text, None when a received one has none); and `on_disconnect(session, reason)`
    /// with the label of why the connection ended ("logged_out", "heartbeat_timeout"…). Each
    /// of those is called only if the listener defines it. A callback that returns without a
    /// reply acks the message; one that raises settles nothing (the traceback is printed).
    fn set_listener(slf: &Bound<'_, Self>, listener: Bound<'_, PyAny>) -> PyResult<()> {
        let this = slf.get();
        // Without the GIL: a thread that holds the lock may wait for the engine thread, which
        // may wait for the GIL to run a callback.
        if slf.py().allow_threads(|| this.lock().handle.is_none()) {
            return Err(finalized(&this.id));
        }
        if !listener.hasattr("on_new_message")? {
            return Err(FixgateError::new_err(
                "a listener needs an on_new_message(session, msg) method",
            ));
        }
        this.engine.set_listener(
            this.id.core(),
            Listener {
                session: slf.clone().unbind(),
                listener: listener.unbind(),
            },
        );
        Ok(())
    }

    /// The session's state: DISCONNECTED, WAIT_FOR_LOGON, WAIT_FOR_CONFIRM_LOGON, CONNECTED,
    /// WAIT_FOR_CONFIRM_LOGOUT or FINALIZED.
    #[getter]
    fn state(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(self
            .snapshot(py)?
            .map_or("FINALIZED", |(state, _, _)| state_name(state)))
    }

    /// The MsgSeqNum of the next message this session sends.
    #[getter]
    fn next_sender_seq_num(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.numbers(py)?.1)
    }

    /// The MsgSeqNum this session expects next from the counterparty.
    #[getter]
    fn next_target_seq_num(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.numbers(py)?.2)
    }

    /// `Session(SessionId(...))`.
    fn __repr__(&self) -> String {
        format!("Session({})", self.id.__repr__())
    }
}

impl Session {
    /// Starts the session as an initiator towards `host:port` (`connect_to`, FIX Antenna's
    /// `connect(hbi, host, port)`): one not yet used is made again as an initiator, with
    /// HeartBtInt `hbi` seconds when given.
    fn initiate(&self, py: Python<'_>, hbi: Option<u64>, host: String, port: u16) -> PyResult<()> {
        self.outside_callbacks("connect_to")?;
        let engine = self.engine.handle.clone();
        let id = self.id.core();
        py.allow_threads(|| {
            let addr: SocketAddr = (host.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| FixgateError::new_err(format!("{host}:{port}: {e}")))?
                .next()
                .ok_or_else(|| FixgateError::new_err(format!("{host}:{port}: no address")))?;
            let mut inner = self.lock();
            if !inner.touched && inner.config.role == Role::Acceptor {
                let handle = inner.handle.take().ok_or_else(|| finalized(&self.id))?;
                block_on(handle.finalize()).map_err(engine_error)?;
                inner.config.role = Role::Initiator;
                if let Some(hbi) = hbi {
                    inner.config.heart_bt_int = std::time::Duration::from_secs(hbi);
                }
                let store = self.engine.open_store(&id)?;
                let created = block_on(engine.create_session(id, inner.config.clone(), store))
                    .map_err(engine_error)?;
                inner.handle = Some(created);
            }
            inner.touched = true;
            let handle = inner.handle.as_ref().ok_or_else(|| finalized(&self.id))?;
            block_on(handle.connect_to(addr)).map_err(engine_error)
        })
    }

    /// Notes a use made inside a callback, where the lock is not taken (a thread outside may
    /// hold it while it waits for the engine thread).
    fn lock_free_touch(&self) {
        if let Ok(mut inner) = self.inner.try_lock() {
            inner.touched = true;
        }
    }
}
