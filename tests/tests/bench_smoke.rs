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
    // The share of reports a millisecond late or more agrees with the latencies: none iff the
    // slowest was under 1 ms. The median is the report at rank round(299 / 2) = 150: when it
    // was under 1 ms, at most the 149 above it were late; otherwise it and those 149 were.
    let stalled = field(&report, "over_1ms_permille");
    let under_1ms = |key| field(&report, key) < 1000.0;
    assert_eq!(stalled > 0.0, !under_1ms("max_us"), "{report}");
    if under_1ms("p50_us") {
        assert!(stalled <= 1000.0 * 149.0 / 300.0 + 0.05, "{report}");
    } else {
        assert!(stalled >= 1000.0 * 150.0 / 300.0 - 0.05, "{report}");
    }
}

/// Runs a raw-pair server with `server_args` and a client with `client_args` against it; returns
/// the client's report.
fn raw_pair(server_args: &[&str], client_args: &[&str]) -> String {
    let mut server = Command::new(env!("CARGO_BIN_EXE_raw-pair"))
        .args(["server", "--port", "0"])
        .args(server_args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The server prints the address it listens on, port 0 made a free one.
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .filter(|port| *port != "0")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
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
