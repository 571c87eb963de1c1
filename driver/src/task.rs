//! The engine task: it owns the core [`Engine`], carries out its outputs in order, writes every
//! connection, and waits on its sources in a fixed order. I/O only: every decision is the
//! engine's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{self, Poll};

use bytes::Bytes;
use fixgate_core::{
    CloseReason, ConnId, Delivered, Engine, EngineConfig, Now, Output, Role, SessionId, StoreError,
};

use crate::channel::{Receiver, Sender};
use crate::command::Command;
use crate::conn::{self, Connection, Gate, READS_AHEAD};
use crate::failure::{self, ConnectFailure};
use crate::metrics::Latencies;
use crate::runtime::{AsyncTimer, Listener, Runtime, SocketOptions, sleep};
use crate::security::{Reader, Security, Writer};
use crate::waiting::Waiting;
use crate::write_queue::WriteQueue;
use crate::{AppEvent, Application, Context, EventSink};
use fixgate_core::FastHash;

/// Inputs or commands taken per wake-up of the engine task, at most.
const BATCH: usize = 256;
/// Turns the engine task takes in a row without waiting before it yields to the runtime once:
/// however busy it is (a flood of input, or a bug that leaves a deadline in the past), the other
/// tasks on its thread (readers, the application) still run.
const BUSY_TURNS: u32 = 64;
/// Messages sent in one burst before the engine task writes them: the peer starts on the first
/// replies while the rest are made (both ends busy at once, not in turn).
const WRITE_EVERY: u32 = 32;

/// What the connection tasks and the blocking pool report to the engine task.
pub(crate) enum Input<R: Runtime> {
    Accepted {
        stream: R::Stream,
        peer: SocketAddr,
    },
    /// An initiator's connection is open, past its TLS handshake (if any).
    Connected {
        conn: ConnId,
        session: SessionId,
        read: Reader,
        write: Writer,
    },
    ConnectFailed {
        session: SessionId,
        addr: SocketAddr,
        reason: ConnectFailure,
    },
    Data {
        conn: ConnId,
        bytes: Bytes,
    },
    /// The reader completed the TLS handshake (if any): the engine task writes from now on.
    Writable {
        conn: ConnId,
        write: Writer,
    },
    Closed {
        conn: ConnId,
    },
    /// A session's store sync (`Output::Commit`), asked for at `began`, ended.
    Committed {
        session: SessionId,
        began: std::time::Instant,
        result: Result<(), StoreError>,
    },
}

/// Where the application's messages and events go.
pub(crate) enum Delivery {
    /// To a stream that the application reads.
    Events(EventSink),
    /// To callbacks on the engine task.
    App(Box<dyn Application>),
}

/// What woke the engine task: the first ready source, in a fixed order. One value per wake-up,
/// moved once: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Wake<R: Runtime> {
    /// An input, or `None` once the inputs have closed.
    Input(Option<Input<R>>),
    /// A command, or `None` once every handle is gone.
    Command(Option<Command>),
    Timeout,
    /// A connection with queued bytes wrote some.
    Room,
}

/// The engine task's state.
pub(crate) struct Driver<R: Runtime> {
    runtime: R,
    engine: Engine,
    conns: HashMap<ConnId, Connection, FastHash>,
    /// Connections with queued (or unflushed) bytes: written after each burst of outputs, and
    /// whenever their sockets have room again.
    unwritten: Vec<ConnId>,
    inputs_tx: Sender<Input<R>>,
    delivery: Delivery,
    /// The message lent to [`Application::on_message`]: storage that each delivery is taken
    /// into, reused from one to the next.
    lent: Delivered,
    /// The number of the next connection.
    next_conn: u64,
    /// Puts and replies that met backpressure and wait for the connection to drain, in order.
    waiting: Waiting,
    /// The callers of `shutdown()`, answered when it is complete.
    stopping: Vec<async_channel::Sender<()>>,
    /// What only the driver measures.
    latencies: Latencies,
    security: Security,
    options: SocketOptions,
}

