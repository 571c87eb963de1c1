//! The message store: where outbound messages and both sequence numbers are kept, so that a
//! session survives reconnects and crashes (DESIGN.md section 4).

use std::collections::BTreeMap;
use std::sync::Arc;

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
///   returns (a `write()` or a memory-mapped append), so that it survives a process crash. The
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
    messages: BTreeMap<SeqNum, (Bytes, Option<SeqNum>)>,
    next_sender: SeqNum,
    next_target: SeqNum,
    created: UtcTimestamp,
}

impl MemoryStore {
    /// An empty store created at `now`.
    pub fn new(now: UtcTimestamp) -> Self {
        Self {
            messages: BTreeMap::new(),
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

    /// The inbound MsgSeqNum that stored message `seq` answers, if it is a reply.
    pub fn answers(&self, seq: SeqNum) -> Option<SeqNum> {
        self.messages.get(&seq).and_then(|(_, answers)| *answers)
    }
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
        self.messages.insert(seq, (frame.clone(), answers));
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
        if from <= to {
            for (&seq, (frame, _)) in self.messages.range(from..=to) {
                each(seq, frame);
            }
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
            .values()
            .filter_map(|(_, answers)| *answers)
            .filter(|&inbound| inbound >= from)
            .collect();
        answered.sort_unstable();
        answered.dedup();
        answered
    }
}
