//! Session ownership: a lease per session, renewed by its owner, with a fencing token.
//!
//! - A claim sets `owner`, adds one to `token` and moves `lease_until` (the database's clock) to
//!   `FailoverTimeout` ahead. It succeeds only when the session has no owner, is already ours,
//!   or its lease has lapsed.
//! - The keeper renews every lease this instance holds, in one statement, a quarter of the
//!   timeout apart. A lease renewed by a statement sent at `t` (this instance's monotonic clock)
//!   holds here until `t + timeout - margin`, with a margin of a quarter of the timeout: the
//!   database's own lapse comes later than that whatever the delays, so two instances never
//!   both believe they own a session.
//! - A renewal that no longer finds the session ours with our token means another instance
//!   claimed it: the lease is lost for good, and the store refuses everything after.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::Client;

/// The leases this instance holds.
#[derive(Debug)]
pub(crate) struct Leases {
    pub(crate) instance: String,
    /// Where the keeper dials when its connection broke.
    config: tokio_postgres::Config,
    pub(crate) timeout: Duration,
    /// The origin of the deadlines kept as numbers.
    base: Instant,
    held: Mutex<HashMap<String, Arc<Lease>>>,
}

/// One session's lease, as this instance knows it.
#[derive(Debug)]
pub struct Lease {
    /// 0 until the database granted the claim (a session created for an unregistered Logon is
    /// claimed at its first commit).
    token: AtomicI64,
    base: Instant,
    /// Until when it holds, in nanoseconds after `base`.
    until: AtomicU64,
    lost: AtomicBool,
}

impl Lease {
    /// The fencing token that every write of this owner carries.
    pub(crate) fn token(&self) -> i64 {
        self.token.load(Ordering::Acquire)
    }

    /// Whether the lease holds at `now`, by this instance's clock.
    pub fn holds(&self, now: Instant) -> bool {
        !self.is_lost() && self.deadline().is_some_and(|until| now < until)
    }

    /// Until when the lease holds, unless renewed; `None` once lost.
    pub fn deadline(&self) -> Option<Instant> {
        if self.is_lost() {
            return None;
        }
        Some(self.base + Duration::from_nanos(self.until.load(Ordering::Acquire)))
    }

    /// What the store tells the session ([`MessageStore::held_until`]): `None` while not
    /// claimed yet (its first commit claims it, and nothing is sent before), a time long past
    /// once lost.
    ///
    /// [`MessageStore::held_until`]: fixgate_core::MessageStore::held_until
    pub(crate) fn held_until(&self) -> Option<Instant> {
        match self.token() {
            0 if !self.is_lost() => None,
            _ => Some(self.deadline().unwrap_or(self.base)),
        }
    }

    /// Whether another instance has claimed the session.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }

    /// Records that another instance claimed the session.
    pub(crate) fn lose(&self) {
        self.lost.store(true, Ordering::Release);
    }

    fn extend(&self, until: Instant) {
        let nanos = until.saturating_duration_since(self.base).as_nanos() as u64;
        self.until.fetch_max(nanos, Ordering::AcqRel);
    }
}

impl Leases {
    pub(crate) fn new(instance: String, timeout: Duration, config: tokio_postgres::Config) -> Self {
        Self {
            instance,
            config,
            timeout,
            base: Instant::now(),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// How long a lease renewed by a statement sent at `asked` holds here.
    fn holds_until(&self, asked: Instant) -> Instant {
        asked + self.timeout - self.timeout / 4
    }

    /// A lease not claimed yet: its first commit claims it ([`granted`](Self::granted)).
    pub(crate) fn unclaimed(&self) -> Arc<Lease> {
        Arc::new(Lease {
            token: AtomicI64::new(0),
            base: self.base,
            until: AtomicU64::new(0),
            lost: AtomicBool::new(false),
        })
    }

    /// Records that the database granted `lease` for `session` with `token`, asked for at
    /// `asked`: from now on the keeper renews it.
    pub(crate) fn granted(&self, session: &str, lease: &Arc<Lease>, token: i64, asked: Instant) {
        lease.token.store(token, Ordering::Release);
        lease.extend(self.holds_until(asked));
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = held.insert(session.to_owned(), Arc::clone(lease)) {
            old.lose();
        }
    }

    /// Forgets a session this instance gave up (its store was dropped).
    pub(crate) fn forget(&self, session: &str, lease: &Arc<Lease>) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.get(session).is_some_and(|h| Arc::ptr_eq(h, lease)) {
            held.remove(session);
        }
    }

    fn snapshot(&self) -> Vec<(String, Arc<Lease>)> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.iter()
            .map(|(name, lease)| (name.clone(), Arc::clone(lease)))
            .collect()
    }
}

/// Renews this instance's leases until the store's thread stops, on a connection of its own
/// (dialled again when it breaks).
pub(crate) async fn keep(leases: Arc<Leases>, client: Client, prefers: Option<Vec<String>>) {
    let period = leases.timeout / 4;
    let mut client = Some(client);
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let held = leases.snapshot();
        let asked = Instant::now();
        // A slow answer is still good (the lease runs from `asked`): it is waited for as long
        // as a lease lasts, on the same connection.
        let renewal = renew(&leases, &mut client, &held, prefers.as_deref());
        let renewed = tokio::time::timeout(leases.timeout, renewal).await;
        match renewed {
            Ok(Ok(granted)) => {
                let until = leases.holds_until(asked);
                for (name, lease) in &held {
                    match granted.get(name) {
                        Some(&token) if token == lease.token() => lease.extend(until),
                        _ => {
                            tracing::warn!(session = %name, "another instance took the session over");
                            lease.lose();
                        }
                    }
                }
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot renew the sessions' leases");
                client = None;
            }
            Err(_) => tracing::warn!(timeout = ?leases.timeout, "no answer to the leases' renewal"),
        }
    }
}

/// One renewal: of this instance's own lease (with the sessions it prefers), then of every
/// session lease in `held` that is still ours; the sessions renewed, with their tokens.
async fn renew(
    leases: &Leases,
    client: &mut Option<Client>,
    held: &[(String, Arc<Lease>)],
    prefers: Option<&[String]>,
) -> Result<HashMap<String, i64>, crate::PgError> {
    let connected = match client.take() {
        Some(connected) if !connected.is_closed() => connected,
        _ => crate::service::connect(&leases.config).await?,
    };
    let connected = client.insert(connected);
    let lease_ms = leases.timeout.as_millis() as i64;
    connected
        .execute(
            "INSERT INTO fixgate_instances (name, prefers, lease_until)
             VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 millisecond')
             ON CONFLICT (name) DO UPDATE
             SET prefers = excluded.prefers, lease_until = excluded.lease_until",
            &[&leases.instance, &prefers, &lease_ms],
        )
        .await?;
    if held.is_empty() {
        return Ok(HashMap::new());
    }
    let names: Vec<&str> = held.iter().map(|(name, _)| name.as_str()).collect();
    let tokens: Vec<i64> = held.iter().map(|(_, lease)| lease.token()).collect();
    let rows = connected
        .query(
            "UPDATE fixgate_sessions AS s
             SET lease_until = clock_timestamp() + $2::bigint * interval '1 millisecond'
             FROM unnest($3::text[], $4::int8[]) AS h(session, token)
             WHERE s.session = h.session AND s.token = h.token AND s.owner = $1
             RETURNING s.session, s.token",
            &[&leases.instance, &lease_ms, &names, &tokens],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
        .collect())
}
