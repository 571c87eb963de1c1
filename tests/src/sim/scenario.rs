//! The simulated scenario: an acceptor engine with many sessions against initiator engines that
//! send orders, for simulated minutes, under faults drawn from one seed; then the properties of
//! the run are checked (issue 19, item 4).
//!
//! Processes: 1 is the acceptor (an executor that answers every NewOrderSingle with one
//! ExecutionReport), 2.. are initiators (each with a few sessions that put orders at random
//! intervals), and the last is an observer: an initiator session with HeartBtInt 1 that sends
//! nothing and is never faulted, whose Heartbeats from the acceptor measure how late the engine
//! is while other sessions stall.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fixgate_core::{
    BeginString, Delivered, EngineConfig, Event, MessageReport, Role, SessionConfig, SessionId,
    StorageDurability,
};
use fixgate_driver::{Application, Context, FixEngine, Runtime, Security};

use super::disk::{Disk, SimStore};
use super::executor::{Executor, ProcessId, World, lock};
use super::runtime::SimRuntime;

/// The acceptor's address.
const ACCEPTOR: ([u8; 4], u16) = ([127, 0, 0, 1], 9876);
/// The acceptor's CompID.
const ACC: &str = "ACC";
const ACCEPTOR_PROCESS: ProcessId = 1;
/// How late another session's Heartbeat may be while one session stalls.
pub const LATENESS_BOUND: Duration = Duration::from_millis(50);
/// The observer's HeartBtInt.
const OBSERVER_HBI: Duration = Duration::from_secs(1);

/// What a run is made of.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The seed of every random choice.
    pub seed: u64,
    /// Initiator processes.
    pub initiators: u32,
    /// Sessions per initiator process.
    pub sessions: u32,
    /// How long orders are sent, with faults.
    pub busy: Duration,
    /// How long the run goes on without faults or new orders, to settle.
    pub quiet: Duration,
    /// The stores' durability.
    pub durability: StorageDurability,
    /// Whether faults are injected.
    pub faults: bool,
    /// Whether every session uses `NextExpectedMsgSeqNum <789>` on Logon, so that recovery
    /// after a drop goes by the Logons' 789 instead of ResendRequests.
    pub next_expected: bool,
}

impl Scenario {
    /// The scenario CI runs for `seed`: two simulated minutes of orders and faults.
    pub fn standard(seed: u64) -> Self {
        Self {
            seed,
            initiators: 3,
            sessions: 3,
            busy: Duration::from_secs(120),
            quiet: Duration::from_secs(60),
            durability: [
                StorageDurability::Process,
                StorageDurability::Batch,
                StorageDurability::Each,
            ][(seed % 3) as usize],
            faults: true,
            next_expected: (seed / 3) % 2 == 1,
        }
    }
}

/// What a run showed.
#[derive(Debug)]
pub struct Outcome {
    /// The hash of the run's trace: equal for two runs of one seed.
    pub trace: u64,
    /// Events in the trace.
    pub events: u64,
    /// Orders accepted by `put()`.
    pub orders: u64,
    /// Engine steps per simulated second, at the most over any second.
    pub max_steps_per_second: u64,
    /// The latest the observer's Heartbeat came, beyond its HeartBtInt.
    pub worst_lateness: Duration,
    /// The faults injected.
    pub faults: Vec<String>,
    /// What broke the properties; empty when the run is correct.
    pub violations: Vec<String>,
}

/// One order's story, as the observer of the run sees it.
#[derive(Default, Debug)]
pub(crate) struct SessionLog {
    /// The next ClOrdID to use.
    pub(crate) next_order: u64,
    /// ClOrdIDs whose `put()` was attempted, and those it accepted, in order.
    pub(crate) attempted: Vec<u64>,
    pub(crate) accepted: Vec<u64>,
    /// ExecutionReports the initiator's application received: ClOrdID and PossDupFlag.
    pub(crate) reports: Vec<(u64, bool)>,
    /// Orders the acceptor's application executed: ClOrdID and PossDupFlag.
    pub(crate) executed: Vec<(u64, bool)>,
}

