//! The hostile peers of `hostile_connections.rs` and `hostile_framing.rs` against the async-io
//! adapter (under smol): slowloris, a connection flood, wrong passwords against unknown CompIDs,
//! `AllowedRemoteAddresses`, and a BodyLength of 2^31. The counterparties are blocking sockets on
//! the test thread; the engine runs on smol's executor threads.

mod hostile;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use async_channel::Receiver;
use fixgate_async_std::{AppEvent, FixEngine, Spawner};
use fixgate_core::codec::{DecodeError, Decoded, Decoder};
use fixgate_core::{
    BeginString, Credentials, DisconnectReason, EngineConfig, Event, MemoryStore, Role,
    SessionConfig, SessionId, UtcTimestamp,
};
use hostile::{End, THEM, US, WITHIN, garbage, logon, message};

fn spawner() -> Spawner {
    Arc::new(|task| smol::spawn(task).detach())
}

/// A session to register: the counterparty's CompID, and how to adjust the default settings.
type Acceptor<'a> = (&'a str, &'a dyn Fn(&mut SessionConfig));

/// An acceptor engine on 127.0.0.1 with an acceptor US->`them` for each of `sessions`.
fn engine_with(config: EngineConfig, sessions: &[Acceptor<'_>]) -> (FixEngine, Receiver<AppEvent>) {
    smol::block_on(async {
        let (engine, events) =
            FixEngine::start(config, Some("127.0.0.1:0".parse().unwrap()), spawner())
                .await
                .unwrap();
        for (them, tweak) in sessions {
            let mut config = SessionConfig::new(BeginString::Fix44, US, *them, Role::Acceptor);
            tweak(&mut config);
            let store = MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now()));
            let session = engine
                .create_session(SessionId::new(US, *them), config, Box::new(store))
                .await
                .unwrap();
            session.connect().await.unwrap();
        }
        (engine, events)
    })
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WITHIN)).unwrap();
    stream
}

/// Reads until the connection ends or `within` passes: the bytes received and the ending.
fn until_closed(stream: &mut TcpStream, within: Duration) -> (usize, End) {
    let deadline = Instant::now() + within;
    let mut received = 0;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (received, End::Open);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (received, End::Eof),
            Ok(n) => received += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (received, End::Open);
            }
            Err(_) => return (received, End::Reset),
        }
    }
}

/// Reads messages until one of `msg_type` arrives.
fn expect(stream: &mut TcpStream, decoder: &mut Decoder, msg_type: &[u8]) {
    let mut buf = [0u8; 4096];
    stream.set_read_timeout(Some(WITHIN)).unwrap();
    loop {
        while let Some(decoded) = decoder.decode().expect("a valid stream") {
            if let Decoded::Message(msg) = decoded
                && msg.msg_type() == msg_type
            {
                return;
            }
        }
        let n = stream.read(&mut buf).expect("an answer in time");
        assert!(n > 0, "the acceptor closed the connection");
        decoder.feed(&buf[..n]);
    }
}

/// A counterparty `them` logged on with HeartBtInt 30.
fn log_on(addr: SocketAddr, them: &str) -> (TcpStream, Decoder) {
    let mut stream = connect(addr);
    let mut decoder = Decoder::new();
    stream.write_all(&logon(them, US, 30, "")).unwrap();
    expect(&mut stream, &mut decoder, b"A");
    (stream, decoder)
}

/// The reason of the next `Disconnected` event.
fn disconnected(events: &Receiver<AppEvent>) -> DisconnectReason {
    smol::block_on(async {
        let wait = async {
            loop {
                if let AppEvent::Disconnected { reason, .. } = events.recv().await.unwrap() {
                    return Some(reason);
                }
            }
        };
        let timeout = async {
            async_io::Timer::after(WITHIN).await;
            None
        };
        futures_lite::future::or(wait, timeout).await
    })
    .expect("a Disconnected event in time")
}

