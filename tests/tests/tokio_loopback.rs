//! The tokio adapter over real loopback sockets and real time: a counterparty logs on to an
//! unregistered acceptor, sends an order and gets the application's answer.

use std::time::Duration;

use bytes::Bytes;
use fixgate_core::codec::{Decoded, Decoder, Message};
use fixgate_core::{EngineConfig, TimestampPrecision, UtcTimestamp};
use fixgate_tests::wire::frame;
use fixgate_tokio::{AppEvent, FixEngine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A generous bound between "works" and "hangs".
const WITHIN: Duration = Duration::from_secs(10);

fn message(msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
    let time = UtcTimestamp::from_system_time(std::time::SystemTime::now())
        .format(TimestampPrecision::Millis);
    frame(
        "FIX.4.4",
        &format!(
            "35={msg_type}|34={seq}|49=CLIENT|52={}|56=ISLD|{fields}",
            time.as_str()
        ),
    )
}

/// Reads messages until one of `msg_type` arrives.
async fn expect(stream: &mut TcpStream, decoder: &mut Decoder, msg_type: &[u8]) -> Message {
    let mut buf = vec![0u8; 4096];
    loop {
        while let Some(decoded) = decoder.decode().expect("a valid stream") {
            if let Decoded::Message(msg) = decoded
                && msg.msg_type() == msg_type
            {
                return msg;
            }
        }
        let n = tokio::time::timeout(WITHIN, stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "the acceptor closed the connection");
        decoder.feed(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counterparty_logs_on_and_gets_its_order_echoed() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    order_echo(config, &[Duration::ZERO]).await;
}

/// A spinning reader takes bytes that arrive while it polls, and still wakes for bytes that
/// arrive after its spin time, when it has gone back to waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinning_reader_gets_orders_within_and_after_its_spin_time() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        receive_spinning_timeout: Duration::from_millis(50),
        ..EngineConfig::default()
    };
    let pauses = [0, 10, 200, 0, 300].map(Duration::from_millis);
    order_echo(config, &pauses).await;
}

/// Logs on to an acceptor with `config` whose application echoes each order; sends one order
/// after each pause, checks each echo, and logs out.
async fn order_echo(config: EngineConfig, pauses: &[Duration]) {
    let (engine, mut events) = FixEngine::start(config, Some("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let addr = engine.local_addr().unwrap();
    let echo = engine.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let AppEvent::Deliver { session, delivered } = event {
                let msg_type = delivered.message().msg_type().to_vec();
                let cl_ord_id = delivered.message().str(11).unwrap_or("").to_owned();
                let body = Bytes::from(format!("11=ECHO-{cl_ord_id}\x01"));
                echo.reply(session, delivered, msg_type, body)
                    .await
                    .unwrap();
            }
        }
    });

    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    let logon = expect(&mut stream, &mut decoder, b"A").await;
    assert_eq!(logon.str(56), Ok("CLIENT"));
    let mut seq = 2;
    for (n, pause) in pauses.iter().enumerate() {
        tokio::time::sleep(*pause).await;
        let order = format!("11=ORDER{n}|55=AAPL|54=1|38=100|40=1|");
        stream.write_all(&message("D", seq, &order)).await.unwrap();
        let echoed = expect(&mut stream, &mut decoder, b"D").await;
        let expected = format!("ECHO-ORDER{n}");
        assert_eq!(
            (echoed.seq_num(34).unwrap().get(), echoed.str(11)),
            (seq, Ok(expected.as_str()))
        );
        seq += 1;
    }
    stream.write_all(&message("5", seq, "")).await.unwrap();
    expect(&mut stream, &mut decoder, b"5").await;
    engine.shutdown().await;
}

