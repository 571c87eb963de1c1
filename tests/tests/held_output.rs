//! A counterparty that asks for a long resend and then stops reading, while it goes on sending
//! its Heartbeats (issue 19). The resend stops at `MaxOutboundBytes`; time passes. No timer may
//! fire twice for one deadline, no Heartbeat is made while output is held (it would only queue
//! behind the resend and grow the store), and the engine keeps serving its other sessions.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use fixgate_core::OutboundMessage;
use fixgate_core::{
    BeginString, ConnId, Engine, EngineConfig, MemoryStore, Output, Role, SessionConfig, SessionId,
    TimestampPrecision, UtcTimestamp,
};
use fixgate_tests::clock::SimClock;
use fixgate_tests::wire::frame;

/// Messages stored before the counterparty logs on, which its ResendRequest asks for.
const BACKLOG: u64 = 5_000;
const MAX_OUTBOUND: usize = 64 * 1024;

fn id(target: &str) -> SessionId {
    SessionId::new("ACC", target)
}

struct Harness {
    engine: Engine,
    clock: SimClock,
    /// Handle_timeout calls made.
    timeouts: u32,
    /// Bytes sent on each connection and not written (nobody reads them).
    unread: Vec<(ConnId, usize)>,
    /// Logon replies seen, per connection.
    logons: Vec<ConnId>,
}

impl Harness {
    fn new() -> Self {
        let clock = SimClock::new();
        let mut engine = Engine::new(EngineConfig::default(), clock.now());
        for target in ["SLOW", "OTHER"] {
            let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
            config.max_outbound_bytes = MAX_OUTBOUND;
            config.slow_consumer_timeout = Duration::from_secs(3600);
            let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
            engine
                .create_session(id(target), config, Box::new(store))
                .unwrap();
            engine.register_acceptor(&id(target)).unwrap();
        }
        Self {
            engine,
            clock,
            timeouts: 0,
            unread: Vec::new(),
            logons: Vec::new(),
        }
    }

    fn inbound(&self, target: &str, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
        let time =
            UtcTimestamp::from_system_time(self.clock.utc()).format(TimestampPrecision::Millis);
        frame(
            "FIX.4.4",
            &format!(
                "35={msg_type}|34={seq}|49={target}|52={}|56=ACC|{fields}",
                time.as_str()
            ),
        )
    }

    fn send(&mut self, conn: ConnId, bytes: &[u8]) {
        let now = self.clock.now();
        self.engine.handle_input(conn, now, bytes);
        self.carry_out();
    }

    /// Carries out the outputs as an adapter whose peers read nothing: no byte is reported
    /// written.
    fn carry_out(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            if let Output::Send { conn, bytes } = output {
                if bytes.windows(5).any(|w| w == b"\x0135=A") {
                    self.logons.push(conn);
                }
                match self.unread.iter_mut().find(|(c, _)| *c == conn) {
                    Some((_, len)) => *len += bytes.len(),
                    None => self.unread.push((conn, bytes.len())),
                }
            }
        }
    }

    /// Moves time on by `by` in steps of 100 ms, serving every deadline that falls due.
    fn run_for(&mut self, by: Duration) {
        let end = self.clock.now().mono + by;
        while self.clock.now().mono < end {
            let now = self.clock.advance(Duration::from_millis(100));
            while let Some(at) = self.engine.poll_timeout()
                && at <= now.mono
            {
                self.engine.handle_timeout(now);
                self.timeouts += 1;
                self.carry_out();
                assert!(
                    self.timeouts < 10_000,
                    "handle_timeout called {} times: a deadline is never moved",
                    self.timeouts
                );
            }
        }
    }

    /// SLOW's counterparty logs on at HeartBtInt 1 and asks for the backlog stored while it was
    /// away; it reads none of it. Returns its connection.
    fn stall(&mut self) -> ConnId {
        let now = self.clock.now();
        let body = format!("11=ORDER|55=AAPL|54=1|58={}|", "x".repeat(200)).replace('|', "\x01");
        for _ in 0..BACKLOG {
            let msg = OutboundMessage::from_parts(b"B", body.as_bytes());
            self.engine.put(now, &id("SLOW"), msg).unwrap();
        }
        let slow = ConnId(1);
        self.engine
            .handle_connection_opened(slow, Some([127, 0, 0, 1].into()), now);
        let logon = self.inbound("SLOW", "A", 1, "98=0|108=1|");
        self.send(slow, &logon);
        let resend_request = self.inbound("SLOW", "2", 2, "7=1|16=0|");
        self.send(slow, &resend_request);
        slow
    }

    fn next_sender_seq(&self, target: &str) -> u64 {
        self.engine
            .session(&id(target))
            .unwrap()
            .next_sender_seq()
            .get()
    }
}

