//! `MsgSeqNum <34>` values.

use std::fmt;

/// A message sequence number, as carried by `MsgSeqNum <34>`, `BeginSeqNo <7>`, `NewSeqNo <36>` and
/// friends.
///
/// Zero is a value the wire can carry (a SequenceReset-Reset may say `34=0`, `EndSeqNo <16>` uses
/// it for "infinity"), so it is representable; the session decides what it means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeqNum(u64);

impl SeqNum {
    /// The first sequence number of a session.
    pub const FIRST: Self = Self(1);

    /// Wraps a raw number.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The raw number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The number after this one (saturating at `u64::MAX`).
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl From<u64> for SeqNum {
    fn from(n: u64) -> Self {
        Self(n)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
