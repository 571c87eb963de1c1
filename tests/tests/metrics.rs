//! What the core counts for operators (issue 23): messages and bytes each way, resends, gap
//! fills, rejects and disconnects by reason, the engine's refusals, and the snapshot's gauges;
//! and the time each delivered message arrived.

use std::time::Duration;

use fixgate_core::metrics::{EngineMetrics, RejectKind, SessionMetrics};
use fixgate_core::{
    BeginString, CloseReason, ConnId, Credentials, Delivered, DisconnectReason, Engine,
    EngineConfig, MemoryStore, OutboundMessage, Output, Role, SessionConfig, SessionId,
    SessionRejectReason, SessionState, TimestampPrecision, UtcTimestamp,
};
use fixgate_tests::clock::SimClock;
use fixgate_tests::pair::{Pair, Side};
use fixgate_tests::peer::{ScriptedPeer, Seen};
use fixgate_tests::wire::frame;

/// An engine driven by hand, with what it asked the adapter to do collected.
struct Harness {
    engine: Engine,
    clock: SimClock,
    /// Bytes of every `Output::Send`.
    sent_bytes: usize,
    /// The bytes given to the engine, on every connection.
    given_bytes: usize,
    /// Deliveries taken and not yet settled.
    delivered: Vec<(SessionId, Delivered)>,
    /// Every `Output::Close`, as `conn reason`.
    closes: Vec<String>,
    /// Commits asked for and not yet reported.
    commits: Vec<SessionId>,
}

impl Harness {
    fn new() -> Self {
        let clock = SimClock::new();
        Self {
            engine: Engine::new(EngineConfig::default(), clock.now()),
            clock,
            sent_bytes: 0,
            given_bytes: 0,
            delivered: Vec::new(),
            closes: Vec::new(),
            commits: Vec::new(),
        }
    }

    fn acceptor(&mut self, id: &SessionId) {
        self.acceptor_with(id, |_| {});
    }

    fn acceptor_with(&mut self, id: &SessionId, change: impl FnOnce(&mut SessionConfig)) {
        let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        change(&mut config);
        let store = MemoryStore::new(UtcTimestamp::from_system_time(self.clock.utc()));
        self.engine
            .create_session(id.clone(), config, Box::new(store))
            .unwrap();
        self.engine.register_acceptor(id).unwrap();
    }

    /// A message from TW`n` to ISLD.
    fn message(&self, n: u32, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
        let time =
            UtcTimestamp::from_system_time(self.clock.utc()).format(TimestampPrecision::Millis);
        frame(
            "FIX.4.4",
            &format!(
                "35={msg_type}|34={seq}|49=TW{n}|52={}|56=ISLD|{fields}",
                time.as_str()
            ),
        )
    }

    fn logon(&self, n: u32, extra: &str) -> Vec<u8> {
        self.message(n, "A", 1, &format!("98=0|108=30|{extra}"))
    }

    fn open(&mut self, conn: u64) {
        let now = self.clock.now();
        let peer = std::net::IpAddr::from([127, 0, 0, 1]);
        self.engine
            .handle_connection_opened(ConnId(conn), Some(peer), now);
        self.pump();
    }

    fn input(&mut self, conn: u64, bytes: &[u8]) {
        let now = self.clock.now();
        self.given_bytes += bytes.len();
        self.engine.handle_input(ConnId(conn), now, bytes);
        self.pump();
    }

    /// Carries out the engine's outputs: sends counted (and left unwritten), deliveries taken.
    fn pump(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Send { bytes, .. } => self.sent_bytes += bytes.len(),
                Output::Deliver { session } => {
                    let delivered = self.engine.take_delivered(&session).unwrap();
                    self.delivered.push((session, delivered));
                }
                Output::Close { conn, reason } => {
                    let reason = match reason {
                        CloseReason::Refused(refusal) => format!("{refusal:?}"),
                        CloseReason::Session { reason, .. } => format!("{reason:?}"),
                        other => format!("{other:?}"),
                    };
                    self.closes.push(format!("{} {reason}", conn.0));
                }
                Output::Commit { session } => self.commits.push(session),
                _ => {}
            }
        }
    }

    /// Answers every delivery with an ExecutionReport carrying its ClOrdID.
    fn answer_all(&mut self) {
        let now = self.clock.now();
        for (session, delivered) in std::mem::take(&mut self.delivered) {
            let body = format!("11={}\x01", delivered.message().str(11).unwrap());
            let report = OutboundMessage::from_parts(b"8", body.as_bytes());
            self.engine
                .reply(now, &session, &delivered, report)
                .unwrap();
        }
        self.pump();
    }

    fn metrics(&self) -> EngineMetrics {
        self.engine.metrics()
    }

    fn session_metrics(&self, id: &SessionId) -> SessionMetrics {
        self.metrics()
            .sessions
            .into_iter()
            .find(|s| s.id == *id)
            .expect("the session is in the snapshot")
    }
}

