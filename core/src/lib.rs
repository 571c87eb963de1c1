//! # fixgate-core
//!
//! The sans-IO heart of fixgate, a FIX session engine. This crate does no I/O and reads no clock:
//! bytes, timer ticks and application commands go in, and [`Action`]s come out. Adapters
//! (fixgate-tokio, fixgate-async-std) or your own event loop own the sockets and the time.
//!
//! ```text
//!  socket bytes ─► Session::handle_input ─► codec::Decoder ─► session rules ─┐
//!  timer        ─► Session::handle_timeout ──────────────────► session rules ─┤
//!  application  ─► Session::send / reply / ack / logout ─────► session rules ─┤
//!                                                                             ▼
//!                 MessageStore::append (before any byte leaves)      one ordered queue
//!                                                                             │
//!  Session::poll_action ◄─ Send(bytes) │ Deliver(msg) │ Event │ Commit │ Disconnect
//!  Session::poll_timeout ◄─ the next deadline
//! ```
//!
//! - [`codec`]: the streaming [`codec::Decoder`] (frames exactly as QuickFIX's reader does) and
//!   the zero-copy [`codec::Message`]; [`codec::FieldWriter`] and [`codec::encode_frame`] write.
//! - [`Session`]: the FIX session layer (FIX 4.0 to 4.4 and FIXT.1.1), acceptor or initiator.
//! - [`Engine`]: every session of an application and the routing of connections to them by
//!   their Logon (FIX Antenna's acceptor model), keyed by the adapter's [`ConnId`]s.
//! - [`MessageStore`]: where a session keeps its messages and sequence numbers;
//!   [`MemoryStore`] is the in-memory one (the durable one is in fixgate-store).
//! - [`schedule`], [`properties`], [`SessionConfig::set`]: schedules, `engine.properties`, and
//!   settings by their QuickFIX (and FIX Antenna) names.
//!
//! Each public item has one path: the session, the engine and the types they share are at the
//! crate root, and the items of [`codec`], [`dictionary`], [`properties`], [`schedule`] and
//! [`tag`] only under their module.
//!
//! ## Driving a session from your own loop
//!
//! Every input takes a [`Now`], which you read from your clocks. After each input or command,
//! drain [`Session::poll_action`] until `None`, then wait for input no longer than
//! [`Session::poll_timeout`]. This complete initiator uses a blocking `std::net::TcpStream`; an
//! epoll, io_uring or busy-spin loop calls the same methods at the same points.
//!
//! ```no_run
//! use std::io::{ErrorKind, Read, Write};
//! use std::net::TcpStream;
//! use std::time::{Duration, Instant, SystemTime};
//!
//! use fixgate_core::codec::FieldWriter;
//! use fixgate_core::{
//!     Action, BeginString, MemoryStore, Now, OutboundMessage, Role, Session, SessionConfig,
//!     UtcTimestamp,
//! };
//!
//! fn now() -> Now {
//!     Now { mono: Instant::now(), utc: SystemTime::now() }
//! }
//!
//! let config = SessionConfig::new(BeginString::Fix44, "BANK", "VENUE", Role::Initiator);
//! let store = MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now()));
//! let mut session = Session::new(config, Box::new(store), now())?;
//!
//! let mut stream = TcpStream::connect("127.0.0.1:9876")?;
//! session.handle_connected(now()); // queues our Logon
//!
//! // An order, put before the Logon is answered: it is stored now and sent once logged on.
//! let mut order = FieldWriter::new();
//! order.str(11, "ORD-1").char(54, b'1').str(55, "AAPL").uint(38, 100).char(40, b'1');
//! session.send(now(), OutboundMessage::new(b"D", &order))?;
//!
//! let mut buf = vec![0u8; 64 * 1024];
//! loop {
//!     // 1. Do what the session asks, in order.
//!     while let Some(action) = session.poll_action() {
//!         match action {
//!             Action::Send(bytes) => stream.write_all(&bytes)?,
//!             Action::Deliver(delivered) => {
//!                 println!("{:?}", delivered.message().msg_type());
//!                 session.ack(now(), &delivered)?; // settled: it will not be asked for again
//!             }
//!             Action::Event(event) => eprintln!("event: {event:?}"),
//!             Action::Commit => {} // a durable store would fsync here, before the next Send
//!             Action::Disconnect(reason) => {
//!                 eprintln!("closing: {reason:?}");
//!                 return Ok(());
//!             }
//!             _ => {}
//!         }
//!     }
//!     // 2. Wait for bytes, but no longer than the next deadline.
//!     let wait = session.poll_timeout().map(|at| at.saturating_duration_since(Instant::now()));
//!     stream.set_read_timeout(Some(wait.unwrap_or(Duration::from_secs(1)).max(Duration::from_millis(1))))?;
//!     match stream.read(&mut buf) {
//!         Ok(0) => {
//!             session.handle_disconnected(now());
//!             return Ok(());
//!         }
//!         Ok(n) => session.handle_input(now(), &buf[..n]),
//!         Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
//!             session.handle_timeout(now());
//!         }
//!         Err(e) => {
//!             session.handle_disconnected(now());
//!             return Err(e.into());
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(not(fuzzing), warn(missing_docs))]

mod access;
mod action;
pub mod codec;
mod config;
pub mod dictionary;
mod engine;
mod error;
mod hash;
pub mod metrics;
mod msg_type;
pub mod properties;
pub mod quickfix_keys;
mod recent;
mod reject;
pub mod schedule;
mod secret;
mod seq_num;
mod session;
mod settings;
mod store;
pub mod tag;
mod time;
mod version;

pub use access::{InvalidIpRange, IpRange};
pub use action::{Action, Delivered, DisconnectReason, Event, LogonRefusal};
pub use config::{
    ConfigError, ConnectAddress, DictionaryFiles, MessageReport, Role, SessionConfig,
    StorageDurability,
};
pub use engine::{
    AcceptAll, Authenticator, CloseReason, ConfiguredCredentials, ConnId, Credentials, Engine,
    EngineConfig, EngineError, Lockout, Output, Refusal, SessionDecision, SessionId,
    SessionIdParts, SessionsManager, StoreFactory,
};
pub use error::SendError;
pub use hash::{FastHash, FastHasher};
pub use reject::SessionRejectReason;
pub use secret::Secret;
pub use session::{LogonCheck, OutboundMessage, Session, SessionState};
pub use settings::{SESSION_SETTINGS, Setting};
pub use store::{MemoryStore, MessageStore, StoreError, SyncHandle};

pub use msg_type::MsgType;
pub use seq_num::SeqNum;
pub use time::{FormattedTimestamp, Now, TimestampPrecision, UtcTimestamp};
pub use version::BeginString;
