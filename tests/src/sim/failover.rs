//! Failover between two acceptor processes that share one simulated database (issue 21, its
//! part in the whole-engine simulation): the failover rules of `fixgate-postgres` and the
//! binary's `failover` module, rebuilt over a database that stalls, fails, and that a process
//! loses sight of, with every choice and every fault drawn from one seed.
//!
//! - [`SimDatabase`] lives outside every process (it survives their crashes): a row per session
//!   with its lease (owner, fencing token, `lease_until` by the database's clock, which is the
//!   virtual clock) and its committed state, plus the history of who owned what when.
//! - [`SimLeasedStore`] is a process's store of one session: appends wait in a batch for the
//!   session's commit, which the database writes only if the token has not moved on, and only
//!   before the lease's local end; `held_until` tells core until when it may act.
//! - Each acceptor process runs a keeper (renews its leases every quarter of
//!   [`FAILOVER_TIMEOUT`]) and a failover task (every eighth: claims a session that is free or
//!   whose lease lapsed, gives up one whose lease is lost).
//! - Initiators `connect_to_any` both acceptors and put orders; faults kill the owner, cut it
//!   off the database, stall or fail the database, and reset connections.
//!
//! The properties: every accepted order is answered, a repeat only with PossDupFlag, nothing is
//! executed by a process outside a span in which the database counted it as the session's owner
//! with a valid lease, a commit with a stale token writes nothing and the database's numbers
//! never go back, the database agrees with the initiators' stores at the end, and a faulted run
//! takes a session over at least once.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fixgate_core::{
    BeginString, Delivered, DisconnectReason, EngineConfig, Event, MemoryStore, MessageStore, Role,
    SeqNum, SessionConfig, SessionId, StorageDurability, StoreError, SyncHandle, UtcTimestamp,
};
use fixgate_driver::{Application, Context, FixEngine, Runtime, Security, Session};

use super::disk::{Disk, SimStore};
use super::executor::{Executor, ProcessId, World, lock};
use super::runtime::{BlockingGate, SimRuntime};
use super::scenario::{Shared, Trader, check_session, cl_ord_id, note_event, put_orders, record};

/// `FailoverTimeout`: how long a claim or a renewal holds the lease at the database.
pub const FAILOVER_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long a lease holds by the owner's clock after the statement that claimed or renewed it
/// was sent: three quarters of the timeout, always before the database lets another claim it.
const LOCAL_LEASE: Duration = Duration::from_millis(1125);

/// The acceptors' CompID.
const ACC: &str = "ACC";

/// The acceptor processes; the initiators are numbered after them.
const ACCEPTORS: [ProcessId; 2] = [1, 2];

/// How far the database's numbers may be ahead of an initiator's store at the end (messages in
/// flight: Heartbeats, TestRequests).
const IN_FLIGHT: u64 = 3;

/// Acceptor process `process`'s address.
fn address(process: ProcessId) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, process as u8], 9876))
}

/// What a failover run is made of.
#[derive(Clone, Debug)]
pub struct FailoverScenario {
    /// The seed of every random choice.
    pub seed: u64,
    /// Initiator processes.
    pub initiators: u32,
    /// Sessions per initiator process (each one of the acceptors' sessions).
    pub sessions: u32,
    /// How long orders are sent, with faults.
    pub busy: Duration,
    /// How long the run goes on without faults or new orders, to settle.
    pub quiet: Duration,
    /// Whether faults are injected.
    pub faults: bool,
    /// Whether the faults include late writes: what an owner sends the database arrives after
    /// its lease lapsed and another process took the session over (a zombie's writes).
    pub late_writes: bool,
}

impl FailoverScenario {
    /// The run the tests sweep for `seed`: 20 simulated seconds of orders and faults (late
    /// writes included), then 10 to settle, one initiator process with three sessions.
    pub fn standard(seed: u64) -> Self {
        Self {
            seed,
            initiators: 1,
            sessions: 3,
            busy: Duration::from_secs(20),
            quiet: Duration::from_secs(10),
            faults: true,
            late_writes: true,
        }
    }
}

/// What a failover run showed.
#[derive(Debug)]
pub struct Outcome {
    /// The hash of the run's trace: equal for two runs of one seed.
    pub trace: u64,
    /// Events in the trace.
    pub events: u64,
    /// Orders accepted by `put()`.
    pub orders: u64,
    /// Orders the acceptors' applications executed, repeats included.
    pub executions: u64,
    /// Claims that took a session from another process whose lease had lapsed.
    pub takeovers: u64,
    /// Commits the database refused because their token had moved on.
    pub fenced: u64,
    /// The faults injected.
    pub faults: Vec<String>,
    /// What broke the properties; empty when the run is correct.
    pub violations: Vec<String>,
}

