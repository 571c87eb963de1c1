//! Backpressure and slow consumers over real loopback sockets (DESIGN.md section 5): a
//! counterparty that logs on and then never reads. (`hostile_framing.rs` adds a resend to such a
//! peer, with its peak memory.)

mod hostile;

use std::time::Duration;

use bytes::Bytes;
use fixgate_core::{
    BeginString, DisconnectReason, EngineConfig, EngineError, MemoryStore, Role, SessionConfig,
    SessionId, UtcTimestamp,
};
use fixgate_tokio::{AppEvent, Error, FixEngine};
use hostile::{THEM, US, WITHIN, wait_for};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

const MAX_OUTBOUND: usize = 64 * 1024;
/// The acceptor's kernel send buffer (`SocketSendBufferSize`), and the peer's receive buffer.
/// Both are fixed, so the kernel stops taking bytes at a bound: with its automatic tuning, it may
/// take the whole queue of a peer that reads nothing, a while after writes stopped.
const SEND_BUFFER: usize = 16 * 1024;
const PEER_RECEIVE_BUFFER: usize = 4096;

/// The puts made once backpressure holds: 64 KiB, more than the kernel may still find room for
/// (a receive queue it compacts takes a few more bytes now and then), so they cannot all go
/// through before the cut unless `put()` fails to wait.
const WAITING_PUTS: u64 = 64;

/// The engine's settings: small kernel buffers.
fn engine_config() -> EngineConfig {
    EngineConfig {
        socket_send_buffer_size: SEND_BUFFER,
        ..EngineConfig::default()
    }
}

/// The counterparty's Logon (CLIENT to ISLD).
fn logon() -> Vec<u8> {
    hostile::logon(THEM, US, 30, "")
}