fn tw(n: u32) -> SessionId {
    SessionId::new("ISLD", format!("TW{n}"))
}

fn order(h: &Harness, n: u32, seq: u64) -> Vec<u8> {
    h.message(n, "D", seq, &format!("11=O{seq}|55=AAPL|54=1|38=100|40=1|"))
}

/// A Logon and two orders in the connection's first read (the engine routes the Logon and hands
/// the session every byte of that read), then three orders in reads of their own, each answered:
/// every message and byte is counted once, by kind and direction.
#[test]
fn a_logon_and_orders_each_way_are_counted_with_their_bytes() {
    let mut h = Harness::new();
    h.acceptor(&tw(1));
    let before = h.session_metrics(&tw(1));
    assert_eq!(before.counters, Default::default());
    assert_eq!((before.last_received, before.last_sent), (None, None));

    h.open(1);
    let mut first_read = h.logon(1, "");
    first_read.extend(order(&h, 1, 2));
    first_read.extend(order(&h, 1, 3));
    h.input(1, &first_read);
    h.answer_all();
    for seq in 4..=6 {
        let bytes = order(&h, 1, seq);
        h.input(1, &bytes);
        h.answer_all();
    }

    let m = h.session_metrics(&tw(1));
    let c = m.counters;
    assert_eq!((c.admin_messages_in, c.app_messages_in), (1, 5));
    assert_eq!((c.admin_messages_out, c.app_messages_out), (1, 5));
    assert_eq!(c.bytes_in, h.given_bytes as u64);
    assert_eq!(c.bytes_out, h.sent_bytes as u64);
    assert!(c.bytes_out > 0);
    assert_eq!(c.disconnects.total(), 0);
    assert_eq!(c.rejects_sent.total() + c.rejects_received.total(), 0);
    assert!(m.last_received.is_some() && m.last_sent.is_some());
    // The session's own getter says the same.
    assert_eq!(*h.engine.session(&tw(1)).unwrap().counters(), c);
}

/// Two sessions talking directly (through `Session::poll_action`): each counts what the other
/// sent, byte for byte.
#[test]
fn each_side_of_a_pair_counts_what_the_other_sent() {
    let mut pair = Pair::new(Duration::from_secs(30));
    pair.connect();
    pair.settle();
    for i in 0..3 {
        pair.put(Side::Initiator, &format!("I{i}"));
        pair.put(Side::Acceptor, &format!("A{i}"));
    }
    pair.put(Side::Initiator, "I3");
    pair.settle();
    assert_eq!(pair.received(Side::Acceptor).len(), 4);

    let i = *pair.initiator.counters();
    let a = *pair.acceptor.counters();
    assert_eq!((i.admin_messages_out, i.app_messages_out), (1, 4));
    assert_eq!((i.admin_messages_in, i.app_messages_in), (1, 3));
    assert_eq!((a.admin_messages_out, a.app_messages_out), (1, 3));
    assert_eq!((a.admin_messages_in, a.app_messages_in), (1, 4));
    assert!(i.bytes_out > 0 && a.bytes_out > 0);
    assert_eq!(i.bytes_out, a.bytes_in);
    assert_eq!(a.bytes_out, i.bytes_in);
}

