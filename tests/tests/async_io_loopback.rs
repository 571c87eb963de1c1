//! The async-io adapter over real loopback sockets and real time, under smol and under
//! async-std: a counterparty logs on and gets its order answered.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use bytes::Bytes;
use fixgate_async_std::{AppEvent, FixEngine, Spawner};
use fixgate_core::codec::{Decoded, Decoder, Message};
use fixgate_core::{EngineConfig, TimestampPrecision, UtcTimestamp};
use fixgate_tests::wire::frame;
use futures_lite::{AsyncReadExt, AsyncWriteExt, future};

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

async fn expect(stream: &mut Async<TcpStream>, decoder: &mut Decoder, msg_type: &[u8]) -> Message {
    let mut buf = vec![0u8; 4096];
    loop {
        while let Some(decoded) = decoder.decode().expect("a valid stream") {
            if let Decoded::Message(msg) = decoded
                && msg.msg_type() == msg_type
            {
                return msg;
            }
        }
        let read = future::or(async { Some(stream.read(&mut buf).await) }, async {
            Timer::after(Duration::from_secs(10)).await;
            None
        });
        let n = read.await.expect("an answer in time").unwrap();
        assert!(n > 0, "the acceptor closed the connection");
        decoder.feed(&buf[..n]);
    }
}

/// The same scenario as the tokio adapter's, on whichever runtime `spawner` belongs to: one
/// order after each pause.
async fn order_is_echoed(spawner: Spawner, spin: Duration, pauses: &[Duration]) {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        receive_spinning_timeout: spin,
        ..EngineConfig::default()
    };
    let (engine, events) = FixEngine::start(
        config,
        Some("127.0.0.1:0".parse().unwrap()),
        spawner.clone(),
    )
    .await
    .unwrap();
    let addr = engine.local_addr().unwrap();
    let echo = engine.clone();
    spawner(Box::pin(async move {
        while let Ok(event) = events.recv().await {
            if let AppEvent::Deliver { session, delivered } = event {
                let msg_type = delivered.message().msg_type().to_vec();
                echo.reply(
                    session,
                    delivered,
                    msg_type,
                    Bytes::from_static(b"11=ECHO\x01"),
                )
                .await
                .unwrap();
            }
        }
    }));
    let mut stream = Async::<TcpStream>::connect(addr).await.unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    expect(&mut stream, &mut decoder, b"A").await;
    let mut seq = 2;
    for pause in pauses {
        Timer::after(*pause).await;
        stream
            .write_all(&message("D", seq, "11=ORDER1|55=AAPL|54=1|38=100|40=1|"))
            .await
            .unwrap();
        let echoed = expect(&mut stream, &mut decoder, b"D").await;
        assert_eq!(
            (echoed.seq_num(34).unwrap().get(), echoed.str(11)),
            (seq, Ok("ECHO"))
        );
        seq += 1;
    }
    stream.write_all(&message("5", seq, "")).await.unwrap();
    expect(&mut stream, &mut decoder, b"5").await;
    engine.shutdown().await;
}

#[test]
fn runs_under_smol() {
    let spawner: Spawner = Arc::new(|task| smol::spawn(task).detach());
    smol::block_on(order_is_echoed(spawner, Duration::ZERO, &[Duration::ZERO]));
}

/// A spinning reader takes bytes that arrive while it polls, and still wakes for bytes that
/// arrive after its spin time.
#[test]
fn spinning_reader_runs_under_smol() {
    let spawner: Spawner = Arc::new(|task| smol::spawn(task).detach());
    let pauses = [0, 10, 200, 0, 300].map(Duration::from_millis);
    smol::block_on(order_is_echoed(spawner, Duration::from_millis(50), &pauses));
}

#[test]
fn runs_under_async_std() {
    let spawner: Spawner = Arc::new(|task| {
        async_std::task::spawn(task);
    });
    async_std::task::block_on(order_is_echoed(spawner, Duration::ZERO, &[Duration::ZERO]));
}

/// A TCP proxy on plain threads (so that it belongs to no runtime) whose connections the test can
/// cut: `cut()` shuts every connection it carries, mid-stream.
struct ThreadProxy {
    addr: std::net::SocketAddr,
    live: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl ThreadProxy {
    fn start(target: std::net::SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let live: Arc<std::sync::Mutex<Vec<TcpStream>>> = Arc::default();
        let registry = live.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let mut registry = registry.lock().unwrap();
                registry.push(client.try_clone().unwrap());
                registry.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server.try_clone().unwrap(), client.try_clone().unwrap()),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Self { addr, live }
    }

