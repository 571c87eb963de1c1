//! A counterparty that drops and reconnects at once (issue 20, item 7), simulated: after its
//! Logon is answered it sends an order and closes the socket, and 1 ms later it connects again
//! with its next Logon. The acceptor must answer every one of those Logons (the old connection's
//! end is seen before the new Logon is judged, however the tasks are scheduled and whatever
//! store sync the in-flight order's answer waits for) and execute every order once.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fixgate_core::{
    BeginString, Delivered, EngineConfig, Role, SessionConfig, SessionId, StorageDurability,
    TimestampPrecision, UtcTimestamp,
};
use fixgate_driver::{Application, Context, FixEngine, Runtime, Security};

use super::disk::{Disk, SimStore};
use super::executor::{Executor, World, lock};
use super::runtime::SimRuntime;
use super::socket::SimStream;
use crate::wire::frame;

const ACCEPTOR: ([u8; 4], u16) = ([127, 0, 0, 1], 9876);

/// What one run showed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Logons the acceptor answered.
    pub answered: u32,
    /// The rounds whose Logon was refused (the connection closed without a reply).
    pub refused: Vec<u32>,
    /// The ClOrdIDs the acceptor's application executed, in order.
    pub executed: Vec<u32>,
}

/// The acceptor's application: every order is answered with an ExecutionReport.
struct Executed(Arc<Mutex<Outcome>>);

impl Application for Executed {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        let Some(id) = delivered
            .message()
            .str(11)
            .ok()
            .and_then(|s| s.parse().ok())
        else {
            let _ = ctx.ack(session, delivered);
            return;
        };
        lock(&self.0).executed.push(id);
        let body = format!("37={id}\x0117={id}\x01150=F\x0139=2\x0111={id}\x0155=X\x0154=1\x01");
        let _ = ctx.reply(session, delivered, b"8", body.as_bytes());
    }
}

/// Runs `rounds` drop-and-reconnect rounds under `seed`, with the acceptor's store at
/// `durability`.
pub fn run(seed: u64, rounds: u32, durability: StorageDurability) -> Outcome {
    let mut exec = Executor::new(seed);
    let world = exec.world();
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let created = UtcTimestamp::from_system_time(lock(&world).now().utc);
    let acceptor = SimRuntime::new(world.clone(), 1);
    let engine = FixEngine::start_with_app_on(
        acceptor.clone(),
        EngineConfig::default(),
        Some(SocketAddr::from(ACCEPTOR)),
        Security::default(),
        Executed(outcome.clone()),
    )
    .expect("the acceptor listens");
    let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    config.storage_durability = durability;
    let store = SimStore(Disk::new(created));
    acceptor.spawn(async move {
        let session = engine
            .create_session(SessionId::new("ACC", "CLI"), config, Box::new(store))
            .await
            .expect("created");
        session.connect().await.expect("registered");
        std::future::pending::<()>().await;
    });
    let client = SimRuntime::new(world.clone(), 2);
    let (done, client_world, client_outcome) = (
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        world.clone(),
        outcome.clone(),
    );
    let finished = done.clone();
    client.clone().spawn(async move {
        let mut seq = 1;
        for round in 0..rounds {
            let mut stream = SimStream::connect(client_world.clone(), SocketAddr::from(ACCEPTOR))
                .expect("the acceptor listens");
            let logon = message(&client_world, "A", seq, "98=0|108=30|");
            if stream.write_all(&logon).await.is_err() || !answered(&mut stream).await {
                // A refused Logon consumes no number: the next round sends it again.
                lock(&client_outcome).refused.push(round);
                client.sleep(Duration::from_millis(1)).await;
                continue;
            }
            seq += 1;
            lock(&client_outcome).answered += 1;
            let order = message(
                &client_world,
                "D",
                seq,
                &format!("11={round}|55=X|54=1|38=100|40=1|"),
            );
            seq += 1;
            let _ = stream.write_all(&order).await;
            // Closed at once, the order still in flight; the next Logon 1 ms later.
            drop(stream);
            client.sleep(Duration::from_millis(1)).await;
        }
        finished.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let mut t = Duration::ZERO;
    while !done.load(std::sync::atomic::Ordering::Relaxed) && t < Duration::from_secs(600) {
        t += Duration::from_millis(10);
        exec.run_until(t);
    }
    // The last order's answer: time to settle.
    exec.run_until(t + Duration::from_secs(1));
    std::mem::take(&mut *lock(&outcome))
}

/// The client's message `msg_type` numbered `seq`.
fn message(world: &Arc<Mutex<World>>, msg_type: &str, seq: u32, fields: &str) -> Vec<u8> {
    let time =
        UtcTimestamp::from_system_time(lock(world).now().utc).format(TimestampPrecision::Millis);
    frame(
        "FIX.4.4",
        &format!(
            "35={msg_type}|34={seq}|49=CLI|52={}|56=ACC|{fields}",
            time.as_str()
        ),
    )
}

/// Reads until the Logon reply arrives (true) or the connection ends (false).
async fn answered(stream: &mut SimStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        if seen.windows(6).any(|w| w == b"\x0135=A\x01") {
            return true;
        }
    }
}
