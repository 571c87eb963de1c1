//! TLS over real loopback sockets, on both adapters: a certificate made in the test, an acceptor
//! and an initiator of ours that log on and exchange a message through it, and a client that
//! does not speak TLS, which gets nothing.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fixgate_core::{
    BeginString, EngineConfig, Event, MemoryStore, Role, SessionConfig, SessionId,
    TimestampPrecision, UtcTimestamp,
};
use fixgate_tests::wire::frame;
use fixgate_tokio::rustls;
use fixgate_tokio::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A generous bound between "works" and "hangs".
const WITHIN: Duration = Duration::from_secs(10);

/// A self-signed certificate for 127.0.0.1, as a server config and a client config that trusts
/// only it.
fn configs() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let (cert, key) = certificate("acceptor", rcgen::IsCa::NoCa);
    (server_config(cert.clone(), key), client_config(cert))
}

/// A self-signed certificate for 127.0.0.1, with subject and issuer CN=`name`, and its key: a
/// leaf, or with `IsCa::Ca` a CA certificate (`basicConstraints CA:TRUE`, as a plain
/// `openssl req -x509` makes).
fn certificate(
    name: &str,
    is_ca: rcgen::IsCa,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = is_ca;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.der().clone(), key)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config that presents `cert`.
fn server_config(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> Arc<rustls::ServerConfig> {
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    Arc::new(server)
}

/// A client config that trusts only `cert`.
fn client_config(cert: CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(client)
}

fn session(role: Role) -> (SessionId, SessionConfig, Box<MemoryStore>) {
    let (us, them) = match role {
        Role::Acceptor => ("BROKER", "CLIENT"),
        Role::Initiator => ("CLIENT", "BROKER"),
    };
    let store = MemoryStore::new(UtcTimestamp::from_system_time(std::time::SystemTime::now()));
    (
        SessionId::new(us, them),
        SessionConfig::new(BeginString::Fix44, us, them, role),
        Box::new(store),
    )
}

/// A plain-TCP client that sends a Logon to a TLS port: it must get no FIX bytes back, and be
/// closed.
fn plain_client_gets_nothing(addr: std::net::SocketAddr) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WITHIN)).unwrap();
    let time = UtcTimestamp::from_system_time(std::time::SystemTime::now())
        .format(TimestampPrecision::Millis);
    let logon = frame(
        "FIX.4.4",
        &format!(
            "35=A|34=1|49=CLIENT|52={}|56=BROKER|98=0|108=30|",
            time.as_str()
        ),
    );
    stream.write_all(&logon).unwrap();
    let mut seen = Vec::new();
    match stream.read_to_end(&mut seen) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(error) => panic!("the connection was not closed: {error}"),
    }
    assert!(
        !seen.windows(6).any(|w| w == b"8=FIX."),
        "a plain client got FIX bytes from a TLS port"
    );
}

#[tokio::test]
async fn tokio_sessions_log_on_and_talk_over_tls() {
    tokio_tls_exchange(EngineConfig::default()).await;
}

/// Readers that poll (`ReceiveSpinningTimeout`) poll through TLS as well, at both ends.
#[tokio::test]
async fn tokio_spinning_readers_talk_over_tls() {
    tokio_tls_exchange(EngineConfig {
        receive_spinning_timeout: Duration::from_millis(20),
        ..EngineConfig::default()
    })
    .await;
}

/// A tokio acceptor engine with a registered session on a TLS port, and an initiator engine whose
/// session (its settings adjusted by `initiator`) is connecting to it.
struct TokioTlsPair {
    acceptor: fixgate_tokio::FixEngine,
    acceptor_events: tokio::sync::mpsc::UnboundedReceiver<fixgate_tokio::AppEvent>,
    initiator: fixgate_tokio::FixEngine,
    initiator_events: tokio::sync::mpsc::UnboundedReceiver<fixgate_tokio::AppEvent>,
    outgoing: fixgate_tokio::Session,
    addr: std::net::SocketAddr,
}

async fn tokio_tls_pair(
    config: EngineConfig,
    initiator: impl FnOnce(&mut SessionConfig),
) -> TokioTlsPair {
    use fixgate_tokio::{FixEngine, TlsConfig};
    let (server, client) = configs();
    let server_tls = TlsConfig {
        server: Some(server),
        ..TlsConfig::default()
    };
    let (acceptor, acceptor_events) = FixEngine::start_tls(
        config.clone(),
        Some("127.0.0.1:0".parse().unwrap()),
        server_tls,
    )
    .await
    .unwrap();
    let (id, session_config, store) = session(Role::Acceptor);
    let registered = acceptor
        .create_session(id, session_config, store)
        .await
        .unwrap();
    registered.connect().await.unwrap();
    let addr = acceptor.local_addr().unwrap();
    let client_tls = TlsConfig {
        client: Some(client),
        ..TlsConfig::default()
    };
    let (engine, initiator_events) = FixEngine::start_tls(config, None, client_tls)
        .await
        .unwrap();
    let (id, mut session_config, store) = session(Role::Initiator);
    initiator(&mut session_config);
    let outgoing = engine
        .create_session(id, session_config, store)
        .await
        .unwrap();
    outgoing.connect_to(addr).await.unwrap();
    TokioTlsPair {
        acceptor,
        acceptor_events,
        initiator: engine,
        initiator_events,
        outgoing,
        addr,
    }
}

