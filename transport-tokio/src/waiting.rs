//! Puts and replies that met backpressure wait here, in order, until their connection drains
//! (DESIGN.md section 5). The engine decides when a connection is full; this only holds the
//! messages and asks again.

use std::collections::VecDeque;

use bytes::Bytes;
use fixgate_core::session::OutboundMessage;
use fixgate_core::{Delivered, Engine, EngineError, Now, SeqNum, SessionId};
use tokio::sync::oneshot;

/// Where the result of a put or a reply goes: a caller waiting on a channel, or nobody (the
/// application on the engine task, which has moved on).
pub(crate) type Answer = Option<oneshot::Sender<Result<SeqNum, EngineError>>>;

/// A put or a reply, with what it needs to be tried again.
// `Reply` holds a message with its inline field index; boxing it would allocate per reply.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// `put()`.
    Put {
        id: SessionId,
        msg_type: Bytes,
        body: Bytes,
        answer: Answer,
    },
    /// `reply()`.
    Reply {
        session: SessionId,
        delivered: Delivered,
        msg_type: Bytes,
        body: Bytes,
        answer: Answer,
    },
}

impl Outgoing {
    fn session(&self) -> &SessionId {
        match self {
            Self::Put { id, .. } => id,
            Self::Reply { session, .. } => session,
        }
    }

    fn answer(self, result: Result<SeqNum, EngineError>) {
        let (Self::Put { answer, .. } | Self::Reply { answer, .. }) = self;
        if let Some(answer) = answer {
            let _ = answer.send(result);
        }
    }
}

/// The waiting puts and replies, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    queue: VecDeque<Outgoing>,
}

impl Waiting {
    /// Whether puts or replies of `session` wait: a new one must queue behind them.
    pub(crate) fn holds(&self, session: &SessionId) -> bool {
        !self.queue.is_empty() && self.queue.iter().any(|o| o.session() == session)
    }

    /// Carries `out` out now, or queues it while its connection is full. With `wait` false a
    /// put answers `Backpressure` instead (`try_put`).
    pub(crate) fn submit(&mut self, engine: &mut Engine, now: Now, out: Outgoing, wait: bool) {
        let result = if self.holds(out.session()) {
            Err(EngineError::Backpressure(Box::new(out.session().clone())))
        } else {
            attempt(engine, now, &out)
        };
        match result {
            Err(EngineError::Backpressure(_)) if wait => self.queue.push_back(out),
            result => out.answer(result),
        }
    }

    /// Queues `out` behind the others of its session.
    pub(crate) fn park(&mut self, out: Outgoing) {
        self.queue.push_back(out);
    }

    /// Tries every waiting put and reply again, in order: one that meets backpressure again
    /// goes back to the end, and so do the later ones of its session, which keeps their order.
    pub(crate) fn retry(&mut self, engine: &mut Engine, now: Now) {
        for _ in 0..self.queue.len() {
            if let Some(out) = self.queue.pop_front() {
                self.submit(engine, now, out, true);
            }
        }
    }

    /// Whether nothing waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// One try of a put or a reply.
fn attempt(engine: &mut Engine, now: Now, out: &Outgoing) -> Result<SeqNum, EngineError> {
    match out {
        Outgoing::Put {
            id, msg_type, body, ..
        } => engine.put(now, id, OutboundMessage::from_parts(msg_type, body)),
        Outgoing::Reply {
            session,
            delivered,
            msg_type,
            body,
            ..
        } => engine.reply(
            now,
            session,
            delivered,
            OutboundMessage::from_parts(msg_type, body),
        ),
    }
}
