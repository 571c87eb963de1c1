//! Many sessions on one acceptor (issue 7, item 4): opens N connections to an acceptor that
//! creates sessions for unregistered Logons (the `fixgate` binary's default), logs each on as its
//! own CompID with HeartBtInt H, and reports:
//! - the time until every Logon is answered;
//! - the acceptor's resident memory per session (`--pid`: VmRSS before and after);
//! - over `--hold` seconds, the acceptor's Heartbeats on every session: the longest gap between
//!   two of them (or between the hold's start or end and the nearest one), how many sessions
//!   never logged on, saw a gap above HeartBtInt + 1 s or a close (a missed deadline), and how
//!   many TestRequests the acceptor sent (when this client's own Heartbeats ran late: its
//!   deadline, not the acceptor's).
//!
//! ```text
//! many-sessions --port P --sessions N [--heartbeat H] [--hold S] [--pid PID]
//! ```
//! Raise RLIMIT_NOFILE (`ulimit -n`) for both processes first. One JSON line on stdout.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use fixgate_core::codec::{Decoded, Decoder};
use fixgate_core::{TimestampPrecision, UtcTimestamp};
use fixgate_tests::bench::{number_arg, rss_kib};
use fixgate_tests::wire::frame;

/// One counterparty connection.
struct Peer {
    stream: TcpStream,
    decoder: Decoder,
    next_seq: u64,
    comp_id: String,
    logged_on: Option<Instant>,
    last_heartbeat: Option<Instant>,
    longest_gap: Duration,
    sent_at: Instant,
    test_requests: u32,
    closed: bool,
}

impl Peer {
    fn send(&mut self, msg_type: &str, fields: &str) {
        let time =
            UtcTimestamp::from_system_time(SystemTime::now()).format(TimestampPrecision::Millis);
        let body = format!(
            "35={msg_type}|34={}|49={}|52={}|56=FIXGATE|{fields}",
            self.next_seq,
            self.comp_id,
            time.as_str()
        );
        self.next_seq += 1;
        self.sent_at = Instant::now();
        let bytes = frame("FIX.4.4", &body);
        let _ = self.stream.write_all(&bytes);
    }

    /// Reads what arrived; answers TestRequests; notes Logon and Heartbeats.
    fn poll(&mut self, buf: &mut [u8], holding: bool) {
        loop {
            match self.stream.read(buf) {
                Ok(0) => {
                    self.closed = true;
                    return;
                }
                Ok(n) => self.decoder.feed(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.closed = true;
                    return;
                }
            }
        }
        while let Ok(Some(decoded)) = self.decoder.decode() {
            let Decoded::Message(msg) = decoded else {
                continue;
            };
            let now = Instant::now();
            match msg.msg_type() {
                b"A" => self.logged_on = Some(now),
                b"0" => {
                    if let (true, Some(last)) = (holding, self.last_heartbeat) {
                        self.longest_gap = self.longest_gap.max(now - last);
                    }
                    self.last_heartbeat = Some(now);
                }
                b"1" => {
                    self.test_requests += 1;
                    let id = msg.str(112).unwrap_or("").to_owned();
                    self.send("0", &format!("112={id}|"));
                }
                _ => {}
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: u64| number_arg(&args, name, default);
    let port = value("--port", 9876) as u16;
    let sessions = value("--sessions", 1000);
    let heartbeat = value("--heartbeat", 1);
    let hold = Duration::from_secs(value("--hold", 60));
    let pid = value("--pid", 0);
    let pid = (pid != 0).then(|| pid.to_string());
    let rss_before = pid.as_deref().and_then(rss_kib);

    let start = Instant::now();
    let mut peers: Vec<Peer> = (0..sessions)
        .map(|n| {
            let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let mut peer = Peer {
                stream,
                decoder: Decoder::new(),
                next_seq: 1,
                comp_id: format!("MANY{n}"),
                logged_on: None,
                last_heartbeat: None,
                longest_gap: Duration::ZERO,
                sent_at: Instant::now(),
                test_requests: 0,
                closed: false,
            };
            peer.send("A", &format!("98=0|108={heartbeat}|141=Y|"));
            peer.stream.set_nonblocking(true).expect("nonblocking");
            peer
        })
        .collect();
    let mut buf = vec![0u8; 16 * 1024];
    let deadline = start + Duration::from_secs(60);
    while peers.iter().any(|p| p.logged_on.is_none() && !p.closed) && Instant::now() < deadline {
        for peer in &mut peers {
            peer.poll(&mut buf, false);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let logged_on = peers.iter().filter(|p| p.logged_on.is_some()).count();
    let mut logon_ms: Vec<f64> = peers
        .iter()
        .filter_map(|p| p.logged_on)
        .map(|t| (t - start).as_secs_f64() * 1e3)
        .collect();
    logon_ms.sort_by(f64::total_cmp);
    let logon_pct = |p: f64| {
        logon_ms
            .get(((logon_ms.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(-1.0)
    };
    std::thread::sleep(Duration::from_millis(500));
    let rss_after = pid.as_deref().and_then(rss_kib);

    // Hold: our own Heartbeats every HeartBtInt, theirs measured. The gaps count from the
    // hold's start and up to its end, so that a session whose Heartbeats never came, or stopped,
    // shows the whole silence.
    let hold_start = Instant::now();
    for peer in &mut peers {
        peer.last_heartbeat = Some(hold_start);
    }
    let interval = Duration::from_secs(heartbeat);
    while hold_start.elapsed() < hold {
        for peer in &mut peers {
            peer.poll(&mut buf, true);
            if !peer.closed && peer.sent_at.elapsed() >= interval {
                peer.send("0", "");
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let hold_end = Instant::now();
    for peer in &mut peers {
        if let Some(last) = peer.last_heartbeat {
            peer.longest_gap = peer.longest_gap.max(hold_end - last);
        }
    }
    let late_limit = interval + Duration::from_secs(1);
    let missed = peers
        .iter()
        .filter(|p| p.logged_on.is_none() || p.closed || p.longest_gap > late_limit)
        .count();
    let test_requests: u32 = peers.iter().map(|p| p.test_requests).sum();
    let longest = peers
        .iter()
        .map(|p| p.longest_gap)
        .max()
        .unwrap_or_default();
    let per_session = match (rss_before, rss_after) {
        (Some(before), Some(after)) if logged_on > 0 => {
            format!(
                "{:.1}",
                after.saturating_sub(before) as f64 / logged_on as f64
            )
        }
        _ => "null".into(),
    };
    println!(
        "{{\"sessions\":{sessions},\"logged_on\":{logged_on},\"logon_p50_ms\":{:.1},\"logon_p99_ms\":{:.1},\"logon_all_ms\":{:.1},\"rss_kib_per_session\":{per_session},\"hold_s\":{},\"heartbeat_s\":{heartbeat},\"longest_heartbeat_gap_ms\":{:.1},\"sessions_with_missed_deadline\":{missed},\"test_requests\":{test_requests}}}",
        logon_pct(0.5),
        logon_pct(0.99),
        logon_pct(1.0),
        hold.as_secs(),
        longest.as_secs_f64() * 1e3,
    );
}