/// A change to a session's store, kept in the batch of its next commit.
#[derive(Clone, Debug)]
enum Change {
    Append(SeqNum, Bytes, Option<SeqNum>),
    NextSender(SeqNum),
    NextTarget(SeqNum),
    Reset(UtcTimestamp),
}

impl Change {
    /// Applies the change to a store and its set of answered inbound numbers.
    fn apply(
        &self,
        store: &mut MemoryStore,
        answered: &mut BTreeSet<SeqNum>,
    ) -> Result<(), StoreError> {
        match self {
            Self::Append(seq, frame, answers) => {
                store.append_shared(*seq, frame, *answers)?;
                answered.extend(*answers);
            }
            Self::NextSender(seq) => store.set_next_sender_seq(*seq)?,
            Self::NextTarget(seq) => {
                store.set_next_target_seq(*seq)?;
                answered.retain(|&inbound| inbound >= *seq);
            }
            Self::Reset(at) => {
                store.reset(*at)?;
                answered.clear();
            }
        }
        Ok(())
    }
}

/// A span in which the database counted `owner` as a session's owner with a valid lease.
#[derive(Clone, Copy, Debug)]
pub struct Tenure {
    /// The owning process.
    pub owner: ProcessId,
    /// Its fencing token.
    pub token: u64,
    /// From the claim (or a renewal after a lapse that nobody used)…
    pub from: Duration,
    /// …to the end of the lease, or to the claim that ended it.
    pub until: Duration,
}

/// A session's row.
struct Row {
    owner: Option<ProcessId>,
    token: u64,
    lease_until: Duration,
    committed: MemoryStore,
    /// Inbound numbers answered by stored replies (the production store's `answers` column).
    answered: BTreeSet<SeqNum>,
    history: Vec<Tenure>,
}

/// The database's rows, its fault switches and its counters.
#[derive(Default)]
pub struct Db {
    rows: BTreeMap<String, Row>,
    /// Every call waits until then (virtual time).
    pub stalled_until: Duration,
    /// Every call fails until then.
    pub failing_until: Duration,
    /// A process reaches the database only from then on (the database is fine for others).
    pub partitioned: BTreeMap<ProcessId, Duration>,
    /// What a process sends before then reaches the database only then, and the process does
    /// not know it (a statement held up on the way): a zombie's late write.
    pub delayed: BTreeMap<ProcessId, Duration>,
    /// Claims that took a session from another process whose lease had lapsed.
    pub takeovers: u64,
    /// Commits refused because their token had moved on: they wrote nothing.
    pub fenced: u64,
    /// Commits written.
    pub commits: u64,
    /// What broke the database's own rules: numbers that went back, changes that did not apply.
    pub violations: Vec<String>,
}

/// The simulated database, shared by the acceptor processes and outside all of them.
#[derive(Clone, Default)]
pub struct SimDatabase(Arc<Mutex<Db>>);

impl SimDatabase {
    /// A database that knows sessions `names` (with the acceptor's CompID), none owned yet.
    pub fn new(names: &[String], created: UtcTimestamp) -> Self {
        let mut db = Db::default();
        for name in names {
            db.rows.insert(
                name.clone(),
                Row {
                    owner: None,
                    token: 0,
                    lease_until: Duration::ZERO,
                    committed: MemoryStore::new(created),
                    answered: BTreeSet::new(),
                    history: Vec::new(),
                },
            );
        }
        Self(Arc::new(Mutex::new(db)))
    }

