//! What the driver needs of an async runtime, in quinn's shape (`quinn/src/runtime.rs`): tasks,
//! a blocking pool, one resettable timer, TCP, the clock and randomness. A runtime is a short
//! implementation of [`Runtime`]; the drive loop is written once against it.
//!
//! Everything the driver knows of time and chance comes from here, so a simulated runtime (virtual
//! time, an in-memory network, a seeded scheduler) replays a run bit for bit.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use fixgate_core::{EngineConfig, Now};
use futures_io::{AsyncRead, AsyncWrite};

/// An async runtime, as the driver uses it.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// The engine task's one timer.
    type Timer: AsyncTimer;
    /// A listening socket.
    type Listener: Listener<Stream = Self::Stream>;
    /// A connected TCP stream.
    type Stream: TcpStream;

    /// Runs `task` to completion on the runtime, detached.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static);

    /// Runs `work` on a thread where blocking is allowed (a store's fsync), detached; `work`
    /// reports its own result.
    fn spawn_blocking(&self, work: impl FnOnce() + Send + 'static);

    /// A timer that fires at `deadline`.
    fn new_timer(&self, deadline: Instant) -> Self::Timer;

    /// Binds and listens on `addr`, with `options` (accepted streams inherit them).
    fn listen(&self, addr: SocketAddr, options: &SocketOptions) -> io::Result<Self::Listener>;

    /// Connects to `addr`, with `options` set before the connection opens.
    fn connect(
        &self,
        addr: SocketAddr,
        options: &SocketOptions,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + 'static;

    /// The time: `mono` on the clock the timers use, `utc` the wall clock.
    fn now(&self) -> Now;

    /// A random number, for hasher seeds.
    fn seed(&self) -> u64;

    /// Lets the runtime run the other tasks that are ready before this one goes on: a reader
    /// yields after handing a read over, so that the engine task answers it before the next
    /// read. By default the task wakes itself and returns `Pending` once.
    fn yield_now(&self) -> impl Future<Output = ()> + Send {
        yield_now()
    }
}

/// A timer that can be moved (quinn's `AsyncTimer`): the engine task keeps one and resets it
/// whenever the engine's deadline moves, instead of registering a new one per turn.
pub trait AsyncTimer: Send + Unpin + 'static {
    /// Fires at `deadline` instead.
    fn reset(&mut self, deadline: Instant);
    /// Ready once the deadline has passed.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// A listening TCP socket.
pub trait Listener: Send + 'static {
    /// The streams it accepts.
    type Stream;
    /// The address it is bound to.
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// The next connection and its peer's address; accepted streams carry the listener's
    /// [`SocketOptions`] (`TCP_NODELAY` included).
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;
}

/// A connected TCP stream: futures-io reads and writes (vectored writes, flush, and `close` as
/// the write side's shutdown), split into halves that two tasks own.
pub trait TcpStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// The reading half.
    type ReadHalf: ReadHalf;
    /// The writing half.
    type WriteHalf: AsyncWrite + Send + Unpin + 'static;
    /// The peer's address.
    fn peer_addr(&self) -> io::Result<SocketAddr>;
    /// Splits the stream; the socket closes once both halves are dropped.
    fn into_split(self) -> (Self::ReadHalf, Self::WriteHalf);
}

/// A stream's reading half: reads into the driver's [`ReadBuffer`], and a non-blocking
/// try-read (`ReceiveSpinningTimeout`).
pub trait ReadHalf: AsyncRead + Send + Unpin + 'static {
    /// Reads into `buf`; returns how many bytes. By default `poll_read` into
    /// [`ReadBuffer::room`]; a stream that can read into uninitialized memory overrides it with
    /// [`ReadBuffer::spare`], and saves the zeroing.
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuffer,
    ) -> Poll<io::Result<usize>> {
        Pin::new(self).poll_read(cx, buf.room())
    }

    /// Reads what is there now into `buf`, without waiting and without arming a wake-up:
    /// `None` when nothing is. By default a `poll_read` with a no-op waker.
    fn try_read(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(self).poll_read(&mut cx, buf) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}

/// A connection reader's buffer. The bytes of each read are cut from it and handed to the
/// engine as they are (no copy); once it runs low it starts again, taking back the memory the
/// engine has dropped since.
#[derive(Debug, Default)]
pub struct ReadBuffer {
    /// Under [`room`](Self::room): initialized bytes to read into. Under
    /// [`spare`](Self::spare): the bytes just read.
    buf: BytesMut,
}

/// The most bytes one read asks for.
const READ_BUFFER: usize = 16 * 1024;
/// Below this much room the buffer starts again.
const MIN_READ: usize = 4 * 1024;

impl ReadBuffer {
    /// Initialized room to read into, for `poll_read`: zeroed only when the buffer starts again
    /// (once per 12 KiB or more read).
    pub fn room(&mut self) -> &mut [u8] {
        if self.buf.len() < MIN_READ {
            self.buf.clear();
            self.buf.resize(READ_BUFFER, 0);
        }
        &mut self.buf[..]
    }

    /// An empty buffer with room in its spare capacity, for a stream that reads into
    /// uninitialized memory and appends (tokio's `read_buf`).
    pub fn spare(&mut self) -> &mut BytesMut {
        self.buf.clear();
        if self.buf.capacity() < MIN_READ {
            self.buf.reserve(READ_BUFFER);
        }
        &mut self.buf
    }

    /// The `n` bytes just read, cut off.
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        self.buf.split_to(n).freeze()
    }
}

/// The socket options the engine sets on every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// `TCP_NODELAY`: always on, since FIX messages are small and latency-bound.
    pub nodelay: bool,
    /// `SO_SNDBUF` in bytes (`SocketSendBufferSize`); 0 keeps the system's size.
    pub send_buffer_size: usize,
    /// `SO_RCVBUF` in bytes (`SocketReceiveBufferSize`); 0 keeps the system's size.
    pub receive_buffer_size: usize,
    /// The listen backlog, capped by `net.core.somaxconn`. The usual 128 drops SYNs when a
    /// thousand counterparties connect at once, and each drop costs that peer 1 s.
    pub listen_backlog: u32,
}

impl SocketOptions {
    /// The options `config` asks for.
    pub fn of(config: &EngineConfig) -> Self {
        Self {
            nodelay: true,
            send_buffer_size: config.socket_send_buffer_size,
            receive_buffer_size: config.socket_receive_buffer_size,
            listen_backlog: 4096,
        }
    }
}

/// Waits for `timer`.
pub(crate) async fn sleep(timer: &mut impl AsyncTimer) {
    std::future::poll_fn(|cx| timer.poll_expired(cx)).await;
}

/// Runs `future` until it completes (`Some`), or until `timer` fires first (`None`).
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) async fn within<T>(
    timer: &mut impl AsyncTimer,
    future: impl Future<Output = T>,
) -> Option<T> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        timer.poll_expired(cx).map(|()| None)
    })
    .await
}

/// Lets the runtime run other tasks once: wakes itself and returns `Pending` once.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}
