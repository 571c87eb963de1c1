//! What a store has changed since its last commit: written in one transaction at the next one.

use bytes::Bytes;
use fixgate_core::{SeqNum, UtcTimestamp};

/// One appended message, shared with the store's memory (no copy).
#[derive(Debug, Clone)]
pub(crate) struct Appended {
    pub(crate) seq: SeqNum,
    pub(crate) answers: Option<SeqNum>,
    pub(crate) frame: Bytes,
}

/// The changes a commit writes: a reset first (if any), then the messages, and the numbers as
/// they stood when the batch was taken.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// The new creation time, if the sequence was reset: the stored messages go first.
    pub(crate) reset: Option<UtcTimestamp>,
    pub(crate) messages: Vec<Appended>,
    /// Next sender and next target numbers.
    pub(crate) numbers: (SeqNum, SeqNum),
    /// Whether anything changed since the last commit.
    pub(crate) dirty: bool,
}

impl Batch {
    /// An empty batch, with the numbers as they stand.
    pub(crate) fn new(numbers: (SeqNum, SeqNum)) -> Self {
        Self {
            reset: None,
            messages: Vec::new(),
            numbers,
            dirty: false,
        }
    }

    /// Takes what changed, leaving an empty batch with the same numbers.
    pub(crate) fn take(&mut self) -> Self {
        let numbers = self.numbers;
        std::mem::replace(self, Self::new(numbers))
    }

    /// Puts back `earlier`, taken before what this batch holds, whose commit failed: both are
    /// written together at the next commit.
    pub(crate) fn put_back(&mut self, mut earlier: Self) {
        if !earlier.dirty {
            return;
        }
        if self.reset.is_none() {
            earlier.messages.append(&mut self.messages);
            self.messages = earlier.messages;
            self.reset = earlier.reset;
        }
        self.dirty = true;
    }

    /// Records an appended message.
    pub(crate) fn append(&mut self, appended: Appended) {
        self.numbers.0 = appended.seq.next();
        // A number moved back: the message written again replaces the one in the batch (one
        // statement may not write a row twice).
        if self
            .messages
            .last()
            .is_some_and(|last| last.seq >= appended.seq)
        {
            self.messages.retain(|message| message.seq != appended.seq);
        }
        self.messages.push(appended);
        self.dirty = true;
    }

    /// Records new numbers.
    pub(crate) fn set_numbers(&mut self, next_sender: SeqNum, next_target: SeqNum) {
        self.numbers = (next_sender, next_target);
        self.dirty = true;
    }

    /// Records a sequence reset: what was appended before it is not written.
    pub(crate) fn reset(&mut self, now: UtcTimestamp) {
        self.reset = Some(now);
        self.messages.clear();
        self.numbers = (SeqNum::FIRST, SeqNum::FIRST);
        self.dirty = true;
    }
}