    /// The database's state, to set its fault switches or read its counters.
    pub fn lock(&self) -> MutexGuard<'_, Db> {
        lock(&self.0)
    }

    /// Until when `process` cannot reach the database (a stall, or a partition).
    fn blocked_until(&self, process: ProcessId) -> Duration {
        let db = self.lock();
        let cut = db.partitioned.get(&process).copied().unwrap_or_default();
        db.stalled_until.max(cut)
    }

    /// When what `process` sends at `sent` reaches the database, at the earliest.
    fn arrives(&self, process: ProcessId, sent: Duration) -> Duration {
        let late = self
            .lock()
            .delayed
            .get(&process)
            .copied()
            .unwrap_or_default();
        match sent < late {
            true => late,
            false => sent,
        }
    }

    /// Whether calls fail at `now`.
    fn failing(&self, now: Duration) -> bool {
        now < self.lock().failing_until
    }

    /// The gate of `process`'s blocking jobs (its commits): a commit waits while the database
    /// does not answer that process, until the local end of the process's leases at the latest
    /// (the production store waits for the database until the lease's deadline, then fails).
    fn gate(&self, process: ProcessId, held: Held) -> BlockingGate {
        let db = self.clone();
        Arc::new(move |asked, now| {
            let arrives = db.arrives(process, asked);
            if now < arrives {
                return Some(arrives - now);
            }
            let blocked = db.blocked_until(process);
            let deadline = lock(&held)
                .values()
                .filter_map(|lease| {
                    let state = lock(&lease.state);
                    (!state.lost).then_some(state.deadline)
                })
                .max()
                .unwrap_or(asked);
            let until = blocked.min(deadline);
            (now < until).then(|| until - now)
        })
    }

    /// Claims `name` for `process` at `now` if it has no owner, is already `process`'s, or its
    /// lease lapsed: the new token, the committed state and the answered numbers.
    fn claim(
        &self,
        name: &str,
        process: ProcessId,
        now: Duration,
    ) -> Option<(u64, MemoryStore, BTreeSet<SeqNum>)> {
        let mut db = self.lock();
        let db = &mut *db;
        let row = db.rows.get_mut(name)?;
        let free = match row.owner {
            None => true,
            Some(owner) => owner == process || row.lease_until <= now,
        };
        if !free {
            return None;
        }
        if row.owner.is_some_and(|owner| owner != process) {
            db.takeovers += 1;
        }
        if let Some(last) = row.history.last_mut() {
            last.until = last.until.min(now);
        }
        row.owner = Some(process);
        row.token += 1;
        row.lease_until = now + FAILOVER_TIMEOUT;
        row.history.push(Tenure {
            owner: process,
            token: row.token,
            from: now,
            until: row.lease_until,
        });
        Some((row.token, row.committed.clone(), row.answered.clone()))
    }

    /// Renews `name`'s lease held with `token` at `now`; false when the token moved on.
    fn renew(&self, name: &str, token: u64, now: Duration) -> bool {
        let mut db = self.lock();
        let Some(row) = db.rows.get_mut(name) else {
            return false;
        };
        let Some(owner) = row.owner.filter(|_| row.token == token) else {
            return false;
        };
        row.lease_until = now + FAILOVER_TIMEOUT;
        match row.history.last_mut() {
            Some(last) if last.token == token && last.until >= now => {
                last.until = row.lease_until;
            }
            // Renewed after a lapse that nobody used: a new span from now.
            _ => row.history.push(Tenure {
                owner,
                token,
                from: now,
                until: row.lease_until,
            }),
        }
        true
    }

    /// Writes `changes` to `name` in one transaction iff its token is still `token`.
    fn commit(&self, name: &str, token: u64, changes: &[Change]) -> Result<(), StoreError> {
        let mut db = self.lock();
        let db = &mut *db;
        let Some(row) = db.rows.get_mut(name) else {
            return Err(StoreError::Fenced);
        };
        if row.token != token {
            db.fenced += 1;
            return Err(StoreError::Fenced);
        }
        // Applied to a copy: a transaction writes all of it or nothing.
        let (mut committed, mut answered) = (row.committed.clone(), row.answered.clone());
        for change in changes {
            if let Err(error) = change.apply(&mut committed, &mut answered) {
                db.violations
                    .push(format!("{name}: a commit's {change:?} failed: {error}"));
                return Err(error);
            }
        }
        let before = (
            row.committed.next_sender_seq(),
            row.committed.next_target_seq(),
        );
        let after = (committed.next_sender_seq(), committed.next_target_seq());
        let reset = changes.iter().any(|c| matches!(c, Change::Reset(_)));
        if !reset && (after.0 < before.0 || after.1 < before.1) {
            db.violations.push(format!(
                "{name}: a commit with token {token} moved the numbers back from {before:?} to \
                 {after:?}"
            ));
        }
        row.committed = committed;
        row.answered = answered;
        db.commits += 1;
        Ok(())
    }

    /// `name`'s ownership spans, as the database recorded them.
    pub fn history(&self, name: &str) -> Vec<Tenure> {
        self.lock()
            .rows
            .get(name)
            .map(|row| row.history.clone())
            .unwrap_or_default()
    }

    /// `name`'s committed next sender and target numbers.
    pub fn numbers(&self, name: &str) -> Option<(SeqNum, SeqNum)> {
        let db = self.lock();
        let row = db.rows.get(name)?;
        Some((
            row.committed.next_sender_seq(),
            row.committed.next_target_seq(),
        ))
    }

    /// `name`'s owner at `now`, if its lease holds.
    pub fn owner(&self, name: &str, now: Duration) -> Option<ProcessId> {
        let db = self.lock();
        let row = db.rows.get(name)?;
        row.owner.filter(|_| now < row.lease_until)
    }
}

/// The leases a process holds, by session.
type Held = Arc<Mutex<BTreeMap<String, Arc<Lease>>>>;

/// What a lease's holder knows of it.
struct LeaseState {
    token: u64,
    /// Until when it holds by the holder's clock (virtual time).
    deadline: Duration,
    lost: bool,
    /// The changes since the last commit.
    pending: Vec<Change>,
}

/// One process's hold on one session: shared by its store, the store's sync handle and the
/// process's keeper.
pub struct Lease {
    session: String,
    process: ProcessId,
    db: SimDatabase,
    world: Arc<Mutex<World>>,
    /// The monotonic instant of virtual time zero.
    epoch: Instant,
    state: Mutex<LeaseState>,
}

