//! Hostile peers before logon, over loopback on the tokio adapter (issue 8, stage 2): slowloris,
//! a connection flood, wrong passwords, the lockout, and `AllowedRemoteAddresses`.
//! Timings are reported (`--nocapture`) and asserted only as bounds between "works" and "hangs".

mod hostile;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fixgate_core::{Credentials, EngineConfig, Lockout, SeqNum, SessionId};
use fixgate_tokio::{AppEvent, FixEngine};
use hostile::{
    End, MEMORY, PeakRss, Peer, THEM, US, WITHIN, acceptor, acceptor_engine, logged_on, logon,
    median_max, raise_fd_limit, read_until_closed, round_trip, silent_connection,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_one_byte_a_second_never_gets_a_session_and_is_closed_at_logon_timeout() {
    const LOGON_TIMEOUT: Duration = Duration::from_secs(2);
    let config = EngineConfig {
        logon_timeout: LOGON_TIMEOUT,
        ..EngineConfig::default()
    };
    let (engine, mut events) = acceptor_engine(config).await;
    acceptor(&engine, THEM, |_| {}).await;
    let stream = TcpStream::connect(engine.local_addr().unwrap())
        .await
        .unwrap();
    let opened = Instant::now();
    let (mut read, mut write) = stream.into_split();
    let bytes = logon(THEM, US, 30, "");
    let dribble = tokio::spawn(async move {
        let mut sent = 0;
        for byte in bytes {
            if write.write_all(&[byte]).await.is_err() {
                break;
            }
            sent += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        sent
    });
    let (received, end) = read_until_closed(&mut read, WITHIN).await;
    let closed_after = opened.elapsed();
    let sent = dribble.await.unwrap();
    eprintln!(
        "slowloris: {sent} bytes dribbled, closed after {closed_after:?} ({end:?}), LogonTimeout {LOGON_TIMEOUT:?}"
    );
    assert_ne!(end, End::Open, "the slowloris connection was never closed");
    assert_eq!(received, 0, "the slowloris got bytes back");
    assert!(
        closed_after >= LOGON_TIMEOUT - Duration::from_millis(100),
        "closed before LogonTimeout: {closed_after:?}"
    );
    assert!(
        closed_after < LOGON_TIMEOUT * 3,
        "closed long after LogonTimeout: {closed_after:?}"
    );
    assert!(
        events.try_recv().is_err(),
        "the slowloris reached a session"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_flood_is_held_to_max_pending_connections_and_the_live_session_keeps_working() {
    const FLOOD: usize = 5_000;
    const LIMIT: usize = 500;
    const LOGON_TIMEOUT: Duration = Duration::from_secs(6);
    // Connections the kernel accepts late (SYN retransmits) still close well before this.
    const PROBE_AFTER: Duration = Duration::from_secs(20);
    let _memory = MEMORY.lock().await;
    let fds = raise_fd_limit(2 * FLOOD as u64 + 1_024);
    assert!(
        fds >= 2 * FLOOD as u64 + 1_024,
        "RLIMIT_NOFILE's hard limit ({fds}) is too low for a flood of {FLOOD}"
    );
    let config = EngineConfig {
        max_pending_connections: LIMIT,
        logon_timeout: LOGON_TIMEOUT,
        ..EngineConfig::default()
    };
    let (engine, mut events) = acceptor_engine(config).await;
    acceptor(&engine, THEM, |_| {}).await;
    acceptor(&engine, "LATECOMER", |_| {}).await;
    let addr = engine.local_addr().unwrap();

    // The legitimate session, logged on before the flood, and its round trip unloaded.
    let mut live = Peer::connect(addr).await;
    live.send(&logon(THEM, US, 30, "")).await.unwrap();
    live.expect(b"A").await;
    logged_on(&mut events, THEM).await;
    let mut seq = 2;
    let mut unloaded = Vec::new();
    for _ in 0..50 {
        unloaded.push(round_trip(&mut live, &mut seq).await);
    }

    // The engine's count of pending connections, sampled through its own task.
    let max_pending = Arc::new(AtomicUsize::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (engine, max_pending, sampling) =
            (engine.clone(), max_pending.clone(), sampling.clone());
        async move {
            while sampling.load(Ordering::Relaxed) {
                let max_pending = max_pending.clone();
                let _ = engine
                    .with_engine(move |e| {
                        max_pending.fetch_max(e.pending_connections(), Ordering::Relaxed);
                    })
                    .await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });

    // The flood: every connection opened at once, then silent.
    let rss = PeakRss::start();
    let flood_started = Instant::now();
    let finished = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let finished = finished.clone();
        flood.push(tokio::spawn(async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            let fate = silent_connection(socket, addr, PROBE_AFTER, &AtomicUsize::new(0)).await;
            finished.fetch_add(1, Ordering::Relaxed);
            fate
        }));
    }
    // The live session under the flood, until every flood connection has ended.
    let mut loaded = Vec::new();
    while finished.load(Ordering::Relaxed) < FLOOD {
        loaded.push(round_trip(&mut live, &mut seq).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            flood_started.elapsed() < 4 * WITHIN,
            "the flood did not end"
        );
    }
    let flood_took = flood_started.elapsed();
    let growth_kib = rss.growth_kib();
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();

    let mut ends: HashMap<End, usize> = HashMap::new();
    let (mut quick, mut held, mut connect_failed, mut got_bytes) = (0, 0, 0, 0);
    let mut orphans = 0;
    for task in flood {
        let Some((received, end, open_for, orphan)) = task.await.unwrap() else {
            connect_failed += 1;
            continue;
        };
        *ends.entry(end).or_default() += 1;
        if orphan {
            orphans += 1;
            continue;
        }
        got_bytes += usize::from(received > 0);
        if open_for >= LOGON_TIMEOUT - Duration::from_millis(500) {
            held += 1;
        } else if open_for < Duration::from_secs(2) {
            quick += 1;
        }
    }
    let (unloaded_median, unloaded_max) = median_max(&mut unloaded);
    let (loaded_median, loaded_max) = median_max(&mut loaded);
    let max_pending = max_pending.load(Ordering::Relaxed);
    eprintln!(
        "flood: {FLOOD} silent connections, MaxPendingConnections {LIMIT}, LogonTimeout {LOGON_TIMEOUT:?}: \
         ended {ends:?} in {flood_took:?}; {quick} closed within 2 s, {held} held to LogonTimeout, \
         {connect_failed} failed to connect, {orphans} never reached the engine (dropped from the kernel's \
         full accept queue, closed when probed); engine's peak pending {max_pending}; \
         process RSS peak growth {} MiB (both ends of every socket are in this process)",
        growth_kib / 1024
    );
    eprintln!(
        "live session round trip: unloaded median {unloaded_median:?} max {unloaded_max:?} ({} samples); \
         under the flood median {loaded_median:?} max {loaded_max:?} ({} samples)",
        unloaded.len(),
        loaded.len()
    );
    assert_eq!(connect_failed, 0, "flood connections failed to connect");
    assert_eq!(ends.get(&End::Open), None, "flood connections stayed open");
    assert_eq!(got_bytes, 0, "a flood connection got bytes");
    assert!(
        max_pending <= LIMIT,
        "{max_pending} pending connections, above the limit of {LIMIT}"
    );
    assert!(
        held > 0 && held < FLOOD,
        "the limit made no difference: {held} held"
    );
    assert!(
        growth_kib < 512 * 1024,
        "memory grew by {growth_kib} KiB under the flood"
    );
    assert!(!loaded.is_empty());

    // Once the flood has gone, nothing is pending and a new counterparty logs on.
    let pending = Arc::new(AtomicUsize::new(usize::MAX));
    let seen = pending.clone();
    engine
        .with_engine(move |e| seen.store(e.pending_connections(), Ordering::Relaxed))
        .await
        .unwrap();
    assert_eq!(pending.load(Ordering::Relaxed), 0);
    let mut latecomer = Peer::connect(addr).await;
    latecomer
        .send(&logon("LATECOMER", US, 30, ""))
        .await
        .unwrap();
    latecomer.expect(b"A").await;
    round_trip(&mut live, &mut seq).await;
    engine.shutdown().await;
}

/// An acceptor engine with session US->THEM that wants `user`/`secret`, plus `config`.
async fn engine_with_password(
    config: EngineConfig,
) -> (FixEngine, tokio::sync::mpsc::UnboundedReceiver<AppEvent>) {
    let (engine, events) = acceptor_engine(config).await;
    acceptor(&engine, THEM, |_| {}).await;
    engine
        .with_engine(|e| {
            let credentials = Credentials {
                username: "user".into(),
                password: "secret".into(),
            };
            e.set_credentials(&SessionId::new(US, THEM), credentials)
                .unwrap();
        })
        .await
        .unwrap();
    (engine, events)
}

/// One Logon attempt on a new connection: the bytes back, the ending, and the time from the
/// Logon's last byte to the close.
async fn attempt(engine: &FixEngine, bytes: &[u8]) -> (usize, End, Duration) {
    let mut peer = Peer::connect(engine.local_addr().unwrap()).await;
    peer.send(bytes).await.unwrap();
    let sent = Instant::now();
    let (received, end) = peer.until_closed(WITHIN).await;
    (received, end, sent.elapsed())
}

/// The session's next outbound and inbound numbers.
async fn seq_nums(engine: &FixEngine) -> (SeqNum, SeqNum) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    engine
        .with_engine(move |e| {
            let session = e.session(&SessionId::new(US, THEM)).unwrap();
            let _ = tx.send((session.next_sender_seq(), session.next_target_seq()));
        })
        .await
        .unwrap();
    rx.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_wrong_passwords_are_refused_like_unknown_comp_ids_and_change_nothing() {
    const TRIES: usize = 1_000;
    let (engine, mut events) = engine_with_password(EngineConfig::default()).await;
    let before = seq_nums(&engine).await;
    // In pairs, so that both kinds meet the same load, each pair in a seeded random order, so
    // that going first or second favours neither; passwords of the same length.
    let mut wrong = Vec::with_capacity(TRIES);
    let mut unknown = Vec::with_capacity(TRIES);
    let mut coin = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..TRIES {
        let password = format!("554=guess{i:05}|553=user|");
        let wrong_logon = logon(THEM, US, 30, &password);
        let unknown_logon = logon("NOBODY", US, 30, &password);
        coin ^= coin << 13;
        coin ^= coin >> 7;
        coin ^= coin << 17;
        if coin & 1 == 0 {
            wrong.push(attempt(&engine, &wrong_logon).await);
            unknown.push(attempt(&engine, &unknown_logon).await);
        } else {
            unknown.push(attempt(&engine, &unknown_logon).await);
            wrong.push(attempt(&engine, &wrong_logon).await);
        }
    }
    let summary = |tries: &[(usize, End, Duration)]| {
        let bytes: usize = tries.iter().map(|t| t.0).sum();
        let mut ends: HashMap<End, usize> = HashMap::new();
        for t in tries {
            *ends.entry(t.1).or_default() += 1;
        }
        let mut times: Vec<Duration> = tries.iter().map(|t| t.2).collect();
        let (median, max) = median_max(&mut times);
        (bytes, ends, median, max)
    };
    let (wrong_bytes, wrong_ends, wrong_median, wrong_max) = summary(&wrong);
    let (unknown_bytes, unknown_ends, unknown_median, unknown_max) = summary(&unknown);
    eprintln!(
        "{TRIES} wrong passwords: {wrong_bytes} bytes back, ends {wrong_ends:?}, close after median {wrong_median:?} max {wrong_max:?}"
    );
    eprintln!(
        "{TRIES} unknown CompIDs: {unknown_bytes} bytes back, ends {unknown_ends:?}, close after median {unknown_median:?} max {unknown_max:?}"
    );
    assert_eq!((wrong_bytes, unknown_bytes), (0, 0), "a refusal sent bytes");
    assert_eq!(
        wrong_ends.get(&End::Open),
        None,
        "a refused connection stayed open"
    );
    assert_eq!(
        unknown_ends.get(&End::Open),
        None,
        "a refused connection stayed open"
    );
    let usual = |ends: &HashMap<End, usize>| ends.iter().max_by_key(|(_, n)| **n).map(|(e, _)| *e);
    assert_eq!(
        usual(&wrong_ends),
        usual(&unknown_ends),
        "the closes differ"
    );
    // One timing class, judged on the pairs: the median of the differences within pairs (wrong
    // password minus unknown CompID), against a bound of 20 µs plus six standard errors of that
    // median (from the spread of the differences, so a noisy machine widens it). Both kinds meet
    // the same load and the order in a pair is random, so noise cancels in the median whatever
    // its size; a consistent difference does not. Measured here (debug build, loopback): refusal
    // medians about 130 µs, the pairs' differences spread over an interquartile range of about
    // 55 µs (a standard error of 1.6 µs), and a median difference of +2.3 µs on average over
    // runs (-2.4 to +4.6): the wrong password's path does a little more (the authenticator, the
    // lockout's bookkeeping) than the unknown CompID's dummy comparison. That is why a sign test
    // cannot be the check (it sees those 2 µs, at 520-570 of 1,000 pairs), and why the bound has
    // a floor. Caught: a difference of 20 µs plus the noise, about 30 µs here; the old check,
    // "medians within 1 ms", let through several times the median itself.
    let mut differences: Vec<f64> = wrong
        .iter()
        .zip(&unknown)
        .map(|(w, u)| (w.2.as_secs_f64() - u.2.as_secs_f64()) * 1e6)
        .collect();
    differences.sort_by(f64::total_cmp);
    let median_difference = differences[TRIES / 2];
    let iqr = differences[TRIES * 3 / 4] - differences[TRIES / 4];
    let standard_error = 1.2533 * (iqr / 1.349) / (TRIES as f64).sqrt();
    let bound = 20.0 + 6.0 * standard_error;
    let wrong_slower = differences.iter().filter(|&&d| d > 0.0).count();
    eprintln!(
        "paired differences (wrong password - unknown CompID): median {median_difference:.1} µs, \
         interquartile range {iqr:.1} µs, bound ±{bound:.1} µs; the wrong password was the \
         slower in {wrong_slower} of {TRIES} pairs"
    );
    assert!(
        median_difference.abs() < bound,
        "refusal times differ: the median of the paired differences is {median_difference:.1} µs \
         (bound {bound:.1} µs); medians: wrong password {wrong_median:?}, unknown CompID \
         {unknown_median:?}"
    );
    // Nothing changed: no event, the same sequence numbers, and the real Logon works.
    assert!(events.try_recv().is_err(), "a refusal raised an event");
    assert_eq!(seq_nums(&engine).await, before);
    let mut real = Peer::connect(engine.local_addr().unwrap()).await;
    real.send(&logon(THEM, US, 30, "553=user|554=secret|"))
        .await
        .unwrap();
    let reply = real.expect(b"A").await;
    assert_eq!(reply.seq_num(34).unwrap().get(), 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_refuses_even_the_right_password_until_it_expires() {
    const LOCKED_FOR: Duration = Duration::from_secs(2);
    let config = EngineConfig {
        lockout: Some(Lockout {
            max_failures: 3,
            base_delay: LOCKED_FOR,
            max_delay: Duration::from_secs(60),
        }),
        ..EngineConfig::default()
    };
    let (engine, _events) = engine_with_password(config).await;
    let right = logon(THEM, US, 30, "553=user|554=secret|");
    let wrong = logon(THEM, US, 30, "553=user|554=wrong|");
    for i in 0..2 {
        let (received, end, _) = attempt(&engine, &wrong).await;
        assert_eq!((received, end), (0, End::Eof), "failure {i}");
    }
    // The third failure locks the pair out, for LOCKED_FOR from when the engine counts it: no
    // earlier than this.
    let before_lock = Instant::now();
    let (received, end, _) = attempt(&engine, &wrong).await;
    assert_eq!((received, end), (0, End::Eof), "failure 2");
    // Another CompID from the same address is not locked out.
    acceptor(&engine, "OTHER", |_| {}).await;
    let mut other = Peer::connect(engine.local_addr().unwrap()).await;
    other.send(&logon("OTHER", US, 30, "")).await.unwrap();
    other.expect(b"A").await;
    // The right password, again and again until it logs on. Locked out, it gets what a wrong one
    // gets (refusals while locked do not extend the lockout). An attempt whose close we saw
    // before LOCKED_FOR had passed since `before_lock` was judged inside the lockout, whatever
    // the machine's delays: it must have been refused. The first that logs on must come after.
    let mut refused = 0;
    loop {
        let mut peer = Peer::connect(engine.local_addr().unwrap()).await;
        peer.send(&right).await.unwrap();
        // A logged-on connection stays open: 200 ms tells it apart from a refusal, which
        // closes, and nothing back in 200 ms (a slow machine) is simply tried again.
        let (received, end) = peer.until_closed(Duration::from_millis(200)).await;
        let seen_after = before_lock.elapsed();
        assert!(
            seen_after < LOCKED_FOR + WITHIN,
            "still locked out {seen_after:?} after the lock"
        );
        if received == 0 {
            refused += usize::from(end == End::Eof);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        assert!(
            seen_after >= LOCKED_FOR,
            "the lockout ended early: the right password logged on {seen_after:?} after the \
             third failure ({refused} refusals before), lockout {LOCKED_FOR:?}"
        );
        break;
    }
    eprintln!(
        "lockout: 3 failures locked the pair out for {LOCKED_FOR:?}; the right password was refused \
         {refused} times, then logged on after {:?}",
        before_lock.elapsed()
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_remote_addresses_admit_a_listed_address_and_refuse_others_like_a_wrong_password() {
    let (engine, mut events) = acceptor_engine(EngineConfig::default()).await;
    acceptor(&engine, THEM, |c| {
        c.set("AllowedRemoteAddresses", "10.0.0.0/8, 127.0.0.1")
            .unwrap();
    })
    .await;
    acceptor(&engine, "ELSEWHERE", |c| {
        c.set("AllowedRemoteAddresses", "10.0.0.0/8, ::1, 192.0.2.1")
            .unwrap();
    })
    .await;
    // From 127.0.0.1, not listed: nothing back, closed, as for an unknown CompID.
    let refused = attempt(&engine, &logon("ELSEWHERE", US, 30, "")).await;
    let unknown = attempt(&engine, &logon("NOBODY", US, 30, "")).await;
    eprintln!("not allowed: {refused:?}; unknown CompID: {unknown:?}");
    assert_eq!((refused.0, refused.1), (0, End::Eof));
    assert_eq!((refused.0, refused.1), (unknown.0, unknown.1));
    assert!(events.try_recv().is_err(), "the refusal raised an event");
    // Listed: logs on.
    let mut peer = Peer::connect(engine.local_addr().unwrap()).await;
    peer.send(&logon(THEM, US, 30, "")).await.unwrap();
    peer.expect(b"A").await;
    logged_on(&mut events, THEM).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_from_one_address_leaves_room_for_logons_from_others() {
    const FLOOD: usize = 1_000;
    const PER_ADDRESS: usize = 50;
    const PROBE_AFTER: Duration = Duration::from_secs(12);
    let _memory = MEMORY.lock().await;
    raise_fd_limit(2 * FLOOD as u64 + 1_024);
    let properties = fixgate_core::properties::Properties::parse(
        "MaxPendingConnections = 1000\nMaxPendingConnectionsPerAddress = 50\nPendingLogonTimeout = 4\n",
        "engine.properties",
    )
    .unwrap();
    let config = properties.engine_config().unwrap();
    assert_eq!(config.max_pending_per_address, PER_ADDRESS);
    let (engine, mut events) = acceptor_engine(config).await;
    acceptor(&engine, THEM, |_| {}).await;
    let addr = engine.local_addr().unwrap();

    // Every flood connection comes from 127.0.0.2 and says nothing.
    let connected = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        let connected = connected.clone();
        flood.push(tokio::spawn(async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            silent_connection(socket, addr, PROBE_AFTER, &connected).await
        }));
    }
    while connected.load(Ordering::Relaxed) < FLOOD {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // While the flood holds its places, a counterparty from 127.0.0.1 logs on at once.
    let started = Instant::now();
    let mut peer = Peer::connect(addr).await;
    peer.send(&logon(THEM, US, 30, "")).await.unwrap();
    peer.expect(b"A").await;
    let logon_took = started.elapsed();
    logged_on(&mut events, THEM).await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    engine
        .with_engine(move |e| {
            let _ = tx.send(e.pending_connections());
        })
        .await
        .unwrap();
    let pending = rx.await.unwrap();

    let (mut quick, mut held, mut orphans) = (0, 0, 0);
    for task in flood {
        let (received, end, open_for, orphan) = task.await.unwrap().expect("connected");
        assert_eq!(received, 0);
        assert_ne!(end, End::Open, "a flood connection stayed open");
        if orphan {
            orphans += 1;
        } else if open_for < Duration::from_secs(2) {
            quick += 1;
        } else {
            held += 1;
        }
    }
    eprintln!(
        "{FLOOD} silent connections from 127.0.0.2, MaxPendingConnectionsPerAddress {PER_ADDRESS}: \
         {quick} refused at once, {held} held to the timeout, {orphans} never reached the engine; \
         {pending} pending meanwhile; \
         a Logon from 127.0.0.1 answered in {logon_took:?}"
    );
    assert!(pending <= PER_ADDRESS, "{pending} pending");
    assert_eq!(held, PER_ADDRESS, "places held by the flooding address");
    engine.shutdown().await;
}
