//! The victim of `tests/tests/kill9_acceptor.rs`: an acceptor EXEC ← CLIENT over a `FileStore`
//! whose application executes every NewOrderSingle (an ExecutionReport with an ExecID of its
//! own; no deduplication) and settles them out of order.
//!
//! ```text
//! acceptor_child DIR PORT
//! ```
//!
//! PORT 0 takes any free port. Once listening it prints `listening ADDR`.
//!
//! The order of settlement is what makes a kill sharp. Orders come in pairs: the first of a pair
//! is held; the second is answered at once, ahead of it; the first is answered when the next
//! pair begins (or after [`HOLD_AT_MOST`] without orders). So for about half of the time a reply
//! is stored for an order above one still unsettled: the session's stored next-expected number
//! cannot pass the held order, and only the reply's record of the inbound number it answers
//! tells a restarted acceptor that the later order was executed. A process killed then and
//! restarted is asked for both again; it must execute only the held one.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use fixgate_core::{
    BeginString, Delivered, EngineConfig, Role, SessionConfig, SessionId, UtcTimestamp,
};
use fixgate_store::FileStore;
use fixgate_tokio::{AppEvent, FixEngine};

/// How long the first order of a pair waits for the second.
const HOLD_AT_MOST: Duration = Duration::from_millis(20);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, port] = &args[..] else {
        panic!("usage: acceptor_child DIR PORT");
    };
    let port: u16 = port.parse().expect("a port");
    let store = FileStore::open(dir, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("the store opens");
    let (engine, mut events) =
        FixEngine::start(EngineConfig::default(), Some(([127, 0, 0, 1], port).into()))
            .await
            .expect("engine");
    let id = SessionId::new("EXEC", "CLIENT");
    let session = engine
        .create_session(
            id.clone(),
            SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor),
            Box::new(store),
        )
        .await
        .expect("session");
    session.connect().await.expect("register");
    println!("listening {}", engine.local_addr().expect("listening"));

    let pid = std::process::id();
    let mut executions = 0u64;
    let mut execute = async |delivered: Delivered| {
        executions += 1;
        let msg = delivered.message();
        let cl_ord_id = msg.str(11).unwrap_or_default().to_owned();
        let body = format!(
            "37=O{pid}-{executions}\x0111={cl_ord_id}\x0117=E{pid}-{executions}\x01150=F\x0139=2\x01\
             55=KILL\x0154=1\x0138=100\x0132=100\x0131=1\x0114=100\x01151=0\x016=1\x01"
        );
        engine
            .reply(id.clone(), delivered, b"8".to_vec(), Bytes::from(body))
            .await
            .expect("reply");
    };
    // The first order of the current pair, and whether its second has been answered.
    let mut held: Option<Delivered> = None;
    let mut second_answered = false;
    loop {
        let event = if held.is_some() {
            match tokio::time::timeout(HOLD_AT_MOST, events.recv()).await {
                Ok(event) => event,
                Err(_) => {
                    execute(held.take().expect("held")).await;
                    continue;
                }
            }
        } else {
            events.recv().await
        };
        let Some(event) = event else { return };
        let AppEvent::Deliver { session, delivered } = event else {
            continue;
        };
        if delivered.message().msg_type() != b"D" {
            engine.ack(session, delivered).await.expect("ack");
        } else if held.is_none() {
            held = Some(delivered);
            second_answered = false;
        } else if !second_answered {
            execute(delivered).await;
            second_answered = true;
        } else {
            execute(held.replace(delivered).expect("held")).await;
            second_answered = false;
        }
    }
}
