//! One connection's outbound bytes on the engine task: the frames sent and not yet written,
//! written with vectored writes through the connection's writing half ([`PollWrite`]).

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::task::Poll;

use bytes::{Buf, Bytes};

/// How many frames one vectored write takes at most.
const WRITE_SLICES: usize = 64;

/// A socket's writing half as the engine task polls it: a futures-io `AsyncWrite`, bound to the
/// task's context, so that a full socket wakes that task when it has room.
pub(crate) trait PollWrite {
    /// Writes from the start of `bufs`; `Pending` while the socket is full.
    fn poll_write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>>;
    /// Sends on what the stream holds back (a TLS record); plain TCP holds nothing.
    fn poll_flush(&mut self) -> Poll<io::Result<()>>;
}

/// The frames of [`Output::Send`](fixgate_core::Output::Send)s for one connection, in order, until the
/// socket has taken them: gathered into vectored writes without copying them into one buffer.
/// After a write fails, the connection is ending: what it held is dropped, and so is what is
/// sent to it later.
#[derive(Debug, Default)]
pub(crate) struct WriteQueue {
    frames: VecDeque<Bytes>,
    /// Everything was written, but the stream has not flushed it yet.
    unflushed: bool,
    failed: bool,
}

impl WriteQueue {
    /// Queues a frame behind the others. Returns true when the queue had nothing to write or
    /// flush before: the engine task then lists the connection for writing.
    pub(crate) fn push(&mut self, frame: Bytes) -> bool {
        if self.failed {
            return false;
        }
        let was_idle = self.is_idle();
        self.frames.push_back(frame);
        was_idle
    }

    /// Whether nothing is left to write or flush.
    pub(crate) fn is_idle(&self) -> bool {
        self.frames.is_empty() && !self.unflushed
    }

    /// Writes as far as `write` takes without waiting, then flushes once everything is out;
    /// returns the bytes written. After an error the queue is failed (see [`WriteQueue`]).
    pub(crate) fn write_some(&mut self, write: &mut impl PollWrite) -> io::Result<usize> {
        let mut written = 0;
        let result = match self.poll_write(write, &mut written) {
            Poll::Ready(Ok(())) => match write.poll_flush() {
                Poll::Ready(result) => {
                    self.unflushed = false;
                    result
                }
                Poll::Pending => {
                    self.unflushed = true;
                    Ok(())
                }
            },
            Poll::Ready(Err(error)) => Err(error),
            Poll::Pending => Ok(()),
        };
        match result {
            Ok(()) => Ok(written),
            Err(error) => {
                *self = Self {
                    failed: true,
                    ..Self::default()
                };
                Err(error)
            }
        }
    }

    /// Writes until the queue is empty (a closing connection's last bytes); `Pending` while the
    /// socket is full.
    pub(crate) fn poll_write_all(&mut self, write: &mut impl PollWrite) -> Poll<io::Result<()>> {
        self.poll_write(write, &mut 0)
    }

    /// Writes until the queue is empty, the socket is full or a write fails, adding what was
    /// written to `written`.
    fn poll_write(
        &mut self,
        write: &mut impl PollWrite,
        written: &mut usize,
    ) -> Poll<io::Result<()>> {
        while !self.frames.is_empty() {
            let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
            let count = self.slices(&mut slices);
            let done = match write.poll_write_vectored(&slices[..count]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(done)) => done,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            };
            *written += done;
            self.consume(done);
        }
        Poll::Ready(Ok(()))
    }

    /// Points `slices` at the first queued bytes, one slice per frame; returns how many it set.
    fn slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        self.frames
            .iter()
            .zip(slices.iter_mut())
            .map(|(frame, slice)| *slice = IoSlice::new(frame))
            .count()
    }

    /// Drops the first `written` bytes: what a write took.
    fn consume(&mut self, mut written: usize) {
        while let Some(front) = self.frames.front_mut() {
            if front.len() > written {
                front.advance(written);
                return;
            }
            written -= front.len();
            self.frames.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that takes at most `room` bytes per write, then is full; it records them.
    struct Socket {
        room: usize,
        took: Vec<u8>,
        flushes: Poll<()>,
        fail: bool,
    }

    impl PollWrite for Socket {
        fn poll_write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
            if self.fail {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            if self.room == 0 {
                return Poll::Pending;
            }
            let bytes: Vec<u8> = bufs.iter().flat_map(|b| b.to_vec()).collect();
            let n = bytes.len().min(self.room);
            self.room -= n;
            self.took.extend_from_slice(&bytes[..n]);
            Poll::Ready(Ok(n))
        }

        fn poll_flush(&mut self) -> Poll<io::Result<()>> {
            self.flushes.map(Ok)
        }
    }

    fn socket(room: usize) -> Socket {
        Socket {
            room,
            took: Vec::new(),
            flushes: Poll::Ready(()),
            fail: false,
        }
    }

    #[test]
    fn writes_across_frames_and_within_one_until_the_socket_is_full() {
        let mut queue = WriteQueue::default();
        for frame in ["abc", "de", "fghi"] {
            let first = queue.is_idle();
            assert_eq!(queue.push(Bytes::from_static(frame.as_bytes())), first);
        }
        let mut sock = socket(4);
        assert_eq!(queue.write_some(&mut sock).unwrap(), 4);
        assert_eq!(sock.took, b"abcd");
        assert!(!queue.is_idle());
        sock.room = 100;
        assert_eq!(queue.write_some(&mut sock).unwrap(), 5);
        assert_eq!(sock.took, b"abcdefghi");
        assert!(queue.is_idle());
    }

    #[test]
    fn stays_listed_until_flushed() {
        let mut queue = WriteQueue::default();
        assert!(queue.push(Bytes::from_static(b"abc")));
        let mut sock = socket(100);
        sock.flushes = Poll::Pending;
        assert_eq!(queue.write_some(&mut sock).unwrap(), 3);
        assert!(!queue.is_idle(), "written, not flushed");
        assert!(!queue.push(Bytes::from_static(b"d")), "still listed");
        sock.flushes = Poll::Ready(());
        assert_eq!(queue.write_some(&mut sock).unwrap(), 1);
        assert!(queue.is_idle());
    }

    #[test]
    fn a_failed_write_drops_what_is_queued_and_what_comes_later() {
        let mut queue = WriteQueue::default();
        queue.push(Bytes::from_static(b"abc"));
        let mut sock = socket(100);
        sock.fail = true;
        assert!(queue.write_some(&mut sock).is_err());
        assert!(queue.is_idle());
        assert!(!queue.push(Bytes::from_static(b"d")), "dropped");
        assert!(queue.is_idle());
    }

    #[test]
    fn writes_all_once_the_socket_has_room() {
        let mut queue = WriteQueue::default();
        queue.push(Bytes::from_static(b"abcdef"));
        let mut sock = socket(2);
        assert!(queue.poll_write_all(&mut sock).is_pending());
        sock.room = 10;
        assert!(matches!(
            queue.poll_write_all(&mut sock),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(sock.took, b"abcdef");
    }
}
