//! The tokio adapter over real loopback sockets and real time: a counterparty logs on to an
//! unregistered acceptor, sends an order and gets the application's answer.

use std::time::Duration;

use bytes::Bytes;
use fixgate_core::codec::{Decoded, Decoder, Message};
use fixgate_core::{EngineConfig, TimestampPrecision, UtcTimestamp};
use fixgate_tests::wire::frame;
use fixgate_tokio::{AppEvent, FixEngine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// Reads messages until one of `msg_type` arrives.
async fn expect(stream: &mut TcpStream, decoder: &mut Decoder, msg_type: &[u8]) -> Message {
    let mut buf = vec![0u8; 4096];
    loop {
        while let Some(decoded) = decoder.decode().expect("a valid stream") {
            if let Decoded::Message(msg) = decoded
                && msg.msg_type() == msg_type
            {
                return msg;
            }
        }
        let n = tokio::time::timeout(WITHIN, stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "the acceptor closed the connection");
        decoder.feed(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counterparty_logs_on_and_gets_its_order_echoed() {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    let (engine, mut events) = FixEngine::start(config, Some("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let addr = engine.local_addr().unwrap();
    let echo = engine.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let AppEvent::Deliver { session, delivered } = event {
                let msg_type = delivered.message().msg_type().to_vec();
                let body = Bytes::copy_from_slice(b"11=ECHO\x01");
                echo.reply(session, delivered, msg_type, body)
                    .await
                    .unwrap();
            }
        }
    });

    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    let logon = expect(&mut stream, &mut decoder, b"A").await;
    assert_eq!(logon.str(56), Ok("CLIENT"));
    stream
        .write_all(&message("D", 2, "11=ORDER1|55=AAPL|54=1|38=100|40=1|"))
        .await
        .unwrap();
    let echoed = expect(&mut stream, &mut decoder, b"D").await;
    assert_eq!(
        (echoed.seq_num(34).unwrap().get(), echoed.str(11)),
        (2, Ok("ECHO"))
    );
    stream.write_all(&message("5", 3, "")).await.unwrap();
    expect(&mut stream, &mut decoder, b"5").await;
    engine.shutdown().await;
}
