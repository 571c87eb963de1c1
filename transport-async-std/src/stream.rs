//! A connection's byte stream: plain TCP, or TLS when the engine has a [`TlsConfig`].

use std::io;
use std::net::TcpStream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_io::Async;
use futures_lite::{AsyncRead, AsyncWrite};

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
    pub server: Option<Arc<futures_rustls::rustls::ServerConfig>>,
    /// For initiators: every connection they open starts with a TLS handshake.
    pub client: Option<Arc<futures_rustls::rustls::ClientConfig>>,
    /// The name initiators check the acceptor's certificate against; by default the IP address
    /// they connect to.
    pub server_name: Option<futures_rustls::rustls::pki_types::ServerName<'static>>,
}

/// How the engine's connections are protected: plain TCP unless TLS is configured.
#[derive(Clone, Debug, Default)]
pub(crate) struct Security {
    #[cfg(feature = "tls")]
    pub(crate) tls: TlsConfig,
}

impl Security {
    /// Completes the TLS handshake when one is configured for `side`, and splits the stream.
    /// The caller keeps its own `Arc` of the socket, to shut it down.
    pub(crate) async fn split(
        &self,
        stream: Arc<Async<TcpStream>>,
        side: Side,
    ) -> io::Result<(ReadHalf, WriteHalf)> {
        #[cfg(feature = "tls")]
        match (side, &self.tls.server, &self.tls.client) {
            (Side::Accepted, Some(server), _) => {
                let tls = futures_rustls::TlsAcceptor::from(server.clone())
                    .accept(Shared(stream))
                    .await?;
                let (read, write) = futures_lite::io::split(tls);
                return Ok((Box::new(read), Box::new(write)));
            }
            (Side::Connected, _, Some(client)) => {
                let name = match &self.tls.server_name {
                    Some(name) => name.clone(),
                    None => stream.get_ref().peer_addr()?.ip().into(),
                };
                let tls = futures_rustls::TlsConnector::from(client.clone())
                    .connect(name, Shared(stream))
                    .await?;
                let (read, write) = futures_lite::io::split(tls);
                return Ok((Box::new(read), Box::new(write)));
            }
            _ => {}
        }
        let _ = side;
        // Plain TCP: both halves share the socket, without a lock.
        Ok((Box::new(Shared(stream.clone())), Box::new(Shared(stream))))
    }
}

/// A socket shared by its reading and writing halves: `&Async<TcpStream>` reads and writes.
struct Shared(Arc<Async<TcpStream>>);

impl AsyncRead for Shared {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Shared {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_close(cx)
    }
}
