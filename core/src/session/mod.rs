//! The FIX session layer: one [`Session`] per counterparty, as a sans-IO state machine.

mod counting;
mod gap_fill;
mod garbled;
mod heartbeat;
mod inbound;
mod inbox;
mod logon;
mod logout;
mod outbound;
mod reject;
mod resend;
mod sequence;
mod settle;
mod timer;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::SeqNum;
use crate::action::{Action, Delivered, DisconnectReason, Event};
use crate::codec::{Decoder, FieldWriter, Filled, HeaderField, Message};
use crate::config::{ConfigError, Role, SessionConfig, StorageDurability};
use crate::dictionary::ShapeCache;
use crate::error::SendError;
use crate::metrics::SessionCounters;
use crate::store::{MessageStore, StoreError};
use crate::time::{Now, TimestampFormatter, TimestampParser, UtcTimestamp};

use self::inbox::Inbox;
use self::resend::Resend;
use self::settle::SettleWindow;
use self::timer::{Timer, TimerTable};

/// Where a session is, in FIX Antenna's vocabulary (DESIGN.md section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// No connection; an initiator waits to connect.
    Disconnected,
    /// An acceptor waits for the counterparty's Logon (connected or not).
    WaitForLogon,
    /// An initiator sent its Logon and waits for the reply.
    LogonSent,
    /// Logged on.
    Active,
    /// We sent a Logout and wait for the reply.
    LogoutSent,
    /// Released for good: every command fails with [`SendError::Finalized`].
    Finalized,
}

/// An application message for [`Session::send`]: its MsgType, optional extra header fields
/// (OnBehalfOfCompID, DeliverToCompID, PossResend, ApplVerID…) and its encoded body.
#[derive(Clone, Copy, Debug)]
pub struct OutboundMessage<'a> {
    msg_type: &'a [u8],
    header: &'a [HeaderField<'a>],
    body: &'a [u8],
}

impl<'a> OutboundMessage<'a> {
    /// A message of type `msg_type` with the fields written into `body`.
    pub fn new(msg_type: &'a [u8], body: &'a FieldWriter) -> Self {
        Self::from_parts(msg_type, body.as_bytes())
    }

    /// A message from an already encoded body (`tag=value<SOH>` fields).
    pub fn from_parts(msg_type: &'a [u8], body: &'a [u8]) -> Self {
        Self {
            msg_type,
            header: &[],
            body,
        }
    }

    /// Adds header fields that the application owns.
    #[must_use]
    pub fn with_header(mut self, header: &'a [HeaderField<'a>]) -> Self {
        self.header = header;
        self
    }

    /// The MsgType.
    pub fn msg_type(&self) -> &'a [u8] {
        self.msg_type
    }

    /// The application's own header fields.
    pub fn header(&self) -> &'a [HeaderField<'a>] {
        self.header
    }

    /// The encoded body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// What waits in the action queue. A stored message's bytes carry their append number, so that a
/// commit barrier can be placed in front of them; delivered messages wait in their own queue, so
/// that the entries here stay small. A frame carries whether it is a session-level message, for
/// the counters, which count it when it is handed out.
#[derive(Debug)]
enum Queued {
    Send(Bytes, bool),
    Stored(Bytes, Appended),
    Deliver,
    Event(Event),
    Disconnect(DisconnectReason),
}

/// A stored frame's append number, and in its lowest bit whether the frame is a session-level
/// message: one word, so that a queue entry is no larger than without the flag (and the one
/// variant is checked as cheaply).
#[derive(Clone, Copy, Debug)]
struct Appended(u64);

impl Appended {
    #[inline]
    fn new(index: u64, admin: bool) -> Self {
        Self((index << 1) | u64::from(admin))
    }

    /// The append number.
    #[inline]
    fn index(self) -> u64 {
        self.0 >> 1
    }

    /// Whether the frame is a session-level message.
    #[inline]
    fn is_admin(self) -> bool {
        self.0 & 1 != 0
    }
}