/// A TCP proxy whose connections the test can cut.
async fn cuttable_proxy(
    target: std::net::SocketAddr,
) -> (std::net::SocketAddr, tokio::sync::watch::Sender<u32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (cut, cuts) = tokio::sync::watch::channel(0u32);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut cuts = cuts.clone();
            cuts.borrow_and_update();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(target).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = cuts.changed() => {} // Both sockets drop here, mid-stream.
                }
            });
        }
    });
    (addr, cut)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_messages_each_way_survive_a_cut_connection() {
    use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId};
    const COUNT: usize = 10_000;
    let store = || {
        Box::new(MemoryStore::new(UtcTimestamp::from_system_time(
            std::time::SystemTime::now(),
        )))
    };

    let (acceptor, mut acceptor_events) = FixEngine::start(
        EngineConfig::default(),
        Some("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let venue = acceptor
        .create_session(
            SessionId::new("VENUE", "BANK"),
            SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor),
            store(),
        )
        .await
        .unwrap();
    venue.connect().await.unwrap();
    let (proxy, cut) = cuttable_proxy(acceptor.local_addr().unwrap()).await;

    let config = EngineConfig {
        reconnect_interval: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let (initiator, mut initiator_events) = FixEngine::start(config, None).await.unwrap();
    let bank = initiator
        .create_session(
            SessionId::new("BANK", "VENUE"),
            SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator),
            store(),
        )
        .await
        .unwrap();
    bank.connect_to(proxy).await.unwrap();

    // Each side records the ClOrdIDs it receives and settles every message.
    let collect = |engine: FixEngine,
                   mut events: tokio::sync::mpsc::UnboundedReceiver<AppEvent>| {
        let (done, received) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut ids = Vec::with_capacity(COUNT);
            let mut logons = 0;
            while let Some(event) = events.recv().await {
                match event {
                    AppEvent::Deliver { session, delivered } => {
                        ids.push(delivered.message().str(11).unwrap().to_owned());
                        engine.ack(session, delivered).await.unwrap();
                        if ids.len() == COUNT {
                            let _ = done.send((ids, logons));
                            return;
                        }
                    }
                    AppEvent::Event {
                        event: fixgate_core::Event::LoggedOn { .. },
                        ..
                    } => logons += 1,
                    _ => {}
                }
            }
        });
        received
    };
    let at_venue = collect(
        acceptor.clone(),
        std::mem::replace(
            &mut acceptor_events,
            tokio::sync::mpsc::unbounded_channel().1,
        ),
    );
    let at_bank = collect(
        initiator.clone(),
        std::mem::replace(
            &mut initiator_events,
            tokio::sync::mpsc::unbounded_channel().1,
        ),
    );

    for i in 0..COUNT {
        bank.put(
            b"D".to_vec(),
            Bytes::from(format!("11=B{i}\x0155=X\x0154=1\x01")),
        )
        .await
        .unwrap();
        venue
            .put(
                b"8".to_vec(),
                Bytes::from(format!("11=V{i}\x0155=X\x0154=1\x01")),
            )
            .await
            .unwrap();
        if i == COUNT / 2 {
            cut.send_modify(|n| *n += 1);
        }
    }
    let (at_venue, _) = tokio::time::timeout(Duration::from_secs(60), at_venue)
        .await
        .expect("all orders in time")
        .unwrap();
    let (at_bank, logons) = tokio::time::timeout(Duration::from_secs(60), at_bank)
        .await
        .expect("all reports in time")
        .unwrap();
    assert!(
        logons >= 2,
        "the cut must have forced a second Logon, saw {logons}"
    );
    assert_eq!(
        at_venue,
        (0..COUNT).map(|i| format!("B{i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        at_bank,
        (0..COUNT).map(|i| format!("V{i}")).collect::<Vec<_>>()
    );
    bank.disconnect(None).await.unwrap();
    initiator.shutdown().await;
    acceptor.shutdown().await;
}

#[tokio::test]
async fn senders_put_until_the_session_is_finalized() {
    use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId};
    let (engine, _events) = FixEngine::start(EngineConfig::default(), None)
        .await
        .unwrap();
    let store = Box::new(MemoryStore::new(UtcTimestamp::from_system_time(
        std::time::SystemTime::now(),
    )));
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    let session = engine
        .create_session(SessionId::new("A", "B"), config, store)
        .await
        .unwrap();
    let sender = session.sender();
    let copy = sender.clone();
    assert_eq!(
        sender
            .put(b"D".to_vec(), Bytes::from_static(b"11=1\x01"))
            .await
            .unwrap()
            .get(),
        1
    );
    assert_eq!(
        copy.put(b"D".to_vec(), Bytes::from_static(b"11=2\x01"))
            .await
            .unwrap()
            .get(),
        2
    );
    session.finalize().await.unwrap();
    assert!(
        sender
            .put(b"D".to_vec(), Bytes::from_static(b"11=3\x01"))
            .await
            .is_err()
    );
    engine.shutdown().await;
}

