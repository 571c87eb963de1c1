//! What the hostile-peer tests (issue 8, stage 2) share: a raw loopback counterparty, an acceptor
//! engine on the tokio adapter, event waits, and memory and file-descriptor helpers.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use fixgate_core::codec::{Decoded, Decoder, Message};
use fixgate_core::{
    BeginString, EngineConfig, MemoryStore, Role, SessionConfig, SessionId, TimestampPrecision,
    UtcTimestamp,
};
use fixgate_tests::bench::rss_kib;
use fixgate_tests::wire::frame;
use fixgate_tokio::{AppEvent, FixEngine, Session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;

/// A generous bound between "works" and "hangs".
pub(crate) const WITHIN: Duration = Duration::from_secs(20);

/// Our CompID.
pub(crate) const US: &str = "ISLD";
/// The legitimate counterparty's CompID.
pub(crate) const THEM: &str = "CLIENT";

/// A FIX 4.4 message from `them` to `us`, `|` for SOH, stamped now.
pub(crate) fn message(them: &str, us: &str, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
    let time = UtcTimestamp::from_system_time(SystemTime::now()).format(TimestampPrecision::Millis);
    frame(
        "FIX.4.4",
        &format!(
            "35={msg_type}|34={seq}|49={them}|52={}|56={us}|{fields}",
            time.as_str()
        ),
    )
}

/// A Logon from `them` to `us` (HeartBtInt `hbi`), with `extra` fields.
pub(crate) fn logon(them: &str, us: &str, hbi: u32, extra: &str) -> Vec<u8> {
    message(them, us, "A", 1, &format!("98=0|108={hbi}|{extra}"))
}

/// An acceptor engine on 127.0.0.1 with `config`, and its event stream.
pub(crate) async fn acceptor_engine(
    config: EngineConfig,
) -> (FixEngine, UnboundedReceiver<AppEvent>) {
    FixEngine::start(config, Some("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap()
}

/// Registers acceptor US->`them` over a memory store, with `config` adjusted by `tweak`.
pub(crate) async fn acceptor(
    engine: &FixEngine,
    them: &str,
    tweak: impl FnOnce(&mut SessionConfig),
) -> Session {
    let mut config = SessionConfig::new(BeginString::Fix44, US, them, Role::Acceptor);
    tweak(&mut config);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now()));
    let session = engine
        .create_session(SessionId::new(US, them), config, Box::new(store))
        .await
        .unwrap();
    session.connect().await.unwrap();
    session
}

/// Waits for the first event that `want` picks.
pub(crate) async fn wait_for<T>(
    events: &mut UnboundedReceiver<AppEvent>,
    mut want: impl FnMut(&AppEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WITHIN, async {
        loop {
            let event = events.recv().await.expect("the engine runs");
            if let Some(found) = want(&event) {
                return found;
            }
        }
    })
    .await
    .expect("the event in time")
}

/// Waits for session `them`'s `LoggedOn` event.
pub(crate) async fn logged_on(events: &mut UnboundedReceiver<AppEvent>, them: &str) {
    wait_for(events, |e| match e {
        AppEvent::Event {
            session,
            event: fixgate_core::Event::LoggedOn { .. },
        } if &*session.target_comp_id == them => Some(()),
        _ => None,
    })
    .await;
}

/// How a connection ended, seen from the counterparty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum End {
    /// An orderly close (FIN).
    Eof,
    /// A reset or another read error.
    Reset,
    /// Still open when the wait ended.
    Open,
}

/// A raw counterparty on a loopback socket.
pub(crate) struct Peer {
    /// The socket.
    pub(crate) stream: TcpStream,
    decoder: Decoder,
}

impl Peer {
    /// Connects to `addr`.
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            decoder: Decoder::new(),
        }
    }

    /// A counterparty on a socket connected already.
    pub(crate) fn from_stream(stream: TcpStream) -> Self {
        Self {
            stream,
            decoder: Decoder::new(),
        }
    }

    /// Writes `bytes`; a write error (the acceptor closed) is returned, not a panic.
    pub(crate) async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads messages until one of `msg_type` arrives.
    pub(crate) async fn expect(&mut self, msg_type: &[u8]) -> Message {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            while let Some(decoded) = self.decoder.decode().expect("a valid stream") {
                if let Decoded::Message(msg) = decoded
                    && msg.msg_type() == msg_type
                {
                    return msg;
                }
            }
            let n = tokio::time::timeout(WITHIN, self.stream.read(&mut buf))
                .await
                .expect("an answer in time")
                .unwrap();
            assert!(n > 0, "the acceptor closed the connection");
            self.decoder.feed(&buf[..n]);
        }
    }

    /// Reads until the connection ends or `within` passes: the bytes received and the ending.
    pub(crate) async fn until_closed(&mut self, within: Duration) -> (usize, End) {
        read_until_closed(&mut self.stream, within).await
    }
}