/// An [`Action`] as the engine takes it from [`Session::poll_step`]: small, with a delivered
/// message left in the session.
#[derive(Debug)]
pub(crate) enum Step {
    /// A frame, counted as sent when it is taken (see [`Session::uncount_sent`]).
    Send(Bytes),
    Deliver,
    Event(Event),
    Commit,
    Disconnect(DisconnectReason),
}

/// A FIX session: the session layer of one counterparty, driven by its caller.
///
/// It does no I/O and reads no clock. Its methods come in four groups:
/// - **(A) getters**: [`state`](Self::state), [`next_sender_seq`](Self::next_sender_seq),
///   [`next_target_seq`](Self::next_target_seq), [`is_connected`](Self::is_connected).
/// - **(B) inputs**, which never fail (peer faults become actions):
///   [`handle_connected`](Self::handle_connected), [`handle_input`](Self::handle_input),
///   [`handle_timeout`](Self::handle_timeout), [`handle_disconnected`](Self::handle_disconnected).
/// - **(C) commands**, which fail only on misuse or a store failure: [`send`](Self::send) (FIX
///   Antenna's `put()`), [`reply`](Self::reply), [`ack`](Self::ack), [`logout`](Self::logout),
///   [`disconnect`](Self::disconnect), [`reset_seq_num_local`](Self::reset_seq_num_local),
///   [`finalize`](Self::finalize).
/// - **(D) outputs**: [`poll_action`](Self::poll_action), to be drained until `None` after every
///   input or command, and [`poll_timeout`](Self::poll_timeout), the next time to call
///   [`handle_timeout`](Self::handle_timeout).
///
/// Every message is appended to the store before its bytes are handed out, so a message that
/// [`send`](Self::send) accepted is either delivered or recoverable after a crash.
pub struct Session {
    config: SessionConfig,
    store: Box<dyn MessageStore + Send>,
    state: SessionState,
    connected: bool,
    decoder: Decoder,
    queue: VecDeque<Queued>,
    /// Delivered messages until the caller takes them.
    inbox: Inbox,
    now: Now,
    /// The HeartBtInt in force: ours (initiator) or the counterparty's (acceptor).
    heart_bt_int: Duration,
    /// The next inbound MsgSeqNum expected on the wire.
    next_target: SeqNum,
    /// What has been settled, which is what the store's next-expected number follows.
    settled: SettleWindow,
    /// When the last input came, and the last output went.
    last_received: Instant,
    last_sent: Instant,
    /// When the last bytes were given (`handle_input`): what the messages decoded from them
    /// were received at.
    input_at: Instant,
    /// Every deadline of the connection, stored (see `timer`).
    timers: TimerTable,
    test_request_pending: bool,
    /// The gap our ResendRequest is outstanding for.
    gap: Option<gap_fill::Gap>,
    /// We sent a Logon with ResetSeqNumFlag=Y while logged on and wait for the counterparty's.
    awaiting_reset_reply: bool,
    /// The MsgSeqNum of our last Logon (the initiator's, or the acceptor's reply).
    logon_seq: SeqNum,
    /// The inbox's spare holds a decoded session-level message that waits for the deliveries
    /// before it to be taken (`decode`).
    parked: bool,
    /// Messages received ahead of a gap, waiting for it to be filled.
    queued_inbound: BTreeMap<SeqNum, sequence::Ahead>,
    /// Inbound numbers that stored replies already answer (settled out of order before a
    /// restart): when they come again they are settled, not delivered.
    already_answered: BTreeSet<SeqNum>,
    /// The counterparty's ResendRequest being served.
    resend: Option<Resend>,
    /// New messages stored while a resend is served: they go out after it (with whether each is
    /// a session-level message).
    held: VecDeque<(Bytes, bool)>,
    appended: u64,
    committed: u64,
    body: FieldWriter,
    out: BytesMut,
    /// `now.utc` as a timestamp, converted once per reading of the clock ([`Session::utc_now`]).
    utc_now: (SystemTime, UtcTimestamp),
    /// SendingTime's text, its date and second kept from one message to the next.
    stamps: TimestampFormatter,
    /// The counterparty's SendingTime, its second's value kept from one message to the next.
    sending_times: TimestampParser,
    /// The shapes of the counterparty's valid messages, so that validation against the data
    /// dictionary checks only the values of a message laid out as an earlier one.
    shapes: ShapeCache,
    /// The application's say on an inbound Logon, after the session's own checks.
    logon_check: Option<LogonCheck>,
    /// The sequence epoch: one more at every reset of the sequence numbers. Delivered messages
    /// carry it, so that an answer to a message of an old sequence cannot settle a new one.
    epoch: u64,
    /// What an operator reads (`metrics.rs`).
    pub(crate) counters: SessionCounters,
}

