//! The engine's commit gating (DESIGN.md section 4, amended; issue 19), without I/O: after
//! `Output::Commit { session }` the engine hands out nothing more of that session until the
//! driver reports the sync with `Engine::handle_committed`; other sessions go on meanwhile. A
//! failed sync never releases what it held: the connection closes without a Logout.

use fixgate_core::{
    BeginString, CloseReason, ConnId, DisconnectReason, Engine, EngineConfig, MemoryStore, Output,
    Role, SessionConfig, SessionId, StorageDurability, StoreError, TimestampPrecision,
    UtcTimestamp,
};
use fixgate_tests::clock::SimClock;
use fixgate_tests::peer::brief;
use fixgate_tests::wire::frame;

const US: &str = "ISLD";
/// Syncs its store after every message (`StorageDurability::Each`).
const SLOW: &str = "SLOW";
/// Never syncs (`StorageDurability::Process`).
const FAST: &str = "FAST";

struct Harness {
    engine: Engine,
    clock: SimClock,
    /// Whether [`outputs`](Self::outputs) lists events too.
    events: bool,
}

impl Harness {
    fn new() -> Self {
        let clock = SimClock::new();
        let mut engine = Engine::with_seed(EngineConfig::default(), clock.now(), 19);
        for (them, durability) in [
            (SLOW, StorageDurability::Each),
            (FAST, StorageDurability::Process),
        ] {
            let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
            config.storage_durability = durability;
            let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
            let id = SessionId::new(US, them);
            engine
                .create_session(id.clone(), config, Box::new(store))
                .unwrap();
            engine.register_acceptor(&id).unwrap();
        }
        Self {
            engine,
            clock,
            events: false,
        }
    }

    fn message(&self, them: &str, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
        let time =
            UtcTimestamp::from_system_time(self.clock.utc()).format(TimestampPrecision::Millis);
        let body = format!(
            "35={msg_type}|34={seq}|49={them}|52={}|56={US}|{fields}",
            time.as_str()
        );
        frame("FIX.4.4", &body)
    }

    /// Connection `conn` opens and logs on as `them`, with MsgSeqNum `seq`.
    fn log_on(&mut self, conn: u64, them: &str, seq: u64) -> Vec<String> {
        let now = self.clock.now();
        self.engine
            .handle_connection_opened(ConnId(conn), Some([127, 0, 0, 1].into()), now);
        let logon = self.message(them, "A", seq, "98=0|108=30|");
        self.input(conn, &logon)
    }

    fn input(&mut self, conn: u64, bytes: &[u8]) -> Vec<String> {
        let now = self.clock.now();
        self.engine.handle_input(ConnId(conn), now, bytes);
        self.outputs()
    }

    fn committed(&mut self, them: &str, result: Result<(), StoreError>) -> Vec<String> {
        let now = self.clock.now();
        self.engine
            .handle_committed(&SessionId::new(US, them), now, result);
        self.outputs()
    }

    /// The outputs since the last look, as readable strings: the MsgType of each send.
    fn outputs(&mut self) -> Vec<String> {
        let mut seen = Vec::new();
        while let Some(output) = self.engine.poll_output() {
            seen.push(match output {
                Output::Send { conn, bytes } => {
                    let brief = brief(&bytes);
                    let msg_type = brief
                        .split('|')
                        .find(|f| f.starts_with("35="))
                        .unwrap_or("");
                    format!("send {} {msg_type}", conn.0)
                }
                Output::Commit { session } => format!("commit {}", session.target_comp_id),
                Output::Close {
                    conn,
                    reason: CloseReason::Session { reason, .. },
                } => format!("close {} {reason:?}", conn.0),
                Output::Event { event, .. } if self.events => format!("event {event:?}"),
                Output::Event { .. } => continue,
                Output::Drained { .. } => continue,
                other => format!("{other:?}"),
            });
        }
        seen
    }
}

#[test]
fn a_commit_holds_only_its_own_session_until_it_is_reported() {
    let mut h = Harness::new();
    // SLOW's Logon reply is stored, so its sync comes first, and nothing of SLOW follows it.
    assert_eq!(h.log_on(1, SLOW, 1), ["commit SLOW"]);
    // FAST is served meanwhile.
    assert_eq!(h.log_on(2, FAST, 1), ["send 2 35=A"]);
    let test_request = h.message(FAST, "1", 2, "112=T|");
    assert_eq!(h.input(2, &test_request), ["send 2 35=0"]);
    // SLOW's own input is taken, but its answers wait behind the sync.
    let test_request = h.message(SLOW, "1", 2, "112=T|");
    assert_eq!(h.input(1, &test_request), Vec::<String>::new());
    // The sync is done: the Logon reply goes, then the next message's own sync holds the
    // Heartbeat until that one is reported too.
    assert_eq!(h.committed(SLOW, Ok(())), ["send 1 35=A", "commit SLOW"]);
    assert_eq!(h.committed(SLOW, Ok(())), ["send 1 35=0"]);
}

#[test]
fn a_failed_commit_closes_without_sending_what_it_held() {
    let mut h = Harness::new();
    assert_eq!(h.log_on(1, SLOW, 1), ["commit SLOW"]);
    let failed = StoreError::Io(std::io::ErrorKind::Other);
    // No Logon reply and no Logout: the connection just closes, and says why. What the sync
    // held back besides its sends reaches the application first.
    h.events = true;
    assert_eq!(
        h.committed(SLOW, Err(failed)),
        [
            "event LoggedOn { reset: false }".to_string(),
            format!("close 1 {:?}", DisconnectReason::Store(failed))
        ]
    );
    h.events = false;
    // The session waits for its next connection (the first Logon was processed), and logs on
    // once its disk works.
    assert_eq!(h.log_on(3, SLOW, 2), ["commit SLOW"]);
    assert_eq!(h.committed(SLOW, Ok(())), ["send 3 35=A"]);
}

#[test]
fn a_connection_closed_by_the_peer_ends_after_what_a_commit_held() {
    let mut h = Harness::new();
    h.events = true;
    assert_eq!(h.log_on(1, SLOW, 1), ["commit SLOW"]);
    // The peer's last message arrives and the connection drops while the sync is out: the
    // application learns of the end only after what came before it.
    let test_request = h.message(SLOW, "1", 2, "112=T|");
    assert_eq!(h.input(1, &test_request), Vec::<String>::new());
    let now = h.clock.now();
    h.engine.handle_connection_closed(ConnId(1), now);
    assert_eq!(h.outputs(), Vec::<String>::new());
    assert_eq!(
        h.committed(SLOW, Ok(())),
        [
            "send 1 35=A".to_string(),
            "event LoggedOn { reset: false }".to_string(),
            "commit SLOW".to_string()
        ]
    );
    assert_eq!(
        h.committed(SLOW, Ok(())),
        [
            "send 1 35=0".to_string(),
            format!("close 1 {:?}", DisconnectReason::ConnectionClosed)
        ]
    );
}
