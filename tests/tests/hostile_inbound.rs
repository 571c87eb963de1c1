//! A logged-on counterparty that sends faster than the application settles (issue 8, stage 2):
//! without inbound flow control every message waited in memory for the application (measured:
//! 200,000 orders, 185 MiB). With `MaxUnsettledMessages` the engine stops reading the connection,
//! so the kernel's buffers and then the sender hold the rest; nothing is lost.

mod hostile;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fixgate_core::{EngineConfig, SessionId};
use fixgate_tokio::AppEvent;
use hostile::{MEMORY, PeakRss, THEM, US, WITHIN, acceptor, acceptor_engine, log_on, message};
use tokio::io::AsyncWriteExt;

const ORDERS: u64 = 200_000;
/// The default `MaxUnsettledMessages`.
const LIMIT: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_faster_than_the_application_settles_are_held_back_not_buffered() {
    let _memory = MEMORY.lock().await;
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    // The default MaxUnsettledMessages (10,000): exactly that many wait for the application.
    acceptor(&engine, THEM, |_| {}).await;
    let peer = log_on(engine.local_addr().unwrap(), &mut events, THEM, 30).await;
    let (_read, mut write) = peer.stream.into_split();
    let rss = PeakRss::start();
    let started = Instant::now();
    let written = Arc::new(AtomicU64::new(0));
    let sender = tokio::spawn({
        let written = written.clone();
        async move {
            let mut batch = Vec::new();
            for seq in 2..ORDERS + 2 {
                let order = message(
                    THEM,
                    US,
                    "D",
                    seq,
                    &format!("11=O{seq}|55=FIX|54=1|38=1|40=1|"),
                );
                batch.extend_from_slice(&order);
                if batch.len() >= 1 << 20 {
                    write.write_all(&batch).await.unwrap();
                    written.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    batch.clear();
                }
            }
            write.write_all(&batch).await.unwrap();
            started.elapsed()
        }
    });

    // The application settles nothing. The session delivers up to the limit, then holds.
    let mut held = Vec::new();
    while held
        .iter()
        .filter(|e| matches!(e, AppEvent::Deliver { .. }))
        .count()
        < LIMIT
    {
        let event = tokio::time::timeout(WITHIN, events.recv())
            .await
            .expect("deliveries up to the limit")
            .expect("the engine runs");
        held.push(event);
    }
    let id = SessionId::new(US, THEM);
    let (is_held, unsettled) = loop {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = id.clone();
        engine
            .with_engine(move |e| {
                let session = e.session(&id).expect("the session");
                let _ = tx.send((session.is_input_held(), session.unsettled_count()));
            })
            .await
            .unwrap();
        let state = rx.await.unwrap();
        if state.0 || started.elapsed() > WITHIN {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(is_held, "input not held with {unsettled} unsettled");
    // Whatever the session delivered before that answer is already queued for the application:
    // exactly the limit, nothing beyond it (what the adapter read ahead waits undecoded).
    while let Ok(event) = events.try_recv() {
        held.push(event);
    }
    let delivered_while_stalled = held
        .iter()
        .filter(|e| matches!(e, AppEvent::Deliver { .. }))
        .count();
    assert_eq!(
        (delivered_while_stalled, unsettled),
        (LIMIT, LIMIT),
        "messages waiting for the application"
    );
    // The sender is held back: wait until its writes stop moving (a sender that is not held
    // finishes instead: its orders, over 20 MB, are far beyond what the kernel's buffers and
    // the adapter's bounded read-ahead take).
    let mut last = written.load(Ordering::Relaxed);
    let mut still = 0;
    while still < 5 && !sender.is_finished() {
        assert!(
            started.elapsed() < 6 * WITHIN,
            "the sender neither stops nor ends"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = written.load(Ordering::Relaxed);
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    let growth = rss.growth_kib();
    eprintln!(
        "{ORDERS} orders, application stalled: {delivered_while_stalled} delivered meanwhile, \
         the sender stopped after {} MiB, RSS growth {} MiB, sender done: {}",
        last >> 20,
        growth / 1024,
        sender.is_finished()
    );
    assert!(!sender.is_finished(), "the sender was never held back");
    assert!(growth < 64 * 1024, "memory grew by {growth} KiB");

    // Then it settles everything: every order arrives, once.
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    let settle_started = Instant::now();
    let mut pending = held.into_iter();
    while seen.len() < ORDERS as usize {
        let event = match pending.next() {
            Some(event) => event,
            None => tokio::time::timeout(WITHIN, events.recv())
                .await
                .expect("the rest of the orders")
                .expect("the engine runs"),
        };
        if let AppEvent::Deliver { session, delivered } = event {
            if !seen.insert(delivered.seq().get()) {
                duplicates += 1;
            }
            engine.ack(session, delivered).await.unwrap();
        }
    }
    let sent_in = tokio::time::timeout(WITHIN, sender)
        .await
        .expect("the sender finishes")
        .unwrap();
    eprintln!(
        "all {ORDERS} orders delivered once ({duplicates} duplicates) and settled in {:?}; the sender took {sent_in:?}",
        settle_started.elapsed()
    );
    assert_eq!(duplicates, 0);
    assert_eq!(seen.iter().min(), Some(&2));
    assert_eq!(seen.iter().max(), Some(&(ORDERS + 1)));
    engine.shutdown().await;
}
