//! fixgate-driver's [`Runtime`] on tokio: tasks, `spawn_blocking`, one `Sleep`, tokio's TCP
//! (behind futures-io), and tokio's clock, so that paused-time tests work.

use std::hash::BuildHasher;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use fixgate_core::Now;
use fixgate_driver::{
    AsyncTimer, Listener, ReadBuffer, ReadHalf, Runtime, SocketOptions, TcpStream,
};
use tokio::io::AsyncReadExt;
use tokio::io::ReadBuf;
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The tokio runtime, as fixgate-driver uses it: the tasks go to the current runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    type Timer = Timer;
    type Listener = TokioListener;
    type Stream = Compat<tokio::net::TcpStream>;

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(task);
    }

    fn spawn_blocking(&self, work: impl FnOnce() + Send + 'static) {
        tokio::task::spawn_blocking(work);
    }

    fn new_timer(&self, deadline: Instant) -> Timer {
        Timer(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    fn listen(&self, addr: SocketAddr, options: &SocketOptions) -> io::Result<TokioListener> {
        let socket = new_socket(addr, options)?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(options.listen_backlog)?;
        Ok(TokioListener {
            listener,
            nodelay: options.nodelay,
        })
    }

    fn connect(
        &self,
        addr: SocketAddr,
        options: &SocketOptions,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + 'static {
        let socket = new_socket(addr, options);
        let nodelay = options.nodelay;
        async move {
            let stream = socket?.connect(addr).await?;
            stream.set_nodelay(nodelay)?;
            Ok(Compat(stream))
        }
    }

    fn now(&self) -> Now {
        Now {
            mono: tokio::time::Instant::now().into_std(),
            utc: SystemTime::now(),
        }
    }

    fn seed(&self) -> u64 {
        std::collections::hash_map::RandomState::new().hash_one(0u8)
    }

    /// tokio's own: the task runs again only after the I/O driver has been polled, so the
    /// engine task answers a read before its reader reads again.
    async fn yield_now(&self) {
        tokio::task::yield_now().await;
    }
}

/// A socket for `addr`, with the kernel buffers `options` set (before it connects or listens, so
/// that the window it announces fits them).
fn new_socket(addr: SocketAddr, options: &SocketOptions) -> io::Result<TcpSocket> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    let size = |bytes: usize| u32::try_from(bytes).unwrap_or(u32::MAX);
    if options.send_buffer_size > 0 {
        socket.set_send_buffer_size(size(options.send_buffer_size))?;
    }
    if options.receive_buffer_size > 0 {
        socket.set_recv_buffer_size(size(options.receive_buffer_size))?;
    }
    Ok(socket)
}

/// The engine task's timer: one `Sleep`, reset as the deadline moves.
#[derive(Debug)]
pub struct Timer(Pin<Box<tokio::time::Sleep>>);

impl AsyncTimer for Timer {
    fn reset(&mut self, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

/// The listening port; accepted streams get `TCP_NODELAY`.
#[derive(Debug)]
pub struct TokioListener {
    listener: tokio::net::TcpListener,
    nodelay: bool,
}

impl Listener for TokioListener {
    type Stream = Compat<tokio::net::TcpStream>;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Stream, SocketAddr)> {
        let (stream, peer) = self.listener.accept().await?;
        stream.set_nodelay(self.nodelay)?;
        Ok((Compat(stream), peer))
    }
}

/// A tokio stream (or half) behind futures-io's traits.
#[derive(Debug)]
pub struct Compat<T>(T);

impl TcpStream for Compat<tokio::net::TcpStream> {
    type ReadHalf = Compat<OwnedReadHalf>;
    type WriteHalf = Compat<OwnedWriteHalf>;

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    fn into_split(self) -> (Self::ReadHalf, Self::WriteHalf) {
        let (read, write) = self.0.into_split();
        (Compat(read), Compat(write))
    }
}

impl ReadHalf for Compat<OwnedReadHalf> {
    /// tokio reads into the buffer's uninitialized spare capacity: nothing is zeroed first.
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuffer,
    ) -> Poll<io::Result<usize>> {
        std::pin::pin!(self.0.read_buf(buf.spare())).poll(cx)
    }
}

impl<T: tokio::io::AsyncRead + Unpin> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        Pin::new(&mut self.0)
            .poll_read(cx, &mut buf)
            .map_ok(|()| buf.filled().len())
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> futures_io::AsyncWrite for Compat<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
