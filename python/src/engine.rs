//! `FixEngine`: the engine on a thread of its own (a current-thread tokio runtime), and the
//! application that calls the Python listeners there.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::{JoinHandle, ThreadId};
use std::time::SystemTime;

use fixgate_core::codec::Message;
use fixgate_core::metrics::{Reason, RejectKind};
use fixgate_core::properties::Properties;
use fixgate_core::{
    AcceptAll, ConfigError, Delivered, DisconnectReason, Event, MemoryStore, MessageStore, Role,
    SessionConfig, SessionDecision, SessionId, SessionsManager, UtcTimestamp,
};
use fixgate_driver::{Application, Context, Security};
use futures_lite::future::block_on;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::callback;
use crate::errors::{EngineStopped, FixgateError, InvalidSetting, UnknownSetting, engine_error};
use crate::message::FixMessage;
use crate::session::{self, FixVersion, Session, SessionId as PySessionId};

/// The engine running in this process, if any: one per process.
static RUNNING: Mutex<Option<Arc<Shared>>> = Mutex::new(None);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A session's listener and the Python session handle it is given.
pub(crate) struct Listener {
    /// The `Session` object passed to the callbacks.
    pub(crate) session: Py<Session>,
    /// The object with `on_new_message`.
    pub(crate) listener: Py<PyAny>,
}

type Listeners = Arc<Mutex<HashMap<SessionId, Listener>>>;

/// Where sessions keep their messages (`StorageType`, `StorageDirectory`).
#[derive(Clone, Debug)]
pub(crate) enum Storage {
    /// `StorageType = memory` (the default): a `MemoryStore` per session.
    Memory,
    /// `StorageType = file`: fixgate's `FileStore`, one folder per session under this one.
    File(PathBuf),
}

impl Storage {
    /// The properties' storage: `StorageType` (memory, the default, or file) and, for files,
    /// `StorageDirectory` (default `./fixgate-data`).
    fn of(properties: &Properties) -> PyResult<Self> {
        match properties.get("StorageType").unwrap_or("memory") {
            "memory" => Ok(Self::Memory),
            "file" => Ok(Self::File(PathBuf::from(
                properties
                    .get("StorageDirectory")
                    .unwrap_or("./fixgate-data"),
            ))),
            other => Err(FixgateError::new_err(format!(
                "StorageType: {other:?} is neither memory nor file"
            ))),
        }
    }

    /// A store for session `id`, created at `now` if new: a file store replays its folder.
    fn open(
        &self,
        id: &SessionId,
        now: UtcTimestamp,
    ) -> Result<Box<dyn MessageStore + Send>, fixgate_store::OpenError> {
        match self {
            Self::Memory => Ok(Box::new(MemoryStore::new(now))),
            Self::File(dir) => Ok(Box::new(fixgate_store::FileStore::open(
                fixgate_store::session_folder(dir, id),
                now,
            )?)),
        }
    }
}

/// The sessions the Python sessions manager accepted, waiting to be given to its
/// `on_session_created` at their first callback.
type Created = Arc<Mutex<HashSet<SessionId>>>;

/// What the engine's handles share.
pub(crate) struct Shared {
    /// The driver's engine handle.
    pub(crate) handle: fixgate_driver::FixEngine,
    /// The listeners, by session.
    listeners: Listeners,
    /// The engine thread.
    thread: ThreadId,
    join: Mutex<Option<JoinHandle<()>>>,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    /// The sessions the properties configure (`Session.<name>.*`), by id.
    configured: Mutex<HashMap<SessionId, SessionConfig>>,
    /// The template of other sessions (`Session.Default.*`).
    default_session: Mutex<SessionConfig>,
    /// Where sessions keep their messages.
    storage: Storage,
    /// The Python sessions manager, if one is set.
    manager: Arc<Mutex<Option<Py<PyAny>>>>,
    /// The sessions it accepted, not yet given to its `on_session_created`.
    created: Created,
}

impl Shared {
    /// Whether the caller runs on the engine thread.
    pub(crate) fn is_engine_thread(&self) -> bool {
        std::thread::current().id() == self.thread
    }

    /// Sets session `id`'s listener.
    pub(crate) fn set_listener(&self, id: SessionId, listener: Listener) {
        lock(&self.listeners).insert(id, listener);
    }

    /// Forgets session `id`'s listener.
    pub(crate) fn remove_listener(&self, id: &SessionId) {
        lock(&self.listeners).remove(id);
    }

