//! The engine: every session of an application, and the routing of connections to them
//! (DESIGN.md section 2). Like quinn-proto's `Endpoint`, it does no I/O: the adapter numbers
//! connections ([`ConnId`]), feeds their bytes in, and carries out the [`Output`]s.

mod addresses;
mod auth;
mod flow;
mod handover;
mod id;
mod lockout;
mod output;
mod registry;
mod route;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use self::addresses::Addresses;
use self::flow::{Inflow, Outflow};
use self::registry::{Registry, TimerState};

use crate::SeqNum;
use crate::action::{Delivered, Event};
use crate::codec::Decoder;
use crate::config::{ConfigError, Role, SessionConfig};
use crate::error::SendError;
use crate::hash::FastHash;
use crate::metrics::{Counts, EngineMetrics, SessionMetrics};
use crate::session::{OutboundMessage, Session, SessionState, Step};
use crate::store::{MemoryStore, MessageStore, StoreError};
use crate::time::{Now, UtcTimestamp};
use crate::version::BeginString;

pub use auth::{
    AcceptAll, Authenticator, ConfiguredCredentials, Credentials, SessionDecision, SessionsManager,
};
pub use id::{ConnId, SessionId, SessionIdParts};
pub use lockout::Lockout;
pub use output::{CloseReason, Output, Refusal};

/// Engine-wide settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// `CreateUnregisteredAcceptorSession`: whether a Logon for an unregistered session may
    /// create one (the sessions manager decides). Default false.
    pub create_unregistered_acceptor_session: bool,
    /// `AcceptorCompIDs`: our CompIDs that unregistered sessions may claim; `None` allows any.
    pub acceptor_comp_ids: Option<Vec<String>>,
    /// `Session.Default`: the settings of sessions created for unregistered Logons (CompIDs,
    /// BeginString and role come from the Logon).
    pub default_session: SessionConfig,
    /// How long a new connection may take to send its Logon. Default 10 s.
    pub logon_timeout: Duration,
    /// The most connections waiting for their Logon at once. Default 1,000.
    pub max_pending_connections: usize,
    /// `MaxPendingConnectionsPerAddress`: the most of those from one IP address, so that one
    /// flooding address cannot take every place; 0 for no limit (the default).
    pub max_pending_per_address: usize,
    /// The largest Logon accepted from a connection not yet linked. Default 64 KiB.
    pub max_logon_size: usize,
    /// `LogonQualifierTag`: the Logon field that carries a session qualifier, if any.
    pub logon_qualifier_tag: Option<u32>,
    /// `ReconnectInterval`: how long an initiator waits before connecting again. Default 30 s.
    pub reconnect_interval: Duration,
    /// The optional lockout after failed authentications, keyed by (source IP, CompID). Off by
    /// default.
    pub lockout: Option<Lockout>,
    /// `ReceiveSpinningTimeout` (microseconds in the properties): for the adapters, how long a
    /// connection's reader keeps polling its socket after the last bytes instead of sleeping
    /// until it is readable. Trades a busy CPU for the wake-up of an idle thread. Zero (the
    /// default) never spins.
    pub receive_spinning_timeout: Duration,
    /// `SocketSendBufferSize`: for the adapters, the kernel's send buffer (`SO_SNDBUF`) of every
    /// connection, in bytes. Zero (the default) keeps the system's size and its automatic tuning;
    /// a size also bounds what the kernel holds for a peer that stops reading.
    pub socket_send_buffer_size: usize,
    /// `SocketReceiveBufferSize`: the same for the receive buffer (`SO_RCVBUF`).
    pub socket_receive_buffer_size: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            create_unregistered_acceptor_session: false,
            acceptor_comp_ids: None,
            default_session: SessionConfig::new(
                BeginString::Fix44,
                "DEFAULT",
                "DEFAULT",
                Role::Acceptor,
            ),
            logon_timeout: Duration::from_secs(10),
            max_pending_connections: 1000,
            max_pending_per_address: 0,
            max_logon_size: 64 * 1024,
            logon_qualifier_tag: None,
            reconnect_interval: Duration::from_secs(30),
            lockout: None,
            receive_spinning_timeout: Duration::ZERO,
            socket_send_buffer_size: 0,
            socket_receive_buffer_size: 0,
        }
    }
}

/// Actions moved from one session to the outputs per lookup, at most.
const DRAIN_BATCH: usize = 64;

/// A command the engine could not carry out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A session with this id exists already.
    #[error("session {0} exists already")]
    DuplicateSession(Box<SessionId>),
    /// No session has this id.
    #[error("no session {0}")]
    UnknownSession(Box<SessionId>),
    /// The command does not fit the session's role (an acceptor cannot initiate).
    #[error("session {0} has the wrong role for this command")]
    WrongRole(Box<SessionId>),
    /// An initiator was given no address to connect to.
    #[error("session {0} was given no address to connect to")]
    NoAddress(Box<SessionId>),
    /// The settings are invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The session refused the command.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The session's connection holds `MaxOutboundBytes` unwritten: try again once it drains.
    /// Nothing was stored.
    #[error("session {0}: the connection's outbound bytes are at MaxOutboundBytes")]
    Backpressure(Box<SessionId>),
}

