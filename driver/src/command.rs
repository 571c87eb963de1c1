//! What the handles ask of the engine task, and how the engine task carries it out.

use std::net::SocketAddr;

use fixgate_core::{
    Delivered, Engine, EngineError, MessageStore, Now, SeqNum, SessionConfig, SessionId,
};

use crate::metrics::{Latencies, Metrics};
use crate::waiting::{Outgoing, Waiting};
use fixgate_core::metrics::SessionMetrics;

/// Where a command's result goes.
pub(crate) type Reply<T> = async_channel::Sender<Result<T, EngineError>>;

/// An operator's command on one session ([`FixEngine::control`](crate::FixEngine::control)),
/// as QuickFIX/J's JMX and FIX Antenna's administrative interface offer them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionControl {
    /// Ends the connection at once, without a Logout; the session waits for the next one.
    Disconnect,
    /// Sends a Logout with this text; the connection ends at the reply or at LogoutTimeout.
    /// Fails unless logged on.
    Logout(Option<String>),
    /// Resets both sequence numbers to 1; fails while connected.
    ResetSeqNumLocal,
    /// Sets the next sender and (or) target `MsgSeqNum <34>`, the morning fix-up.
    SetSeqNums {
        /// The number of the next message we send.
        sender: Option<SeqNum>,
        /// The number we expect next.
        target: Option<SeqNum>,
    },
}

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
        addrs: Vec<SocketAddr>,
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
    Control {
        id: SessionId,
        control: SessionControl,
        reply: Reply<SessionMetrics>,
    },
    Metrics {
        reply: async_channel::Sender<Metrics>,
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
        latencies: &mut Latencies,
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
            Self::Initiate { id, addrs, reply } => (reply, engine.initiate_any(&id, addrs)),
            Self::Send { out, wait } => {
                waiting.submit(engine, latencies, now, out, wait);
                return None;
            }
            Self::Ack {
                session,
                delivered,
                reply,
            } => {
                let result = engine.ack(&session, &delivered);
                latencies.settling(&result, &delivered);
                (reply, result)
            }
            Self::Disconnect { id, reason, reply } => {
                (reply, engine.disconnect(now, &id, reason.as_deref()))
            }
            Self::ResetLocal { id, reply } => (reply, engine.reset_seq_num_local(now, &id)),
            Self::Finalize { id, reply } => (reply, engine.finalize(now, &id)),
            Self::Control { id, control, reply } => {
                let result = control.run(engine, now, &id).and_then(|()| {
                    engine
                        .session_metrics(&id)
                        .ok_or_else(|| EngineError::UnknownSession(Box::new(id)))
                });
                let _ = reply.try_send(result);
                return None;
            }
            Self::Metrics { reply } => {
                let _ = reply.try_send(Metrics::new(
                    engine.metrics(),
                    latencies,
                    now.mono,
                    waiting.len(),
                ));
                return None;
            }
            Self::Shutdown { reply } => return Some(reply),
        };
        let _ = reply.try_send(result);
        None
    }
}

impl SessionControl {
    fn run(self, engine: &mut Engine, now: Now, id: &SessionId) -> Result<(), EngineError> {
        match self {
            Self::Disconnect => engine.drop_connection(now, id),
            Self::Logout(text) => engine.logout(now, id, text.as_deref()),
            Self::ResetSeqNumLocal => engine.reset_seq_num_local(now, id),
            Self::SetSeqNums { sender, target } => {
                if let Some(seq) = sender {
                    engine.set_next_sender_seq(now, id, seq)?;
                }
                if let Some(seq) = target {
                    engine.set_next_target_seq(now, id, seq)?;
                }
                Ok(())
            }
        }
    }
}