    /// A store for session `id`, as the properties' `StorageType` says.
    pub(crate) fn open_store(&self, id: &SessionId) -> PyResult<Box<dyn MessageStore + Send>> {
        self.storage
            .open(id, UtcTimestamp::from_system_time(SystemTime::now()))
            .map_err(|e| FixgateError::new_err(format!("cannot open the store of {id}: {e}")))
    }

    /// Logs every session out, stops the engine thread and waits for it (without the GIL).
    fn stop(&self) {
        if let Some(stop) = lock(&self.stop).take() {
            let _ = stop.send(());
        }
        if let Some(join) = lock(&self.join).take() {
            let _ = join.join();
        }
    }
}

/// The sessions manager on the engine thread: it asks the Python object's
/// `on_unregistered_acceptor(session_id, logon)` whether to accept.
struct PyManager {
    manager: Py<PyAny>,
    created: Created,
}

impl SessionsManager for PyManager {
    fn on_unregistered_logon(&mut self, id: &SessionId, logon: &Message) -> SessionDecision {
        let accepted = Python::with_gil(|py| {
            let msg = Py::new(py, FixMessage::lent(logon.clone()))?;
            let answer = self.manager.call_method1(
                py,
                "on_unregistered_acceptor",
                (PySessionId::from_core(id), msg.clone_ref(py)),
            );
            if let Ok(mut lent) = msg.try_borrow_mut(py) {
                lent.expire();
            }
            answer?.bind(py).is_truthy()
        })
        .unwrap_or_else(|error: PyErr| {
            tracing::error!(%id, "on_unregistered_acceptor raised: the Logon is refused");
            Python::with_gil(|py| error.print(py));
            false
        });
        if !accepted {
            return SessionDecision::Refuse;
        }
        lock(&self.created).insert(id.clone());
        SessionDecision::Accept
    }
}

/// The application on the engine thread: each message goes to its session's listener.
struct PyApp {
    listeners: Listeners,
    /// The engine's shared state, once started (for the handles of created sessions).
    shared: Arc<OnceLock<Weak<Shared>>>,
    /// The Python sessions manager, if one is set.
    manager: Arc<Mutex<Option<Py<PyAny>>>>,
    /// The sessions it accepted, not yet given to its `on_session_created`.
    created: Created,
}

impl PyApp {
    /// The listener of `session`, with the GIL.
    fn listener(&self, py: Python<'_>, session: &SessionId) -> Option<(Py<Session>, Py<PyAny>)> {
        lock(&self.listeners)
            .get(session)
            .map(|entry| (entry.session.clone_ref(py), entry.listener.clone_ref(py)))
    }

    /// Gives a session the sessions manager accepted to its `on_session_created(session)`, at
    /// the session's first callback (before its first message), so that it can set a listener.
    fn announce(&mut self, ctx: &mut Context<'_>, session: &SessionId) {
        if !lock(&self.created).remove(session) {
            return;
        }
        let Some(shared) = self.shared.get().and_then(Weak::upgrade) else {
            return;
        };
        let Some(config) = ctx.session(session).map(|s| s.config().clone()) else {
            return;
        };
        Python::with_gil(|py| {
            let Some(manager) = lock(&self.manager).as_ref().map(|m| m.clone_ref(py)) else {
                return;
            };
            let manager = manager.bind(py);
            if !manager.hasattr("on_session_created").unwrap_or(false) {
                return;
            }
            let handle = shared.handle.adopt(session.clone());
            let created = Session::adopted(
                PySessionId::from_core(session),
                FixVersion::of(config.begin_string),
                shared.clone(),
                handle,
                config,
            );
            let (result, _) = callback::enter_without_message(ctx, || {
                manager.call_method1("on_session_created", (created,))
            });
            if let Err(error) = result {
                tracing::error!(%session, "on_session_created raised");
                error.print(py);
            }
        });
    }
}