/// An application's check of an inbound Logon (credentials, custom tags): `true` accepts it.
pub type LogonCheck = Box<dyn Fn(&Message) -> bool + Send>;

impl Session {
    /// A session that continues from the sequence numbers in `store`. An acceptor starts in
    /// [`SessionState::WaitForLogon`], an initiator in [`SessionState::Disconnected`].
    ///
    /// A store whose appends survive a crash only once committed
    /// ([`MessageStore::durable_before_commit`] false) makes `process` durability `batch`.
    pub fn new(
        mut config: SessionConfig,
        store: Box<dyn MessageStore + Send>,
        now: Now,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        if config.storage_durability == StorageDurability::Process && !store.durable_before_commit()
        {
            config.storage_durability = StorageDurability::Batch;
        }
        if let Some(secret) = config.password.as_ref().filter(|s| s.value().is_none()) {
            return Err(ConfigError::UnreadSecret {
                key: "Password",
                secret: secret.clone(),
            });
        }
        if let Some(zone) = config.schedule.as_ref().map(|s| &s.zone)
            && !zone.has_rules()
        {
            return Err(ConfigError::UnresolvedTimeZone {
                name: zone.name().to_owned(),
            });
        }
        let next_target = store.next_target_seq();
        let already_answered = store.answered_from(next_target).into_iter().collect();
        Ok(Self {
            state: match config.role {
                Role::Acceptor => SessionState::WaitForLogon,
                Role::Initiator => SessionState::Disconnected,
            },
            connected: false,
            decoder: new_decoder(&config),
            queue: VecDeque::new(),
            inbox: Inbox::default(),
            now,
            heart_bt_int: config.heart_bt_int,
            next_target,
            settled: SettleWindow::new(next_target),
            last_received: now.mono,
            last_sent: now.mono,
            input_at: now.mono,
            timers: TimerTable::default(),
            test_request_pending: false,
            gap: None,
            awaiting_reset_reply: false,
            logon_seq: SeqNum::FIRST,
            parked: false,
            queued_inbound: BTreeMap::new(),
            already_answered,
            resend: None,
            held: VecDeque::new(),
            appended: 0,
            committed: 0,
            body: FieldWriter::with_capacity(256),
            out: BytesMut::with_capacity(OUT_CHUNK),
            utc_now: (UNIX_EPOCH, UtcTimestamp::from_system_time(UNIX_EPOCH)),
            stamps: TimestampFormatter::new(),
            sending_times: TimestampParser::new(),
            shapes: ShapeCache::new(),
            logon_check: None,
            epoch: 0,
            counters: SessionCounters::default(),
            store,
            config,
        })
    }

    // (A) getters

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Whether this instance may act for the session at `now`: its store's lease holds
    /// ([`MessageStore::held_until`]).
    #[inline]
    pub fn is_owned_at(&self, now: Instant) -> bool {
        self.store.held_until().is_none_or(|until| now < until)
    }

    /// The settings.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The MsgSeqNum our next message will carry.
    pub fn next_sender_seq(&self) -> SeqNum {
        self.store.next_sender_seq()
    }

