//! The engine task and the connection tasks: I/O only. Every decision is the core engine's. The
//! sibling of fixgate-tokio's driver, on async-io sockets and timers and a caller-given spawner.

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{self, Poll};
use std::time::{Duration, Instant, SystemTime};

use async_io::{Async, Timer};
use bytes::{Bytes, BytesMut};
use fixgate_core::engine::{Application, Context, Outgoing, PollWrite, Waiting, WriteQueue};
use fixgate_core::{
    CloseReason, ConnId, Delivered, Engine, EngineConfig, EngineError, FastHash, MessageStore, Now,
    Output, SessionConfig, SessionId,
};
use futures_lite::{AsyncReadExt, AsyncWrite, AsyncWriteExt, future};

use crate::AppEvent;
use crate::stream::{ReadHalf, Security, Side, WriteHalf};

type Reply<T> = async_channel::Sender<Result<T, EngineError>>;

/// Inputs or commands taken per wake-up of the engine task, at most.
const BATCH: usize = 256;
/// Reads a connection's reader may hand over before the engine task has taken them.
const READS_AHEAD: usize = 4;
/// Messages sent in one burst before the engine task writes them: the peer starts on the first
/// replies while the rest are made (both ends busy at once, not in turn).
const WRITE_EVERY: u32 = 32;
/// The bytes a connection's reader takes per read.
const READ_BUFFER: usize = 16 * 1024;
/// Connections the kernel may queue for `accept`, capped by `net.core.somaxconn`. The usual 128
/// drops SYNs when a thousand counterparties connect at once, and each drop costs that peer 1 s.
const LISTEN_BACKLOG: i32 = 4096;

/// The runtime's `spawn`: under smol `Arc::new(|task| smol::spawn(task).detach())`, under
/// async-std `Arc::new(|task| { async_std::task::spawn(task); })`.
pub type Spawner = Arc<dyn Fn(Pin<Box<dyn Future<Output = ()> + Send>>) + Send + Sync>;

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

/// What the socket tasks report to the engine task.
enum Input {
    Accepted {
        conn: ConnId,
        stream: Async<TcpStream>,
        peer: SocketAddr,
    },
    Connected {
        conn: ConnId,
        session: SessionId,
        stream: Async<TcpStream>,
    },
    ConnectFailed {
        session: SessionId,
    },
    Data {
        conn: ConnId,
        bytes: Bytes,
    },
    /// The reader completed the TLS handshake (if any): the engine task writes from now on.
    Writable {
        conn: ConnId,
        write: WriteHalf,
    },
    Closed {
        conn: ConnId,
    },
}

/// A connection, as the engine task sees it: its socket, and its writing half, which the engine
/// task writes itself (no task hop between a reply and its `write`).
struct Connection {
    stream: Arc<Async<TcpStream>>,
    /// `None` until the reader has completed the TLS handshake, and after a write failed.
    write: Option<WriteHalf>,
    /// Bytes sent and not yet written (or flushed), in order.
    queue: WriteQueue,
    /// What the reader waits on.
    gate: Arc<Gate>,
    /// Wakes a waiting reader when its gate may have opened.
    resume: async_channel::Sender<()>,
}

/// What a connection's reader waits on: the engine's inbound flow control (`Output::PauseInput`
/// until `Output::ResumeInput`), and its reads not yet taken by the engine task (at most
/// [`READS_AHEAD`]), so that a peer faster than the engine fills kernel buffers, not ours.
#[derive(Default)]
struct Gate {
    paused: AtomicBool,
    ahead: AtomicUsize,
}

impl Gate {
    fn is_shut(&self) -> bool {
        self.paused.load(Ordering::Acquire) || self.ahead.load(Ordering::Acquire) >= READS_AHEAD
    }
}

/// What woke the engine task. One value per wake-up, moved once: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Wake {
    Input(Option<Input>),
    Command(Option<Command>),
    Timeout,
    /// A connection with queued bytes wrote some.
    Room,
}

/// The engine task's state.
pub(crate) struct Driver {
    engine: Engine,
    conns: HashMap<ConnId, Connection, FastHash>,
    /// Connections with queued (or unflushed) bytes: written after each burst of outputs, and
    /// whenever their sockets have room again.
    unwritten: Vec<ConnId>,
    inputs_tx: async_channel::Sender<Input>,
    events: async_channel::Sender<AppEvent>,
    next_conn: Arc<AtomicU64>,
    spawner: Spawner,
    /// Puts and replies that met backpressure and wait for the connection to drain, in order.
    waiting: Waiting,
    /// The application on this task, if the engine was started with one.
    app: Option<Box<dyn Application>>,
    /// The callers of `shutdown()`, answered when it is complete.
    stopping: Vec<async_channel::Sender<()>>,
    security: Security,
}

