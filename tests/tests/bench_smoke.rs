//! Smoke runs of the benchmark programs (a tiny N), so that they do not rot: the full runs are
//! `scripts/bench-session.sh` and `scripts/bench-sessions.sh`, outside CI.

use std::process::Command;

use fixgate_core::EngineConfig;
use fixgate_tokio::FixEngine;

/// The value of `key` in a one-line JSON report.
fn field(report: &str, key: &str) -> f64 {
    let at = report
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("{key} missing from {report}"));
    report[at + key.len() + 3..]
        .split([',', '}'])
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} unreadable in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_log_on_and_keep_their_heartbeats() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    let (engine, mut events) = FixEngine::start(config, Some("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    // Nothing to answer: the sessions only log on and exchange Heartbeats.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let port = engine.local_addr().unwrap().port().to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_many-sessions"))
            .args([
                "--port",
                &port,
                "--sessions",
                "50",
                "--heartbeat",
                "1",
                "--hold",
                "3",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert_eq!(field(&report, "logged_on"), 50.0, "{report}");
    assert_eq!(
        field(&report, "sessions_with_missed_deadline"),
        0.0,
        "{report}"
    );
    engine.shutdown().await;
}

#[test]
fn raw_pair_moves_every_message() {
    let report = raw_pair(&[], &["--count", "5000", "--window", "100"]);
    assert_eq!(field(&report, "received"), 5000.0, "{report}");
}

#[test]
fn raw_pair_spinning_and_paced_moves_every_message() {
    let report = raw_pair(&["--spin"], &["--count", "300", "--rate", "1000", "--spin"]);
    assert_eq!(field(&report, "received"), 300.0, "{report}");
    assert!(field(&report, "p50_us") > 0.0, "{report}");
    let stalled = field(&report, "over_1ms_permille");
    assert!((0.0..=1000.0).contains(&stalled), "{report}");
}

/// Runs a raw-pair server with `server_args` and a client with `client_args` against it; returns
/// the client's report.
fn raw_pair(server_args: &[&str], client_args: &[&str]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    drop(listener);
    let mut server = Command::new(env!("CARGO_BIN_EXE_raw-pair"))
        .args(["server", "--port", &port])
        .args(server_args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The server prints its address once it listens.
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_raw-pair"))
        .args(["client", "--port", &port])
        .args(client_args)
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn resend_bench_resends_every_stored_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_resend-bench"))
        .args(["--messages", "2000"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    // Every stored order, and one GapFill over the Logon.
    assert_eq!(field(&report, "resent"), 2001.0, "{report}");
}
