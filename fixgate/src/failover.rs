//! Sessions shared with other instances (`StorageType = postgres`). Each configured session is:
//! - claimed as soon as it is free, or its owner's lease has lapsed, then run: an acceptor
//!   accepts its Logon, an initiator connects;
//! - stood by for while another instance owns it, or, when this instance does not prefer it
//!   (`PreferredSessions`), while a live instance that prefers it is up;
//! - given up when another instance took it over (its lease was lost), or when this instance
//!   does not prefer it, it has no connection, and a live instance that prefers it wants it back.
//!
//! A session given up leaves the engine; it is claimed again, with what the database holds, when
//! it is free again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use fixgate_core::{Now, Role, SessionConfig, SessionId, UtcTimestamp};
use fixgate_driver::{FixEngine, Session};
use fixgate_postgres::{Lease, PgError, Postgres};

/// The sessions this instance may run, and those it runs now.
pub struct Failover {
    engine: FixEngine,
    postgres: Postgres,
    sessions: Vec<Configured>,
}

/// A configured session, and its engine handle and lease while this instance holds it.
struct Configured {
    id: SessionId,
    config: SessionConfig,
    held: Option<(Session, Arc<Lease>)>,
}

impl Failover {
    /// Sessions `sessions` of `engine`, owned through `postgres`.
    pub fn new(
        engine: FixEngine,
        postgres: Postgres,
        sessions: Vec<(SessionId, SessionConfig)>,
    ) -> Self {
        let sessions = sessions
            .into_iter()
            .map(|(id, config)| Configured {
                id,
                config,
                held: None,
            })
            .collect();
        Self {
            engine,
            postgres,
            sessions,
        }
    }

    /// Claims, stands by and gives up, an eighth of `FailoverTimeout` apart, for as long as the
    /// engine runs.
    pub async fn run(mut self) {
        let tick = self.postgres.settings().failover_timeout / 8;
        loop {
            tokio::time::sleep(tick).await;
            self.turn().await;
        }
    }

    /// One look at every session.
    pub async fn turn(&mut self) {
        let settings = self.postgres.settings();
        let unpreferred = self
            .sessions
            .iter()
            .any(|s| s.held.is_some() && !settings.prefers(&s.id));
        let wanted = match unpreferred {
            true => self.wanted_elsewhere().await,
            false => Vec::new(),
        };
        let connected: Vec<SessionId> = match wanted.is_empty() {
            true => Vec::new(),
            false => match self.engine.metrics().await {
                Ok(metrics) => metrics
                    .engine
                    .sessions
                    .into_iter()
                    .filter(|s| s.connected)
                    .map(|s| s.id)
                    .collect(),
                Err(_) => return,
            },
        };
        // One query tells which of the sessions not held could be claimed now.
        let unheld: Vec<SessionId> = (self.sessions.iter())
            .filter(|s| s.held.is_none())
            .map(|s| s.id.clone())
            .collect();
        let claimable = match unheld.is_empty() {
            true => Vec::new(),
            false => self.claimable(unheld).await,
        };
        for session in &mut self.sessions {
            let id = &session.id;
            match &session.held {
                Some((_, lease)) if lease.is_lost() => {
                    tracing::warn!(session = %id, "another instance took the session over");
                    session.give_up().await;
                }
                Some(_)
                    if !settings.prefers(id)
                        && wanted.contains(&id.to_string())
                        && !connected.contains(id) =>
                {
                    let id = id.clone();
                    if session.give_back(&self.engine).await {
                        tracing::info!(session = %id, "given back to an instance that prefers it");
                    }
                }
                Some(_) => {}
                None if claimable.contains(&id.to_string()) => {
                    session.claim(&self.engine, &self.postgres).await
                }
                None => {}
            }
        }
    }

    async fn claimable(&self, ids: Vec<SessionId>) -> Vec<String> {
        let postgres = self.postgres.clone();
        match tokio::task::spawn_blocking(move || postgres.claimable(&ids)).await {
            Ok(Ok(claimable)) => claimable,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot ask which sessions are free");
                Vec::new()
            }
            Err(_) => Vec::new(),
        }
    }

    async fn wanted_elsewhere(&self) -> Vec<String> {
        let postgres = self.postgres.clone();
        match tokio::task::spawn_blocking(move || postgres.wanted_elsewhere()).await {
            Ok(Ok(wanted)) => wanted,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot ask which sessions other instances want");
                Vec::new()
            }
            Err(_) => Vec::new(),
        }
    }
}

impl Configured {
    /// Claims the session if it is free, and starts it.
    async fn claim(&mut self, engine: &FixEngine, postgres: &Postgres) {
        let (postgres, id) = (postgres.clone(), self.id.clone());
        let now = UtcTimestamp::from_system_time(SystemTime::now());
        let store = match tokio::task::spawn_blocking(move || postgres.open(&id, now)).await {
            Ok(Ok(store)) => store,
            Ok(Err(PgError::OwnedElsewhere { .. } | PgError::Standby(_))) => return,
            Ok(Err(error)) => {
                return tracing::warn!(session = %self.id, %error, "cannot claim the session");
            }
            Err(_) => return,
        };
        let lease = Arc::clone(store.lease());
        let created = engine
            .create_session(self.id.clone(), self.config.clone(), Box::new(store))
            .await;
        let session = match created {
            Ok(session) => session,
            Err(error) => {
                return tracing::error!(session = %self.id, %error, "cannot run the session");
            }
        };
        match start(&session, &self.config).await {
            Ok(()) => {
                tracing::info!(session = %self.id, "this instance owns the session now");
                self.held = Some((session, lease));
            }
            Err(error) => {
                tracing::error!(session = %self.id, %error, "cannot start the session");
                let _ = session.finalize().await;
            }
        }
    }

    /// Takes the session out of the engine if it still has no connection, in one step on the
    /// engine task (a Logon may have come since the look): its store is dropped, which releases
    /// it. Whether it was given back.
    async fn give_back(&mut self, engine: &FixEngine) -> bool {
        let (id, given) = (self.id.clone(), Arc::new(AtomicBool::new(false)));
        let done = Arc::clone(&given);
        let checked = engine
            .with_engine(move |engine| {
                if engine.session(&id).is_some_and(|s| !s.is_connected()) {
                    let now = Now {
                        mono: Instant::now(),
                        utc: SystemTime::now(),
                    };
                    done.store(engine.finalize(now, &id).is_ok(), Ordering::Release);
                }
            })
            .await;
        let given = checked.is_ok() && given.load(Ordering::Acquire);
        if given {
            // The engine has let the session go; the handle goes with it.
            self.held = None;
        }
        given
    }

    /// Takes the session out of the engine: its store is dropped, which releases it.
    async fn give_up(&mut self) {
        if let Some((session, _)) = self.held.take() {
            let _ = session.finalize().await;
        }
    }
}

/// Starts a session the engine holds: an acceptor waits for its Logon, an initiator connects to
/// its addresses (`SocketConnectHost`, `SocketConnectHost1`…), tried in turn.
pub async fn start(session: &Session, config: &SessionConfig) -> Result<(), String> {
    if config.role == Role::Acceptor {
        return session.connect().await.map_err(|e| e.to_string());
    }
    let mut addrs = Vec::new();
    for (host, port) in config.connect_to() {
        let mut found = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("SocketConnectHost {host}: {e}"))?;
        addrs.extend(found.next());
    }
    if addrs.is_empty() {
        return Err(format!(
            "initiator {} has no SocketConnectHost and SocketConnectPort",
            session.id()
        ));
    }
    session
        .connect_to_any(addrs)
        .await
        .map_err(|e| e.to_string())
}
