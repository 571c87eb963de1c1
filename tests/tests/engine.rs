//! The engine: routing connections to sessions by their Logon, unregistered acceptors,
//! credentials, and the session lifecycle across connections.

use std::time::Duration;

use fixgate_core::OutboundMessage;
use fixgate_core::{
    BeginString, CloseReason, ConnId, Credentials, Engine, EngineConfig, EngineError, MemoryStore,
    Output, Role, SeqNum, SessionConfig, SessionId, SessionState, TimestampPrecision, UtcTimestamp,
};
use fixgate_core::{SessionDecision, SessionsManager};
use fixgate_tests::clock::SimClock;
use fixgate_tests::peer::brief;
use fixgate_tests::wire::frame;

struct Harness {
    engine: Engine,
    clock: SimClock,
    peer: std::net::IpAddr,
}

impl Harness {
    fn new(config: EngineConfig) -> Self {
        let clock = SimClock::new();
        Self {
            engine: Engine::new(config, clock.now()),
            clock,
            peer: std::net::IpAddr::from([127, 0, 0, 1]),
        }
    }

    /// Initiator BANK->VENUE, not started.
    fn initiator(&mut self) -> SessionId {
        let id = SessionId::new("BANK", "VENUE");
        let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator);
        let store = MemoryStore::new(UtcTimestamp::from_system_time(self.clock.utc()));
        self.engine
            .create_session(id.clone(), config, Box::new(store))
            .unwrap();
        id
    }

    fn acceptor(&mut self, id: &SessionId) {
        let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        self.acceptor_with(id, config);
    }

    /// Acceptor `id`, whose Logons must carry Username `username` and Password `password`.
    fn acceptor_requiring(&mut self, id: &SessionId, username: &str, password: &str) {
        self.acceptor(id);
        let credentials = Credentials {
            username: username.into(),
            password: password.into(),
        };
        self.engine.set_credentials(id, credentials).unwrap();
    }

    fn acceptor_with(&mut self, id: &SessionId, config: SessionConfig) {
        let store = MemoryStore::new(UtcTimestamp::from_system_time(self.clock.utc()));
        self.engine
            .create_session(id.clone(), config, Box::new(store))
            .unwrap();
        self.engine.register_acceptor(id).unwrap();
    }

    /// A message from the counterparty `them` to our `us`.
    fn message(&self, them: &str, us: &str, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
        let time =
            UtcTimestamp::from_system_time(self.clock.utc()).format(TimestampPrecision::Millis);
        frame(
            "FIX.4.4",
            &format!(
                "35={msg_type}|34={seq}|49={them}|52={}|56={us}|{fields}",
                time.as_str()
            ),
        )
    }

    fn logon(&self, them: &str, us: &str, seq: u64, extra: &str) -> Vec<u8> {
        self.message(them, us, "A", seq, &format!("98=0|108=30|{extra}"))
    }

    fn open(&mut self, conn: u64, bytes: &[u8]) -> Vec<String> {
        let now = self.clock.now();
        self.engine
            .handle_connection_opened(ConnId(conn), Some(self.peer), now);
        self.input(conn, bytes)
    }

    fn input(&mut self, conn: u64, bytes: &[u8]) -> Vec<String> {
        let now = self.clock.now();
        self.engine.handle_input(ConnId(conn), now, bytes);
        self.outputs()
    }

    /// The outputs since the last look, as readable strings.
    fn outputs(&mut self) -> Vec<String> {
        let mut seen = Vec::new();
        while let Some(output) = self.engine.poll_output() {
            seen.push(match output {
                Output::Send { conn, bytes } => format!("send {} {}", conn.0, brief(&bytes)),
                Output::Close {
                    conn,
                    reason: CloseReason::Refused(refusal),
                } => {
                    format!("close {} {refusal:?}", conn.0)
                }
                Output::Close {
                    conn,
                    reason: CloseReason::Session { reason, .. },
                } => {
                    format!("close {} {reason:?}", conn.0)
                }
                Output::Event { session, event } => format!("event {session} {event:?}"),
                Output::Deliver { session } => {
                    let delivered = self.engine.take_delivered(&session).unwrap();
                    let text = brief(delivered.message().as_bytes());
                    self.engine.ack(&session, &delivered).unwrap();
                    format!("deliver {session} {text}")
                }
                Output::Commit { session } => format!("commit {session}"),
                Output::Connect { session, addr } => format!("connect {session} {addr}"),
                other => format!("{other:?}"),
            });
        }
        seen
    }

    /// Acceptor TW1 under `durability`, connected, and one read for it: its Logon, then an
    /// order for each ClOrdID in `orders` (MsgSeqNum 2 on).
    fn one_read_of_orders(&mut self, durability: &str, orders: &[&str]) -> Vec<u8> {
        let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        config.set("StorageDurability", durability).unwrap();
        self.acceptor_with(&tw(1), config);
        let mut read = self.logon("TW1", "ISLD", 1, "");
        for (seq, id) in (2..).zip(orders) {
            read.extend(self.message("TW1", "ISLD", "D", seq, &format!("11={id}|")));
        }
        let now = self.clock.now();
        self.engine
            .handle_connection_opened(ConnId(1), Some(self.peer), now);
        read
    }

    /// Takes the order an `Output::Deliver` announced and answers it with a report carrying
    /// its ClOrdID.
    fn answer(&mut self, session: &SessionId) {
        let now = self.clock.now();
        let delivered = self.engine.take_delivered(session).unwrap();
        let body = format!("11={}\x01", delivered.message().str(11).unwrap());
        let report = OutboundMessage::from_parts(b"8", body.as_bytes());
        self.engine.reply(now, session, &delivered, report).unwrap();
    }

    /// The bytes of the outputs since the last look that are sends.
    fn sent_len(&mut self) -> usize {
        let mut len = 0;
        while let Some(output) = self.engine.poll_output() {
            if let Output::Send { bytes, .. } = output {
                len += bytes.len();
            }
        }
        len
    }

    fn sends(outputs: &[String]) -> Vec<String> {
        outputs
            .iter()
            .filter(|o| o.starts_with("send"))
            .cloned()
            .collect()
    }
}

fn tw(n: u32) -> SessionId {
    SessionId::new("ISLD", format!("TW{n}"))
}

