//! The victim of `tests/tests/kill9_initiator.rs`: an initiator over a `FileStore` that streams
//! NewOrderSingles to an executor at 127.0.0.1:PORT until it is killed, and reports on stdout
//! what its application sees.
//!
//! ```text
//! initiator_child DIR PORT RUN [ORDERS]
//! ```
//!
//! Lines: `logon` at each Logon, `put ID` once `put()` of order ID (`RUN-k`) has returned,
//! `report CLORDID EXECID` for each ExecutionReport, printed before it is settled, and
//! `logged out` once a `logout` line on stdin has ended the session (a Logout both ways, and no
//! reconnecting after it). ORDERS bounds the orders sent (default: no bound).

use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use fixgate_core::{
    BeginString, DisconnectReason, EngineConfig, Event, Now, Role, SessionConfig, SessionId,
    UtcTimestamp,
};
use fixgate_store::FileStore;
use fixgate_tokio::{AppEvent, FixEngine};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout");
    out.flush().expect("stdout");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, port, run, rest @ ..] = &args[..] else {
        panic!("usage: initiator_child DIR PORT RUN [ORDERS]");
    };
    let port: u16 = port.parse().expect("a port");
    let orders: u64 = rest
        .first()
        .map_or(u64::MAX, |n| n.parse().expect("a count"));
    let store = FileStore::open(dir, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("the store opens");
    let config = EngineConfig {
        reconnect_interval: Duration::from_millis(20),
        ..EngineConfig::default()
    };
    let (engine, mut events) = FixEngine::start(config, None).await.expect("engine");
    let session = engine
        .create_session(
            SessionId::new("CLIENT", "EXEC"),
            SessionConfig::new(BeginString::Fix44, "", "", Role::Initiator),
            Box::new(store),
        )
        .await
        .expect("session");
    session
        .connect_to(([127, 0, 0, 1], port).into())
        .await
        .expect("connect");

    // `logout` on stdin: the engine logs out and stops reconnecting (its own shutdown; the
    // adapter's would also end the engine task).
    let (logout, mut logout_asked) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            if line.is_ok_and(|line| line == "logout") {
                let _ = logout.send(());
            }
        }
    });
    let stopper = engine.clone();
    tokio::spawn(async move {
        if logout_asked.recv().await.is_some() {
            stopper
                .with_engine(|engine| {
                    engine.shutdown(Now {
                        mono: Instant::now(),
                        utc: SystemTime::now(),
                    });
                })
                .await
                .expect("the engine runs");
        }
    });

    let sender = session.sender();
    let run = run.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(2));
        for k in 1..=orders {
            tick.tick().await;
            let id = format!("{run}-{k}");
            let body = format!("11={id}\x0121=1\x0155=KILL\x0154=1\x0138=100\x0140=1\x01");
            sender
                .put(b"D".to_vec(), Bytes::from(body))
                .await
                .expect("put");
            say(&format!("put {id}"));
        }
    });
    while let Some(event) = events.recv().await {
        match event {
            AppEvent::Deliver { session, delivered } => {
                let msg = delivered.message();
                if msg.msg_type() == b"8" {
                    let cl_ord_id = msg.str(11).unwrap_or_default();
                    let exec_id = msg.str(17).unwrap_or_default();
                    say(&format!("report {cl_ord_id} {exec_id}"));
                }
                engine.ack(session, delivered).await.expect("ack");
            }
            AppEvent::Event {
                event: Event::LoggedOn { .. },
                ..
            } => say("logon"),
            AppEvent::Disconnected {
                reason: DisconnectReason::LoggedOut,
                ..
            } => say("logged out"),
            _ => {}
        }
    }
}
