//! The binary started with no arguments: the shipped configuration accepts any counterparty on
//! 127.0.0.1:9876 and the executor fills an order.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

mod support;
use support::{frame, http, now, read_banner, read_until};

/// Starts `fixgate` with `args` in `dir`; returns it and the address it prints on stdout.
fn start(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    start_with_env(dir, args, &[])
}

/// [`start`] with environment variables `env` set for the process.
fn start_with_env(
    dir: &std::path::Path,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let (child, addr, _) = start_all(dir, args, env);
    (child, addr)
}

/// [`start_with_env`] that also returns the admin listener's address, when it has one.
fn start_all(
    dir: &std::path::Path,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> (std::process::Child, String, Option<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .current_dir(dir)
        .args(args)
        // The shipped configuration's admin listener, on a port of its own for each test.
        .args(["--metrics-port", "0"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start fixgate");
    let (addr, admin) = read_banner(&mut child);
    (child, addr, admin)
}

/// Logs on to the acceptor at `addr` as DEMO and sends order ORD1.
fn log_on_and_order(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(&frame(&format!(
            "35=A|34=1|49=DEMO|52={}|56=FIXGATE|98=0|108=30|",
            now()
        )))
        .unwrap();
    read_until(&mut stream, "35=A|");
    let order = format!(
        "35=D|34=2|49=DEMO|52={}|56=FIXGATE|11=ORD1|55=AAPL|54=1|38=100|40=2|44=187.25|",
        now()
    );
    stream.write_all(&frame(&order)).unwrap();
    stream
}

/// The port of `addr`.
fn port(addr: &str) -> String {
    addr.rsplit(':').next().unwrap().to_owned()
}

#[test]
fn the_shipped_configuration_serves_metrics_the_sessions_and_the_status_page() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--port", "0", "--store", "memory"].map(std::ffi::OsStr::new);
    let (mut child, addr, admin) = start_all(dir.path(), &args, &[("FIXGATE_ADMIN_TOKEN", "t0k")]);
    let admin = admin.expect("MetricsAddress is set in the shipped configuration");
    let mut stream = log_on_and_order(&addr);
    read_until(&mut stream, "35=8|");

    let (status, metrics) = http(&admin, "GET /metrics", "");
    assert!(status.ends_with("200 OK"), "{status}");
    let line =
        "fixgate_session_messages_total{session=\"FIXGATE->DEMO\",direction=\"in\",kind=\"app\"} 1";
    assert!(metrics.lines().any(|l| l == line), "{metrics}");
    let (status, sessions) = http(&admin, "GET /api/sessions", "");
    assert!(status.ends_with("200 OK"), "{status}");
    assert!(sessions.contains("\"id\":\"FIXGATE->DEMO\""), "{sessions}");
    let (_, page) = http(&admin, "GET /", "");
    assert!(page.contains("<title>fixgate sessions</title>"), "{page}");
    // The shipped configuration names no AdminToken: every command is refused.
    let (status, _) = http(
        &admin,
        "POST /api/sessions/FIXGATE-%3EDEMO/disconnect",
        "Authorization: Bearer t0k\r\n",
    );
    assert!(status.contains(" 401 "), "{status}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn an_admin_token_file_is_read_from_the_configuration_s_folder() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    std::fs::write(conf.join("admin-token"), "s3cret\n").unwrap();
    let properties = "ListenPort = 0\nCreateUnregisteredAcceptorSession = Y\nStorageType = memory\n\
                      MetricsAddress = 127.0.0.1:0\nAdminToken = file:admin-token\n";
    let path = conf.join("engine.properties");
    std::fs::write(&path, properties).unwrap();
    let args = [std::ffi::OsStr::new("--config"), path.as_os_str()];
    let (mut child, addr, admin) = start_all(dir.path(), &args, &[]);
    let admin = admin.expect("MetricsAddress is set");
    let _stream = log_on_and_order(&addr);
    let command = "POST /api/sessions/FIXGATE-%3EDEMO/disconnect";
    let (status, body) = http(&admin, command, "Authorization: Bearer s3cret\r\n");
    assert!(status.ends_with("200 OK"), "{status} {body}");
    let (status, _) = http(&admin, command, "Authorization: Bearer admin-token\r\n");
    assert!(status.contains(" 401 "), "{status}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn default_configuration_fills_an_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start(dir.path(), &[]);
    assert_eq!(addr, "127.0.0.1:9876");

    let mut stream = log_on_and_order(&addr);
    let report = read_until(&mut stream, "35=8|");
    assert!(
        report.contains("|11=ORD1|") && report.contains("|39=2|"),
        "{report}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        dir.path().join("fixgate-data").is_dir(),
        "the file store is under ./fixgate-data"
    );
}

/// Runs `fixgate initiate` as `sender` with `options` against a fresh acceptor (memory store),
/// checks that it succeeded, and returns its report.
fn initiate(sender: &str, options: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--port", "0", "--store", "memory"].map(std::ffi::OsStr::new);
    let (mut acceptor, addr) = start(dir.path(), &args);
    let port = port(&addr);
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .args(["initiate", "--port", &port, "--sender", sender])
        .args(["--target", "FIXGATE", "--json", "--timeout", "60"])
        .args(options)
        .output()
        .expect("run fixgate initiate");
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{report} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

#[test]
fn initiate_goes_on_to_a_backup_when_the_first_acceptor_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--port", "0", "--store", "memory"].map(std::ffi::OsStr::new);
    let (mut acceptor, addr) = start(dir.path(), &args);
    // A port nobody listens on any more.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_port = down.local_addr().unwrap().port().to_string();
    drop(down);
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .args(["initiate", "--port", &down_port, "--backup", &addr])
        .args(["--sender", "BACKUP", "--target", "FIXGATE", "--count", "50"])
        .args(["--json", "--timeout", "60"])
        .output()
        .expect("run fixgate initiate");
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.starts_with("{\"sent\":50,\"received\":50,"),
        "{report} {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn initiate_sends_orders_to_an_acceptor_and_reports() {
    let report = initiate("LOAD", &["--count", "300", "--window", "50"]);
    assert!(
        report.starts_with("{\"sent\":300,\"received\":300,"),
        "{report}"
    );
    for key in [
        "seconds",
        "msgs_per_s",
        "p50_us",
        "p99_us",
        "p999_us",
        "max_us",
    ] {
        assert!(
            report.contains(&format!("\"{key}\":")),
            "{key} missing: {report}"
        );
    }
}

#[test]
fn initiate_paces_orders_at_the_offered_rate() {
    // 200 orders at 1,000 per second: order i is due at i ms, so the last goes out at 199 ms.
    // Sleeping between reads, and with a reader that polls for 2 ms after the last bytes.
    for spin in ["0", "2000"] {
        let options = ["--count", "200", "--rate", "1000"];
        let report = initiate(
            "PACED",
            &[&options[..], &["--receive-spinning-timeout", spin]].concat(),
        );
        assert!(
            report.starts_with("{\"sent\":200,\"received\":200,"),
            "{report}"
        );
        let seconds = number(&report, "seconds");
        // Paced, not as fast as possible: no earlier than the schedule (a generous upper bound).
        assert!((0.199..30.0).contains(&seconds), "{seconds} s: {report}");
        // How late each put completed after its due time (signed): never before it, and the
        // percentiles in order.
        let lag = |p| number(&report, &format!("send_lag_{p}_us"));
        assert!(lag("min") >= 0.0, "a put before its due time: {report}");
        assert!(
            lag("min") <= lag("p50") && lag("p50") <= lag("p99"),
            "{report}"
        );
        stall_share_agrees_with_the_latencies(&report, 200);
    }
}

/// The share of reports a millisecond late or more (`over_1ms_permille`) must agree with the
/// latency percentiles of the same `count` reports: none iff the slowest was under 1 ms, and at
/// most the share above the median or the 99th percentile when that one was under 1 ms.
fn stall_share_agrees_with_the_latencies(report: &str, count: usize) {
    let stalled = number(report, "over_1ms_permille");
    let under_1ms = |key| number(report, key) < 1000.0;
    // A percentile p is the sample at rank round((count - 1) p): that one and those below it
    // were under 1 ms, so at most the count above that rank were stalled.
    // (0.05: the report rounds to a tenth.)
    let at_most = |p: f64| {
        let rank = ((count as f64 - 1.0) * p).round();
        1000.0 * (count as f64 - rank - 1.0) / count as f64 + 0.05
    };
    assert_eq!(stalled > 0.0, !under_1ms("max_us"), "{report}");
    if under_1ms("p50_us") {
        assert!(stalled <= at_most(0.5), "{report}");
    } else {
        // The median and those above it were stalled.
        assert!(
            stalled >= at_most(0.5) - 0.1 + 1000.0 / count as f64,
            "{report}"
        );
    }
    if under_1ms("p99_us") {
        assert!(stalled <= at_most(0.99), "{report}");
    }
}

/// The number under `key` in a one-line JSON `report`.
fn number(report: &str, key: &str) -> f64 {
    report
        .split(&format!("\"{key}\":"))
        .nth(1)
        .and_then(|rest| rest.split([',', '}']).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{key} missing from {report}"))
}

/// Writes `text` to `name` in `dir`, for `--config`.
fn config_file(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn configuration_error_names_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(
        dir.path(),
        "bad.properties",
        "# a comment\nListenAddress = 127.0.0.1\nListenPort = ninety\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3: ListenPort", path.display())),
        "{stderr}"
    );
}

#[test]
fn executor_reports_new_then_fill_logs_messages_and_logs_out_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(
        dir.path(),
        "log.properties",
        "ListenPort = 0\nCreateUnregisteredAcceptorSession = Y\nStorageType = memory\n\
         StorageDirectory = ./data\nMessageLog = Y\n",
    );
    let args = [
        "--config".as_ref(),
        path.as_os_str(),
        "--report-new".as_ref(),
    ];
    let (mut child, addr) = start(dir.path(), &args);
    let mut stream = log_on_and_order(&addr);
    let reports = read_until(&mut stream, "|150=F|");
    let new = reports.find("|150=0|39=0|").expect("a New report");
    let fill = reports.find("|150=F|39=2|").expect("a fill");
    assert!(new < fill, "{reports}");
    // The fill echoes the order's ClOrdID, Symbol, Side, OrderQty and Price.
    let fill_report = &reports[reports[..fill].rfind("8=FIX").unwrap()..];
    for echoed in [
        "|11=ORD1|",
        "|55=AAPL|",
        "|54=1|",
        "|38=100|",
        "|32=100|",
        "|31=187.25|",
    ] {
        assert!(
            fill_report.contains(echoed),
            "{echoed} missing from {fill_report}"
        );
    }

    // Ctrl-C: a Logout, and after our reply a clean exit.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let logout = read_until(&mut stream, "35=5|");
    assert!(logout.contains("|58=Shutdown|"), "{logout}");
    stream
        .write_all(&frame(&format!(
            "35=5|34=3|49=DEMO|52={}|56=FIXGATE|",
            now()
        )))
        .unwrap();
    assert!(child.wait().unwrap().success());

    let log = std::fs::read_to_string(dir.path().join("data/FIXGATE-_DEMO/messages.txt"))
        .expect("the message log");
    for needle in [
        " IN  8=FIX.4.4|",
        "|35=D|",
        " OUT 8=FIX.4.4|",
        "|150=F|",
        "|35=5|",
    ] {
        assert!(log.contains(needle), "{needle} missing from {log}");
    }
}

#[test]
fn tls_listening_port_serves_initiate_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), certified.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        certified.signing_key.serialize_pem(),
    )
    .unwrap();
    let path = config_file(
        dir.path(),
        "tls.properties",
        "ListenPort = 0\nCreateUnregisteredAcceptorSession = Y\nStorageType = memory\n\
         TlsCertificate = cert.pem\nTlsPrivateKey = key.pem\n",
    );
    let (mut acceptor, addr) = start(dir.path(), &["--config".as_ref(), path.as_os_str()]);
    let port = port(&addr);
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .current_dir(dir.path())
        .args(["initiate", "--port", &port, "--count", "20", "--json"])
        .args(["--tls-ca", "cert.pem", "--timeout", "30"])
        .output()
        .expect("run fixgate initiate");
    // Without TLS the same port gives nothing: the Logon never gets an answer.
    let plain = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .args([
            "initiate",
            "--port",
            &port,
            "--count",
            "1",
            "--timeout",
            "2",
        ])
        .output()
        .expect("run fixgate initiate");
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        report.starts_with("{\"sent\":20,\"received\":20,"),
        "{report} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !plain.status.success(),
        "a plain client logged on to the TLS port"
    );
}