impl Lease {
    /// Whether another process took the session over (the token moved on): for good.
    pub fn is_lost(&self) -> bool {
        lock(&self.state).lost
    }

    fn token(&self) -> u64 {
        lock(&self.state).token
    }

    fn holds(&self, now: Duration) -> bool {
        let state = lock(&self.state);
        !state.lost && now < state.deadline
    }

    /// A renewal sent at `sent` was granted.
    fn extend(&self, sent: Duration) {
        let mut state = lock(&self.state);
        state.deadline = state.deadline.max(sent + LOCAL_LEASE);
    }

    fn lose(&self) {
        lock(&self.state).lost = true;
        record(
            &self.world,
            format_args!("process {} lost {}", self.process, self.session),
        );
    }

    fn push(&self, change: Change) {
        lock(&self.state).pending.push(change);
    }
}

/// One commit of a [`SimLeasedStore`]: the driver takes a sync handle for each commit when it
/// asks for it, so the handle knows when the commit was asked for.
struct Commit {
    lease: Arc<Lease>,
    asked: Duration,
}

impl SyncHandle for Commit {
    /// Writes the batch iff the token still matches, if the lease held when the commit was
    /// asked for; a commit that cannot reach the database before the lease's local end fails
    /// with `TimedOut` (the runtime's gate held it while the database did not answer), one
    /// that fails keeps its batch for the next commit, and a fenced one loses the lease. What
    /// it held back may be sent only if the lease still holds afterwards.
    fn sync(&self) -> Result<(), StoreError> {
        let lease = &*self.lease;
        let now = lock(&lease.world).elapsed;
        let (token, batch, deadline) = {
            let mut state = lock(&lease.state);
            if state.lost {
                return Err(StoreError::Fenced);
            }
            (
                state.token,
                std::mem::take(&mut state.pending),
                state.deadline,
            )
        };
        if batch.is_empty() {
            return match lease.holds(now) {
                true => Ok(()),
                false => Err(StoreError::Fenced),
            };
        }
        // The gate let the commit wait while that ended before the lease's deadline: a database
        // still out of reach now would answer only after it.
        let result = if self.asked >= deadline || lease.db.blocked_until(lease.process) > now {
            Err(StoreError::Io(std::io::ErrorKind::TimedOut))
        } else if lease.db.failing(now) {
            Err(StoreError::Io(std::io::ErrorKind::ConnectionRefused))
        } else {
            lease.db.commit(&lease.session, token, &batch)
        };
        match result {
            // Sent only if the lease still holds after the commit.
            Ok(()) => match lease.holds(now) {
                true => Ok(()),
                false => Err(StoreError::Fenced),
            },
            Err(StoreError::Fenced) => {
                record(
                    &lease.world,
                    format_args!(
                        "process {} fenced on {} (token {token})",
                        lease.process, lease.session
                    ),
                );
                lease.lose();
                Err(StoreError::Fenced)
            }
            Err(error) => {
                let mut state = lock(&lease.state);
                let newer = std::mem::replace(&mut state.pending, batch);
                state.pending.extend(newer);
                Err(error)
            }
        }
    }
}

/// A [`MessageStore`] for one session held by one process through a [`Lease`]: its state in
/// memory, its changes written to the [`SimDatabase`] at each commit.
pub struct SimLeasedStore {
    live: MemoryStore,
    /// Inbound numbers answered by stored replies, at or above the next target number.
    answered: BTreeSet<SeqNum>,
    lease: Arc<Lease>,
}

impl SimLeasedStore {
    /// A store on what the database committed, as a claim loads it.
    fn open(lease: Arc<Lease>, committed: MemoryStore, answered: BTreeSet<SeqNum>) -> Self {
        let next_target = committed.next_target_seq();
        let mut store = Self {
            live: committed,
            answered,
            lease,
        };
        // A reply proves its request was processed, even if the number was not moved on.
        let mut target = next_target;
        while store.answered.remove(&target) {
            target = target.next();
        }
        if target != next_target {
            let _ = store.set_next_target_seq(target);
        }
        store
    }

    fn owned(&self) -> Result<(), StoreError> {
        match self.lease.is_lost() {
            true => Err(StoreError::Fenced),
            false => Ok(()),
        }
    }
}