/// What the run's observer records, outside every simulated process (it survives crashes).
#[derive(Default)]
pub(crate) struct Log {
    pub(crate) sessions: BTreeMap<String, SessionLog>,
    /// Virtual times of the observer's Heartbeats from the acceptor, and of its disconnects.
    heartbeats: Vec<Duration>,
    observer_down: Vec<Duration>,
    /// Frames that arrived garbled: the network never corrupts bytes, so each is a fault of
    /// the sender's writing.
    garbled: Vec<String>,
    /// Set once the busy phase ends: the putters stop.
    pub(crate) stop: Arc<AtomicBool>,
}

pub(crate) type Shared = Arc<Mutex<Log>>;

/// A session's disks: the acceptor's, the initiator's.
type Disks = (Arc<Mutex<Disk>>, Arc<Mutex<Disk>>);

/// The ClOrdID <11> of an order or report.
pub(crate) fn cl_ord_id(delivered: &Delivered) -> Option<u64> {
    delivered.message().str(11).ok()?.parse().ok()
}

/// The acceptor's application: every NewOrderSingle is filled at once.
struct Filler {
    log: Shared,
    world: Arc<Mutex<World>>,
}

impl Application for Filler {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let Some(id) = cl_ord_id(delivered) else {
            let _ = ctx.ack(session, delivered);
            return;
        };
        let poss_dup = delivered.is_poss_dup();
        let key = session.target_comp_id.to_string();
        lock(&self.log)
            .sessions
            .entry(key.clone())
            .or_default()
            .executed
            .push((id, poss_dup));
        record(&self.world, format_args!("exec {key} {id} {poss_dup}"));
        let text = delivered.message().str(58).unwrap_or_default();
        let body = format!(
            "37={id}\x0117={id}\x01150=F\x0139=2\x0111={id}\x0155=X\x0154=1\x0158={text}\x01"
        );
        let _ = ctx.reply(session, delivered, b"8", body.as_bytes());
    }

    fn on_event(&mut self, _: &mut Context<'_>, session: &SessionId, event: Event) {
        note_event(&self.world, &self.log, session, &event);
    }

    fn on_disconnected(
        &mut self,
        _: &mut Context<'_>,
        session: &SessionId,
        reason: fixgate_core::DisconnectReason,
    ) {
        record(
            &self.world,
            format_args!("{session} disconnected: {reason:?}"),
        );
    }
}

/// Traces a session's event, and records a garbled frame.
pub(crate) fn note_event(
    world: &Arc<Mutex<World>>,
    log: &Shared,
    session: &SessionId,
    event: &Event,
) {
    if !matches!(event, Event::Message { .. }) {
        record(world, format_args!("{session} {event:?}"));
    }
    if let Event::Garbled(error) = event {
        lock(log).garbled.push(format!("{session}: {error:?}"));
    }
}

/// An initiator's application: records each ExecutionReport and settles it.
pub(crate) struct Trader {
    pub(crate) log: Shared,
    pub(crate) world: Arc<Mutex<World>>,
}

impl Application for Trader {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        if let Some(id) = cl_ord_id(delivered) {
            let poss_dup = delivered.is_poss_dup();
            let key = session.sender_comp_id.to_string();
            lock(&self.log)
                .sessions
                .entry(key.clone())
                .or_default()
                .reports
                .push((id, poss_dup));
            record(&self.world, format_args!("report {key} {id} {poss_dup}"));
        }
        let _ = ctx.ack(session, delivered);
    }

    fn on_event(&mut self, _: &mut Context<'_>, session: &SessionId, event: Event) {
        note_event(&self.world, &self.log, session, &event);
        // Only the observer's session reports its admin messages.
        if let Event::Message {
            inbound: true,
            frame,
        } = event
            && frame.windows(6).any(|w| w == b"\x0135=0\x01")
        {
            let at = lock(&self.world).elapsed;
            lock(&self.log).heartbeats.push(at);
            record(&self.world, format_args!("{session} heartbeat"));
        }
    }

    fn on_disconnected(
        &mut self,
        _: &mut Context<'_>,
        session: &SessionId,
        reason: fixgate_core::DisconnectReason,
    ) {
        record(
            &self.world,
            format_args!("{session} disconnected: {reason:?}"),
        );
        if &*session.sender_comp_id == "OBS" {
            let at = lock(&self.world).elapsed;
            lock(&self.log).observer_down.push(at);
        }
    }
}