#[test]
fn tls_certificate_without_its_key_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(dir.path(), "half.properties", "TlsCertificate = cert.pem\n");
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("half.properties: TlsCertificate and TlsPrivateKey go together"),
        "{stderr}"
    );
}

/// Credentials in the configuration (issue 20 item 8): the acceptor admits only a Logon that
/// carries them, and the password can stay out of the file (`env:NAME`, `file:PATH`).
#[test]
fn configured_credentials_are_required_and_the_password_may_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ops-password"), "from-a-file\n").unwrap();
    let path = config_file(
        dir.path(),
        "engine.properties",
        "ListenPort = 0\n\
         Session.Demo.SenderCompID = FIXGATE\n\
         Session.Demo.TargetCompID = DEMO\n\
         Session.Demo.Username = demo\n\
         Session.Demo.Password = env:FIXGATE_TEST_DEMO_PASSWORD\n\
         Session.Ops.SenderCompID = FIXGATE\n\
         Session.Ops.TargetCompID = OPS\n\
         Session.Ops.Username = ops\n\
         Session.Ops.Password = file:ops-password\n",
    );
    let (mut child, addr) = start_with_env(
        dir.path(),
        &["--config".as_ref(), path.as_os_str()],
        &[("FIXGATE_TEST_DEMO_PASSWORD", "from-the-env")],
    );
    let logon = |sender: &str, credentials: &str| {
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let logon = format!(
            "35=A|34=1|49={sender}|52={}|56=FIXGATE|98=0|108=30|{credentials}",
            now()
        );
        stream.write_all(&frame(&logon)).unwrap();
        stream
    };
    for (sender, credentials) in [
        ("DEMO", ""),
        ("DEMO", "553=demo|554=guess|"),
        ("DEMO", "553=demo|554=env:FIXGATE_TEST_DEMO_PASSWORD|"),
        ("OPS", "553=ops|554=file:ops-password|"),
    ] {
        // Refused in silence: the connection closes with nothing written.
        let mut stream = logon(sender, credentials);
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        assert!(answer.is_empty(), "{sender} {credentials}: {answer:?}");
    }
    read_until(&mut logon("DEMO", "553=demo|554=from-the-env|"), "35=A|");
    read_until(&mut logon("OPS", "553=ops|554=from-a-file|"), "35=A|");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `TimeZone` takes IANA names (the driver looks them up); an unknown one stops startup with