impl MessageStore for SimLeasedStore {
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        self.append_shared(seq, &Bytes::copy_from_slice(frame), answers)
    }

    fn append_shared(
        &mut self,
        seq: SeqNum,
        frame: &Bytes,
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        self.owned()?;
        self.live.append_shared(seq, frame, answers)?;
        self.answered.extend(answers);
        self.lease.push(Change::Append(seq, frame.clone(), answers));
        Ok(())
    }

    fn next_sender_seq(&self) -> SeqNum {
        self.live.next_sender_seq()
    }

    fn next_target_seq(&self) -> SeqNum {
        self.live.next_target_seq()
    }

    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.owned()?;
        self.live.set_next_sender_seq(seq)?;
        self.lease.push(Change::NextSender(seq));
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.owned()?;
        self.live.set_next_target_seq(seq)?;
        self.answered.retain(|&inbound| inbound >= seq);
        self.lease.push(Change::NextTarget(seq));
        Ok(())
    }

    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), StoreError> {
        self.live.read_range(from, to, each)
    }

    fn reset(&mut self, now: UtcTimestamp) -> Result<(), StoreError> {
        self.owned()?;
        self.live.reset(now)?;
        self.answered.clear();
        self.lease.push(Change::Reset(now));
        Ok(())
    }

    fn creation_time(&self) -> UtcTimestamp {
        self.live.creation_time()
    }

    fn answered_from(&self, from: SeqNum) -> Vec<SeqNum> {
        self.answered.range(from..).copied().collect()
    }

    fn durable_before_commit(&self) -> bool {
        false
    }

    fn held_until(&self) -> Option<Instant> {
        let state = lock(&self.lease.state);
        Some(match state.lost {
            true => self.lease.epoch,
            false => self.lease.epoch + state.deadline,
        })
    }

    fn sync_handle(&self) -> Option<Arc<dyn SyncHandle>> {
        let asked = lock(&self.lease.world).elapsed;
        Some(Arc::new(Commit {
            lease: self.lease.clone(),
            asked,
        }))
    }
}

/// An order an acceptor's application executed: by which process, when, and whether that
/// process's lease held then by its own clock.
#[derive(Clone, Debug)]
struct Execution {
    session: String,
    process: ProcessId,
    at: Duration,
    id: u64,
    held_locally: bool,
}

/// The acceptors' application: every NewOrderSingle is filled at once, and each execution is
/// recorded with its process and time for the lease property.
struct LeasedFiller {
    process: ProcessId,
    log: Shared,
    world: Arc<Mutex<World>>,
    executions: Arc<Mutex<Vec<Execution>>>,
    held: Held,
}

impl Application for LeasedFiller {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let Some(id) = cl_ord_id(delivered) else {
            let _ = ctx.ack(session, delivered);
            return;
        };
        let poss_dup = delivered.is_poss_dup();
        let key = session.target_comp_id.to_string();
        let at = lock(&self.world).elapsed;
        let held_locally = lock(&self.held)
            .get(&key)
            .is_some_and(|lease| lease.holds(at));
        lock(&self.log)
            .sessions
            .entry(key.clone())
            .or_default()
            .executed
            .push((id, poss_dup));
        lock(&self.executions).push(Execution {
            session: key.clone(),
            process: self.process,
            at,
            id,
            held_locally,
        });
        record(
            &self.world,
            format_args!("exec {key} {id} {poss_dup} by {}", self.process),
        );
        let body = format!("37={id}\x0117={id}\x01150=F\x0139=2\x0111={id}\x0155=X\x0154=1\x01");
        let _ = ctx.reply(session, delivered, b"8", body.as_bytes());
    }

    fn on_event(&mut self, _: &mut Context<'_>, session: &SessionId, event: Event) {
        note_event(&self.world, &self.log, session, &event);
    }

    fn on_disconnected(
        &mut self,
        _: &mut Context<'_>,
        session: &SessionId,
        reason: DisconnectReason,
    ) {
        record(
            &self.world,
            format_args!("{session} at {} disconnected: {reason:?}", self.process),
        );
    }
}

/// One acceptor process's failover state: the leases it holds.
struct Node {
    process: ProcessId,
    db: SimDatabase,
    world: Arc<Mutex<World>>,
    runtime: SimRuntime,
    held: Held,
}

impl Node {
    fn now(&self) -> Duration {
        lock(&self.world).elapsed
    }

    /// Waits until the database answers this process, for a statement sent at `asked`: false
    /// when the database fails, or does not answer while a lease would hold locally.
    async fn reach(&self, asked: Duration) -> bool {
        let arrives = self.db.arrives(self.process, asked);
        let now = self.now();
        if now < arrives {
            self.runtime.sleep(arrives - now).await;
        }
        loop {
            let now = self.now();
            let blocked = self.db.blocked_until(self.process);
            if now < blocked {
                let give_up = asked + LOCAL_LEASE;
                if now >= give_up {
                    return false;
                }
                self.runtime.sleep(blocked.min(give_up) - now).await;
                continue;
            }
            return !self.db.failing(now);
        }
    }

