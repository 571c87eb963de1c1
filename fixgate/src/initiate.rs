//! `fixgate initiate`: logs on as an initiator, sends orders (at most W outstanding, or paced at
//! R per second), waits for their ExecutionReports, logs out, and prints throughput and latency.
//! Our load generator, and a debugging client. The orders go out and the reports are taken on the
//! engine task ([`Application`]), as the acceptor's executor does.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use fixgate_core::codec::FieldWriter;
use fixgate_core::{
    BeginString, Delivered, DisconnectReason, EngineConfig, Event, MemoryStore, MessageStore, Role,
    SessionConfig, SessionId, UtcTimestamp, tag,
};
use fixgate_tokio::{Application, ConnectFailure, Context, FixEngine, TlsConfig};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::oneshot;

/// The options of `fixgate initiate`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitiateArgs {
    /// The acceptor's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The acceptor's port.
    #[arg(long, default_value_t = 9876)]
    port: u16,
    /// A backup acceptor, `HOST:PORT` (repeatable): tried in turn after the first, after each
    /// failed connection and each disconnect (an instance that took the session over).
    #[arg(long = "backup", value_name = "HOST:PORT")]
    backups: Vec<String>,
    /// Our SenderCompID.
    #[arg(long, default_value = "INI")]
    sender: String,
    /// The acceptor's CompID (our TargetCompID).
    #[arg(long, default_value = "ACC")]
    target: String,
    /// The BeginString.
    #[arg(long, default_value = "FIX.4.4")]
    begin: String,
    /// `Username <553>` for our Logon.
    #[arg(long)]
    username: Option<String>,
    /// `Password <554>` for our Logon.
    #[arg(long)]
    password: Option<String>,
    /// Connect over TLS, trusting the certificates in this PEM file.
    #[arg(long)]
    tls_ca: Option<std::path::PathBuf>,
    /// With --tls-ca: the name the acceptor's certificate must carry (default: its address).
    #[arg(long, requires = "tls_ca")]
    tls_name: Option<String>,
    /// How many orders to send.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// At most this many orders without their report (0: no limit).
    #[arg(long, default_value_t = 100)]
    window: u64,
    /// Send at this many orders per second (open loop; latency from the intended send time).
    #[arg(long)]
    rate: Option<f64>,
    /// `ReceiveSpinningTimeout`: microseconds the reader keeps polling after the last bytes
    /// before it sleeps (0: never spins).
    #[arg(long, default_value_t = 0)]
    receive_spinning_timeout: u64,
    /// Print one JSON line with the keys of the QuickFIX peer instead of text.
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Keep the session's sequence numbers and messages in a file store in this folder: a later
    /// run with the same folder goes on from them (its Logon carries no ResetSeqNumFlag).
    #[arg(long)]
    store: Option<std::path::PathBuf>,
    /// Give up after this many failed attempts to log on (each is logged with its reason).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    attempts: u32,
}