    /// The MsgSeqNum expected next from the counterparty.
    pub fn next_target_seq(&self) -> SeqNum {
        self.next_target
    }

    /// Whether a connection is linked to the session.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// A handle to sync the store off the caller's executor on `Action::Commit`.
    pub fn sync_handle(&self) -> Option<Arc<dyn crate::SyncHandle>> {
        self.store.sync_handle()
    }

    /// Whether the session's schedule (if any) is open at `utc`.
    pub fn is_within_schedule(&self, utc: UtcTimestamp) -> bool {
        self.config.schedule.as_ref().is_none_or(|s| s.is_open(utc))
    }

    /// Delivered application messages not yet settled by `ack` or `reply`.
    pub fn unsettled_count(&self) -> usize {
        self.settled.unsettled()
    }

    /// The HeartBtInt in force.
    pub fn heart_bt_int(&self) -> Duration {
        self.heart_bt_int
    }

    /// What the session counted since it was created.
    pub fn counters(&self) -> &SessionCounters {
        &self.counters
    }

    // (B) inputs

    /// A connection was linked to the session. An initiator sends its Logon; an acceptor waits for
    /// one, up to LogonTimeout.
    pub fn handle_connected(&mut self, now: Now) {
        self.advance(now);
        if self.state == SessionState::Finalized {
            return;
        }
        self.reset_connection();
        self.connected = true;
        self.note_received();
        self.note_sent();
        self.timers
            .set(Timer::Logon, self.now.mono + self.config.logon_timeout);
        match self.config.role {
            Role::Acceptor => self.set_state(SessionState::WaitForLogon),
            Role::Initiator => self.send_logon(),
        }
    }

    /// Bytes arrived, in any chunking.
    pub fn handle_input(&mut self, now: Now, data: &[u8]) {
        self.advance(now);
        if !self.connected {
            return;
        }
        self.note_input(data.len());
        self.decoder.feed(data);
        self.decode_all();
    }

    /// [`handle_input`](Self::handle_input) that takes the bytes over: a freshly read buffer is
    /// decoded in place, without a copy.
    pub fn handle_bytes(&mut self, now: Now, data: Bytes) {
        self.advance(now);
        if !self.connected {
            return;
        }
        self.note_input(data.len());
        self.decoder.feed_bytes(data);
        self.decode_all();
    }

    /// Decodes and processes what the decoder holds, until inbound flow control holds it.
    fn decode_all(&mut self) {
        self.decode(true);
    }

    /// Decodes and processes what the decoder holds; with `hold`, only while inbound flow control
    /// allows. Each message is decoded into the delivery queue's spare slot, the queue set aside
    /// meanwhile (`inbox.rs`): a message delivered is never moved before the caller takes it.
    ///
    /// A session-level message behind deliveries not yet taken waits, decoded, in the spare
    /// (`parked`): its answer (a Heartbeat to a TestRequest, a Logout…) must not overtake the
    /// replies the caller gives to those deliveries. Decoding goes on once they are taken.
    fn decode(&mut self, hold: bool) {
        let mut inbox = std::mem::take(&mut self.inbox);
        while self.connected && !(hold && self.is_input_held()) {
            let unseen = inbox.has_deliveries();
            let msg = inbox.spare();
            let filled = if std::mem::take(&mut self.parked) {
                Ok(Some(Filled::Message))
            } else {
                self.decoder.decode_into(msg)
            };
            match filled {
                Ok(Some(Filled::Message)) => {
                    if hold && unseen && crate::MsgType::is_admin_value(msg.msg_type()) {
                        self.parked = true;
                        break;
                    }
                    if let Some(seq) = self.on_message(msg) {
                        inbox.commit(seq, self.epoch, self.input_at);
                    }
                    inbox.append(&mut self.inbox);
                }
                Ok(Some(Filled::Garbled { error, bytes })) => {
                    self.on_garbled(error, bytes);
                    // A Reject for it may consume its number and release queued messages.
                    inbox.append(&mut self.inbox);
                }
                Ok(None) => break,
                Err(error) => self.close(DisconnectReason::MessageTooLarge(error)),
            }
        }
        if !self.parked {
            inbox.release_spare();
        }
        self.inbox = inbox;
    }

