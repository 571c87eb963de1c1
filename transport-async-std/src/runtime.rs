//! fixgate-driver's [`Runtime`] on async-io: the caller's spawner, `blocking`'s thread pool,
//! async-io's timers and sockets (socket2 for the options), and std's clock.

use std::hash::BuildHasher;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use async_io::Async;
use fixgate_core::Now;
use fixgate_driver::{AsyncTimer, Listener, ReadHalf, Runtime, SocketOptions};
use futures_lite::{AsyncRead, AsyncWrite};

/// The runtime's `spawn`: under smol `Arc::new(|task| smol::spawn(task).detach())`, under
/// async-std `Arc::new(|task| { async_std::task::spawn(task); })`.
pub type Spawner = Arc<dyn Fn(Pin<Box<dyn Future<Output = ()> + Send>>) + Send + Sync>;

/// async-io, as fixgate-driver uses it: tasks through the caller's [`Spawner`].
#[derive(Clone)]
pub struct AsyncIo {
    spawner: Spawner,
}

impl AsyncIo {
    /// The runtime whose tasks `spawner` runs.
    pub fn new(spawner: Spawner) -> Self {
        Self { spawner }
    }
}

impl std::fmt::Debug for AsyncIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncIo").finish_non_exhaustive()
    }
}

impl Runtime for AsyncIo {
    type Timer = Timer;
    type Listener = AsyncListener;
    type Stream = Stream;

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        (self.spawner)(Box::pin(task));
    }

    fn spawn_blocking(&self, work: impl FnOnce() + Send + 'static) {
        blocking::unblock(work).detach();
    }

    fn new_timer(&self, deadline: Instant) -> Timer {
        Timer(async_io::Timer::at(deadline))
    }

    fn listen(&self, addr: SocketAddr, options: &SocketOptions) -> io::Result<AsyncListener> {
        let socket = new_socket(addr, options)?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(i32::try_from(options.listen_backlog).unwrap_or(i32::MAX))?;
        Ok(AsyncListener {
            listener: Async::new(TcpListener::from(socket))?,
            nodelay: options.nodelay,
        })
    }

    fn connect(
        &self,
        addr: SocketAddr,
        options: &SocketOptions,
    ) -> impl Future<Output = io::Result<Stream>> + Send + 'static {
        let socket = new_socket(addr, options);
        let nodelay = options.nodelay;
        async move {
            let stream = connect(socket?, addr).await?;
            stream.get_ref().set_nodelay(nodelay)?;
            Ok(Stream(Arc::new(stream)))
        }
    }

    fn now(&self) -> Now {
        Now {
            mono: Instant::now(),
            utc: SystemTime::now(),
        }
    }

    fn seed(&self) -> u64 {
        std::collections::hash_map::RandomState::new().hash_one(0u8)
    }
}

/// A socket for `addr`, with the kernel buffers `options` set (before it connects or listens, so
/// that the window it announces fits them).
fn new_socket(addr: SocketAddr, options: &SocketOptions) -> io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if options.send_buffer_size > 0 {
        socket.set_send_buffer_size(options.send_buffer_size)?;
    }
    if options.receive_buffer_size > 0 {
        socket.set_recv_buffer_size(options.receive_buffer_size)?;
    }
    Ok(socket)
}

/// Connects `socket` to `addr` without blocking the executor.
async fn connect(socket: socket2::Socket, addr: SocketAddr) -> io::Result<Async<TcpStream>> {
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(error)
            if error.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
        Err(error) => return Err(error),
    }
    let stream = Async::new_nonblocking(TcpStream::from(socket))?;
    stream.writable().await?;
    match stream.get_ref().take_error()? {
        Some(error) => Err(error),
        None => Ok(stream),
    }
}

/// The engine task's timer: one async-io `Timer`, moved as the deadline moves.
#[derive(Debug)]
pub struct Timer(async_io::Timer);

impl AsyncTimer for Timer {
    fn reset(&mut self, deadline: Instant) {
        self.0.set_at(deadline);
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

/// The listening port; accepted streams get `TCP_NODELAY`.
#[derive(Debug)]
pub struct AsyncListener {
    listener: Async<TcpListener>,
    nodelay: bool,
}

impl Listener for AsyncListener {
    type Stream = Stream;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.get_ref().local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Stream, SocketAddr)> {
        let (stream, peer) = self.listener.accept().await?;
        stream.get_ref().set_nodelay(self.nodelay)?;
        Ok((Stream(Arc::new(stream)), peer))
    }
}

/// A connected socket, shared by its reading and writing halves without a lock
/// (`&Async<TcpStream>` reads and writes); it closes when both are dropped.
#[derive(Clone, Debug)]
pub struct Stream(Arc<Async<TcpStream>>);

impl fixgate_driver::TcpStream for Stream {
    type ReadHalf = Self;
    type WriteHalf = Self;

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().peer_addr()
    }

    fn into_split(self) -> (Self, Self) {
        (self.clone(), self)
    }
}

impl ReadHalf for Stream {}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
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