pub(crate) async fn run(args: InitiateArgs) -> Result<(), String> {
    let begin = BeginString::from_bytes(args.begin.as_bytes())
        .ok_or(format!("--begin: unknown {}", args.begin))?;
    let addr = tokio::net::lookup_host((args.host.as_str(), args.port))
        .await
        .map_err(|e| format!("{}:{}: {e}", args.host, args.port))?
        .next()
        .ok_or("no address")?;
    let mut addrs = vec![addr];
    for backup in &args.backups {
        let found = tokio::net::lookup_host(backup.as_str())
            .await
            .map_err(|e| format!("--backup {backup}: {e}"))?
            .next()
            .ok_or(format!("--backup {backup}: no address"))?;
        addrs.push(found);
    }
    let config = EngineConfig {
        reconnect_interval: Duration::from_millis(200),
        receive_spinning_timeout: Duration::from_micros(args.receive_spinning_timeout),
        ..EngineConfig::default()
    };
    let tls = match &args.tls_ca {
        Some(ca) => crate::tls::client_config(ca, args.tls_name.as_deref())?,
        None => TlsConfig::default(),
    };
    // A progress bar on a terminal, never in `--json` output or a pipe.
    let progress = if !args.json && std::io::stderr().is_terminal() {
        ProgressBar::new(args.count).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} reports, {per_sec}, ETA {eta}")
                .map_err(|e| e.to_string())?,
        )
    } else {
        ProgressBar::hidden()
    };
    let (logged_on, started) = oneshot::channel();
    let (done, finished) = oneshot::channel();
    let load = Load::new(&args, progress.clone(), logged_on, done);
    let engine = FixEngine::start_with_app(config, None, tls, load)
        .await
        .map_err(|e| e.to_string())?;
    let mut session_config = SessionConfig::new(begin, "", "", Role::Initiator);
    session_config.reset_on_logon = args.store.is_none();
    for (tag, value) in [(553, &args.username), (554, &args.password)] {
        if let Some(value) = value {
            session_config.logon_fields.push((tag, value.clone()));
        }
    }
    if begin == BeginString::Fixt11 {
        session_config.default_appl_ver_id = Some("9".into());
    }
    let now = UtcTimestamp::from_system_time(SystemTime::now());
    let store: Box<dyn MessageStore + Send> = match &args.store {
        Some(dir) => Box::new(
            fixgate_store::FileStore::open(dir, now)
                .map_err(|e| format!("--store {}: {e}", dir.display()))?,
        ),
        None => Box::new(MemoryStore::new(now)),
    };
    let id = SessionId::new(args.sender.clone(), args.target.clone());
    let session = engine
        .create_session(id, session_config, store)
        .await
        .map_err(|e| e.to_string())?;
    session
        .connect_to_any(addrs)
        .await
        .map_err(|e| e.to_string())?;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    let start = tokio::time::timeout_at(deadline, started)
        .await
        .map_err(|_| format!("no Logon from {addr} in time"))?
        .map_err(|_| "the engine stopped")?
        .map_err(|reason| {
            format!(
                "gave up after {} failed attempts to log on to {addr}: {reason}",
                args.attempts
            )
        })?;
    // Paced mode: order n is due at start + n / rate, whatever happened before (open loop).
    let pacer = args
        .rate
        .map(|rate| tokio::spawn(pace(session.sender(), args.count, rate, start)));
    let mut report = tokio::time::timeout_at(deadline, finished)
        .await
        .map_err(|_| format!("timed out before {} reports", args.count))?
        .map_err(|_| "the engine stopped")?;
    if let Some(pacer) = pacer {
        match pacer.await {
            Ok(Ok(send_lags_us)) => report.send_lags_us = send_lags_us,
            Ok(Err(error)) => eprintln!("pacing stopped: {error}"),
            Err(error) => eprintln!("pacing stopped: {error}"),
        }
    }
    progress.finish_and_clear();
    session.disconnect(None).await.map_err(|e| e.to_string())?;
    engine.shutdown().await;
    report.print(args.json, args.window);
    Ok(())
}

/// Puts order n at `start + n / rate`, from a task on the engine's own thread, so that an order
/// reaches the engine without a hop between threads (a separate pacing thread cost 15-25 us per
/// order on this VM). tokio's timers tick in milliseconds: a timerfd wakes the task [`SPIN`]
/// before each due time, with the thread's timer slack at 1 ns as qf-peer sets it, and the task
/// spins the rest, yielding to the runtime between clock readings so that a report arriving
/// meanwhile is read and timed at once (a spin that held the thread added up to [`SPIN`] to any
/// report slower than the gap before it). Returns how late each `put` completed, in microseconds
/// after its due time (negative if it completed early).
async fn pace(
    sender: fixgate_tokio::SessionSender,
    count: u64,
    rate: f64,
    start: Instant,
) -> std::io::Result<Vec<f64>> {
    let _ = rustix::thread::set_current_timer_slack(std::num::NonZeroU64::new(1));
    let timer = rustix::time::timerfd_create(
        rustix::time::TimerfdClockId::Monotonic,
        rustix::time::TimerfdFlags::NONBLOCK | rustix::time::TimerfdFlags::CLOEXEC,
    )?;
    // SAFETY: an `OwnedFd` stays open, and the same descriptor, for as long as it is owned.
    let timer =
        unsafe { tokio::io::unix::AsyncFd::register(timer) }.map_err(std::io::Error::from)?;
    let mut body = FieldWriter::new();
    let mut lags_us = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for n in 0..count {
        let due = start + Duration::from_secs_f64(n as f64 / rate);
        if let Some(wait) = due
            .checked_duration_since(Instant::now())
            .and_then(|wait| wait.checked_sub(SPIN))
            .filter(|wait| !wait.is_zero())
        {
            sleep(&timer, wait).await?;
        }
        while Instant::now() < due {
            tokio::task::yield_now().await;
        }
        order(n, &mut body);
        if sender.put(&b"D"[..], body.split()).await.is_err() {
            break;
        }
        // Signed: a put that completed before its due time would show as a negative lag.
        let now = Instant::now();
        lags_us.push(match now.checked_duration_since(due) {
            Some(late) => late.as_secs_f64() * 1e6,
            None => -(due - now).as_secs_f64() * 1e6,
        });
    }
    Ok(lags_us)
}

