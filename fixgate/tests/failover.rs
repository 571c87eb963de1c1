//! Failover between two `fixgate` processes that share one PostgreSQL database (issue 21): an
//! initiator that knows both addresses streams orders; the instance that owns the session is
//! killed with SIGKILL 20 times, and each time the other takes the session over once the lease
//! lapses, and the killed one comes back as the standby. At the end every order has exactly one
//! ExecutionReport, and the database's numbers agree with the initiator's. A second test pauses
//! the owner (SIGSTOP) until the standby has taken over, then resumes it (SIGCONT): the zombie
//! writes nothing, sends nothing, and drops its connection.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant, SystemTime};

use fixgate_core::{MessageStore, SessionId, UtcTimestamp};
use fixgate_postgres::{Postgres, PostgresSettings};

mod support;
use support::{Rng, frame, http, now, read_until, spawn};

#[path = "../../tests/src/order_client.rs"]
pub mod order_client;
use order_client::OrderClient;

#[path = "../../tests/src/postgres.rs"]
pub mod postgres;

const KILLS: usize = 20;

/// The tests here run one at a time: each times leases of 1.5 s, and four at once on a small
/// machine would measure the machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Instance `name`'s configuration: the session EXEC->CLIENT, in the database at `url`, with the
/// default failover settings.
fn properties(url: &str, name: &str, port: u16, extra: &str) -> String {
    format!(
        "ListenAddress = 127.0.0.1\n\
         ListenPort = {port}\n\
         CreateUnregisteredAcceptorSession = false\n\
         StorageType = postgres\n\
         PostgresUrl = {url}\n\
         InstanceName = {name}\n\
         Session.CLIENT.BeginString = FIX.4.4\n\
         Session.CLIENT.SenderCompID = EXEC\n\
         Session.CLIENT.TargetCompID = CLIENT\n\
         Session.CLIENT.ConnectionType = acceptor\n\
         MetricsAddress = 127.0.0.1:0\n\
         {extra}"
    )
}

/// One instance: its configuration file, its port, its process and its admin listener.
struct Instance {
    name: &'static str,
    config: std::path::PathBuf,
    port: u16,
    process: Child,
    admin: Option<String>,
}

impl Instance {
    /// Starts instance `name` on a port of its own (the same one at every restart).
    fn start(dir: &Path, url: &str, name: &'static str) -> Self {
        Self::start_with(dir, url, name, "")
    }

    /// [`start`](Self::start) with `extra` lines in the configuration.
    fn start_with(dir: &Path, url: &str, name: &'static str, extra: &str) -> Self {
        let config = dir.join(format!("{name}.properties"));
        std::fs::write(&config, properties(url, name, 0, extra)).unwrap();
        let spawned = spawn(&config);
        std::fs::write(&config, properties(url, name, spawned.port, extra)).unwrap();
        Self {
            name,
            config,
            port: spawned.port,
            process: spawned.child,
            admin: spawned.admin,
        }
    }

    fn kill(&mut self) {
        self.process.kill().unwrap();
        self.process.wait().unwrap();
    }

