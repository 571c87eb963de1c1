//! The engine's queue of deadlines against the plain rule it replaces: whatever happens to a
//! handful of sessions (Logons with different HeartBtInts, traffic both ways, closes, connections
//! that never log on, time passing), `Engine::poll_timeout` is the earliest of every session's
//! own `poll_timeout` and every pending connection's LogonTimeout, and after `handle_timeout`
//! no session has a timer left in the past.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fixgate_core::OutboundMessage;
use fixgate_core::{
    BeginString, CloseReason, ConnId, Engine, EngineConfig, MemoryStore, Output, Role,
    SessionConfig, SessionId, TimestampPrecision, UtcTimestamp,
};
use fixgate_tests::clock::SimClock;
use fixgate_tests::wire::frame;
use proptest::prelude::*;

const SESSIONS: u8 = 5;
const LOGON_TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Clone, Debug)]
enum Op {
    /// The counterparty of session k connects and logs on with HeartBtInt h seconds.
    Logon(u8, u8),
    /// Session k puts an application message.
    Put(u8),
    /// The counterparty of session k sends a Heartbeat.
    Heartbeat(u8),
    /// Session k's connection drops.
    Drop(u8),
    /// A connection opens and sends nothing.
    Silent,
    /// Time passes (milliseconds), and the engine's deadline is served if it is due.
    Tick(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..SESSIONS, 1u8..6).prop_map(|(k, h)| Op::Logon(k, h)),
        3 => (0..SESSIONS).prop_map(Op::Put),
        3 => (0..SESSIONS).prop_map(Op::Heartbeat),
        1 => (0..SESSIONS).prop_map(Op::Drop),
        1 => Just(Op::Silent),
        6 => (1u16..4000).prop_map(Op::Tick),
    ]
}

fn id(k: u8) -> SessionId {
    SessionId::new("ACC", format!("C{k}"))
}

struct Sim {
    engine: Engine,
    clock: SimClock,
    /// The connection and next inbound sequence number of each connected counterparty.
    links: HashMap<u8, (ConnId, u64)>,
    /// Connections opened and not yet logged on or closed, with when they opened.
    pending: HashMap<ConnId, Instant>,
    next_conn: u64,
}

impl Sim {
    fn new() -> Self {
        let clock = SimClock::new();
        let mut engine = Engine::new(
            EngineConfig {
                logon_timeout: LOGON_TIMEOUT,
                ..EngineConfig::default()
            },
            clock.now(),
        );
        for k in 0..SESSIONS {
            let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
            let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
            engine
                .create_session(id(k), config, Box::new(store))
                .unwrap();
            engine.register_acceptor(&id(k)).unwrap();
        }
        Self {
            engine,
            clock,
            links: HashMap::new(),
            pending: HashMap::new(),
            next_conn: 1,
        }
    }

    fn inbound(&self, k: u8, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
        let time =
            UtcTimestamp::from_system_time(self.clock.utc()).format(TimestampPrecision::Millis);
        frame(
            "FIX.4.4",
            &format!(
                "35={msg_type}|34={seq}|49=C{k}|52={}|56=ACC|{fields}",
                time.as_str()
            ),
        )
    }