    /// The keeper: renews every held lease a quarter of the timeout apart; a token that moved
    /// on loses the lease.
    async fn keep(self: Arc<Self>) {
        loop {
            self.runtime.sleep(FAILOVER_TIMEOUT / 4).await;
            let leases: Vec<Arc<Lease>> = lock(&self.held)
                .values()
                .filter(|lease| !lease.is_lost())
                .cloned()
                .collect();
            if leases.is_empty() {
                continue;
            }
            let sent = self.now();
            if !self.reach(sent).await {
                continue;
            }
            let now = self.now();
            for lease in leases {
                match self.db.renew(&lease.session, lease.token(), now) {
                    true => lease.extend(sent),
                    false => lease.lose(),
                }
            }
        }
    }

    /// Claims `name` if the database lets this process have it: its store.
    async fn claim(&self, name: &str) -> Option<SimLeasedStore> {
        let sent = self.now();
        if !self.reach(sent).await {
            return None;
        }
        let (token, committed, answered) = self.db.claim(name, self.process, self.now())?;
        record(
            &self.world,
            format_args!("process {} claims {name} (token {token})", self.process),
        );
        let lease = Arc::new(Lease {
            session: name.to_owned(),
            process: self.process,
            db: self.db.clone(),
            world: self.world.clone(),
            epoch: lock(&self.world).instant(Duration::ZERO),
            state: Mutex::new(LeaseState {
                token,
                deadline: sent + LOCAL_LEASE,
                lost: false,
                pending: Vec::new(),
            }),
        });
        Some(SimLeasedStore::open(lease, committed, answered))
    }

    /// The failover task: an eighth of the timeout apart, claims each session not held when
    /// it is free or lapsed, and gives up each whose lease is lost.
    async fn failover(
        self: Arc<Self>,
        engine: FixEngine,
        names: Vec<String>,
        config: SessionConfig,
    ) {
        let mut sessions: BTreeMap<String, Session> = BTreeMap::new();
        loop {
            self.runtime.sleep(FAILOVER_TIMEOUT / 8).await;
            for name in &names {
                let lost = lock(&self.held).get(name).map(|lease| lease.is_lost());
                match lost {
                    Some(true) => {
                        lock(&self.held).remove(name);
                        if let Some(session) = sessions.remove(name) {
                            let _ = session.finalize().await;
                        }
                        record(
                            &self.world,
                            format_args!("process {} gives {name} up", self.process),
                        );
                    }
                    Some(false) => {}
                    None => {
                        let Some(store) = self.claim(name).await else {
                            continue;
                        };
                        let lease = store.lease.clone();
                        let id = SessionId::new(ACC, name.as_str());
                        let created = engine
                            .create_session(id, config.clone(), Box::new(store))
                            .await;
                        match created {
                            Ok(session) => {
                                let _ = session.connect().await;
                                lock(&self.held).insert(name.clone(), lease);
                                sessions.insert(name.clone(), session);
                            }
                            Err(error) => record(
                                &self.world,
                                format_args!("process {} cannot run {name}: {error}", self.process),
                            ),
                        }
                    }
                }
            }
        }
    }
}

/// A failover run in progress.
struct Run {
    scenario: FailoverScenario,
    exec: Executor,
    world: Arc<Mutex<World>>,
    log: Shared,
    db: SimDatabase,
    executions: Arc<Mutex<Vec<Execution>>>,
    /// Each session's initiator disk, by the initiator's CompID.
    disks: BTreeMap<String, Arc<Mutex<Disk>>>,
    /// Every session's HeartBtInt.
    hbi: Duration,
    faults: Vec<String>,
}

impl Run {
    fn new(scenario: FailoverScenario) -> Self {
        let exec = Executor::new(scenario.seed);
        let world = exec.world();
        let hbi = Duration::from_secs(lock(&world).rng.between(1, 3));
        let created = UtcTimestamp::from_system_time(lock(&world).now().utc);
        let names = Self::session_names(&scenario);
        let disks = names
            .iter()
            .map(|name| (name.clone(), Disk::new(created)))
            .collect();
        Self {
            db: SimDatabase::new(&names, created),
            scenario,
            exec,
            world,
            log: Shared::default(),
            executions: Arc::default(),
            disks,
            hbi,
            faults: Vec::new(),
        }
    }

    /// Every initiator CompID.
    fn session_names(scenario: &FailoverScenario) -> Vec<String> {
        (0..scenario.initiators)
            .flat_map(|p| (0..scenario.sessions).map(move |k| format!("I{p}S{k}")))
            .collect()
    }

    fn session_config(&self, role: Role) -> SessionConfig {
        let mut config = SessionConfig::new(BeginString::Fix44, "", "", role);
        config.heart_bt_int = self.hbi;
        // The acceptors' stores keep appends until their commit: this acts as `batch`.
        config.storage_durability = StorageDurability::Process;
        config
    }