/// Runs `scenario` on a thread of its own: a timer loop inside one call shows as a hang, which
/// this turns into a failure.
fn within_bound(scenario: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let worker = thread::spawn(move || {
        scenario();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the engine did not return within 60 s: a timer fires in a loop")
        }
    }
}

#[test]
fn resend_held_at_max_outbound_bytes_makes_no_heartbeat_and_stalls_no_other_session() {
    within_bound(|| {
        let mut h = Harness::new();
        let slow = h.stall();
        let held_at = h.next_sender_seq("SLOW");
        assert_eq!(held_at, BACKLOG + 2, "the backlog and the Logon reply");
        let unread = h.unread[0].1;
        assert!(
            (MAX_OUTBOUND..MAX_OUTBOUND + 4096).contains(&unread),
            "the resend stops at MaxOutboundBytes: {unread} bytes handed out"
        );

        // The counterparty reads nothing for ten seconds and sends a Heartbeat every second.
        for seq in 3..13 {
            h.run_for(Duration::from_secs(1));
            let heartbeat = h.inbound("SLOW", "0", seq, "");
            h.send(slow, &heartbeat);
        }
        assert_eq!(
            h.next_sender_seq("SLOW"),
            held_at,
            "no Heartbeat is stored or sent while the resend is held"
        );
        assert!(
            h.timeouts <= 30,
            "{} handle_timeout calls in ten seconds at HeartBtInt 1",
            h.timeouts
        );

        // Another session logs on meanwhile, and gets its reply at once.
        let other = ConnId(2);
        let now = h.clock.now();
        h.engine
            .handle_connection_opened(other, Some([127, 0, 0, 1].into()), now);
        let logon = h.inbound("OTHER", "A", 1, "98=0|108=1|");
        h.send(other, &logon);
        assert_eq!(h.logons, [slow, other]);

        // Once the slow counterparty reads again, the resend goes on to its end.
        let mut written = 0;
        while let Some(at) = h.unread.iter().position(|(c, _)| *c == slow) {
            let (_, len) = h.unread.swap_remove(at);
            if len == 0 {
                break;
            }
            written += len;
            let now = h.clock.now();
            h.engine.handle_written(slow, now, len);
            h.carry_out();
        }
        assert!(
            written > BACKLOG as usize * 200,
            "the whole backlog was resent"
        );
        assert_eq!(h.next_sender_seq("SLOW"), held_at);
    });
}

#[test]
fn silent_peer_behind_held_output_is_closed_at_the_heartbeat_timeout() {
    within_bound(|| {
        let mut h = Harness::new();
        let slow = h.stall();
        // The counterparty now reads nothing and sends nothing: it is gone. Its session closes
        // at 2.4 × HeartBtInt, though the resend holds MaxOutboundBytes unwritten.
        let mut closed = None;
        for tenth in 1..=30 {
            let now = h.clock.advance(Duration::from_millis(100));
            if h.engine.poll_timeout().is_some_and(|at| at <= now.mono) {
                h.engine.handle_timeout(now);
            }
            while let Some(output) = h.engine.poll_output() {
                if let Output::Close { conn, reason } = output {
                    assert_eq!(conn, slow);
                    assert!(
                        !reason.flushes(),
                        "{reason:?}: nothing more is written to it"
                    );
                    closed.get_or_insert((tenth, reason));
                }
            }
        }
        let (tenth, reason) = closed.expect("the silent session is closed");
        assert_eq!(
            reason,
            fixgate_core::CloseReason::Session {
                session: id("SLOW"),
                reason: fixgate_core::DisconnectReason::HeartbeatTimeout
            }
        );
        assert_eq!(tenth, 24, "closed at 2.4 s, in tenths");
    });
}