/// The counterparty asks for a resend (answered with a GapFill for our Logon and two copies);
/// then it skips two numbers, we ask for them, and its GapFill closes the gap.
#[test]
fn resend_requests_and_gap_fills_are_counted_each_way() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let now = peer.clock.now();
    for id in ["A", "B"] {
        let body = format!("11={id}\x0154=1\x01");
        peer.session
            .send(now, OutboundMessage::from_parts(b"D", body.as_bytes()))
            .unwrap();
    }
    peer.take();
    let resend_request = peer.message("2", "7=1|16=0|");
    peer.deliver(&resend_request);
    assert_eq!(
        peer.sent(),
        [
            "35=4|34=1|43=Y|122=*|36=2|123=Y",
            "35=D|34=2|43=Y|122=*|11=A|54=1",
            "35=D|34=3|43=Y|122=*|11=B|54=1",
        ]
    );
    // 3 and 4 go missing.
    let heartbeat = peer.message_with_seq("0", 5, "");
    peer.deliver(&heartbeat);
    assert_eq!(peer.sent(), ["35=2|34=4|7=3|16=0"]);
    let time = peer.timestamp(Duration::ZERO, false);
    let gap_fill = peer.message_with_seq("4", 3, &format!("43=Y|122={time}|36=5|123=Y|"));
    peer.deliver(&gap_fill);
    assert_eq!(peer.session.next_target_seq().get(), 6);

    let c = *peer.session.counters();
    assert_eq!((c.resend_requests_in, c.resend_requests_out), (1, 1));
    assert_eq!((c.gap_fills_in, c.gap_fills_out), (1, 1));
    // Logon, GapFill and ResendRequest; two orders and their two copies.
    assert_eq!((c.admin_messages_out, c.app_messages_out), (3, 4));
    // Logon, ResendRequest, Heartbeat, GapFill.
    assert_eq!((c.admin_messages_in, c.app_messages_in), (4, 0));
}

/// A TestRequest without its TestReqID is rejected (required tag missing); the counterparty's
/// Rejects are counted by their `SessionRejectReason <373>`, or as unknown without one.
#[test]
fn rejects_are_counted_by_reason_each_way() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let test_request = peer.message("1", "");
    peer.deliver(&test_request);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Required tag missing|371=112|372=1|373=1"]
    );
    let reject = peer.message("3", "45=2|373=5|");
    peer.deliver(&reject);
    let reject = peer.message("3", "45=2|");
    peer.deliver(&reject);

    let c = *peer.session.counters();
    assert_eq!(c.rejects_sent.by_label("required_tag_missing"), 1);
    assert_eq!(c.rejects_sent.total(), 1);
    let value_out_of_range = RejectKind::Reason(SessionRejectReason::ValueOutOfRange);
    assert_eq!(c.rejects_received.get(&value_out_of_range), 1);
    assert_eq!(c.rejects_received.get(&RejectKind::Unknown), 1);
    assert_eq!(c.rejects_received.total(), 2);
    assert_eq!(c.disconnects.total(), 0);
}

/// Before FIX 4.2 an application's refusal goes out as a session-level Reject, which has no
/// `SessionRejectReason <373>` then: it is counted as a Reject sent, of unknown reason.
#[test]
fn a_business_reject_before_fix42_is_counted_as_a_session_reject() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix41);
    peer.log_on();
    let order = peer.message("D", "11=X|21=1|55=A|54=1|40=1|");
    peer.deliver(&order);
    let delivered: Vec<Delivered> = peer.delivered();
    let now = peer.clock.now();
    peer.session
        .reject_business(now, &delivered[0], 0, Some("No"))
        .unwrap();
    assert_eq!(peer.sent(), ["35=3|34=2|45=2|58=No"]);
    let c = *peer.session.counters();
    assert_eq!(c.rejects_sent.get(&RejectKind::Unknown), 1);
    assert_eq!(c.rejects_sent.total(), 1);
    assert_eq!((c.admin_messages_out, c.app_messages_out), (2, 0));
    assert_eq!((c.admin_messages_in, c.app_messages_in), (1, 1));
}

/// Our Logout answered: one disconnect, logged out, however the adapter then reports the
/// connection's end.
#[test]
fn a_completed_logout_is_one_logged_out_disconnect() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let now = peer.clock.now();
    peer.session.logout(now, None).unwrap();
    assert_eq!(peer.sent(), ["35=5|34=2"]);
    let reply = peer.message("5", "");
    peer.deliver(&reply);
    assert_eq!(
        peer.take().last(),
        Some(&Seen::Disconnect(DisconnectReason::LoggedOut))
    );
    peer.session.handle_disconnected(peer.clock.now());
    let c = *peer.session.counters();
    assert_eq!(c.disconnects.by_label("logged_out"), 1);
    assert_eq!(c.disconnects.total(), 1);
}

#[test]
fn a_silent_counterparty_is_one_heartbeat_timeout() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    peer.wait(Duration::from_secs(80));
    let seen = peer.take();
    assert_eq!(
        seen.last(),
        Some(&Seen::Disconnect(DisconnectReason::HeartbeatTimeout))
    );
    let sent = seen.iter().filter(|s| matches!(s, Seen::Sent(_))).count();
    peer.session.handle_disconnected(peer.clock.now());
    let c = *peer.session.counters();
    assert_eq!(c.disconnects.get(&DisconnectReason::HeartbeatTimeout), 1);
    assert_eq!(c.disconnects.total(), 1);
    // The Logon reply, and the Heartbeat and TestRequest before the close.
    assert_eq!(sent, 2);
    assert_eq!(c.admin_messages_out, 1 + sent as u64);
}

