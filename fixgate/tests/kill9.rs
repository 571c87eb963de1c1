//! Crash safety over the binary (issue 8): `fixgate --app executor` with the file store is killed
//! with SIGKILL at random moments, 20 times per run, while an initiator streams orders at a steady
//! rate, and restarted each time. At the end every order has exactly one ExecutionReport (nothing
//! lost, nothing executed twice: the executor does no deduplication, the store's record of the
//! inbound sequence with each reply prevents it), and both sides' sequence numbers agree. One run
//! per durability mode: a process crash loses nothing in any of them (`process` writes to the
//! operating system before a message counts as stored; `batch` and `each` also sync to disk,
//! which only a machine crash would tell apart). One more run keeps the store in PostgreSQL, and the
//! acceptor that restarts is a new process of the same instance, which claims the session back.

use std::path::Path;

use std::time::{Duration, Instant, SystemTime};

use fixgate::message_logs::session_folder;
use fixgate_core::{MessageStore, SessionId, UtcTimestamp};
use fixgate_postgres::{Postgres, PostgresSettings};
use fixgate_store::FileStore;

mod support;
use support::{Rng, spawn_acceptor};

// The initiator side, shared with the tests crate's kill -9 test of an acceptor that settles out
// of order (this crate's tests cannot depend on that crate, which depends on this one).
#[path = "../../tests/src/order_client.rs"]
pub mod order_client;
use order_client::OrderClient;

const KILLS: usize = 20;

// The test cluster's fresh databases (the tests crate's helper, included as order_client is).
#[path = "../../tests/src/postgres.rs"]
pub mod postgres;

/// Where the acceptor keeps its session.
enum Store {
    /// The file store, with this `StorageDurability`.
    File(&'static str),
    /// PostgreSQL, at this URL.
    Postgres(String),
}

/// The acceptor's configuration: one session, its store in `dir` or in the database.
fn properties(dir: &Path, port: u16, store: &Store) -> String {
    let storage = match store {
        Store::File(durability) => format!(
            "StorageType = file\nStorageDirectory = {}\n\
             Session.Default.StorageDurability = {durability}\n",
            dir.join("store").display()
        ),
        Store::Postgres(url) => {
            format!("StorageType = postgres\nPostgresUrl = {url}\nInstanceName = killed\n")
        }
    };
    format!(
        "ListenAddress = 127.0.0.1\n\
         ListenPort = {port}\n\
         CreateUnregisteredAcceptorSession = false\n\
         {storage}\
         Session.Default.ConnectionType = acceptor\n\
         Session.CLIENT.BeginString = FIX.4.4\n\
         Session.CLIENT.SenderCompID = EXEC\n\
         Session.CLIENT.TargetCompID = CLIENT\n"
    )
}

async fn kill_and_restart(store: Store, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    // Port 0 the first time; every restart takes the port that one got.
    let config = dir.path().join("acceptor.properties");
    std::fs::write(&config, properties(dir.path(), 0, &store)).unwrap();
    let (mut acceptor, port) = spawn_acceptor(&config);
    std::fs::write(&config, properties(dir.path(), port, &store)).unwrap();

    let client = OrderClient::start(port).await;

    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut recoveries = Vec::with_capacity(KILLS);
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300))).await;
        let logons = client.logons().await;
        acceptor.kill().unwrap();
        acceptor.wait().unwrap();
        let killed = Instant::now();
        acceptor = spawn_acceptor(&config).0;
        client
            .await_logon_after(logons, killed + Duration::from_secs(10))
            .await;
        recoveries.push(killed.elapsed());
    }
    let (total, sender_seq, target_seq) = client.finish().await;
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    let id = SessionId::new("EXEC", "CLIENT");
    let now = UtcTimestamp::from_system_time(SystemTime::now());
    let (name, stored): (_, Box<dyn MessageStore>) = match &store {
        Store::File(durability) => {
            let folder = session_folder(&dir.path().join("store"), &id);
            let stored = FileStore::open(folder, now).expect("the acceptor's store opens");
            (*durability, Box::new(stored))
        }
        Store::Postgres(url) => {
            let settings = PostgresSettings::new(url, "killed");
            let postgres = Postgres::connect(settings).expect("the database");
            let stored = postgres.open(&id, now).expect("the acceptor's store opens");
            ("postgres", Box::new(stored))
        }
    };
    assert_eq!(stored.next_target_seq(), sender_seq, "acceptor's inbound");
    assert_eq!(stored.next_sender_seq(), target_seq, "acceptor's outbound");

    recoveries.sort();
    eprintln!(
        "{name}: {total} orders, {KILLS} kills: every order executed once; \
         recovery (kill to Logon) median {:?}, max {:?}",
        recoveries[KILLS / 2],
        recoveries[KILLS - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_killed_20_times_durability_process() {
    kill_and_restart(Store::File("process"), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_killed_20_times_durability_batch() {
    kill_and_restart(Store::File("batch"), 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_killed_20_times_durability_each() {
    kill_and_restart(Store::File("each"), 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptor_killed_20_times_store_in_postgres() {
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    kill_and_restart(Store::Postgres(url), 4).await;
}
