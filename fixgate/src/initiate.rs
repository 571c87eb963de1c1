//! `fixgate initiate`: logs on as an initiator, sends orders (at most W outstanding, or paced at
//! R per second), waits for their ExecutionReports, logs out, and prints throughput and latency.
//! Our load generator, and a debugging client.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use fixgate_core::{
    BeginString, EngineConfig, MemoryStore, Role, SessionConfig, SessionId, UtcTimestamp,
};
use fixgate_tokio::{AppEvent, FixEngine};
use indicatif::{ProgressBar, ProgressStyle};

/// The options of `fixgate initiate`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitiateArgs {
    /// The acceptor's address.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The acceptor's port.
    #[arg(long, default_value_t = 9876)]
    port: u16,
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
    /// Print one JSON line with the keys of the QuickFIX peer instead of text.
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

pub(crate) async fn run(args: InitiateArgs) -> Result<(), String> {
    let begin = BeginString::from_bytes(args.begin.as_bytes())
        .ok_or(format!("--begin: unknown {}", args.begin))?;
    let addr = tokio::net::lookup_host((args.host.as_str(), args.port))
        .await
        .map_err(|e| format!("{}:{}: {e}", args.host, args.port))?
        .next()
        .ok_or("no address")?;
    let config = EngineConfig {
        reconnect_interval: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let started = match &args.tls_ca {
        Some(ca) => {
            let tls = crate::tls::client_config(ca, args.tls_name.as_deref())?;
            FixEngine::start_tls(config, None, tls).await
        }
        None => FixEngine::start(config, None).await,
    };
    let (engine, mut events) = started.map_err(|e| e.to_string())?;
    let mut session_config = SessionConfig::new(begin, "", "", Role::Initiator);
    session_config.reset_on_logon = true;
    for (tag, value) in [(553, &args.username), (554, &args.password)] {
        if let Some(value) = value {
            session_config.logon_fields.push((tag, value.clone()));
        }
    }
    if begin == BeginString::Fixt11 {
        session_config.default_appl_ver_id = Some("9".into());
    }
    let store = Box::new(MemoryStore::new(UtcTimestamp::from_system_time(
        SystemTime::now(),
    )));
    let id = SessionId::new(args.sender.clone(), args.target.clone());
    let session = engine
        .create_session(id, session_config, store)
        .await
        .map_err(|e| e.to_string())?;
    session.connect_to(addr).await.map_err(|e| e.to_string())?;
    // Wait for the Logon before the clock starts.
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    loop {
        match tokio::time::timeout_at(deadline.into(), events.recv()).await {
            Ok(Some(AppEvent::Event {
                event: fixgate_core::Event::LoggedOn { .. },
                ..
            })) => break,
            Ok(Some(_)) => {}
            _ => return Err(format!("no Logon from {addr} in time")),
        }
    }

    let window = if args.window == 0 {
        u64::MAX
    } else {
        args.window
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
    let start = Instant::now();
    let mut intended: HashMap<u64, Instant> = HashMap::new();
    let mut latencies_us: Vec<f64> = Vec::with_capacity(args.count as usize);
    let (mut sent, mut received, mut rejects) = (0u64, 0u64, 0u64);
    while received < args.count {
        // Send what the window and the pace allow.
        while sent < args.count && sent - received < window {
            let due = match args.rate {
                Some(rate) => start + Duration::from_secs_f64(sent as f64 / rate),
                None => Instant::now(),
            };
            if due > Instant::now() {
                break;
            }
            let body = format!(
                "11={sent}\x0121=1\x0155=AAPL\x0154=1\x0160=20261126-12:00:00\x0138=100\x0140=1\x01"
            );
            intended.insert(sent, due);
            session
                .put(Bytes::from_static(b"D"), Bytes::from(body))
                .await
                .map_err(|e| e.to_string())?;
            sent += 1;
        }
        let wait = match args.rate {
            Some(rate) if sent < args.count => start + Duration::from_secs_f64(sent as f64 / rate),
            _ => deadline,
        };
        let event = tokio::time::timeout_at(wait.min(deadline).into(), events.recv()).await;
        match event {
            Ok(Some(AppEvent::Deliver {
                session: from,
                delivered,
            })) => {
                let msg = delivered.message();
                if msg.msg_type() == b"8" {
                    if let Some(sent_at) = msg.uint(11).ok().and_then(|n| intended.remove(&n)) {
                        latencies_us.push(sent_at.elapsed().as_secs_f64() * 1e6);
                        received += 1;
                    }
                } else if msg.msg_type() == b"j" || msg.msg_type() == b"3" {
                    rejects += 1;
                    received += 1;
                }
                engine
                    .ack(from, delivered)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(Some(AppEvent::Event {
                event: fixgate_core::Event::RejectReceived { .. },
                ..
            })) => rejects += 1,
            Ok(Some(_)) => {}
            Ok(None) => return Err("the engine stopped".into()),
            Err(_) if Instant::now() >= deadline => {
                return Err(format!("timed out: {received} of {} reports", args.count));
            }
            Err(_) => {}
        }
        progress.set_position(received);
    }
    let seconds = start.elapsed().as_secs_f64();
    progress.finish_and_clear();
    session.disconnect(None).await.map_err(|e| e.to_string())?;
    engine.shutdown().await;

    latencies_us.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies_us
            .get(((latencies_us.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let rate = received as f64 / seconds;
    if args.json {
        println!(
            "{{\"sent\":{sent},\"received\":{received},\"seconds\":{seconds:.6},\"msgs_per_s\":{rate:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\"window\":{},\"rejects\":{rejects}}}",
            pct(0.5),
            pct(0.99),
            pct(0.999),
            pct(1.0),
            args.window
        );
    } else {
        println!("{received} reports for {sent} orders in {seconds:.3} s: {rate:.0} round trips/s");
        println!(
            "latency p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
            pct(0.5),
            pct(0.99),
            pct(0.999),
            pct(1.0)
        );
    }
    Ok(())
}
