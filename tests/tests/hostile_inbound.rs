//! A logged-on counterparty that sends faster than the application settles (issue 8, stage 2):
//! without inbound flow control every message waited in memory for the application (measured:
//! 200,000 orders, 185 MiB). With `MaxUnsettledMessages` the engine stops reading the connection,
//! so the kernel's buffers and then the sender hold the rest; nothing is lost.

mod hostile;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use fixgate_core::EngineConfig;
use fixgate_tokio::AppEvent;
use hostile::{MEMORY, PeakRss, THEM, US, WITHIN, acceptor, acceptor_engine, log_on, message};
use tokio::io::AsyncWriteExt;

const ORDERS: u64 = 200_000;

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
    let sender = tokio::spawn(async move {
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
                batch.clear();
            }
        }
        write.write_all(&batch).await.unwrap();
        started.elapsed()
    });

    // The application reads nothing for a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let growth = rss.growth_kib();
    let mut held = Vec::new();
    while let Ok(event) = events.try_recv() {
        held.push(event);
    }
    let delivered_while_stalled = held
        .iter()
        .filter(|e| matches!(e, AppEvent::Deliver { .. }))
        .count();
    eprintln!(
        "{ORDERS} orders, application stalled 3 s: {delivered_while_stalled} delivered meanwhile, \
         RSS growth {} MiB, sender done: {}",
        growth / 1024,
        sender.is_finished()
    );
    // The session decodes nothing beyond the limit: what the adapter read ahead waits undecoded.
    assert_eq!(
        delivered_while_stalled, 10_000,
        "messages waiting for the application"
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
