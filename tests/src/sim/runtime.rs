//! The third [`Runtime`]: the driver's engine task, readers and handles run unchanged on the
//! simulated world (virtual time, the seeded scheduler, the in-memory network).

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use fixgate_core::Now;
use fixgate_driver::{AsyncTimer, Listener, ReadHalf, Runtime, SocketOptions, TcpStream};
use futures_io::{AsyncRead, AsyncWrite};

use super::executor::{ProcessId, STEP_COST, World, lock};
use super::socket::{SimListener, SimStream, SimTimer};

/// How long a blocking job (a store's sync) takes, at the least and at the most.
pub const BLOCKING_TIME: (Duration, Duration) =
    (Duration::from_micros(50), Duration::from_millis(5));

/// Says how much longer a blocking job waits before it runs, given when it was asked for and
/// the time now (both virtual); `None`: it runs now. A simulated service that stalls (a
/// database) holds the jobs that call it this way.
pub type BlockingGate = Arc<dyn Fn(Duration, Duration) -> Option<Duration> + Send + Sync>;

/// The simulated runtime of one process: what it spawns belongs to that process.
#[derive(Clone)]
pub struct SimRuntime {
    world: Arc<Mutex<World>>,
    process: ProcessId,
    gate: Option<BlockingGate>,
}

impl std::fmt::Debug for SimRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimRuntime")
            .field("process", &self.process)
            .finish_non_exhaustive()
    }
}

impl SimRuntime {
    /// The runtime of `process` in `world`.
    pub fn new(world: Arc<Mutex<World>>, process: ProcessId) -> Self {
        Self {
            world,
            process,
            gate: None,
        }
    }

    /// This runtime, whose blocking jobs also wait as long as `gate` says before they run.
    pub fn with_blocking_gate(mut self, gate: BlockingGate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Waits for `by` of virtual time.
    pub async fn sleep(&self, by: Duration) {
        let deadline = lock(&self.world).now().mono + by;
        SimTimer::new(self.world.clone(), deadline).await;
    }
}

impl Runtime for SimRuntime {
    type Timer = SimTimer;
    type Listener = SimListener;
    type Stream = SimStream;

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        lock(&self.world).spawn_in(self.process, Box::pin(task));
    }

    fn spawn_blocking(&self, work: impl FnOnce() + Send + 'static) {
        // A thread of the pool, as a task that takes a while of virtual time.
        let (asked, took) = {
            let mut world = lock(&self.world);
            let (low, high) = BLOCKING_TIME;
            let nanos = world
                .rng
                .between(low.as_nanos() as u64, high.as_nanos() as u64);
            (world.elapsed, Duration::from_nanos(nanos))
        };
        let this = self.clone();
        self.spawn(async move {
            this.sleep(took).await;
            if let Some(gate) = this.gate.clone() {
                loop {
                    let now = lock(&this.world).elapsed;
                    let Some(wait) = gate(asked, now) else { break };
                    this.sleep(wait.max(Duration::from_micros(1))).await;
                }
            }
            work();
        });
    }

    fn new_timer(&self, deadline: Instant) -> SimTimer {
        SimTimer::new(self.world.clone(), deadline)
    }

    fn listen(&self, addr: SocketAddr, _: &SocketOptions) -> io::Result<SimListener> {
        let previous = std::mem::replace(&mut lock(&self.world).current, self.process);
        let listener = SimListener::bind(self.world.clone(), addr);
        lock(&self.world).current = previous;
        listener
    }

    fn connect(
        &self,
        addr: SocketAddr,
        _: &SocketOptions,
    ) -> impl Future<Output = io::Result<SimStream>> + Send + 'static {
        let this = self.clone();
        async move {
            // A connection takes a round trip to open.
            this.sleep(Duration::from_micros(100)).await;
            SimStream::connect(this.world.clone(), addr)
        }
    }

    fn now(&self) -> Now {
        let mut world = lock(&self.world);
        world.steps += 1;
        world.charge(STEP_COST);
        world.now()
    }

    fn seed(&self) -> u64 {
        lock(&self.world).rng.next_u64()
    }
}

impl AsyncTimer for SimTimer {
    fn reset(&mut self, deadline: Instant) {
        self.move_to(deadline);
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(self).poll(cx)
    }
}

impl Listener for SimListener {
    type Stream = SimStream;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr())
    }

    fn accept(&mut self) -> impl Future<Output = io::Result<(SimStream, SocketAddr)>> + Send {
        std::future::poll_fn(|cx| self.poll_accept(cx))
    }
}

impl AsyncRead for SimStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_recv(cx, buf)
    }
}

impl AsyncWrite for SimStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_send(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_send(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().shutdown();
        Poll::Ready(Ok(()))
    }
}

impl TcpStream for SimStream {
    type ReadHalf = Self;
    type WriteHalf = Self;

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer())
    }

    fn into_split(self) -> (Self, Self) {
        let other = self.clone_handle();
        (self, other)
    }
}

impl ReadHalf for SimStream {
    fn try_read(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match self.try_recv(buf) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => None,
            result => Some(result),
        }
    }
}
