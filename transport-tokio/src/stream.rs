//! A connection's byte stream: plain TCP, or TLS when the engine has a [`TlsConfig`].

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The reading half of a connection.
pub(crate) type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
/// The writing half of a connection.
pub(crate) type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// Accepted on the listening port: the TLS server.
    Accepted,
    /// Opened by an initiator: the TLS client.
    Connected,
}

/// TLS for the engine's connections (feature `tls`), with rustls.
#[cfg(feature = "tls")]
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    /// For the listening port: every accepted connection must complete a TLS handshake first.
    pub server: Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>,
    /// For initiators: every connection they open starts with a TLS handshake.
    pub client: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
    /// The name initiators check the acceptor's certificate against; by default the IP address
    /// they connect to.
    pub server_name: Option<tokio_rustls::rustls::pki_types::ServerName<'static>>,
}

/// How the engine's connections are protected: plain TCP unless TLS is configured.
#[derive(Clone, Debug, Default)]
pub(crate) struct Security {
    #[cfg(feature = "tls")]
    pub(crate) tls: TlsConfig,
}

impl Security {
    /// Completes the TLS handshake when one is configured for `side`, and splits the stream.
    pub(crate) async fn split(
        &self,
        stream: TcpStream,
        side: Side,
    ) -> io::Result<(ReadHalf, WriteHalf)> {
        #[cfg(feature = "tls")]
        match (side, &self.tls.server, &self.tls.client) {
            (Side::Accepted, Some(server), _) => {
                let tls = tokio_rustls::TlsAcceptor::from(server.clone())
                    .accept(stream)
                    .await?;
                let (read, write) = tokio::io::split(tls);
                return Ok((Box::new(read), Box::new(write)));
            }
            (Side::Connected, _, Some(client)) => {
                let name = match &self.tls.server_name {
                    Some(name) => name.clone(),
                    None => stream.peer_addr()?.ip().into(),
                };
                let tls = tokio_rustls::TlsConnector::from(client.clone())
                    .connect(name, stream)
                    .await?;
                let (read, write) = tokio::io::split(tls);
                return Ok((Box::new(read), Box::new(write)));
            }
            _ => {}
        }
        let _ = side;
        let (read, write) = stream.into_split();
        Ok((Box::new(read), Box::new(write)))
    }
}