#[test]
fn two_registered_acceptors_each_get_their_own_logon() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    h.acceptor(&tw(2));
    let logon2 = h.logon("TW2", "ISLD", 1, "");
    let out = h.open(2, &logon2);
    assert_eq!(Harness::sends(&out), ["send 2 35=A|34=1|98=0|108=30"]);
    let logon1 = h.logon("TW1", "ISLD", 1, "");
    let out = h.open(1, &logon1);
    assert_eq!(Harness::sends(&out), ["send 1 35=A|34=1|98=0|108=30"]);
    assert_eq!(
        h.engine.session(&tw(1)).unwrap().state(),
        SessionState::Active
    );
    assert_eq!(
        h.engine.session(&tw(2)).unwrap().state(),
        SessionState::Active
    );
}

#[test]
fn unknown_comp_ids_are_refused_silently_by_default() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let logon = h.logon("STRANGER", "ISLD", 1, "");
    assert_eq!(h.open(1, &logon), ["close 1 UnknownSession"]);
    let logon = h.logon("TW1", "OTHER", 1, "");
    assert_eq!(h.open(2, &logon), ["close 2 UnknownSession"]);
    assert_eq!(h.engine.session_ids().count(), 1);
}

#[test]
fn created_but_unregistered_session_takes_no_logon() {
    let mut h = Harness::new(EngineConfig::default());
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(h.clock.utc()));
    h.engine
        .create_session(tw(1), config, Box::new(store))
        .unwrap();
    let logon = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(h.open(1, &logon), ["close 1 UnknownSession"]);
    assert_eq!(
        h.engine.session(&tw(1)).unwrap().state(),
        SessionState::WaitForLogon
    );
}

#[test]
fn unregistered_acceptor_is_created_when_enabled() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    let mut h = Harness::new(config);
    let logon = h.logon("NEWCO", "ISLD", 1, "");
    let out = h.open(1, &logon);
    assert_eq!(Harness::sends(&out), ["send 1 35=A|34=1|98=0|108=30"]);
    let id = SessionId::new("ISLD", "NEWCO");
    assert_eq!(h.engine.session(&id).unwrap().state(), SessionState::Active);
}

#[test]
fn acceptor_comp_ids_limit_what_unregistered_sessions_may_claim() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        acceptor_comp_ids: Some(vec!["ISLD".into()]),
        ..EngineConfig::default()
    };
    let mut h = Harness::new(config);
    let logon = h.logon("NEWCO", "NOTUS", 1, "");
    assert_eq!(h.open(1, &logon), ["close 1 CompIdNotAllowed"]);
    assert_eq!(h.engine.session_ids().count(), 0);
}

struct RefuseNewco;

impl SessionsManager for RefuseNewco {
    fn on_unregistered_logon(
        &mut self,
        id: &SessionId,
        _logon: &fixgate_core::codec::Message,
    ) -> SessionDecision {
        if &*id.target_comp_id == "NEWCO" {
            SessionDecision::Refuse
        } else {
            let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
            config.check_latency = false;
            SessionDecision::AcceptWith(Box::new(config))
        }
    }
}

#[test]
fn sessions_manager_refuses_or_accepts_with_settings() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    let mut h = Harness::new(config);
    h.engine.set_sessions_manager(Box::new(RefuseNewco));
    let logon = h.logon("NEWCO", "ISLD", 1, "");
    assert_eq!(h.open(1, &logon), ["close 1 RefusedByManager"]);
    let logon = h.logon("OTHERCO", "ISLD", 1, "");
    let out = h.open(2, &logon);
    assert_eq!(Harness::sends(&out).len(), 1);
    let id = SessionId::new("ISLD", "OTHERCO");
    assert!(!h.engine.session(&id).unwrap().config().check_latency);
}

#[test]
fn provisional_session_is_removed_when_its_logon_fails() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    let mut h = Harness::new(config);
    // HeartBtInt missing: the session refuses the Logon, and the session created for it goes.
    let logon = h.message("NEWCO", "ISLD", "A", 1, "98=0|");
    let out = h.open(1, &logon);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].starts_with("close 1 LogonRefused"), "{out:?}");
    assert_eq!(h.engine.session_ids().count(), 0);
}

#[test]
fn wrong_password_changes_nothing_and_the_right_one_continues_the_sequence() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor_requiring(&tw(1), "trader", "s3cret");
    let logon = h.logon("TW1", "ISLD", 1, "553=trader|554=s3cret|");
    h.open(1, &logon);
    let hb = h.message("TW1", "ISLD", "0", 2, "");
    h.input(1, &hb);
    h.engine.handle_connection_closed(ConnId(1), h.clock.now());
    h.outputs();
    let before = {
        let s = h.engine.session(&tw(1)).unwrap();
        (s.next_sender_seq(), s.next_target_seq())
    };
    for attempt in 0..5 {
        let wrong = h.logon(
            "TW1",
            "ISLD",
            3,
            &format!("553=trader|554=guess{attempt}|141=Y|"),
        );
        assert_eq!(
            h.open(10 + attempt, &wrong),
            [format!("close {} AuthenticationFailed", 10 + attempt)]
        );
    }
    let s = h.engine.session(&tw(1)).unwrap();
    assert_eq!((s.next_sender_seq(), s.next_target_seq()), before);
    let right = h.logon("TW1", "ISLD", 3, "553=trader|554=s3cret|");
    let out = h.open(20, &right);
    assert_eq!(Harness::sends(&out), ["send 20 35=A|34=2|98=0|108=30"]);
    assert_eq!(
        h.engine.session(&tw(1)).unwrap().next_target_seq(),
        SeqNum::new(4)
    );
}

