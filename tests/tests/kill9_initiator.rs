//! Crash safety with the initiator killed (issue 8): `initiator_child` streams orders from a
//! `FileStore` to the `fixgate` binary's executor (in process here, over loopback) and is killed
//! with SIGKILL at random moments, 20 times, each time restarted on the same store. Then every
//! order whose `put()` returned has been executed exactly once (one ExecID; a report delivered
//! again after a kill carries the same ExecID), every report reached the initiator's application,
//! and both sides' sequence numbers agree.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fixgate::apps::{App, Responder};
use fixgate_core::{
    BeginString, EngineConfig, MemoryStore, MessageStore, Role, SessionConfig, SessionId,
    UtcTimestamp,
};
use fixgate_store::FileStore;
use fixgate_tokio::{FixEngine, TlsConfig};

const KILLS: usize = 20;

/// What the children printed, over all their lives.
#[derive(Default)]
struct Seen {
    put: HashSet<String>,
    /// ClOrdID → the ExecIDs of its reports, redeliveries included.
    reports: HashMap<String, Vec<String>>,
    logons: usize,
    /// The last child logged out when asked.
    logged_out: bool,
}

/// Starts a child on `store` and records its lines in `seen`.
fn spawn(
    store: &Path,
    port: u16,
    run: &str,
    orders: Option<u64>,
    seen: &Arc<Mutex<Seen>>,
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_initiator_child"));
    command.arg(store).arg(port.to_string()).arg(run);
    if let Some(orders) = orders {
        command.arg(orders.to_string());
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().unwrap();
    let seen = seen.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let mut seen = seen.lock().unwrap();
            let mut words = line.split(' ');
            match (words.next(), words.next(), words.next()) {
                (Some("logon"), _, _) => seen.logons += 1,
                (Some("logged"), Some("out"), _) => seen.logged_out = true,
                (Some("put"), Some(id), _) => {
                    seen.put.insert(id.to_owned());
                }
                (Some("report"), Some(id), Some(exec)) => {
                    seen.reports
                        .entry(id.to_owned())
                        .or_default()
                        .push(exec.to_owned());
                }
                _ => panic!("unexpected line {line:?}"),
            }
        }
    });
    child
}

fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < end, "{what}: not within {deadline:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initiator_killed_20_times_loses_nothing_and_nothing_runs_twice() {
    let listen = Some("127.0.0.1:0".parse().unwrap());
    let executor = Responder::new(App::Executor, false, None);
    let acceptor = FixEngine::start_with_app(
        EngineConfig::default(),
        listen,
        TlsConfig::default(),
        executor,
    )
    .await
    .unwrap();
    let id = SessionId::new("EXEC", "CLIENT");
    let store = MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now()));
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    let session = acceptor
        .create_session(id.clone(), config, Box::new(store))
        .await
        .unwrap();
    session.connect().await.unwrap();
    let port = acceptor.local_addr().unwrap().port();

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("initiator");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut recoveries = Vec::with_capacity(KILLS);
    let mut child = spawn(&store, port, "r0", None, &seen);
    for run in 1..=KILLS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let pause = Duration::from_millis(100 + rng % 300);
        tokio::task::spawn_blocking(move || std::thread::sleep(pause))
            .await
            .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let killed = Instant::now();
        let logons = seen.lock().unwrap().logons;
        // The last life sends nothing new: it only finishes what the others started.
        let orders = (run == KILLS).then_some(0);
        child = spawn(&store, port, &format!("r{run}"), orders, &seen);
        let seen = seen.clone();
        tokio::task::spawn_blocking(move || {
            wait_for("Logon after a restart", Duration::from_secs(10), || {
                seen.lock().unwrap().logons > logons
            })
        })
        .await
        .unwrap();
        recoveries.push(killed.elapsed());
    }

    let waiting = seen.clone();
    tokio::task::spawn_blocking(move || {
        wait_for("a report for every order", Duration::from_secs(30), || {
            let seen = waiting.lock().unwrap();
            seen.put.iter().all(|id| seen.reports.contains_key(id))
        });
    })
    .await
    .unwrap();
    // A Logout both ways: once it is done, both have processed everything the other sent, and
    // the child no longer reconnects, so the numbers compared below hold still.
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"logout\n").unwrap();
    let waiting = seen.clone();
    tokio::task::spawn_blocking(move || {
        wait_for("the Logout", Duration::from_secs(10), || {
            waiting.lock().unwrap().logged_out
        });
    })
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    let (orders, redelivered) = {
        let seen = seen.lock().unwrap();
        let mut redelivered = 0;
        for (order, execs) in &seen.reports {
            let distinct: HashSet<&String> = execs.iter().collect();
            assert_eq!(
                distinct.len(),
                1,
                "order {order} executed more than once: {execs:?}"
            );
            redelivered += execs.len() - 1;
        }
        // Orders whose put() returned but whose `put` line the kill cut off count too.
        assert!(seen.reports.len() >= seen.put.len());
        assert!(seen.reports.len() <= seen.put.len() + KILLS);
        (seen.reports.len(), redelivered)
    };

    let (numbers, read) = tokio::sync::oneshot::channel();
    acceptor
        .with_engine(move |engine| {
            let session = engine.session(&id).expect("the session");
            let _ = numbers.send((session.next_sender_seq(), session.next_target_seq()));
        })
        .await
        .unwrap();
    let (acceptor_sender, acceptor_target) = read.await.unwrap();
    let stored = FileStore::open(&store, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("the initiator's store opens");
    assert_eq!(
        stored.next_sender_seq(),
        acceptor_target,
        "initiator's outbound"
    );
    assert_eq!(
        stored.next_target_seq(),
        acceptor_sender,
        "initiator's inbound"
    );

    recoveries.sort();
    eprintln!(
        "{orders} orders, {KILLS} initiator kills: each executed once, {redelivered} reports \
         delivered again after a kill (same ExecID); restart to Logon median {:?}, max {:?}",
        recoveries[KILLS / 2],
        recoveries[KILLS - 1]
    );
}