/// The time: the monotonic clock async-io's timers use, and the wall clock.
fn now() -> Now {
    Now {
        mono: Instant::now(),
        utc: SystemTime::now(),
    }
}

impl Driver {
    /// Binds the port, spawns the accept loop and the engine task.
    pub(crate) async fn spawn(
        config: EngineConfig,
        listen: Option<SocketAddr>,
        spawner: Spawner,
        security: Security,
        app: Option<Box<dyn Application>>,
    ) -> io::Result<(
        async_channel::Sender<Command>,
        async_channel::Receiver<AppEvent>,
        Option<SocketAddr>,
    )> {
        let (commands_tx, commands) = async_channel::unbounded();
        let (events, events_rx) = async_channel::unbounded();
        let (inputs_tx, inputs) = async_channel::unbounded();
        let next_conn = Arc::new(AtomicU64::new(1));
        let mut local_addr = None;
        if let Some(addr) = listen {
            let listener = bind_listener(addr, &config)?;
            local_addr = Some(listener.get_ref().local_addr()?);
            spawner(Box::pin(accept_loop(
                listener,
                inputs_tx.clone(),
                next_conn.clone(),
            )));
        }
        let driver = Self {
            engine: Engine::new(config, now()),
            conns: HashMap::default(),
            unwritten: Vec::new(),
            inputs_tx,
            events,
            next_conn,
            spawner: spawner.clone(),
            waiting: Waiting::default(),
            app,
            stopping: Vec::new(),
            security,
        };
        spawner(Box::pin(driver.run(commands, inputs)));
        Ok((commands_tx, events_rx, local_addr))
    }

    async fn run(
        mut self,
        commands: async_channel::Receiver<Command>,
        inputs: async_channel::Receiver<Input>,
    ) {
        // One timer, moved only when the engine's deadline moves: a timer made afresh on every
        // turn costs a registration with the reactor per message.
        let mut timer = Timer::never();
        let mut armed = None;
        loop {
            self.drain().await;
            if !self.stopping.is_empty() && !self.engine.has_connections() {
                self.finish_shutdown().await;
                return;
            }
            let deadline = self.engine.poll_timeout();
            if deadline != armed {
                match deadline {
                    Some(at) => timer.set_at(at),
                    None => timer = Timer::never(),
                }
                armed = deadline;
            }
            let input = async { Wake::Input(inputs.recv().await.ok()) };
            let command = async { Wake::Command(commands.recv().await.ok()) };
            let timeout = async {
                (&mut timer).await;
                Wake::Timeout
            };
            let room = future::poll_fn(|cx| self.poll_room(cx).map(|()| Wake::Room));
            match future::or(future::or(input, room), future::or(command, timeout)).await {
                Wake::Input(Some(input)) => self.input(input),
                Wake::Command(Some(command)) => self.command(command),
                Wake::Timeout => {
                    armed = None;
                    self.engine.handle_timeout(now());
                }
                Wake::Room => {}
                Wake::Input(None) | Wake::Command(None) => return,
            }
            // Take what else is already waiting before carrying out the outputs: one wake-up
            // then serves a burst.
            for _ in 0..BATCH {
                match inputs.try_recv() {
                    Ok(input) => self.input(input),
                    Err(_) => break,
                }
            }
            for _ in 0..BATCH {
                match commands.try_recv() {
                    Ok(command) => self.command(command),
                    Err(_) => break,
                }
            }
            if !self.waiting.is_empty() {
                self.waiting.retry(&mut self.engine, now());
            }
        }
    }

    /// Carries out the engine's outputs, in order, and writes what they sent.
    async fn drain(&mut self) {
        loop {
            self.carry_out().await;
            if self.write_now().await == 0 {
                return;
            }
            // What was written may let held-back messages go on: replies that met backpressure
            // here, a resend's next chunk in the engine.
            if !self.waiting.is_empty() {
                self.waiting.retry(&mut self.engine, now());
            }
        }
    }

    /// Writes every connection's queued bytes as far as its socket takes them now.
    async fn write_now(&mut self) -> usize {
        future::poll_fn(|cx| Poll::Ready(self.write_unwritten(cx))).await
    }