/// A session in the registry.
struct Slot {
    session: Session,
    /// Registered as an acceptor: Logons may reach it.
    registered: bool,
    conn: Option<ConnId>,
    credentials: Option<Credentials>,
    /// Queued in `Engine::ready`, to be drained: queued once however often it is touched.
    ready: bool,
    /// Created for an unregistered Logon and not yet logged on: removed if that Logon fails.
    provisional: bool,
    /// An initiator's addresses (none for an acceptor).
    initiator: Addresses,
    reconnect_at: Option<Instant>,
    /// Rounds of connection attempts (every address once) that failed since the last
    /// successful Logon: the backoff's exponent.
    connect_failures: u32,
    /// The connection's unwritten outbound bytes.
    flow: Outflow,
    /// Whether the adapter was asked to stop reading the connection.
    inflow: Inflow,
    /// Its place in the queue of deadlines.
    timer: TimerState,
    /// An [`Output::Commit`] is out and its outcome not yet reported: the session's later
    /// outputs wait ([`Engine::handle_committed`]).
    committing: bool,
}

impl Slot {
    /// A session with no connection yet: `registered` takes Logons at once (a session created
    /// for an unregistered Logon), `provisional` goes again if that Logon fails.
    fn new(session: Session, registered: bool, provisional: bool) -> Self {
        let credentials = Credentials::configured(session.config());
        Self {
            session,
            registered,
            conn: None,
            credentials,
            ready: false,
            provisional,
            initiator: Addresses::default(),
            reconnect_at: None,
            connect_failures: 0,
            flow: Outflow::default(),
            inflow: Inflow::default(),
            timer: TimerState::default(),
            committing: false,
        }
    }

    /// When the engine must next look at this session: its own timers, an initiator's reconnect,
    /// a slow consumer's deadline.
    fn deadline(&self) -> Option<Instant> {
        let reconnect = self.reconnect_at.filter(|_| self.conn.is_none());
        let slow = self.session.config().slow_consumer_timeout;
        let stalled = self.conn.and(self.flow.deadline(slow));
        [self.session.poll_timeout(), reconnect, stalled]
            .into_iter()
            .flatten()
            .min()
    }
}

/// A connection waiting for its Logon: raw bytes kept for the session, and a decoder to find the
/// Logon.
struct Pending {
    opened: Instant,
    peer: Option<IpAddr>,
    raw: BytesMut,
    decoder: Decoder,
    /// Its Logon authenticated and waits for the session's connection to go: later bytes are
    /// kept for the session, not routed.
    handing_over: bool,
}

/// Makes the store of a session created for an unregistered Logon. A failure refuses the Logon:
/// a session never runs without the store it was configured with.
pub type StoreFactory = Box<
    dyn FnMut(&SessionId, UtcTimestamp) -> Result<Box<dyn MessageStore + Send>, StoreError> + Send,
>;

/// All sessions of an application and the connections routed to them.
///
/// - **Inputs**, keyed by [`ConnId`]: [`handle_connection_opened`](Self::handle_connection_opened),
///   [`handle_initiator_connected`](Self::handle_initiator_connected),
///   [`handle_input`](Self::handle_input), [`handle_connection_closed`](Self::handle_connection_closed),
///   and [`handle_timeout`](Self::handle_timeout).
/// - **Commands**, keyed by [`SessionId`]: [`create_session`](Self::create_session),
///   [`register_acceptor`](Self::register_acceptor), [`initiate`](Self::initiate),
///   [`put`](Self::put), [`reply`](Self::reply), [`ack`](Self::ack), [`logout`](Self::logout),
///   [`disconnect`](Self::disconnect), [`reset_seq_num_local`](Self::reset_seq_num_local),
///   [`finalize`](Self::finalize).
/// - **Outputs**: [`poll_output`](Self::poll_output) until `None` after every input or command,
///   and [`poll_timeout`](Self::poll_timeout).
pub struct Engine {
    config: EngineConfig,
    sessions: Registry,
    /// Connections waiting for their Logon.
    pending: HashMap<ConnId, Pending, FastHash>,
    /// When each of them was opened, in that order (its LogonTimeout); entries of connections no
    /// longer pending are dropped when they reach the front.
    pending_since: VecDeque<(Instant, ConnId)>,
    /// The sessions whose timers are due, while `handle_timeout` runs (kept for its capacity).
    due: Vec<SessionId>,
    /// Connections linked to a session.
    linked: HashMap<ConnId, SessionId, FastHash>,
    outputs: VecDeque<Output>,
    /// Sessions that may have actions to poll, in the order they were touched.
    ready: VecDeque<SessionId>,
    authenticator: Box<dyn Authenticator>,
    manager: Box<dyn SessionsManager>,
    store_factory: StoreFactory,
    /// Failed authentications per (source IP, CompID): the count and the end of the lockout.
    failures: HashMap<(IpAddr, String), (u32, Instant), FastHash>,
    /// Authenticated Logons waiting for their sessions' connections to go (`handover.rs`).
    handovers: HashMap<SessionId, handover::Handover, FastHash>,
    /// A graceful shutdown began: no new connections, no reconnects.
    stopping: bool,
    /// Connections refused before they reached a session, by reason.
    refusals: Counts<Refusal>,
    now: Now,
}

