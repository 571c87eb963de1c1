//! The message store: where outbound messages and both sequence numbers are kept, so that a
//! session survives reconnects and crashes (DESIGN.md section 4).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::SeqNum;
use crate::time::UtcTimestamp;

/// Why a store operation failed. It carries the I/O error's kind, never the error itself, so that
/// core errors stay `Clone + Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The underlying storage failed.
    #[error("store I/O failed: {0:?}")]
    Io(std::io::ErrorKind),
    /// This instance may not act for the session now: its lease lapsed (a renewal may bring it
    /// back) or another instance claimed the session (the fencing token moved on). Nothing more
    /// is written, sent or delivered while it lasts.
    #[error("store fenced: this instance's lease on the session does not hold")]
    Fenced,
    /// A record was appended out of sequence.
    #[error("store append of {seq} out of order (next is {expected})")]
    OutOfOrder {
        /// The number appended.
        seq: SeqNum,
        /// The number the store expected.
        expected: SeqNum,
    },
}

/// What a session persists: its outbound messages and its two sequence numbers.
///
/// Contract (DESIGN.md section 4):
/// - [`append`](Self::append) MUST make the frame visible to the operating system before it
///   returns (a `write()` or a memory-mapped append), so that it survives a process crash;
///   unless the store says otherwise ([`durable_before_commit`](Self::durable_before_commit)),
///   and then its sessions commit before every send. The
///   session appends a message **before** handing its bytes out.
/// - Syncing to stable storage is separate: under `StorageDurability::Batch` or `Each` the session
///   emits `Action::Commit` before the sends that depend on it, and the adapter syncs the store
///   off its executor before writing them.
/// - A reply's record carries the inbound MsgSeqNum it answers (`answers`), written with it, so
///   that recovery knows that inbound message was processed.
pub trait MessageStore {
    /// Stores outbound message `seq`, which the session has just encoded. `answers` is the inbound
    /// MsgSeqNum this message replies to, if any.
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError>;

    /// [`append`](Self::append) of a frame the store may keep as it is: a store that holds
    /// frames in memory shares it instead of copying it. The session appends this way.
    fn append_shared(
        &mut self,
        seq: SeqNum,
        frame: &Bytes,
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        self.append(seq, frame, answers)
    }

    /// The next outbound MsgSeqNum.
    fn next_sender_seq(&self) -> SeqNum;

    /// The next inbound MsgSeqNum that has not been processed.
    fn next_target_seq(&self) -> SeqNum;

    /// Persists the next outbound MsgSeqNum (after a SequenceReset or an operator's command).
    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), StoreError>;

    /// Persists the next inbound MsgSeqNum to process.
    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), StoreError>;

    /// Calls `each` with every stored message from `from` to `to` inclusive, in order. Numbers
    /// without a stored message are skipped.
    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), StoreError>;

    /// Forgets every message and sets both numbers to 1 (a sequence reset). `now` becomes the
    /// new creation time.
    fn reset(&mut self, now: UtcTimestamp) -> Result<(), StoreError>;

    /// When the current sequence of messages began.
    fn creation_time(&self) -> UtcTimestamp;

    /// The inbound MsgSeqNums at or above `from` that stored replies answer: messages already
    /// processed although the next-expected number has not passed them (they were settled out of
    /// order). A recovered session does not deliver them again.
    fn answered_from(&self, from: SeqNum) -> Vec<SeqNum> {
        let _ = from;
        Vec::new()
    }

    /// Whether an appended message survives a crash of the process before any commit (the
    /// contract above). A store that keeps appends in memory until its commit (a database)
    /// says no, and its sessions then commit before every send, whatever `StorageDurability`
    /// says.
    fn durable_before_commit(&self) -> bool {
        true
    }

    /// For a store shared by several instances (failover): until when this instance may act
    /// for the session, by the monotonic clock the session is given (`Now::mono`). `None`: for
    /// as long as it likes (the store is this instance's own). Past that time the engine
    /// refuses the session's Logon as it refuses an unknown session's, and a connected session
    /// closes without a Logout at its next input or timer, before it delivers or sends anything.
    fn held_until(&self) -> Option<Instant> {
        None
    }

    /// A handle that makes what was appended so far durable, usable from another thread while
    /// the session keeps the store: the adapter runs it off its executor when the session emits
    /// `Action::Commit`. `None` for a store with nothing to sync (memory).
    fn sync_handle(&self) -> Option<Arc<dyn SyncHandle>> {
        None
    }
}

/// Makes a store's appended data durable (fsync, msync). See [`MessageStore::sync_handle`].
pub trait SyncHandle: Send + Sync {
    /// Blocks until everything appended before the call is on stable storage.
    fn sync(&self) -> Result<(), StoreError>;
}

/// A [`MessageStore`] in memory: nothing survives the process. For tests, and for sessions whose
/// counterparty resets sequence numbers at every logon.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    /// Stored messages in ascending order of their numbers (gaps where the number was moved
    /// on): appending the next one is a push at the back.
    messages: VecDeque<Stored>,
    next_sender: SeqNum,
    next_target: SeqNum,
    created: UtcTimestamp,
}