impl PyApp {
    /// Calls the listener's `name(session, *args)` if the listener of `session` defines it
    /// (`on_reject`, `on_disconnect`); what it raises is printed.
    fn call_optional(
        &self,
        ctx: &mut Context<'_>,
        session: &SessionId,
        name: &str,
        args: impl for<'py> FnOnce(Python<'py>) -> Vec<Bound<'py, PyAny>>,
    ) {
        Python::with_gil(|py| {
            let Some((ssn, listener)) = self.listener(py, session) else {
                return;
            };
            let listener = listener.bind(py);
            if !listener.hasattr(name).unwrap_or(false) {
                return;
            }
            let mut all = vec![ssn.into_bound(py).into_any()];
            all.extend(args(py));
            let (result, _) = callback::enter_without_message(ctx, || {
                PyTuple::new(py, all).and_then(|args| listener.call_method1(name, args))
            });
            if let Err(error) = result {
                tracing::error!(%session, "{name} raised");
                error.print(py);
            }
        });
    }

    /// Tells the listener's `on_reject(session, direction, reason, text)` of a session-level
    /// Reject: direction "received" or "sent"; reason a `RejectReason`, the core's label of its
    /// SessionRejectReason (metrics' `RejectKind`) with the `SessionRejectReason <373>` number as
    /// its `code`; text the Reject's `Text <58>` (received: None when it had none).
    fn rejected(&self, ctx: &mut Context<'_>, session: &SessionId, event: &Event) {
        let (direction, kind, code, text) = match event {
            Event::RejectReceived { reason, text, .. } => (
                "received",
                RejectKind::from_code(*reason),
                *reason,
                text.as_ref()
                    .map(|text| String::from_utf8_lossy(text).into_owned()),
            ),
            Event::RejectSent { reason, tag, .. } => {
                let text = match tag {
                    Some(tag) => format!("{} (tag {tag})", reason.text()),
                    None => reason.text().to_owned(),
                };
                (
                    "sent",
                    RejectKind::Reason(*reason),
                    Some(reason.code()),
                    Some(text),
                )
            }
            _ => return,
        };
        self.call_optional(ctx, session, "on_reject", |py| {
            let reason = reject_reason(py, kind.label(), code).unwrap_or_else(|error| {
                error.print(py);
                PyString::new(py, kind.label()).into_any()
            });
            vec![
                PyString::new(py, direction).into_any(),
                reason,
                match &text {
                    Some(text) => PyString::new(py, text).into_any(),
                    None => py.None().into_bound(py),
                },
            ]
        });
    }

    /// Tells the listener's `on_session_state_change(session, state)` of a change of the
    /// session's state (the core raises one event per change, in order).
    fn state_changed(&self, ctx: &mut Context<'_>, session: &SessionId, event: &Event) {
        // Finalized is not told: `finalize()` forgets the listener first, and `connect_to()`
        // finalizes the unused acceptor it replaces with an initiator of the same id.
        if let Event::StateChanged { to, .. } = event
            && *to != fixgate_core::SessionState::Finalized
        {
            let name = session::state_name(*to);
            self.call_optional(ctx, session, "on_session_state_change", |py| {
                vec![PyString::new(py, name).into_any()]
            });
        }
    }
}

/// `fixgate.RejectReason(label, code)`: a `str` (the label) that also carries the
/// `SessionRejectReason <373>` number.
fn reject_reason<'py>(
    py: Python<'py>,
    label: &str,
    code: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    static CLASS: pyo3::sync::GILOnceCell<Py<PyAny>> = pyo3::sync::GILOnceCell::new();
    let class = CLASS.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("fixgate")?.getattr("RejectReason")?.unbind())
    })?;
    class.bind(py).call1((label, code))
}

impl Application for PyApp {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        self.announce(ctx, session);
        let settled = Python::with_gil(|py| {
            let Some((ssn, listener)) = self.listener(py, session) else {
                return false;
            };
            let msg = match Py::new(py, FixMessage::lent(delivered.message().clone())) {
                Ok(msg) => msg,
                Err(error) => {
                    error.print(py);
                    return true;
                }
            };
            let (result, replied) = callback::enter(ctx, session, delivered, || {
                listener.call_method1(py, "on_new_message", (ssn, msg.clone_ref(py)))
            });
            if let Ok(mut lent) = msg.try_borrow_mut(py) {
                lent.expire();
            }
            match result {
                Ok(_) => replied,
                Err(error) => {
                    tracing::error!(%session, "on_new_message raised: the message stays unsettled");
                    error.print(py);
                    true
                }
            }
        });
        if !settled && let Err(error) = ctx.ack(session, delivered) {
            tracing::warn!(%session, %error, "cannot acknowledge a message");
        }
    }

    fn on_event(&mut self, ctx: &mut Context<'_>, session: &SessionId, event: Event) {
        self.announce(ctx, session);
        self.state_changed(ctx, session, &event);
        self.rejected(ctx, session, &event);
    }

    fn on_disconnected(
        &mut self,
        ctx: &mut Context<'_>,
        session: &SessionId,
        reason: DisconnectReason,
    ) {
        self.announce(ctx, session);
        self.call_optional(ctx, session, "on_disconnect", |py| {
            vec![PyString::new(py, reason.label()).into_any()]
        });
    }
}

