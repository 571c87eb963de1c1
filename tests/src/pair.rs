//! Two sessions, an initiator and an acceptor, joined by a simulated link whose bytes the test
//! moves, splits and cuts.

use std::time::Duration;

use bytes::Bytes;
use fixgate_core::codec::FieldWriter;
use fixgate_core::{
    Action, BeginString, Event, MemoryStore, OutboundMessage, Role, SeqNum, Session, SessionConfig,
    UtcTimestamp,
};

use crate::clock::SimClock;

/// One end of the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The session that connects and sends the first Logon.
    Initiator,
    /// The session that waits for it.
    Acceptor,
}

/// Two sessions and the link between them.
pub struct Pair {
    /// The simulation's clock.
    pub clock: SimClock,
    /// The initiator ("BANK").
    pub initiator: Session,
    /// The acceptor ("VENUE").
    pub acceptor: Session,
    connected: bool,
    to_acceptor: Vec<u8>,
    to_initiator: Vec<u8>,
    /// The `ClOrdID <11>`s of the application messages each side received, in order.
    received_by_initiator: Vec<Bytes>,
    received_by_acceptor: Vec<Bytes>,
    /// The MsgSeqNums each side answered with a session-level Reject.
    rejected_by_initiator: Vec<SeqNum>,
    rejected_by_acceptor: Vec<SeqNum>,
}

impl Pair {
    /// Two FIX 4.4 sessions over memory stores, not yet connected.
    pub fn new(heart_bt_int: Duration) -> Self {
        Self::with_config(heart_bt_int, |_| {})
    }

    /// [`Pair::new`] with both sessions' configurations changed by `change`.
    pub fn with_config(heart_bt_int: Duration, change: impl Fn(&mut SessionConfig)) -> Self {
        let clock = SimClock::new();
        let session = |role, sender: &str, target: &str| {
            let mut config = SessionConfig::new(BeginString::Fix44, sender, target, role);
            config.heart_bt_int = heart_bt_int;
            change(&mut config);
            let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
            Session::new(config, Box::new(store), clock.now()).expect("valid config")
        };
        Self {
            initiator: session(Role::Initiator, "BANK", "VENUE"),
            acceptor: session(Role::Acceptor, "VENUE", "BANK"),
            clock,
            connected: false,
            to_acceptor: Vec::new(),
            to_initiator: Vec::new(),
            received_by_initiator: Vec::new(),
            received_by_acceptor: Vec::new(),
            rejected_by_initiator: Vec::new(),
            rejected_by_acceptor: Vec::new(),
        }
    }

    /// Whether the link is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Opens a connection: the acceptor takes it, the initiator sends its Logon.
    pub fn connect(&mut self) {
        if self.connected {
            return;
        }
        self.connected = true;
        let now = self.clock.now();
        self.acceptor.handle_connected(now);
        self.initiator.handle_connected(now);
    }

    /// Cuts the link: bytes in flight are lost and both sides see the connection drop.
    pub fn cut(&mut self) {
        if !self.connected {
            return;
        }
        self.connected = false;
        self.to_acceptor.clear();
        self.to_initiator.clear();
        let now = self.clock.now();
        self.acceptor.handle_disconnected(now);
        self.initiator.handle_disconnected(now);
    }

    /// Puts an application message (a NewOrderSingle with ClOrdID `id`) on `side`.
    pub fn put(&mut self, side: Side, id: &str) -> SeqNum {
        let mut body = FieldWriter::new();
        body.str(11, id).char(54, b'1');
        let now = self.clock.now();
        self.session(side)
            .send(now, OutboundMessage::new(b"D", &body))
            .expect("put")
    }

    /// The ClOrdIDs `side` received, in order.
    pub fn received(&self, side: Side) -> Vec<String> {
        let ids = match side {
            Side::Initiator => &self.received_by_initiator,
            Side::Acceptor => &self.received_by_acceptor,
        };
        ids.iter()
            .map(|id| String::from_utf8_lossy(id).into_owned())
            .collect()
    }

    /// The MsgSeqNums `side` rejected at the session level (its application never saw them;
    /// the Reject told the sender, unless a cut lost it: Rejects are never resent).
    pub fn rejected(&self, side: Side) -> &[SeqNum] {
        match side {
            Side::Initiator => &self.rejected_by_initiator,
            Side::Acceptor => &self.rejected_by_acceptor,
        }
    }