    /// Waits until a connection with queued bytes has written some (or failed).
    fn poll_room(&mut self, cx: &mut task::Context<'_>) -> Poll<()> {
        let before = self.unwritten.len();
        if self.write_unwritten(cx) > 0 || self.unwritten.len() < before {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
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
            match write_some(connection, cx) {
                Ok(0) => {}
                Ok(len) => {
                    // One clock read for the pass, however many connections wrote.
                    let at = *at.get_or_insert_with(now);
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
    async fn carry_out(&mut self) {
        // One clock read for the whole burst; a sync below waits, so it reads the clock again.
        let mut at = now();
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
                        self.write_now().await;
                    }
                }
                Output::Close { conn, reason } => {
                    match &reason {
                        CloseReason::Session { session, reason } => {
                            tracing::debug_span!("session", id = %session).in_scope(|| {
                                tracing::debug!(%conn, ?reason, "closing");
                            });
                            let event = AppEvent::Disconnected {
                                session: session.clone(),
                                reason: reason.clone(),
                            };
                            self.notify(event, at);
                        }
                        refused => tracing::debug!(%conn, reason = ?refused, "closing"),
                    }
                    // What was queued is written by a task of its own, then the socket is shut;
                    // shutting the read side ends the reader. For a peer that stopped reading,
                    // both sides shut now.
                    if let Some(mut connection) = self.conns.remove(&conn) {
                        let how = if reason.flushes() {
                            std::net::Shutdown::Read
                        } else {
                            std::net::Shutdown::Both
                        };
                        let _ = connection.stream.get_ref().shutdown(how);
                        if reason.flushes()
                            && let Some(mut write) = connection.write.take()
                        {
                            let mut queue = std::mem::take(&mut connection.queue);
                            (self.spawner)(Box::pin(async move {
                                if write_queued(&mut write, &mut queue).await.is_ok() {
                                    let _ = write.close().await;
                                }
                            }));
                        }
                    }
                }
                Output::Commit { session } => {
                    // fsync on blocking's thread pool; the sends after it wait for it.
                    let mut result = Ok(());
                    if let Some(handle) =
                        self.engine.session(&session).and_then(|s| s.sync_handle())
                    {
                        result = blocking::unblock(move || handle.sync()).await;
                    }
                    at = now();
                    self.engine.handle_committed(&session, at, result);
                }
                Output::Deliver { session } => {
                    if let Some(delivered) = self.engine.take_delivered(&session) {
                        self.notify(AppEvent::Deliver { session, delivered }, at);
                    }
                }
                Output::Event { session, event } => {
                    tracing::debug_span!("session", id = %session).in_scope(|| {
                        tracing::debug!(?event);
                    });
                    self.notify(AppEvent::Event { session, event }, at);
                }
                Output::PauseInput { conn } => {
                    if let Some(connection) = self.conns.get(&conn) {
                        connection.gate.paused.store(true, Ordering::Release);
                    }
                }
                Output::ResumeInput { conn } => {
                    if let Some(connection) = self.conns.get(&conn) {
                        connection.gate.paused.store(false, Ordering::Release);
                        let _ = connection.resume.try_send(());
                    }
                }
                Output::Connect { session, addr } => {
                    let inputs = self.inputs_tx.clone();
                    let conn = ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed));
                    let socket = new_socket(addr, self.engine.config());
                    (self.spawner)(Box::pin(async move {
                        let input = match connect(socket, addr).await {
                            Ok(stream) => Input::Connected {
                                conn,
                                session,
                                stream,
                            },
                            Err(_) => Input::ConnectFailed { session },
                        };
                        let _ = inputs.send(input).await;
                    }));
                }
                _ => {}
            }
        }
    }

    /// Hands an application event to the [`Application`] on this task, or to the event stream.
    fn notify(&mut self, event: AppEvent, now: Now) {
        let Some(app) = &mut self.app else {
            let _ = self.events.try_send(event);
            return;
        };
        let mut ctx = Context::new(&mut self.engine, &mut self.waiting, now);
        match event {
            AppEvent::Deliver { session, delivered } => {
                app.on_message(&mut ctx, &session, delivered)
            }
            AppEvent::Event { session, event } => app.on_event(&mut ctx, &session, event),
            AppEvent::Disconnected { session, reason } => {
                app.on_disconnected(&mut ctx, &session, reason);
            }
        }
    }

    fn input(&mut self, input: Input) {
        match input {
            Input::Accepted { conn, stream, peer } => {
                self.attach(conn, stream, Side::Accepted);
                self.engine
                    .handle_connection_opened(conn, Some(peer.ip()), now());
            }
            Input::Connected {
                conn,
                session,
                stream,
            } => {
                self.attach(conn, stream, Side::Connected);
                self.engine
                    .handle_initiator_connected(conn, &session, now());
            }
            Input::ConnectFailed { session } => self.engine.handle_connect_failed(&session, now()),
            Input::Data { conn, bytes } => {
                self.engine.handle_bytes(conn, now(), bytes);
                if let Some(connection) = self.conns.get(&conn)
                    && connection.gate.ahead.fetch_sub(1, Ordering::AcqRel) == READS_AHEAD
                {
                    let _ = connection.resume.try_send(());
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
                    self.engine.handle_connection_closed(conn, now());
                }
            }
        }
    }

    fn command(&mut self, command: Command) {
        let engine = &mut self.engine;
        match command {
            Command::Send { out, wait } => self.waiting.submit(engine, now(), out, wait),
            Command::Create {
                id,
                config,
                store,
                reply,
            } => {
                let _ = reply.try_send(engine.create_session(id, config, store));
            }
            Command::With { f, reply } => {
                f(engine);
                let _ = reply.try_send(Ok(()));
            }
            Command::Register { id, reply } => {
                let _ = reply.try_send(engine.register_acceptor(&id));
            }
            Command::Initiate { id, addr, reply } => {
                let _ = reply.try_send(engine.initiate(&id, addr));
            }
            Command::Ack {
                session,
                delivered,
                reply,
            } => {
                let _ = reply.try_send(engine.ack(&session, &delivered));
            }
            Command::Disconnect { id, reason, reply } => {
                let _ = reply.try_send(engine.disconnect(now(), &id, reason.as_deref()));
            }
            Command::ResetLocal { id, reply } => {
                let _ = reply.try_send(engine.reset_seq_num_local(now(), &id));
            }
            Command::Finalize { id, reply } => {
                let _ = reply.try_send(engine.finalize(now(), &id));
            }
            Command::Shutdown { reply } => {
                if self.stopping.is_empty() {
                    engine.shutdown(now());
                }
                self.stopping.push(reply);
            }
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
            if blocking::unblock(move || handle.sync()).await.is_err() {
                tracing::error!("store sync failed at shutdown");
            }
        }
        for reply in self.stopping.drain(..) {
            let _ = reply.try_send(());
        }
    }

    /// Spawns the reader of a connection; its writing half comes back to this task.
    fn attach(&mut self, conn: ConnId, stream: Async<TcpStream>, side: Side) {
        let _ = stream.get_ref().set_nodelay(true);
        let stream = Arc::new(stream);
        let inputs = self.inputs_tx.clone();
        let security = self.security.clone();
        let socket = stream.clone();
        let gate = Arc::new(Gate::default());
        let (resume, resumed) = async_channel::bounded(1);
        let reader_gate = gate.clone();
        // `ReceiveSpinningTimeout`: how long the reader polls before it waits for readiness.
        let spin = self.engine.config().receive_spinning_timeout;
        (self.spawner)(Box::pin(async move {
            match security.split(socket, side).await {
                Ok((read, write)) => {
                    if inputs.send(Input::Writable { conn, write }).await.is_err() {
                        return;
                    }
                    read_all(conn, read, &inputs, &reader_gate, &resumed, spin).await;
                }
                Err(error) => tracing::debug!(%conn, %error, "TLS handshake failed"),
            }
            let _ = inputs.send(Input::Closed { conn }).await;
        }));
        self.conns.insert(
            conn,
            Connection {
                stream,
                write: None,
                queue: WriteQueue::default(),
                gate,
                resume,
            },
        );
    }
}

