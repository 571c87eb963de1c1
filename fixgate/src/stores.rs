//! `StorageType`: where the binary's sessions keep their messages and numbers.

use std::path::PathBuf;

use fixgate_core::{MemoryStore, MessageStore, SessionId, StoreError, UtcTimestamp};
use fixgate_postgres::Postgres;
use fixgate_store::FileStore;

use crate::message_logs::session_folder;

/// The sessions' stores, as `StorageType` (or `--store`) says.
#[derive(Clone, Debug)]
pub enum Stores {
    /// `memory`: nothing survives the process.
    Memory,
    /// `file`: a folder per session under `StorageDirectory`.
    Files(PathBuf),
    /// `postgres`: the database at `PostgresUrl`, shared with the other instances.
    Postgres(Postgres),
}

/// A store for a session.
pub type BoxedStore = Box<dyn MessageStore + Send>;

impl Stores {
    /// The store of a configured session: its folder, or the database's row claimed for this
    /// instance. Blocks the calling thread on the file system or the database.
    pub fn open(&self, id: &SessionId, now: UtcTimestamp) -> Result<BoxedStore, String> {
        Ok(match self {
            Self::Memory => Box::new(MemoryStore::new(now)),
            Self::Files(dir) => {
                Box::new(FileStore::open(session_folder(dir, id), now).map_err(|e| e.to_string())?)
            }
            Self::Postgres(postgres) => {
                Box::new(postgres.open(id, now).map_err(|e| format!("{id}: {e}"))?)
            }
        })
    }

    /// The store of a session created for an unregistered Logon, on the engine task: a database
    /// session is created (and refused if known) by its first commit, off the engine task.
    pub fn create(&self, id: &SessionId, now: UtcTimestamp) -> Result<BoxedStore, StoreError> {
        match self {
            Self::Postgres(postgres) => Ok(Box::new(postgres.create(id, now))),
            _ => self.open(id, now).map_err(|error| {
                tracing::error!(%error, %id, "cannot open the store: the Logon is refused");
                StoreError::Io(std::io::ErrorKind::Other)
            }),
        }
    }

    /// The name `StorageType` gives it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Files(_) => "file",
            Self::Postgres(_) => "postgres",
        }
    }
}
