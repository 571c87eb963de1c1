//! What the tests that run the `fixgate` binary as a process share.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// Starts the binary with the executor on `config` and waits until it listens.
pub(crate) fn spawn(config: &Path) -> Spawned {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fixgate"))
        .args(["--config".as_ref(), config.as_os_str()])
        .args(["--app", "executor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the fixgate binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut admin = None;
    loop {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if let Some(addr) = line.trim().strip_prefix("fixgate admin on http://") {
            admin = Some(addr.trim_end_matches('/').to_owned());
            continue;
        }
        let port = line
            .trim()
            .strip_prefix("fixgate listening on ")
            .and_then(|addr| addr.parse::<std::net::SocketAddr>().ok())
            .unwrap_or_else(|| panic!("{line:?}"))
            .port();
        return Spawned { child, port, admin };
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
