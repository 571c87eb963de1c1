//! One slow counterparty cannot stall the engine (issue 19), over real loopback sockets: it asks
//! for a resend of 16 MB, stops reading, and goes on sending its Heartbeats at HeartBtInt 1.
//! Meanwhile another counterparty logs on and exchanges TestRequests: every answer comes within
//! 50 ms, and the slow session's store grows by nothing while its output is held.

mod hostile;

use std::time::{Duration, Instant};

use bytes::Bytes;
use fixgate_core::{EngineConfig, SessionId};
use hostile::{Peer, THEM, US, acceptor, acceptor_engine, log_on, logon, message, round_trip};
use tokio::sync::oneshot;

const SLOW: &str = "SLOW";
/// The backlog the slow counterparty asks for: 16,000 messages of about 1 KiB.
const BACKLOG: u64 = 16_000;
/// How late another session's answer may be while one session stalls.
const BOUND: Duration = Duration::from_millis(50);

// Two workers: with the engine task spinning, the test's own timeouts still fire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_during_a_resend_delays_no_other_session() {
    let config = EngineConfig {
        socket_send_buffer_size: 16 * 1024,
        ..EngineConfig::default()
    };
    let (engine, mut events) = acceptor_engine(config).await;
    let addr = engine.local_addr().unwrap();
    let slow = acceptor(&engine, SLOW, |c| {
        c.max_outbound_bytes = 256 * 1024;
        c.slow_consumer_timeout = Duration::from_secs(60);
    })
    .await;
    let _other = acceptor(&engine, THEM, |_| {}).await;
    let body = Bytes::from(format!("58={}\x01", "x".repeat(1000)));
    for _ in 0..BACKLOG {
        slow.put(&b"B"[..], body.clone()).await.unwrap();
    }

    // The slow counterparty logs on, asks for everything, and reads nothing more.
    let mut peer = Peer::connect(addr).await;
    peer.send(&logon(SLOW, US, 1, "")).await.unwrap();
    peer.expect(b"A").await;
    peer.send(&message(SLOW, US, "2", 2, "7=1|16=0|"))
        .await
        .unwrap();
    let heartbeats = tokio::spawn(async move {
        for seq in 3..8 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            peer.send(&message(SLOW, US, "0", seq, "")).await.unwrap();
        }
        peer
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Another counterparty, while the first one's resend is held.
    let started = Instant::now();
    let mut other = log_on(addr, &mut events, THEM, 30).await;
    let mut late = vec![started.elapsed()];
    let mut seq = 2;
    for _ in 0..20 {
        late.push(round_trip(&mut other, &mut seq).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _peer = heartbeats.await.unwrap();

    let worst = late.iter().max().unwrap();
    assert!(
        *worst < BOUND,
        "another session's Logon reply and TestRequest answers took up to {worst:?}: {late:?}"
    );
    let (tx, rx) = oneshot::channel();
    let id = SessionId::new(US, SLOW);
    engine
        .with_engine(move |e| {
            let _ = tx.send(e.session(&id).unwrap().next_sender_seq().get());
        })
        .await
        .unwrap();
    assert_eq!(
        rx.await.unwrap(),
        BACKLOG + 2,
        "the backlog and the Logon reply: nothing stored while the output was held"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_counterparty_that_drops_the_connection_is_reported_disconnected() {
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    let _session = acceptor(&engine, THEM, |_| {}).await;
    let peer = log_on(engine.local_addr().unwrap(), &mut events, THEM, 30).await;
    drop(peer);
    assert_eq!(
        hostile::disconnected(&mut events).await,
        fixgate_core::DisconnectReason::ConnectionClosed
    );
}