    fn open(&mut self) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        let now = self.clock.now();
        self.engine
            .handle_connection_opened(conn, Some([127, 0, 0, 1].into()), now);
        self.pending.insert(conn, now.mono);
        conn
    }

    fn apply(&mut self, op: &Op) {
        let now = self.clock.now();
        match *op {
            Op::Logon(k, heartbeat) if !self.links.contains_key(&k) => {
                let conn = self.open();
                // A new connection logs on with the next sequence number the session expects,
                // or resets it.
                let logon = self.inbound(k, "A", 1, &format!("98=0|108={heartbeat}|141=Y|"));
                self.engine.handle_input(conn, now, &logon);
                self.pending.remove(&conn);
                self.links.insert(k, (conn, 2));
            }
            Op::Put(k) => {
                let order = OutboundMessage::from_parts(b"D", b"11=X\x0155=AAPL\x0154=1\x01");
                let _ = self.engine.put(now, &id(k), order);
            }
            Op::Heartbeat(k) => {
                if let Some(&(conn, seq)) = self.links.get(&k) {
                    let heartbeat = self.inbound(k, "0", seq, "");
                    self.engine.handle_input(conn, now, &heartbeat);
                    self.links.insert(k, (conn, seq + 1));
                }
            }
            Op::Drop(k) => {
                if let Some((conn, _)) = self.links.remove(&k) {
                    self.engine.handle_connection_closed(conn, now);
                }
            }
            Op::Silent => {
                self.open();
            }
            Op::Tick(ms) => {
                let now = self.clock.advance(Duration::from_millis(u64::from(ms)));
                if self.engine.poll_timeout().is_some_and(|at| at <= now.mono) {
                    self.engine.handle_timeout(now);
                }
            }
            Op::Logon(..) => {}
        }
        self.carry_out();
    }

    /// Carries out the outputs as an adapter would: every send is written at once, every
    /// delivered message settled, every close forgotten.
    fn carry_out(&mut self) {
        let now = self.clock.now();
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Send { conn, bytes } => self.engine.handle_written(conn, now, bytes.len()),
                Output::Deliver { session } => {
                    let delivered = self.engine.take_delivered(&session).unwrap();
                    self.engine.ack(&session, &delivered).unwrap();
                }
                Output::Close { conn, reason } => {
                    self.pending.remove(&conn);
                    if let CloseReason::Session { .. } = reason {
                        self.links.retain(|_, (c, _)| *c != conn);
                    }
                }
                _ => {}
            }
        }
    }

    /// The rule the queue replaces: the earliest deadline of anything, looked up one by one.
    fn earliest(&self) -> Option<Instant> {
        let sessions = (0..SESSIONS).filter_map(|k| self.engine.session(&id(k))?.poll_timeout());
        let logons = self.pending.values().map(|&opened| opened + LOGON_TIMEOUT);
        sessions.chain(logons).min()
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut sim = Sim::new();
    for op in ops {
        sim.apply(op);
        let expected = sim.earliest();
        prop_assert_eq!(sim.engine.poll_timeout(), expected, "after {:?}", op);
        let now = sim.clock.now().mono;
        prop_assert!(
            expected.is_none_or(|at| at > now) || !matches!(op, Op::Tick(_)),
            "a deadline at or before now was left after handle_timeout ({:?})",
            op
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("TIMER_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn poll_timeout_is_the_earliest_deadline_of_all(ops in proptest::collection::vec(op(), 1..80)) {
        run(&ops)?;
    }
}

/// A thousand idle sessions and one busy one: the busy session's traffic moves its own deadline
/// only, and the deadline reported is still the idle sessions' earliest.
#[test]
fn idle_sessions_keep_their_deadlines_beside_a_busy_one() {
    let mut sim = Sim::new();
    let mut engine = Engine::new(EngineConfig::default(), sim.clock.now());
    std::mem::swap(&mut sim.engine, &mut engine);
    let ids: Vec<SessionId> = (0..1000)
        .map(|n| SessionId::new("ACC", format!("IDLE{n}")))
        .collect();
    for (n, id) in ids.iter().enumerate() {
        let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        let store = MemoryStore::new(UtcTimestamp::from_system_time(sim.clock.utc()));
        sim.engine
            .create_session(id.clone(), config, Box::new(store))
            .unwrap();
        sim.engine.register_acceptor(id).unwrap();
        let conn = ConnId(10_000 + n as u64);
        let now = sim.clock.advance(Duration::from_millis(10));
        sim.engine
            .handle_connection_opened(conn, Some([127, 0, 0, 1].into()), now);
        let time = UtcTimestamp::from_system_time(now.utc).format(TimestampPrecision::Millis);
        let logon = frame(
            "FIX.4.4",
            &format!(
                "35=A|34=1|49={}|52={}|56=ACC|98=0|108=30|",
                id.target_comp_id,
                time.as_str()
            ),
        );
        sim.engine.handle_input(conn, now, &logon);
        sim.carry_out();
    }
    // The first idle session's Heartbeat is due 30 s after its Logon.
    let first = sim.engine.session(&ids[0]).unwrap().poll_timeout();
    assert!(first.is_some());
    assert_eq!(sim.engine.poll_timeout(), first);
    for _ in 0..500 {
        let now = sim.clock.advance(Duration::from_millis(1));
        let order = OutboundMessage::from_parts(b"D", b"11=X\x0155=AAPL\x0154=1\x01");
        sim.engine.put(now, &ids[999], order).unwrap();
        sim.carry_out();
        assert_eq!(sim.engine.poll_timeout(), first);
    }
    // At that deadline exactly the sessions that are due send their Heartbeats.
    let now = sim.clock.advance(first.unwrap() - sim.clock.now().mono);
    sim.engine.handle_timeout(now);
    let mut heartbeats = 0;
    while let Some(output) = sim.engine.poll_output() {
        if let Output::Send { conn, bytes } = output {
            assert!(bytes.windows(5).any(|w| w == b"\x0135=0"), "a Heartbeat");
            assert_eq!(conn, ConnId(10_000));
            heartbeats += 1;
        }
    }
    assert_eq!(heartbeats, 1);
    assert_eq!(
        sim.engine.poll_timeout(),
        sim.engine.session(&ids[1]).unwrap().poll_timeout()
    );
}
