//! # fixgate-tokio
//!
//! The tokio adapter: fixgate-driver's [`Runtime`](fixgate_driver::Runtime) on tokio ([`Tokio`])
//! and the driver's API. The driver wires fixgate-core's sans-IO
//! [`Engine`](fixgate_core::Engine) to sockets, a clock and tasks, and holds no protocol, routing
//! or timer rule of its own (DESIGN.md section 2). One task owns the engine and writes every
//! connection itself; each connection has a reader task; the application talks to the engine task
//! through [`FixEngine`] and [`Session`] handles and receives [`AppEvent`]s.
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

#![warn(missing_docs)]

mod runtime;

use std::io;
use std::net::SocketAddr;
use std::ops::Deref;

use fixgate_core::EngineConfig;
use fixgate_driver::Security;
use tokio::sync::mpsc;

pub use crate::runtime::{Compat, Timer, Tokio, TokioListener};
pub use fixgate_driver::{
    AppEvent, Application, ConnectFailure, Context, Error, IanaTimeZone, Session, SessionSender,
    resolve_time_zone,
};
#[cfg(feature = "tls")]
pub use fixgate_driver::{TlsConfig, rustls};

/// A handle to the engine task, on tokio: fixgate-driver's [`FixEngine`](fixgate_driver::FixEngine)
/// (which it dereferences to, for every command) with tokio's constructors. Cloning it is cheap.
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
    ) -> io::Result<(Self, mpsc::UnboundedReceiver<AppEvent>)> {
        Self::start_with(config, listen, Security::default())
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
        #[cfg(feature = "tls")]
        let security = Security::with_tls(tls);
        #[cfg(not(feature = "tls"))]
        let security = Security::default();
        fixgate_driver::FixEngine::start_with_app_on(Tokio, config, listen, security, app).map(Self)
    }

    /// [`start`](Self::start), with TLS on the listening port (`tls.server`) and on the
    /// connections initiators open (`tls.client`).
    #[cfg(feature = "tls")]
    pub async fn start_tls(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        tls: TlsConfig,
    ) -> io::Result<(Self, mpsc::UnboundedReceiver<AppEvent>)> {
        Self::start_with(config, listen, Security::with_tls(tls))
    }

    fn start_with(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        security: Security,
    ) -> io::Result<(Self, mpsc::UnboundedReceiver<AppEvent>)> {
        let (events, received) = mpsc::unbounded_channel();
        let sink = Box::new(move |event| {
            let _ = events.send(event);
        });
        let engine = fixgate_driver::FixEngine::start_on(Tokio, config, listen, security, sink)?;
        Ok((Self(engine), received))
    }

    /// FIX Antenna's engine from its properties: the engine settings, and the listening port
    /// when `ListenPort` is set (on `ListenAddress`, default 127.0.0.1). Sessions are then made
    /// with [`create_session`](fixgate_driver::FixEngine::create_session)
    /// (`Properties::sessions()` lists the configured ones); TLS and an [`Application`] need the
    /// other constructors.
    pub async fn new(
        properties: &fixgate_core::properties::Properties,
    ) -> Result<(Self, mpsc::UnboundedReceiver<AppEvent>), Error> {
        let config = properties.engine_config().map_err(Box::new)?;
        let listen = properties.listen_address().map_err(Box::new)?;
        Ok(Self::start(config, listen).await?)
    }
}
