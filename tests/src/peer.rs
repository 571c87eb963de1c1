//! A scripted counterparty for one [`Session`]: it writes the counterparty's messages with the
//! right CompIDs, numbers and SendingTime, and reads back what the session did.

use std::time::Duration;

use fixgate_core::codec::{Decoded, Decoder, Message};
use fixgate_core::{
    Action, BeginString, Delivered, DisconnectReason, Event, MemoryStore, MessageStore, Role,
    Session, SessionConfig, TimestampPrecision, UtcTimestamp,
};

use crate::clock::SimClock;
use crate::wire::{frame, pipe};

/// Our CompID in scripted tests (the acceptance suite's).
pub const US: &str = "ISLD";
/// The counterparty's CompID.
pub const THEM: &str = "TW";

/// A session under test and the counterparty that talks to it.
pub struct ScriptedPeer {
    /// The session under test.
    pub session: Session,
    /// The simulation's clock.
    pub clock: SimClock,
    /// The counterparty's next MsgSeqNum.
    pub next_seq: u64,
    begin_string: BeginString,
    /// What the session did that the test has not looked at yet.
    pending: Vec<Action>,
}

/// A summary of one action, for readable assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A message sent, shown by [`brief`].
    Sent(String),
    /// An application message delivered, shown by [`brief`].
    Delivered(String),
    /// An event.
    Event(Event),
    /// A commit barrier.
    Commit,
    /// The connection closed.
    Disconnect(DisconnectReason),
}

impl ScriptedPeer {
    /// An acceptor session (us: ISLD, them: TW) with default settings, connected.
    pub fn acceptor(begin_string: BeginString) -> Self {
        Self::with_config(SessionConfig::new(begin_string, US, THEM, Role::Acceptor))
    }

    /// A session with `config`, over a memory store, connected.
    pub fn with_config(config: SessionConfig) -> Self {
        let clock = SimClock::new();
        let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
        Self::with_store(config, Box::new(store), clock)
    }

    /// A session with `config` over `store`, connected.
    pub fn with_store(
        config: SessionConfig,
        store: Box<dyn MessageStore + Send>,
        clock: SimClock,
    ) -> Self {
        let begin_string = config.begin_string;
        let session = Session::new(config, store, clock.now()).expect("valid config");
        let mut peer = Self {
            session,
            clock,
            next_seq: 1,
            begin_string,
            pending: Vec::new(),
        };
        peer.session.handle_connected(peer.clock.now());
        peer.collect();
        peer
    }

