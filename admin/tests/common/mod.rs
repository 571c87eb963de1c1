//! What the admin tests share: an engine with one acceptor session and the admin listener, a
//! raw FIX counterparty, a plain HTTP/1.1 client and a reader of the Prometheus text format.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use fixgate_admin::{Admin, AdminConfig};
use fixgate_core::codec::{Decoded, Decoder};
use fixgate_core::{
    BeginString, Delivered, EngineConfig, MemoryStore, MessageStore, Role, Secret, SessionConfig,
    SessionId, StorageDurability, TimestampPrecision, UtcTimestamp,
};
use fixgate_driver::{Application, Context};
use fixgate_store::FileStore;
use fixgate_tests::wire::{frame, pipe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The admin token of the tests.
pub(crate) const TOKEN: &str = "test-token-1";

/// A bound between "works" and "hangs".
pub(crate) const WITHIN: Duration = Duration::from_secs(10);

/// Answers each order with an ExecutionReport that carries its ClOrdID.
struct Executor;

impl Application for Executor {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let id = delivered.message().str(11).unwrap_or("?").to_owned();
        let body = format!("11={id}\x01150=F\x0139=2\x01");
        ctx.reply(session, delivered, b"8", body.as_bytes())
            .unwrap();
    }
}

/// A tokio engine with acceptor session ISLD (us) and CLIENT, and its admin listener.
pub(crate) struct Rig {
    pub(crate) engine: fixgate_tokio::FixEngine,
    /// The FIX port.
    pub(crate) fix: SocketAddr,
    /// The admin listener.
    pub(crate) admin: SocketAddr,
    _admin: Admin,
}

impl Rig {
    pub(crate) async fn start() -> Self {
        Self::start_with(&[SessionId::new("ISLD", "CLIENT")]).await
    }

    /// An engine with an acceptor session for each of `ids`.
    pub(crate) async fn start_with(ids: &[SessionId]) -> Self {
        Self::start_with_token(ids, Secret::Value(TOKEN.to_owned()))
            .await
            .unwrap()
    }

    /// An engine with an acceptor session for each of `ids`, and `token` for the commands.
    pub(crate) async fn start_with_token(
        ids: &[SessionId],
        token: Secret,
    ) -> Result<Self, fixgate_admin::AdminError> {
        Self::build(ids, token, None).await
    }

    /// An engine with acceptor session ISLD-CLIENT on a file store in `dir` that makes each
    /// burst durable before its sends (`StorageDurability::Batch`).
    pub(crate) async fn start_durable(dir: &std::path::Path) -> Self {
        let ids = [SessionId::new("ISLD", "CLIENT")];
        Self::build(&ids, Secret::Value(TOKEN.to_owned()), Some(dir))
            .await
            .unwrap()
    }

    async fn build(
        ids: &[SessionId],
        token: Secret,
        durable: Option<&std::path::Path>,
    ) -> Result<Self, fixgate_admin::AdminError> {
        let engine = fixgate_tokio::FixEngine::start_with_app(
            EngineConfig::default(),
            Some("127.0.0.1:0".parse().unwrap()),
            fixgate_tokio::TlsConfig::default(),
            Executor,
        )
        .await
        .unwrap();
        for id in ids {
            let mut config = SessionConfig::new(
                BeginString::Fix44,
                id.sender_comp_id.clone(),
                id.target_comp_id.clone(),
                Role::Acceptor,
            );
            let now = UtcTimestamp::from_system_time(std::time::SystemTime::now());
            let store: Box<dyn MessageStore + Send> = match durable {
                Some(dir) => {
                    config.storage_durability = StorageDurability::Batch;
                    Box::new(FileStore::open(dir, now).unwrap())
                }
                None => Box::new(MemoryStore::new(now)),
            };
            let session = engine
                .create_session(id.clone(), config, store)
                .await
                .unwrap();
            // Registered; the session stays in the engine when its handle goes.
            session.connect().await.unwrap();
        }
        let config = AdminConfig {
            address: "127.0.0.1:0".parse().unwrap(),
            token: Some(token),
        };
        let admin = Admin::serve((*engine).clone(), config).await?;
        Ok(Self {
            fix: engine.local_addr().unwrap(),
            admin: admin.local_addr(),
            engine,
            _admin: admin,
        })
    }
}