    /// Drains both sessions' actions: bytes onto the link, deliveries recorded and acked,
    /// disconnects applied. Returns whether anything happened.
    pub fn pump(&mut self) -> bool {
        let mut progress = false;
        loop {
            let mut any = false;
            for side in [Side::Initiator, Side::Acceptor] {
                while let Some(action) = self.session(side).poll_action() {
                    any = true;
                    self.apply(side, action);
                }
            }
            if !any {
                return progress;
            }
            progress = true;
        }
    }

    /// Moves up to `max` bytes each way across the link. Returns whether any moved.
    pub fn transmit(&mut self, max: usize) -> bool {
        if !self.connected {
            return false;
        }
        let now = self.clock.now();
        let to_acceptor: Vec<u8> = self
            .to_acceptor
            .drain(..max.min(self.to_acceptor.len()))
            .collect();
        let to_initiator: Vec<u8> = self
            .to_initiator
            .drain(..max.min(self.to_initiator.len()))
            .collect();
        if !to_acceptor.is_empty() {
            self.acceptor.handle_input(now, &to_acceptor);
        }
        if !to_initiator.is_empty() {
            self.initiator.handle_input(now, &to_initiator);
        }
        !to_acceptor.is_empty() || !to_initiator.is_empty()
    }

    /// Loses the in-flight byte `at` (modulo what is in flight) towards `side`, as a faulty link
    /// would. A lost byte always breaks its frame's BodyLength or CheckSum; a flipped bit need
    /// not, as two flips can cancel out in the CheckSum and make a valid frame of other content.
    pub fn lose_byte(&mut self, towards: Side, at: usize) {
        let queue = match towards {
            Side::Initiator => &mut self.to_initiator,
            Side::Acceptor => &mut self.to_acceptor,
        };
        if !queue.is_empty() {
            let len = queue.len();
            queue.remove(at % len);
        }
    }

    /// Advances the clock and fires due timers.
    pub fn tick(&mut self, by: Duration) {
        let now = self.clock.advance(by);
        for side in [Side::Initiator, Side::Acceptor] {
            let session = self.session(side);
            if session.poll_timeout().is_some_and(|at| at <= now.mono) {
                session.handle_timeout(now);
            }
        }
    }

    /// Runs until nothing moves: pump, transmit everything, repeat.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let pumped = self.pump();
            let moved = self.transmit(usize::MAX);
            if !pumped && !moved {
                return;
            }
        }
        panic!("the pair never settled");
    }

    fn session(&mut self, side: Side) -> &mut Session {
        match side {
            Side::Initiator => &mut self.initiator,
            Side::Acceptor => &mut self.acceptor,
        }
    }

    fn apply(&mut self, side: Side, action: Action) {
        match action {
            Action::Send(bytes) if self.connected => match side {
                Side::Initiator => self.to_acceptor.extend_from_slice(&bytes),
                Side::Acceptor => self.to_initiator.extend_from_slice(&bytes),
            },
            Action::Event(Event::RejectSent { ref_seq, .. }) => match side {
                Side::Initiator => self.rejected_by_initiator.push(ref_seq),
                Side::Acceptor => self.rejected_by_acceptor.push(ref_seq),
            },
            Action::Send(_) | Action::Event(_) | Action::Commit => {}
            Action::Deliver(delivered) => {
                let id = delivered.message().get_bytes(11).expect("ClOrdID");
                let now = self.clock.now();
                self.session(side).ack(now, &delivered).expect("ack");
                match side {
                    Side::Initiator => self.received_by_initiator.push(id),
                    Side::Acceptor => self.received_by_acceptor.push(id),
                }
            }
            Action::Disconnect(_) => {
                if self.connected {
                    // The other side reads what was sent before the close, then sees EOF.
                    let now = self.clock.now();
                    let (pending, other) = match side {
                        Side::Initiator => (std::mem::take(&mut self.to_acceptor), Side::Acceptor),
                        Side::Acceptor => (std::mem::take(&mut self.to_initiator), Side::Initiator),
                    };
                    self.connected = false;
                    self.to_acceptor.clear();
                    self.to_initiator.clear();
                    let other = self.session(other);
                    other.handle_input(now, &pending);
                    other.handle_disconnected(now);
                }
            }
            other => panic!("unexpected action {other:?}"),
        }
    }
}
