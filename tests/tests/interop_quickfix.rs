//! Interop with QuickFIX/C++ 1.15.1 (`../shared/peers/quickfix`, built by `./test.sh` into the
//! path in `FIXGATE_QF_PEER`): QuickFIX's initiator against our acceptor, and our initiator
//! against QuickFIX's acceptor, for FIX 4.2 and 4.4, over loopback with real time. Without the
//! peer a developer's run skips with a message; under `CI=true` that is a failure.

use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use fixgate_core::codec::FieldWriter;
use fixgate_core::{
    BeginString, EngineConfig, MemoryStore, Role, SessionConfig, SessionId, UtcTimestamp,
};
use fixgate_tokio::{AppEvent, FixEngine};

/// The qf-peer binary, or `None` (after saying why) when a developer's run may skip.
fn qf_peer() -> Option<String> {
    match std::env::var("FIXGATE_QF_PEER") {
        Ok(path) if std::path::Path::new(&path).exists() => Some(path),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "FIXGATE_QF_PEER is not set or missing under CI=true: run ./test.sh, which builds it"
            )
        }
        _ => {
            eprintln!("skipping: FIXGATE_QF_PEER is not set (./test.sh builds QuickFIX's qf-peer)");
            None
        }
    }
}

fn store() -> Box<MemoryStore> {
    Box::new(MemoryStore::new(UtcTimestamp::from_system_time(
        std::time::SystemTime::now(),
    )))
}

/// An ExecutionReport answering an order: ClOrdID, Symbol, Side and OrderQty echoed.
fn execution_report(order: &fixgate_core::codec::Message, n: u64, begin: BeginString) -> Bytes {
    let field = |t| order.get(t).unwrap_or(b"0");
    let mut body = FieldWriter::new();
    body.bytes(37, format!("O{n}").as_bytes())
        .bytes(11, field(11))
        .bytes(17, format!("E{n}").as_bytes());
    if begin <= BeginString::Fix42 {
        body.char(20, b'0');
    }
    body.char(150, b'0')
        .char(39, b'0')
        .bytes(55, field(55))
        .bytes(54, field(54))
        .bytes(38, field(38))
        .bytes(151, field(38))
        .uint(14, 0)
        .uint(6, 0);
    body.split()
}

async fn quickfix_initiator_against_our_acceptor(begin: BeginString) {
    let Some(peer) = qf_peer() else { return };
    let (engine, mut events) = FixEngine::start(
        EngineConfig::default(),
        Some("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let mut config = SessionConfig::new(begin, "", "", Role::Acceptor);
    config.check_latency = false;
    let session = engine
        .create_session(SessionId::new("ACC", "INI"), config, store())
        .await
        .unwrap();
    session.connect().await.unwrap();
    let port = engine.local_addr().unwrap().port();
    let app = engine.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Some(event) = events.recv().await {
            if let AppEvent::Deliver { session, delivered } = event {
                n += 1;
                let report = execution_report(delivered.message(), n, begin);
                app.reply(session, delivered, b"8".to_vec(), report)
                    .await
                    .unwrap();
            }
        }
    });
    let output = tokio::task::spawn_blocking(move || {
        Command::new(peer)
            .args([
                "initiator",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args([
                "--sender",
                "INI",
                "--target",
                "ACC",
                "--begin",
                begin.as_str(),
            ])
            .args(["--count", "2000", "--window", "100", "--timeout", "60"])
            .stderr(Stdio::inherit())
            .output()
            .expect("run qf-peer")
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "qf-peer failed: {report}");
    assert!(
        report.contains("\"sent\":2000,\"received\":2000"),
        "{report}"
    );
    assert!(report.contains("\"rejects\":0"), "{report}");
    engine.shutdown().await;
}

async fn our_initiator_against_quickfix_acceptor(begin: BeginString) {
    let Some(peer) = qf_peer() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut acceptor = Command::new(peer)
        .args([
            "acceptor",
            "--port",
            &port.to_string(),
            "--sender",
            "ACC",
            "--target",
            "INI",
        ])
        .args(["--begin", begin.as_str(), "--quiet"])
        .spawn()
        .expect("run qf-peer");
    // QuickFIX binds on its own time: our initiator simply retries until it connects.
    let config = EngineConfig {
        reconnect_interval: Duration::from_millis(100),
        ..EngineConfig::default()
    };
    let (engine, mut events) = FixEngine::start(config, None).await.unwrap();
    let session = engine
        .create_session(
            SessionId::new("INI", "ACC"),
            SessionConfig::new(begin, "", "", Role::Initiator),
            store(),
        )
        .await
        .unwrap();
    session
        .connect_to(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    const COUNT: usize = 2000;
    for i in 0..COUNT {
        let body = format!(
            "11={i}\x0121=1\x0155=AAPL\x0154=1\x0160=20261126-12:00:00\x0138=100\x0140=1\x01"
        );
        session.put(b"D".to_vec(), Bytes::from(body)).await.unwrap();
    }
    let mut reports = Vec::new();
    let result = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = events.recv().await {
            if let AppEvent::Deliver { session, delivered } = event {
                if delivered.message().msg_type() == b"8" {
                    reports.push(delivered.message().str(11).unwrap().to_owned());
                }
                engine.ack(session, delivered).await.unwrap();
                if reports.len() == COUNT {
                    return;
                }
            }
        }
    })
    .await;
    acceptor.kill().ok();
    acceptor.wait().ok();
    assert!(result.is_ok(), "only {} reports in time", reports.len());
    assert_eq!(
        reports,
        (0..COUNT).map(|i| i.to_string()).collect::<Vec<_>>()
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickfix_initiator_logs_on_to_our_acceptor_fix44() {
    quickfix_initiator_against_our_acceptor(BeginString::Fix44).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickfix_initiator_logs_on_to_our_acceptor_fix42() {
    quickfix_initiator_against_our_acceptor(BeginString::Fix42).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_initiator_logs_on_to_quickfix_acceptor_fix44() {
    our_initiator_against_quickfix_acceptor(BeginString::Fix44).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_initiator_logs_on_to_quickfix_acceptor_fix42() {
    our_initiator_against_quickfix_acceptor(BeginString::Fix42).await;
}
