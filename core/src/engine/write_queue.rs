//! The bytes sent on one connection and not yet written, for an adapter's vectored writes.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes};

/// The frames of [`Output::Send`](super::Output::Send)s for one connection, in order, until the
/// socket has taken them: gathered into vectored writes without copying them into one buffer.
#[derive(Debug, Default)]
pub struct WriteQueue {
    frames: VecDeque<Bytes>,
}

impl WriteQueue {
    /// Queues a frame behind the others.
    pub fn push(&mut self, frame: Bytes) {
        self.frames.push_back(frame);
    }

    /// Whether everything has been written.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Forgets what is queued (the connection failed).
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// Points `slices` at the first queued bytes, one slice per frame; returns how many it set.
    pub fn slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        self.frames
            .iter()
            .zip(slices.iter_mut())
            .map(|(frame, slice)| *slice = IoSlice::new(frame))
            .count()
    }

    /// Drops the first `written` bytes: what a write took.
    pub fn consume(&mut self, mut written: usize) {
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

    #[test]
    fn consumes_across_frames_and_within_one() {
        let mut queue = WriteQueue::default();
        for frame in ["abc", "de", "fghi"] {
            queue.push(Bytes::from_static(frame.as_bytes()));
        }
        let mut slices = [IoSlice::new(&[]); 2];
        assert_eq!(queue.slices(&mut slices), 2, "as many as there is room for");
        assert_eq!(&*slices[1], b"de");
        queue.consume(4);
        let mut slices = [IoSlice::new(&[]); 4];
        let count = queue.slices(&mut slices);
        let rest: Vec<u8> = slices[..count].iter().flat_map(|s| s.to_vec()).collect();
        assert_eq!(rest, b"efghi");
        queue.consume(5);
        assert!(queue.is_empty());
    }
}
