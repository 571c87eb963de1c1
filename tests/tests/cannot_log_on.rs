//! An initiator that cannot get in hears why (issue 20 item 12), over loopback on the tokio
//! adapter: nothing listens on the port, or the acceptor closes without answering the Logon.
//! The TLS failures are in `tls.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use fixgate_core::{
    BeginString, DisconnectReason, EngineConfig, MemoryStore, Role, SessionConfig, SessionId,
    UtcTimestamp,
};
use fixgate_tokio::{AppEvent, ConnectFailure, FixEngine};
use tokio::sync::mpsc::UnboundedReceiver;

/// A generous bound between "works" and "hangs".
const WITHIN: Duration = Duration::from_secs(10);

/// An initiator engine whose session CLIENT->BROKER connects to `addr`, with its events.
async fn initiator(addr: SocketAddr) -> (FixEngine, UnboundedReceiver<AppEvent>) {
    let config = EngineConfig {
        reconnect_interval: Duration::from_millis(50),
        ..EngineConfig::default()
    };
    let (engine, events) = FixEngine::start(config, None).await.unwrap();
    let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
    let session = engine
        .create_session(
            SessionId::new("CLIENT", "BROKER"),
            SessionConfig::new(BeginString::Fix44, "CLIENT", "BROKER", Role::Initiator),
            Box::new(store),
        )
        .await
        .unwrap();
    session.connect_to(addr).await.unwrap();
    (engine, events)
}

/// The first event that `pick` takes, within [`WITHIN`].
async fn first<T>(
    events: &mut UnboundedReceiver<AppEvent>,
    mut pick: impl FnMut(AppEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WITHIN, async {
        loop {
            if let Some(found) = pick(events.recv().await.expect("the engine runs")) {
                return found;
            }
        }
    })
    .await
    .expect("the event in time")
}

#[tokio::test]
async fn nothing_listening_is_reported_as_connection_refused() {
    // A port that was just free: bound, then closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (engine, mut events) = initiator(addr).await;
    let (at, reason) = first(&mut events, |event| match event {
        AppEvent::ConnectFailed { addr, reason, .. } => Some((addr, reason)),
        _ => None,
    })
    .await;
    assert_eq!(at, addr);
    assert_eq!(
        reason,
        ConnectFailure::Tcp(std::io::ErrorKind::ConnectionRefused)
    );
    engine.shutdown().await;
}

/// An acceptor that knows no session CLIENT->BROKER refuses it in silence; the initiator says
/// that its Logon went unanswered.
#[tokio::test]
async fn silent_refusal_is_reported_as_logon_unanswered() {
    let (acceptor, _acceptor_events) = FixEngine::start(
        EngineConfig::default(),
        Some("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();
    let (engine, mut events) = initiator(acceptor.local_addr().unwrap()).await;
    let reason = first(&mut events, |event| match event {
        AppEvent::Disconnected { reason, .. } => Some(reason),
        _ => None,
    })
    .await;
    assert_eq!(reason, DisconnectReason::LogonUnanswered);
    engine.shutdown().await;
    acceptor.shutdown().await;
}