pub(crate) fn record(world: &Arc<Mutex<World>>, event: std::fmt::Arguments<'_>) {
    let mut world = lock(world);
    let at = world.elapsed.as_micros();
    world.trace.record(at, event);
}

/// A simulated run in progress.
struct Run {
    scenario: Scenario,
    exec: Executor,
    world: Arc<Mutex<World>>,
    log: Shared,
    /// Each session's disks, by its initiator's CompID.
    disks: BTreeMap<String, Disks>,
    shape: Shape,
    faults: Vec<String>,
}

/// The sizes of a run, drawn from its seed: small buffers and long messages make output wait
/// behind a peer that stops reading, where timers and backpressure meet.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// The traders' HeartBtInt.
    hbi: Duration,
    /// `MaxOutboundBytes` of every session.
    max_outbound: usize,
    /// Bytes of free text on every order, which its ExecutionReport carries back.
    padding: usize,
}

impl Run {
    fn new(scenario: Scenario) -> Self {
        let exec = Executor::new(scenario.seed);
        let world = exec.world();
        let shape = {
            let mut world = lock(&world);
            world.net.faults.capacity = world.rng.between(8, 32) as usize * 1024;
            Shape {
                hbi: Duration::from_secs(world.rng.between(1, 5)),
                max_outbound: world.rng.between(4, 16) as usize * 1024,
                padding: world.rng.below(2000) as usize,
            }
        };
        let created = fixgate_core::UtcTimestamp::from_system_time(lock(&world).now().utc);
        let mut disks = BTreeMap::new();
        for name in Self::session_names(&scenario) {
            disks.insert(name, (Disk::new(created), Disk::new(created)));
        }
        Self {
            scenario,
            exec,
            world,
            log: Shared::default(),
            disks,
            shape,
            faults: Vec::new(),
        }
    }

    /// Every initiator CompID, the observer's last.
    fn session_names(scenario: &Scenario) -> Vec<String> {
        let mut names: Vec<String> = (0..scenario.initiators)
            .flat_map(|p| (0..scenario.sessions).map(move |k| format!("I{p}S{k}")))
            .collect();
        names.push("OBS".into());
        names
    }

    fn observer_process(&self) -> ProcessId {
        2 + self.scenario.initiators
    }

    fn session_config(&self, role: Role, hbi: Duration) -> SessionConfig {
        let mut config = SessionConfig::new(BeginString::Fix44, "", "", role);
        config.heart_bt_int = hbi;
        config.storage_durability = self.scenario.durability;
        config.max_outbound_bytes = self.shape.max_outbound;
        config.slow_consumer_timeout = Duration::from_secs(20);
        config.send_next_expected_msg_seq_num = self.scenario.next_expected;
        config
    }

    /// Starts (or restarts) the acceptor on its disks.
    fn start_acceptor(&mut self) {
        let runtime = SimRuntime::new(self.world.clone(), ACCEPTOR_PROCESS);
        let app = Filler {
            log: self.log.clone(),
            world: self.world.clone(),
        };
        let engine = FixEngine::start_with_app_on(
            runtime.clone(),
            EngineConfig::default(),
            Some(SocketAddr::from(ACCEPTOR)),
            Security::default(),
            app,
        )
        .expect("the acceptor listens");
        let sessions: Vec<(SessionId, SessionConfig, SimStore)> = self
            .disks
            .iter()
            .map(|(name, (acceptor_disk, _))| {
                (
                    SessionId::new(ACC, name.as_str()),
                    self.session_config(Role::Acceptor, Duration::from_secs(30)),
                    SimStore(acceptor_disk.clone()),
                )
            })
            .collect();
        runtime.spawn(async move {
            for (id, config, store) in sessions {
                let session = engine
                    .create_session(id, config, Box::new(store))
                    .await
                    .expect("created");
                session.connect().await.expect("registered");
            }
            // The handle keeps the engine running as long as the process lives.
            std::future::pending::<()>().await;
        });
    }