impl MemoryStore {
    /// An empty store created at `now`.
    pub fn new(now: UtcTimestamp) -> Self {
        Self {
            messages: VecDeque::new(),
            next_sender: SeqNum::FIRST,
            next_target: SeqNum::FIRST,
            created: now,
        }
    }

    /// The number of stored messages.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no message is stored.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Forgets the oldest messages until at most `keep` are left (a store that holds only a
    /// bounded tail in memory). The numbers do not change.
    pub fn keep_last(&mut self, keep: usize) {
        let excess = self.messages.len().saturating_sub(keep);
        self.messages.drain(..excess);
    }

    /// The inbound MsgSeqNum that stored message `seq` answers, if it is a reply.
    pub fn answers(&self, seq: SeqNum) -> Option<SeqNum> {
        let i = self.position(seq).ok()?;
        self.messages[i].answers
    }

    /// Where message `seq` is, or would go.
    fn position(&self, seq: SeqNum) -> Result<usize, usize> {
        self.messages
            .binary_search_by_key(&seq, |stored| stored.seq)
    }
}

/// One message in a [`MemoryStore`].
#[derive(Clone, Debug)]
struct Stored {
    seq: SeqNum,
    frame: Bytes,
    answers: Option<SeqNum>,
}

impl MessageStore for MemoryStore {
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        self.append_shared(seq, &Bytes::copy_from_slice(frame), answers)
    }

    fn append_shared(
        &mut self,
        seq: SeqNum,
        frame: &Bytes,
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        if seq != self.next_sender {
            return Err(StoreError::OutOfOrder {
                seq,
                expected: self.next_sender,
            });
        }
        let stored = Stored {
            seq,
            frame: frame.clone(),
            answers,
        };
        // Numbers only move back on a reset or an explicit set: then the slot is looked up.
        match self.messages.back() {
            Some(last) if last.seq >= seq => match self.position(seq) {
                Ok(i) => self.messages[i] = stored,
                Err(i) => self.messages.insert(i, stored),
            },
            _ => self.messages.push_back(stored),
        }
        self.next_sender = seq.next();
        Ok(())
    }

    fn next_sender_seq(&self) -> SeqNum {
        self.next_sender
    }

    fn next_target_seq(&self) -> SeqNum {
        self.next_target
    }

    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.next_sender = seq;
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.next_target = seq;
        Ok(())
    }

    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), StoreError> {
        let start = self.position(from).unwrap_or_else(|i| i);
        for stored in self.messages.range(start..) {
            if stored.seq > to {
                break;
            }
            each(stored.seq, &stored.frame);
        }
        Ok(())
    }

    fn reset(&mut self, now: UtcTimestamp) -> Result<(), StoreError> {
        *self = Self::new(now);
        Ok(())
    }

    fn creation_time(&self) -> UtcTimestamp {
        self.created
    }

    fn answered_from(&self, from: SeqNum) -> Vec<SeqNum> {
        let mut answered: Vec<SeqNum> = self
            .messages
            .iter()
            .filter_map(|stored| stored.answers)
            .filter(|&inbound| inbound >= from)
            .collect();
        answered.sort_unstable();
        answered.dedup();
        answered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(store: &MemoryStore, from: u64, to: u64) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        store
            .read_range(SeqNum::new(from), SeqNum::new(to), &mut |seq, frame| {
                out.push((seq.get(), frame.to_vec()))
            })
            .unwrap();
        out
    }

    #[test]
    fn memory_store_keeps_order_across_gaps_and_numbers_moved_back() {
        let mut store = MemoryStore::new(UtcTimestamp::from_unix(0, 0).unwrap());
        let s = SeqNum::new;
        for n in 1..=3 {
            store
                .append(s(n), format!("m{n}").as_bytes(), None)
                .unwrap();
        }
        // A gap: the number moved on, then a reply to inbound 7.
        store.set_next_sender_seq(s(10)).unwrap();
        store.append(s(10), b"m10", Some(s(7))).unwrap();
        assert_eq!(
            store.append(s(12), b"x", None),
            Err(StoreError::OutOfOrder {
                seq: s(12),
                expected: s(11)
            })
        );
        // Moved back: 2 is replaced in place, the others stay.
        store.set_next_sender_seq(s(2)).unwrap();
        store.append(s(2), b"m2'", None).unwrap();
        assert_eq!(
            stored(&store, 1, 20),
            [
                (1, b"m1".to_vec()),
                (2, b"m2'".to_vec()),
                (3, b"m3".to_vec()),
                (10, b"m10".to_vec())
            ]
        );
        assert_eq!(stored(&store, 4, 9), []);
        assert_eq!(stored(&store, 3, 10).len(), 2);
        assert_eq!(stored(&store, 5, 4), []);
        assert_eq!(store.answers(s(10)), Some(s(7)));
        assert_eq!(store.answered_from(s(7)), [s(7)]);
        assert_eq!(store.len(), 4);
        store.keep_last(2);
        assert_eq!(
            stored(&store, 1, 20),
            [(3, b"m3".to_vec()), (10, b"m10".to_vec())]
        );
        assert_eq!(store.next_sender_seq(), s(3));
    }
}
