//! `fixgate`: a FIX acceptor on one port, with an executor, echo or log application behind it.
//!
//! Without arguments it runs the shipped default configuration (`fixgate.properties`): port 9876
//! on 127.0.0.1, any counterparty may log on, file stores under `./fixgate-data`.

mod initiate;
mod tls;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use clap::Parser;
use fixgate_admin::{Admin, AdminConfig};
use fixgate_core::properties::Properties;
use fixgate_core::{MessageReport, Secret, UtcTimestamp};
use fixgate_dictionary::Dictionaries;
use fixgate_tokio::FixEngine;

use fixgate::apps::{App, Responder};
use fixgate::failover::{self, Failover};
use fixgate::message_logs::MessageLogs;
use fixgate::stores::Stores;
use fixgate_postgres::{Postgres, PostgresSettings};

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
    #[arg(long, value_parser = ["memory", "file", "postgres"])]
    store: Option<String>,
    /// With the PostgreSQL store: this instance's name (overrides InstanceName), so that two
    /// instances can share one configuration file.
    #[arg(long)]
    instance: Option<String>,
    /// The port of the metrics, admin API and status page: overrides MetricsAddress's port, or
    /// serves them on 127.0.0.1 when MetricsAddress is not set.
    #[arg(long)]
    metrics_port: Option<u16>,
    /// With the executor: report New (150=0) before each fill.
    #[arg(long)]
    report_new: bool,
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
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
    let setting = |e: fixgate_core::properties::PropertiesError| e.to_string();
    for notice in properties.notices() {
        tracing::warn!("{notice}");
    }
    let mut config = properties.engine_config().map_err(setting)?;
    let mut sessions = properties.sessions().map_err(setting)?;
    // Data dictionaries: relative paths start from the properties file's folder.
    let base = match &args.config {
        Some(path) => path.parent().unwrap_or(Path::new(".")).to_owned(),
        None => PathBuf::from("."),
    };
    let mut dictionaries = Dictionaries::new(base.clone());
    let loaded = |e: fixgate_dictionary::LoadError| format!("{name}: {e}");
    dictionaries
        .attach(&mut config.default_session)
        .map_err(loaded)?;
    // So do the files that keep secrets (`Password = file:PATH`). Zones are looked up now, so
    // that an unknown one is reported with the file's name.
    for session in std::iter::once(&mut config.default_session)
        .chain(sessions.iter_mut().map(|(_, session)| session))
    {
        if let Some(Secret::File(path)) = &mut session.password {
            *path = base.join(&*path).display().to_string();
        }
        fixgate_tokio::resolve_time_zone(session).map_err(|e| format!("{name}: {e}"))?;
    }
    let mut session_dictionaries = HashMap::new();
    for (id, session) in &mut sessions {
        dictionaries.attach(session).map_err(loaded)?;
        if let Some(dictionary) = &session.dictionary {
            session_dictionaries.insert(id.clone(), Arc::clone(dictionary));
        }
    }
    // The file's ListenAddress and ListenPort; without a port, 9876 (or --port).
    let mut addr = match properties.listen_address().map_err(setting)? {
        Some(addr) => addr,
        None => {
            let host = properties.value("ListenAddress").map_err(setting)?;
            SocketAddr::new(host.unwrap_or(IpAddr::from([127, 0, 0, 1])), 9876)
        }
    };
    if let Some(port) = args.port {
        addr.set_port(port);
    }
    let storage = match args.store.as_deref() {
        Some(kind) => kind.to_owned(),
        None => properties.get("StorageType").unwrap_or("file").to_owned(),
    };
    let directory = PathBuf::from(
        properties
            .get("StorageDirectory")
            .unwrap_or("./fixgate-data"),
    );
    let stores = match storage.as_str() {
        "memory" => Stores::Memory,
        "file" => Stores::Files(directory.clone()),
        "postgres" => {
            let mut settings = PostgresSettings::from_properties(&properties)
                .map_err(|e| format!("{name}: {e}"))?;
            if let Some(instance) = &args.instance {
                settings.instance = instance.clone();
            }
            // Connecting (and migrating the schema) blocks: off the runtime's thread.
            let postgres = tokio::task::spawn_blocking(move || Postgres::connect(settings))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("PostgreSQL: {e}"))?;
            Stores::Postgres(postgres)
        }
        other => {
            return Err(format!(
                "{name}: StorageType: {other:?} is not memory, file or postgres"
            ));
        }
    };
    // The log app records every message; the others do on request.
    let message_log = args.app == App::Log
        || properties
            .flag("MessageLog")
            .map_err(setting)?
            .unwrap_or(false);
    if message_log {
        config.default_session.report_messages = MessageReport::All;
        for (_, session) in &mut sessions {
            session.report_messages = MessageReport::All;
        }
    }
    let (logs, log_writer) = match message_log {
        true => {
            let (logs, writer) = MessageLogs::spawn(directory.clone());
            (Some(logs), Some(writer))
        }
        false => (None, None),
    };

    let tls = tls::server_config(&properties, &name)?;
    let secure = tls.is_some();
    let responder = Responder::new(args.app, args.report_new, logs).with_dictionaries(
        session_dictionaries,
        config.default_session.dictionary.clone(),
    );
    let engine = FixEngine::start_with_app(config, Some(addr), tls.unwrap_or_default(), responder)
        .await
        .map_err(|e| format!("listening on {addr}: {e}"))?;
    let factory = stores.clone();
    engine
        .with_engine(move |engine| {
            engine.set_store_factory(Box::new(move |id, now| factory.create(id, now)));
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut handles = Vec::new();
    let mut failover_task = None;
    match &stores {
        // Shared with other instances: each session runs while this instance owns it.
        Stores::Postgres(postgres) => {
            let mut failover = Failover::new((*engine).clone(), postgres.clone(), sessions);
            failover.turn().await;
            failover_task = Some(tokio::spawn(failover.run()));
        }
        _ => {
            for (id, session_config) in sessions {
                let (opening, at) = (stores.clone(), id.clone());
                let now = UtcTimestamp::from_system_time(SystemTime::now());
                let store = tokio::task::spawn_blocking(move || opening.open(&at, now))
                    .await
                    .map_err(|e| e.to_string())??;
                let session = engine
                    .create_session(id, session_config.clone(), store)
                    .await
                    .map_err(|e| e.to_string())?;
                failover::start(&session, &session_config).await?;
                handles.push(session);
            }
        }
    }
    // MetricsAddress turns the admin listener on; `--metrics-port` moves its port, or turns it on
    // on loopback.
    let mut admin =
        AdminConfig::from_properties(&properties).map_err(|e| format!("{name}: {e}"))?;
    if let Some(port) = args.metrics_port {
        let config = admin.get_or_insert_with(|| AdminConfig {
            address: SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port),
            token: None,
        });
        config.address.set_port(port);
    }
    let admin = match admin {
        Some(mut config) => {
            // A token file's relative path starts from the properties file's folder.
            if let Some(Secret::File(path)) = &mut config.token {
                *path = base.join(&*path).display().to_string();
            }
            let serving = Admin::serve((*engine).clone(), config).await;
            Some(serving.map_err(|e| format!("{name}: {e}"))?)
        }
        None => None,
    };
    let bound = engine.local_addr().unwrap_or(addr);
    // Plain lines on stdout, for scripts and tests that started us on port 0; "listening" last.
    if let Some(admin) = &admin {
        println!("fixgate admin on http://{}/", admin.local_addr());
        tracing::info!(address = %admin.local_addr(), "metrics, the sessions and the status page");
    }
    println!("fixgate listening on {bound}");
    tracing::info!(%bound, app = ?args.app, store = stores.kind(), tls = secure, "fixgate is listening");

    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("waiting for Ctrl-C: {e}"))?;
    tracing::info!("shutting down: logging every session out");
    // No more claims: the sessions this instance holds are logged out and given up.
    if let Some(task) = failover_task {
        task.abort();
    }
    engine.shutdown().await;
    if let Some(writer) = log_writer {
        // The application (and its recorder) ended with the engine: the writer drains and ends.
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    }
    Ok(())
}
