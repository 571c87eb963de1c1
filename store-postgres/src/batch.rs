//! What a store has changed since its last commit, written by the next one; and the part of the
//! store's state that every commit writes whole (the numbers, the answered inbound numbers).

use std::collections::BTreeSet;

use bytes::Bytes;
use fixgate_core::{SeqNum, UtcTimestamp};

/// One appended message, shared with the store's memory (no copy).
#[derive(Debug, Clone)]
pub(crate) struct Appended {
    pub(crate) seq: SeqNum,
    pub(crate) answers: Option<SeqNum>,
    pub(crate) frame: Bytes,
}

/// The changes a commit writes: a reset first (if any), then the messages, and the numbers and
/// answered inbound numbers as they stood when the batch was taken.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// The new creation time, if the sequence was reset: the stored messages go first.
    pub(crate) reset: Option<UtcTimestamp>,
    pub(crate) messages: Vec<Appended>,
    /// Whether a message numbered at or below one stored before is written again (the number
    /// was moved back): its old row goes first.
    pub(crate) rewrites: bool,
    /// Next sender and next target numbers.
    pub(crate) numbers: (SeqNum, SeqNum),
    /// Inbound numbers at or above the next target that stored replies answer (settled out of
    /// order): a new owner does not deliver them again.
    pub(crate) answered: BTreeSet<SeqNum>,
    /// The highest number appended so far, to tell a rewrite.
    highest: Option<SeqNum>,
    /// Whether anything changed since the last commit.
    pub(crate) dirty: bool,
}

impl Batch {
    /// An empty batch over the state a store was loaded with.
    pub(crate) fn new(
        numbers: (SeqNum, SeqNum),
        answered: BTreeSet<SeqNum>,
        highest: Option<SeqNum>,
    ) -> Self {
        Self {
            reset: None,
            messages: Vec::new(),
            rewrites: false,
            numbers,
            answered,
            highest,
            dirty: false,
        }
    }

    /// Takes what changed, leaving an empty batch with the same state.
    pub(crate) fn take(&mut self) -> Self {
        Self {
            reset: self.reset.take(),
            messages: std::mem::take(&mut self.messages),
            rewrites: std::mem::take(&mut self.rewrites),
            numbers: self.numbers,
            answered: self.answered.clone(),
            highest: self.highest,
            dirty: std::mem::take(&mut self.dirty),
        }
    }

    /// Puts back `earlier`, taken before what this batch holds, whose commit failed: both are
    /// written together at the next commit, with the state as it stands now. The failed commit
    /// may have landed all the same (its answer was lost), so the next one writes its messages
    /// again rather than inserting them anew.
    pub(crate) fn put_back(&mut self, mut earlier: Self) {
        if !earlier.dirty {
            return;
        }
        if self.reset.is_none() {
            // Numbers appended again since (moved back) replace the earlier messages.
            if let Some(lowest) = self.messages.iter().map(|m| m.seq).min() {
                earlier.messages.retain(|m| m.seq < lowest);
            }
            earlier.messages.append(&mut self.messages);
            self.messages = earlier.messages;
            self.reset = earlier.reset;
            self.rewrites = true;
        }
        self.dirty = true;
    }

    /// The same batch, written over rows that may be there already.
    pub(crate) fn written_again(&self) -> Self {
        Self {
            rewrites: true,
            ..self.clone()
        }
    }

    /// Records an appended message.
    pub(crate) fn append(&mut self, appended: Appended) {
        self.numbers.0 = appended.seq.next();
        if self.highest.is_some_and(|highest| appended.seq <= highest) {
            self.rewrites = true;
            // One statement may not write a row twice: the message written again replaces
            // the one in the batch.
            self.messages.retain(|message| message.seq != appended.seq);
        }
        self.highest = self.highest.max(Some(appended.seq));
        if let Some(inbound) = appended.answers {
            self.answered.insert(inbound);
        }
        self.messages.push(appended);
        self.dirty = true;
    }

    /// Records new numbers: answered inbound numbers below the next target are history.
    pub(crate) fn set_numbers(&mut self, next_sender: SeqNum, next_target: SeqNum) {
        self.numbers = (next_sender, next_target);
        self.answered.retain(|&inbound| inbound >= next_target);
        self.dirty = true;
    }

    /// Records a sequence reset: what was appended before it is not written.
    pub(crate) fn reset(&mut self, now: UtcTimestamp) {
        self.reset = Some(now);
        self.messages.clear();
        self.rewrites = false;
        self.numbers = (SeqNum::FIRST, SeqNum::FIRST);
        self.answered.clear();
        self.highest = None;
        self.dirty = true;
    }

    /// The numbers of the batch's messages, their answers and their bytes, as the statements
    /// bind them.
    pub(crate) fn columns(&self) -> (Vec<i64>, Vec<Option<i64>>, Vec<&[u8]>) {
        let seqs = self.messages.iter().map(|m| db(m.seq)).collect();
        let answers = self.messages.iter().map(|m| m.answers.map(db)).collect();
        let frames = self.messages.iter().map(|m| &m.frame[..]).collect();
        (seqs, answers, frames)
    }

    /// The answered inbound numbers, as the statements bind them.
    pub(crate) fn answered_column(&self) -> Vec<i64> {
        self.answered.iter().map(|&seq| db(seq)).collect()
    }
}

/// A number as the tables keep it.
pub(crate) fn db(seq: SeqNum) -> i64 {
    seq.get() as i64
}