impl Engine {
    /// An engine with no sessions, the default authenticator ([`ConfiguredCredentials`]), the
    /// default sessions manager ([`AcceptAll`], consulted only when
    /// `CreateUnregisteredAcceptorSession` is on) and memory stores for created sessions.
    pub fn new(config: EngineConfig, now: Now) -> Self {
        Self::with_hasher(config, now, FastHash::default())
    }

    /// [`new`](Self::new) with the engine's maps keyed from `seed` instead of the process's
    /// random seeds: a driver that takes all randomness from its runtime passes the runtime's, so
    /// that a simulated run is reproducible.
    pub fn with_seed(config: EngineConfig, now: Now, seed: u64) -> Self {
        Self::with_hasher(config, now, FastHash::with_seed(seed))
    }

    fn with_hasher(config: EngineConfig, now: Now, hash: FastHash) -> Self {
        Self {
            config,
            sessions: Registry::with_hasher(hash),
            pending: HashMap::with_hasher(hash),
            pending_since: VecDeque::new(),
            due: Vec::new(),
            linked: HashMap::with_hasher(hash),
            outputs: VecDeque::new(),
            ready: VecDeque::new(),
            authenticator: Box::new(ConfiguredCredentials),
            manager: Box::new(AcceptAll),
            store_factory: Box::new(|_, created| Ok(Box::new(MemoryStore::new(created)))),
            failures: HashMap::with_hasher(hash),
            handovers: HashMap::with_hasher(hash),
            stopping: false,
            refusals: Counts::default(),
            now,
        }
    }

    /// Replaces the authenticator.
    pub fn set_authenticator(&mut self, authenticator: Box<dyn Authenticator>) {
        self.authenticator = authenticator;
    }

    /// Replaces the sessions manager.
    pub fn set_sessions_manager(&mut self, manager: Box<dyn SessionsManager>) {
        self.manager = manager;
    }

