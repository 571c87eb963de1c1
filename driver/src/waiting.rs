//! Puts and replies that met backpressure wait here, in order, until their connection drains
//! (DESIGN.md section 5). The engine decides when a connection is full and when it has room
//! again (`Output::Drained`); this only holds the messages and asks again, for that session.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use fixgate_core::codec::{HeaderField, Value};
use fixgate_core::{Delivered, Engine, EngineError, Now, OutboundMessage, SeqNum, SessionId};

use fixgate_core::FastHash;

use crate::metrics::Latencies;

/// Where the result of a put or a reply goes: to a caller waiting on a channel, or to nobody (an
/// [`Application`](super::Application) callback, which has moved on).
pub(crate) type Answer = Option<Box<dyn FnOnce(Result<SeqNum, EngineError>) + Send>>;

/// A put or a reply, with what it needs to be tried again.
// `Reply` holds a message with its inline field index; boxing it would allocate per reply.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Outgoing {
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

/// The waiting puts and replies of each session, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    /// Only sessions with something waiting have an entry.
    queues: HashMap<SessionId, VecDeque<Outgoing>, FastHash>,
}

impl Waiting {
    /// An empty set, its map keyed with `hash`.
    pub(crate) fn with_hasher(hash: FastHash) -> Self {
        Self {
            queues: HashMap::with_hasher(hash),
        }
    }

    /// Whether puts or replies of `session` wait: a new one must queue behind them.
    #[inline]
    pub(crate) fn holds(&self, session: &SessionId) -> bool {
        !self.queues.is_empty() && self.queues.contains_key(session)
    }

    /// Carries `out` out now, or queues it while its connection is full. With `wait` false a
    /// put answers `Backpressure` instead (`try_put`).
    pub(crate) fn submit(
        &mut self,
        engine: &mut Engine,
        latencies: &mut Latencies,
        now: Now,
        out: Outgoing,
        wait: bool,
    ) {
        let result = if self.holds(out.session()) {
            Err(EngineError::Backpressure(Box::new(out.session().clone())))
        } else {
            attempt(engine, latencies, now, &out)
        };
        match result {
            Err(EngineError::Backpressure(_)) if wait => self.park(out),
            result => out.answer(result),
        }
    }

    /// The puts and replies waiting, over every session.
    pub(crate) fn len(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }

    /// Queues `out` behind the others of its session.
    pub(crate) fn park(&mut self, out: Outgoing) {
        self.queues
            .entry(out.session().clone())
            .or_default()
            .push_back(out);
    }

    /// Tries the waiting puts and replies of `session` again, in order, until one meets
    /// backpressure again (the engine then says `Drained` again when there is room).
    pub(crate) fn retry(
        &mut self,
        engine: &mut Engine,
        latencies: &mut Latencies,
        now: Now,
        session: &SessionId,
    ) {
        let Some(mut queue) = self.queues.remove(session) else {
            return;
        };
        while let Some(out) = queue.pop_front() {
            match attempt(engine, latencies, now, &out) {
                Err(EngineError::Backpressure(_)) => {
                    queue.push_front(out);
                    self.queues.insert(session.clone(), queue);
                    return;
                }
                result => out.answer(result),
            }
        }
    }
}

/// One try of a put or a reply; a reply taken settles its request.
fn attempt(
    engine: &mut Engine,
    latencies: &mut Latencies,
    now: Now,
    out: &Outgoing,
) -> Result<SeqNum, EngineError> {
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
            let result = engine.reply(now, session, delivered, msg);
            latencies.settling(&result, delivered);
            result
        }
    }
}

/// The application's own header fields of a waiting message, copied out of the caller's
/// buffers. Empty (no allocation) for a message without any.
#[derive(Clone, Debug, Default)]
pub(crate) struct OwnedHeader(Vec<(u32, Bytes)>);

impl OwnedHeader {
    /// A copy of `msg`'s header fields.
    pub(crate) fn of(msg: &OutboundMessage<'_>) -> Self {
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