/// An engine with one registered acceptor, ISLD ← CLIENT, whose LogoutTimeout is `logout_timeout`.
async fn acceptor_engine(
    logout_timeout: Duration,
) -> (FixEngine, tokio::sync::mpsc::UnboundedReceiver<AppEvent>) {
    use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId};
    let (engine, events) = FixEngine::start(
        EngineConfig::default(),
        Some("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let mut config = SessionConfig::new(BeginString::Fix44, "ISLD", "CLIENT", Role::Acceptor);
    config.logout_timeout = logout_timeout;
    let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
    let session = engine
        .create_session(SessionId::new("ISLD", "CLIENT"), config, Box::new(store))
        .await
        .unwrap();
    session.connect().await.unwrap();
    (engine, events)
}

#[tokio::test]
async fn shutdown_logs_out_and_ends_at_the_reply_without_waiting_for_the_timeout() {
    let (engine, _events) = acceptor_engine(Duration::from_secs(30)).await;
    let addr = engine.local_addr().unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    expect(&mut stream, &mut decoder, b"A").await;

    let stopping = tokio::spawn({
        let engine = engine.clone();
        async move { engine.shutdown().await }
    });
    let logout = expect(&mut stream, &mut decoder, b"5").await;
    assert_eq!(logout.str(58), Ok("Shutdown"));
    // While it stops, new connections are refused.
    let mut late = TcpStream::connect(addr).await.unwrap();
    late.write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(WITHIN, late.read(&mut buf))
        .await
        .expect("the late connection is closed")
        .unwrap_or(0);
    assert_eq!(n, 0, "a connection during shutdown got an answer");

    stream.write_all(&message("5", 2, "")).await.unwrap();
    // Well before the 30 s LogoutTimeout.
    tokio::time::timeout(WITHIN, stopping)
        .await
        .expect("shutdown ends at the Logout reply")
        .unwrap();
}

#[tokio::test]
async fn shutdown_ends_at_logout_timeout_when_the_peer_does_not_answer() {
    let (engine, _events) = acceptor_engine(Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(engine.local_addr().unwrap())
        .await
        .unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    expect(&mut stream, &mut decoder, b"A").await;
    let started = std::time::Instant::now();
    tokio::time::timeout(WITHIN, engine.shutdown())
        .await
        .expect("shutdown ends at LogoutTimeout");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "shutdown did not wait for the Logout reply: {:?}",
        started.elapsed()
    );
    expect(&mut stream, &mut decoder, b"5").await;
}

#[tokio::test]
async fn engine_from_properties_listens_and_creates_sessions() {
    use fixgate_core::properties::Properties;
    let text = "ListenPort = 0\nCreateUnregisteredAcceptorSession = Y\n";
    let properties = Properties::parse(text, "engine.properties").unwrap();
    let (engine, _events) = FixEngine::new(&properties).await.unwrap();
    let mut stream = TcpStream::connect(engine.local_addr().expect("a listening port"))
        .await
        .unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    expect(&mut stream, &mut decoder, b"A").await;
    engine.shutdown().await;

    let bad = Properties::parse("ListenPort = nine\n", "bad.properties").unwrap();
    let error = FixEngine::new(&bad).await.unwrap_err();
    assert!(
        error.to_string().contains("bad.properties:1: ListenPort"),
        "{error}"
    );
}

/// `reset_seq_num_local` through the adapter: refused while connected; once disconnected, both
/// numbers go back to 1, so the counterparty's next Logon, numbered 1, is answered with 1 (without
/// the reset it would be "MsgSeqNum too low", a Logout and a close).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_seq_num_local_while_disconnected_starts_the_next_logon_at_1() {
    use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId};
    let (engine, mut events) = FixEngine::start(
        EngineConfig::default(),
        Some("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let config = SessionConfig::new(BeginString::Fix44, "ISLD", "CLIENT", Role::Acceptor);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
    let session = engine
        .create_session(SessionId::new("ISLD", "CLIENT"), config, Box::new(store))
        .await
        .unwrap();
    session.connect().await.unwrap();
    let addr = engine.local_addr().unwrap();
    let seq = |msg: &Message| msg.seq_num(34).unwrap().get();

    // A first connection moves both numbers to 4.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    assert_eq!(seq(&expect(&mut stream, &mut decoder, b"A").await), 1);
    stream
        .write_all(&message("1", 2, "112=PING|"))
        .await
        .unwrap();
    assert_eq!(seq(&expect(&mut stream, &mut decoder, b"0").await), 2);
    assert!(
        session.reset_seq_num_local().await.is_err(),
        "reset while connected"
    );
    stream.write_all(&message("5", 3, "")).await.unwrap();
    assert_eq!(seq(&expect(&mut stream, &mut decoder, b"5").await), 3);
    loop {
        let event = tokio::time::timeout(WITHIN, events.recv())
            .await
            .expect("the disconnect in time")
            .expect("the engine runs");
        if matches!(event, AppEvent::Disconnected { .. }) {
            break;
        }
    }

    session.reset_seq_num_local().await.unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    assert_eq!(seq(&expect(&mut stream, &mut decoder, b"A").await), 1);
    // And the next inbound number expected is 2.
    stream
        .write_all(&message("1", 2, "112=AGAIN|"))
        .await
        .unwrap();
    let heartbeat = expect(&mut stream, &mut decoder, b"0").await;
    assert_eq!((heartbeat.str(112), seq(&heartbeat)), (Ok("AGAIN"), 2));
    stream.write_all(&message("5", 3, "")).await.unwrap();
    assert_eq!(seq(&expect(&mut stream, &mut decoder, b"5").await), 3);
    engine.shutdown().await;
}