/// A property's value from Python: `bool` as Y/N, anything else as `str()`.
fn property_value(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(flag) = value.downcast::<pyo3::types::PyBool>() {
        return Ok(if flag.is_true() { "Y" } else { "N" }.to_owned());
    }
    Ok(value.str()?.to_cow()?.into_owned())
}

/// The settings that `create_session`'s arguments decide, refused in its `settings`.
const DECIDED_BY_ARGUMENTS: [&str; 4] = [
    "BeginString",
    "SenderCompID",
    "TargetCompID",
    "ConnectionType",
];

/// Applies `create_session`'s `settings` (the properties' session keys, QuickFIX's names or FIX
/// Antenna's) to `config`, then checks it as session `id`'s.
fn apply_settings(
    config: &mut SessionConfig,
    id: &SessionId,
    settings: &Bound<'_, PyDict>,
) -> PyResult<()> {
    for (key, value) in settings.iter() {
        let key = key.str()?.to_cow()?.into_owned();
        if DECIDED_BY_ARGUMENTS.contains(&key.as_str()) {
            return Err(InvalidSetting::new_err(format!(
                "{key}: create_session's arguments decide it (session_id, version; \
                 connect() or connect_to() the role)"
            )));
        }
        config
            .set(&key, &property_value(&value)?)
            .map_err(|error| match error {
                ConfigError::UnknownSetting { .. } => UnknownSetting::new_err(error.to_string()),
                other => InvalidSetting::new_err(other.to_string()),
            })?;
    }
    // The engine names the session's CompIDs from its id.
    let mut checked = config.clone();
    checked.sender_comp_id = id.sender_comp_id.to_string();
    checked.target_comp_id = id.target_comp_id.to_string();
    checked
        .validate()
        .map_err(|error| InvalidSetting::new_err(error.to_string()))
}

/// The properties from the constructor's argument: None (`./engine.properties` if it exists,
/// else the defaults), a path, or a dict of keys.
fn load_properties(properties: Option<&Bound<'_, PyAny>>) -> PyResult<Properties> {
    let parse = |text: &str, name: &str| {
        Properties::parse(text, name).map_err(|e| FixgateError::new_err(e.to_string()))
    };
    let read = |path: &Path| {
        let text = std::fs::read_to_string(path)
            .map_err(|e| FixgateError::new_err(format!("{}: {e}", path.display())))?;
        parse(&text, &path.display().to_string())
    };
    match properties {
        None => {
            let default = Path::new("engine.properties");
            if default.exists() {
                read(default)
            } else {
                parse("", "(defaults)")
            }
        }
        Some(value) if value.is_instance_of::<PyDict>() => {
            let mut text = String::new();
            for (key, value) in value.downcast::<PyDict>()?.iter() {
                let value = property_value(&value)?;
                text.push_str(&format!("{} = {value}\n", key.str()?.to_cow()?));
            }
            parse(&text, "(dict)")
        }
        Some(value) if value.is_instance_of::<PyString>() => {
            read(Path::new(value.downcast::<PyString>()?.to_cow()?.as_ref()))
        }
        Some(value) => {
            // os.PathLike
            let path: PathBuf = value.extract()?;
            read(&path)
        }
    }
}

/// The FIX engine of this process (FIX Antenna's `FixEngine`): it listens on the properties'
/// `ListenAddress`/`ListenPort` for acceptor sessions and runs every session on a thread of its
/// own. One per process: a second, while the first runs, raises.
///
/// `FixEngine(properties=None)`: None reads `./engine.properties` if it exists, else takes the
/// defaults; a string (or path) names a properties file; a dict gives the keys themselves
/// (`{"ListenPort": 0}` listens on a free port, see `listen_port`).
///
/// Sessions keep their messages as `StorageType` says: `memory` (the default) or `file`,
/// fixgate's file store in one folder per session under `StorageDirectory` (default
/// `./fixgate-data`), with each session's `StorageDurability`; a session created again on the
/// same folder goes on from its stored sequence numbers and messages.
#[pyclass(module = "fixgate", frozen)]
pub(crate) struct FixEngine {
    shared: Arc<Shared>,
}