    /// Starts (or restarts) initiator process `process` (its sessions put orders until the
    /// busy phase ends), or the observer.
    fn start_initiator(&mut self, process: ProcessId) {
        let runtime = SimRuntime::new(self.world.clone(), process);
        let app = Trader {
            log: self.log.clone(),
            world: self.world.clone(),
        };
        let config = EngineConfig {
            reconnect_interval: Duration::from_millis(500),
            ..EngineConfig::default()
        };
        let engine =
            FixEngine::start_with_app_on(runtime.clone(), config, None, Security::default(), app)
                .expect("the initiator starts");
        let observer = process == self.observer_process();
        let names: Vec<String> = if observer {
            vec!["OBS".into()]
        } else {
            let p = process - 2;
            (0..self.scenario.sessions)
                .map(|k| format!("I{p}S{k}"))
                .collect()
        };
        for name in names {
            let hbi = if observer {
                OBSERVER_HBI
            } else {
                self.shape.hbi
            };
            let mut config = self.session_config(Role::Initiator, hbi);
            if observer {
                config.report_messages = MessageReport::Admin;
            }
            let store = SimStore(self.disks[&name].1.clone());
            let (engine, log, rt) = (engine.clone(), self.log.clone(), runtime.clone());
            let padding = self.shape.padding;
            runtime.spawn(async move {
                let id = SessionId::new(name.as_str(), ACC);
                let session = engine
                    .create_session(id, config, Box::new(store))
                    .await
                    .expect("created");
                session
                    .connect_to(SocketAddr::from(ACCEPTOR))
                    .await
                    .expect("initiated");
                if observer {
                    std::future::pending::<()>().await;
                }
                put_orders(&rt, &session, &name, &log, padding).await;
                std::future::pending::<()>().await;
            });
        }
    }
}

/// Puts orders at random intervals until the busy phase ends.
pub(crate) async fn put_orders(
    runtime: &SimRuntime,
    session: &fixgate_driver::Session,
    name: &str,
    log: &Shared,
    padding: usize,
) {
    let text = "x".repeat(padding);
    let stop = lock(log).stop.clone();
    while !stop.load(Ordering::Relaxed) {
        let pause = Duration::from_millis(runtime.seed() % 50 + 1);
        runtime.sleep(pause).await;
        let id = {
            let mut log = lock(log);
            let entry = log.sessions.entry(name.to_owned()).or_default();
            entry.next_order += 1;
            let id = entry.next_order;
            entry.attempted.push(id);
            id
        };
        let body = format!("11={id}\x0155=X\x0154=1\x0138=100\x0140=1\x0158=T{text}\x01");
        if session.put(&b"D"[..], body.into()).await.is_ok() {
            lock(log)
                .sessions
                .entry(name.to_owned())
                .or_default()
                .accepted
                .push(id);
        }
    }
}

/// Runs `scenario` and checks its properties.
pub fn run(scenario: Scenario) -> Outcome {
    let mut run = Run::new(scenario.clone());
    run.start_acceptor();
    for p in 0..scenario.initiators {
        run.start_initiator(2 + p);
    }
    let observer = run.observer_process();
    run.start_initiator(observer);

    // Time goes on in slices of 10 ms; between slices, faults.
    let slice = Duration::from_millis(10);
    let end = scenario.busy + scenario.quiet;
    let mut t = Duration::ZERO;
    let mut steps_before = 0;
    let mut max_steps_per_second = 0;
    let mut second_start = Duration::ZERO;
    let mut restarts: Vec<(Duration, ProcessId, bool)> = Vec::new();
    while t < end {
        t += slice;
        run.exec.run_until(t);
        if t >= scenario.busy {
            lock(&run.log).stop.store(true, Ordering::Relaxed);
        }
        // Processes due back.
        let due: Vec<(Duration, ProcessId, bool)> =
            restarts.iter().copied().filter(|r| r.0 <= t).collect();
        restarts.retain(|r| r.0 > t);
        for (_, process, _) in due {
            if process == ACCEPTOR_PROCESS {
                run.start_acceptor();
            } else {
                run.start_initiator(process);
            }
        }
        let steps = lock(&run.world).steps - steps_before;
        max_steps_per_second = max_steps_per_second.max(steps);
        if steps > STEP_BOUND {
            // An engine that spins: the run ends here, with its violation.
            break;
        }
        if t - second_start >= Duration::from_secs(1) {
            steps_before += steps;
            second_start = t;
        }
        if scenario.faults
            && t < scenario.busy
            && restarts.is_empty()
            && let Some(restart) = run.maybe_fault(t)
        {
            restarts.push(restart);
        }
    }
    run.check(max_steps_per_second)
}