/// A FIX 4.4 counterparty on a raw socket, CLIENT to ISLD unless told otherwise.
pub(crate) struct Counterparty {
    stream: TcpStream,
    decoder: Decoder,
    next_seq: u64,
    /// Bytes written and read so far.
    pub(crate) written: usize,
    pub(crate) read: usize,
    /// The answer to our Logon.
    pub(crate) logon_reply: String,
}

impl Counterparty {
    pub(crate) async fn connect(rig: &Rig) -> Self {
        Self::connect_to(rig.fix).await
    }

    pub(crate) async fn connect_to(addr: SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.unwrap(),
            decoder: Decoder::new(),
            next_seq: 1,
            written: 0,
            read: 0,
            logon_reply: String::new(),
        }
    }

    /// Connects and logs on with MsgSeqNum 1.
    pub(crate) async fn log_on(rig: &Rig) -> Self {
        Self::log_on_at(rig, 1).await
    }

    /// Connects and logs on with MsgSeqNum `seq`.
    pub(crate) async fn log_on_at(rig: &Rig, seq: u64) -> Self {
        Self::log_on_as(rig.fix, "CLIENT", "ISLD", seq).await
    }

    /// Connects to `addr` and logs on as `sender` to `target` with MsgSeqNum `seq`.
    pub(crate) async fn log_on_as(addr: SocketAddr, sender: &str, target: &str, seq: u64) -> Self {
        let mut peer = Self::connect_to(addr).await;
        peer.next_seq = seq;
        peer.send_between(sender, target, "A", "98=0|108=30|").await;
        peer.logon_reply = peer.expect("A").await;
        peer
    }

    /// Sends a message with the next MsgSeqNum.
    pub(crate) async fn send(&mut self, msg_type: &str, fields: &str) {
        self.send_between("CLIENT", "ISLD", msg_type, fields).await;
    }

    /// Sends a message as `sender` to ISLD.
    pub(crate) async fn send_as(&mut self, sender: &str, msg_type: &str, fields: &str) {
        self.send_between(sender, "ISLD", msg_type, fields).await;
    }

    async fn send_between(&mut self, sender: &str, target: &str, msg_type: &str, fields: &str) {
        let time = UtcTimestamp::from_system_time(std::time::SystemTime::now())
            .format(TimestampPrecision::Millis);
        let bytes = frame(
            "FIX.4.4",
            &format!(
                "35={msg_type}|34={}|49={sender}|52={}|56={target}|{fields}",
                self.next_seq,
                time.as_str()
            ),
        );
        self.next_seq += 1;
        self.stream.write_all(&bytes).await.unwrap();
        self.written += bytes.len();
    }

    /// The next message, `|` for SOH; `None` once the connection ends.
    async fn next(&mut self) -> Option<String> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(Decoded::Message(msg)) = self.decoder.decode().unwrap() {
                return Some(pipe(msg.as_bytes()));
            }
            let n = tokio::time::timeout(WITHIN, self.stream.read(&mut buf))
                .await
                .expect("a message or the end in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.read += n;
            self.decoder.feed(&buf[..n]);
        }
    }

    /// Reads until a message of `msg_type` comes, and returns it.
    pub(crate) async fn expect(&mut self, msg_type: &str) -> String {
        let wanted = format!("|35={msg_type}|");
        let mut seen = Vec::new();
        while let Some(msg) = self.next().await {
            if msg.contains(&wanted) {
                return msg;
            }
            seen.push(msg);
        }
        panic!("closed before 35={msg_type}; saw {seen:?}");
    }

    /// Reads until the connection ends; returns what came meanwhile.
    pub(crate) async fn expect_closed(&mut self) -> Vec<String> {
        let mut seen = Vec::new();
        while let Some(msg) = self.next().await {
            seen.push(msg);
        }
        seen
    }
}

/// One HTTP/1.1 request on a connection of its own; returns the status and the body.
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(WITHIN, stream.read_to_end(&mut response))
        .await
        .expect("an answer in time")
        .unwrap();
    let response = String::from_utf8(response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// The value of the sample `name{labels}` in Prometheus text `text`: the line whose labels are
/// exactly `labels`.
pub(crate) fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (line_name, line_labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if line_name != name {
                return None;
            }
            let mut found: Vec<(&str, &str)> = line_labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((k, v.trim_matches('"')))
                })
                .collect();
            let mut wanted = labels.to_vec();
            found.sort();
            wanted.sort();
            (found == wanted).then(|| value.parse().ok()).flatten()
        })
}