/// Sleeps for `wait` on `timer`, a timerfd registered with the runtime.
async fn sleep(
    timer: &tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
    wait: Duration,
) -> std::io::Result<()> {
    use rustix::time::{Itimerspec, TimerfdTimerFlags, Timespec};
    let arm = Itimerspec {
        it_interval: Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: Timespec {
            tv_sec: wait.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: wait.subsec_nanos().into(),
        },
    };
    rustix::time::timerfd_settime(timer.get_ref(), TimerfdTimerFlags::empty(), &arm)?;
    loop {
        let mut ready = timer.readable().await?;
        let mut expirations = [0u8; 8];
        match rustix::io::read(ready.get_inner(), &mut expirations) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
            Err(errno) => return Err(errno.into()),
        }
    }
}

/// How long before a paced order's due time the sender stops sleeping and spins.
const SPIN: Duration = Duration::from_micros(50);

/// A NewOrderSingle's body; ClOrdID is its number.
fn order(n: u64, body: &mut FieldWriter) {
    body.uint(tag::CL_ORD_ID, n)
        .char(21, b'1')
        .bytes(tag::SYMBOL, b"AAPL")
        .char(54, b'1')
        .bytes(60, b"20261126-12:00:00")
        .uint(tag::ORDER_QTY, 100)
        .char(40, b'1');
}

/// The load generator, on the engine task: it sends orders (in window mode) and times reports.
struct Load {
    count: u64,
    /// Orders outstanding at most; `None` when paced (a task sends them).
    window: Option<u64>,
    /// Paced: order n was due at start + n / rate.
    rate: Option<f64>,
    start: Option<Instant>,
    sent: u64,
    received: u64,
    rejects: u64,
    /// When order n went out (or was due, paced), or `None` once its report came.
    sent_at: Vec<Option<Instant>>,
    latencies_us: Vec<f64>,
    body: FieldWriter,
    progress: ProgressBar,
    /// Answered at the Logon, or with the last reason once `attempts` have failed.
    logged_on: Option<oneshot::Sender<Result<Instant, String>>>,
    attempts: u32,
    failed: u32,
    done: Option<oneshot::Sender<Report>>,
}

impl Load {
    fn new(
        args: &InitiateArgs,
        progress: ProgressBar,
        logged_on: oneshot::Sender<Result<Instant, String>>,
        done: oneshot::Sender<Report>,
    ) -> Self {
        let count = usize::try_from(args.count).unwrap_or(usize::MAX);
        Self {
            count: args.count,
            window: args.rate.is_none().then_some(if args.window == 0 {
                u64::MAX
            } else {
                args.window
            }),
            rate: args.rate,
            start: None,
            sent: 0,
            received: 0,
            rejects: 0,
            sent_at: vec![None; count],
            latencies_us: Vec::with_capacity(count),
            body: FieldWriter::new(),
            progress,
            logged_on: Some(logged_on),
            attempts: args.attempts,
            failed: 0,
            done: Some(done),
        }
    }

    /// Sends orders while the window allows.
    fn fill_window(&mut self, ctx: &mut Context<'_>, session: &SessionId) {
        let Some(window) = self.window else {
            return;
        };
        while self.sent < self.count && self.sent - self.received < window {
            self.body.clear();
            order(self.sent, &mut self.body);
            if ctx.put(session, b"D", self.body.as_bytes()).is_err() {
                return;
            }
            self.sent_at[self.sent as usize] = Some(Instant::now());
            self.sent += 1;
        }
    }

    /// When order `n` was sent (or due), if its report is the first one (a New report before
    /// a fill counts, the fill does not).
    fn take_sent_at(&mut self, n: u64) -> Option<Instant> {
        self.sent_at.get_mut(usize::try_from(n).ok()?)?.take()
    }

    /// An attempt to log on failed for `reason`: after the last one, the run gives up.
    fn attempt_failed(&mut self, reason: impl std::fmt::Display) {
        self.failed += 1;
        if self.failed >= self.attempts
            && let Some(logged_on) = self.logged_on.take()
        {
            let _ = logged_on.send(Err(reason.to_string()));
        }
    }

    fn finish_if_done(&mut self) {
        if self.received < self.count {
            return;
        }
        if let (Some(done), Some(start)) = (self.done.take(), self.start) {
            let _ = done.send(Report {
                sent: self.sent,
                received: self.received,
                rejects: self.rejects,
                seconds: start.elapsed().as_secs_f64(),
                latencies_us: std::mem::take(&mut self.latencies_us),
                send_lags_us: Vec::new(),
            });
        }
    }
}