/// `Username` and `Password` in a session's settings (issue 20 item 8): an acceptor requires
/// them (registered, or unregistered from the default settings), an initiator sends them, and
/// neither is ever on an acceptor's reply.
#[test]
fn configured_credentials_are_required_by_acceptors_and_sent_by_initiators() {
    let mut default_session = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    default_session.set("Username", "anyone").unwrap();
    default_session.set("Password", "shared").unwrap();
    let mut h = Harness::new(EngineConfig {
        create_unregistered_acceptor_session: true,
        default_session,
        ..EngineConfig::default()
    });
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.set("Username", "trader").unwrap();
    config.set("Password", "s3cret").unwrap();
    h.acceptor_with(&tw(1), config);
    let none = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(h.open(1, &none), ["close 1 AuthenticationFailed"]);
    let right = h.logon("TW1", "ISLD", 1, "553=trader|554=s3cret|");
    assert_eq!(
        Harness::sends(&h.open(2, &right)),
        ["send 2 35=A|34=1|98=0|108=30"]
    );
    let wrong = h.logon("NEWCO", "ISLD", 1, "553=trader|554=s3cret|");
    assert_eq!(h.open(3, &wrong), ["close 3 AuthenticationFailed"]);
    assert!(h.engine.session(&SessionId::new("ISLD", "NEWCO")).is_none());
    let shared = h.logon("NEWCO", "ISLD", 1, "553=anyone|554=shared|");
    assert_eq!(
        Harness::sends(&h.open(4, &shared)),
        ["send 4 35=A|34=1|98=0|108=30"]
    );

    let id = SessionId::new("BANK", "VENUE");
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator);
    config.set("Username", "bank").unwrap();
    config.set("Password", "pw").unwrap();
    let store = MemoryStore::new(UtcTimestamp::from_system_time(h.clock.utc()));
    h.engine
        .create_session(id.clone(), config, Box::new(store))
        .unwrap();
    h.engine
        .initiate(&id, "127.0.0.1:9876".parse().unwrap())
        .unwrap();
    h.outputs();
    h.engine
        .handle_initiator_connected(ConnId(5), &id, h.clock.now());
    assert_eq!(
        h.outputs(),
        ["send 5 35=A|34=1|98=0|108=30|553=bank|554=pw"]
    );
}

/// A password still to be read from elsewhere is refused by core, which does no I/O: the
/// driver reads it first.
#[test]
fn a_password_not_yet_read_is_refused() {
    let mut h = Harness::new(EngineConfig::default());
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.set("Password", "env:FIX_PASSWORD").unwrap();
    let store = MemoryStore::new(UtcTimestamp::from_system_time(h.clock.utc()));
    let error = h
        .engine
        .create_session(tw(1), config, Box::new(store))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("Password is Env(\"FIX_PASSWORD\")"),
        "{error}"
    );
}

#[test]
fn unknown_comp_id_and_wrong_password_are_refused_alike() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor_requiring(&tw(1), "u", "p");
    let unknown = h.logon("NOBODY", "ISLD", 1, "553=u|554=x|");
    let wrong = h.logon("TW1", "ISLD", 1, "553=u|554=x|");
    let a = h.open(1, &unknown);
    let b = h.open(2, &wrong);
    // Nothing is sent in either case: the counterparty sees the same silent close.
    assert!(Harness::sends(&a).is_empty() && Harness::sends(&b).is_empty());
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
}

/// TW1 logged on over connection 1, and a second Logon, numbered `seq`, on connection 2: it
/// waits for the first connection's end.
fn logged_on_with_a_logon_waiting(seq: u64) -> Harness {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let logon = h.logon("TW1", "ISLD", 1, "");
    h.open(1, &logon);
    let again = h.logon("TW1", "ISLD", seq, "");
    assert!(h.open(2, &again).is_empty(), "it waits");
    h
}

#[test]
fn tc_1s_b_duplicate_logon_while_logged_on_is_closed_and_the_live_session_goes_on() {
    // The new Logon waits a while for the live connection's end, which does not come.
    let mut h = logged_on_with_a_logon_waiting(1);
    let test_request = h.message("TW1", "ISLD", "1", 2, "112=STILL|");
    let out = h.input(1, &test_request);
    assert_eq!(Harness::sends(&out), ["send 1 35=0|34=2|112=STILL"]);
    let now = h.clock.advance(Duration::from_millis(999));
    h.engine.handle_timeout(now);
    assert!(h.outputs().is_empty());
    let now = h.clock.advance(Duration::from_millis(1));
    assert_eq!(h.engine.poll_timeout(), Some(now.mono));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["close 2 DuplicateIdentity"]);
}

#[test]
fn a_logon_waits_for_the_old_connection_of_its_session_to_end_and_goes_on_from_there() {
    let mut h = logged_on_with_a_logon_waiting(2);
    let waiting = h.logon("TW1", "ISLD", 2, "");
    assert_eq!(
        h.open(3, &waiting),
        ["close 3 DuplicateIdentity"],
        "one waits per session"
    );
    // The old connection's end comes: the waiting Logon is answered, its sequence continued.
    let now = h.clock.now();
    h.engine.handle_connection_closed(ConnId(1), now);
    let out = h.outputs();
    assert!(out.iter().any(|o| o.starts_with("close 1 ")), "{out:?}");
    assert!(
        out.contains(&"send 2 35=A|34=2|98=0|108=30".to_owned()),
        "{out:?}"
    );
}

#[test]
fn a_waiting_logon_with_a_wrong_password_is_never_made_to_wait() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor_requiring(&tw(1), "u", "p");
    let logon = h.logon("TW1", "ISLD", 1, "553=u|554=p|");
    h.open(1, &logon);
    // Only an authenticated Logon learns that the session is connected.
    let wrong = h.logon("TW1", "ISLD", 2, "553=u|554=x|");
    assert_eq!(h.open(2, &wrong), ["close 2 AuthenticationFailed"]);
}

#[test]
fn first_message_must_be_a_logon() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let hb = h.message("TW1", "ISLD", "0", 1, "");
    assert_eq!(h.open(1, &hb), ["close 1 NotLogon"]);
    assert_eq!(
        h.open(2, b"garbage\x018=FIX.4.4\x019=5\x0135=0\x0110=000\x01"),
        ["close 2 Garbled"]
    );
}

#[test]
fn pending_connection_is_closed_at_logon_timeout() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    assert!(h.open(1, b"8=FIX.4.4\x019=").is_empty());
    let now = h.clock.advance(Duration::from_secs(9));
    h.engine.handle_timeout(now);
    assert!(h.outputs().is_empty());
    let now = h.clock.advance(Duration::from_secs(1));
    assert_eq!(h.engine.poll_timeout(), Some(now.mono));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["close 1 LogonTimeout"]);
}

#[test]
fn pending_connections_are_limited() {
    let config = EngineConfig {
        max_pending_connections: 2,
        ..EngineConfig::default()
    };
    let mut h = Harness::new(config);
    assert!(h.open(1, b"").is_empty());
    assert!(h.open(2, b"").is_empty());
    assert_eq!(h.open(3, b""), ["close 3 TooManyPendingConnections"]);
}