#[test]
fn async_io_slowloris_is_closed_at_logon_timeout() {
    const LOGON_TIMEOUT: Duration = Duration::from_secs(2);
    let config = EngineConfig {
        logon_timeout: LOGON_TIMEOUT,
        ..EngineConfig::default()
    };
    let (engine, events) = engine_with(config, &[(THEM, &|_| {})]);
    let mut stream = connect(engine.local_addr().unwrap());
    let opened = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    let dribble = std::thread::spawn(move || {
        for byte in logon(THEM, US, 30, "") {
            if writer.write_all(&[byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let (received, end) = until_closed(&mut stream, WITHIN);
    let took = opened.elapsed();
    eprintln!("async-io slowloris: closed after {took:?} ({end:?})");
    // A byte dribbled just as the acceptor closes turns the close into a reset: either way,
    // nothing was sent back.
    assert_eq!(received, 0);
    assert!(matches!(end, End::Eof | End::Reset), "{end:?}");
    assert!(took >= LOGON_TIMEOUT - Duration::from_millis(100) && took < 3 * LOGON_TIMEOUT);
    assert!(
        events.try_recv().is_err(),
        "the slowloris reached a session"
    );
    dribble.join().unwrap();
    smol::block_on(engine.shutdown());
}

#[test]
fn async_io_connection_flood_is_held_to_max_pending_connections() {
    const FLOOD: usize = 2_000;
    const LIMIT: usize = 200;
    const LOGON_TIMEOUT: Duration = Duration::from_secs(4);
    hostile::raise_fd_limit(2 * FLOOD as u64 + 1_024);
    let config = EngineConfig {
        max_pending_connections: LIMIT,
        logon_timeout: LOGON_TIMEOUT,
        ..EngineConfig::default()
    };
    let (engine, _events) = engine_with(config, &[(THEM, &|_| {})]);
    let addr = engine.local_addr().unwrap();
    let (mut live, mut decoder) = log_on(addr, THEM);
    // The engine's count of pending connections, sampled on its own task.
    let max_pending = Arc::new(AtomicUsize::new(0));
    let sample = |engine: &FixEngine| {
        let max_pending = max_pending.clone();
        smol::block_on(engine.with_engine(move |e| {
            max_pending.fetch_max(e.pending_connections(), Ordering::Relaxed);
        }))
        .unwrap();
    };
    let started = Instant::now();
    let mut flood: Vec<TcpStream> = Vec::with_capacity(FLOOD);
    for i in 0..FLOOD {
        flood.push(TcpStream::connect(addr).unwrap());
        if i % 100 == 0 {
            sample(&engine);
        }
    }
    // The live session answers during the flood.
    let mut round_trips = Vec::new();
    for seq in 2..22 {
        let asked = Instant::now();
        live.write_all(&message(THEM, US, "1", seq, &format!("112=RT{seq}|")))
            .unwrap();
        expect(&mut live, &mut decoder, b"0");
        round_trips.push(asked.elapsed());
        sample(&engine);
    }
    // Every flood connection ends: refused at once, or at LogonTimeout.
    let mut ends = std::collections::HashMap::new();
    let mut got_bytes = 0;
    for stream in &mut flood {
        let left = (3 * LOGON_TIMEOUT).saturating_sub(started.elapsed());
        let (received, end) = until_closed(stream, left.max(Duration::from_millis(1)));
        got_bytes += received;
        *ends.entry(end).or_insert(0) += 1;
    }
    let (median, max) = hostile::median_max(&mut round_trips);
    let max_pending = max_pending.load(Ordering::Relaxed);
    eprintln!(
        "async-io flood: {FLOOD} silent connections, MaxPendingConnections {LIMIT}: ends {ends:?} \
         after {:?}; engine's peak pending {max_pending}; live round trip median {median:?} max {max:?}",
        started.elapsed()
    );
    assert_eq!(ends.get(&End::Open), None, "flood connections stayed open");
    assert_eq!(got_bytes, 0);
    assert!(
        max_pending <= LIMIT && max_pending > 0,
        "peak pending {max_pending}"
    );
    smol::block_on(engine.shutdown());
}

#[test]
fn async_io_wrong_passwords_are_refused_like_unknown_comp_ids() {
    const TRIES: usize = 200;
    let (engine, events) = engine_with(EngineConfig::default(), &[(THEM, &|_| {})]);
    smol::block_on(engine.with_engine(|e| {
        let credentials = Credentials {
            username: "user".into(),
            password: "secret".into(),
        };
        e.set_credentials(&SessionId::new(US, THEM), credentials)
            .unwrap();
    }))
    .unwrap();
    let addr = engine.local_addr().unwrap();
    let attempt = |them: &str, i: usize| {
        let mut stream = connect(addr);
        stream
            .write_all(&logon(them, US, 30, &format!("553=user|554=guess{i:05}|")))
            .unwrap();
        let sent = Instant::now();
        let (received, end) = until_closed(&mut stream, WITHIN);
        (received, end, sent.elapsed())
    };
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..TRIES {
        wrong.push(attempt(THEM, i));
        unknown.push(attempt("NOBODY", i));
    }
    let times = |tries: &[(usize, End, Duration)]| {
        assert!(
            tries.iter().all(|t| (t.0, t.1) == (0, End::Eof)),
            "{tries:?}"
        );
        let mut times: Vec<Duration> = tries.iter().map(|t| t.2).collect();
        hostile::median_max(&mut times).0
    };
    let (wrong_median, unknown_median) = (times(&wrong), times(&unknown));
    eprintln!(
        "async-io: {TRIES} wrong passwords closed after median {wrong_median:?}, {TRIES} unknown CompIDs after {unknown_median:?}"
    );
    let (fast, slow) = (
        wrong_median.min(unknown_median),
        wrong_median.max(unknown_median),
    );
    assert!(slow - fast < Duration::from_millis(1) || slow < fast * 2);
    assert!(events.try_recv().is_err(), "a refusal raised an event");
    let mut real = connect(addr);
    real.write_all(&logon(THEM, US, 30, "553=user|554=secret|"))
        .unwrap();
    expect(&mut real, &mut Decoder::new(), b"A");
    smol::block_on(engine.shutdown());
}

#[test]
fn async_io_allowed_remote_addresses_refuse_an_unlisted_address() {
    let (engine, events) = engine_with(
        EngineConfig::default(),
        &[
            (THEM, &|c| {
                c.set("AllowedRemoteAddresses", "127.0.0.0/8").unwrap()
            }),
            ("ELSEWHERE", &|c| {
                c.set("AllowedRemoteAddresses", "192.0.2.0/24").unwrap()
            }),
        ],
    );
    let addr = engine.local_addr().unwrap();
    let mut refused = connect(addr);
    refused.write_all(&logon("ELSEWHERE", US, 30, "")).unwrap();
    assert_eq!(until_closed(&mut refused, WITHIN), (0, End::Eof));
    assert!(events.try_recv().is_err(), "the refusal raised an event");
    log_on(addr, THEM);
    smol::block_on(engine.shutdown());
}

#[test]
fn async_io_body_length_of_two_to_the_31_after_logon_is_message_too_large() {
    let (engine, events) = engine_with(EngineConfig::default(), &[(THEM, &|_| {})]);
    let (mut stream, _) = log_on(engine.local_addr().unwrap(), THEM);
    stream
        .write_all(format!("8=FIX.4.4\x019={}\x0135=D\x01", 1u64 << 31).as_bytes())
        .unwrap();
    let reason = disconnected(&events);
    assert_eq!(
        reason,
        DisconnectReason::MessageTooLarge(DecodeError::BodyLengthTooLarge {
            declared: 1 << 31,
            limit: 1 << 20
        })
    );
    assert_ne!(until_closed(&mut stream, WITHIN).1, End::Open);
    // Garbage before logon is refused at once.
    let mut other = connect(engine.local_addr().unwrap());
    let _ = other.write_all(&garbage(1 << 20));
    assert_eq!(until_closed(&mut other, WITHIN).0, 0);
    while let Ok(event) = events.try_recv() {
        let logged_on = matches!(
            event,
            AppEvent::Event {
                event: Event::LoggedOn { .. },
                ..
            }
        );
        assert!(!logged_on, "garbage logged on");
    }
    smol::block_on(engine.shutdown());
}

#[test]
fn async_io_orders_faster_than_the_application_settles_are_held_back() {
    const ORDERS: u64 = 50_000;
    const LIMIT: usize = 1_000;
    let (engine, events) = engine_with(
        EngineConfig::default(),
        &[(THEM, &|c| c.max_unsettled_messages = LIMIT)],
    );
    let (stream, _) = log_on(engine.local_addr().unwrap(), THEM);
    let mut writer = stream.try_clone().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let sender = std::thread::spawn({
        let written = written.clone();
        move || {
            let mut batch = Vec::new();
            for seq in 2..ORDERS + 2 {
                batch.extend_from_slice(&message(
                    THEM,
                    US,
                    "D",
                    seq,
                    "11=O|55=FIX|54=1|38=1|40=1|",
                ));
                if batch.len() >= 1 << 20 {
                    writer.write_all(&batch).unwrap();
                    written.fetch_add(batch.len(), Ordering::Relaxed);
                    batch.clear();
                }
            }
            writer.write_all(&batch).unwrap();
        }
    });
    // The application settles nothing: the session delivers up to the limit, then holds.
    let started = Instant::now();
    let mut held = Vec::new();
    let (is_held, unsettled) = smol::block_on(async {
        while held.len() < LIMIT {
            let next = futures_lite::future::or(async { events.recv().await.ok() }, async {
                async_io::Timer::after(WITHIN).await;
                None
            });
            if let AppEvent::Deliver { session, delivered } =
                next.await.expect("deliveries up to the limit")
            {
                held.push((session, delivered));
            }
        }
        loop {
            let (tx, rx) = async_channel::bounded(1);
            engine
                .with_engine(move |e| {
                    let session = e.session(&SessionId::new(US, THEM)).expect("the session");
                    let _ = tx.try_send((session.is_input_held(), session.unsettled_count()));
                })
                .await
                .unwrap();
            let state = rx.recv().await.unwrap();
            if state.0 || started.elapsed() > WITHIN {
                break state;
            }
            async_io::Timer::after(Duration::from_millis(10)).await;
        }
    });
    assert!(is_held, "input not held with {unsettled} unsettled");
    // Whatever the session delivered before that answer is already queued: exactly the limit,
    // nothing beyond it (what the adapter read ahead waits undecoded).
    while let Ok(event) = events.try_recv() {
        if let AppEvent::Deliver { session, delivered } = event {
            held.push((session, delivered));
        }
    }
    assert_eq!(
        (held.len(), unsettled),
        (LIMIT, LIMIT),
        "messages waiting for the application"
    );
    // The sender is held back: wait until its writes stop moving (a sender that is not held
    // finishes instead: its orders, several MB, are far beyond what the kernel's buffers and the
    // adapter's bounded read-ahead take).
    let mut last = written.load(Ordering::Relaxed);
    let mut still = 0;
    while still < 5 && !sender.is_finished() {
        assert!(
            started.elapsed() < 6 * WITHIN,
            "the sender neither stops nor ends"
        );
        std::thread::sleep(Duration::from_millis(100));
        let now = written.load(Ordering::Relaxed);
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    eprintln!(
        "async-io: {ORDERS} orders, MaxUnsettledMessages {LIMIT}, application stalled: {} delivered meanwhile, the sender stopped after {} KiB, sender done: {}",
        held.len(),
        last >> 10,
        sender.is_finished()
    );
    assert!(!sender.is_finished(), "the sender was never held back");
    // Then it settles everything: every order arrives, once.
    let mut seen = std::collections::HashSet::new();
    smol::block_on(async {
        for (session, delivered) in held {
            assert!(seen.insert(delivered.seq().get()));
            engine.ack(session, delivered).await.unwrap();
        }
        while seen.len() < ORDERS as usize {
            let next = futures_lite::future::or(async { events.recv().await.ok() }, async {
                async_io::Timer::after(WITHIN).await;
                None
            });
            if let AppEvent::Deliver { session, delivered } =
                next.await.expect("the rest of the orders")
            {
                assert!(seen.insert(delivered.seq().get()), "a duplicate");
                engine.ack(session, delivered).await.unwrap();
            }
        }
    });
    sender.join().unwrap();
    assert_eq!(seen.iter().max(), Some(&(ORDERS + 1)));
    smol::block_on(engine.shutdown());
}
