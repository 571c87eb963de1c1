//! Crash safety of an acceptor whose application settles out of order (issue 20 item 14):
//! `acceptor_child` executes orders over a `FileStore`, answering the second order of each pair
//! ahead of the first, and is killed with SIGKILL at random moments, 20 times, while an
//! in-process initiator puts an order every 2 ms; each time it restarts on the same port and
//! store. Then every order has exactly one ExecutionReport (the child does no deduplication) and,
//! after a Logout, both sides' sequence numbers agree.
//!
//! Both of the store's recovery mechanisms are needed here (`fixgate/tests/kill9.rs`, with the
//! binary's executor settling in order, needs only one): a kill while the first order of a pair
//! is held finds a reply stored for the second, above the persisted next-expected number, and
//! only the reply's record of the inbound number it answers keeps the second from running
//! twice; and without the persisted number the acceptor's stored numbers end behind.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use fixgate_core::{
    BeginString, EngineConfig, Event, MemoryStore, MessageStore, Now, Role, SessionConfig,
    SessionId, UtcTimestamp,
};
use fixgate_store::FileStore;
use fixgate_tokio::{AppEvent, FixEngine};
use tokio::sync::Mutex;

const KILLS: usize = 20;

/// A small deterministic generator for the kill moments.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Starts the child on `store` and `port` (0: any free one); returns it and the port it took.
fn spawn_acceptor(store: &Path, port: u16) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_acceptor_child"))
        .arg(store)
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|addr| addr.parse::<std::net::SocketAddr>().ok())
        .unwrap_or_else(|| panic!("{line:?}"))
        .port();
    (child, port)
}

/// What the initiator's application saw: ExecutionReports per ClOrdID, and the Logons.
#[derive(Default)]
struct Seen {
    reports: HashMap<u64, u32>,
    logons: u64,
    disconnects: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_settling_out_of_order_killed_20_times_executes_each_order_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (mut acceptor, port) = spawn_acceptor(&store, 0);

    let engine_config = EngineConfig {
        reconnect_interval: Duration::from_millis(20),
        ..EngineConfig::default()
    };
    let (initiator, mut events) = FixEngine::start(engine_config, None).await.unwrap();
    let id = SessionId::new("CLIENT", "EXEC");
    let mut session_config = SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator);
    session_config.heart_bt_int = Duration::from_secs(5);
    let memory = MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now()));
    let client = initiator
        .create_session(id.clone(), session_config, Box::new(memory))
        .await
        .unwrap();
    client
        .connect_to(([127, 0, 0, 1], port).into())
        .await
        .unwrap();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let collector = {
        let (seen, initiator) = (seen.clone(), initiator.clone());
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    AppEvent::Deliver { session, delivered } => {
                        let msg = delivered.message();
                        if msg.msg_type() == b"8" {
                            let id = msg.uint(11).expect("ClOrdID");
                            *seen.lock().await.reports.entry(id).or_default() += 1;
                        }
                        let _ = initiator.ack(session, delivered).await;
                    }
                    AppEvent::Event {
                        event: Event::LoggedOn { .. },
                        ..
                    } => seen.lock().await.logons += 1,
                    AppEvent::Disconnected { .. } => seen.lock().await.disconnects += 1,
                    _ => {}
                }
            }
        })
    };

    // Orders at a steady rate, whether the acceptor is up or not: put() stores them, and the
    // next Logon's resend delivers what the acceptor has not processed.
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (sent, stop, orders) = (sent.clone(), stop.clone(), client.sender());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(2));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let n = sent.load(Ordering::Relaxed) + 1;
                let body = format!("11={n}\x0121=1\x0155=KILL\x0154=1\x0138=100\x0140=1\x01");
                orders.put(b"D".to_vec(), Bytes::from(body)).await.unwrap();
                sent.store(n, Ordering::Relaxed);
            }
        })
    };

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut logons_before = 0;
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300))).await;
        // Each kill hits a logged-on acceptor.
        let deadline = Instant::now() + Duration::from_secs(10);
        while seen.lock().await.logons == logons_before {
            assert!(Instant::now() < deadline, "no Logon within 10 s of a start");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        logons_before = seen.lock().await.logons;
        acceptor.kill().unwrap();
        acceptor.wait().unwrap();
        acceptor = spawn_acceptor(&store, port).0;
    }
    stop.store(true, Ordering::Relaxed);
    sender.await.unwrap();
    let total = sent.load(Ordering::Relaxed);

    // Every order gets its report.
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().await.reports.len() < total as usize {
        assert!(
            Instant::now() < deadline,
            "reports missing 30 s after the last order"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Logged out cleanly; once the application has seen the disconnect it has seen every report
    // before it. Both sides' numbers agree: ours in the engine, the acceptor's on disk.
    // The core engine's shutdown logs out and stops reconnecting (the adapter's own would also
    // end the engine task, before the numbers are read): no new Logon can move them meanwhile.
    let disconnects = seen.lock().await.disconnects;
    initiator
        .with_engine(|engine| {
            engine.shutdown(Now {
                mono: Instant::now(),
                utc: SystemTime::now(),
            });
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().await.disconnects == disconnects {
        assert!(Instant::now() < deadline, "the Logout never completed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reports = std::mem::take(&mut seen.lock().await.reports);
    let mut twice: Vec<_> = reports.iter().filter(|(_, n)| **n > 1).collect();
    twice.sort();
    assert!(
        twice.is_empty(),
        "{} orders executed more than once, among them {:?}",
        twice.len(),
        &twice[..twice.len().min(10)]
    );
    assert!(
        (1..=total).all(|n| reports.get(&n) == Some(&1)),
        "lost orders"
    );
    let (numbers, read) = tokio::sync::oneshot::channel();
    initiator
        .with_engine(move |engine| {
            let session = engine.session(&id).expect("the session");
            let _ = numbers.send((session.next_sender_seq(), session.next_target_seq()));
        })
        .await
        .unwrap();
    let (sender_seq, target_seq) = read.await.unwrap();
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    let stored = FileStore::open(&store, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("the acceptor's store opens");
    assert_eq!(stored.next_target_seq(), sender_seq, "acceptor's inbound");
    assert_eq!(stored.next_sender_seq(), target_seq, "acceptor's outbound");
    collector.abort();
    eprintln!("{total} orders, {KILLS} kills: every order executed once");
}