impl<R: Runtime> Driver<R> {
    /// Binds the port, then spawns the accept loop and the engine task.
    pub(crate) fn spawn(
        runtime: R,
        config: EngineConfig,
        listen: Option<SocketAddr>,
        security: Security,
        delivery: Delivery,
        commands: Receiver<Command>,
    ) -> std::io::Result<Option<SocketAddr>> {
        let (inputs_tx, inputs) = crate::channel::unbounded();
        let options = SocketOptions::of(&config);
        let mut local_addr = None;
        let listener = match listen {
            Some(addr) => {
                let listener = runtime.listen(addr, &options)?;
                local_addr = Some(listener.local_addr()?);
                Some(listener)
            }
            None => None,
        };
        let seed = runtime.seed();
        let hash = FastHash::with_seed(seed);
        let driver = Self {
            engine: Engine::with_seed(config, runtime.now(), seed),
            conns: HashMap::with_hasher(hash),
            unwritten: Vec::new(),
            inputs_tx,
            delivery,
            lent: Delivered::default(),
            next_conn: 1,
            waiting: Waiting::with_hasher(hash),
            stopping: Vec::new(),
            latencies: Latencies::default(),
            security,
            options,
            runtime: runtime.clone(),
        };
        // Connections are numbered on the engine task; the accept loop only hands streams over.
        if let Some(listener) = listener {
            runtime.spawn(accept_loop(
                runtime.clone(),
                listener,
                driver.inputs_tx.clone(),
            ));
        }
        runtime.spawn(driver.run(commands, inputs));
        Ok(local_addr)
    }

    async fn run(mut self, commands: Receiver<Command>, inputs: Receiver<Input<R>>) {
        // One timer, moved only when the engine's deadline moves: a timer made afresh on every
        // turn costs a registration with the runtime's timer wheel per message.
        let mut timer = self.runtime.new_timer(self.runtime.now().mono);
        let mut armed = None;
        let mut busy = 0;
        loop {
            std::future::poll_fn(|cx| {
                self.drain(cx);
                Poll::Ready(())
            })
            .await;
            if !self.stopping.is_empty() && !self.engine.has_connections() {
                self.finish_shutdown().await;
                return;
            }
            let deadline = self.engine.poll_timeout();
            if let Some(at) = deadline
                && armed != deadline
            {
                timer.reset(at);
            }
            armed = deadline;
            let mut waited = false;
            let woken = std::future::poll_fn(|cx| {
                let woken = self.poll_sources(cx, &inputs, &commands, &mut timer, armed);
                waited |= woken.is_pending();
                woken
            })
            .await;
            busy = if waited { 0 } else { busy + 1 };
            if busy == BUSY_TURNS {
                busy = 0;
                self.runtime.yield_now().await;
            }
            // One clock read for the turn.
            let now = self.runtime.now();
            let timed_out = matches!(woken, Wake::Timeout);
            match woken {
                Wake::Input(Some(input)) => self.input(input, now),
                Wake::Command(Some(command)) => self.command(command, now),
                Wake::Input(None) | Wake::Command(None) => return,
                Wake::Timeout | Wake::Room => {}
            }
            // The clock is compared with the deadline too (quinn's `drive_timer`): a busy input
            // cannot starve the timer.
            if timed_out || armed.is_some_and(|at| at <= now.mono) {
                armed = None;
                self.engine.handle_timeout(now);
            }
            // Take what else is already waiting before carrying out the outputs: one wake-up
            // then serves a burst.
            for _ in 0..BATCH {
                match inputs.try_recv() {
                    Some(input) => self.input(input, now),
                    None => break,
                }
            }
            for _ in 0..BATCH {
                match commands.try_recv() {
                    Some(command) => self.command(command, now),
                    None => break,
                }
            }
        }
    }

    /// Polls the sources in a fixed order (a biased select) and takes the first that is ready:
    /// the connections' inputs, the application's commands, the timer, then room on full
    /// sockets. The order never depends on chance, so under a simulated runtime a run is
    /// reproducible. None starves another: every turn also takes a batch of inputs and of
    /// commands, writes what it can, and compares the clock with the timer's deadline.
    fn poll_sources(
        &mut self,
        cx: &mut task::Context<'_>,
        inputs: &Receiver<Input<R>>,
        commands: &Receiver<Command>,
        timer: &mut R::Timer,
        armed: Option<std::time::Instant>,
    ) -> Poll<Wake<R>> {
        if let Poll::Ready(input) = inputs.poll_recv(cx) {
            return Poll::Ready(Wake::Input(input));
        }
        if let Poll::Ready(command) = commands.poll_recv(cx) {
            return Poll::Ready(Wake::Command(command));
        }
        if armed.is_some() && timer.poll_expired(cx).is_ready() {
            return Poll::Ready(Wake::Timeout);
        }
        if !self.unwritten.is_empty() && self.poll_room(cx) {
            return Poll::Ready(Wake::Room);
        }
        Poll::Pending
    }