#[test]
fn sub_ids_and_qualifier_take_part_in_the_match() {
    let config = EngineConfig {
        logon_qualifier_tag: Some(9001),
        ..EngineConfig::default()
    };
    let mut h = Harness::new(config);
    let desk = SessionId::new("ISLD", "TW1").with_sub_ids(None, Some("DESK".into()));
    let second = SessionId::new("ISLD", "TW1").with_qualifier("2");
    h.acceptor(&desk);
    h.acceptor(&second);
    let wrong_desk = h.logon("TW1", "ISLD", 1, "").replace_sender_sub("OTHER");
    assert_eq!(h.open(1, &wrong_desk), ["close 1 UnknownSession"]);
    let right_desk = h.logon("TW1", "ISLD", 1, "").replace_sender_sub("DESK");
    assert_eq!(Harness::sends(&h.open(2, &right_desk)).len(), 1);
    let qualified = h.logon("TW1", "ISLD", 1, "9001=2|");
    assert_eq!(Harness::sends(&h.open(3, &qualified)).len(), 1);
    assert_eq!(
        h.engine.session(&desk).unwrap().state(),
        SessionState::Active
    );
    assert_eq!(
        h.engine.session(&second).unwrap().state(),
        SessionState::Active
    );
}

/// Adds `SenderSubID <50>` to a frame built by the harness.
trait WithSenderSub {
    fn replace_sender_sub(self, sub: &str) -> Vec<u8>;
}

impl WithSenderSub for Vec<u8> {
    fn replace_sender_sub(self, sub: &str) -> Vec<u8> {
        let text = fixgate_tests::wire::pipe(&self);
        let body_start = text.find("|35=").unwrap() + 1;
        let trailer = text.rfind("|10=").unwrap() + 1;
        let body = text[body_start..trailer].replacen("|49=", &format!("|50={sub}|49="), 1);
        frame("FIX.4.4", &body)
    }
}

#[test]
fn dropped_acceptor_waits_for_logon_and_continues_its_sequence() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let logon = h.logon("TW1", "ISLD", 1, "");
    h.open(1, &logon);
    let order = h.message("TW1", "ISLD", "D", 2, "11=A|");
    let out = h.input(1, &order);
    assert!(out.iter().any(|o| o.contains("deliver")), "{out:?}");
    h.engine.handle_connection_closed(ConnId(1), h.clock.now());
    // The application hears of the end, though the adapter has nothing left to close.
    assert_eq!(h.outputs(), ["close 1 ConnectionClosed"]);
    assert_eq!(
        h.engine.session(&tw(1)).unwrap().state(),
        SessionState::WaitForLogon
    );
    let logon = h.logon("TW1", "ISLD", 3, "");
    let out = h.open(2, &logon);
    assert_eq!(Harness::sends(&out), ["send 2 35=A|34=2|98=0|108=30"]);
}

#[test]
fn disconnect_logs_out_and_keeps_the_state() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let logon = h.logon("TW1", "ISLD", 1, "");
    h.open(1, &logon);
    h.engine
        .disconnect(h.clock.now(), &tw(1), Some("maintenance"))
        .unwrap();
    assert_eq!(h.outputs(), ["send 1 35=5|34=2|58=maintenance"]);
    let reply = h.message("TW1", "ISLD", "5", 2, "");
    let out = h.input(1, &reply);
    assert!(
        out.iter().any(|o| o.starts_with("close 1 LoggedOut")),
        "{out:?}"
    );
    let s = h.engine.session(&tw(1)).unwrap();
    assert_eq!(
        (s.next_sender_seq(), s.next_target_seq()),
        (SeqNum::new(3), SeqNum::new(3))
    );
    assert_eq!(
        h.engine
            .reset_seq_num_local(h.clock.now(), &tw(1))
            .map(|()| h.engine.session(&tw(1)).unwrap().next_sender_seq()),
        Ok(SeqNum::new(1))
    );
}

#[test]
fn reset_seq_num_local_is_refused_while_connected() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let logon = h.logon("TW1", "ISLD", 1, "");
    h.open(1, &logon);
    assert!(h.engine.reset_seq_num_local(h.clock.now(), &tw(1)).is_err());
}

#[test]
fn finalize_closes_and_unregisters() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let logon = h.logon("TW1", "ISLD", 1, "");
    h.open(1, &logon);
    h.engine.finalize(h.clock.now(), &tw(1)).unwrap();
    let out = h.outputs();
    assert!(
        out.iter().any(|o| o.starts_with("close 1 Requested")),
        "{out:?}"
    );
    assert!(h.engine.session(&tw(1)).is_none());
    assert!(h.engine.finalize(h.clock.now(), &tw(1)).is_err());
    let logon = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(h.open(2, &logon), ["close 2 UnknownSession"]);
}

#[test]
fn duplicate_session_is_an_error() {
    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(h.clock.utc()));
    assert!(matches!(
        h.engine.create_session(tw(1), config, Box::new(store)),
        Err(EngineError::DuplicateSession(_))
    ));
}

#[test]
fn initiator_connects_and_reconnects_after_the_interval() {
    let mut h = Harness::new(EngineConfig {
        reconnect_interval: Duration::from_secs(5),
        ..EngineConfig::default()
    });
    let id = h.initiator();
    let addr: std::net::SocketAddr = "127.0.0.1:9876".parse().unwrap();
    h.engine.initiate(&id, addr).unwrap();
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:9876"]);
    h.engine
        .handle_initiator_connected(ConnId(1), &id, h.clock.now());
    assert_eq!(h.outputs(), ["send 1 35=A|34=1|98=0|108=30"]);
    h.engine.handle_connection_closed(ConnId(1), h.clock.now());
    h.outputs();
    let now = h.clock.advance(Duration::from_secs(5));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:9876"]);
    // Failed attempts back off: 5 s, then 10 s.
    h.engine.handle_connect_failed(&id, h.clock.now());
    let now = h.clock.advance(Duration::from_secs(5));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:9876"]);
    h.engine.handle_connect_failed(&id, h.clock.now());
    let now = h.clock.advance(Duration::from_secs(5));
    h.engine.handle_timeout(now);
    assert!(h.outputs().is_empty(), "backing off");
    let now = h.clock.advance(Duration::from_secs(5));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:9876"]);
    let acceptor = SessionId::new("ISLD", "TW");
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(h.clock.utc()));
    h.engine
        .create_session(acceptor.clone(), config, Box::new(store))
        .unwrap();
    assert!(h.engine.initiate(&acceptor, addr).is_err());
}