    /// The counterparty's message of type `msg_type` with body `fields` (`|`-separated, ending
    /// with `|`), numbered with the next MsgSeqNum.
    pub fn message(&mut self, msg_type: &str, fields: &str) -> Vec<u8> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.message_with_seq(msg_type, seq, fields)
    }

    /// The counterparty's message with an explicit MsgSeqNum (which does not move `next_seq`).
    pub fn message_with_seq(&self, msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
        let time = self.timestamp(Duration::ZERO, false);
        frame(
            self.begin_string.as_str(),
            &format!("35={msg_type}|34={seq}|49={THEM}|52={time}|56={US}|{fields}"),
        )
    }

    /// SendingTime now, shifted by `offset` (earlier when `before`).
    pub fn timestamp(&self, offset: Duration, before: bool) -> String {
        let utc = if before {
            self.clock.utc() - offset
        } else {
            self.clock.utc() + offset
        };
        UtcTimestamp::from_system_time(utc)
            .format(TimestampPrecision::Millis)
            .as_str()
            .to_owned()
    }

    /// A valid Logon with HeartBtInt `heart_bt_int`.
    pub fn logon(&mut self, heart_bt_int: u64) -> Vec<u8> {
        let extra = match self.begin_string {
            BeginString::Fixt11 => "1137=9|",
            _ => "",
        };
        self.message("A", &format!("98=0|108={heart_bt_int}|{extra}"))
    }

    /// Logs on with HeartBtInt 30 and checks the reply.
    pub fn log_on(&mut self) {
        let logon = self.logon(30);
        self.deliver(&logon);
        let seen = self.take();
        assert!(
            seen.iter()
                .any(|s| matches!(s, Seen::Sent(m) if m.starts_with("35=A|"))),
            "no Logon reply: {seen:?}"
        );
    }

    /// Hands bytes to the session.
    pub fn deliver(&mut self, bytes: &[u8]) {
        self.session.handle_input(self.clock.now(), bytes);
        self.collect();
    }

    /// Moves time forward in one-second ticks, firing the session's timers as they fall due.
    pub fn wait(&mut self, duration: Duration) {
        let end = self.clock.now().mono + duration;
        while self.clock.now().mono < end {
            let step = Duration::from_secs(1).min(end - self.clock.now().mono);
            let now = self.clock.advance(step);
            self.session.handle_timeout(now);
            self.collect();
        }
    }

    /// Drains the session's actions into the pending list.
    pub fn collect(&mut self) {
        while let Some(action) = self.session.poll_action() {
            self.pending.push(action);
        }
    }

    /// The actions since the last look, summarised.
    pub fn take(&mut self) -> Vec<Seen> {
        self.collect();
        self.pending
            .drain(..)
            .map(|action| summarise(&action))
            .collect()
    }

    /// The actions since the last look, as they are.
    pub fn take_actions(&mut self) -> Vec<Action> {
        self.collect();
        std::mem::take(&mut self.pending)
    }

    /// Only the messages sent since the last look, summarised (other actions are dropped).
    pub fn sent(&mut self) -> Vec<String> {
        self.take()
            .into_iter()
            .filter_map(|s| match s {
                Seen::Sent(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    /// The delivered messages since the last look, not settled (other actions are dropped).
    pub fn delivered(&mut self) -> Vec<Delivered> {
        self.take_actions()
            .into_iter()
            .filter_map(|a| match a {
                Action::Deliver(d) => Some(d),
                _ => None,
            })
            .collect()
    }

    /// The delivered messages since the last look, settled with `ack`.
    pub fn delivered_and_ack(&mut self) -> Vec<Delivered> {
        let delivered = self.delivered();
        let now = self.clock.now();
        for d in &delivered {
            self.session.ack(now, d).expect("ack");
        }
        delivered
    }
}

/// Summarises an action.
pub fn summarise(action: &Action) -> Seen {
    match action {
        Action::Send(bytes) => Seen::Sent(brief(bytes)),
        Action::Deliver(d) => Seen::Delivered(brief_message(d.message())),
        Action::Event(e) => Seen::Event(e.clone()),
        Action::Commit => Seen::Commit,
        Action::Disconnect(r) => Seen::Disconnect(r.clone()),
        other => panic!("unexpected action {other:?}"),
    }
}

/// A frame without the fields a test rarely cares about (8, 9, 49, 52, 56, 10; 122 becomes
/// `122=*`), with `|` for SOH: for example `35=0|34=2|112=TEST`. It checks the frame first.
pub fn brief(frame: &[u8]) -> String {
    let mut decoder = Decoder::new();
    decoder.feed(frame);
    let Ok(Some(Decoded::Message(msg))) = decoder.decode() else {
        panic!("the session sent a bad frame: {}", pipe(frame));
    };
    brief_message(&msg)
}

fn brief_message(msg: &Message) -> String {
    msg.fields()
        .iter()
        .filter(|f| !matches!(f.tag(), Some(8 | 9 | 49 | 52 | 56 | 10)))
        .map(|f| match f.tag() {
            Some(122) => "122=*".to_owned(),
            _ => format!(
                "{}={}",
                String::from_utf8_lossy(f.raw_tag()),
                String::from_utf8_lossy(f.value())
            ),
        })
        .collect::<Vec<_>>()
        .join("|")
}