impl Run {
    /// With a small chance per slice, injects a fault; a crash returns when its process comes
    /// back.
    fn maybe_fault(&mut self, t: Duration) -> Option<(Duration, ProcessId, bool)> {
        let (roll, pick, length) = {
            let mut world = lock(&self.world);
            (
                world.rng.below(1000),
                world.rng.below(1 << 20),
                Duration::from_millis(world.rng.between(100, 15_000)),
            )
        };
        // About one fault every four simulated seconds.
        if roll >= 3 {
            return None;
        }
        let initiator = 2 + (pick % u64::from(self.scenario.initiators)) as ProcessId;
        let fault = match pick % 7 {
            // A counterparty that stops reading (a slow consumer, or a resend it stalls).
            0 | 1 => {
                lock(&self.world).freeze_reads(initiator, t + length);
                format!("{t:?}: initiator {initiator} stops reading for {length:?}")
            }
            // An initiator's process crashes and comes back.
            2 => {
                self.exec.kill(initiator, false);
                self.note_fault(format!("{t:?}: initiator {initiator} crashes"));
                return Some((t + length / 4, initiator, false));
            }
            // The acceptor's process crashes and comes back: nothing appended is lost.
            3 => {
                self.exec.kill(ACCEPTOR_PROCESS, false);
                self.note_fault(format!("{t:?}: acceptor crashes"));
                return Some((t + length / 4, ACCEPTOR_PROCESS, false));
            }
            // The acceptor's machine loses power: what was not synced is lost (Each and Batch
            // only: under Process durability a power cut may lose what it allows).
            4 if self.scenario.durability != StorageDurability::Process => {
                self.exec.kill(ACCEPTOR_PROCESS, true);
                for (disk, _) in self.disks.values() {
                    lock(disk).lose_unsynced();
                }
                self.faults
                    .push(format!("{t:?}: acceptor's machine loses power"));
                return Some((t + length / 4, ACCEPTOR_PROCESS, true));
            }
            // An initiator's disk fails its syncs for a while.
            5 if self.scenario.durability != StorageDurability::Process => {
                let name = format!("I{}S0", initiator - 2);
                lock(&self.disks[&name].1).failing = true;
                let disk = self.disks[&name].1.clone();
                let runtime = SimRuntime::new(self.world.clone(), 0);
                let timer = runtime.clone();
                runtime.spawn(async move {
                    timer.sleep(length).await;
                    lock(&disk).failing = false;
                });
                format!("{t:?}: {name}'s syncs fail for {length:?}")
            }
            // A connection of an initiator is reset.
            _ => {
                lock(&self.world).reset_all_of(initiator);
                format!("{t:?}: initiator {initiator}'s connections reset")
            }
        };
        self.note_fault(fault);
        None
    }

    /// Records a fault in the run's list and its trace.
    fn note_fault(&mut self, fault: String) {
        record(&self.world, format_args!("fault: {fault}"));
        self.faults.push(fault);
    }