    fn restart(&mut self) {
        let spawned = spawn(&self.config);
        (self.process, self.admin) = (spawned.child, spawned.admin);
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([signal, &self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

fn owner(url: &str) -> Option<String> {
    postgres::query_text(url, "SELECT owner FROM fixgate_sessions")
}

/// Waits until the session's owner is `name`, at most `limit`.
fn await_owner(url: &str, name: &str, limit: Duration) -> bool {
    postgres::wait_until(limit, || owner(url).as_deref() == Some(name))
}

fn median_and_max(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_20_kills_with_every_order_executed_once() {
    let _serial = SERIAL.lock().await;
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut instances = [
        Instance::start(dir.path(), &url, "a"),
        Instance::start(dir.path(), &url, "b"),
    ];
    assert!(await_owner(&url, "a", Duration::from_secs(5)) || owner(&url).as_deref() == Some("b"));
    let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
    let client = OrderClient::start_any(&ports).await;
    let mut rng = Rng(0x5eed_f00d);
    let (mut to_logon, mut to_report) = (Vec::new(), Vec::new());
    for _ in 0..KILLS {
        // A while of steady orders first: a few hundred more answered.
        client
            .await_more_reports(50 + rng.below(250), Duration::from_secs(15))
            .await;
        let owner = owner(&url).expect("an owner");
        let (active, standby) = match owner.as_str() {
            "a" => (0, 1),
            _ => (1, 0),
        };
        let (logons, reports) = (client.logons().await, client.reports().await);
        instances[active].kill();
        let killed = Instant::now();
        client
            .await_logon_after(logons, killed + Duration::from_secs(15))
            .await;
        to_logon.push(killed.elapsed());
        client
            .await_report_after(reports, killed + Duration::from_secs(15))
            .await;
        to_report.push(killed.elapsed());
        let name = instances[standby].name;
        assert_eq!(
            self::owner(&url).as_deref(),
            Some(name),
            "the standby took the session"
        );
        instances[active].restart();
    }
    let (total, sender_seq, target_seq) = client.finish().await;
    for instance in &mut instances {
        instance.kill();
    }
    // What the database holds agrees with the initiator: read under the last owner's name,
    // whose claim needs no wait for its lease to lapse.
    let last = owner(&url).expect("an owner");
    let postgres = Postgres::connect(PostgresSettings::new(&url, last)).unwrap();
    let now = UtcTimestamp::from_system_time(SystemTime::now());
    let stored = postgres
        .open(&SessionId::new("EXEC", "CLIENT"), now)
        .unwrap();
    assert_eq!(stored.next_target_seq(), sender_seq, "acceptor's inbound");
    assert_eq!(stored.next_sender_seq(), target_seq, "acceptor's outbound");
    let (logon_p50, logon_max) = median_and_max(to_logon);
    let (report_p50, report_max) = median_and_max(to_report);
    eprintln!(
        "failover: {total} orders, {KILLS} kills of the owner: every order executed once; \
         kill to Logon on the standby p50 {logon_p50:?}, max {logon_max:?}; \
         kill to its first ExecutionReport p50 {report_p50:?}, max {report_max:?}"
    );
}

/// The number of application messages instance `admin` has settled (its callback ran).
fn settled(admin: &str) -> u64 {
    let (_, metrics) = http(admin, "GET /metrics", "");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("fixgate_settle_duration_seconds_count "))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("no settle count in {metrics}"))
}

/// Whether instance `admin` runs the session now.
fn runs_the_session(admin: &str) -> bool {
    let (_, sessions) = http(admin, "GET /api/sessions", "");
    sessions.contains("EXEC->CLIENT")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_that_resumes_after_the_takeover_does_nothing_more() {
    let _serial = SERIAL.lock().await;
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = Instance::start(dir.path(), &url, "a");
    assert!(await_owner(&url, "a", Duration::from_secs(5)));
    let b = Instance::start(dir.path(), &url, "b");
    let admin = a.admin.clone().expect("a's admin listener");
    let client = OrderClient::start_any(&[a.port, b.port]).await;
    client
        .await_logon_after(0, Instant::now() + Duration::from_secs(10))
        .await;
    // Orders through a, then a pause until every one is answered: nothing is in flight.
    client
        .await_report_after(0, Instant::now() + Duration::from_secs(10))
        .await;
    client.pause(true);
    client
        .await_every_report(Instant::now() + Duration::from_secs(10))
        .await;
    let settled_before = settled(&admin);
    // a stands still. The orders that follow reach its socket, where it cannot read them; the
    // initiator's heartbeat check gives up on it and finds b, which took the session over.
    a.signal("-STOP");
    client.pause(false);
    let logons = client.logons().await;
    assert!(
        await_owner(&url, "b", Duration::from_secs(30)),
        "the standby never took over"
    );
    client
        .await_logon_after(logons, Instant::now() + Duration::from_secs(60))
        .await;
    // a resumes: its lease lapsed long ago. It reads what reached it meanwhile, delivers none
    // of it, and gives the session up once it learns that b owns it.
    a.signal("-CONT");
    let gave_up = tokio::task::block_in_place(|| {
        postgres::wait_until(Duration::from_secs(10), || !runs_the_session(&admin))
    });
    assert!(gave_up, "the zombie still runs the session");
    assert_eq!(
        settled(&admin),
        settled_before,
        "the zombie's application saw more orders"
    );
    assert_eq!(owner(&url).as_deref(), Some("b"));
    // Every order, those sent to the zombie included, executed once, by b.
    let (total, _, _) = client.finish().await;
    eprintln!(
        "zombie: {total} orders, every one executed once; the zombie settled none after its pause"
    );
    for mut instance in [a, b] {
        instance.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_restarts_in_the_middle_of_a_stream_lose_nothing() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(cluster) = postgres::Cluster::start(dir.path()) else {
        return;
    };
    let mut a = Instance::start(dir.path(), &cluster.url, "a");
    assert!(await_owner(&cluster.url, "a", Duration::from_secs(5)));
    let client = OrderClient::start_any(&[a.port]).await;
    client
        .await_more_reports(100, Duration::from_secs(30))
        .await;
    // A quick restart: commits wait for the server and go on.
    tokio::task::block_in_place(|| cluster.restart(Duration::ZERO));
    client
        .await_more_reports(100, Duration::from_secs(30))
        .await;
    // An outage longer than FailoverTimeout: the lease runs out, so the session closes without
    // a Logout (nothing more can be stored), and logs on again once the server is back.
    let disconnects = client.disconnects().await;
    tokio::task::block_in_place(|| cluster.restart(Duration::from_secs(3)));
    client
        .await_more_reports(100, Duration::from_secs(30))
        .await;
    assert!(
        client.disconnects().await > disconnects,
        "the session went on through a 3 s outage"
    );
    let (total, sender_seq, target_seq) = client.finish().await;
    a.kill();
    let postgres = Postgres::connect(PostgresSettings::new(&cluster.url, "a")).unwrap();
    let now = UtcTimestamp::from_system_time(SystemTime::now());
    let stored = postgres
        .open(&SessionId::new("EXEC", "CLIENT"), now)
        .unwrap();
    assert_eq!(stored.next_target_seq(), sender_seq, "acceptor's inbound");
    assert_eq!(stored.next_sender_seq(), target_seq, "acceptor's outbound");
    eprintln!("database restarts: {total} orders, every one executed once");
}

/// Logs on to the acceptor at 127.0.0.1:`port` as CLIENT, resetting the numbers, as a
/// counterparty does: again while the Logon is refused (the instance that just claimed the
/// session may not run it yet), for at most 10 s. The stream.
fn log_on(port: u16) -> std::net::TcpStream {
    use std::io::Write;
    let mut answered = None;
    let logged_on = postgres::wait_until(Duration::from_secs(10), || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let logon = format!(
            "35=A|34=1|49=CLIENT|52={}|56=EXEC|98=0|108=30|141=Y|",
            now()
        );
        stream.write_all(&frame(&logon)).unwrap();
        // A refused Logon gets nothing: the connection just closes.
        let mut first = [0u8; 1];
        if stream.peek(&mut first).is_ok_and(|n| n > 0) {
            read_until(&mut stream, "35=A|");
            answered = Some(stream);
        }
        answered.is_some()
    });
    assert!(logged_on, "the Logon was refused for 10 s");
    answered.expect("the answered stream")
}

/// Whether `owner(url)` stays `name` for `how_long`.
fn stays_owner(url: &str, name: &str, how_long: Duration) -> bool {
    !postgres::wait_until(how_long, || owner(url).as_deref() != Some(name))
}

#[test]
fn a_preferred_instance_takes_its_session_back_only_once_it_is_free() {
    let _serial = SERIAL.blocking_lock();
    use std::io::Write;
    let Some(url) = postgres::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefers = "PreferredSessions = EXEC->CLIENT\n";
    let mut a = Instance::start_with(dir.path(), &url, "a", prefers);
    assert!(await_owner(&url, "a", Duration::from_secs(5)));
    a.kill();
    // b prefers nothing: it claims the session once nobody who prefers it is alive.
    let mut b = Instance::start_with(dir.path(), &url, "b", "PreferredSessions =\n");
    assert!(await_owner(&url, "b", Duration::from_secs(10)));
    let mut counterparty = log_on(b.port);
    // a comes back: the session is logged on at b, and stays there.
    a.restart();
    assert!(
        stays_owner(&url, "b", Duration::from_secs(2)),
        "a took a logged-on session away"
    );
    let test_request = format!("35=1|34=2|49=CLIENT|52={}|56=EXEC|112=STILL|", now());
    counterparty.write_all(&frame(&test_request)).unwrap();
    read_until(&mut counterparty, "112=STILL|");
    // The counterparty logs out: b gives the session back, and a claims it.
    let logout = format!("35=5|34=3|49=CLIENT|52={}|56=EXEC|", now());
    counterparty.write_all(&frame(&logout)).unwrap();
    read_until(&mut counterparty, "35=5|");
    drop(counterparty);
    assert!(
        await_owner(&url, "a", Duration::from_secs(10)),
        "the session never went back to the instance that prefers it"
    );
    drop(log_on(a.port));
    a.kill();
    b.kill();
}