    /// Replaces how stores are made for sessions created for unregistered Logons.
    pub fn set_store_factory(&mut self, factory: StoreFactory) {
        self.store_factory = factory;
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The session `id`, for its getters.
    pub fn session(&self, id: &SessionId) -> Option<&Session> {
        self.sessions.get(id).map(|slot| &slot.session)
    }

    /// The ids of every session.
    pub fn session_ids(&self) -> impl Iterator<Item = &SessionId> {
        self.sessions.keys()
    }

    // Commands.

    /// Creates session `id` with `config` (whose CompIDs are set from `id`) over `store`, in the
    /// disconnected state: it takes no connection until registered or initiated.
    pub fn create_session(
        &mut self,
        id: SessionId,
        mut config: SessionConfig,
        store: Box<dyn MessageStore + Send>,
    ) -> Result<(), EngineError> {
        if self.sessions.contains_key(&id) {
            return Err(EngineError::DuplicateSession(Box::new(id)));
        }
        config.sender_comp_id = id.sender_comp_id.to_string();
        config.target_comp_id = id.target_comp_id.to_string();
        let session = Session::new(config, store, self.now)?;
        self.sessions.insert(id, Slot::new(session, false, false));
        Ok(())
    }

    /// Sets the credentials a Logon for `id` must carry.
    pub fn set_credentials(
        &mut self,
        id: &SessionId,
        credentials: Credentials,
    ) -> Result<(), EngineError> {
        self.slot_mut(id)?.credentials = Some(credentials);
        Ok(())
    }

    /// Registers `id` as an acceptor (FIX Antenna's `connect()` without arguments): from now on a
    /// Logon with the mirrored CompIDs reaches it.
    pub fn register_acceptor(&mut self, id: &SessionId) -> Result<(), EngineError> {
        let slot = self.slot_mut(id)?;
        if slot.session.config().role != Role::Acceptor {
            return Err(EngineError::WrongRole(Box::new(id.clone())));
        }
        slot.registered = true;
        Ok(())
    }

    /// Starts initiator `id` towards `addr`: the engine asks for a connection now, and again
    /// after `ReconnectInterval` whenever one ends.
    pub fn initiate(&mut self, id: &SessionId, addr: SocketAddr) -> Result<(), EngineError> {
        self.initiate_any(id, vec![addr])
    }

    /// [`initiate`](Self::initiate) with several addresses, tried in turn: the next one after
    /// each failed connection and each disconnect. After a failed connection the next address is
    /// tried at once, unless every address failed since the last try of the first: then after
    /// `ReconnectInterval`, backing off.
    pub fn initiate_any(
        &mut self,
        id: &SessionId,
        addrs: Vec<SocketAddr>,
    ) -> Result<(), EngineError> {
        let (now, interval) = (self.now, self.config.reconnect_interval);
        let slot = self.slot_mut(id)?;
        if slot.session.config().role != Role::Initiator {
            return Err(EngineError::WrongRole(Box::new(id.clone())));
        }
        let Some(&addr) = addrs.first() else {
            return Err(EngineError::NoAddress(Box::new(id.clone())));
        };
        slot.initiator.set(addrs);
        // Outside its schedule an initiator does not connect: it asks again after the interval.
        if !slot
            .session
            .is_within_schedule(UtcTimestamp::from_system_time(now.utc))
        {
            slot.reconnect_at = Some(now.mono + interval);
            return Ok(());
        }
        slot.reconnect_at = None;
        self.outputs.push_back(Output::Connect {
            session: id.clone(),
            addr,
        });
        Ok(())
    }

    /// Sends an application message on session `id` (FIX Antenna's `put()`).
    pub fn put(
        &mut self,
        now: Now,
        id: &SessionId,
        msg: OutboundMessage<'_>,
    ) -> Result<SeqNum, EngineError> {
        self.with_session(now, id, Access::SEND, |session, now| session.send(now, msg))
    }

    /// Answers a delivered message and settles it (see [`Session::reply`]).
    pub fn reply(
        &mut self,
        now: Now,
        id: &SessionId,
        delivered: &Delivered,
        msg: OutboundMessage<'_>,
    ) -> Result<SeqNum, EngineError> {
        self.with_session(now, id, Access::REPLY, |session, now| {
            session.reply(now, delivered, msg)
        })
    }

    /// Settles a delivered message that needs no reply.
    pub fn ack(&mut self, id: &SessionId, delivered: &Delivered) -> Result<(), EngineError> {
        let now = self.now;
        self.with_session(now, id, Access::SETTLE, |session, now| {
            session.ack(now, delivered)
        })
    }

    /// Starts the Logout exchange on session `id`.
    pub fn logout(
        &mut self,
        now: Now,
        id: &SessionId,
        text: Option<&str>,
    ) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            session.logout(now, text)
        })
    }

    /// Ends session `id`'s connection, with a Logout when logged on; its state stays for the next
    /// connection.
    pub fn disconnect(
        &mut self,
        now: Now,
        id: &SessionId,
        text: Option<&str>,
    ) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            match session.logout(now, text) {
                Ok(()) => Ok(()),
                Err(SendError::NotLoggedOn) => session.disconnect(now),
                Err(error) => Err(error),
            }
        })
    }

    /// Ends session `id`'s connection at once, without a Logout (an operator's disconnect); its
    /// state stays for the next connection.
    pub fn drop_connection(&mut self, now: Now, id: &SessionId) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| session.disconnect(now))
    }

    /// Resets session `id`'s sequence numbers to 1; an error while connected.
    pub fn reset_seq_num_local(&mut self, now: Now, id: &SessionId) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            session.reset_seq_num_local(now)
        })
    }

    /// Resets session `id`'s sequence numbers through a Logon 141=Y exchange while logged on.
    pub fn reset_seq_num(&mut self, now: Now, id: &SessionId) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            session.reset_seq_num(now)
        })
    }

    /// Sets session `id`'s next outbound MsgSeqNum.
    pub fn set_next_sender_seq(
        &mut self,
        now: Now,
        id: &SessionId,
        seq: SeqNum,
    ) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            session.set_next_sender_seq(now, seq)
        })
    }

    /// Sets the next inbound MsgSeqNum session `id` expects.
    pub fn set_next_target_seq(
        &mut self,
        now: Now,
        id: &SessionId,
        seq: SeqNum,
    ) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            session.set_next_target_seq(now, seq)
        })
    }

    /// Sends a SequenceReset-Reset to `new_seq` on session `id`.
    pub fn send_sequence_reset(
        &mut self,
        now: Now,
        id: &SessionId,
        new_seq: SeqNum,
    ) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            session.send_sequence_reset(now, new_seq)
        })
    }

    /// Releases session `id`: its connection closes and it leaves the registry.
    pub fn finalize(&mut self, now: Now, id: &SessionId) -> Result<(), EngineError> {
        self.with_session(now, id, Access::ANY, |session, now| {
            session.finalize(now);
            Ok(())
        })?;
        // Drain what finalizing produced (the connection's close), however full the connection
        // is, then forget the session.
        if let Some(slot) = self.sessions.get_mut(id) {
            slot.flow.clear();
        }
        self.drain_session(id);
        self.sessions.remove(id);
        Ok(())
    }

    /// Begins a graceful shutdown: every logged-on session sends its Logout and closes at the
    /// reply or at LogoutTimeout; every other connection closes now; nothing new is accepted or
    /// reconnected. The adapter goes on until [`has_connections`](Self::has_connections) is
    /// false, then makes the stores durable.
    pub fn shutdown(&mut self, now: Now) {
        self.advance(now);
        self.stopping = true;
        let pending: Vec<ConnId> = self.pending.keys().copied().collect();
        for conn in pending {
            self.refuse(conn, Refusal::ShuttingDown);
        }
        for (id, slot) in self.sessions.iter_mut() {
            slot.reconnect_at = None;
            if slot.conn.is_none() {
                continue;
            }
            // Both fail only for a finalized session, and those have left the registry.
            let _ = match slot.session.state() {
                SessionState::Active => slot.session.logout(now, Some("Shutdown")),
                SessionState::LogoutSent => Ok(()),
                _ => slot.session.disconnect(now),
            };
            mark_ready(&mut self.ready, slot, id);
        }
    }

    /// How many connections are waiting for their Logon (at most `MaxPendingConnections`).
    pub fn pending_connections(&self) -> usize {
        self.pending.len()
    }

    /// A snapshot of the engine and every session, for operators.
    pub fn metrics(&self) -> EngineMetrics {
        let mut sessions: Vec<SessionMetrics> = self
            .sessions
            .iter()
            .map(|(id, slot)| slot_metrics(id, slot))
            .collect();
        sessions.sort_by(|a, b| a.id.cmp(&b.id));
        EngineMetrics {
            pending_logon: self.pending.len(),
            refusals: self.refusals,
            sessions,
        }
    }

    /// A snapshot of session `id` alone, for operators.
    pub fn session_metrics(&self, id: &SessionId) -> Option<SessionMetrics> {
        self.sessions.get(id).map(|slot| slot_metrics(id, slot))
    }

    /// Whether any connection is still open (pending or linked to a session).
    pub fn has_connections(&self) -> bool {
        !self.pending.is_empty() || !self.linked.is_empty()
    }

    // Inputs.

    /// A connection was accepted on the listening port from `peer`; its first message must be a
    /// Logon.
    pub fn handle_connection_opened(&mut self, conn: ConnId, peer: Option<IpAddr>, now: Now) {
        self.advance(now);
        if self.stopping {
            self.refuse(conn, Refusal::ShuttingDown);
            return;
        }
        if self.pending.len() >= self.config.max_pending_connections {
            self.refuse(conn, Refusal::TooManyPendingConnections);
            return;
        }
        // A scan: the pending connections are bounded, and few outside a flood.
        let per_address = self.config.max_pending_per_address;
        if per_address > 0
            && let Some(ip) = peer
            && self.pending.values().filter(|p| p.peer == Some(ip)).count() >= per_address
        {
            self.refuse(conn, Refusal::TooManyPendingFromAddress);
            return;
        }
        let decoder = Decoder::with_max_message_size(self.config.max_logon_size);
        self.pending_since.push_back((now.mono, conn));
        self.pending.insert(
            conn,
            Pending {
                opened: now.mono,
                peer,
                raw: BytesMut::new(),
                decoder,
                handing_over: false,
            },
        );
    }

    /// The connection the engine asked for with [`Output::Connect`] is open.
    pub fn handle_initiator_connected(&mut self, conn: ConnId, id: &SessionId, now: Now) {
        self.advance(now);
        let Some(slot) = self.sessions.get_mut(id) else {
            self.refuse(conn, Refusal::UnknownSession);
            return;
        };
        if slot.conn.is_some() {
            self.refuse(conn, Refusal::DuplicateIdentity);
            return;
        }
        slot.conn = Some(conn);
        slot.flow.clear();
        slot.inflow.clear();
        slot.session.handle_connected(now);
        self.linked.insert(conn, id.clone());
        mark_ready(&mut self.ready, slot, id);
    }

    /// The connection the engine asked for could not be opened: the next address at once, or,
    /// once every address failed in turn, again later, backing off (`ReconnectInterval`,
    /// doubled per failed round, at most 16 times as long).
    pub fn handle_connect_failed(&mut self, id: &SessionId, now: Now) {
        self.advance(now);
        let interval = self.config.reconnect_interval;
        if let Some(slot) = self.sessions.get_mut(id)
            && slot.initiator.is_initiator()
        {
            if !slot.initiator.advance() {
                slot.reconnect_at = Some(now.mono);
                return;
            }
            slot.connect_failures = slot.connect_failures.saturating_add(1);
            let backoff = interval.saturating_mul(1 << (slot.connect_failures - 1).min(4));
            slot.reconnect_at = Some(now.mono + backoff);
        }
    }

    /// Bytes arrived on a connection.
    pub fn handle_input(&mut self, conn: ConnId, now: Now, data: &[u8]) {
        self.advance(now);
        if let Some(id) = self.linked.get(&conn) {
            if let Some(slot) = self.sessions.get_mut(id) {
                if !slot.session.is_owned_at(now.mono) {
                    let id = id.clone();
                    return self.close_for_store(&id, now, StoreError::Fenced);
                }
                slot.session.handle_input(now, data);
                mark_ready(&mut self.ready, slot, id);
            }
        } else if let Some(pending) = self.pending.get_mut(&conn) {
            pending.raw.extend_from_slice(data);
            if !pending.handing_over {
                pending.decoder.feed(data);
                self.route(conn);
            } else if pending.raw.len() > self.config.max_logon_size {
                // Kept for the session while it waits, and bounded as a Logon is.
                self.refuse(conn, Refusal::DuplicateIdentity);
            }
        }
    }

    /// [`handle_input`](Self::handle_input) that takes the bytes over: a buffer the adapter has
    /// just read, and holds no other handle to, is decoded in place without a copy.
    pub fn handle_bytes(&mut self, conn: ConnId, now: Now, data: Bytes) {
        self.advance(now);
        let Some(id) = self.linked.get(&conn) else {
            // Not yet linked: the Logon's bytes are kept for routing anyway.
            return self.handle_input(conn, now, &data);
        };
        if let Some(slot) = self.sessions.get_mut(id) {
            if !slot.session.is_owned_at(now.mono) {
                let id = id.clone();
                return self.close_for_store(&id, now, StoreError::Fenced);
            }
            slot.session.handle_bytes(now, data);
            mark_ready(&mut self.ready, slot, id);
        }
    }

    /// The adapter wrote `len` bytes of those sent on a connection: flow control's progress.
    pub fn handle_written(&mut self, conn: ConnId, now: Now, len: usize) {
        self.advance(now);
        let Some(id) = self.linked.get(&conn) else {
            return;
        };
        if let Some(slot) = self.sessions.get_mut(id) {
            slot.flow.written(len, now.mono);
            // Room again: what the session held back (a resend's next chunks) may go on.
            if !slot.flow.is_full(slot.session.config().max_outbound_bytes) {
                mark_ready(&mut self.ready, slot, id);
            }
        }
    }

    /// The outcome of session `id`'s last [`Output::Commit`]. On success the outputs it held
    /// back go on. On failure they never go out: the connection (if any) closes without a
    /// Logout, with [`DisconnectReason::Store`](crate::DisconnectReason::Store), and what was
    /// stored comes again with the next Logon's resend; without a connection the application
    /// gets [`Event::StoreSyncFailed`].
    pub fn handle_committed(&mut self, id: &SessionId, now: Now, result: Result<(), StoreError>) {
        self.advance(now);
        let Some(slot) = self.sessions.get_mut(id) else {
            return;
        };
        slot.committing = false;
        slot.session.advance_clock(now);
        mark_ready(&mut self.ready, slot, id);
        // A commit that ended after the lease did releases nothing: this instance may no longer
        // act for the session.
        let result = match result {
            Ok(()) if !slot.session.is_owned_at(now.mono) => Err(StoreError::Fenced),
            result => result,
        };
        if let Err(error) = result {
            self.close_for_store(id, now, error);
        }
    }

    /// Closes session `id`'s connection without a Logout, because its store failed or its
    /// lease no longer holds: what the session holds back never goes out, and what was stored
    /// comes again with the next Logon's resend; without a connection the application gets
    /// [`Event::StoreSyncFailed`].
    fn close_for_store(&mut self, id: &SessionId, now: Now, error: StoreError) {
        let Some(slot) = self.sessions.get_mut(id) else {
            return;
        };
        let Some(conn) = slot.conn.take() else {
            self.outputs.push_back(Output::Event {
                session: id.clone(),
                event: Event::StoreSyncFailed(error),
            });
            return;
        };
        slot.flow.clear();
        self.linked.remove(&conn);
        slot.reconnect_at = slot
            .initiator
            .is_initiator()
            .then(|| now.mono + self.config.reconnect_interval);
        // What the sync held back goes now, without its sends (there is no connection; they
        // stay in the store): the application hears what happened before the close.
        self.drain_session(id);
        let Some(slot) = self.sessions.get_mut(id) else {
            return;
        };
        let reason = crate::DisconnectReason::Store(error);
        // The session forgets the connection; what it still queued for it is dropped when
        // drained (no connection), and stays in the store. The connection's end is counted by
        // the reason given here, not by what the session would have closed it for.
        slot.session.handle_closed_by_engine(now, &reason);
        self.outputs.push_back(Output::Close {
            conn,
            reason: CloseReason::Session {
                session: id.clone(),
                reason,
            },
        });
        if slot.provisional {
            self.sessions.remove(id);
            return self.hand_over(id);
        }
        // The close it queued is drained next; a Logon waiting for the session goes on then.
        mark_ready(&mut self.ready, slot, id);
    }

    /// A connection was closed by the peer or failed. A session's connection ends with an
    /// [`Output::Close`] for it all the same, after the session's earlier outputs
    /// ([`DisconnectReason::ConnectionClosed`](crate::DisconnectReason::ConnectionClosed)
    /// unless its last bytes ended it otherwise), so that the application hears of every
    /// disconnect; the adapter has nothing left to close.
    pub fn handle_connection_closed(&mut self, conn: ConnId, now: Now) {
        self.advance(now);
        self.pending.remove(&conn);
        let Some(id) = self.linked.get(&conn) else {
            return;
        };
        if let Some(slot) = self.sessions.get_mut(id)
            && slot.conn == Some(conn)
        {
            // No byte will be written any more. The session queues its Disconnect behind what
            // it still holds (the last bytes' messages, outputs waiting for a Commit), and the
            // connection ends as any other when that is drained, in order.
            slot.flow.clear();
            slot.session.handle_disconnected(now);
            mark_ready(&mut self.ready, slot, id);
        }
    }

    /// Time passed: session timers, Logon timeouts of pending connections, initiator reconnects.
    pub fn handle_timeout(&mut self, now: Now) {
        self.advance(now);
        let timeout = self.config.logon_timeout;
        while let Some(&(opened, conn)) = self.pending_since.front()
            && opened + timeout <= now.mono
        {
            self.pending_since.pop_front();
            if self.pending.get(&conn).is_some_and(|p| p.opened == opened) {
                self.refuse(conn, Refusal::LogonTimeout);
            }
        }
        self.expire_handovers();
        let mut due = std::mem::take(&mut self.due);
        self.sessions.take_due(now.mono, &mut due);
        for id in due.drain(..) {
            self.expire(&id, now);
        }
        self.due = due;
    }

    // Outputs.

    /// The next thing for the adapter to do. Call until `None` after every input and command.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        loop {
            if let Some(output) = self.outputs.pop_front() {
                return Some(output);
            }
            let id = self.ready.pop_front()?;
            self.drain_session(&id);
        }
    }

    /// The oldest message of session `id` announced by an [`Output::Deliver`] and not yet taken.
    /// A session that was finalized since has none.
    #[inline]
    pub fn take_delivered(&mut self, id: &SessionId) -> Option<Delivered> {
        let mut delivered = Delivered::default();
        self.take_delivered_into(id, &mut delivered)
            .then_some(delivered)
    }

    /// [`take_delivered`](Self::take_delivered) into storage that the caller owns and reuses
    /// (start with `Delivered::default()`): only the fields in use are copied, the memory of
    /// a large message's index changes hands, and the message `into` held is let go. Returns
    /// false, and leaves `into` as it was, when there is none.
    #[inline]
    pub fn take_delivered_into(&mut self, id: &SessionId, into: &mut Delivered) -> bool {
        let Some(slot) = self.sessions.get_mut(id) else {
            return false;
        };
        let taken = slot.session.take_delivered_into(into);
        // A session-level message waited for this delivery to be taken: it goes on at the
        // next poll, after the caller has handled this one.
        if slot.session.decodes_on() {
            mark_ready(&mut self.ready, slot, id);
        }
        taken
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next. It looks at the sessions
    /// touched since the last call only, not at every session.
    #[must_use]
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Connections that logged on (or closed) leave their entries behind.
        while let Some(&(opened, conn)) = self.pending_since.front()
            && self.pending.get(&conn).is_none_or(|p| p.opened != opened)
        {
            self.pending_since.pop_front();
        }
        let logon = self
            .pending_since
            .front()
            .map(|&(opened, _)| opened + self.config.logon_timeout);
        [logon, self.sessions.next_deadline(), self.next_handover()]
            .into_iter()
            .flatten()
            .min()
    }

    // Internals.

    fn advance(&mut self, now: Now) {
        if now.mono >= self.now.mono {
            self.now = now;
        }
    }

    fn slot_mut(&mut self, id: &SessionId) -> Result<&mut Slot, EngineError> {
        self.sessions
            .get_mut(id)
            .ok_or_else(|| EngineError::UnknownSession(Box::new(id.clone())))
    }

    /// Runs `command` on session `id` with one lookup, then has the session polled. With
    /// `access.writable` it is refused (`Err(Backpressure)`) while the session's connection holds
    /// `MaxOutboundBytes` unwritten; with `access.settles` the connection's input may resume
    /// afterwards (inbound flow control), whatever the command's result.
    fn with_session<T>(
        &mut self,
        now: Now,
        id: &SessionId,
        access: Access,
        command: impl FnOnce(&mut Session, Now) -> Result<T, SendError>,
    ) -> Result<T, EngineError> {
        self.advance(now);
        let Some(slot) = self.sessions.get_mut(id) else {
            return Err(EngineError::UnknownSession(Box::new(id.clone())));
        };
        let full = access.writable
            && slot.conn.is_some()
            && slot.flow.is_full(slot.session.config().max_outbound_bytes);
        let result = if full {
            slot.flow.refuse();
            Err(EngineError::Backpressure(Box::new(id.clone())))
        } else {
            let result = command(&mut slot.session, now);
            mark_ready(&mut self.ready, slot, id);
            result.map_err(EngineError::from)
        };
        if access.settles {
            resume_when_settled(slot, &mut self.outputs);
        }
        result
    }

    /// Moves the actions of session `id` to the outputs, in order, with one lookup for all. It
    /// stops while the connection holds `MaxOutboundBytes` unwritten: the session then keeps the
    /// rest (a long resend is pulled from the store chunk by chunk as the peer reads), and
    /// [`handle_written`](Self::handle_written) resumes it.
    fn drain_session(&mut self, id: &SessionId) {
        let Some(slot) = self.sessions.get_mut(id) else {
            return;
        };
        slot.ready = false;
        let max_unwritten = slot.session.config().max_outbound_bytes;
        let mut remove = false;
        for taken in 0.. {
            // A session that has closed its connection is drained past MaxOutboundBytes: its
            // close must not wait behind bytes that its peer is not reading.
            let held = slot.conn.is_some()
                && slot.session.is_connected()
                && slot.flow.is_full(max_unwritten);
            if slot.committing || held {
                break;
            }
            if taken == DRAIN_BATCH {
                // Outputs are large (a delivered message carries its field index): take a batch,
                // and come back for the rest after the adapter has carried it out.
                slot.ready = true;
                self.ready.push_front(id.clone());
                break;
            }
            let Some(step) = slot.session.poll_step() else {
                break;
            };
            let output = match step {
                Step::Send(bytes) => match slot.conn {
                    Some(conn) => {
                        slot.flow.sent(bytes.len(), self.now.mono);
                        Output::Send { conn, bytes }
                    }
                    None => {
                        // The connection is gone; the store keeps the message, and it was not
                        // sent after all.
                        slot.session.uncount_sent(&bytes);
                        continue;
                    }
                },
                Step::Deliver => {
                    let held = slot.session.is_input_held();
                    if let Some(conn) = slot.conn.filter(|_| slot.inflow.pause(held)) {
                        self.outputs.push_back(Output::PauseInput { conn });
                    }
                    Output::Deliver {
                        session: id.clone(),
                    }
                }
                Step::Event(event) => {
                    if matches!(event, Event::LoggedOn { .. }) {
                        slot.provisional = false;
                        slot.connect_failures = 0;
                    }
                    Output::Event {
                        session: id.clone(),
                        event,
                    }
                }
                Step::Commit => {
                    // Without a connection nothing is sent: nothing waits for the sync.
                    slot.committing = slot.conn.is_some();
                    Output::Commit {
                        session: id.clone(),
                    }
                }
                Step::Disconnect(reason) => {
                    let Some(conn) = slot.conn.take() else {
                        continue;
                    };
                    slot.flow.clear();
                    self.linked.remove(&conn);
                    // The next attempt goes to the next address (a standby may have taken over).
                    slot.initiator.advance();
                    slot.reconnect_at = slot
                        .initiator
                        .is_initiator()
                        .then(|| self.now.mono + self.config.reconnect_interval);
                    // A session created for a Logon that failed goes with its connection.
                    remove = slot.provisional;
                    Output::Close {
                        conn,
                        reason: CloseReason::Session {
                            session: id.clone(),
                            reason,
                        },
                    }
                }
            };
            self.outputs.push_back(output);
            if remove {
                break;
            }
        }
        if slot.flow.take_room(max_unwritten) {
            self.outputs.push_back(Output::Drained {
                session: id.clone(),
            });
        }
        // Its connection gone, and the session done with it: a Logon waiting for it goes on.
        let released = slot.conn.is_none() && !slot.session.is_connected();
        if remove {
            self.sessions.remove(id);
        }
        if released {
            self.hand_over(id);
        }
    }

    /// Carries out what is due on session `id` at `now`: a slow consumer's close, the session's
    /// own timers, an initiator's reconnect.
    fn expire(&mut self, id: &SessionId, now: Now) {
        let Some(slot) = self.sessions.get_mut(id) else {
            return;
        };
        // A lease that no longer holds: no timer of the session sends anything.
        if !slot.session.is_owned_at(now.mono) {
            if slot.conn.is_some() {
                self.close_for_store(id, now, StoreError::Fenced);
            }
            let Some(slot) = self.sessions.get_mut(id) else {
                return;
            };
            if slot.initiator.is_initiator() {
                slot.reconnect_at = Some(now.mono + self.config.reconnect_interval);
            }
            return;
        }
        let slow = slot.session.config().slow_consumer_timeout;
        if slot.conn.is_some() && slot.flow.deadline(slow).is_some_and(|at| at <= now.mono) {
            slot.flow.clear();
            slot.session.handle_slow_consumer(now);
            mark_ready(&mut self.ready, slot, id);
        }
        if slot.session.poll_timeout().is_some_and(|at| at <= now.mono) {
            slot.session.handle_timeout(now);
            mark_ready(&mut self.ready, slot, id);
        }
        if slot.conn.is_none()
            && !self.stopping
            && let (Some(at), Some(addr)) = (slot.reconnect_at, slot.initiator.current())
            && at <= now.mono
        {
            // Outside its schedule an initiator waits, asking again after the interval.
            if !slot
                .session
                .is_within_schedule(UtcTimestamp::from_system_time(now.utc))
            {
                slot.reconnect_at = Some(now.mono + self.config.reconnect_interval);
                return;
            }
            slot.reconnect_at = None;
            self.outputs.push_back(Output::Connect {
                session: id.clone(),
                addr,
            });
        }
    }

    /// Closes a connection that never reached a session, silently.
    fn refuse(&mut self, conn: ConnId, refusal: Refusal) {
        self.refusals.add(&refusal);
        self.pending.remove(&conn);
        self.outputs.push_back(Output::Close {
            conn,
            reason: CloseReason::Refused(refusal),
        });
    }
}