#[test]
fn a_msg_seq_num_too_low_is_counted_by_its_reason() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let again = peer.message_with_seq("0", 1, "");
    peer.deliver(&again);
    let c = *peer.session.counters();
    assert_eq!(c.disconnects.by_label("msg_seq_num_too_low"), 1);
    assert_eq!(c.disconnects.total(), 1);
    // Bytes that come after the close belong to no connection: nothing more is counted.
    let before = *peer.session.counters();
    let late = peer.message("0", "");
    peer.deliver(&late);
    assert_eq!(*peer.session.counters(), before);
}

/// A message after logon with another BeginString is still a message received; the
/// connection ends for it.
#[test]
fn a_wrong_begin_string_is_a_message_received_and_a_disconnect() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let time = peer.timestamp(Duration::ZERO, false);
    let wrong = frame("FIX.4.2", &format!("35=0|34=2|49=TW|52={time}|56=ISLD|"));
    peer.deliver(&wrong);
    let c = *peer.session.counters();
    assert_eq!((c.admin_messages_in, c.app_messages_in), (2, 0));
    assert_eq!(c.disconnects.by_label("incorrect_begin_string"), 1);
    assert_eq!(c.disconnects.total(), 1);
}

/// A garbled frame is not a message, though its bytes are counted.
#[test]
fn a_garbled_frame_counts_bytes_but_no_message() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let before = *peer.session.counters();
    let garbled = fixgate_tests::wire::with_wrong_checksum(&peer.message("0", ""));
    peer.deliver(&garbled);
    let c = *peer.session.counters();
    assert_eq!(c.bytes_in, before.bytes_in + garbled.len() as u64);
    assert_eq!(
        (c.admin_messages_in, c.app_messages_in),
        (before.admin_messages_in, before.app_messages_in)
    );
}

/// Closes decided by the engine: a peer that stops reading (slow consumer), a store sync that
/// fails (its frames never handed out are not counted as sent), and a peer that closes.
#[test]
fn the_engines_own_closes_are_counted_once_by_their_reason() {
    let mut h = Harness::new();
    h.acceptor_with(&tw(1), |c| c.slow_consumer_timeout = Duration::from_secs(5));
    h.acceptor_with(&tw(2), |c| c.set("StorageDurability", "batch").unwrap());
    h.acceptor(&tw(3));

    // Slow consumer: the Logon reply is never written.
    h.open(1);
    let logon = h.logon(1, "");
    h.input(1, &logon);
    let now = h.clock.advance(Duration::from_secs(6));
    h.engine.handle_timeout(now);
    h.pump();
    assert_eq!(h.closes, ["1 SlowConsumer"]);
    h.engine.handle_connection_closed(ConnId(1), now);
    h.pump();
    let c = h.session_metrics(&tw(1)).counters;
    assert_eq!(c.disconnects.get(&DisconnectReason::SlowConsumer), 1);
    assert_eq!(c.disconnects.total(), 1);

    // A store sync that fails: the Logon reply waiting for it is dropped, not sent.
    h.sent_bytes = 0;
    h.open(2);
    let logon = h.logon(2, "");
    h.input(2, &logon);
    assert_eq!(h.commits, [tw(2)]);
    let failure = fixgate_core::StoreError::Io(std::io::ErrorKind::Other);
    h.engine.handle_committed(&tw(2), now, Err(failure));
    h.pump();
    assert_eq!(h.closes.last().unwrap(), "2 Store(Io(Other))");
    assert_eq!(h.sent_bytes, 0);
    let c = h.session_metrics(&tw(2)).counters;
    assert_eq!(c.disconnects.by_label("store"), 1);
    assert_eq!(c.disconnects.total(), 1);
    assert_eq!(
        (c.admin_messages_in, c.admin_messages_out, c.bytes_out),
        (1, 0, 0)
    );

    // The peer closes.
    h.open(3);
    let logon = h.logon(3, "");
    h.input(3, &logon);
    h.engine.handle_connection_closed(ConnId(3), now);
    h.pump();
    let c = h.session_metrics(&tw(3)).counters;
    assert_eq!(c.disconnects.get(&DisconnectReason::ConnectionClosed), 1);
    assert_eq!(c.disconnects.total(), 1);
}