/// An acceptor and an initiator, both with `config`, log on over TLS and pass an order; a plain
/// client on the TLS port gets nothing.
async fn tokio_tls_exchange(config: EngineConfig) {
    use fixgate_tokio::AppEvent;
    let TokioTlsPair {
        acceptor,
        mut acceptor_events,
        initiator,
        mut initiator_events,
        outgoing,
        addr,
    } = tokio_tls_pair(config, |_| {}).await;

    let logged_on = |e: &AppEvent| {
        matches!(
            e,
            AppEvent::Event {
                event: Event::LoggedOn { .. },
                ..
            }
        )
    };
    tokio::time::timeout(WITHIN, async {
        while let Some(e) = initiator_events.recv().await {
            if logged_on(&e) {
                return;
            }
        }
    })
    .await
    .expect("the initiator logs on over TLS");
    outgoing
        .put(
            &b"D"[..],
            Bytes::from_static(b"11=TLS1\x0155=X\x0154=1\x0138=1\x0140=1\x01"),
        )
        .await
        .unwrap();
    let delivered = tokio::time::timeout(WITHIN, async {
        loop {
            if let Some(AppEvent::Deliver { delivered, session }) = acceptor_events.recv().await {
                return (session, delivered);
            }
        }
    })
    .await
    .expect("the order arrives over TLS");
    assert_eq!(delivered.1.message().str(11), Ok("TLS1"));
    acceptor.ack(delivered.0, delivered.1).await.unwrap();

    tokio::task::spawn_blocking(move || plain_client_gets_nothing(addr))
        .await
        .unwrap();
    initiator.shutdown().await;
    acceptor.shutdown().await;
}

#[test]
fn async_io_sessions_log_on_and_talk_over_tls() {
    use fixgate_async_std::{AppEvent, FixEngine, Spawner, TlsConfig};
    let spawner: Spawner = Arc::new(|task| smol::spawn(task).detach());
    smol::block_on(async {
        let (server, client) = configs();
        let server_tls = TlsConfig {
            server: Some(server),
            ..TlsConfig::default()
        };
        let (acceptor, acceptor_events) = FixEngine::start_tls(
            EngineConfig::default(),
            Some("127.0.0.1:0".parse().unwrap()),
            spawner.clone(),
            server_tls,
        )
        .await
        .unwrap();
        let (id, config, store) = session(Role::Acceptor);
        let registered = acceptor.create_session(id, config, store).await.unwrap();
        registered.connect().await.unwrap();
        let addr = acceptor.local_addr().unwrap();

        let client_tls = TlsConfig {
            client: Some(client),
            ..TlsConfig::default()
        };
        let (initiator, initiator_events) =
            FixEngine::start_tls(EngineConfig::default(), None, spawner, client_tls)
                .await
                .unwrap();
        let (id, config, store) = session(Role::Initiator);
        let outgoing = initiator.create_session(id, config, store).await.unwrap();
        outgoing.connect_to(addr).await.unwrap();

        let within = async {
            async_io::Timer::after(WITHIN).await;
            panic!("no Logon over TLS in time");
        };
        futures_lite::future::or(
            async {
                while let Ok(e) = initiator_events.recv().await {
                    if matches!(
                        e,
                        AppEvent::Event {
                            event: Event::LoggedOn { .. },
                            ..
                        }
                    ) {
                        return;
                    }
                }
            },
            within,
        )
        .await;
        outgoing
            .put(
                &b"D"[..],
                Bytes::from_static(b"11=TLS2\x0155=X\x0154=1\x0138=1\x0140=1\x01"),
            )
            .await
            .unwrap();
        let (session, delivered) = loop {
            if let Ok(AppEvent::Deliver { session, delivered }) = acceptor_events.recv().await {
                break (session, delivered);
            }
        };
        assert_eq!(delivered.message().str(11), Ok("TLS2"));
        acceptor.ack(session, delivered).await.unwrap();

        blocking::unblock(move || plain_client_gets_nothing(addr)).await;
        initiator.shutdown().await;
        acceptor.shutdown().await;
    });
}