    /// Carries out the engine's outputs, in order, and writes what they sent.
    fn drain(&mut self, cx: &mut task::Context<'_>) {
        loop {
            self.carry_out(cx);
            // What is written lets the engine go on: held-back puts (`Output::Drained`), a
            // resend's next chunk.
            if self.write_unwritten(cx) == 0 {
                break;
            }
        }
        // What was settled since the last burst (in callbacks, or by commands) is complete:
        // one clock read times it all.
        if self.latencies.has_settled() {
            let now = self.runtime.now().mono;
            self.latencies.end_burst(now);
        }
    }

    /// Whether a connection with queued bytes has written some (or failed).
    fn poll_room(&mut self, cx: &mut task::Context<'_>) -> bool {
        let before = self.unwritten.len();
        self.write_unwritten(cx) > 0 || self.unwritten.len() < before
    }

    /// Writes the queued bytes of every listed connection, as far as each socket takes them
    /// without waiting, and reports them to the engine; a full socket wakes this task when it has
    /// room. Returns the bytes written.
    fn write_unwritten(&mut self, cx: &mut task::Context<'_>) -> usize {
        let mut total = 0;
        let mut at = None;
        let mut i = 0;
        while let Some(&conn) = self.unwritten.get(i) {
            let Some(connection) = self.conns.get_mut(&conn) else {
                self.unwritten.swap_remove(i);
                continue;
            };
            match conn::write_some(connection, cx) {
                Ok(0) => {}
                Ok(len) => {
                    // One clock read for the pass, however many connections wrote.
                    let at = *at.get_or_insert_with(|| self.runtime.now());
                    self.engine.handle_written(conn, at, len);
                    total += len;
                }
                // The reader sees the connection end too, and reports it closed.
                Err(_) => connection.write = None,
            }
            if connection.queue.is_idle() {
                self.unwritten.swap_remove(i);
            } else {
                i += 1;
            }
        }
        total
    }

    /// Carries out the engine's outputs, in order.
    fn carry_out(&mut self, cx: &mut task::Context<'_>) {
        // One clock read for the whole burst.
        let at = self.runtime.now();
        let mut sends = 0u32;
        while let Some(output) = self.engine.poll_output() {
            match output {
                Output::Send { conn, bytes } => {
                    // Listed while it has bytes to write or flush.
                    if let Some(connection) = self.conns.get_mut(&conn)
                        && connection.queue.push(bytes)
                    {
                        self.unwritten.push(conn);
                    }
                    sends += 1;
                    if sends.is_multiple_of(WRITE_EVERY) {
                        self.write_unwritten(cx);
                    }
                }
                Output::Close { conn, reason } => self.close(conn, reason, at),
                Output::Commit { session } => self.commit(session, at),
                Output::Drained { session } => {
                    let latencies = &mut self.latencies;
                    self.waiting
                        .retry(&mut self.engine, latencies, at, &session);
                }
                Output::Deliver { session } => self.deliver(session, at),
                Output::Event { session, event } => {
                    tracing::debug_span!("session", id = %session).in_scope(|| {
                        tracing::debug!(?event);
                    });
                    self.notify(AppEvent::Event { session, event }, at);
                }
                Output::PauseInput { conn } => {
                    if let Some(connection) = self.conns.get(&conn) {
                        connection
                            .gate
                            .paused
                            .store(true, std::sync::atomic::Ordering::Release);
                    }
                }
                Output::ResumeInput { conn } => {
                    if let Some(connection) = self.conns.get(&conn) {
                        connection
                            .gate
                            .paused
                            .store(false, std::sync::atomic::Ordering::Release);
                        connection.gate.wake();
                    }
                }
                Output::Connect { session, addr } => self.connect(session, addr),
                _ => {}
            }
        }
    }

    /// Closes a connection as the engine asked: what was queued is written by a task of its
    /// own, then the socket is shut; for a peer that stopped reading, it is dropped.
    fn close(&mut self, conn: ConnId, reason: CloseReason, at: Now) {
        match &reason {
            CloseReason::Session { session, reason } => {
                tracing::debug_span!("session", id = %session).in_scope(|| {
                    tracing::debug!(%conn, ?reason, "closing");
                });
                if self
                    .engine
                    .session(session)
                    .is_some_and(|s| s.config().role == Role::Initiator)
                {
                    failure::log_logon_failed(session, reason);
                }
                let event = AppEvent::Disconnected {
                    session: session.clone(),
                    reason: reason.clone(),
                };
                self.notify(event, at);
            }
            refused => tracing::debug!(%conn, reason = ?refused, "closing"),
        }
        // Dropping the connection ends its reader.
        if let Some(mut connection) = self.conns.remove(&conn)
            && reason.flushes()
            && let Some(write) = connection.write.take()
        {
            let queue = std::mem::take(&mut connection.queue);
            self.runtime.spawn(conn::flush_and_close(write, queue));
        }
    }