/// Writes `connection`'s queued bytes as far as the socket takes them without waiting; returns
/// the bytes written.
fn write_some(connection: &mut Connection, cx: &mut task::Context<'_>) -> io::Result<usize> {
    let Some(write) = connection.write.as_mut() else {
        return Ok(0);
    };
    connection.queue.write_some(&mut Polled { write, cx })
}

/// Writes everything queued, waiting for the socket as it must (a closing connection's last
/// bytes, on a task of their own).
async fn write_queued(write: &mut WriteHalf, queue: &mut WriteQueue) -> io::Result<()> {
    future::poll_fn(|cx| queue.poll_write_all(&mut Polled { write, cx })).await
}

/// A writing half polled from a task: what [`WriteQueue`] writes through.
struct Polled<'a, 'b> {
    write: &'a mut WriteHalf,
    cx: &'a mut task::Context<'b>,
}

impl PollWrite for Polled<'_, '_> {
    fn poll_write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.write).poll_write_vectored(self.cx, bufs)
    }

    fn poll_flush(&mut self) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.write).poll_flush(self.cx)
    }
}

/// Reads a connection until it ends, passing the bytes to the engine task, and not while its
/// `gate` is shut (woken through `resumed`).
async fn read_all(
    conn: ConnId,
    mut read: ReadHalf,
    inputs: &async_channel::Sender<Input>,
    gate: &Gate,
    resumed: &async_channel::Receiver<()>,
    spin: Duration,
) {
    let mut buf = vec![0u8; READ_BUFFER];
    // The bytes handed on: once the engine has dropped a read's bytes, `extend_from_slice` takes
    // the memory back, so a read allocates only while earlier ones are still held.
    let mut handed = BytesMut::new();
    let mut last_read = Instant::now();
    loop {
        // A wake-up left from an earlier opening finds the gate shut and waits again.
        while gate.is_shut() {
            if resumed.recv().await.is_err() {
                return;
            }
        }
        match read_spinning(&mut read, &mut buf, spin, last_read).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                last_read = Instant::now();
                handed.extend_from_slice(&buf[..n]);
                let bytes = handed.split().freeze();
                gate.ahead.fetch_add(1, Ordering::AcqRel);
                if inputs.send(Input::Data { conn, bytes }).await.is_err() {
                    return;
                }
                // The engine task, which writes the reply, runs before this reader reads again:
                // a read now would mostly find nothing, and its system call would come before
                // the reply's.
                future::yield_now().await;
            }
        }
    }
}

