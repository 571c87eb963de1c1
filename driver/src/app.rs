//! An application that the driver calls where it drives the engine: each message is handled
//! where the engine produced it, with no hop between tasks. The fastest way to use the driver.

use std::net::SocketAddr;

use bytes::Bytes;
use fixgate_core::{
    Delivered, DisconnectReason, Engine, EngineError, Event, Now, OutboundMessage, SeqNum,
    SessionId,
};

use crate::ConnectFailure;
use crate::metrics::Latencies;
use crate::waiting::{Outgoing, OwnedHeader, Waiting};

/// Callbacks that the driver makes on the task that drives the [`Engine`]
/// (`FixEngine::start_with_app`). They must not block: the engine waits for them.
pub trait Application: Send + 'static {
    /// An application message. Settle it with [`Context::reply`] or [`Context::ack`] (or later,
    /// through `FixEngine::reply`). `delivered` is lent for the callback: the engine reads each
    /// message into storage of its own, and a `clone()` keeps one beyond it.
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered);

    /// Something happened in a session.
    fn on_event(&mut self, ctx: &mut Context<'_>, session: &SessionId, event: Event) {
        let _ = (ctx, session, event);
    }

    /// A session's connection ended; the session waits for the next one.
    fn on_disconnected(
        &mut self,
        ctx: &mut Context<'_>,
        session: &SessionId,
        reason: DisconnectReason,
    ) {
        let _ = (ctx, session, reason);
    }

    /// An initiator's connection to `addr` could not be opened (TCP, or its TLS handshake); the
    /// session tries again after `ReconnectInterval`, backing off.
    fn on_connect_failed(
        &mut self,
        ctx: &mut Context<'_>,
        session: &SessionId,
        addr: SocketAddr,
        reason: ConnectFailure,
    ) {
        let _ = (ctx, session, addr, reason);
    }
}

/// The engine, as an [`Application`] callback may use it.
pub struct Context<'a> {
    engine: &'a mut Engine,
    waiting: &'a mut Waiting,
    latencies: &'a mut Latencies,
    now: Now,
}

impl<'a> Context<'a> {
    /// The context of one callback, at `now`: the driver's engine and its waiting puts.
    pub(crate) fn new(
        engine: &'a mut Engine,
        waiting: &'a mut Waiting,
        latencies: &'a mut Latencies,
        now: Now,
    ) -> Self {
        Self {
            engine,
            waiting,
            latencies,
            now,
        }
    }

    /// `result` of settling `delivered`, noted for its latency when the engine took it.
    #[inline]
    fn settling<T>(
        &mut self,
        delivered: &Delivered,
        result: Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        self.latencies.settling(&result, delivered);
        result
    }
}

impl Context<'_> {
    /// The time of this callback.
    pub fn now(&self) -> Now {
        self.now
    }

    /// Session `id`, for its getters (state, sequence numbers), as it is during this callback.
    pub fn session(&self, id: &SessionId) -> Option<&fixgate_core::Session> {
        self.engine.session(id)
    }

    /// Answers `delivered` and settles it. While the connection is full, the reply waits in
    /// order (it and `delivered` copied once) and goes out when it drains.
    pub fn reply(
        &mut self,
        session: &SessionId,
        delivered: &Delivered,
        msg_type: &[u8],
        body: &[u8],
    ) -> Result<(), EngineError> {
        self.reply_message(
            session,
            delivered,
            OutboundMessage::from_parts(msg_type, body),
        )
    }

    /// [`reply`](Self::reply) with a whole [`OutboundMessage`]: its header fields of the
    /// application's own wait with it.
    #[inline]
    pub fn reply_message(
        &mut self,
        session: &SessionId,
        delivered: &Delivered,
        msg: OutboundMessage<'_>,
    ) -> Result<(), EngineError> {
        if !self.waiting.holds(session) {
            match self.engine.reply(self.now, session, delivered, msg) {
                Err(EngineError::Backpressure(_)) => {}
                result => return self.settling(delivered, result).map(drop),
            }
        }
        self.waiting.park(Outgoing::Reply {
            session: session.clone(),
            delivered: delivered.clone(),
            msg_type: Bytes::copy_from_slice(msg.msg_type()),
            header: OwnedHeader::of(&msg),
            body: Bytes::copy_from_slice(msg.body()),
            answer: None,
        });
        Ok(())
    }

    /// Settles `delivered` without a reply.
    pub fn ack(&mut self, session: &SessionId, delivered: &Delivered) -> Result<(), EngineError> {
        let result = self.engine.ack(session, delivered);
        self.settling(delivered, result)
    }

    /// Sends an application message; while the connection is full it waits in order, like a
    /// reply.
    pub fn put(
        &mut self,
        session: &SessionId,
        msg_type: &[u8],
        body: &[u8],
    ) -> Result<(), EngineError> {
        self.send(session, OutboundMessage::from_parts(msg_type, body))
    }

    /// [`put`](Self::put) of a whole [`OutboundMessage`], header fields of the application's own
    /// included.
    pub fn send(
        &mut self,
        session: &SessionId,
        msg: OutboundMessage<'_>,
    ) -> Result<(), EngineError> {
        if !self.waiting.holds(session) {
            match self.engine.put(self.now, session, msg) {
                Err(EngineError::Backpressure(_)) => {}
                result => return result.map(drop),
            }
        }
        self.waiting.park(Outgoing::Put {
            id: session.clone(),
            msg_type: Bytes::copy_from_slice(msg.msg_type()),
            header: OwnedHeader::of(&msg),
            body: Bytes::copy_from_slice(msg.body()),
            answer: None,
        });
        Ok(())
    }

    /// [`put`](Self::put) that fails with [`EngineError::Backpressure`] instead of waiting, and
    /// returns the MsgSeqNum.
    pub fn try_put(
        &mut self,
        session: &SessionId,
        msg_type: &[u8],
        body: &[u8],
    ) -> Result<SeqNum, EngineError> {
        if self.waiting.holds(session) {
            return Err(EngineError::Backpressure(Box::new(session.clone())));
        }
        self.engine.put(
            self.now,
            session,
            OutboundMessage::from_parts(msg_type, body),
        )
    }

    /// [`try_put`](Self::try_put) of a whole [`OutboundMessage`], which may carry header fields
    /// of the application's own (OnBehalfOfCompID, DeliverToCompID, PossResend, ApplVerID…).
    pub fn try_send(
        &mut self,
        session: &SessionId,
        msg: OutboundMessage<'_>,
    ) -> Result<SeqNum, EngineError> {
        if self.waiting.holds(session) {
            return Err(EngineError::Backpressure(Box::new(session.clone())));
        }
        self.engine.put(self.now, session, msg)
    }

    /// Answers `delivered` with a whole [`OutboundMessage`] (header fields of the application's
    /// own included) and settles it; fails with [`EngineError::Backpressure`] instead of waiting,
    /// and then settles nothing.
    pub fn try_reply(
        &mut self,
        session: &SessionId,
        delivered: &Delivered,
        msg: OutboundMessage<'_>,
    ) -> Result<SeqNum, EngineError> {
        if self.waiting.holds(session) {
            return Err(EngineError::Backpressure(Box::new(session.clone())));
        }
        let result = self.engine.reply(self.now, session, delivered, msg);
        self.settling(delivered, result)
    }
}
