//! Crash safety over the binary (issue 8): `fixgate --app executor` with the file store is killed
//! with SIGKILL at random moments, 20 times per run, while an initiator streams orders at a steady
//! rate, and restarted each time. At the end every order has exactly one ExecutionReport (nothing
//! lost, nothing executed twice: the executor does no deduplication, the store's record of the
//! inbound sequence with each reply prevents it), and both sides' sequence numbers agree. One run
//! per durability mode: a process crash loses nothing in any of them (`process` writes to the
//! operating system before a message counts as stored; `batch` and `each` also sync to disk,
//! which only a machine crash would tell apart).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use fixgate::message_logs::session_folder;
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

/// The acceptor's configuration: one session, the file store in `dir`.
fn properties(dir: &Path, port: u16, durability: &str) -> String {
    format!(
        "ListenAddress = 127.0.0.1\n\
         ListenPort = {port}\n\
         CreateUnregisteredAcceptorSession = false\n\
         StorageType = file\n\
         StorageDirectory = {}\n\
         Session.Default.ConnectionType = acceptor\n\
         Session.Default.StorageDurability = {durability}\n\
         Session.CLIENT.BeginString = FIX.4.4\n\
         Session.CLIENT.SenderCompID = EXEC\n\
         Session.CLIENT.TargetCompID = CLIENT\n",
        dir.join("store").display()
    )
}

/// Starts the binary and waits until it listens; returns it and its port.
fn spawn_acceptor(config: &Path) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .args(["--config".as_ref(), config.as_os_str()])
        .args(["--app", "executor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the fixgate binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("fixgate listening on ")
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

async fn kill_and_restart(durability: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    // Port 0 the first time; every restart takes the port that one got.
    let config = dir.path().join("acceptor.properties");
    std::fs::write(&config, properties(dir.path(), 0, durability)).unwrap();
    let (mut acceptor, port) = spawn_acceptor(&config);
    std::fs::write(&config, properties(dir.path(), port, durability)).unwrap();

    let engine_config = EngineConfig {
        reconnect_interval: Duration::from_millis(20),
        ..EngineConfig::default()
    };
    let (initiator, mut events) = FixEngine::start(engine_config, None).await.unwrap();
    let id = SessionId::new("CLIENT", "EXEC");
    let mut session_config = SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator);
    session_config.heart_bt_int = Duration::from_secs(5);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now()));
    let client = initiator
        .create_session(id.clone(), session_config, Box::new(store))
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

    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut recoveries = Vec::with_capacity(KILLS);
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300))).await;
        let logons = seen.lock().await.logons;
        acceptor.kill().unwrap();
        acceptor.wait().unwrap();
        let killed = Instant::now();
        acceptor = spawn_acceptor(&config).0;
        let deadline = killed + Duration::from_secs(10);
        while seen.lock().await.logons == logons {
            assert!(
                Instant::now() < deadline,
                "no Logon within 10 s of a restart"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        recoveries.push(killed.elapsed());
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
    // before it, so a late duplicate would be counted by now.
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
    let twice: Vec<_> = reports.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "executed more than once: {twice:?}");
    assert!(
        (1..=total).all(|n| reports.get(&n) == Some(&1)),
        "lost orders"
    );

    // Both sides' numbers agree: ours in the engine, the acceptor's on disk.
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
    collector.abort();
    let folder = session_folder(&dir.path().join("store"), &SessionId::new("EXEC", "CLIENT"));
    let stored = FileStore::open(folder, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("the acceptor's store opens");
    assert_eq!(stored.next_target_seq(), sender_seq, "acceptor's inbound");
    assert_eq!(stored.next_sender_seq(), target_seq, "acceptor's outbound");

    recoveries.sort();
    eprintln!(
        "{durability}: {total} orders, {KILLS} kills: every order executed once; \
         recovery (kill to Logon) median {:?}, max {:?}",
        recoveries[KILLS / 2],
        recoveries[KILLS - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_killed_20_times_durability_process() {
    kill_and_restart("process", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_killed_20_times_durability_batch() {
    kill_and_restart("batch", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_killed_20_times_durability_each() {
    kill_and_restart("each", 3).await;
}