/// What `try_put()` accepted before it was refused fits the outbound bound and the fixed kernel
/// buffers. Linux doubles those sizes and, on a loaded machine, was seen to hold up to 270 KB with
/// them; with its own tuning it holds about 3 MB here.
fn assert_kernel_bounded(accepted: u64, body_len: usize) {
    let bound = MAX_OUTBOUND + 32 * (SEND_BUFFER + PEER_RECEIVE_BUFFER);
    assert!(
        accepted as usize * body_len <= bound,
        "{accepted} messages of over {body_len} bytes taken: SocketSendBufferSize not applied?"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_that_never_reads_meets_backpressure_then_is_cut_as_a_slow_consumer() {
    let (engine, mut events) =
        FixEngine::start(engine_config(), Some("127.0.0.1:0".parse().unwrap()))
            .await
            .unwrap();
    let mut config = SessionConfig::new(BeginString::Fix44, "ISLD", "CLIENT", Role::Acceptor);
    config.max_outbound_bytes = MAX_OUTBOUND;
    config.slow_consumer_timeout = Duration::from_secs(1);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
    let id = SessionId::new("ISLD", "CLIENT");
    let session = engine
        .create_session(id.clone(), config, Box::new(store))
        .await
        .unwrap();
    session.connect().await.unwrap();

    // The counterparty: a small receive buffer, a Logon, then never a read.
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .set_recv_buffer_size(PEER_RECEIVE_BUFFER as u32)
        .unwrap();
    let mut peer = socket.connect(engine.local_addr().unwrap()).await.unwrap();
    peer.write_all(&logon()).await.unwrap();
    wait_for(&mut events, |e| {
        matches!(
            e,
            AppEvent::Event {
                event: fixgate_core::Event::LoggedOn { .. },
                ..
            }
        )
        .then_some(())
    })
    .await;

    // try_put() is refused once the connection holds MaxOutboundBytes unwritten, and stays
    // refused: the peer reads nothing, so the kernel's buffers fill and writes stop.
    let body = Bytes::from(format!("11=ORDER|58={}|", "x".repeat(900)).replace('|', "\x01"));
    let mut accepted = 0u64;
    let mut refusals_in_a_row = 0;
    while refusals_in_a_row < 3 {
        match session.try_put(&b"D"[..], body.clone()).await {
            Ok(_) => {
                accepted += 1;
                refusals_in_a_row = 0;
            }
            Err(Error::Engine(EngineError::Backpressure(_))) => {
                refusals_in_a_row += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("{error}"),
        }
        assert!(
            accepted < 50_000,
            "no backpressure after {accepted} KiB-sized puts"
        );
    }
    println!(
        "accepted {accepted} messages of ~1 KiB before backpressure held (MaxOutboundBytes {MAX_OUTBOUND}, the rest in kernel buffers)"
    );
    assert_kernel_bounded(accepted, body.len());

    // put() waits instead ...
    let sender = session.sender();
    let waiting = tokio::spawn({
        let body = body.clone();
        async move {
            let mut last = None;
            for _ in 0..WAITING_PUTS {
                last = Some(sender.put(&b"D"[..], body.clone()).await?);
            }
            Ok::<_, Error>(last.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "put() did not wait");

    // ... until SlowConsumerTimeout cuts the peer; then it is stored for the next connection.
    let reason = wait_for(&mut events, |e| match e {
        AppEvent::Disconnected { reason, .. } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, DisconnectReason::SlowConsumer);
    let seq = tokio::time::timeout(WITHIN, waiting)
        .await
        .expect("the waiting puts complete")
        .unwrap()
        .unwrap();
    assert_eq!(
        seq.get(),
        accepted + 1 + WAITING_PUTS,
        "the Logon reply took number 1"
    );

    // The socket really closed: reading drains what was written, then sees the end.
    let mut drained = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        use tokio::io::AsyncReadExt;
        match tokio::time::timeout(WITHIN, peer.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => drained += n,
            Err(_) => panic!("the connection stayed open"),
        }
    }
    println!("the peer drained {drained} bytes after the cut");
    engine.shutdown().await;
}

#[test]
fn async_io_peer_that_never_reads_meets_backpressure_then_is_cut_as_a_slow_consumer() {
    use fixgate_async_std::{AppEvent, Error, FixEngine, Spawner};
    use std::io::Write;
    let spawner: Spawner = std::sync::Arc::new(|task| smol::spawn(task).detach());
    smol::block_on(async {
        let (engine, events) = FixEngine::start(
            engine_config(),
            Some("127.0.0.1:0".parse().unwrap()),
            spawner,
        )
        .await
        .unwrap();
        let mut config = SessionConfig::new(BeginString::Fix44, "ISLD", "CLIENT", Role::Acceptor);
        config.max_outbound_bytes = MAX_OUTBOUND;
        config.slow_consumer_timeout = Duration::from_secs(1);
        let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
        let session = engine
            .create_session(SessionId::new("ISLD", "CLIENT"), config, Box::new(store))
            .await
            .unwrap();
        session.connect().await.unwrap();
        // A blocking socket that logs on and never reads (it belongs to no runtime), with a
        // small receive buffer.
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(PEER_RECEIVE_BUFFER).unwrap();
        socket
            .connect(&engine.local_addr().unwrap().into())
            .unwrap();
        let mut peer = std::net::TcpStream::from(socket);
        peer.write_all(&logon()).unwrap();
        loop {
            let event = events.recv().await.unwrap();
            if matches!(
                event,
                AppEvent::Event {
                    event: fixgate_core::Event::LoggedOn { .. },
                    ..
                }
            ) {
                break;
            }
        }

        let body = Bytes::from(format!("11=ORDER|58={}|", "x".repeat(900)).replace('|', "\x01"));
        let mut accepted = 0u64;
        let mut refusals_in_a_row = 0;
        while refusals_in_a_row < 3 {
            match session.try_put(&b"D"[..], body.clone()).await {
                Ok(_) => {
                    accepted += 1;
                    refusals_in_a_row = 0;
                }
                Err(Error::Engine(EngineError::Backpressure(_))) => {
                    refusals_in_a_row += 1;
                    async_io::Timer::after(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("{error}"),
            }
            assert!(accepted < 50_000, "no backpressure after {accepted} puts");
        }
        assert_kernel_bounded(accepted, body.len());
        let sender = session.sender();
        let waiting = smol::spawn(async move {
            let mut last = None;
            for _ in 0..WAITING_PUTS {
                last = Some(sender.put(&b"D"[..], body.clone()).await?);
            }
            Ok::<_, Error>(last.unwrap())
        });
        async_io::Timer::after(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "put() did not wait");
        let reason = loop {
            if let AppEvent::Disconnected { reason, .. } = events.recv().await.unwrap() {
                break reason;
            }
        };
        assert_eq!(reason, DisconnectReason::SlowConsumer);
        let seq = waiting.await.unwrap();
        assert_eq!(
            seq.get(),
            accepted + 1 + WAITING_PUTS,
            "the Logon reply took number 1"
        );
        engine.shutdown().await;
        drop(peer);
    });
}
