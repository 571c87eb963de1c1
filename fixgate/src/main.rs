//! `fixgate`: a FIX acceptor on one port, with an executor, echo or log application behind it.
//!
//! Without arguments it runs the shipped default configuration (`fixgate.properties`): port 9876
//! on 127.0.0.1, any counterparty may log on, file stores under `./fixgate-data`.

mod apps;
mod initiate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Parser;
use fixgate_core::properties::Properties;
use fixgate_core::{MemoryStore, MessageStore, SessionId, UtcTimestamp};
use fixgate_store::FileStore;
use fixgate_tokio::{AppEvent, FixEngine};

use crate::apps::{App, answer};

/// The default configuration, shipped with the binary.
const DEFAULT_PROPERTIES: &str = include_str!("../fixgate.properties");

/// A FIX acceptor: sessions, routing and stores from fixgate, on one TCP port.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The engine.properties file (default: the shipped demo configuration).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The application behind the acceptor.
    #[arg(long, value_enum, default_value_t = App::Executor)]
    app: App,
    /// The listening port (overrides ListenPort).
    #[arg(long)]
    port: Option<u16>,
    /// Where sessions keep their messages and sequence numbers (overrides StorageType).
    #[arg(long, value_parser = ["memory", "file"])]
    store: Option<String>,
    #[command(subcommand)]
    command: Option<Subcommand>,
}

#[derive(Debug, clap::Subcommand)]
enum Subcommand {
    /// Log on to an acceptor as an initiator, send orders, and report throughput and latency.
    Initiate(initiate::InitiateArgs),
}

// One thread: every message crosses reader → engine → application → engine → writer tasks, and
// on a multi-threaded runtime each hop is a cross-thread wake-up (perf: 35 % of the time in
// context switches, 3.4× slower end to end). fsyncs still run on tokio's blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Logs go to stderr; stdout carries only what scripts read (the address, initiate's report).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let result = match args.command {
        Some(Subcommand::Initiate(initiate)) => initiate::run(initiate).await,
        None => run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fixgate: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let (text, name) = match &args.config {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            path.display().to_string(),
        ),
        None => (
            DEFAULT_PROPERTIES.to_owned(),
            "fixgate.properties (built in)".to_owned(),
        ),
    };
    let properties = Properties::parse(&text, &name).map_err(|e| e.to_string())?;
    let config = properties.engine_config().map_err(|e| e.to_string())?;
    let sessions = properties.sessions().map_err(|e| e.to_string())?;
    let host = properties.get("ListenAddress").unwrap_or("127.0.0.1");
    let port = match args.port {
        Some(port) => port,
        None => properties
            .get("ListenPort")
            .unwrap_or("9876")
            .parse()
            .map_err(|_| format!("{name}: ListenPort: not a port"))?,
    };
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|e| format!("{name}: ListenAddress: {e}"))?;
    let storage = args
        .store
        .as_deref()
        .or(properties.get("StorageType"))
        .unwrap_or("file")
        .to_owned();
    let directory = PathBuf::from(
        properties
            .get("StorageDirectory")
            .unwrap_or("./fixgate-data"),
    );
    if storage != "memory" && storage != "file" {
        return Err(format!(
            "{name}: StorageType: expected memory or file, not {storage}"
        ));
    }

    let (engine, mut events) = FixEngine::start(config, Some(addr))
        .await
        .map_err(|e| format!("listening on {addr}: {e}"))?;
    let factory_storage = storage.clone();
    let factory_dir = directory.clone();
    engine
        .with_engine(move |engine| {
            engine.set_store_factory(Box::new(move |id, now| {
                open_store(&factory_storage, &factory_dir, id, now).map_err(|error| {
                    tracing::error!(%error, %id, "cannot open the store: the Logon is refused");
                    fixgate_core::StoreError::Io(std::io::ErrorKind::Other)
                })
            }));
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut handles = Vec::new();
    for (id, session_config) in sessions {
        let store = open_store(
            &storage,
            &directory,
            &id,
            UtcTimestamp::from_system_time(SystemTime::now()),
        )
        .map_err(|e| e.to_string())?;
        let session = engine
            .create_session(id, session_config, store)
            .await
            .map_err(|e| e.to_string())?;
        session.connect().await.map_err(|e| e.to_string())?;
        handles.push(session);
    }
    let bound = engine.local_addr().unwrap_or(addr);
    // One plain line on stdout, for scripts and tests that started us on port 0.
    println!("fixgate listening on {bound}");
    tracing::info!(%bound, app = ?args.app, store = %storage, "fixgate is listening");

    let mut executions = 0u64;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(AppEvent::Deliver { session, delivered }) => {
                    let result = match answer(args.app, &delivered, &mut executions) {
                        Some((msg_type, body)) => engine.reply(session, delivered, msg_type, body).await.map(drop),
                        None => engine.ack(session, delivered).await,
                    };
                    if let Err(error) = result {
                        tracing::warn!(%error, "settling a message failed");
                    }
                }
                Some(AppEvent::Event { session, event }) => tracing::info!(%session, ?event),
                Some(_) => {}
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("shutting down: logging every session out");
                engine.shutdown().await;
                break;
            }
        }
    }
    Ok(())
}

/// A store for session `id`: in memory, or a file store in its own folder.
fn open_store(
    kind: &str,
    dir: &Path,
    id: &SessionId,
    now: UtcTimestamp,
) -> Result<Box<dyn MessageStore + Send>, fixgate_store::OpenError> {
    if kind == "memory" {
        return Ok(Box::new(MemoryStore::new(now)));
    }
    let folder = dir.join(id.to_string().replace(['/', ':', '>'], "_"));
    Ok(Box::new(FileStore::open(&folder, now)?))
}
