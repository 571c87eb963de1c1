//! Handles on the simulated world that tasks hold: sockets, listeners and timers. Each locks
//! the world only for the call.

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::executor::{World, lock};
use super::net::Endpoint;

/// A connected socket, or a half of one: the socket closes when its last handle is dropped.
pub struct SimStream {
    world: Arc<Mutex<World>>,
    end: Endpoint,
    _socket: Arc<Socket>,
}

/// What closes the socket once no handle holds it.
struct Socket {
    world: Arc<Mutex<World>>,
    end: Endpoint,
}

impl Drop for Socket {
    fn drop(&mut self) {
        lock(&self.world).close(self.end);
    }
}

impl SimStream {
    fn new(world: Arc<Mutex<World>>, end: Endpoint) -> Self {
        let socket = Arc::new(Socket {
            world: world.clone(),
            end,
        });
        Self {
            world,
            end,
            _socket: socket,
        }
    }

    /// Connects to the listener at `addr`.
    pub fn connect(world: Arc<Mutex<World>>, addr: SocketAddr) -> io::Result<Self> {
        let end = lock(&world).connect(addr)?;
        Ok(Self::new(world, end))
    }

    /// A second handle on the same socket (the other half of a split).
    pub fn clone_handle(&self) -> Self {
        Self {
            world: self.world.clone(),
            end: self.end,
            _socket: self._socket.clone(),
        }
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        lock(&self.world).peer_addr(self.end)
    }

    /// Reads what has arrived into `buf`; `Ok(0)` is the end of the stream.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        lock(&self.world).read(self.end, buf, Some(cx.waker()))
    }

    /// Reads what has arrived into `buf` without waiting: `WouldBlock` when nothing has.
    pub fn try_recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match lock(&self.world).read(self.end, buf, None) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::Error::from(io::ErrorKind::WouldBlock)),
        }
    }

    /// Writes what the connection has room for.
    pub fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        lock(&self.world).write(self.end, bufs, cx.waker())
    }

    /// Shuts the writing side down.
    pub fn shutdown(&mut self) {
        lock(&self.world).shutdown(self.end);
    }

    /// Resets the connection.
    pub fn reset(&mut self) {
        lock(&self.world).reset(self.end);
    }

    /// Reads into `buf`, waiting for bytes.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Writes all of `bytes`, waiting for room.
    pub async fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let n = std::future::poll_fn(|cx| self.poll_send(cx, &[IoSlice::new(bytes)])).await?;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// A listening socket.
pub struct SimListener {
    world: Arc<Mutex<World>>,
    addr: SocketAddr,
}

impl SimListener {
    /// Listens at `addr`.
    pub fn bind(world: Arc<Mutex<World>>, addr: SocketAddr) -> io::Result<Self> {
        lock(&world).listen(addr)?;
        Ok(Self { world, addr })
    }

    /// The address it listens at.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next connection.
    pub fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(SimStream, SocketAddr)>> {
        let world = self.world.clone();
        lock(&self.world)
            .poll_accept(self.addr, cx.waker())
            .map_ok(|(end, peer)| (SimStream::new(world, end), peer))
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        lock(&self.world).unlisten(self.addr);
    }
}

/// A timer that fires at a virtual deadline and can be moved.
pub struct SimTimer {
    world: Arc<Mutex<World>>,
    deadline: Instant,
    armed: Option<(Duration, u64)>,
}

impl SimTimer {
    /// A timer for `deadline`.
    pub fn new(world: Arc<Mutex<World>>, deadline: Instant) -> Self {
        Self {
            world,
            deadline,
            armed: None,
        }
    }

    /// Moves the deadline.
    pub fn move_to(&mut self, deadline: Instant) {
        if deadline != self.deadline {
            self.deadline = deadline;
            if let Some(key) = self.armed.take() {
                lock(&self.world).cancel(key);
            }
        }
    }
}

impl Future for SimTimer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut world = lock(&this.world);
        if let Some(key) = this.armed.take() {
            world.cancel(key);
        }
        let at = world.elapsed_at(this.deadline);
        if at <= world.elapsed {
            return Poll::Ready(());
        }
        this.armed = Some(world.wake_at(at, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for SimTimer {
    fn drop(&mut self) {
        if let Some(key) = self.armed.take() {
            lock(&self.world).cancel(key);
        }
    }
}