    /// Makes a session's store durable on the blocking pool; the engine holds that session's
    /// later outputs until the outcome comes back as an input. Other sessions go on.
    fn commit(&mut self, session: SessionId, at: Now) {
        let Some(handle) = self.engine.session(&session).and_then(|s| s.sync_handle()) else {
            self.engine.handle_committed(&session, at, Ok(()));
            return;
        };
        let inputs = self.inputs_tx.clone();
        let began = at.mono;
        self.runtime.spawn_blocking(move || {
            let result = handle.sync();
            let _ = inputs.send(Input::Committed {
                session,
                began,
                result,
            });
        });
    }

    /// Opens the connection an initiator asked for, TLS handshake included: a connection that
    /// fails on the way is reported with its reason, and the session has sent nothing on it.
    fn connect(&mut self, session: SessionId, addr: SocketAddr) {
        let inputs = self.inputs_tx.clone();
        let conn = self.new_conn();
        let connecting = self.runtime.connect(addr, &self.options);
        let (runtime, security) = (self.runtime.clone(), self.security.clone());
        // The handshake comes before the Logon, and the session's LogonTimeout bounds it.
        let timeout = self
            .engine
            .session(&session)
            .map_or(self.engine.config().logon_timeout, |s| {
                s.config().logon_timeout
            });
        self.runtime.spawn(async move {
            let opened = match connecting.await {
                Ok(stream) => security.connect(&runtime, stream, timeout).await,
                Err(error) => Err(ConnectFailure::Tcp(error.kind())),
            };
            let input = match opened {
                Ok((read, write)) => Input::Connected {
                    conn,
                    session,
                    read,
                    write,
                },
                Err(reason) => Input::ConnectFailed {
                    session,
                    addr,
                    reason,
                },
            };
            let _ = inputs.send(input);
        });
    }

