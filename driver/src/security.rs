//! A connection's byte stream: plain TCP, or TLS (feature `tls`, rustls through futures-rustls
//! over the runtime's futures-io stream, the same for every runtime).

use std::io;
use std::time::Duration;

use futures_io::AsyncWrite;

use crate::failure::ConnectFailure;
#[cfg(feature = "tls")]
use crate::runtime::within;
use crate::runtime::{ReadHalf, Runtime, TcpStream};

/// The reading half of a connection, plain or TLS.
pub(crate) type Reader = Box<dyn ReadHalf>;
/// The writing half of a connection, plain or TLS.
pub(crate) type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// TLS for the engine's connections (feature `tls`), with rustls.
#[cfg(feature = "tls")]
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    /// For the listening port: every accepted connection must complete a TLS handshake first.
    pub server: Option<std::sync::Arc<futures_rustls::rustls::ServerConfig>>,
    /// For initiators: every connection they open starts with a TLS handshake.
    pub client: Option<std::sync::Arc<futures_rustls::rustls::ClientConfig>>,
    /// The name initiators check the acceptor's certificate against; by default the IP address
    /// they connect to.
    pub server_name: Option<futures_rustls::rustls::pki_types::ServerName<'static>>,
}

/// How the engine's connections are protected: plain TCP unless TLS is configured.
#[derive(Clone, Debug, Default)]
pub struct Security {
    /// TLS on the listening port and on the connections initiators open.
    #[cfg(feature = "tls")]
    pub tls: TlsConfig,
}

impl Security {
    /// TLS as `tls` configures it.
    #[cfg(feature = "tls")]
    pub fn with_tls(tls: TlsConfig) -> Self {
        Self { tls }
    }

    /// Completes the TLS handshake of an accepted connection when the listening port has TLS,
    /// and splits the stream.
    pub(crate) async fn accept<S: TcpStream>(&self, stream: S) -> io::Result<(Reader, Writer)> {
        #[cfg(feature = "tls")]
        if let Some(server) = &self.tls.server {
            let tls = futures_rustls::TlsAcceptor::from(server.clone())
                .accept(stream)
                .await?;
            return Ok(split(tls));
        }
        Ok(split_plain(stream))
    }

    /// Completes the TLS handshake of a connection an initiator opened, when initiators use
    /// TLS, within `timeout`; splits the stream.
    pub(crate) async fn connect<R: Runtime>(
        &self,
        runtime: &R,
        stream: R::Stream,
        timeout: Duration,
    ) -> Result<(Reader, Writer), ConnectFailure> {
        #[cfg(feature = "tls")]
        if let Some(client) = &self.tls.client {
            let name = match &self.tls.server_name {
                Some(name) => name.clone(),
                None => stream
                    .peer_addr()
                    .map_err(|e| ConnectFailure::Tcp(e.kind()))?
                    .ip()
                    .into(),
            };
            let handshake =
                futures_rustls::TlsConnector::from(client.clone()).connect(name, stream);
            let mut timer = runtime.new_timer(runtime.now().mono + timeout);
            return match within(&mut timer, handshake).await {
                Some(Ok(tls)) => Ok(split(tls)),
                Some(Err(error)) => Err(tls_failure(error)),
                None => Err(ConnectFailure::TlsHandshake(io::ErrorKind::TimedOut)),
            };
        }
        let _ = (runtime, timeout);
        Ok(split_plain(stream))
    }
}

/// A plain TCP stream's halves.
fn split_plain<S: TcpStream>(stream: S) -> (Reader, Writer) {
    let (read, write) = stream.into_split();
    (Box::new(read), Box::new(write))
}

/// A TLS stream's halves.
#[cfg(feature = "tls")]
fn split<T>(tls: T) -> (Reader, Writer)
where
    T: futures_io::AsyncRead + AsyncWrite + Send + Unpin + 'static,
    futures_lite::io::ReadHalf<T>: ReadHalf,
{
    let (read, write) = futures_lite::io::split(tls);
    (Box::new(read), Box::new(write))
}

/// Why the client's handshake failed: rustls's reason when it refused (futures-rustls wraps it
/// in the `io::Error`), or what happened to the connection.
#[cfg(feature = "tls")]
fn tls_failure(error: io::Error) -> ConnectFailure {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<futures_rustls::rustls::Error>())
    {
        Some(refused) => ConnectFailure::Tls(refused.clone()),
        None => ConnectFailure::TlsHandshake(error.kind()),
    }
}

#[cfg(feature = "tls")]
impl<S: TcpStream> ReadHalf for futures_lite::io::ReadHalf<futures_rustls::server::TlsStream<S>> {}

#[cfg(feature = "tls")]
impl<S: TcpStream> ReadHalf for futures_lite::io::ReadHalf<futures_rustls::client::TlsStream<S>> {}
