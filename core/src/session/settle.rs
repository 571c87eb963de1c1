//! Which inbound messages are settled, so that the persisted next-expected number only moves past
//! messages that were processed (DESIGN.md section 4).

use std::collections::VecDeque;

use crate::SeqNum;

/// Inbound numbers taken but not yet all settled, as runs: each entry covers the numbers after
/// the previous entry up to `last`, and is settled or not. Admin messages and gap fills are
/// settled when handled; application messages when the application acks or replies.
#[derive(Debug)]
pub(crate) struct SettleWindow {
    /// The first number not known to be settled: what the store persists as next-expected.
    base: SeqNum,
    runs: VecDeque<(SeqNum, bool)>,
    /// The runs not settled, counted as they change: inbound flow control asks per message.
    unsettled: usize,
}

impl SettleWindow {
    pub(crate) fn new(base: SeqNum) -> Self {
        Self {
            base,
            runs: VecDeque::new(),
            unsettled: 0,
        }
    }

    /// The number to persist as next-expected.
    pub(crate) fn base(&self) -> SeqNum {
        self.base
    }

    /// The count of taken but unsettled application messages.
    pub(crate) fn unsettled(&self) -> usize {
        self.unsettled
    }

    /// Forgets everything and restarts at `base` (a sequence reset).
    pub(crate) fn reset(&mut self, base: SeqNum) {
        self.base = base;
        self.runs.clear();
        self.unsettled = 0;
    }

    /// Records that every number up to `last` has been taken, settled or not. Returns whether the
    /// base moved.
    pub(crate) fn take(&mut self, last: SeqNum, settled: bool) -> bool {
        if last < self.base || self.runs.back().is_some_and(|&(prev, _)| last <= prev) {
            return false;
        }
        self.runs.push_back((last, settled));
        self.unsettled += usize::from(!settled);
        self.advance()
    }

    /// Settles message `seq`. Returns whether the base moved; `false` too for a number that is
    /// unknown or already settled.
    pub(crate) fn settle(&mut self, seq: SeqNum) -> bool {
        // Usually the oldest: messages tend to be settled in order.
        let found = match self.runs.front() {
            Some(&(last, _)) if last == seq => Ok(0),
            _ => self.runs.binary_search_by_key(&seq, |&(last, _)| last),
        };
        let Ok(i) = found else {
            return false;
        };
        if std::mem::replace(&mut self.runs[i].1, true) {
            return false;
        }
        self.unsettled -= 1;
        self.advance()
    }

    fn advance(&mut self) -> bool {
        let before = self.base;
        while let Some(&(last, true)) = self.runs.front() {
            self.base = last.next();
            self.runs.pop_front();
        }
        self.base != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> SeqNum {
        SeqNum::new(n)
    }

    #[test]
    fn base_moves_only_past_contiguous_settled_numbers() {
        let mut w = SettleWindow::new(s(5));
        assert!(w.take(s(5), true));
        assert_eq!(w.base(), s(6));
        assert!(!w.take(s(6), false));
        assert!(!w.take(s(7), false));
        assert!(!w.take(s(20), true)); // a gap fill through 20
        assert!(!w.settle(s(7)));
        assert_eq!((w.base(), w.unsettled()), (s(6), 1));
        assert!(!w.settle(s(7)), "already settled");
        assert_eq!(w.unsettled(), 1);
        assert!(w.settle(s(6)));
        assert_eq!((w.base(), w.unsettled()), (s(21), 0));
        assert!(!w.settle(s(6)));
    }
}
