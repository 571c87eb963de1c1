//! The async-io adapter over real loopback sockets and real time, under smol and under
//! async-std: a counterparty logs on and gets its order answered.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use bytes::Bytes;
use fixgate_async_std::{AppEvent, FixEngine, Spawner};
use fixgate_core::codec::{Decoded, Decoder, Message};
use fixgate_core::{EngineConfig, TimestampPrecision, UtcTimestamp};
use fixgate_tests::wire::frame;
use futures_lite::{AsyncReadExt, AsyncWriteExt, future};

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

async fn expect(stream: &mut Async<TcpStream>, decoder: &mut Decoder, msg_type: &[u8]) -> Message {
    let mut buf = vec![0u8; 4096];
    loop {
        while let Some(decoded) = decoder.decode().expect("a valid stream") {
            if let Decoded::Message(msg) = decoded
                && msg.msg_type() == msg_type
            {
                return msg;
            }
        }
        let read = future::or(async { Some(stream.read(&mut buf).await) }, async {
            Timer::after(Duration::from_secs(10)).await;
            None
        });
        let n = read.await.expect("an answer in time").unwrap();
        assert!(n > 0, "the acceptor closed the connection");
        decoder.feed(&buf[..n]);
    }
}

/// The same scenario as the tokio adapter's, on whichever runtime `spawner` belongs to.
async fn order_is_echoed(spawner: Spawner) {
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    let (engine, events) = FixEngine::start(
        config,
        Some("127.0.0.1:0".parse().unwrap()),
        spawner.clone(),
    )
    .await
    .unwrap();
    let addr = engine.local_addr().unwrap();
    let echo = engine.clone();
    spawner(Box::pin(async move {
        while let Ok(event) = events.recv().await {
            if let AppEvent::Deliver { session, delivered } = event {
                let msg_type = delivered.message().msg_type().to_vec();
                echo.reply(
                    session,
                    delivered,
                    msg_type,
                    Bytes::from_static(b"11=ECHO\x01"),
                )
                .await
                .unwrap();
            }
        }
    }));
    let mut stream = Async::<TcpStream>::connect(addr).await.unwrap();
    let mut decoder = Decoder::new();
    stream
        .write_all(&message("A", 1, "98=0|108=30|"))
        .await
        .unwrap();
    expect(&mut stream, &mut decoder, b"A").await;
    stream
        .write_all(&message("D", 2, "11=ORDER1|55=AAPL|54=1|38=100|40=1|"))
        .await
        .unwrap();
    let echoed = expect(&mut stream, &mut decoder, b"D").await;
    assert_eq!(echoed.str(11), Ok("ECHO"));
    stream.write_all(&message("5", 3, "")).await.unwrap();
    expect(&mut stream, &mut decoder, b"5").await;
    engine.shutdown().await;
}

#[test]
fn runs_under_smol() {
    let spawner: Spawner = Arc::new(|task| smol::spawn(task).detach());
    smol::block_on(order_is_echoed(spawner));
}

#[test]
fn runs_under_async_std() {
    let spawner: Spawner = Arc::new(|task| {
        async_std::task::spawn(task);
    });
    async_std::task::block_on(order_is_echoed(spawner));
}