#[test]
fn an_initiator_with_backups_tries_the_next_address_at_once_and_after_each_disconnect() {
    let mut h = Harness::new(EngineConfig {
        reconnect_interval: Duration::from_secs(5),
        ..EngineConfig::default()
    });
    let id = h.initiator();
    let a: std::net::SocketAddr = "127.0.0.1:1001".parse().unwrap();
    let b: std::net::SocketAddr = "127.0.0.1:1002".parse().unwrap();
    assert!(matches!(
        h.engine.initiate_any(&id, Vec::new()),
        Err(EngineError::NoAddress(_))
    ));
    h.engine.initiate_any(&id, vec![a, b]).unwrap();
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:1001"]);
    // The first fails: the backup at once.
    h.engine.handle_connect_failed(&id, h.clock.now());
    assert_eq!(h.engine.poll_timeout(), Some(h.clock.now().mono));
    h.engine.handle_timeout(h.clock.now());
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:1002"]);
    // Both failed: the first again after the interval.
    h.engine.handle_connect_failed(&id, h.clock.now());
    h.engine.handle_timeout(h.clock.now());
    assert!(h.outputs().is_empty());
    let now = h.clock.advance(Duration::from_secs(5));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:1001"]);
    // Logged on at the first, then dropped: the next attempt goes to the backup (a standby
    // acceptor may have taken the session over).
    h.engine
        .handle_initiator_connected(ConnId(1), &id, h.clock.now());
    h.outputs();
    h.engine.handle_connection_closed(ConnId(1), h.clock.now());
    h.outputs();
    let now = h.clock.advance(Duration::from_secs(5));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:1002"]);
}

/// An application's own [`Authenticator`] replaces the configured-credentials check: here a
/// token in a custom field (9001) that names the counterparty. It is asked with the session and
/// the credentials configured for it, and its answer alone decides.
#[test]
fn custom_authenticator_decides_instead_of_the_configured_credentials() {
    use std::sync::{Arc, Mutex};

    use fixgate_core::Authenticator;
    use fixgate_core::codec::Message;

    type Asked = Arc<Mutex<Vec<(SessionId, Option<Credentials>)>>>;
    struct Token(Asked);
    impl Authenticator for Token {
        fn authenticate(
            &self,
            id: &SessionId,
            expected: Option<&Credentials>,
            logon: &Message,
        ) -> bool {
            self.0.lock().unwrap().push((id.clone(), expected.cloned()));
            let token = format!("token-{}", id.target_comp_id);
            logon.get(9001) == Some(token.as_bytes())
        }
    }

    let mut h = Harness::new(EngineConfig::default());
    h.acceptor(&tw(1));
    let credentials = Credentials {
        username: "trader".into(),
        password: "s3cret".into(),
    };
    h.engine
        .set_credentials(&tw(1), credentials.clone())
        .unwrap();
    let asked = Asked::default();
    h.engine.set_authenticator(Box::new(Token(asked.clone())));

    // The configured password without the token: refused.
    let password = h.logon("TW1", "ISLD", 1, "553=trader|554=s3cret|");
    assert_eq!(h.open(1, &password), ["close 1 AuthenticationFailed"]);
    let wrong_token = h.logon("TW1", "ISLD", 1, "9001=token-TW2|");
    assert_eq!(h.open(2, &wrong_token), ["close 2 AuthenticationFailed"]);
    // The token without the password: admitted.
    let token = h.logon("TW1", "ISLD", 1, "9001=token-TW1|");
    assert_eq!(
        Harness::sends(&h.open(3, &token)),
        ["send 3 35=A|34=1|98=0|108=30"]
    );
    assert_eq!(
        *asked.lock().unwrap(),
        vec![(tw(1), Some(credentials)); 3],
        "asked once per Logon, with the session and its configured credentials"
    );
}

/// An initiator outside its schedule (13:00-17:00; the simulation starts at 12:00) sends no
/// Logon and asks again only after each reconnect interval; once the window opens it connects
/// and logs on.
#[test]
fn initiator_waits_outside_its_schedule_and_logs_on_when_it_opens() {
    let mut h = Harness::new(EngineConfig {
        reconnect_interval: Duration::from_secs(30),
        ..EngineConfig::default()
    });
    let id = SessionId::new("BANK", "VENUE");
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator);
    config.set("StartTime", "13:00:00").unwrap();
    config.set("EndTime", "17:00:00").unwrap();
    let store = MemoryStore::new(UtcTimestamp::from_system_time(h.clock.utc()));
    h.engine
        .create_session(id.clone(), config, Box::new(store))
        .unwrap();
    let addr: std::net::SocketAddr = "127.0.0.1:9876".parse().unwrap();
    // Outside its schedule `initiate` does not connect.
    h.engine.initiate(&id, addr).unwrap();
    assert_eq!(h.outputs(), [] as [String; 0]);
    // The hour until 13:00: it asks every 30 s and never connects.
    for _ in 0..(3600 / 30 - 1) {
        let now = h.clock.advance(Duration::from_secs(30));
        h.engine.handle_timeout(now);
        assert_eq!(
            h.outputs(),
            [] as [String; 0],
            "outside the schedule at {}",
            UtcTimestamp::from_system_time(h.clock.utc())
                .format(TimestampPrecision::Seconds)
                .as_str()
        );
    }
    // 13:00: the window opens; the next ask connects, and the Logon goes out (a new period's
    // first, so with ResetSeqNumFlag).
    let now = h.clock.advance(Duration::from_secs(30));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["connect BANK->VENUE 127.0.0.1:9876"]);
    h.engine
        .handle_initiator_connected(ConnId(1), &id, h.clock.now());
    assert_eq!(h.outputs(), ["send 1 35=A|34=1|98=0|108=30|141=Y"]);
}

