//! The initiator side of the kill -9 tests (`fixgate/tests/kill9.rs` includes this file by path,
//! `tests/tests/kill9_acceptor.rs` uses it from here): a tokio engine with one session, CLIENT to
//! EXEC, that puts an order every 2 ms whether the acceptor is up or not, counts the
//! ExecutionReports per ClOrdID, and at the end checks that every order was executed exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use fixgate_core::{
    BeginString, EngineConfig, Event, MemoryStore, Now, Role, SeqNum, SessionConfig, SessionId,
    UtcTimestamp,
};
use fixgate_tokio::{AppEvent, FixEngine};
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

/// What the initiator's application saw.
#[derive(Default)]
struct Seen {
    /// ExecutionReports per ClOrdID.
    reports: HashMap<u64, u32>,
    logons: u64,
    disconnects: u64,
}

/// The initiator that sends orders, and what it saw.
pub struct OrderClient {
    initiator: FixEngine,
    id: SessionId,
    seen: Arc<Mutex<Seen>>,
    /// Woken whenever `seen` changes.
    changed: Arc<Notify>,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    sender: JoinHandle<()>,
    collector: JoinHandle<()>,
}

impl OrderClient {
    /// Connects to the acceptor EXEC on 127.0.0.1:`port` (again 20 ms after each drop) and
    /// starts putting orders.
    pub async fn start(port: u16) -> Self {
        Self::start_any(&[port]).await
    }

    /// [`start`](Self::start) with several acceptors, 127.0.0.1 at each of `ports`, tried in
    /// turn (an instance and its standbys).
    pub async fn start_any(ports: &[u16]) -> Self {
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
        let addrs = ports.iter().map(|&p| ([127, 0, 0, 1], p).into()).collect();
        client.connect_to_any(addrs).await.unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let changed = Arc::new(Notify::new());
        let collector = {
            let (seen, changed, initiator) = (seen.clone(), changed.clone(), initiator.clone());
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
                        _ => continue,
                    }
                    changed.notify_waiters();
                }
            })
        };
        // put() stores each order; the next Logon's resend delivers what the acceptor has not
        // processed.
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(false));
        let sender = {
            let (sent, stop, orders) = (sent.clone(), stop.clone(), client.sender());
            let paused = paused.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(2));
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    if paused.load(Ordering::Relaxed) {
                        continue;
                    }
                    let n = sent.load(Ordering::Relaxed) + 1;
                    let body = format!("11={n}\x0121=1\x0155=KILL\x0154=1\x0138=100\x0140=1\x01");
                    orders.put(b"D".to_vec(), Bytes::from(body)).await.unwrap();
                    sent.store(n, Ordering::Relaxed);
                }
            })
        };
        Self {
            initiator,
            id,
            seen,
            changed,
            sent,
            stop,
            paused,
            sender,
            collector,
        }
    }

    /// The Logons so far.
    pub async fn logons(&self) -> u64 {
        self.seen.lock().await.logons
    }

    /// The disconnects so far.
    pub async fn disconnects(&self) -> u64 {
        self.seen.lock().await.disconnects
    }

    /// Stops putting orders until called again with `false`.
    pub fn pause(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    /// The orders put so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The ExecutionReports so far, duplicates included.
    pub async fn reports(&self) -> u64 {
        self.seen
            .lock()
            .await
            .reports
            .values()
            .map(|&n| u64::from(n))
            .sum()
    }

    /// Waits until there are more ExecutionReports than `before`, at most until `deadline`.
    pub async fn await_report_after(&self, before: u64, deadline: Instant) {
        let more = |seen: &Seen| seen.reports.values().map(|&n| u64::from(n)).sum::<u64>() > before;
        self.await_seen(more, deadline, "no ExecutionReport in time")
            .await;
    }

    /// Waits until `n` more ExecutionReports than now have come, at most `limit`.
    pub async fn await_more_reports(&self, n: u64, limit: Duration) {
        let reports = self.reports().await;
        self.await_report_after(reports + n - 1, Instant::now() + limit)
            .await;
    }

    /// Waits until every order put so far has its ExecutionReport, at most until `deadline`.
    pub async fn await_every_report(&self, deadline: Instant) {
        let sent = self.sent();
        let all = |seen: &Seen| seen.reports.len() as u64 >= sent;
        self.await_seen(all, deadline, "reports missing").await;
    }

    /// Waits until there are more Logons than `before`, at most until `deadline`.
    pub async fn await_logon_after(&self, before: u64, deadline: Instant) {
        self.await_seen(|seen| seen.logons > before, deadline, "no Logon in time")
            .await;
    }

    /// Waits until `done` holds of what was seen, failing with `what` at `deadline`.
    async fn await_seen(&self, done: impl Fn(&Seen) -> bool, deadline: Instant, what: &str) {
        loop {
            // Registered before the look, so that a change between the two is not missed.
            let changed = self.changed.notified();
            if done(&*self.seen.lock().await) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(tokio::time::timeout(left, changed).await.is_ok(), "{what}");
        }
    }

    /// Stops the orders, waits for every report, logs out, and checks that every order was
    /// executed exactly once. Returns the orders sent and our next sender and target numbers,
    /// for the acceptor's store to agree with.
    pub async fn finish(mut self) -> (u64, SeqNum, SeqNum) {
        self.stop.store(true, Ordering::Relaxed);
        (&mut self.sender).await.unwrap();
        let total = self.sent.load(Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(30);
        let all = |seen: &Seen| seen.reports.len() >= total as usize;
        self.await_seen(all, deadline, "reports missing 30 s after the last order")
            .await;
        // Logged out cleanly; once the application has seen the disconnect it has seen every
        // report before it, so a late duplicate would be counted by now. The core engine's
        // shutdown logs out and stops reconnecting (the adapter's own would also end the engine
        // task, before the numbers are read): no new Logon can move them meanwhile.
        let disconnects = self.seen.lock().await.disconnects;
        self.initiator
            .with_engine(|engine| {
                engine.shutdown(Now {
                    mono: Instant::now(),
                    utc: SystemTime::now(),
                });
            })
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let logged_out = |seen: &Seen| seen.disconnects > disconnects;
        self.await_seen(logged_out, deadline, "the Logout never completed")
            .await;
        let reports = std::mem::take(&mut self.seen.lock().await.reports);
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
        let id = self.id.clone();
        self.initiator
            .with_engine(move |engine| {
                let session = engine.session(&id).expect("the session");
                let _ = numbers.send((session.next_sender_seq(), session.next_target_seq()));
            })
            .await
            .unwrap();
        let (sender_seq, target_seq) = read.await.unwrap();
        self.collector.abort();
        (total, sender_seq, target_seq)
    }
}