/// the file's name, the key and the value.
#[test]
fn schedules_take_iana_time_zones_and_an_unknown_one_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let properties = |zone: &str| {
        format!(
            "ListenPort = 0\n\
             Session.Default.StartTime = 00:00:00\n\
             Session.Default.EndTime = 00:00:00\n\
             Session.Default.TimeZone = {zone}\n\
             Session.Demo.SenderCompID = FIXGATE\n\
             Session.Demo.TargetCompID = DEMO\n"
        )
    };
    let good = config_file(
        dir.path(),
        "new-york.properties",
        &properties("America/New_York"),
    );
    let (mut child, _addr) = start(dir.path(), &["--config".as_ref(), good.as_os_str()]);
    child.kill().unwrap();
    child.wait().unwrap();
    let bad = config_file(
        dir.path(),
        "typo.properties",
        &properties("America/New_Yrok"),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: TimeZone cannot be \"America/New_Yrok\"",
            bad.display()
        )),
        "{stderr}"
    );
}

/// Runs `fixgate initiate` with `args` in `dir`, where the acceptor cannot be got into; returns
/// its exit code and stderr.
fn initiate_in_vain(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .current_dir(dir)
        .args(["initiate", "--count", "1", "--timeout", "60"])
        .args(args)
        .output()
        .expect("run fixgate initiate");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

/// The lines of `stderr` that report a failed attempt, after checking that `fixgate initiate`
/// exited with 1, that there are `attempts` such lines, and that the last line gives up.
fn failed_attempts(code: Option<i32>, stderr: &str, attempts: usize) -> Vec<&str> {
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<_> = stderr
        .lines()
        .filter(|line| line.contains(" WARN ") && line.contains("cannot log on"))
        .collect();
    assert_eq!(lines.len(), attempts, "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "fixgate: gave up after {attempts} failed attempts to log on to 127.0.0.1:"
        )),
        "{stderr}"
    );
    lines
}

