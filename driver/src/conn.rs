//! A connection as the engine task sees it, and its reader task: the reader hands each read to
//! the engine task without a copy, and waits while the engine's inbound flow control (or its own
//! reads not yet taken) shut its gate. The engine task writes the connection itself.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{self, Poll, Waker};
use std::time::Duration;

use fixgate_core::ConnId;

use crate::channel::Sender;
use crate::runtime::{ReadBuffer, Runtime};
use crate::security::{Reader, Writer};
use crate::task::Input;
use crate::write_queue::{PollWrite, WriteQueue};

/// Reads a connection's reader may hand over before the engine task has taken them.
pub(crate) const READS_AHEAD: usize = 4;

/// A connection: its writing half, which the engine task writes itself (no task hop between a
/// reply and its `write`), and the gate its reader waits on. Dropping it ends the reader.
pub(crate) struct Connection {
    /// `None` until the reader has completed the TLS handshake, and after a write failed.
    pub(crate) write: Option<Writer>,
    /// Bytes sent and not yet written (or flushed), in order.
    pub(crate) queue: WriteQueue,
    pub(crate) gate: std::sync::Arc<Gate>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.gate.closed.store(true, Ordering::Release);
        self.gate.wake();
    }
}

/// What a connection's reader waits on: the engine's inbound flow control (`Output::PauseInput`
/// until `Output::ResumeInput`), its reads not yet taken by the engine task (at most
/// [`READS_AHEAD`]), so that a peer faster than the engine fills kernel buffers, not ours; and
/// the connection's end.
#[derive(Default)]
pub(crate) struct Gate {
    pub(crate) paused: AtomicBool,
    pub(crate) ahead: AtomicUsize,
    closed: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Gate {
    fn is_shut(&self) -> bool {
        self.paused.load(Ordering::Acquire) || self.ahead.load(Ordering::Acquire) >= READS_AHEAD
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Wakes the reader if it waits.
    pub(crate) fn wake(&self) {
        let waker = self
            .waker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn register(&self, waker: &Waker) {
        let mut slot = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Polls `poll` until the connection ends: `Ready(None)` once it has.
    fn poll_until_closed<T>(
        &self,
        cx: &mut task::Context<'_>,
        poll: impl FnOnce(&mut task::Context<'_>) -> Poll<T>,
    ) -> Poll<Option<T>> {
        if self.is_closed() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(value) = poll(cx) {
            return Poll::Ready(Some(value));
        }
        self.register(cx.waker());
        // Closed between the check and the registration: the wake-up went to nobody.
        if self.is_closed() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    /// Waits until the gate is open: false once the connection has ended.
    async fn open(&self) -> bool {
        std::future::poll_fn(|cx| {
            self.poll_until_closed(cx, |_| {
                if self.is_shut() {
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
        })
        .await
        .is_some()
    }

    /// Runs `future` until it completes or the connection ends.
    pub(crate) async fn until_closed<T>(&self, future: impl Future<Output = T>) -> Option<T> {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| self.poll_until_closed(cx, |cx| future.as_mut().poll(cx))).await
    }
}

/// Reads a connection until it ends, passing the bytes to the engine task, and not while its
/// `gate` is shut. Each read is handed on without a copy ([`ReadBuffer`]).
pub(crate) async fn read_all<R: Runtime>(
    runtime: &R,
    conn: ConnId,
    read: &mut Reader,
    inputs: &Sender<Input<R>>,
    gate: &Gate,
    spin: Duration,
) {
    let mut buf = ReadBuffer::default();
    let mut last_read = runtime.now().mono;
    loop {
        if !gate.open().await {
            return;
        }
        let read = gate.until_closed(read_spinning(runtime, read, &mut buf, spin, last_read));
        match read.await {
            None | Some(Ok(0) | Err(_)) => return,
            Some(Ok(n)) => {
                if !spin.is_zero() {
                    last_read = runtime.now().mono;
                }
                let bytes = buf.take(n);
                gate.ahead.fetch_add(1, Ordering::AcqRel);
                if inputs.send(Input::Data { conn, bytes }).is_err() {
                    return;
                }
                // The engine task, which writes the reply, runs before this reader reads again:
                // a read now would mostly find nothing, and its system call would come before
                // the reply's.
                runtime.yield_now().await;
            }
        }
    }
}

/// Reads into `buf`. Until `spin` has passed since `last_read`, the socket is tried again and
/// again (yielding to the other tasks in between) rather than waited on: the bytes are taken as
/// soon as they arrive, without the wake-up of a sleeping thread.
async fn read_spinning<R: Runtime>(
    runtime: &R,
    read: &mut Reader,
    buf: &mut ReadBuffer,
    spin: Duration,
    last_read: std::time::Instant,
) -> io::Result<usize> {
    while !spin.is_zero() && runtime.now().mono.saturating_duration_since(last_read) < spin {
        if let Some(result) = read.try_read(buf.room()) {
            return result;
        }
        runtime.yield_now().await;
    }
    std::future::poll_fn(|cx| read.poll_read_buf(cx, buf)).await
}

/// Writes `connection`'s queued bytes as far as the socket takes them without waiting; returns
/// the bytes written.
pub(crate) fn write_some(
    connection: &mut Connection,
    cx: &mut task::Context<'_>,
) -> io::Result<usize> {
    let Some(write) = connection.write.as_mut() else {
        return Ok(0);
    };
    connection.queue.write_some(&mut Polled { write, cx })
}

/// Writes everything queued, waiting for the socket as it must, then shuts the write side (a
/// closing connection's last bytes, on a task of their own).
pub(crate) async fn flush_and_close(mut write: Writer, mut queue: WriteQueue) {
    let written = std::future::poll_fn(|cx| {
        queue.poll_write_all(&mut Polled {
            write: &mut write,
            cx,
        })
    })
    .await;
    if written.is_ok() {
        let _ = std::future::poll_fn(|cx| Pin::new(&mut *write).poll_close(cx)).await;
    }
}

/// A writing half polled from a task: what [`WriteQueue`] writes through.
struct Polled<'a, 'b> {
    write: &'a mut Writer,
    cx: &'a mut task::Context<'b>,
}

impl PollWrite for Polled<'_, '_> {
    fn poll_write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self.write).poll_write_vectored(self.cx, bufs)
    }

    fn poll_flush(&mut self) -> Poll<io::Result<()>> {
        Pin::new(&mut **self.write).poll_flush(self.cx)
    }
}