    fn new_conn(&mut self) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        conn
    }

    /// Hands the message that an [`Output::Deliver`] announced to the [`Application`] on this
    /// task, lent for the callback, or to the event stream.
    #[inline]
    fn deliver(&mut self, session: SessionId, now: Now) {
        match &mut self.delivery {
            Delivery::Events(sink) => {
                if let Some(delivered) = self.engine.take_delivered(&session) {
                    sink(AppEvent::Deliver { session, delivered });
                }
            }
            Delivery::App(app) => {
                if self.engine.take_delivered_into(&session, &mut self.lent) {
                    let mut ctx = Context::new(
                        &mut self.engine,
                        &mut self.waiting,
                        &mut self.latencies,
                        now,
                    );
                    app.on_message(&mut ctx, &session, &self.lent);
                }
            }
        }
    }

    /// Hands an application event to the [`Application`] on this task, or to the event stream.
    #[inline]
    fn notify(&mut self, event: AppEvent, now: Now) {
        let app = match &mut self.delivery {
            Delivery::Events(sink) => return sink(event),
            Delivery::App(app) => app,
        };
        let mut ctx = Context::new(
            &mut self.engine,
            &mut self.waiting,
            &mut self.latencies,
            now,
        );
        match event {
            AppEvent::Deliver { session, delivered } => {
                app.on_message(&mut ctx, &session, &delivered);
            }
            AppEvent::Event { session, event } => app.on_event(&mut ctx, &session, event),
            AppEvent::Disconnected { session, reason } => {
                app.on_disconnected(&mut ctx, &session, reason);
            }
            AppEvent::ConnectFailed {
                session,
                addr,
                reason,
            } => app.on_connect_failed(&mut ctx, &session, addr, reason),
        }
    }

    fn input(&mut self, input: Input<R>, now: Now) {
        match input {
            Input::Accepted { stream, peer } => {
                let conn = self.new_conn();
                self.attach_accepted(conn, stream);
                self.engine
                    .handle_connection_opened(conn, Some(peer.ip()), now);
            }
            Input::Connected {
                conn,
                session,
                read,
                write,
            } => {
                self.attach(conn, Some(write), async move { Ok((read, None)) });
                self.engine.handle_initiator_connected(conn, &session, now);
            }
            Input::ConnectFailed {
                session,
                addr,
                reason,
            } => {
                failure::log_connect_failed(&session, addr, &reason);
                self.engine.handle_connect_failed(&session, now);
                let event = AppEvent::ConnectFailed {
                    session,
                    addr,
                    reason,
                };
                self.notify(event, now);
            }
            Input::Data { conn, bytes } => {
                self.engine.handle_bytes(conn, now, bytes);
                if let Some(connection) = self.conns.get(&conn)
                    && connection
                        .gate
                        .ahead
                        .fetch_sub(1, std::sync::atomic::Ordering::AcqRel)
                        == READS_AHEAD
                {
                    connection.gate.wake();
                }
            }
            Input::Writable { conn, write } => {
                // What was sent meanwhile is queued and listed: the next turn writes it.
                if let Some(connection) = self.conns.get_mut(&conn) {
                    connection.write = Some(write);
                }
            }
            Input::Closed { conn } => {
                if self.conns.remove(&conn).is_some() {
                    self.engine.handle_connection_closed(conn, now);
                }
            }
            Input::Committed {
                session,
                began,
                result,
            } => {
                let latency = now.mono.saturating_duration_since(began);
                self.latencies.store_commit.record(latency);
                if result.is_err() {
                    tracing::error_span!("session", id = %session).in_scope(|| {
                        tracing::error!(?result, "store sync failed");
                    });
                }
                self.engine.handle_committed(&session, now, result);
            }
        }
    }

    fn command(&mut self, command: Command, now: Now) {
        let latencies = &mut self.latencies;
        if let Some(reply) = command.run(&mut self.engine, &mut self.waiting, latencies, now) {
            if self.stopping.is_empty() {
                self.engine.shutdown(now);
            }
            self.stopping.push(reply);
        }
    }

    /// Ends a graceful shutdown once every connection has closed: the stores are made durable,
    /// and the callers of `shutdown()` are answered.
    async fn finish_shutdown(&mut self) {
        let handles: Vec<_> = self
            .engine
            .session_ids()
            .filter_map(|id| self.engine.session(id).and_then(|s| s.sync_handle()))
            .collect();
        for handle in handles {
            let (done, synced) = async_channel::bounded(1);
            self.runtime.spawn_blocking(move || {
                let _ = done.try_send(handle.sync());
            });
            if !matches!(synced.recv().await, Ok(Ok(()))) {
                tracing::error!("store sync failed at shutdown");
            }
        }
        for reply in self.stopping.drain(..) {
            let _ = reply.try_send(());
        }
    }

    /// Registers an accepted connection and spawns its reader, which completes the TLS
    /// handshake (if any) first; the writing half then comes back to this task.
    fn attach_accepted(&mut self, conn: ConnId, stream: R::Stream) {
        let security = self.security.clone();
        self.attach(conn, None, async move {
            let (read, write) = security.accept(stream).await?;
            Ok((read, Some(write)))
        });
    }

    /// Registers connection `conn`, written by this task through `write` (or the writing half
    /// that `opened` hands back), and spawns its reader, which reads once `opened` is ready.
    fn attach(
        &mut self,
        conn: ConnId,
        write: Option<Writer>,
        opened: impl Future<Output = std::io::Result<(Reader, Option<Writer>)>> + Send + 'static,
    ) {
        let inputs = self.inputs_tx.clone();
        let gate = Arc::new(Gate::default());
        let reader_gate = gate.clone();
        // `ReceiveSpinningTimeout`: how long the reader polls before it waits for readiness.
        let spin = self.engine.config().receive_spinning_timeout;
        let runtime = self.runtime.clone();
        self.runtime.spawn(async move {
            let gate = &*reader_gate;
            match gate.until_closed(opened).await {
                Some(Ok((mut read, write))) => {
                    if let Some(write) = write
                        && inputs.send(Input::Writable { conn, write }).is_err()
                    {
                        return;
                    }
                    conn::read_all(&runtime, conn, &mut read, &inputs, gate, spin).await;
                }
                Some(Err(error)) => tracing::debug!(%conn, %error, "TLS handshake failed"),
                None => {}
            }
            let _ = inputs.send(Input::Closed { conn });
        });
        self.conns.insert(
            conn,
            Connection {
                write,
                queue: WriteQueue::default(),
                gate,
            },
        );
    }
}

/// Accepts connections and hands them to the engine task; after an error (too many open files),
/// it waits a little before the next try.
async fn accept_loop<R: Runtime>(runtime: R, mut listener: R::Listener, inputs: Sender<Input<R>>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if inputs.send(Input::Accepted { stream, peer }).is_err() {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                let at = runtime.now().mono + std::time::Duration::from_millis(50);
                sleep(&mut runtime.new_timer(at)).await;
            }
        }
    }
}
