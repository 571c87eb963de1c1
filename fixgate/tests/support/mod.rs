//! What the tests that run the `fixgate` binary as a process share.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

/// A small deterministic generator for the kill moments.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Starts the binary and waits until it listens; returns it and its port.
pub(crate) fn spawn_acceptor(config: &Path) -> (Child, u16) {
    let spawned = spawn(config);
    (spawned.child, spawned.port)
}

/// A running `fixgate`: its process, its port, and its admin listener's address if it has one.
pub(crate) struct Spawned {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) admin: Option<String>,
}

/// Starts the binary with the executor on `config` and waits until it listens. Its log goes
/// beside the configuration (`<config>.log`, appended to across restarts), for a failing test
/// to be read.
pub(crate) fn spawn(config: &Path) -> Spawned {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(config.with_extension("log"))
        .expect("the process's log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .args(["--config".as_ref(), config.as_os_str()])
        .args(["--app", "executor"])
        .env("RUST_LOG", "info,fixgate_postgres=debug")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("the fixgate binary starts");
    let (addr, admin) = read_banner(&mut child);
    let port = addr
        .parse::<std::net::SocketAddr>()
        .unwrap_or_else(|_| panic!("{addr:?}"))
        .port();
    Spawned { child, port, admin }
}

/// Reads the lines a starting `fixgate` prints on stdout: the address it listens on, and its
/// admin listener's, when it has one.
pub(crate) fn read_banner(child: &mut Child) -> (String, Option<String>) {
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut admin = None;
    loop {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if let Some(addr) = line.trim().strip_prefix("fixgate admin on http://") {
            admin = Some(addr.trim_end_matches('/').to_owned());
            continue;
        }
        let addr = line
            .trim()
            .strip_prefix("fixgate listening on ")
            .unwrap_or_else(|| panic!("{line:?}"));
        return (addr.to_owned(), admin);
    }
}

/// One HTTP/1.1 request to `addr` (`request_line` as `GET /metrics`, with `headers`, each ending
/// in CRLF); the status line and the body.
pub(crate) fn http(addr: &str, request_line: &str, headers: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "{request_line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\
         Content-Length: 0\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

/// A FIX 4.4 frame around `body` (`|` for SOH), with its BodyLength and CheckSum.
pub(crate) fn frame(body: &str) -> Vec<u8> {
    let body = body.replace('|', "\x01");
    let mut out = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = out.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    out
}

/// The time now as a SendingTime.
pub(crate) fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    fixgate_core::UtcTimestamp::from_unix(secs, 0)
        .unwrap()
        .format(fixgate_core::TimestampPrecision::Seconds)
        .as_str()
        .to_owned()
}

/// Reads until a message containing `needle` has arrived; returns everything read.
pub(crate) fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains(needle) {
        let n = stream
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("no {needle:?} before the timeout ({e}); got {seen:?}"));
        assert!(n > 0, "closed; got {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]).replace('\x01', "|"));
    }
    seen
}
