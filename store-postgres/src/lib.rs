//! # fixgate-postgres
//!
//! fixgate's [`MessageStore`](fixgate_core::MessageStore) on PostgreSQL, and session ownership
//! for failover between fixgate instances that share one database (DESIGN.md section 1).
//!
//! - [`Postgres::connect`] starts the store's thread: a tokio runtime of its own with a pool of
//!   connections (at most 8), so that the engine task never waits on the database. It checks
//!   that the server makes commits durable and creates or migrates the tables ([`schema`]).
//! - [`Postgres::open`] claims a session (a lease with a fencing token, [`Lease`]) and loads its
//!   store, [`PgStore`]. Its writes are batched and committed at the session's `Commit`, one
//!   transaction per burst, each checking the token.
//! - A lease lapses `FailoverTimeout` after its last renewal, whether the owner died, stopped or
//!   lost its network; then another instance may claim the session, and the old owner's writes
//!   are refused by the token.

mod batch;
mod lease;
pub mod schema;
mod service;
mod settings;
mod store;
mod work;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fixgate_core::{SessionId, StoreError, UtcTimestamp};

pub use lease::Lease;
pub use store::PgStore;

use crate::lease::Leases;
use crate::service::Service;
use crate::work::{Done, Loaded, Work};

/// The most connections one instance opens.
pub const MAX_POOL_SIZE: usize = 8;

/// How an instance uses the database (the engine settings `PostgresUrl`, `InstanceName`,
/// `FailoverTimeout`, `PostgresPoolSize`, `PostgresResendCache`).
#[derive(Clone)]
pub struct PostgresSettings {
    /// A libpq URI, `postgresql://user@host:port/db` (its secret already resolved).
    pub url: String,
    /// This instance's name, unique among the instances sharing the database.
    pub instance: String,
    /// How long a lease lasts without renewal.
    pub failover_timeout: Duration,
    /// Connections: one renews the leases, the others commit (2 to [`MAX_POOL_SIZE`]).
    pub pool_size: usize,
    /// How many of a session's last messages are held in memory for resends.
    pub resend_cache: usize,
    /// The sessions (their ids' display form) this instance prefers; `None`: every one. It
    /// stands by for the others: it claims one only while no live instance prefers it.
    pub prefers: Option<Vec<String>>,
}

impl PostgresSettings {
    /// The default failover timeout.
    pub const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_millis(1500);
    /// The default pool size.
    pub const DEFAULT_POOL_SIZE: usize = 8;
    /// The default number of messages held for resends.
    pub const DEFAULT_RESEND_CACHE: usize = 100_000;

    /// The defaults, with the database at `url` and this instance named `instance`.
    pub fn new(url: impl Into<String>, instance: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            instance: instance.into(),
            failover_timeout: Self::DEFAULT_FAILOVER_TIMEOUT,
            pool_size: Self::DEFAULT_POOL_SIZE,
            resend_cache: Self::DEFAULT_RESEND_CACHE,
            prefers: None,
        }
    }

    /// Whether this instance prefers session `id`.
    pub fn prefers(&self, id: &SessionId) -> bool {
        let id = id.to_string();
        self.prefers.as_ref().is_none_or(|list| list.contains(&id))
    }
}

impl std::fmt::Debug for PostgresSettings {
    /// The URL may carry a password: it is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSettings")
            .field("instance", &self.instance)
            .field("failover_timeout", &self.failover_timeout)
            .field("pool_size", &self.pool_size)
            .field("resend_cache", &self.resend_cache)
            .field("prefers", &self.prefers)
            .finish_non_exhaustive()
    }
}

/// Why the database could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The server or the connection failed.
    #[error("PostgreSQL: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The settings are not usable.
    #[error("{0}")]
    Settings(String),
    /// The server would lose committed transactions in a crash.
    #[error("the database does not make commits durable: {setting} = {value}")]
    NotDurable {
        /// The server setting.
        setting: &'static str,
        /// Its value.
        value: String,
    },
    /// The tables were written by a newer fixgate.
    #[error("the database's schema is version {found}; this fixgate knows up to {known}")]
    NewerSchema {
        /// The database's version.
        found: i32,
        /// This build's.
        known: i32,
    },
    /// Another instance holds the session's lease.
    #[error("session {session} is owned by instance {owner:?}")]
    OwnedElsewhere {
        /// The session.
        session: String,
        /// Its owner.
        owner: String,
    },
    /// The session is free, but a live instance prefers it and this one does not: it stands by.
    #[error("session {0} is preferred by another live instance: this one stands by")]
    Standby(String),
    /// Another instance claimed the session: this one's token no longer holds.
    #[error("another instance owns the session now")]
    Fenced,
    /// A session created for an unregistered Logon is known to the database already.
    #[error("session {0} is known to the database: it is not created for an unregistered Logon")]
    Known(String),
    /// No answer in time (the lease's remaining time, for a commit).
    #[error("no answer from the database in time")]
    Timeout,
    /// The store's thread could not start.
    #[error("the store's thread: {0}")]
    Thread(String),
    /// The store's thread has stopped.
    #[error("the store's thread has stopped")]
    Stopped,
}