    fn cut(&self) {
        for stream in self.live.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[test]
fn ten_thousand_messages_each_way_survive_a_cut_connection_under_async_std() {
    use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId};
    const COUNT: usize = 10_000;
    let spawner: Spawner = Arc::new(|task| {
        async_std::task::spawn(task);
    });
    async_std::task::block_on(async move {
        let store = || {
            Box::new(MemoryStore::new(UtcTimestamp::from_system_time(
                std::time::SystemTime::now(),
            )))
        };
        let (acceptor, acceptor_events) = FixEngine::start(
            EngineConfig::default(),
            Some("127.0.0.1:0".parse().unwrap()),
            spawner.clone(),
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
        let proxy = ThreadProxy::start(acceptor.local_addr().unwrap());
        let config = EngineConfig {
            reconnect_interval: Duration::from_millis(200),
            ..EngineConfig::default()
        };
        let (initiator, initiator_events) = FixEngine::start(config, None, spawner.clone())
            .await
            .unwrap();
        let bank = initiator
            .create_session(
                SessionId::new("BANK", "VENUE"),
                SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator),
                store(),
            )
            .await
            .unwrap();
        bank.connect_to(proxy.addr).await.unwrap();

        let collect = |engine: FixEngine, events: async_channel::Receiver<AppEvent>| {
            let (done, received) = async_channel::bounded(1);
            spawner(Box::pin(async move {
                let (mut ids, mut logons) = (Vec::with_capacity(COUNT), 0);
                while let Ok(event) = events.recv().await {
                    match event {
                        AppEvent::Deliver { session, delivered } => {
                            ids.push(delivered.message().str(11).unwrap().to_owned());
                            engine.ack(session, delivered).await.unwrap();
                            if ids.len() == COUNT {
                                let _ = done.send((ids, logons)).await;
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
            }));
            received
        };
        let at_venue = collect(acceptor.clone(), acceptor_events);
        let at_bank = collect(initiator.clone(), initiator_events);
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
                proxy.cut();
            }
        }
        let within = |received: async_channel::Receiver<(Vec<String>, u32)>| async move {
            future::or(async { received.recv().await.ok() }, async {
                Timer::after(Duration::from_secs(60)).await;
                None
            })
            .await
            .expect("everything in time")
        };
        let (at_venue, _) = within(at_venue).await;
        let (at_bank, logons) = within(at_bank).await;
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
        initiator.shutdown().await;
        acceptor.shutdown().await;
    });
}

#[test]
fn engine_from_properties_listens_under_smol() {
    use fixgate_core::properties::Properties;
    let spawner: Spawner = Arc::new(|task| smol::spawn(task).detach());
    smol::block_on(async {
        let text = "ListenPort = 0\nCreateUnregisteredAcceptorSession = Y\n";
        let properties = Properties::parse(text, "engine.properties").unwrap();
        let (engine, _events) = FixEngine::new(&properties, spawner).await.unwrap();
        let addr = engine.local_addr().expect("a listening port");
        let mut stream = Async::<TcpStream>::connect(addr).await.unwrap();
        let mut decoder = Decoder::new();
        stream
            .write_all(&message("A", 1, "98=0|108=30|"))
            .await
            .unwrap();
        expect(&mut stream, &mut decoder, b"A").await;
        engine.shutdown().await;
    });
}

/// `reset_seq_num_local` through the async-io adapter, under async-std: refused while connected;
/// once disconnected, both numbers go back to 1, so the counterparty's next Logon, numbered 1, is
/// answered with 1 (without the reset it would be "MsgSeqNum too low", a Logout and a close).
#[test]
fn reset_seq_num_local_while_disconnected_starts_the_next_logon_at_1_under_async_std() {
    use fixgate_core::{BeginString, MemoryStore, Role, SessionConfig, SessionId};
    let spawner: Spawner = Arc::new(|task| {
        async_std::task::spawn(task);
    });
    async_std::task::block_on(async move {
        let (engine, events) = FixEngine::start(
            EngineConfig::default(),
            Some("127.0.0.1:0".parse().unwrap()),
            spawner,
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
        let mut stream = Async::<TcpStream>::connect(addr).await.unwrap();
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
            let event = future::or(async { events.recv().await.ok() }, async {
                Timer::after(Duration::from_secs(10)).await;
                None
            });
            if matches!(
                event.await.expect("the disconnect in time"),
                AppEvent::Disconnected { .. }
            ) {
                break;
            }
        }

        session.reset_seq_num_local().await.unwrap();
        let mut stream = Async::<TcpStream>::connect(addr).await.unwrap();
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
    });
}