#[test]
fn initiate_gives_up_when_nothing_listens_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was just free: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (code, stderr) = initiate_in_vain(dir.path(), &["--port", &port]);
    for line in failed_attempts(code, &stderr, 3) {
        assert!(
            line.contains(&format!(
                "INI->ACC: cannot log on to 127.0.0.1:{port}: cannot connect: connection refused; \
                 nothing listens there"
            )),
            "{line}"
        );
    }
}

#[test]
fn initiate_gives_up_when_the_acceptor_closes_without_answering_and_names_the_comp_ids() {
    let dir = tempfile::tempdir().unwrap();
    // No session is configured, and no other is admitted: every Logon is refused in silence.
    let path = config_file(
        dir.path(),
        "closed.properties",
        "ListenPort = 0\nStorageType = memory\nCreateUnregisteredAcceptorSession = N\n",
    );
    let (mut acceptor, addr) = start(dir.path(), &["--config".as_ref(), path.as_os_str()]);
    let (code, stderr) = initiate_in_vain(
        dir.path(),
        &["--port", &port(&addr), "--sender", "ME", "--attempts", "2"],
    );
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    for line in failed_attempts(code, &stderr, 2) {
        assert!(
            line.contains("ME->ACC: cannot log on: the acceptor closed the connection without answering our Logon")
                && line.contains("SenderCompID ME, TargetCompID ACC"),
            "{line}"
        );
    }
}

