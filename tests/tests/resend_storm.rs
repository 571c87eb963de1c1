//! A resend storm between two fixgate engines over loopback (issue 8, stage 2): each side holds
//! 100,000 messages its counterparty never saw, so at Logon both ask for all of them at once and
//! both resend at the same time. Each application must receive every message exactly once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fixgate_core::OutboundMessage;
use fixgate_core::{
    BeginString, Delivered, EngineConfig, Event, MemoryStore, MessageReport, Now, Role,
    SessionConfig, SessionId, UtcTimestamp,
};
use fixgate_driver::{Application, Context};
use fixgate_tokio::{FixEngine, TlsConfig};

const MESSAGES: usize = 100_000;
/// A generous bound between "works" and "hangs" for the whole exchange (a debug build).
const WITHIN: Duration = Duration::from_secs(300);

/// What one application received.
#[derive(Default)]
struct Tally {
    /// Which of the counterparty's messages (by the number in its ClOrdID) arrived.
    seen: Vec<bool>,
    distinct: usize,
    duplicates: usize,
    /// Messages with PossDupFlag=Y.
    poss_dup: usize,
    /// Messages that were not the counterparty's numbered orders.
    strangers: usize,
    /// ResendRequests sent.
    resend_requests: usize,
    /// When the first ResendRequest went out, and when the last order arrived.
    asked_at: Option<Instant>,
    done_at: Option<Instant>,
    /// Connections ended.
    disconnects: usize,
}

/// Records every delivered message and acknowledges it.
struct Recorder {
    /// The ClOrdID prefix of the counterparty's orders.
    prefix: &'static str,
    tally: Arc<Mutex<Tally>>,
}

impl Application for Recorder {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        {
            let msg = delivered.message();
            let number = msg
                .str(11)
                .ok()
                .and_then(|id| id.strip_prefix(self.prefix))
                .and_then(|n| n.parse::<usize>().ok());
            let mut tally = self.tally.lock().unwrap();
            tally.poss_dup += usize::from(msg.str(43) == Ok("Y"));
            match number {
                Some(n) if n < MESSAGES => {
                    if std::mem::replace(&mut tally.seen[n], true) {
                        tally.duplicates += 1;
                    } else {
                        tally.distinct += 1;
                        if tally.distinct == MESSAGES {
                            tally.done_at = Some(Instant::now());
                        }
                    }
                }
                _ => tally.strangers += 1,
            }
        }
        ctx.ack(session, delivered).unwrap();
    }

    fn on_event(&mut self, _: &mut Context<'_>, _: &SessionId, event: Event) {
        // Our own ResendRequest (a served one ahead of a gap is not reported inbound).
        if let Event::Message {
            inbound: false,
            frame,
        } = event
            && frame.windows(6).any(|w| w == b"\x0135=2\x01")
        {
            let mut tally = self.tally.lock().unwrap();
            tally.resend_requests += 1;
            tally.asked_at.get_or_insert_with(Instant::now);
        }
    }

    fn on_disconnected(
        &mut self,
        _: &mut Context<'_>,
        _: &SessionId,
        _: fixgate_core::DisconnectReason,
    ) {
        self.tally.lock().unwrap().disconnects += 1;
    }
}

fn tally() -> Arc<Mutex<Tally>> {
    Arc::new(Mutex::new(Tally {
        seen: vec![false; MESSAGES],
        ..Tally::default()
    }))
}