/// The snapshot of the session in `slot`, with its connection's backpressure.
fn slot_metrics(id: &SessionId, slot: &Slot) -> SessionMetrics {
    let mut metrics = slot.session.metrics(id);
    if slot.conn.is_some() {
        metrics.unwritten_bytes = slot.flow.unwritten();
        let max_unwritten = slot.session.config().max_outbound_bytes;
        metrics.backpressured = slot.flow.is_full(max_unwritten);
    }
    metrics
}

/// Resumes the input of `slot`'s connection once its session's unsettled messages are few
/// enough again (`MaxUnsettledMessages`).
fn resume_when_settled(slot: &mut Slot, outputs: &mut VecDeque<Output>) {
    let limit = slot.session.config().max_unsettled_messages;
    let unsettled = slot.session.unsettled_count();
    if let Some(conn) = slot.conn.filter(|_| slot.inflow.resume(unsettled, limit)) {
        outputs.push_back(Output::ResumeInput { conn });
    }
}

/// What a command on a session needs of the engine around it (see `Engine::with_session`).
#[derive(Clone, Copy)]
struct Access {
    /// Refused while the connection's output is full (a message to send).
    writable: bool,
    /// May settle a delivered message, so that the connection's input may resume.
    settles: bool,
}

impl Access {
    const ANY: Self = Self {
        writable: false,
        settles: false,
    };
    const SEND: Self = Self {
        writable: true,
        settles: false,
    };
    const REPLY: Self = Self {
        writable: true,
        settles: true,
    };
    const SETTLE: Self = Self {
        writable: false,
        settles: true,
    };
}

/// Queues session `id` (in `slot`) to be drained, unless it is queued already: one drain takes
/// whatever it has by then.
#[inline]
fn mark_ready(ready: &mut VecDeque<SessionId>, slot: &mut Slot, id: &SessionId) {
    if !slot.ready {
        slot.ready = true;
        ready.push_back(id.clone());
    }
}
