//! A connection's byte stream: plain TCP, or TLS (feature `tls`, rustls through futures-rustls
//! over the runtime's futures-io stream, the same for every runtime).

use std::io;

use futures_io::AsyncWrite;

use crate::runtime::{ReadHalf, TcpStream};

/// The reading half of a connection, plain or TLS.
pub(crate) type Reader = Box<dyn ReadHalf>;
/// The writing half of a connection, plain or TLS.
pub(crate) type Writer = Box<dyn AsyncWrite + Send + Unpin>;

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

    /// Completes the TLS handshake when one is configured for `side`, and splits the stream.
    pub(crate) async fn split<S: TcpStream>(
        &self,
        stream: S,
        side: Side,
    ) -> io::Result<(Reader, Writer)> {
        #[cfg(feature = "tls")]
        match (side, &self.tls.server, &self.tls.client) {
            (Side::Accepted, Some(server), _) => {
                let tls = futures_rustls::TlsAcceptor::from(server.clone())
                    .accept(stream)
                    .await?;
                let (read, write) = futures_lite::io::split(tls);
                return Ok((Box::new(read), Box::new(write)));
            }
            (Side::Connected, _, Some(client)) => {
                let name = match &self.tls.server_name {
                    Some(name) => name.clone(),
                    None => stream.peer_addr()?.ip().into(),
                };
                let tls = futures_rustls::TlsConnector::from(client.clone())
                    .connect(name, stream)
                    .await?;
                let (read, write) = futures_lite::io::split(tls);
                return Ok((Box::new(read), Box::new(write)));
            }
            _ => {}
        }
        let _ = side;
        let (read, write) = stream.into_split();
        Ok((Box::new(read), Box::new(write)))
    }
}

#[cfg(feature = "tls")]
impl<S: TcpStream> ReadHalf for futures_lite::io::ReadHalf<futures_rustls::server::TlsStream<S>> {}

#[cfg(feature = "tls")]
impl<S: TcpStream> ReadHalf for futures_lite::io::ReadHalf<futures_rustls::client::TlsStream<S>> {}