#[test]
fn lockout_after_repeated_failures_then_release() {
    let lockout = fixgate_core::Lockout {
        max_failures: 3,
        base_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(600),
    };
    let mut h = Harness::new(EngineConfig {
        lockout: Some(lockout),
        ..EngineConfig::default()
    });
    h.acceptor_requiring(&tw(1), "u", "right");
    for conn in 1..=3 {
        let wrong = h.logon("TW1", "ISLD", 1, "553=u|554=wrong|");
        assert_eq!(
            h.open(conn, &wrong),
            [format!("close {conn} AuthenticationFailed")]
        );
    }
    // Locked out now, even with the right password, and from this address only.
    let right = h.logon("TW1", "ISLD", 1, "553=u|554=right|");
    assert_eq!(h.open(4, &right), ["close 4 LockedOut"]);
    h.peer = std::net::IpAddr::from([127, 0, 0, 2]);
    let out = h.open(5, &right);
    assert!(out.iter().any(|o| o.starts_with("send 5 35=A")), "{out:?}");
    h.engine.handle_connection_closed(ConnId(5), h.clock.now());
    h.outputs();
    h.peer = std::net::IpAddr::from([127, 0, 0, 1]);
    h.clock.advance(Duration::from_secs(61));
    let right = h.logon("TW1", "ISLD", 2, "553=u|554=right|");
    let out = h.open(6, &right);
    assert!(out.iter().any(|o| o.starts_with("send 6 35=A")), "{out:?}");
}

#[test]
fn restarted_engine_over_a_file_store_continues_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let open_store = |h: &Harness| {
        Box::new(
            fixgate_store::FileStore::open(
                dir.path(),
                UtcTimestamp::from_system_time(h.clock.utc()),
            )
            .unwrap(),
        )
    };
    let mut h = Harness::new(EngineConfig::default());
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    let store = open_store(&h);
    h.engine
        .create_session(tw(1), config.clone(), store)
        .unwrap();
    h.engine.register_acceptor(&tw(1)).unwrap();
    let logon = h.logon("TW1", "ISLD", 1, "");
    h.open(1, &logon);
    let order = h.message("TW1", "ISLD", "D", 2, "11=A|");
    h.input(1, &order); // delivered and acked by the harness
    // The process dies: a new engine, a new store over the same folder.
    let mut h2 = Harness::new(EngineConfig::default());
    h2.clock = h.clock;
    drop(h);
    let store = open_store(&h2);
    h2.engine.create_session(tw(1), config, store).unwrap();
    h2.engine.register_acceptor(&tw(1)).unwrap();
    let s = h2.engine.session(&tw(1)).unwrap();
    assert_eq!(
        (s.next_sender_seq(), s.next_target_seq()),
        (SeqNum::new(2), SeqNum::new(3))
    );
    let logon = h2.logon("TW1", "ISLD", 3, "");
    let out = h2.open(1, &logon);
    assert_eq!(Harness::sends(&out), ["send 1 35=A|34=2|98=0|108=30"]);
}

#[test]
fn put_meets_backpressure_until_the_adapter_reports_progress() {
    let mut h = Harness::new(EngineConfig::default());
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.max_outbound_bytes = 1000;
    h.acceptor_with(&tw(1), config);
    let logon = h.logon("TW1", "ISLD", 1, "");
    let now = h.clock.now();
    h.engine
        .handle_connection_opened(ConnId(1), Some(h.peer), now);
    h.engine.handle_input(ConnId(1), now, &logon);
    let mut unwritten = h.sent_len();
    let order =
        OutboundMessage::from_parts(b"D", b"11=ORDER\x0155=AAPL\x0154=1\x0138=100\x0140=1\x01");
    let mut accepted = 0;
    let refused = loop {
        match h.engine.put(now, &tw(1), order) {
            Ok(_) => accepted += 1,
            Err(error) => break error,
        }
        let len = h.sent_len();
        assert!(
            unwritten < 1000,
            "a put was taken while {unwritten} bytes were unwritten"
        );
        unwritten += len;
    };
    assert_eq!(refused, EngineError::Backpressure(Box::new(tw(1))));
    assert!(accepted > 5, "only {accepted} puts before backpressure");
    // The refused put took no sequence number: nothing of it was stored.
    let session = h.engine.session(&tw(1)).unwrap();
    assert_eq!(session.next_sender_seq(), SeqNum::new(accepted + 2));

    // Writing all but a little is not enough; writing enough below the bound is.
    h.engine.handle_written(ConnId(1), now, unwritten - 1000);
    assert!(h.engine.put(now, &tw(1), order).is_err());
    h.engine.handle_written(ConnId(1), now, 1);
    assert!(h.engine.put(now, &tw(1), order).is_ok());
}

#[test]
fn peer_that_stops_reading_is_closed_at_slow_consumer_timeout() {
    let mut h = Harness::new(EngineConfig::default());
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.slow_consumer_timeout = Duration::from_secs(5);
    config.heart_bt_int = Duration::from_secs(30);
    h.acceptor_with(&tw(1), config);
    let logon = h.logon("TW1", "ISLD", 1, "");
    let now = h.clock.now();
    h.engine
        .handle_connection_opened(ConnId(1), Some(h.peer), now);
    h.engine.handle_input(ConnId(1), now, &logon);
    let logon_reply = h.sent_len();
    // Written in full: no slow-consumer deadline remains.
    h.engine.handle_written(ConnId(1), now, logon_reply);
    assert!(h.engine.poll_timeout().unwrap() > now.mono + Duration::from_secs(29));

    let order =
        OutboundMessage::from_parts(b"D", b"11=ORDER\x0155=AAPL\x0154=1\x0138=100\x0140=1\x01");
    h.engine.put(now, &tw(1), order).unwrap();
    let unwritten = h.sent_len();
    assert_eq!(
        h.engine.poll_timeout(),
        Some(now.mono + Duration::from_secs(5))
    );
    // Partial progress at 4 s restarts the clock.
    let now = h.clock.advance(Duration::from_secs(4));
    h.engine.handle_written(ConnId(1), now, unwritten / 2);
    h.engine.handle_timeout(now);
    assert!(h.outputs().is_empty());
    let now = h.clock.advance(Duration::from_secs(4));
    h.engine.handle_timeout(now);
    assert!(h.outputs().is_empty());
    let now = h.clock.advance(Duration::from_secs(1));
    h.engine.handle_timeout(now);
    let out = h.outputs();
    assert!(out.contains(&"close 1 SlowConsumer".to_owned()), "{out:?}");
    assert_eq!(
        h.engine.session(&tw(1)).unwrap().state(),
        SessionState::WaitForLogon
    );
    // Puts now wait in the store for the next connection: no backpressure without one.
    assert!(h.engine.put(now, &tw(1), order).is_ok());
}