/// Refusals by reason, connections waiting for their Logon, and sessions by state.
#[test]
fn refusals_pending_logons_and_states_are_in_the_snapshot() {
    let mut h = Harness::new();
    h.acceptor(&tw(1));
    h.acceptor(&tw(2));
    let credentials = Credentials {
        username: "user".into(),
        password: "secret".into(),
    };
    h.engine.set_credentials(&tw(2), credentials).unwrap();
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(h.clock.utc()));
    h.engine
        .create_session(SessionId::new("ISLD", "OUT"), config, Box::new(store))
        .unwrap();

    h.open(1);
    let logon = h.logon(1, "");
    h.input(1, &logon);
    h.open(2);
    let stranger = h.message(9, "A", 1, "98=0|108=30|");
    h.input(2, &stranger);
    h.open(3);
    let wrong = h.logon(2, "553=user|554=guess|");
    h.input(3, &wrong);
    h.open(4);
    h.open(5);
    let part = h.logon(2, "553=user|554=secret|");
    h.input(5, &part[..20]);
    assert_eq!(h.closes, ["2 UnknownSession", "3 AuthenticationFailed"]);

    let m = h.metrics();
    assert_eq!(m.pending_logon, 2);
    assert_eq!(m.refusals.by_label("unknown_session"), 1);
    assert_eq!(m.refusals.by_label("authentication_failed"), 1);
    assert_eq!(m.refusals.total(), 2);
    let states = m.sessions_by_state();
    assert_eq!(states.get(&SessionState::Active), 1);
    assert_eq!(states.get(&SessionState::WaitForLogon), 1);
    assert_eq!(states.by_label("disconnected"), 1);
    assert_eq!(states.total(), 3);
    // A refused connection's bytes reach no session.
    assert_eq!(h.session_metrics(&tw(2)).counters.bytes_in, 0);
}

/// Deliveries not yet settled, and messages waiting behind a gap.
#[test]
fn unsettled_and_queued_out_of_order_are_in_the_snapshot() {
    let mut h = Harness::new();
    h.acceptor(&tw(1));
    h.open(1);
    let logon = h.logon(1, "");
    h.input(1, &logon);
    for seq in [2, 3, 6, 7] {
        let bytes = order(&h, 1, seq);
        h.input(1, &bytes);
    }
    let m = h.session_metrics(&tw(1));
    assert_eq!(m.unsettled, 2);
    assert_eq!(m.queued_out_of_order, 2);
    assert_eq!(m.counters.resend_requests_out, 1);
    assert_eq!(m.counters.app_messages_in, 4);
    h.answer_all();
    let m = h.session_metrics(&tw(1));
    assert_eq!((m.unsettled, m.queued_out_of_order), (0, 2));
}

/// A delivered message carries the time its bytes were given to the engine: the read's, for one
/// in the Logon's read, and its own read's for one that waited behind a gap.
#[test]
fn delivered_messages_carry_the_time_their_bytes_were_given() {
    assert_eq!(Delivered::default().received_at(), None);
    let mut h = Harness::new();
    h.acceptor(&tw(1));
    h.open(1);
    let t0 = h.clock.advance(Duration::from_millis(5)).mono;
    let mut read = h.logon(1, "");
    read.extend(order(&h, 1, 2));
    h.input(1, &read);
    let t1 = h.clock.advance(Duration::from_millis(7)).mono;
    let ahead = order(&h, 1, 4);
    h.input(1, &ahead);
    h.clock.advance(Duration::from_millis(3));
    let t2 = h.clock.advance(Duration::from_millis(3)).mono;
    let missing = order(&h, 1, 3);
    h.input(1, &missing);
    h.clock.advance(Duration::from_millis(11));
    let times: Vec<_> = h
        .delivered
        .iter()
        .map(|(_, d)| (d.seq().get(), d.received_at()))
        .collect();
    assert_eq!(times, [(2, Some(t0)), (3, Some(t2)), (4, Some(t1))]);
    // Taken into reused storage, the time comes along.
    let mut into = Delivered::default();
    let fifth = order(&h, 1, 5);
    let t3 = h.clock.now().mono;
    h.engine.handle_input(ConnId(1), h.clock.now(), &fifth);
    while let Some(output) = h.engine.poll_output() {
        if let Output::Deliver { session } = output {
            assert!(h.engine.take_delivered_into(&session, &mut into));
        }
    }
    assert_eq!((into.seq().get(), into.received_at()), (5, Some(t3)));
}
