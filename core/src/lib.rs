//! # fixgate-core
//!
//! The sans-IO heart of fixgate, a FIX session engine. This crate does no I/O and reads no clock:
//! bytes and timer ticks go in, and actions come out. Adapters (fixgate-tokio, fixgate-async-std,
//! or your own event loop) own the sockets and the time.
//!
//! ```text
//!  socket bytes ──► codec::Decoder ──► codec::Message (zero-copy view) ──► session layer
//!  session layer ──► codec::FieldWriter + encode_frame ──► bytes for the socket
//! ```
//!
//! This version holds the codec: [`codec::Decoder`] frames a byte stream exactly as QuickFIX's
//! reader does and indexes each frame into a [`codec::Message`]; [`codec::FieldWriter`] and
//! [`codec::encode_frame`] write messages in the canonical field order. The session layer, the
//! engine that routes connections, and the message store build on it.

#![forbid(unsafe_code)]
#![cfg_attr(not(fuzzing), warn(missing_docs))]

mod action;
pub mod codec;
mod config;
mod error;
mod msg_type;
mod reject;
mod seq_num;
pub mod session;
mod store;
pub mod tag;
mod time;
mod version;

pub use action::{Action, Delivered, DisconnectReason, Event, LogonRefusal};
pub use config::{ConfigError, Role, SessionConfig, StorageDurability};
pub use error::SendError;
pub use reject::SessionRejectReason;
pub use session::{OutboundMessage, Session, SessionState};
pub use store::{MemoryStore, MessageStore, StoreError};

pub use msg_type::MsgType;
pub use seq_num::SeqNum;
pub use time::{FormattedTimestamp, Now, TimestampPrecision, UtcTimestamp};
pub use version::BeginString;
