//! Applications on the engine task (`FixEngine::start_with_app`) on both adapters, over real
//! loopback sockets: messages and events reach the callbacks, replies go out in order, and a
//! reply that meets backpressure waits instead of being lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fixgate_core::OutboundMessage;
use fixgate_core::codec::{Decoded, Decoder, HeaderField, Value};
use fixgate_core::{
    BeginString, Delivered, EngineConfig, Event, MemoryStore, Role, SessionConfig, SessionId,
    TimestampPrecision, UtcTimestamp,
};
use fixgate_driver::{Application, Context};
use fixgate_tests::wire::frame;

/// A generous bound between "works" and "hangs".
const WITHIN: Duration = Duration::from_secs(10);

fn message(msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
    let time = UtcTimestamp::from_system_time(std::time::SystemTime::now())
        .format(TimestampPrecision::Millis);
    frame(
        "FIX.4.4",
        &format!(
            "35={msg_type}|34={seq}|49=CLIENT|52={}|56=ISLD|{fields}",
            time.as_str()
        ),
    )
}

/// Echoes each order's ClOrdID in an ExecutionReport padded with `padding` bytes of text, and
/// notes the events it sees.
struct Echo {
    padding: usize,
    events: Arc<Mutex<Vec<String>>>,
}

impl Application for Echo {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let id = delivered.message().str(11).unwrap_or("?").to_owned();
        let body = format!("11={id}\x0158={}\x01", "x".repeat(self.padding));
        ctx.reply(session, delivered, b"8", body.as_bytes())
            .unwrap();
    }

    fn on_event(&mut self, _: &mut Context<'_>, _: &SessionId, event: Event) {
        self.events.lock().unwrap().push(format!("{event:?}"));
    }
}

fn acceptor_session() -> (SessionId, SessionConfig, Box<MemoryStore>) {
    let mut config = SessionConfig::new(BeginString::Fix44, "ISLD", "CLIENT", Role::Acceptor);
    config.max_outbound_bytes = 8 * 1024;
    let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
    (SessionId::new("ISLD", "CLIENT"), config, Box::new(store))
}

/// A tokio engine running `app`, with the acceptor session of [`acceptor_session`] registered.
async fn tokio_acceptor(app: impl Application) -> fixgate_tokio::FixEngine {
    let engine = fixgate_tokio::FixEngine::start_with_app(
        EngineConfig::default(),
        Some("127.0.0.1:0".parse().unwrap()),
        fixgate_tokio::TlsConfig::default(),
        app,
    )
    .await
    .unwrap();
    let (id, config, store) = acceptor_session();
    let session = engine.create_session(id, config, store).await.unwrap();
    session.connect().await.unwrap();
    engine
}

/// Logs on, sends `orders` orders without reading (with a small receive buffer, so that our
/// replies meet backpressure), then reads every report: they come in order, one per order.
fn counterparty(addr: std::net::SocketAddr, orders: u64) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WITHIN)).unwrap();
    stream.write_all(&message("A", 1, "98=0|108=30|")).unwrap();
    for n in 0..orders {
        let order = format!("11=O{n}|55=X|54=1|38=1|40=1|");
        stream.write_all(&message("D", n + 2, &order)).unwrap();
    }
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut next = 0;
    let mut last_seq = 0;
    while next < orders {
        let n = stream.read(&mut buf).expect("the reports in time");
        assert!(n > 0, "closed after {next} reports");
        decoder.feed(&buf[..n]);
        while let Some(Decoded::Message(msg)) = decoder.decode().unwrap() {
            if msg.msg_type() == b"8" {
                assert_eq!(msg.str(11), Ok(format!("O{next}").as_str()), "out of order");
                let seq = msg.seq_num(34).unwrap().get();
                assert!(seq > last_seq);
                last_seq = seq;
                next += 1;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_application_replies_in_order_through_backpressure() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let app = Echo {
        padding: 8000,
        events: events.clone(),
    };
    let engine = tokio_acceptor(app).await;
    let addr = engine.local_addr().unwrap();
    // 4,000 reports of 8 KB: far more than MaxOutboundBytes (8 KiB) and the socket buffers.
    tokio::task::spawn_blocking(move || counterparty(addr, 4000))
        .await
        .unwrap();
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.starts_with("LoggedOn")),
        "{:?}",
        events.lock().unwrap()
    );
    engine.shutdown().await;
}

#[test]
fn async_io_application_replies_in_order_through_backpressure() {
    let spawner: fixgate_async_std::Spawner = Arc::new(|task| smol::spawn(task).detach());
    smol::block_on(async {
        let events = Arc::new(Mutex::new(Vec::new()));
        let app = Echo {
            padding: 8000,
            events: events.clone(),
        };
        let engine = fixgate_async_std::FixEngine::start_with_app(
            EngineConfig::default(),
            Some("127.0.0.1:0".parse().unwrap()),
            spawner,
            fixgate_async_std::TlsConfig::default(),
            app,
        )
        .await
        .unwrap();
        let (id, config, store) = acceptor_session();
        let session = engine.create_session(id, config, store).await.unwrap();
        session.connect().await.unwrap();
        let addr = engine.local_addr().unwrap();
        blocking::unblock(move || counterparty(addr, 4000)).await;
        assert!(
            events
                .lock()
                .unwrap()
                .iter()
                .any(|e| e.starts_with("LoggedOn"))
        );
        engine.shutdown().await;
    });
}