#[test]
fn long_resend_goes_out_as_the_peer_reads() {
    let mut h = Harness::new(EngineConfig::default());
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.max_outbound_bytes = 2000;
    config.resend_read_chunk_size = 10;
    h.acceptor_with(&tw(1), config);
    let now = h.clock.now();
    let order =
        OutboundMessage::from_parts(b"D", b"11=ORDER\x0155=AAPL\x0154=1\x0138=100\x0140=1\x01");
    for _ in 0..100 {
        h.engine.put(now, &tw(1), order).unwrap(); // stored: no connection yet
    }
    let logon = h.logon("TW1", "ISLD", 1, "");
    h.engine
        .handle_connection_opened(ConnId(1), Some(h.peer), now);
    h.engine.handle_input(ConnId(1), now, &logon);
    let reply = h.sent_len();
    h.engine.handle_written(ConnId(1), now, reply);
    let request = h.message("TW1", "ISLD", "2", 2, "7=1|16=0|");
    h.engine.handle_input(ConnId(1), now, &request);

    // The adapter writes what each round gave it, then reports it written.
    let mut resent = Vec::new();
    let mut rounds = 0;
    loop {
        let mut unwritten = 0;
        while let Some(output) = h.engine.poll_output() {
            if let Output::Send { bytes, .. } = output {
                assert!(unwritten < 2000, "sent on past MaxOutboundBytes");
                unwritten += bytes.len();
                resent.push(brief(&bytes));
            }
        }
        if unwritten == 0 {
            break;
        }
        rounds += 1;
        h.engine.handle_written(ConnId(1), now, unwritten);
    }
    assert!(rounds >= 5, "{rounds} rounds: the resend was not held back");
    let orders: Vec<&String> = resent.iter().filter(|m| m.starts_with("35=D|")).collect();
    assert_eq!(orders.len(), 100);
    for (n, order) in orders.iter().enumerate() {
        assert!(
            order.starts_with(&format!("35=D|34={}|43=Y|", n + 1)),
            "{order}"
        );
    }
    assert!(
        resent.last().unwrap().starts_with("35=4|34=101|"),
        "{resent:?}"
    );
}

/// Answers leave in the order of the requests (issue 20 item 6): a Logon, two orders and a
/// TestRequest in one read. Each order is answered when it is taken, so both reports must go
/// out before the Heartbeat that answers the TestRequest: counterparties use a TestRequest as a
/// fence, "everything before it has been processed". Under `batch` the reports and the
/// Heartbeat share one commit.
#[test]
fn replies_to_messages_of_one_read_leave_before_the_answer_to_a_later_message() {
    for durability in ["process", "batch"] {
        let mut h = Harness::new(EngineConfig::default());
        let mut read = h.one_read_of_orders(durability, &["A", "B"]);
        read.extend(h.message("TW1", "ISLD", "1", 4, "112=FENCE|"));
        let now = h.clock.now();
        h.engine.handle_input(ConnId(1), now, &read);
        let mut seen = Vec::new();
        while let Some(output) = h.engine.poll_output() {
            match output {
                Output::Send { bytes, .. } => seen.push(brief(&bytes)),
                Output::Deliver { session } => h.answer(&session),
                Output::Commit { session } => {
                    seen.push("commit".into());
                    h.engine.handle_committed(&session, now, Ok(()));
                }
                _ => {}
            }
        }
        let mut expected = vec![
            "35=A|34=1|98=0|108=30",
            "35=8|34=2|11=A",
            "35=8|34=3|11=B",
            "35=0|34=4|112=FENCE",
        ];
        if durability == "batch" {
            expected.insert(0, "commit");
            expected.insert(2, "commit");
        }
        assert_eq!(seen, expected, "{durability}");
    }
}

/// A Logon waits for its session's connection while that connection's store sync is out; the
/// sync fails, which ends the old connection: the waiting Logon is then answered, and its
/// connection is not closed by what the old one left behind.
#[test]
fn a_store_failure_while_a_logon_waits_ends_only_the_old_connection() {
    let mut h = Harness::new(EngineConfig::default());
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.set("StorageDurability", "batch").unwrap();
    h.acceptor_with(&tw(1), config);
    let logon = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(h.open(1, &logon), ["commit ISLD->TW1"]);
    let again = h.logon("TW1", "ISLD", 2, "");
    assert!(h.open(2, &again).is_empty(), "it waits");
    let now = h.clock.now();
    let failure = fixgate_core::StoreError::Io(std::io::ErrorKind::Other);
    h.engine.handle_committed(&tw(1), now, Err(failure));
    let out = h.outputs();
    assert!(
        out.iter().any(|o| o.starts_with("close 1 Store")),
        "{out:?}"
    );
    assert_eq!(
        out.last().map(String::as_str),
        Some("commit ISLD->TW1"),
        "{out:?}"
    );
    h.engine.handle_committed(&tw(1), now, Ok(()));
    let out = h.outputs();
    assert!(
        out.contains(&"send 2 35=A|34=2|98=0|108=30".to_owned()),
        "{out:?}"
    );
    assert!(!out.iter().any(|o| o.starts_with("close 2")), "{out:?}");
    // The new connection lives on.
    let test_request = h.message("TW1", "ISLD", "1", 3, "112=ALIVE|");
    let out = h.input(2, &test_request);
    assert!(out.iter().any(|o| o.starts_with("commit")), "{out:?}");
}

/// What a waiting connection sends is kept for its session, up to the Logon's bound.
#[test]
fn a_waiting_connection_that_floods_is_refused() {
    let mut h = logged_on_with_a_logon_waiting(2);
    let flood = vec![b'x'; 64 * 1024];
    assert_eq!(h.input(2, &flood), ["close 2 DuplicateIdentity"]);
}