    /// Whether a session-level message waits for deliveries that are all taken now: the
    /// session decodes on at its next [`poll_action`](Self::poll_action).
    pub(crate) fn decodes_on(&self) -> bool {
        self.parked && !self.inbox.has_deliveries()
    }

    /// Time passed. Spurious calls are harmless: each timer fires at most once per call, and
    /// only when its deadline has come.
    pub fn handle_timeout(&mut self, now: Now) {
        self.advance(now);
        // The schedule closed: log out (once), and let LogoutTimeout end the connection.
        if self.state == SessionState::Active && !self.schedule_open() {
            self.begin_logout(Some(b"Session end"));
        }
        let mut fired = 0;
        while let Some(timer) = self.timers.expire(self.now.mono, &mut fired) {
            self.on_timer(timer);
        }
    }

    /// The connection was closed (EOF or an I/O error seen by the caller). The session goes back
    /// to waiting: its sequence numbers stay for the next connection. Its actions end with
    /// [`Action::Disconnect`], [`DisconnectReason::ConnectionClosed`] unless the last bytes
    /// (a Logout) ended the connection otherwise, or [`DisconnectReason::LogonUnanswered`] when
    /// our Logon was waiting for its answer.
    pub fn handle_disconnected(&mut self, now: Now) {
        self.advance(now);
        if self.connected {
            // What the counterparty sent before it closed is processed, held or not: it was read
            // (at most what the adapter read before pausing), and a Logout may be among it.
            self.decode(false);
            let reason = if self.state == SessionState::LogonSent {
                DisconnectReason::LogonUnanswered
            } else {
                DisconnectReason::ConnectionClosed
            };
            self.close(reason);
        }
    }

    // (C) commands

    /// Sends an application message (`put()`): it gets the next MsgSeqNum and is stored before
    /// anything else. While logged on it goes out at once (after any resend in progress);
    /// otherwise it waits in the store, and the counterparty's ResendRequest after the next
    /// Logon brings it (with PossDupFlag).
    pub fn send(&mut self, now: Now, msg: OutboundMessage<'_>) -> Result<SeqNum, SendError> {
        self.advance(now);
        self.send_app(msg, None)
    }

    /// Sends `msg` as the answer to `delivered` and settles it: the reply's store record carries
    /// the inbound number it answers, so that after a crash the request is not processed twice.
    pub fn reply(
        &mut self,
        now: Now,
        delivered: &Delivered,
        msg: OutboundMessage<'_>,
    ) -> Result<SeqNum, SendError> {
        self.advance(now);
        self.check_current(delivered)?;
        let seq = self.send_app(msg, Some(delivered.seq()))?;
        self.settle(delivered.seq())?;
        Ok(seq)
    }