/// A CA certificate on the acceptor (what a plain `openssl req -x509` makes): the initiator
/// gives up and says how to make a leaf certificate; the README shows the same command, and
/// (where openssl is installed) the certificate it makes serves.
#[test]
fn initiate_gives_up_on_a_ca_certificate_and_the_leaf_it_suggests_serves() {
    let dir = tempfile::tempdir().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.path().join("ca.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("ca-key.pem"), key.serialize_pem()).unwrap();
    let tls = |cert: &str, key: &str| {
        let text = format!(
            "ListenPort = 0\nCreateUnregisteredAcceptorSession = Y\nStorageType = memory\n\
             TlsCertificate = {cert}\nTlsPrivateKey = {key}\n"
        );
        let path = config_file(dir.path(), "tls.properties", &text);
        start(dir.path(), &["--config".as_ref(), path.as_os_str()])
    };
    let (mut acceptor, addr) = tls("ca.pem", "ca-key.pem");
    let args = ["--port", &port(&addr), "--tls-ca", "ca.pem"];
    let (code, stderr) = initiate_in_vain(dir.path(), &args);
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    let lines = failed_attempts(code, &stderr, 3);
    assert!(lines[0].contains("CaUsedAsEndEntity"), "{stderr}");
    let command = lines[0]
        .split("make a leaf certificate: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no command in {stderr}"));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(
        readme.contains(command),
        "the README does not show {command}"
    );

    if Command::new("openssl").arg("version").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI needs openssl"
        );
        eprintln!("no openssl: the suggested command is not tried");
        return;
    }
    let made = Command::new("sh")
        .current_dir(dir.path())
        .args(["-c", command])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let (mut acceptor, addr) = tls("cert.pem", "key.pem");
    let output = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .current_dir(dir.path())
        .args(["initiate", "--port", &port(&addr), "--count", "1", "--json"])
        .args(["--tls-ca", "cert.pem", "--timeout", "30"])
        .output()
        .expect("run fixgate initiate");
    acceptor.kill().unwrap();
    acceptor.wait().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