/// A store whose lease (failover between instances) the test moves: it holds until the time
/// in `until`, or always when that is `None`.
struct LeasedStore {
    memory: MemoryStore,
    until: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

impl fixgate_core::MessageStore for LeasedStore {
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), fixgate_core::StoreError> {
        self.memory.append(seq, frame, answers)
    }
    fn next_sender_seq(&self) -> SeqNum {
        self.memory.next_sender_seq()
    }
    fn next_target_seq(&self) -> SeqNum {
        self.memory.next_target_seq()
    }
    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), fixgate_core::StoreError> {
        self.memory.set_next_sender_seq(seq)
    }
    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), fixgate_core::StoreError> {
        self.memory.set_next_target_seq(seq)
    }
    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), fixgate_core::StoreError> {
        self.memory.read_range(from, to, each)
    }
    fn reset(&mut self, now: UtcTimestamp) -> Result<(), fixgate_core::StoreError> {
        self.memory.reset(now)
    }
    fn creation_time(&self) -> UtcTimestamp {
        self.memory.creation_time()
    }
    fn held_until(&self) -> Option<std::time::Instant> {
        *self.until.lock().unwrap()
    }
}

impl Harness {
    /// Acceptor TW1 on a store whose lease the returned handle moves.
    fn leased_acceptor(&mut self) -> std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>> {
        let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        self.leased_acceptor_with(config)
    }

    /// [`leased_acceptor`](Self::leased_acceptor) with `config`.
    fn leased_acceptor_with(
        &mut self,
        config: SessionConfig,
    ) -> std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>> {
        let until = std::sync::Arc::new(std::sync::Mutex::new(None));
        let store = LeasedStore {
            memory: MemoryStore::new(UtcTimestamp::from_system_time(self.clock.utc())),
            until: until.clone(),
        };
        self.engine
            .create_session(tw(1), config, Box::new(store))
            .unwrap();
        self.engine.register_acceptor(&tw(1)).unwrap();
        until
    }
}

#[test]
fn messages_held_behind_a_commit_wait_while_the_lease_does_not_hold() {
    let mut h = Harness::new(EngineConfig::default());
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.set("StorageDurability", "batch").unwrap();
    let until = h.leased_acceptor_with(config);
    *until.lock().unwrap() = Some(h.clock.now().mono + Duration::from_secs(5));
    let logon = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(h.open(1, &logon), ["commit ISLD->TW1"]);
    h.engine.handle_committed(&tw(1), h.clock.now(), Ok(()));
    assert_eq!(Harness::sends(&h.outputs()).len(), 1, "the Logon's answer");
    // Order A is answered; that reply's commit holds order B, which comes next, back.
    let order = h.message("TW1", "ISLD", "D", 2, "11=A|");
    h.engine.handle_input(ConnId(1), h.clock.now(), &order);
    let Some(Output::Deliver { session }) = h.engine.poll_output() else {
        panic!("order A is delivered");
    };
    h.answer(&session);
    assert_eq!(h.outputs(), ["commit ISLD->TW1"]);
    let order = h.message("TW1", "ISLD", "D", 3, "11=B|");
    assert_eq!(
        h.input(1, &order),
        Vec::<String>::new(),
        "B waits for the commit"
    );
    // The lease runs out before the commit ends (a database outage), and the commit fails: B
    // is not delivered, and nothing is sent.
    let now = h.clock.advance(Duration::from_secs(6));
    let fenced = Err(fixgate_core::StoreError::Io(std::io::ErrorKind::TimedOut));
    h.engine.handle_committed(&tw(1), now, fenced);
    assert_eq!(h.outputs(), ["close 1 Store(Io(TimedOut))"]);
    // The lease holds again (renewed with the same token): B reaches the application once the
    // counterparty is back.
    *until.lock().unwrap() = Some(now.mono + Duration::from_secs(5));
    let logon = h.logon("TW1", "ISLD", 4, "");
    let out = h.open(2, &logon);
    assert!(
        out.iter()
            .any(|o| o.starts_with("deliver ISLD->TW1") && o.contains("11=B")),
        "{out:?}"
    );
}

#[test]
fn a_session_whose_lease_does_not_hold_refuses_its_logon_as_an_unknown_one() {
    let mut h = Harness::new(EngineConfig::default());
    let until = h.leased_acceptor();
    // Lapsed a moment ago (another instance may own the session now).
    *until.lock().unwrap() = Some(h.clock.now().mono);
    let logon = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(h.open(1, &logon), ["close 1 NotOwned"]);
    assert_eq!(
        h.engine
            .metrics()
            .refusals
            .get(&fixgate_core::Refusal::NotOwned),
        1
    );
    assert_eq!(
        h.engine.session(&tw(1)).unwrap().next_target_seq(),
        SeqNum::new(1)
    );
    // Renewed: the same Logon is answered.
    *until.lock().unwrap() = Some(h.clock.now().mono + Duration::from_secs(1));
    let out = h.open(2, &logon);
    assert_eq!(Harness::sends(&out), ["send 2 35=A|34=1|98=0|108=30"]);
}

#[test]
fn a_connected_session_whose_lease_lapses_delivers_and_sends_nothing_more() {
    let mut h = Harness::new(EngineConfig::default());
    let until = h.leased_acceptor();
    *until.lock().unwrap() = Some(h.clock.now().mono + Duration::from_secs(5));
    let logon = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(Harness::sends(&h.open(1, &logon)).len(), 1);
    // The process stood still past its lease (SIGSTOP); then an order and a due Heartbeat.
    h.clock.advance(Duration::from_secs(31));
    let order = h.message("TW1", "ISLD", "D", 2, "11=late|");
    assert_eq!(h.input(1, &order), ["close 1 Store(Fenced)"]);
    let now = h.clock.now();
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), Vec::<String>::new());
    assert_eq!(
        h.engine.session(&tw(1)).unwrap().next_target_seq(),
        SeqNum::new(2)
    );
}

#[test]
fn a_due_timer_of_a_session_whose_lease_lapsed_closes_it_without_a_heartbeat() {
    let mut h = Harness::new(EngineConfig::default());
    let until = h.leased_acceptor();
    *until.lock().unwrap() = Some(h.clock.now().mono + Duration::from_secs(5));
    let logon = h.logon("TW1", "ISLD", 1, "");
    assert_eq!(Harness::sends(&h.open(1, &logon)).len(), 1);
    let now = h.clock.advance(Duration::from_secs(31));
    h.engine.handle_timeout(now);
    assert_eq!(h.outputs(), ["close 1 Store(Fenced)"]);
}
