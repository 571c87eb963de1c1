//! An initiator's addresses, tried in turn (QuickFIX's `SocketConnectHost`,
//! `SocketConnectHost1`, …): the next one after every failed connection and every disconnect, so
//! that a standby acceptor takes over from one that died.

use std::net::SocketAddr;

/// The addresses, and which is tried next.
#[derive(Debug, Default)]
pub(super) struct Addresses {
    list: Vec<SocketAddr>,
    next: usize,
}

impl Addresses {
    /// From now on, `list`, starting with its first.
    pub(super) fn set(&mut self, list: Vec<SocketAddr>) {
        self.list = list;
        self.next = 0;
    }

    /// The address to connect to next; `None` for an acceptor.
    pub(super) fn current(&self) -> Option<SocketAddr> {
        self.list.get(self.next).copied()
    }

    /// Whether the session initiates.
    pub(super) fn is_initiator(&self) -> bool {
        !self.list.is_empty()
    }

    /// Moves on to the next address. True when that is the first again: every address was
    /// tried once since the last time.
    pub(super) fn advance(&mut self) -> bool {
        if self.list.is_empty() {
            return false;
        }
        self.next = (self.next + 1) % self.list.len();
        self.next == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_tried_in_turn_and_a_round_ends_at_the_first() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2".parse().unwrap();
        let mut addresses = Addresses::default();
        assert_eq!((addresses.current(), addresses.advance()), (None, false));
        addresses.set(vec![a, b]);
        assert_eq!(addresses.current(), Some(a));
        assert!(!addresses.advance());
        assert_eq!(addresses.current(), Some(b));
        assert!(addresses.advance());
        assert_eq!(addresses.current(), Some(a));
    }
}