    /// Refuses a delivered application message and settles it: a BusinessMessageReject with
    /// `BusinessRejectReason <380>` = `reason` from FIX 4.2 on, a session Reject with the text
    /// before.
    pub fn reject_business(
        &mut self,
        now: Now,
        delivered: &Delivered,
        reason: u32,
        text: Option<&str>,
    ) -> Result<SeqNum, SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        self.check_current(delivered)?;
        let seq = self.send_business_reject(
            delivered.message(),
            delivered.seq(),
            reason,
            text.map(str::as_bytes),
            Some(delivered.seq()),
        )?;
        self.settle(delivered.seq())?;
        Ok(seq)
    }

    /// Adds the application's check of inbound Logons, run after the session's own (DESIGN.md
    /// section 7): a Logon it refuses is refused like any invalid one.
    pub fn set_logon_check(&mut self, check: LogonCheck) {
        self.logon_check = Some(check);
    }

    /// Settles a delivered message that needs no reply, at `now`: settling may let held-back
    /// input be decoded, and its messages are stamped and timed at `now`.
    pub fn ack(&mut self, now: Now, delivered: &Delivered) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        self.check_current(delivered)?;
        self.settle(delivered.seq())
    }

    /// Starts the Logout exchange; the connection closes when the reply comes, or after
    /// LogoutTimeout.
    pub fn logout(&mut self, now: Now, text: Option<&str>) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        if self.state != SessionState::Active {
            return Err(SendError::NotLoggedOn);
        }
        self.begin_logout(text.map(str::as_bytes));
        Ok(())
    }

    /// Closes the connection without a Logout. The session keeps its state for the next one.
    pub fn disconnect(&mut self, now: Now) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        if self.connected {
            self.close(DisconnectReason::Requested);
        }
        Ok(())
    }

    /// The peer stopped reading (the engine measured it): the connection closes without a Logout,
    /// which could not be written anyway.
    pub fn handle_slow_consumer(&mut self, now: Now) {
        self.advance(now);
        self.close(DisconnectReason::SlowConsumer);
    }

    /// Sets our next outbound MsgSeqNum (an operator's command).
    pub fn set_next_sender_seq(&mut self, now: Now, seq: SeqNum) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        self.store.set_next_sender_seq(seq)?;
        self.report_seq_change();
        Ok(())
    }

    /// Sets the next inbound MsgSeqNum we expect (an operator's command).
    pub fn set_next_target_seq(&mut self, now: Now, seq: SeqNum) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        self.store.set_next_target_seq(seq)?;
        self.next_target = seq;
        self.settled.reset(seq);
        self.queued_inbound.clear();
        self.gap = None;
        self.report_seq_change();
        Ok(())
    }

    /// Sends a SequenceReset-Reset moving the counterparty's expected number to `new_seq`, which
    /// becomes our next MsgSeqNum. Needs a logged-on session, and `new_seq` above our next one.
    pub fn send_sequence_reset(&mut self, now: Now, new_seq: SeqNum) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        if self.state != SessionState::Active {
            return Err(SendError::NotLoggedOn);
        }
        if new_seq <= self.store.next_sender_seq() {
            return Err(SendError::SeqNumNotAhead {
                next: self.store.next_sender_seq(),
                new_seq,
            });
        }
        self.send_reset(new_seq);
        self.store.set_next_sender_seq(new_seq)?;
        self.report_seq_change();
        Ok(())
    }

    /// Resets both sequence numbers through a Logon with ResetSeqNumFlag=Y while logged on (the
    /// FIX 4.4 way); the counterparty answers with its own.
    pub fn reset_seq_num(&mut self, now: Now) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        if self.state != SessionState::Active {
            return Err(SendError::NotLoggedOn);
        }
        self.reset_sequences()?;
        self.send_logon_message(true, None);
        self.awaiting_reset_reply = true;
        self.report_seq_change();
        Ok(())
    }

    /// Resets both sequence numbers to 1 and empties the store. Only while disconnected.
    pub fn reset_seq_num_local(&mut self, now: Now) -> Result<(), SendError> {
        self.advance(now);
        self.check_not_finalized()?;
        if self.connected {
            return Err(SendError::Connected);
        }
        self.reset_sequences()?;
        Ok(())
    }

    /// Releases the session for good: a connection is dropped, and every later command fails with
    /// [`SendError::Finalized`].
    pub fn finalize(&mut self, now: Now) {
        self.advance(now);
        if self.connected {
            self.close(DisconnectReason::Requested);
        }
        self.set_state(SessionState::Finalized);
    }

    // (D) outputs

    /// The next action, in order. Call until `None` after every input and command.
    ///
    /// A resend is produced here in chunks of `ResendReadChunkSize`, each once the previous one
    /// has been drained, so that a large resend never sits in memory whole.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        Some(match self.poll_step()? {
            Step::Send(frame) => Action::Send(frame),
            Step::Deliver => Action::Deliver(self.inbox.take()?),
            Step::Event(event) => Action::Event(event),
            Step::Commit => Action::Commit,
            Step::Disconnect(reason) => Action::Disconnect(reason),
        })
    }

    /// [`poll_action`](Self::poll_action) for the engine: a delivered message stays here until
    /// [`take_delivered_into`](Self::take_delivered_into), so that the other actions are not moved at its
    /// size (its field index is inline). A frame is counted as sent when it is taken here.
    pub(crate) fn poll_step(&mut self) -> Option<Step> {
        if self.decodes_on() {
            self.decode_all();
        }
        // A chunk of session-level messages only may queue nothing: go on to the next.
        while self.queue.is_empty() && self.resend.is_some() {
            self.continue_resend();
        }
        // A delivery waits while the store's lease does not hold (failover between instances):
        // the application never sees a message this instance may no longer act on. It goes on
        // once the lease holds again, or goes with the session if another instance took it.
        if matches!(self.queue.front(), Some(Queued::Deliver)) && !self.is_owned_at(self.now.mono) {
            return None;
        }
        if let Some(Queued::Stored(_, appended)) = self.queue.front() {
            let index = appended.index();
            let commit = match self.config.storage_durability {
                StorageDurability::Process => None,
                StorageDurability::Batch => (index > self.committed).then_some(self.appended),
                StorageDurability::Each => (index > self.committed).then_some(index),
            };
            if let Some(committed) = commit {
                self.committed = committed;
                return Some(Step::Commit);
            }
        }
        let Some(queued) = self.queue.pop_front() else {
            return self.commit_unsent();
        };
        Some(match queued {
            Queued::Send(frame, admin) => {
                self.count_sent(frame.len(), admin);
                Step::Send(frame)
            }
            Queued::Stored(frame, appended) => {
                self.count_sent(frame.len(), appended.is_admin());
                Step::Send(frame)
            }
            Queued::Deliver => Step::Deliver,
            Queued::Event(event) => Step::Event(event),
            Queued::Disconnect(reason) => Step::Disconnect(reason),
        })
    }

    /// The delivered message a [`Step::Deliver`] stands for, taken into storage the caller
    /// reuses. False, and
    /// `into` unchanged, when there is none.
    #[inline]
    pub(crate) fn take_delivered_into(&mut self, into: &mut Delivered) -> bool {
        self.inbox.take_into(into)
    }

    /// Under `Batch` and `Each`, a commit for messages stored and not sent (put while
    /// disconnected; the next Logon's resend brings them), so that they too are durable once the
    /// caller has carried out the actions, not only when they go out.
    fn commit_unsent(&mut self) -> Option<Step> {
        let syncs = self.config.storage_durability != StorageDurability::Process;
        (syncs && self.appended > self.committed).then(|| {
            self.committed = self.appended;
            Step::Commit
        })
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next; `None` when no timer is armed.
    /// Changes after any input or command.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_timeout()
    }

    // Internals shared by the submodules.

    /// The time now as a timestamp: the wall clock's reading converted once, however many
    /// messages are stamped or checked with it.
    #[inline]
    pub(super) fn utc_now(&mut self) -> UtcTimestamp {
        if self.utc_now.0 != self.now.utc {
            self.utc_now = (self.now.utc, UtcTimestamp::from_system_time(self.now.utc));
        }
        self.utc_now.1
    }

    /// Moves time forward, never back.
    /// Moves time forward for the engine, which learns of time outside the session's own
    /// inputs (a commit's outcome).
    pub(crate) fn advance_clock(&mut self, now: Now) {
        self.advance(now);
    }

    fn advance(&mut self, now: Now) {
        if now.mono >= self.now.mono {
            self.now = now;
        } else {
            self.now.utc = now.utc;
        }
    }

    fn check_not_finalized(&self) -> Result<(), SendError> {
        match self.state {
            SessionState::Finalized => Err(SendError::Finalized),
            _ => Ok(()),
        }
    }

    /// A delivered message of an earlier sequence epoch can be neither answered nor settled.
    fn check_current(&self, delivered: &Delivered) -> Result<(), SendError> {
        if delivered.epoch == self.epoch {
            Ok(())
        } else {
            Err(SendError::StaleDelivery)
        }
    }

    fn is_logged_on(&self) -> bool {
        matches!(self.state, SessionState::Active | SessionState::LogoutSent)
    }

    /// Inbound flow control: a logged-on session with `MaxUnsettledMessages` application messages
    /// delivered and not yet settled decodes nothing more. What arrives waits undecoded (the
    /// engine asks the adapter to stop reading), the counterparty's silence meanwhile is not held
    /// against it, and what waits is processed if the counterparty closes.
    pub fn is_input_held(&self) -> bool {
        let limit = self.config.max_unsettled_messages;
        limit > 0 && self.settled.unsettled() >= limit && self.is_logged_on()
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Logon => self.close(DisconnectReason::LogonTimeout),
            Timer::Logout => self.close(DisconnectReason::LogoutTimeout),
            Timer::Heartbeat => self.on_heartbeat_timer(),
            Timer::TestRequest => self.on_test_request_timer(),
            Timer::Silence => self.on_silence_timer(),
            Timer::GapFill => self.on_gap_fill_timer(),
        }
    }

    /// Ends the connection after the bytes queued so far, counting its end by `reason`.
    fn close(&mut self, reason: DisconnectReason) {
        if !self.connected {
            return;
        }
        self.counters.disconnects.add(&reason);
        self.queue.push_back(Queued::Disconnect(reason));
        self.drop_connection();
    }

    /// Forgets the connection; the session waits for the next one.
    fn drop_connection(&mut self) {
        let after_logout = self.state == SessionState::LogoutSent;
        self.connected = false;
        self.set_state(match (self.state, self.config.role) {
            (SessionState::Finalized, _) => SessionState::Finalized,
            (_, Role::Acceptor) => SessionState::WaitForLogon,
            (_, Role::Initiator) => SessionState::Disconnected,
        });
        self.reset_connection();
        let reset =
            self.config.reset_on_disconnect || (after_logout && self.config.reset_on_logout);
        if reset && let Err(error) = self.reset_sequences() {
            self.emit_store_failure(error);
        }
    }

    /// Clears what belongs to one connection.
    fn reset_connection(&mut self) {
        self.parked = false;
        self.inbox.release_spare();
        self.decoder = new_decoder(&self.config);
        self.timers.stop_all();
        self.awaiting_reset_reply = false;
        self.test_request_pending = false;
        self.gap = None;
        self.queued_inbound.clear();
        self.resend = None;
        // Held messages are in the store; the next Logon's resend brings them.
        self.held.clear();
    }

    /// Queues an event for the caller.
    fn push_event(&mut self, event: Event) {
        self.queue.push_back(Queued::Event(event));
    }

    /// Moves to state `to`, raising [`Event::StateChanged`] for a change when the configuration
    /// asks for it.
    fn set_state(&mut self, to: SessionState) {
        let from = std::mem::replace(&mut self.state, to);
        if from != to && self.config.report_state_changes {
            self.push_event(Event::StateChanged { from, to });
        }
    }

    fn emit_store_failure(&mut self, error: StoreError) {
        if self.connected {
            self.close(DisconnectReason::Store(error));
        }
    }
}

/// A decoder with the session's framing settings.
fn new_decoder(config: &SessionConfig) -> Decoder {
    let mut decoder = Decoder::with_max_message_size(config.max_message_size);
    decoder.set_verify_length_and_checksum(config.validate_length_and_checksum);
    decoder.set_verify_checksum(config.validate_length_and_checksum && config.validate_checksum);
    decoder
}

/// The size of the chunks outbound frames are encoded into: frames are split off a chunk, so one
/// allocation serves dozens of them (a store that keeps frames keeps their chunk), and a chunk
/// whose frames are all gone is reused in place.
const OUT_CHUNK: usize = 8 * 1024;
