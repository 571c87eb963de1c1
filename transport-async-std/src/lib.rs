//! # fixgate-async-std
//!
//! The async-io/futures-io adapter, for async-std and smol (async-std is discontinued upstream in
//! favour of smol; this adapter uses neither's own APIs, so it serves both): fixgate-driver's
//! [`Runtime`](fixgate_driver::Runtime) on `async-io` sockets and timers ([`AsyncIo`]) and the
//! driver's API, the same as fixgate-tokio's. The runtime's `spawn` is passed in as a
//! [`Spawner`]; fsyncs run on `blocking`'s thread pool.
//!
//! ```no_run
//! use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId, UtcTimestamp};
//! use fixgate_async_std::{AppEvent, FixEngine};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // Under smol: `|task| smol::spawn(task).detach()`; under async-std: `|task| { async_std::task::spawn(task); }`.
//! let spawner: fixgate_async_std::Spawner = std::sync::Arc::new(|task| {
//!     std::thread::spawn(move || futures_lite::future::block_on(task));
//! });
//! let (engine, events) = FixEngine::start(Default::default(), Some("127.0.0.1:9876".parse()?), spawner).await?;
//! let id = SessionId::new("ISLD", "TW");
//! let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
//! let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
//! let session = engine.create_session(id, config, Box::new(store)).await?;
//! session.connect().await?; // an acceptor: Logons from TW to ISLD reach it
//! while let Ok(event) = events.recv().await {
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

#![warn(missing_docs)]

mod runtime;

use std::io;
use std::net::SocketAddr;
use std::ops::Deref;

use fixgate_core::EngineConfig;
use fixgate_driver::Security;

pub use crate::runtime::{AsyncIo, AsyncListener, Spawner, Stream, Timer};
pub use fixgate_driver::{
    AppEvent, Application, ConnectFailure, Context, Error, IanaTimeZone, Session, SessionSender,
    resolve_time_zone,
};
#[cfg(feature = "tls")]
pub use fixgate_driver::{TlsConfig, rustls};

/// A handle to the engine task, on async-io: fixgate-driver's
/// [`FixEngine`](fixgate_driver::FixEngine) (which it dereferences to, for every command) with
/// this runtime's constructors. Cloning it is cheap.
#[derive(Clone, Debug)]
pub struct FixEngine(fixgate_driver::FixEngine);

impl Deref for FixEngine {
    type Target = fixgate_driver::FixEngine;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FixEngine {
    /// Starts the engine task, listening on `listen` for acceptor sessions (one port serves them
    /// all). Returns the handle and the stream of application events.
    pub async fn start(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        spawner: Spawner,
    ) -> io::Result<(Self, async_channel::Receiver<AppEvent>)> {
        Self::start_with(config, listen, spawner, Security::default())
    }

    /// [`start`](Self::start) with `app` running on the engine task: messages and events go to
    /// its callbacks instead of the event stream (which stays empty), with no hop between tasks.
    /// `tls` (feature `tls`) as in [`start_tls`](Self::start_tls).
    pub async fn start_with_app(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        spawner: Spawner,
        #[cfg(feature = "tls")] tls: TlsConfig,
        app: impl Application,
    ) -> io::Result<Self> {
        #[cfg(feature = "tls")]
        let security = Security::with_tls(tls);
        #[cfg(not(feature = "tls"))]
        let security = Security::default();
        let runtime = AsyncIo::new(spawner);
        fixgate_driver::FixEngine::start_with_app_on(runtime, config, listen, security, app)
            .map(Self)
    }

    /// [`start`](Self::start), with TLS on the listening port (`tls.server`) and on the
    /// connections initiators open (`tls.client`).
    #[cfg(feature = "tls")]
    pub async fn start_tls(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        spawner: Spawner,
        tls: TlsConfig,
    ) -> io::Result<(Self, async_channel::Receiver<AppEvent>)> {
        Self::start_with(config, listen, spawner, Security::with_tls(tls))
    }

    fn start_with(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        spawner: Spawner,
        security: Security,
    ) -> io::Result<(Self, async_channel::Receiver<AppEvent>)> {
        let (events, received) = async_channel::unbounded();
        let sink = Box::new(move |event| {
            let _ = events.try_send(event);
        });
        let runtime = AsyncIo::new(spawner);
        let engine = fixgate_driver::FixEngine::start_on(runtime, config, listen, security, sink)?;
        Ok((Self(engine), received))
    }

    /// FIX Antenna's engine from its properties: the engine settings, and the listening port
    /// when `ListenPort` is set (on `ListenAddress`, default 127.0.0.1). Sessions are then made
    /// with [`create_session`](fixgate_driver::FixEngine::create_session)
    /// (`Properties::sessions()` lists the configured ones); TLS and an [`Application`] need the
    /// other constructors.
    pub async fn new(
        properties: &fixgate_core::properties::Properties,
        spawner: Spawner,
    ) -> Result<(Self, async_channel::Receiver<AppEvent>), Error> {
        let config = properties.engine_config().map_err(Box::new)?;
        let listen = properties.listen_address().map_err(Box::new)?;
        Ok(Self::start(config, listen, spawner).await?)
    }
}