/// Reads into `buf`. Until `spin` has passed since `last_read`, the socket is polled again and
/// again (yielding to the other tasks in between) rather than waited on: the bytes are taken as
/// soon as they arrive, without the wake-up of a sleeping thread.
async fn read_spinning(
    read: &mut ReadHalf,
    buf: &mut [u8],
    spin: Duration,
    last_read: Instant,
) -> io::Result<usize> {
    while !spin.is_zero() && last_read.elapsed() < spin {
        let polled = std::pin::pin!(read.read(buf))
            .poll(&mut task::Context::from_waker(task::Waker::noop()));
        if let Poll::Ready(read) = polled {
            return read;
        }
        future::yield_now().await;
    }
    read.read(buf).await
}

/// Binds the listening socket with [`LISTEN_BACKLOG`].
fn bind_listener(addr: SocketAddr, config: &EngineConfig) -> io::Result<Async<TcpListener>> {
    let socket = new_socket(addr, config)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Async::new(TcpListener::from(socket))
}

/// A socket for `addr`, with the kernel buffers `config` sets (before it connects or listens, so
/// that the window it announces fits them).
fn new_socket(addr: SocketAddr, config: &EngineConfig) -> io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if config.socket_send_buffer_size > 0 {
        socket.set_send_buffer_size(config.socket_send_buffer_size)?;
    }
    if config.socket_receive_buffer_size > 0 {
        socket.set_recv_buffer_size(config.socket_receive_buffer_size)?;
    }
    Ok(socket)
}

/// Connects `socket` to `addr` without blocking the executor.
async fn connect(
    socket: io::Result<socket2::Socket>,
    addr: SocketAddr,
) -> io::Result<Async<TcpStream>> {
    let socket = socket?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(error)
            if error.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
        Err(error) => return Err(error),
    }
    let stream = Async::new_nonblocking(TcpStream::from(socket))?;
    stream.writable().await?;
    match stream.get_ref().take_error()? {
        Some(error) => Err(error),
        None => Ok(stream),
    }
}

async fn accept_loop(
    listener: Async<TcpListener>,
    inputs: async_channel::Sender<Input>,
    next_conn: Arc<AtomicU64>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let conn = ConnId(next_conn.fetch_add(1, Ordering::Relaxed));
                if inputs
                    .send(Input::Accepted { conn, stream, peer })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                Timer::after(Duration::from_millis(50)).await;
            }
        }
    }
}
