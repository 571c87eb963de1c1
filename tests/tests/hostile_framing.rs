//! Faulty framing and a peer that never reads, over loopback on the tokio adapter (issue 8,
//! stage 2): a BodyLength of 2^31, a declared length that never arrives, a frame that never ends,
//! a mebibyte of garbage, and a resend to a peer that reads nothing. Memory stays bounded, the
//! reason is typed, nothing stalls. Timings and memory are reported (`--nocapture`).
//!
//! `tests/tests/backpressure.rs` covers `put()`/`try_put()` against a peer that never reads; the
//! test here adds the engine's own output (a 100,000-message resend) and its peak memory.

mod hostile;

use std::time::{Duration, Instant, SystemTime};

use fixgate_core::OutboundMessage;
use fixgate_core::codec::DecodeError;
use fixgate_core::{DisconnectReason, EngineConfig, Event, Now, SessionId};
use fixgate_tokio::AppEvent;
use hostile::{
    End, MEMORY, PeakRss, Peer, THEM, US, WITHIN, acceptor, acceptor_engine, disconnected, garbage,
    log_on, logon, message, round_trip, wait_for,
};
use tokio::net::TcpSocket;

/// 2^31, as a BodyLength.
const HUGE: u64 = 1 << 31;

/// The start of a frame that declares `body_length` bytes, with a few of them.
fn header(body_length: u64) -> Vec<u8> {
    format!("8=FIX.4.4\x019={body_length}\x0135=D\x0134=2\x0149={THEM}\x0156={US}\x01").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_length_of_two_to_the_31_before_logon_is_refused_at_once() {
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |_| {}).await;
    let mut peer = Peer::connect(engine.local_addr().unwrap()).await;
    peer.send(&header(HUGE)).await.unwrap();
    let sent = Instant::now();
    let (received, end) = peer.until_closed(WITHIN).await;
    let took = sent.elapsed();
    eprintln!("BodyLength 2^31 before logon: {received} bytes back, {end:?} after {took:?}");
    assert_eq!((received, end), (0, End::Eof));
    // Well before LogonTimeout (10 s): the verdict comes from the header alone.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(events.try_recv().is_err(), "the refusal reached a session");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_length_of_two_to_the_31_after_logon_disconnects_with_message_too_large() {
    let _memory = MEMORY.lock().await;
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |_| {}).await;
    let mut peer = log_on(engine.local_addr().unwrap(), &mut events, THEM, 30).await;
    let rss = PeakRss::start();
    peer.send(&header(HUGE)).await.unwrap();
    // The body begins to arrive; it is never buffered towards 2 GiB.
    let _ = peer.send(&vec![b'x'; 64 * 1024]).await;
    let sent = Instant::now();
    let reason = disconnected(&mut events).await;
    let (_, end) = peer.until_closed(WITHIN).await;
    let took = sent.elapsed();
    let growth = rss.growth_kib();
    eprintln!(
        "BodyLength 2^31 after logon: {reason:?}, socket {end:?} after {took:?}, RSS growth {growth} KiB"
    );
    assert_eq!(
        reason,
        DisconnectReason::MessageTooLarge(DecodeError::BodyLengthTooLarge {
            declared: HUGE,
            limit: 1 << 20
        })
    );
    assert_ne!(end, End::Open);
    assert!(growth < 64 * 1024, "memory grew by {growth} KiB");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_length_that_never_arrives_before_logon_is_closed_at_logon_timeout() {
    const LOGON_TIMEOUT: Duration = Duration::from_secs(2);
    let config = EngineConfig {
        logon_timeout: LOGON_TIMEOUT,
        ..EngineConfig::default()
    };
    let (engine, _events) = acceptor_engine(config).await;
    acceptor(&engine, THEM, |_| {}).await;
    let mut peer = Peer::connect(engine.local_addr().unwrap()).await;
    let opened = Instant::now();
    peer.send(&header(5_000)).await.unwrap();
    let (received, end) = peer.until_closed(WITHIN).await;
    let took = opened.elapsed();
    eprintln!("5,000 bytes declared, 40 sent, before logon: {end:?} after {took:?}");
    assert_eq!((received, end), (0, End::Eof));
    assert!(took >= LOGON_TIMEOUT - Duration::from_millis(100) && took < 3 * LOGON_TIMEOUT);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_length_that_never_arrives_after_logon_ends_in_heartbeat_timeout() {
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |_| {}).await;
    // HeartBtInt 1: TestRequest after 1.2 s of silence, the close after 2.4 s.
    let mut peer = log_on(engine.local_addr().unwrap(), &mut events, THEM, 1).await;
    peer.send(&header(5_000)).await.unwrap();
    let sent = Instant::now();
    let test_request = peer.expect(b"1").await;
    let asked = sent.elapsed();
    let reason = disconnected(&mut events).await;
    let (_, end) = peer.until_closed(WITHIN).await;
    let took = sent.elapsed();
    eprintln!(
        "5,000 bytes declared, 40 sent, after logon: TestRequest after {asked:?}, {reason:?}, socket {end:?} after {took:?}"
    );
    assert_eq!(test_request.str(112), Ok("TEST"));
    assert_eq!(reason, DisconnectReason::HeartbeatTimeout);
    assert_ne!(end, End::Open);
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(10));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_that_never_ends_is_cut_at_max_message_size() {
    let _memory = MEMORY.lock().await;
    const MAX: usize = 64 * 1024;
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |c| c.max_message_size = MAX).await;
    let mut peer = log_on(engine.local_addr().unwrap(), &mut events, THEM, 30).await;
    let rss = PeakRss::start();
    // A plausible BodyLength, then a mebibyte with no CheckSum to end the frame.
    peer.send(&header(1_000)).await.unwrap();
    let _ = peer.send(&vec![b'x'; 1 << 20]).await;
    let reason = disconnected(&mut events).await;
    let (_, end) = peer.until_closed(WITHIN).await;
    let growth = rss.growth_kib();
    eprintln!(
        "a frame with no end, MaxMessageSize {MAX}: {reason:?}, socket {end:?}, RSS growth {growth} KiB"
    );
    assert_eq!(
        reason,
        DisconnectReason::MessageTooLarge(DecodeError::FrameTooLong { limit: MAX })
    );
    assert_ne!(end, End::Open);
    assert!(growth < 32 * 1024, "memory grew by {growth} KiB");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mebibyte_of_garbage_before_logon_is_refused_at_once() {
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |_| {}).await;
    let mut peer = Peer::connect(engine.local_addr().unwrap()).await;
    let started = Instant::now();
    // The acceptor may close while this is still being written.
    let written = peer.send(&garbage(1 << 20)).await.is_ok();
    let (received, end) = peer.until_closed(WITHIN).await;
    let took = started.elapsed();
    eprintln!("1 MiB of garbage before logon: all written {written}, {end:?} after {took:?}");
    assert_eq!(received, 0);
    assert_ne!(end, End::Open);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(events.try_recv().is_err(), "the garbage reached a session");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_logon_is_skipped_and_the_session_goes_on() {
    let _memory = MEMORY.lock().await;
    const LEN: usize = 64 << 20;
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |_| {}).await;
    let mut peer = log_on(engine.local_addr().unwrap(), &mut events, THEM, 30).await;
    let bytes = garbage(LEN);
    let rss = PeakRss::start();
    let started = Instant::now();
    peer.send(&bytes).await.unwrap();
    // The session is still there and answers in order: nothing of the garbage took a number.
    let mut seq = 2;
    let answered = round_trip(&mut peer, &mut seq).await;
    let took = started.elapsed();
    let growth = rss.growth_kib();
    let mut garbled = 0;
    while let Ok(event) = events.try_recv() {
        match event {
            AppEvent::Event {
                event: Event::Garbled(DecodeError::NotAFrame),
                ..
            } => garbled += 1,
            AppEvent::Disconnected { reason, .. } => panic!("disconnected: {reason:?}"),
            _ => {}
        }
    }
    eprintln!(
        "{} MiB of garbage after logon: skipped in {took:?} (round trip after it {answered:?}), {garbled} Garbled events, RSS growth {growth} KiB",
        LEN >> 20
    );
    assert!(garbled > 0, "no Garbled event");
    // The garbage passed through in 16 KiB reads; none of it was kept (64 MiB went by).
    assert!(growth < 64 * 1024, "memory grew by {growth} KiB");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_to_a_peer_that_never_reads_holds_about_max_outbound_bytes_then_cuts_it() {
    let _memory = MEMORY.lock().await;
    const STORED: u64 = 100_000;
    const SLOW: Duration = Duration::from_secs(2);
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |c| c.slow_consumer_timeout = SLOW).await;
    // 100,000 messages of ~1 KiB put while disconnected: about 100 MiB in the store.
    let body = format!("11=ORDER|58={}|", "x".repeat(1000)).replace('|', "\x01");
    engine
        .with_engine(move |e| {
            let id = SessionId::new(US, THEM);
            for _ in 0..STORED {
                let now = Now {
                    mono: Instant::now(),
                    utc: SystemTime::now(),
                };
                let msg = OutboundMessage::from_parts(b"D", body.as_bytes());
                e.put(now, &id, msg).unwrap();
            }
        })
        .await
        .unwrap();
    // The counterparty: a small receive buffer, a Logon and a ResendRequest for everything, then
    // never a read.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(engine.local_addr().unwrap()).await.unwrap();
    let mut peer = Peer::from_stream(stream);
    let rss = PeakRss::start();
    peer.send(&logon(THEM, US, 30, "")).await.unwrap();
    peer.send(&message(THEM, US, "2", 2, "7=1|16=0|"))
        .await
        .unwrap();
    let started = Instant::now();
    logged_on_or_cut(&mut events).await;
    let reason = disconnected(&mut events).await;
    let took = started.elapsed();
    let growth = rss.growth_kib();
    let (drained, end) = peer.until_closed(WITHIN).await;
    eprintln!(
        "resend of {STORED} ~1 KiB messages to a peer that never reads: {reason:?} after {took:?} \
         (SlowConsumerTimeout {SLOW:?}); RSS growth {} MiB (MaxOutboundBytes 4 MiB); the peer then drained {drained} bytes, {end:?}",
        growth / 1024
    );
    assert_eq!(reason, DisconnectReason::SlowConsumer);
    assert!(took >= SLOW && took < SLOW + WITHIN);
    assert_ne!(end, End::Open);
    assert!(
        (drained as u64) < STORED * 1000 / 4,
        "most of the resend went out: {drained} bytes"
    );
    // Far below the 100 MiB that the resend would be if it were built whole.
    assert!(growth < 48 * 1024, "memory grew by {growth} KiB");
    engine.shutdown().await;
}

/// Waits for the Logon; a connection cut before it would fail the test.
async fn logged_on_or_cut(events: &mut tokio::sync::mpsc::UnboundedReceiver<AppEvent>) {
    wait_for(events, |e| match e {
        AppEvent::Event {
            event: Event::LoggedOn { .. },
            ..
        } => Some(()),
        AppEvent::Disconnected { reason, .. } => panic!("cut before logon: {reason:?}"),
        _ => None,
    })
    .await;
}