/// Reads `stream` until it ends or `within` passes: the bytes received and the ending.
pub(crate) async fn read_until_closed(
    stream: &mut (impl AsyncRead + Unpin),
    within: Duration,
) -> (usize, End) {
    let mut received = 0;
    // Small: a flood test holds thousands of these at once.
    let mut buf = [0u8; 256];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return (received, End::Eof),
            Ok(Ok(n)) => received += n,
            Ok(Err(_)) => return (received, End::Reset),
            Err(_) => return (received, End::Open),
        }
    }
}

/// A TestRequest → Heartbeat round trip on a logged-on counterparty whose next MsgSeqNum is
/// `*seq`.
pub(crate) async fn round_trip(peer: &mut Peer, seq: &mut u64) -> Duration {
    let id = format!("RT{seq}");
    let started = Instant::now();
    peer.send(&message(THEM, US, "1", *seq, &format!("112={id}|")))
        .await
        .unwrap();
    *seq += 1;
    loop {
        let heartbeat = peer.expect(b"0").await;
        if heartbeat.str(112) == Ok(id.as_str()) {
            return started.elapsed();
        }
    }
}

/// The median and the largest of `samples`.
pub(crate) fn median_max(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

/// Raises this process's open-file limit to at least `want` (up to the hard limit) and returns
/// the new soft limit.
pub(crate) fn raise_fd_limit(want: u64) -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= want {
        return current;
    }
    let target = limit.maximum.map_or(want, |max| want.min(max));
    limit.current = Some(target);
    setrlimit(Resource::Nofile, limit).expect("setrlimit(RLIMIT_NOFILE)");
    target
}

/// The peak resident memory of this process while it runs, sampled every 5 ms.
pub(crate) struct PeakRss {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The resident memory when sampling began, in KiB.
    pub(crate) baseline_kib: u64,
}

impl PeakRss {
    /// Starts sampling.
    pub(crate) fn start() -> Self {
        let baseline_kib = rss_kib("self").expect("/proc/self/status");
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(baseline_kib));
        let thread = std::thread::spawn({
            let (stop, peak) = (stop.clone(), peak.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(rss) = rss_kib("self") {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        Self {
            stop,
            peak,
            thread: Some(thread),
            baseline_kib,
        }
    }

    /// Stops sampling and returns the peak growth over the baseline, in KiB.
    pub(crate) fn growth_kib(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.peak
            .load(Ordering::Relaxed)
            .saturating_sub(self.baseline_kib)
    }
}

/// Tests that measure this process's memory run one at a time: take this lock first.
pub(crate) static MEMORY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A counterparty `them` that has logged on to the engine at `addr` with HeartBtInt `hbi`: the
/// peer, its next MsgSeqNum being 2.
pub(crate) async fn log_on(
    addr: SocketAddr,
    events: &mut UnboundedReceiver<AppEvent>,
    them: &str,
    hbi: u32,
) -> Peer {
    let mut peer = Peer::connect(addr).await;
    peer.send(&logon(them, US, hbi, "")).await.unwrap();
    peer.expect(b"A").await;
    logged_on(events, them).await;
    peer
}

/// Waits for the reason of the next `Disconnected` event.
pub(crate) async fn disconnected(
    events: &mut UnboundedReceiver<AppEvent>,
) -> fixgate_core::DisconnectReason {
    wait_for(events, |e| match e {
        AppEvent::Disconnected { reason, .. } => Some(reason.clone()),
        _ => None,
    })
    .await
}

/// `len` bytes that hold no `8=` (so no frame can start in them), ending with SOH.
pub(crate) fn garbage(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match state as u8 {
                b'8' => b'7',
                b => b,
            }
        })
        .collect();
    if let Some(last) = bytes.last_mut() {
        *last = 0x01;
    }
    bytes
}

/// How a silent connection ended: its bytes, its ending, how long it was open, and whether it was
/// still open long after LogonTimeout (then probed).
pub(crate) type Fate = (usize, End, Duration, bool);

/// Connects `socket` to `addr`, counts it in `connected`, says nothing and waits for the close.
/// `None` if it could not connect.
///
/// A connection still open after `probe_after` is one the kernel completed but dropped from a
/// full accept queue (SYN cookies), which never reached the engine. One byte tells: the kernel
/// resets it, or (a still valid cookie) accepts it now and the engine closes it at its
/// LogonTimeout. A connection the engine held would stay open.
pub(crate) async fn silent_connection(
    socket: tokio::net::TcpSocket,
    addr: SocketAddr,
    probe_after: Duration,
    connected: &std::sync::atomic::AtomicUsize,
) -> Option<Fate> {
    let mut stream = socket.connect(addr).await.ok()?;
    connected.fetch_add(1, Ordering::Relaxed);
    let opened = Instant::now();
    let (mut received, mut end) = read_until_closed(&mut stream, probe_after).await;
    let orphan = end == End::Open;
    if orphan {
        let _ = stream.write_all(b"8").await;
        let (more, probed) = read_until_closed(&mut stream, WITHIN).await;
        received += more;
        end = probed;
    }
    Some((received, end, opened.elapsed(), orphan))
}