/// Session `id` on `engine`, with `MESSAGES` orders put while it has no connection.
async fn session_with_backlog(
    engine: &FixEngine,
    id: SessionId,
    role: Role,
    prefix: &'static str,
) -> fixgate_tokio::Session {
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", role);
    // Admin messages are reported, so that the applications see the ResendRequests.
    config.report_messages = MessageReport::Admin;
    let store = MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now()));
    let session = engine
        .create_session(id.clone(), config, Box::new(store))
        .await
        .unwrap();
    engine
        .with_engine(move |e| {
            for n in 0..MESSAGES {
                let now = Now {
                    mono: Instant::now(),
                    utc: SystemTime::now(),
                };
                let body = format!("11={prefix}{n}\x0155=FIX\x0154=1\x0138=100\x0140=1\x01");
                let msg = OutboundMessage::from_parts(b"D", body.as_bytes());
                e.put(now, &id, msg).unwrap();
            }
        })
        .await
        .unwrap();
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_resend_a_hundred_thousand_messages_at_once_and_lose_or_repeat_none() {
    let (acceptor_tally, initiator_tally) = (tally(), tally());
    let acceptor = FixEngine::start_with_app(
        EngineConfig::default(),
        Some("127.0.0.1:0".parse().unwrap()),
        TlsConfig::default(),
        Recorder {
            prefix: "I",
            tally: acceptor_tally.clone(),
        },
    )
    .await
    .unwrap();
    let initiator = FixEngine::start_with_app(
        EngineConfig::default(),
        None,
        TlsConfig::default(),
        Recorder {
            prefix: "A",
            tally: initiator_tally.clone(),
        },
    )
    .await
    .unwrap();
    let accepting =
        session_with_backlog(&acceptor, SessionId::new("ISLD", "TW"), Role::Acceptor, "A").await;
    accepting.connect().await.unwrap();
    let initiating = session_with_backlog(
        &initiator,
        SessionId::new("TW", "ISLD"),
        Role::Initiator,
        "I",
    )
    .await;

    // Each Logon carries 100,001: each side sees a gap of 100,000 and asks for all of it, while
    // serving the other's request.
    let started = Instant::now();
    initiating
        .connect_to(acceptor.local_addr().unwrap())
        .await
        .unwrap();
    loop {
        let done = |t: &Arc<Mutex<Tally>>| t.lock().unwrap().distinct == MESSAGES;
        if done(&acceptor_tally) && done(&initiator_tally) {
            break;
        }
        assert!(
            started.elapsed() < WITHIN,
            "the storm did not end: acceptor has {}, initiator {}",
            acceptor_tally.lock().unwrap().distinct,
            initiator_tally.lock().unwrap().distinct
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    // A Logout both ways: each side's is processed after everything sent before it, so once both
    // applications have seen the connection end, anything late (a second request answered
    // again) has arrived.
    initiating.disconnect(None).await.unwrap();
    let ended = |t: &Arc<Mutex<Tally>>| t.lock().unwrap().disconnects > 0;
    while !(ended(&acceptor_tally) && ended(&initiator_tally)) {
        assert!(
            started.elapsed() < WITHIN,
            "the Logout did not end the connection"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (side, tally) in [
        ("acceptor", &acceptor_tally),
        ("initiator", &initiator_tally),
    ] {
        let tally = tally.lock().unwrap();
        eprintln!(
            "{side}: {} of {MESSAGES} distinct, {} duplicates, {} with PossDupFlag=Y, {} others; both storms done in {took:?}",
            tally.distinct, tally.duplicates, tally.poss_dup, tally.strangers
        );
        assert_eq!(tally.distinct, MESSAGES, "{side} lost messages");
        assert_eq!(tally.duplicates, 0, "{side} got duplicates");
        assert_eq!(tally.strangers, 0, "{side} got other messages");
        assert_eq!(
            tally.poss_dup, MESSAGES,
            "{side}: every message came as a resend"
        );
    }
    {
        // Both requests were out before either side had all it asked for: the storms overlapped.
        let (a, i) = (
            acceptor_tally.lock().unwrap(),
            initiator_tally.lock().unwrap(),
        );
        let both_asked = a.asked_at.max(i.asked_at).unwrap();
        let first_done = a.done_at.min(i.done_at).unwrap();
        eprintln!(
            "ResendRequests sent: acceptor {}, initiator {}; both asked {:?} after the connect, the first side done {:?} after it",
            a.resend_requests,
            i.resend_requests,
            both_asked - started,
            first_done - started
        );
        assert!(both_asked < first_done, "the resends did not overlap");
    }
    initiating.finalize().await.unwrap();
    accepting.finalize().await.unwrap();
    initiator.shutdown().await;
    acceptor.shutdown().await;
}