    /// Starts (or restarts, as a standby) acceptor process `process`.
    fn start_acceptor(&mut self, process: ProcessId) {
        let held = Held::default();
        let runtime = SimRuntime::new(self.world.clone(), process)
            .with_blocking_gate(self.db.gate(process, held.clone()));
        let app = LeasedFiller {
            process,
            log: self.log.clone(),
            world: self.world.clone(),
            executions: self.executions.clone(),
            held: held.clone(),
        };
        let engine = FixEngine::start_with_app_on(
            runtime.clone(),
            EngineConfig::default(),
            Some(address(process)),
            Security::default(),
            app,
        )
        .expect("the acceptor listens");
        let node = Arc::new(Node {
            process,
            db: self.db.clone(),
            world: self.world.clone(),
            runtime: runtime.clone(),
            held,
        });
        runtime.spawn(node.clone().keep());
        let names = Self::session_names(&self.scenario);
        runtime.spawn(node.failover(engine, names, self.session_config(Role::Acceptor)));
    }

    /// Starts initiator process `process`: its sessions try both acceptors in turn and put
    /// orders until the busy phase ends.
    fn start_initiator(&mut self, process: ProcessId) {
        let runtime = SimRuntime::new(self.world.clone(), process);
        let app = Trader {
            log: self.log.clone(),
            world: self.world.clone(),
        };
        let config = EngineConfig {
            reconnect_interval: Duration::from_millis(250),
            ..EngineConfig::default()
        };
        let engine =
            FixEngine::start_with_app_on(runtime.clone(), config, None, Security::default(), app)
                .expect("the initiator starts");
        let p = process - 1 - ACCEPTORS.len() as ProcessId;
        for k in 0..self.scenario.sessions {
            let name = format!("I{p}S{k}");
            let config = self.session_config(Role::Initiator);
            let store = SimStore(self.disks[&name].clone());
            let (engine, log, rt) = (engine.clone(), self.log.clone(), runtime.clone());
            runtime.spawn(async move {
                let id = SessionId::new(name.as_str(), ACC);
                let session = engine
                    .create_session(id, config, Box::new(store))
                    .await
                    .expect("created");
                let addrs = ACCEPTORS.iter().map(|&a| address(a)).collect();
                session.connect_to_any(addrs).await.expect("initiated");
                put_orders(&rt, &session, &name, &log, 0).await;
                std::future::pending::<()>().await;
            });
        }
    }

    /// Records a fault in the run's list and its trace.
    fn note_fault(&mut self, fault: String) {
        record(&self.world, format_args!("fault: {fault}"));
        self.faults.push(fault);
    }

    /// With a small chance per slice, injects a fault: when it ends, and the acceptor to
    /// restart then, if it killed one. The first fault takes an owner away for longer than a
    /// lease, so that every faulted run takes a session over.
    fn maybe_fault(&mut self, t: Duration) -> Option<(Duration, Option<ProcessId>)> {
        let (roll, pick, names) = {
            let mut world = lock(&self.world);
            let names = Self::session_names(&self.scenario);
            (world.rng.below(1000), world.rng.below(1 << 20), names)
        };
        if roll >= 5 {
            return None;
        }
        let name = &names[(pick % names.len() as u64) as usize];
        let owner = self.db.owner(name, t)?;
        let first = self.faults.is_empty();
        let kinds = if self.scenario.late_writes { 7 } else { 6 };
        let kind = if first {
            pick / 8 % 2
        } else {
            pick / 8 % kinds
        };
        let millis = |world: &Arc<Mutex<World>>, low, high| {
            Duration::from_millis(lock(world).rng.between(low, high))
        };
        let (length, restart) = match kind {
            // The owner's process crashes; it comes back later, as a standby.
            0 => {
                let length = millis(&self.world, 2_500, 6_000);
                self.exec.kill(owner, false);
                self.note_fault(format!(
                    "{t:?}: owner {owner} of {name} crashes for {length:?}"
                ));
                (length, Some(owner))
            }
            // The owner loses sight of the database; it must stop acting by its own clock.
            1 => {
                let length = millis(&self.world, 2_500, 6_000);
                self.db.lock().partitioned.insert(owner, t + length);
                self.note_fault(format!(
                    "{t:?}: owner {owner} of {name} cut off the database for {length:?}"
                ));
                (length, None)
            }
            // The database stalls for everyone, shorter than a lease.
            2 => {
                let length = millis(&self.world, 100, 1_000);
                self.db.lock().stalled_until = t + length;
                self.note_fault(format!("{t:?}: the database stalls for {length:?}"));
                (length, None)
            }
            // The database stalls for everyone, longer than a lease.
            3 => {
                let length = millis(&self.world, 2_000, 5_000);
                self.db.lock().stalled_until = t + length;
                self.note_fault(format!("{t:?}: the database stalls for {length:?}"));
                (length, None)
            }
            // The database fails every call for a moment.
            4 => {
                let length = millis(&self.world, 100, 2_000);
                self.db.lock().failing_until = t + length;
                self.note_fault(format!("{t:?}: the database fails for {length:?}"));
                (length, None)
            }
            // The owner's connections are reset.
            5 => {
                lock(&self.world).reset_all_of(owner);
                self.note_fault(format!("{t:?}: owner {owner}'s connections reset"));
                (Duration::ZERO, None)
            }
            // What the owner sends the database is held up on the way, past its lease: a zombie
            // whose late writes the token must refuse.
            _ => {
                let length = millis(&self.world, 2_000, 4_000);
                self.db.lock().delayed.insert(owner, t + length);
                self.note_fault(format!(
                    "{t:?}: what owner {owner} of {name} sends the database arrives {length:?} late"
                ));
                (length, None)
            }
        };
        Some((t + length, restart))
    }