#[pymethods]
impl FixEngine {
    /// Starts the engine on its thread, listening when the properties set `ListenPort`.
    #[new]
    #[pyo3(signature = (properties = None))]
    fn new(py: Python<'_>, properties: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let properties = load_properties(properties)?;
        let setting =
            |e: fixgate_core::properties::PropertiesError| FixgateError::new_err(e.to_string());
        let mut config = properties.engine_config().map_err(setting)?;
        // Listeners hear of every state change, sessions the engine creates included.
        config.default_session.report_state_changes = true;
        let listen = properties.listen_address().map_err(setting)?;
        let configured = properties.sessions().map_err(setting)?;
        let default_session = config.default_session.clone();
        let storage = Storage::of(&properties)?;
        let mut running = lock(&RUNNING);
        if running.is_some() {
            return Err(FixgateError::new_err(
                "a FixEngine is already running in this process (one per process; stop() it first)",
            ));
        }
        let listeners = Listeners::default();
        let manager = Arc::new(Mutex::new(None));
        let created = Created::default();
        let shared_cell = Arc::new(OnceLock::new());
        let app = PyApp {
            listeners: listeners.clone(),
            shared: shared_cell.clone(),
            manager: manager.clone(),
            created: created.clone(),
        };
        let (ready, started) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let join = std::thread::Builder::new()
            .name("fixgate-engine".into())
            .spawn(move || run(config, listen, app, ready, stopped))
            .map_err(|e| FixgateError::new_err(format!("cannot start the engine thread: {e}")))?;
        let thread = join.thread().id();
        let handle = py
            .allow_threads(move || started.recv())
            .map_err(|_| EngineStopped::new_err("the engine thread ended while starting"))?
            .map_err(|e| match listen {
                Some(addr) => FixgateError::new_err(format!("listening on {addr}: {e}")),
                None => FixgateError::new_err(e.to_string()),
            })?;
        let shared = Arc::new(Shared {
            handle,
            listeners,
            thread,
            join: Mutex::new(Some(join)),
            stop: Mutex::new(Some(stop)),
            configured: Mutex::new(configured.into_iter().collect()),
            default_session: Mutex::new(default_session),
            storage: storage.clone(),
            manager,
            created,
        });
        let _ = shared_cell.set(Arc::downgrade(&shared));
        // Sessions created for unregistered Logons get their stores as the properties say.
        let factory = storage;
        let set = py.allow_threads(|| {
            block_on(shared.handle.with_engine(move |engine| {
                engine.set_store_factory(Box::new(move |id, now| {
                    factory.open(id, now).map_err(|error| {
                        tracing::error!(%error, %id, "cannot open the store: the Logon is refused");
                        fixgate_core::StoreError::Io(std::io::ErrorKind::Other)
                    })
                }));
            }))
        });
        if let Err(error) = set {
            py.allow_threads(|| shared.stop());
            return Err(engine_error(error));
        }
        *running = Some(shared.clone());
        Ok(Self { shared })
    }