    /// The properties of the run.
    fn check(self, max_steps_per_second: u64) -> Outcome {
        let mut violations = Vec::new();
        let log = lock(&self.log);
        let mut orders = 0;
        for (name, s) in &log.sessions {
            orders += s.accepted.len() as u64;
            check_session(name, s, &mut violations);
        }
        for garbled in &log.garbled {
            violations.push(format!("a frame arrived garbled: {garbled}"));
        }
        // The observer's Heartbeats: one per HeartBtInt, at most LATENESS_BOUND late, except
        // across its own disconnects (acceptor crashes), one of which may come in the same
        // instant as the Heartbeat before it.
        let mut worst = Duration::ZERO;
        for pair in log.heartbeats.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if log
                .observer_down
                .iter()
                .any(|&d| d >= a && d <= b + OBSERVER_HBI)
            {
                continue;
            }
            let late = (b - a).saturating_sub(OBSERVER_HBI);
            worst = worst.max(late);
        }
        if worst > LATENESS_BOUND {
            violations.push(format!(
                "the observer's Heartbeat came {worst:?} late (bound {LATENESS_BOUND:?})"
            ));
        }
        let expected_beats = (self.scenario.busy + self.scenario.quiet).as_secs() / 2;
        if (log.heartbeats.len() as u64) < expected_beats {
            violations.push(format!(
                "the observer saw {} Heartbeats in {:?}",
                log.heartbeats.len(),
                self.scenario.busy + self.scenario.quiet
            ));
        }
        // Stores grow by what was sent: orders and reports of about 100 bytes, session messages
        // at most one a second each way, and resends.
        for (name, (acceptor_disk, initiator_disk)) in &self.disks {
            let s = log.sessions.get(name);
            let sent = s.map_or(0, |s| s.attempted.len() as u64);
            let seconds = (self.scenario.busy + self.scenario.quiet).as_secs();
            let bound = sent * (200 + 2 * self.shape.padding as u64) + seconds * 200 + 100_000;
            for (side, disk) in [("acceptor", acceptor_disk), ("initiator", initiator_disk)] {
                let bytes = lock(disk).appended_bytes;
                if bytes > bound {
                    violations.push(format!(
                        "{name}: the {side}'s store grew by {bytes} bytes (bound {bound})"
                    ));
                }
            }
        }
        if max_steps_per_second > STEP_BOUND {
            violations.push(format!(
                "over {max_steps_per_second} engine steps in one simulated second (bound \
                 {STEP_BOUND}): an engine spins"
            ));
        }
        let world = lock(&self.world);
        Outcome {
            trace: world.trace.hash(),
            events: world.trace.events(),
            orders,
            max_steps_per_second,
            worst_lateness: worst,
            faults: self.faults,
            violations,
        }
    }
}

/// Engine steps in one simulated second, at the most: the load is a few hundred orders a
/// second, each a handful of steps; an engine that spins makes a million (at a microsecond
/// each).
const STEP_BOUND: u64 = 200_000;

/// The properties of one initiator session's orders.
pub(crate) fn check_session(name: &str, s: &SessionLog, violations: &mut Vec<String>) {
    // Every accepted order gets its ExecutionReport; a second one only as a possible duplicate.
    let seen = check_receipts(name, "report", &s.reports, violations);
    for &(id, _) in &s.reports {
        if id == 0 || id > s.next_order {
            violations.push(format!("{name}: a report for order {id}, never put"));
        }
    }
    for id in &s.accepted {
        if !seen.contains_key(id) {
            violations.push(format!(
                "{name}: order {id} was accepted and never answered"
            ));
        }
    }
    // The acceptor executes each order once, in order; again only as a possible duplicate.
    check_receipts(name, "execution", &s.executed, violations);
}

/// The properties of messages received about orders (ClOrdID and PossDupFlag, in order): the
/// first receipts keep the orders' order, and a repeat carries PossDupFlag=Y. Returns how often
/// each order was received.
fn check_receipts(
    name: &str,
    what: &str,
    receipts: &[(u64, bool)],
    violations: &mut Vec<String>,
) -> BTreeMap<u64, u32> {
    let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
    let mut last_first = 0;
    for &(id, poss_dup) in receipts {
        let count = seen.entry(id).or_default();
        *count += 1;
        if *count > 1 && !poss_dup {
            violations.push(format!(
                "{name}: {what} of order {id} came again without PossDupFlag"
            ));
        }
        if *count == 1 {
            if id < last_first {
                violations.push(format!(
                    "{name}: {what} of order {id} came after that of {last_first}"
                ));
            }
            last_first = id;
        }
    }
    seen
}
