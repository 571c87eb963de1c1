//! What the handles ask of the engine task, and how the engine task carries it out.

use std::net::SocketAddr;

use fixgate_core::{Delivered, Engine, EngineError, MessageStore, Now, SessionConfig, SessionId};

use crate::waiting::{Outgoing, Waiting};

/// Where a command's result goes.
pub(crate) type Reply<T> = async_channel::Sender<Result<T, EngineError>>;

/// A command from a handle to the engine task.
pub(crate) enum Command {
    Create {
        id: SessionId,
        config: SessionConfig,
        store: Box<dyn MessageStore + Send>,
        reply: Reply<()>,
    },
    With {
        f: Box<dyn FnOnce(&mut Engine) + Send>,
        reply: Reply<()>,
    },
    Register {
        id: SessionId,
        reply: Reply<()>,
    },
    Initiate {
        id: SessionId,
        addr: SocketAddr,
        reply: Reply<()>,
    },
    /// A put or a reply; `wait` waits out backpressure instead of answering it.
    Send {
        out: Outgoing,
        wait: bool,
    },
    Ack {
        session: SessionId,
        delivered: Delivered,
        reply: Reply<()>,
    },
    Disconnect {
        id: SessionId,
        reason: Option<String>,
        reply: Reply<()>,
    },
    ResetLocal {
        id: SessionId,
        reply: Reply<()>,
    },
    Finalize {
        id: SessionId,
        reply: Reply<()>,
    },
    Shutdown {
        reply: async_channel::Sender<()>,
    },
}

impl Command {
    /// Carries the command out on `engine` and answers it; a `Shutdown` is given back, for the
    /// engine task to answer once the shutdown is complete.
    pub(crate) fn run(
        self,
        engine: &mut Engine,
        waiting: &mut Waiting,
        now: Now,
    ) -> Option<async_channel::Sender<()>> {
        let (reply, result) = match self {
            Self::Create {
                id,
                config,
                store,
                reply,
            } => (reply, engine.create_session(id, config, store)),
            Self::With { f, reply } => {
                f(engine);
                (reply, Ok(()))
            }
            Self::Register { id, reply } => (reply, engine.register_acceptor(&id)),
            Self::Initiate { id, addr, reply } => (reply, engine.initiate(&id, addr)),
            Self::Send { out, wait } => {
                waiting.submit(engine, now, out, wait);
                return None;
            }
            Self::Ack {
                session,
                delivered,
                reply,
            } => (reply, engine.ack(&session, &delivered)),
            Self::Disconnect { id, reason, reply } => {
                (reply, engine.disconnect(now, &id, reason.as_deref()))
            }
            Self::ResetLocal { id, reply } => (reply, engine.reset_seq_num_local(now, &id)),
            Self::Finalize { id, reply } => (reply, engine.finalize(now, &id)),
            Self::Shutdown { reply } => return Some(reply),
        };
        let _ = reply.try_send(result);
        None
    }
}