impl Application for Load {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let msg = delivered.message();
        match msg.msg_type() {
            b"8" => {
                if let Some(sent_at) = msg
                    .uint(tag::CL_ORD_ID)
                    .ok()
                    .and_then(|n| self.take_sent_at(n))
                {
                    self.latencies_us
                        .push(sent_at.elapsed().as_secs_f64() * 1e6);
                    self.received += 1;
                }
            }
            b"j" | b"3" => {
                self.rejects += 1;
                self.received += 1;
            }
            _ => {}
        }
        let _ = ctx.ack(session, delivered);
        if self.received.is_multiple_of(1024) {
            self.progress.set_position(self.received);
        }
        self.fill_window(ctx, session);
        self.finish_if_done();
    }

    fn on_event(&mut self, ctx: &mut Context<'_>, session: &SessionId, event: Event) {
        match event {
            Event::LoggedOn { .. } if self.start.is_none() => {
                let start = Instant::now();
                self.start = Some(start);
                if let Some(rate) = self.rate {
                    for (n, due) in self.sent_at.iter_mut().enumerate() {
                        *due = Some(start + Duration::from_secs_f64(n as f64 / rate));
                    }
                    self.sent = self.count;
                }
                if let Some(logged_on) = self.logged_on.take() {
                    let _ = logged_on.send(Ok(start));
                }
                self.fill_window(ctx, session);
            }
            Event::RejectReceived { .. } => self.rejects += 1,
            _ => {}
        }
    }

    fn on_connect_failed(
        &mut self,
        _: &mut Context<'_>,
        _: &SessionId,
        _: SocketAddr,
        reason: ConnectFailure,
    ) {
        self.attempt_failed(reason);
    }

    fn on_disconnected(&mut self, _: &mut Context<'_>, _: &SessionId, reason: DisconnectReason) {
        if self.start.is_none() {
            self.attempt_failed(LogonFailure(reason));
        }
    }
}

/// Why a connection ended before the Logon, in words.
struct LogonFailure(DisconnectReason);

impl std::fmt::Display for LogonFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            DisconnectReason::LogonUnanswered => f.write_str(
                "the acceptor closed the connection without answering our Logon \
                 (check --sender, --target, --username, --password)",
            ),
            DisconnectReason::LogonTimeout => f.write_str("no answer to our Logon in time"),
            other => write!(f, "the connection ended before the Logon: {other:?}"),
        }
    }
}

/// What a run measured.
struct Report {
    sent: u64,
    received: u64,
    rejects: u64,
    seconds: f64,
    latencies_us: Vec<f64>,
    /// Paced: how late each `put` completed after its due time (qf-peer's "send lag").
    send_lags_us: Vec<f64>,
}

/// The value at fraction `p` of sorted `values` (0 when there are none).
fn percentile(values: &[f64], p: f64) -> f64 {
    values
        .get(((values.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

impl Report {
    fn print(mut self, json: bool, window: u64) {
        self.latencies_us.sort_by(f64::total_cmp);
        self.send_lags_us.sort_by(f64::total_cmp);
        let pct = |p: f64| percentile(&self.latencies_us, p);
        let lag = |p: f64| percentile(&self.send_lags_us, p);
        let lags = if self.send_lags_us.is_empty() {
            String::new()
        } else {
            format!(
                ",\"send_lag_min_us\":{:.1},\"send_lag_p50_us\":{:.1},\"send_lag_p99_us\":{:.1}",
                lag(0.0),
                lag(0.5),
                lag(0.99)
            )
        };
        // The machine's stalls (docs/benchmarks.md): reports a millisecond or more late, per mille.
        let stalled = self.latencies_us.len() - self.latencies_us.partition_point(|&l| l < 1000.0);
        let stalled_permille = 1000.0 * stalled as f64 / self.latencies_us.len().max(1) as f64;
        let (sent, received, seconds) = (self.sent, self.received, self.seconds);
        let rate = received as f64 / seconds;
        if json {
            println!(
                "{{\"sent\":{sent},\"received\":{received},\"seconds\":{seconds:.6},\"msgs_per_s\":{rate:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\"over_1ms_permille\":{stalled_permille:.1},\"window\":{window},\"rejects\":{}{lags}}}",
                pct(0.5),
                pct(0.99),
                pct(0.999),
                pct(1.0),
                self.rejects
            );
        } else {
            println!(
                "{received} reports for {sent} orders in {seconds:.3} s: {rate:.0} round trips/s"
            );
            println!(
                "latency p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
                pct(0.5),
                pct(0.99),
                pct(0.999),
                pct(1.0)
            );
        }
    }
}