/// A TLS slowloris: a client that starts a handshake and then dribbles one byte a second is
/// closed at the engine's LogonTimeout (which starts when the connection opens, before the
/// handshake), with nothing sent back but what TLS itself may say.
#[tokio::test]
async fn tls_handshake_that_never_completes_is_closed_at_logon_timeout() {
    use fixgate_tokio::{FixEngine, TlsConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const LOGON_TIMEOUT: Duration = Duration::from_secs(2);
    let (server, _) = configs();
    let config = EngineConfig {
        logon_timeout: LOGON_TIMEOUT,
        ..EngineConfig::default()
    };
    let server_tls = TlsConfig {
        server: Some(server),
        ..TlsConfig::default()
    };
    let (acceptor, _events) =
        FixEngine::start_tls(config, Some("127.0.0.1:0".parse().unwrap()), server_tls)
            .await
            .unwrap();
    let stream = tokio::net::TcpStream::connect(acceptor.local_addr().unwrap())
        .await
        .unwrap();
    let opened = std::time::Instant::now();
    let (mut read, mut write) = stream.into_split();
    // A handshake record header that announces 512 bytes, then its body one byte a second.
    let dribble = tokio::spawn(async move {
        let mut bytes = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01];
        bytes.resize(64, 0);
        for byte in bytes {
            if write.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut seen = Vec::new();
    let ended = tokio::time::timeout(WITHIN, read.read_to_end(&mut seen)).await;
    let took = opened.elapsed();
    dribble.abort();
    eprintln!(
        "stalled TLS handshake: closed after {took:?} (LogonTimeout {LOGON_TIMEOUT:?}), {} bytes back",
        seen.len()
    );
    assert!(ended.is_ok(), "the stalled handshake was never closed");
    assert!(
        !seen.windows(6).any(|w| w == b"8=FIX."),
        "FIX bytes before a handshake"
    );
    assert!(took >= LOGON_TIMEOUT - Duration::from_millis(100) && took < 3 * LOGON_TIMEOUT);
    acceptor.shutdown().await;
}

/// Many large messages over TLS, far more than `MaxOutboundBytes` (64 KiB) holds: the puts wait
/// for the engine task to write and report the bytes itself, and every message arrives, whole and
/// in order.
#[tokio::test]
async fn tokio_bulk_over_tls_arrives_whole_and_in_order() {
    use fixgate_tokio::AppEvent;
    const ORDERS: usize = 600;
    let TokioTlsPair {
        acceptor,
        mut acceptor_events,
        initiator,
        outgoing,
        ..
    } = tokio_tls_pair(EngineConfig::default(), |config| {
        config.max_outbound_bytes = 64 * 1024;
    })
    .await;
    // 600 orders of 32 KiB each (19 MiB): `put` waits out backpressure.
    let padding = "x".repeat(32 * 1024);
    let sender = tokio::spawn(async move {
        for n in 0..ORDERS {
            let body = format!("11=BULK{n}\x0155=X\x0154=1\x0138=1\x0140=1\x0158={padding}\x01");
            outgoing.put(&b"D"[..], Bytes::from(body)).await.unwrap();
        }
        outgoing
    });
    tokio::time::timeout(WITHIN * 3, async {
        let mut next = 0;
        while next < ORDERS {
            match acceptor_events.recv().await.expect("events") {
                AppEvent::Deliver { session, delivered } => {
                    let msg = delivered.message();
                    assert_eq!(msg.str(11), Ok(format!("BULK{next}").as_str()), "in order");
                    assert_eq!(msg.get(58).map(<[u8]>::len), Some(32 * 1024), "whole");
                    acceptor.ack(session, delivered).await.unwrap();
                    next += 1;
                }
                _ => continue,
            }
        }
    })
    .await
    .expect("every order arrives over TLS");
    drop(sender.await.unwrap());
    initiator.shutdown().await;
    acceptor.shutdown().await;
}

/// Why an initiator, with `client` TLS, cannot connect to an acceptor that presents `server`:
/// the reason of its first `AppEvent::ConnectFailed`.
async fn tls_connect_failure(
    server: Arc<rustls::ServerConfig>,
    client: fixgate_tokio::TlsConfig,
) -> fixgate_tokio::ConnectFailure {
    use fixgate_tokio::{AppEvent, FixEngine, TlsConfig};
    let server_tls = TlsConfig {
        server: Some(server),
        ..TlsConfig::default()
    };
    let listen = Some("127.0.0.1:0".parse().unwrap());
    let (acceptor, _acceptor_events) =
        FixEngine::start_tls(EngineConfig::default(), listen, server_tls)
            .await
            .unwrap();
    let (initiator, mut events) = FixEngine::start_tls(EngineConfig::default(), None, client)
        .await
        .unwrap();
    let (id, config, store) = session(Role::Initiator);
    let outgoing = initiator.create_session(id, config, store).await.unwrap();
    outgoing
        .connect_to(acceptor.local_addr().unwrap())
        .await
        .unwrap();
    let reason = tokio::time::timeout(WITHIN, async {
        loop {
            match events.recv().await.expect("the engine runs") {
                AppEvent::ConnectFailed { reason, .. } => return reason,
                AppEvent::Event {
                    event: Event::LoggedOn { .. },
                    ..
                } => panic!("logged on"),
                _ => {}
            }
        }
    })
    .await
    .expect("the connection fails in time");
    initiator.shutdown().await;
    acceptor.shutdown().await;
    reason
}

/// The rustls error of a refused handshake.
fn refused(reason: fixgate_tokio::ConnectFailure) -> rustls::CertificateError {
    match reason {
        fixgate_tokio::ConnectFailure::Tls(rustls::Error::InvalidCertificate(error)) => error,
        other => panic!("not a refused certificate: {other:?}"),
    }
}

#[tokio::test]
async fn untrusted_certificate_fails_the_connection_as_unknown_issuer() {
    let (cert, key) = certificate("acceptor", rcgen::IsCa::NoCa);
    let (other, _) = certificate("another", rcgen::IsCa::NoCa);
    let client = fixgate_tokio::TlsConfig {
        client: Some(client_config(other)),
        ..fixgate_tokio::TlsConfig::default()
    };
    let reason = tls_connect_failure(server_config(cert, key), client).await;
    assert_eq!(refused(reason), rustls::CertificateError::UnknownIssuer);
}

#[tokio::test]
async fn certificate_for_another_name_fails_the_connection_as_not_valid_for_name() {
    let (cert, key) = certificate("acceptor", rcgen::IsCa::NoCa);
    let client = fixgate_tokio::TlsConfig {
        client: Some(client_config(cert.clone())),
        server_name: Some("fix.example.com".try_into().unwrap()),
        ..fixgate_tokio::TlsConfig::default()
    };
    let reason = tls_connect_failure(server_config(cert, key), client).await;
    assert!(
        matches!(
            refused(reason.clone()),
            rustls::CertificateError::NotValidForNameContext { .. }
                | rustls::CertificateError::NotValidForName
        ),
        "{reason:?}"
    );
}

/// A self-signed CA certificate (a plain `openssl req -x509` makes one) is refused as the
/// server's, even when trusted.
#[tokio::test]
async fn ca_certificate_as_the_servers_fails_the_connection_as_ca_used_as_end_entity() {
    let (cert, key) = certificate(
        "acceptor",
        rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
    );
    let client = fixgate_tokio::TlsConfig {
        client: Some(client_config(cert.clone())),
        ..fixgate_tokio::TlsConfig::default()
    };
    let reason = tls_connect_failure(server_config(cert, key), client).await;
    match refused(reason) {
        rustls::CertificateError::Other(other) => {
            assert_eq!(other.to_string(), "CaUsedAsEndEntity");
        }
        other => panic!("{other:?}"),
    }
}

/// A port that takes the connection and never answers the ClientHello: the handshake fails at
/// the initiator's LogonTimeout, before any Logon.
#[tokio::test]
async fn tls_handshake_without_an_answer_fails_the_connection_at_logon_timeout() {
    use fixgate_tokio::{AppEvent, ConnectFailure, FixEngine, TlsConfig};
    // The kernel completes the TCP handshakes of the backlog; nobody reads.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (_, client) = configs();
    let client = TlsConfig {
        client: Some(client),
        ..TlsConfig::default()
    };
    let (initiator, mut events) = FixEngine::start_tls(EngineConfig::default(), None, client)
        .await
        .unwrap();
    let (id, mut config, store) = session(Role::Initiator);
    config.logon_timeout = Duration::from_millis(500);
    let outgoing = initiator.create_session(id, config, store).await.unwrap();
    outgoing
        .connect_to(silent.local_addr().unwrap())
        .await
        .unwrap();
    let reason = tokio::time::timeout(WITHIN, async {
        loop {
            match events.recv().await.expect("the engine runs") {
                AppEvent::ConnectFailed { reason, .. } => return reason,
                AppEvent::Disconnected { reason, .. } => panic!("a connection, ended: {reason:?}"),
                _ => {}
            }
        }
    })
    .await
    .expect("the handshake fails in time");
    assert_eq!(
        reason,
        ConnectFailure::TlsHandshake(std::io::ErrorKind::TimedOut)
    );
    initiator.shutdown().await;
}