impl From<PgError> for StoreError {
    fn from(error: PgError) -> Self {
        match error {
            PgError::Fenced
            | PgError::OwnedElsewhere { .. }
            | PgError::Standby(_)
            | PgError::Known(_) => Self::Fenced,
            PgError::Timeout => Self::Io(std::io::ErrorKind::TimedOut),
            _ => Self::Io(std::io::ErrorKind::Other),
        }
    }
}

/// An instance's connection to the database: the store's thread, its pool and its leases.
/// Cloning shares them.
#[derive(Clone, Debug)]
pub struct Postgres {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: PostgresSettings,
    leases: Arc<Leases>,
    service: Service,
}

impl Postgres {
    /// Connects, checks the server's durability, migrates the schema and starts the lease
    /// keeper. Blocks the calling thread (call it off any async executor).
    pub fn connect(settings: PostgresSettings) -> Result<Self, PgError> {
        if !(2..=MAX_POOL_SIZE).contains(&settings.pool_size) {
            return Err(PgError::Settings(format!(
                "PostgresPoolSize: {} is not between 2 and {MAX_POOL_SIZE}",
                settings.pool_size
            )));
        }
        if settings.failover_timeout < Duration::from_millis(100) {
            return Err(PgError::Settings(
                "FailoverTimeout: at least 100 ms".to_owned(),
            ));
        }
        let config: tokio_postgres::Config = settings
            .url
            .parse()
            .map_err(|e| PgError::Settings(format!("PostgresUrl: {e}")))?;
        let leases = Arc::new(Leases::new(
            settings.instance.clone(),
            settings.failover_timeout,
            config.clone(),
        ));
        let (service, first) = Service::start(config, settings.pool_size - 1)?;
        service.keep_leases(Arc::clone(&leases), first, settings.prefers.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                leases,
                service,
            }),
        })
    }

    /// This instance's settings.
    pub fn settings(&self) -> &PostgresSettings {
        &self.inner.settings
    }

    /// Claims session `id` for this instance and loads its store (created at `now` if the
    /// database has never seen it). Refused while another instance's lease holds. Blocks the
    /// calling thread for a transaction.
    pub fn open(&self, id: &SessionId, now: UtcTimestamp) -> Result<PgStore, PgError> {
        let session = id.to_string();
        let settings = &self.inner.settings;
        let asked = Instant::now();
        let work = Work::Open {
            session: session.clone(),
            instance: settings.instance.clone(),
            lease: settings.failover_timeout,
            now,
            tail: settings.resend_cache as i64,
            preferred: settings.prefers(id),
        };
        let done = self
            .inner
            .service
            .call(work, asked + settings.failover_timeout)?;
        let Done::Opened(loaded) = done else {
            return Err(PgError::Thread(format!("an Open job answered {done:?}")));
        };
        let lease = self.inner.leases.unclaimed();
        self.inner
            .leases
            .granted(&session, &lease, loaded.token, asked);
        Ok(PgStore::new(
            session,
            Arc::clone(&self.inner),
            lease,
            loaded,
        ))
    }

    /// Which of `ids` this instance could claim now: those new to the database, free, lapsed
    /// or its own, that it prefers or that no live instance prefers. One query for every
    /// session a standby watches; blocks the calling thread for it.
    pub fn claimable(&self, ids: &[SessionId]) -> Result<Vec<String>, PgError> {
        let settings = &self.inner.settings;
        let work = Work::Claimable {
            instance: settings.instance.clone(),
            sessions: ids.iter().map(ToString::to_string).collect(),
            preferred: ids.iter().map(|id| settings.prefers(id)).collect(),
        };
        self.sessions(work)
    }

    /// The sessions this instance owns that another live instance prefers: a session among
    /// them that this one does not prefer is given back when it is not logged on. Blocks the
    /// calling thread for a query.
    pub fn wanted_elsewhere(&self) -> Result<Vec<String>, PgError> {
        let settings = &self.inner.settings;
        let work = Work::WantedElsewhere {
            instance: settings.instance.clone(),
        };
        self.sessions(work)
    }

    /// Runs a query that lists sessions.
    fn sessions(&self, work: Work) -> Result<Vec<String>, PgError> {
        let deadline = Instant::now() + self.inner.settings.failover_timeout;
        match self.inner.service.call(work, deadline)? {
            Done::Sessions(sessions) => Ok(sessions),
            done => Err(PgError::Thread(format!("a query answered {done:?}"))),
        }
    }

    /// A store for a session the database must not know yet (one the engine creates for an
    /// unregistered Logon), without waiting: its first commit creates and claims the session in
    /// the same transaction, and fails with [`StoreError::Fenced`] if the database knows it
    /// already. Nothing is sent before that commit, so a known session is never answered as a
    /// new one.
    pub fn create(&self, id: &SessionId, now: UtcTimestamp) -> PgStore {
        let loaded = Loaded {
            token: 0,
            created: now,
            next_sender: fixgate_core::SeqNum::FIRST,
            next_target: fixgate_core::SeqNum::FIRST,
            tail: Vec::new(),
            answered: Vec::new(),
            highest: None,
        };
        let lease = self.inner.leases.unclaimed();
        PgStore::new(id.to_string(), Arc::clone(&self.inner), lease, loaded)
    }
}