    /// The properties of the run.
    fn check(self) -> Outcome {
        let mut violations = Vec::new();
        let log = lock(&self.log);
        let mut orders = 0;
        for (name, s) in &log.sessions {
            orders += s.accepted.len() as u64;
            check_session(name, s, &mut violations);
        }
        // Nothing executed without a lease the database granted to the executing process.
        let executions = lock(&self.executions);
        let mut histories: BTreeMap<&str, Vec<Tenure>> = BTreeMap::new();
        for e in executions.iter() {
            // Nothing delivered past the lease's end by the process's own clock either.
            if !e.held_locally {
                violations.push(format!(
                    "{}: order {} executed by process {} at {:?}, past its lease's local end",
                    e.session, e.id, e.process, e.at
                ));
            }
            let history = histories
                .entry(&e.session)
                .or_insert_with(|| self.db.history(&e.session));
            let held = history
                .iter()
                .any(|t| t.owner == e.process && t.from <= e.at && e.at < t.until);
            if !held {
                violations.push(format!(
                    "{}: order {} executed by process {} at {:?}, outside its leases: {history:?}",
                    e.session, e.id, e.process, e.at
                ));
            }
        }
        // The database's own rules.
        let (takeovers, fenced) = {
            let db = self.db.lock();
            violations.extend(db.violations.iter().cloned());
            (db.takeovers, db.fenced)
        };
        // The database agrees with the initiators' stores: it holds every message an initiator
        // received, has processed no more than it sent, and is behind only by what is in
        // flight.
        for (name, disk) in &self.disks {
            let (sent, received) = {
                let disk = lock(disk);
                (disk.next_sender_seq().get(), disk.next_target_seq().get())
            };
            let Some((db_sender, db_target)) = self.db.numbers(name) else {
                continue;
            };
            let (db_sender, db_target) = (db_sender.get(), db_target.get());
            if received > db_sender || db_target > sent {
                violations.push(format!(
                    "{name}: the initiator sent up to {sent} and received up to {received}, the \
                     database holds up to {db_sender} sent and {db_target} processed"
                ));
            } else if db_sender - received > IN_FLIGHT || sent - db_target > IN_FLIGHT {
                violations.push(format!(
                    "{name}: the database ({db_sender}, {db_target}) and the initiator ({sent}, \
                     {received}) disagree at the end"
                ));
            }
        }
        if self.scenario.faults && takeovers == 0 {
            violations.push("no session was taken over in a faulted run".into());
        }
        let world = lock(&self.world);
        Outcome {
            trace: world.trace.hash(),
            events: world.trace.events(),
            orders,
            executions: executions.len() as u64,
            takeovers,
            fenced,
            faults: self.faults.clone(),
            violations,
        }
    }
}

/// Runs `scenario` and checks its properties.
pub fn run(scenario: FailoverScenario) -> Outcome {
    let mut run = Run::new(scenario.clone());
    for process in ACCEPTORS {
        run.start_acceptor(process);
    }
    for p in 0..scenario.initiators {
        run.start_initiator(1 + ACCEPTORS.len() as ProcessId + p);
    }
    // Time goes on in slices of 10 ms; between slices, faults, one at a time, each followed by
    // two seconds without any.
    let slice = Duration::from_millis(10);
    let end = scenario.busy + scenario.quiet;
    let mut t = Duration::ZERO;
    let mut calm_until = Duration::from_secs(2);
    let mut restart: Option<(Duration, ProcessId)> = None;
    while t < end {
        t += slice;
        run.exec.run_until(t);
        if t >= scenario.busy {
            lock(&run.log).stop.store(true, Ordering::Relaxed);
        }
        if let Some((at, process)) = restart
            && at <= t
        {
            restart = None;
            record(&run.world, format_args!("process {process} restarts"));
            run.start_acceptor(process);
        }
        if scenario.faults
            && t + Duration::from_secs(2) < scenario.busy
            && t >= calm_until
            && let Some((ends, restarts)) = run.maybe_fault(t)
        {
            calm_until = ends + Duration::from_secs(2);
            restart = restarts.map(|process| (ends, process));
        }
    }
    run.check()
}