    /// Creates a session (FIX Antenna's `create_session`): `app_version` names the application's
    /// FIX version ("FIX44"), `version` the session protocol's. Its settings are the properties'
    /// `Session.<name>.*` for these CompIDs, else `Session.Default.*`, then `settings`, a dict of
    /// the same session keys for this session alone (`{"HeartBtInt": 5, "ResetOnLogon": True,
    /// "Username": "u", "Password": "p"}`; QuickFIX's names or FIX Antenna's aliases): an
    /// unknown key raises `UnknownSetting`, a bad value (or a key the arguments decide, such as
    /// SenderCompID) `InvalidSetting`. Messages are kept in memory or in files, as
    /// `StorageType` says. It takes no connection until `connect()` (acceptor) or
    /// `connect_to()` (initiator).
    #[pyo3(signature = (session_id, app_version, version, settings = None))]
    fn create_session(
        &self,
        py: Python<'_>,
        session_id: PySessionId,
        app_version: String,
        version: FixVersion,
        settings: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Session> {
        let shared = &self.shared;
        if shared.is_engine_thread() {
            return Err(FixgateError::new_err(
                "create_session() cannot be called inside a callback",
            ));
        }
        let id = session_id.core();
        let mut config = lock(&shared.configured)
            .get(&id)
            .cloned()
            .unwrap_or_else(|| lock(&shared.default_session).clone());
        config.begin_string = version.begin_string();
        config.role = Role::Acceptor;
        config.report_state_changes = true;
        if let Some(settings) = settings {
            apply_settings(&mut config, &id, settings)?;
        }
        let store = shared.open_store(&id)?;
        let created = config.clone();
        let handle = py
            .allow_threads(|| block_on(shared.handle.create_session(id, created, store)))
            .map_err(engine_error)?;
        Ok(Session::new(
            session_id,
            app_version,
            version,
            shared.clone(),
            handle,
            config,
        ))
    }

    /// Sets the sessions manager (FIX Antenna's `SessionsManager`), asked about every Logon for
    /// a session nobody registered when `CreateUnregisteredAcceptorSession` is on: its
    /// `on_unregistered_acceptor(session_id, logon)` (`logon` valid only during the call) returns
    /// True to accept, with the `Session.Default.*` settings; anything else (or raising) refuses
    /// the Logon. Each accepted session is then given to its `on_session_created(session)`, if it
    /// has one, on the engine thread before the session's first message, so that it may set the
    /// session's listener. None puts back the engine's default, which accepts every such Logon.
    #[pyo3(signature = (manager))]
    fn set_sessions_manager(&self, py: Python<'_>, manager: Option<Py<PyAny>>) -> PyResult<()> {
        let shared = &self.shared;
        if shared.is_engine_thread() {
            return Err(FixgateError::new_err(
                "set_sessions_manager() cannot be called inside a callback",
            ));
        }
        if let Some(manager) = &manager
            && !manager.bind(py).hasattr("on_unregistered_acceptor")?
        {
            return Err(FixgateError::new_err(
                "a sessions manager needs an on_unregistered_acceptor(session_id, logon) method",
            ));
        }
        let created = shared.created.clone();
        let boxed: Box<dyn SessionsManager> = match &manager {
            Some(manager) => Box::new(PyManager {
                manager: manager.clone_ref(py),
                created,
            }),
            None => Box::new(AcceptAll),
        };
        *lock(&shared.manager) = manager;
        py.allow_threads(|| {
            block_on(
                shared
                    .handle
                    .with_engine(move |engine| engine.set_sessions_manager(boxed)),
            )
        })
        .map_err(engine_error)
    }

    /// The port the engine listens on (the bound one, when `ListenPort` is 0); None when the
    /// properties set no `ListenPort`.
    #[getter]
    fn listen_port(&self) -> Option<u16> {
        self.shared.handle.local_addr().map(|a| a.port())
    }

    /// Stops the engine: every logged-on session sends its Logout (waiting at most its
    /// LogoutTimeout), then the engine thread ends. Another `FixEngine` may then start.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        if self.shared.is_engine_thread() {
            return Err(FixgateError::new_err(
                "stop() cannot be called inside a callback",
            ));
        }
        py.allow_threads(|| self.shared.stop());
        let mut running = lock(&RUNNING);
        if running
            .as_ref()
            .is_some_and(|r| Arc::ptr_eq(r, &self.shared))
        {
            *running = None;
        }
        Ok(())
    }
}

/// The engine thread: a current-thread runtime that runs the driver until told to stop.
fn run(
    config: fixgate_core::EngineConfig,
    listen: Option<SocketAddr>,
    app: PyApp,
    ready: std::sync::mpsc::Sender<std::io::Result<fixgate_driver::FixEngine>>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    // The thread keeps one Python thread state for its whole life (the GIL released while the
    // runtime runs): each callback's `with_gil` then only takes the GIL, instead of making and
    // destroying a thread state (half of the cost of crossing into Python, measured).
    Python::with_gil(|py| {
        py.allow_threads(|| {
            runtime.block_on(async move {
                let started = fixgate_driver::FixEngine::start_with_app_on(
                    fixgate_tokio::Tokio,
                    config,
                    listen,
                    Security::default(),
                    app,
                );
                match started {
                    Ok(engine) => {
                        let _ = ready.send(Ok(engine.clone()));
                        let _ = stopped.await;
                        engine.shutdown().await;
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                    }
                }
            });
        });
    });
}

/// Stops the process's engine, if one runs (called at the interpreter's exit).
#[pyfunction]
pub(crate) fn shutdown(py: Python<'_>) {
    let running = lock(&RUNNING).take();
    if let Some(shared) = running {
        py.allow_threads(|| shared.stop());
    }
}
