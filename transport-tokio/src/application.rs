//! An application that runs on the engine task itself: each message is handled where the engine
//! produced it, with no hop between tasks. The fastest way to use the adapter.

use bytes::Bytes;
use fixgate_core::session::OutboundMessage;
use fixgate_core::{
    Delivered, DisconnectReason, Engine, EngineError, Event, Now, SeqNum, SessionId,
};

use crate::waiting::{Outgoing, Waiting};

/// Callbacks on the engine task ([`FixEngine::start_with_app`](crate::FixEngine::start_with_app)).
/// They must not block: the engine waits for them.
pub trait Application: Send + 'static {
    /// An application message. Settle it with [`Context::reply`] or [`Context::ack`] (or later,
    /// through [`FixEngine::reply`](crate::FixEngine::reply)).
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: Delivered);

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
}

/// The engine, as an [`Application`] callback may use it.
pub struct Context<'a> {
    pub(crate) engine: &'a mut Engine,
    pub(crate) waiting: &'a mut Waiting,
    pub(crate) now: Now,
}

impl Context<'_> {
    /// The time of this callback.
    pub fn now(&self) -> Now {
        self.now
    }

    /// Answers `delivered` and settles it. While the connection is full, the reply waits in
    /// order (copied once) and goes out when it drains.
    pub fn reply(
        &mut self,
        session: &SessionId,
        delivered: Delivered,
        msg_type: &[u8],
        body: &[u8],
    ) -> Result<(), EngineError> {
        if !self.waiting.holds(session) {
            let msg = OutboundMessage::from_parts(msg_type, body);
            match self.engine.reply(self.now, session, &delivered, msg) {
                Err(EngineError::Backpressure(_)) => {}
                result => return result.map(drop),
            }
        }
        self.waiting.park(Outgoing::Reply {
            session: session.clone(),
            delivered,
            msg_type: Bytes::copy_from_slice(msg_type),
            body: Bytes::copy_from_slice(body),
            answer: None,
        });
        Ok(())
    }

    /// Settles `delivered` without a reply.
    pub fn ack(&mut self, session: &SessionId, delivered: &Delivered) -> Result<(), EngineError> {
        self.engine.ack(session, delivered)
    }

    /// Sends an application message; while the connection is full it waits in order, like a
    /// reply.
    pub fn put(
        &mut self,
        session: &SessionId,
        msg_type: &[u8],
        body: &[u8],
    ) -> Result<(), EngineError> {
        if !self.waiting.holds(session) {
            let msg = OutboundMessage::from_parts(msg_type, body);
            match self.engine.put(self.now, session, msg) {
                Err(EngineError::Backpressure(_)) => {}
                result => return result.map(drop),
            }
        }
        self.waiting.park(Outgoing::Put {
            id: session.clone(),
            msg_type: Bytes::copy_from_slice(msg_type),
            body: Bytes::copy_from_slice(body),
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
}
