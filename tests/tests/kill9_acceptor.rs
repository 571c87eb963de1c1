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

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use fixgate_core::{MessageStore, UtcTimestamp};
use fixgate_store::FileStore;
use fixgate_tests::order_client::OrderClient;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_settling_out_of_order_killed_20_times_executes_each_order_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (mut acceptor, port) = spawn_acceptor(&store, 0);

    let client = OrderClient::start(port).await;

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut logons_before = 0;
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300))).await;
        // Each kill hits a logged-on acceptor.
        let deadline = Instant::now() + Duration::from_secs(10);
        client.await_logon_after(logons_before, deadline).await;
        logons_before = client.logons().await;
        acceptor.kill().unwrap();
        acceptor.wait().unwrap();
        acceptor = spawn_acceptor(&store, port).0;
    }
    let (total, sender_seq, target_seq) = client.finish().await;
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    let stored = FileStore::open(&store, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("the acceptor's store opens");
    assert_eq!(stored.next_target_seq(), sender_seq, "acceptor's inbound");
    assert_eq!(stored.next_sender_seq(), target_seq, "acceptor's outbound");
    eprintln!("{total} orders, {KILLS} kills: every order executed once");
}
