//! Puts and replies that met backpressure wait here, in order, until their connection drains
//! (DESIGN.md section 5). The engine decides when a connection is full; this only holds the
//! messages and asks again. Both adapters keep one, so that `put()` can wait without any rule of
//! its own.

use std::collections::VecDeque;

use bytes::Bytes;

use super::{Engine, EngineError, SessionId};
use crate::codec::{HeaderField, Value};
use crate::session::OutboundMessage;
use crate::{Delivered, Now, SeqNum};

/// Where the result of a put or a reply goes: to a caller waiting on a channel, or to nobody (an
/// [`Application`](super::Application) callback, which has moved on).
pub type Answer = Option<Box<dyn FnOnce(Result<SeqNum, EngineError>) + Send>>;

/// A put or a reply, with what it needs to be tried again.
// `Reply` holds a message with its inline field index; boxing it would allocate per reply.
#[allow(clippy::large_enum_variant)]
pub enum Outgoing {
    /// `put()`.
    Put {
        /// The session.
        id: SessionId,
        /// Its MsgType.
        msg_type: Bytes,
        /// The application's own header fields.
        header: OwnedHeader,
        /// Its body fields.
        body: Bytes,
        /// Where the result goes.
        answer: Answer,
    },
    /// `reply()`.
    Reply {
        /// The session.
        session: SessionId,
        /// The message it answers and settles.
        delivered: Delivered,
        /// Its MsgType.
        msg_type: Bytes,
        /// The application's own header fields.
        header: OwnedHeader,
        /// Its body fields.
        body: Bytes,
        /// Where the result goes.
        answer: Answer,
    },
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, session) = match self {
            Self::Put { id, .. } => ("Put", id),
            Self::Reply { session, .. } => ("Reply", session),
        };
        f.debug_struct(kind)
            .field("session", session)
            .finish_non_exhaustive()
    }
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
            answer(result);
        }
    }
}

/// The waiting puts and replies, oldest first.
#[derive(Debug, Default)]
pub struct Waiting {
    queue: VecDeque<Outgoing>,
}

impl Waiting {
    /// Whether puts or replies of `session` wait: a new one must queue behind them.
    pub fn holds(&self, session: &SessionId) -> bool {
        !self.queue.is_empty() && self.queue.iter().any(|o| o.session() == session)
    }

    /// Carries `out` out now, or queues it while its connection is full. With `wait` false a
    /// put answers `Backpressure` instead (`try_put`).
    pub fn submit(&mut self, engine: &mut Engine, now: Now, out: Outgoing, wait: bool) {
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
    pub(super) fn park(&mut self, out: Outgoing) {
        self.queue.push_back(out);
    }

    /// Tries every waiting put and reply again, in order. The first of a session that meets
    /// backpressure again stops that session for this pass: it and the later ones of its session
    /// go back to the end, in their order.
    pub fn retry(&mut self, engine: &mut Engine, now: Now) {
        let mut blocked: Vec<SessionId> = Vec::new();
        for _ in 0..self.queue.len() {
            let Some(out) = self.queue.pop_front() else {
                break;
            };
            if blocked.contains(out.session()) {
                self.queue.push_back(out);
                continue;
            }
            match attempt(engine, now, &out) {
                Err(EngineError::Backpressure(_)) => {
                    blocked.push(out.session().clone());
                    self.queue.push_back(out);
                }
                result => out.answer(result),
            }
        }
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// One try of a put or a reply.
fn attempt(engine: &mut Engine, now: Now, out: &Outgoing) -> Result<SeqNum, EngineError> {
    match out {
        Outgoing::Put {
            id,
            msg_type,
            header,
            body,
            ..
        } => {
            let header = header.fields();
            let msg = OutboundMessage::from_parts(msg_type, body).with_header(&header);
            engine.put(now, id, msg)
        }
        Outgoing::Reply {
            session,
            delivered,
            msg_type,
            header,
            body,
            ..
        } => {
            let header = header.fields();
            let msg = OutboundMessage::from_parts(msg_type, body).with_header(&header);
            engine.reply(now, session, delivered, msg)
        }
    }
}

/// The application's own header fields of a waiting message, copied out of the caller's
/// buffers. Empty (no allocation) for a message without any.
#[derive(Clone, Debug, Default)]
pub struct OwnedHeader(Vec<(u32, Bytes)>);

impl OwnedHeader {
    /// A copy of `msg`'s header fields.
    pub fn of(msg: &OutboundMessage<'_>) -> Self {
        Self(
            msg.header()
                .iter()
                .map(|f| (f.tag, f.value.to_bytes()))
                .collect(),
        )
    }

    fn fields(&self) -> Vec<HeaderField<'_>> {
        self.0
            .iter()
            .map(|(tag, value)| HeaderField::new(*tag, Value::Text(value)))
            .collect()
    }
}