/// Answers each order with a report routed to a desk: a header field of the application's own.
struct Routed;

impl Application for Routed {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let header = [HeaderField::new(128, Value::Text(b"DESK1"))];
        let body = b"11=R\x01";
        let msg = OutboundMessage::from_parts(b"8", body).with_header(&header);
        ctx.try_reply(session, delivered, msg).unwrap();
    }
}

#[tokio::test]
async fn application_reply_carries_its_own_header_fields() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let engine = tokio_acceptor(Routed).await;
    let mut stream = tokio::net::TcpStream::connect(engine.local_addr().unwrap())
        .await
        .unwrap();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    stream
        .write_all(&message("D", 2, "11=O|55=X|54=1|38=1|40=1|"))
        .await
        .unwrap();
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 4096];
    let report = loop {
        let n = tokio::time::timeout(WITHIN, stream.read(&mut buf))
            .await
            .expect("the report in time")
            .unwrap();
        assert!(n > 0, "closed");
        decoder.feed(&buf[..n]);
        let mut found = None;
        while let Some(Decoded::Message(msg)) = decoder.decode().unwrap() {
            if msg.msg_type() == b"8" {
                found = Some(msg);
            }
        }
        if let Some(msg) = found {
            break msg;
        }
    };
    assert_eq!(report.str(128), Ok("DESK1"));
    assert_eq!(report.str(11), Ok("R"));
    engine.shutdown().await;
}

/// Issue 20 item 6 through a real socket: a Logon, two orders and a TestRequest written at once.
/// The application answers each order in its callback, so both reports leave before the
/// Heartbeat that answers the TestRequest (the counterparty's fence).
#[tokio::test]
async fn replies_given_in_the_callback_leave_before_the_answer_to_a_later_test_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let events = Arc::new(Mutex::new(Vec::new()));
    let app = Echo { padding: 0, events };
    let engine = tokio_acceptor(app).await;
    let mut stream = tokio::net::TcpStream::connect(engine.local_addr().unwrap())
        .await
        .unwrap();
    let mut burst = message("A", 1, "98=0|108=30|");
    burst.extend(message("D", 2, "11=O1|55=X|54=1|38=1|40=1|"));
    burst.extend(message("D", 3, "11=O2|55=X|54=1|38=1|40=1|"));
    burst.extend(message("1", 4, "112=FENCE|"));
    stream.write_all(&burst).await.unwrap();
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 4096];
    let mut seen = Vec::new();
    while !seen.iter().any(|s: &String| s.starts_with("0 ")) {
        let n = tokio::time::timeout(WITHIN, stream.read(&mut buf))
            .await
            .expect("the answers in time")
            .unwrap();
        assert!(n > 0, "closed after {seen:?}");
        decoder.feed(&buf[..n]);
        while let Some(Decoded::Message(msg)) = decoder.decode().unwrap() {
            let kind = String::from_utf8_lossy(msg.msg_type()).into_owned();
            let detail = msg.str(11).or(msg.str(112)).unwrap_or("");
            seen.push(format!("{kind} {detail}"));
        }
    }
    assert_eq!(seen, ["A ", "8 O1", "8 O2", "0 FENCE"]);
    engine.shutdown().await;
}

/// Replies to each order after working on it for `work` (a busy wait: the callback's own time).
struct Slow {
    work: Duration,
}

impl Application for Slow {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let until = std::time::Instant::now() + self.work;
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
        let id = delivered.message().str(11).unwrap_or("?").to_owned();
        let body = format!("11={id}\x01150=F\x01");
        ctx.reply(session, delivered, b"8", body.as_bytes())
            .unwrap();
    }
}

/// The settle latency runs from the arrival of an order's bytes to its reply, the callback's own
/// time included: three orders that each take 20 ms to answer add up to 60 ms at least.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settle_latency_counts_the_time_the_callback_takes() {
    let work = Duration::from_millis(20);
    let engine = tokio_acceptor(Slow { work }).await;
    let addr = engine.local_addr().unwrap();
    tokio::task::spawn_blocking(move || counterparty(addr, 3))
        .await
        .unwrap();
    let metrics = engine.metrics().await.unwrap();
    assert_eq!(metrics.settle.count(), 3);
    assert!(metrics.settle.sum() >= 3 * work, "{:?}", metrics.settle);
    let one = &metrics.engine.sessions[0];
    assert_eq!(one.counters.app_messages_in, 3);
    assert_eq!(one.unsettled, 0);
    engine.shutdown().await;
}
