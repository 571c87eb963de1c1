//! The simulation's network: TCP connections in memory, with flow control and faults.
//!
//! Each direction of a connection is a pipe of bounded capacity (the two kernels' buffers
//! together): a writer whose peer does not read fills it and then waits, as on a real socket.
//! Faults, all drawn from the world's seeded randomness: latency per write, partial writes,
//! a reader that stops reading for a while, a reset, a peer that vanishes without a close
//! (half-open), and a process crash that resets its connections.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::task::{Poll, Waker};
use std::time::Duration;

use super::executor::{ProcessId, World};

/// The virtual time each byte moved costs its reader.
pub const BYTE_COST: Duration = Duration::from_nanos(1);

/// The faults and sizes the network applies; a scenario sets them.
#[derive(Clone, Debug)]
pub struct Faults {
    /// Latency of each write, drawn between the two (order is kept).
    pub latency: (Duration, Duration),
    /// Per mille of writes that take fewer bytes than offered and than there is room for.
    pub partial_writes: u64,
    /// Bytes a direction of a connection holds unread (both kernels' buffers).
    pub capacity: usize,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: (Duration::from_micros(20), Duration::from_micros(200)),
            partial_writes: 100,
            capacity: 64 * 1024,
        }
    }
}

/// One end of a connection: the connection's index and the side (0 connected, 1 accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    conn: usize,
    side: usize,
}

/// One direction of a connection.
#[derive(Default)]
struct Pipe {
    /// Bytes written, each chunk readable from its virtual time on.
    chunks: VecDeque<(Duration, Vec<u8>)>,
    queued: usize,
    /// The writer shut its side down: after the bytes, the reader sees the end.
    fin: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
    /// The reading application reads nothing until this time.
    frozen_until: Duration,
    /// A wake-up armed for the reader (a chunk or a freeze ending later).
    reader_timer: Option<(Duration, u64)>,
}

struct Conn {
    /// `pipes[s]` carries what side `s` writes.
    pipes: [Pipe; 2],
    owners: [ProcessId; 2],
    addrs: [SocketAddr; 2],
    /// Reset: every operation on either side fails.
    reset: bool,
    /// A side that vanished (its host went away silently): nothing it does or sees matters.
    vanished: [bool; 2],
}

struct Listener {
    owner: ProcessId,
    queue: VecDeque<Endpoint>,
    waker: Option<Waker>,
}

/// Every listener and connection of the world.
#[derive(Default)]
pub struct Net {
    listeners: BTreeMap<SocketAddr, Listener>,
    conns: Vec<Conn>,
    next_port: u16,
    /// Processes whose applications read nothing until a virtual time.
    frozen: BTreeMap<ProcessId, Duration>,
    /// The faults in force.
    pub faults: Faults,
}

fn reset_error() -> io::Error {
    io::Error::from(io::ErrorKind::ConnectionReset)
}

impl World {
    /// Binds a listener at `addr` for the current process.
    pub fn listen(&mut self, addr: SocketAddr) -> io::Result<()> {
        if self.net.listeners.contains_key(&addr) {
            return Err(io::Error::from(io::ErrorKind::AddrInUse));
        }
        let owner = self.current;
        self.net.listeners.insert(
            addr,
            Listener {
                owner,
                queue: VecDeque::new(),
                waker: None,
            },
        );
        Ok(())
    }

    /// Takes the next connection made to the listener at `addr`.
    pub fn poll_accept(
        &mut self,
        addr: SocketAddr,
        waker: &Waker,
    ) -> Poll<io::Result<(Endpoint, SocketAddr)>> {
        let Some(listener) = self.net.listeners.get_mut(&addr) else {
            return Poll::Ready(Err(io::Error::from(io::ErrorKind::NotConnected)));
        };
        match listener.queue.pop_front() {
            Some(end) => {
                let peer = self.net.conns[end.conn].addrs[0];
                let at = self.elapsed.as_micros();
                self.trace
                    .record(at, format_args!("accept {} from {peer}", end.conn));
                Poll::Ready(Ok((end, peer)))
            }
            None => {
                listener.waker = Some(waker.clone());
                Poll::Pending
            }
        }
    }

    /// Closes the listener at `addr`.
    pub fn unlisten(&mut self, addr: SocketAddr) {
        self.net.listeners.remove(&addr);
    }

    /// Connects the current process to the listener at `addr`.
    pub fn connect(&mut self, addr: SocketAddr) -> io::Result<Endpoint> {
        let Some(listener) = self.net.listeners.get_mut(&addr) else {
            return Err(io::Error::from(io::ErrorKind::ConnectionRefused));
        };
        self.net.next_port = self.net.next_port.wrapping_add(1);
        let local = SocketAddr::from(([127, 0, 0, 1], 40_000 + self.net.next_port % 20_000));
        let conn = self.net.conns.len();
        listener.queue.push_back(Endpoint { conn, side: 1 });
        let owner = listener.owner;
        if let Some(waker) = listener.waker.take() {
            waker.wake();
        }
        self.net.conns.push(Conn {
            pipes: Default::default(),
            owners: [self.current, owner],
            addrs: [local, addr],
            reset: false,
            vanished: [false; 2],
        });
        let at = self.elapsed.as_micros();
        self.trace
            .record(at, format_args!("connect {conn} {local} -> {addr}"));
        Ok(Endpoint { conn, side: 0 })
    }

    /// The peer's address of `end`.
    pub fn peer_addr(&self, end: Endpoint) -> SocketAddr {
        self.net.conns[end.conn].addrs[1 - end.side]
    }

    /// Reads what has arrived for `end` into `buf`; `waker` (if any) is woken when more may
    /// have. `Ok(0)` is the end of the stream.
    pub fn read(
        &mut self,
        end: Endpoint,
        buf: &mut [u8],
        waker: Option<&Waker>,
    ) -> Poll<io::Result<usize>> {
        let now = self.elapsed;
        let conn = &mut self.net.conns[end.conn];
        if conn.reset {
            return Poll::Ready(Err(reset_error()));
        }
        let frozen = self.net.frozen.get(&conn.owners[end.side]).copied();
        let pipe = &mut conn.pipes[1 - end.side];
        let frozen_until = pipe.frozen_until.max(frozen.unwrap_or_default());
        let mut wake_at = None;
        if frozen_until > now {
            wake_at = Some(frozen_until);
        } else {
            let mut n = 0;
            while n < buf.len()
                && let Some((at, chunk)) = pipe.chunks.front_mut()
            {
                if *at > now {
                    wake_at = Some(*at);
                    break;
                }
                let take = chunk.len().min(buf.len() - n);
                buf[n..n + take].copy_from_slice(&chunk[..take]);
                chunk.drain(..take);
                if chunk.is_empty() {
                    pipe.chunks.pop_front();
                }
                n += take;
            }
            if n > 0 {
                pipe.queued -= n;
                if let Some(writer) = pipe.writer.take() {
                    writer.wake();
                }
                self.charge(BYTE_COST * n as u32);
                let at = self.elapsed.as_micros();
                self.trace
                    .record(at, format_args!("read {} {} {n}", end.conn, end.side));
                return Poll::Ready(Ok(n));
            }
            if pipe.chunks.is_empty() && pipe.fin {
                return Poll::Ready(Ok(0));
            }
        }
        if let Some(waker) = waker {
            let pipe = &mut self.net.conns[end.conn].pipes[1 - end.side];
            pipe.reader = Some(waker.clone());
            if let Some(at) = wake_at
                && pipe.reader_timer.is_none_or(|(armed, _)| armed != at)
            {
                if let Some(key) = pipe.reader_timer.take() {
                    self.cancel(key);
                }
                let key = self.wake_at(at, waker.clone());
                self.net.conns[end.conn].pipes[1 - end.side].reader_timer = Some(key);
            }
        }
        Poll::Pending
    }

    /// Writes as much of `bufs` as `end`'s direction has room for (or less: a partial write);
    /// `waker` is woken when there is room again.
    pub fn write(
        &mut self,
        end: Endpoint,
        bufs: &[IoSlice<'_>],
        waker: &Waker,
    ) -> Poll<io::Result<usize>> {
        let now = self.elapsed;
        let capacity = self.net.faults.capacity;
        let conn = &self.net.conns[end.conn];
        if conn.reset {
            return Poll::Ready(Err(reset_error()));
        }
        if conn.pipes[end.side].fin {
            return Poll::Ready(Err(io::Error::from(io::ErrorKind::BrokenPipe)));
        }
        let offered: usize = bufs.iter().map(|b| b.len()).sum();
        if offered == 0 {
            return Poll::Ready(Ok(0));
        }
        let room = capacity.saturating_sub(conn.pipes[end.side].queued);
        if room == 0 {
            self.net.conns[end.conn].pipes[end.side].writer = Some(waker.clone());
            return Poll::Pending;
        }
        let mut n = offered.min(room);
        if self.rng.chance(self.net.faults.partial_writes) {
            n = self.rng.between(1, n as u64) as usize;
        }
        let (low, high) = self.net.faults.latency;
        let latency = Duration::from_nanos(
            self.rng
                .between(low.as_nanos() as u64, high.as_nanos() as u64),
        );
        let mut chunk = Vec::with_capacity(n);
        for buf in bufs {
            let take = buf.len().min(n - chunk.len());
            chunk.extend_from_slice(&buf[..take]);
        }
        let conn = &mut self.net.conns[end.conn];
        let vanished = conn.vanished[1 - end.side];
        let pipe = &mut conn.pipes[end.side];
        // Bytes arrive in order: never before those written earlier.
        let at = pipe
            .chunks
            .back()
            .map_or(now, |&(last, _)| last)
            .max(now + latency);
        pipe.queued += n;
        pipe.chunks.push_back((at, chunk));
        if !vanished && let Some(reader) = pipe.reader.take() {
            reader.wake();
        }
        let at = self.elapsed.as_micros();
        self.trace
            .record(at, format_args!("write {} {} {n}", end.conn, end.side));
        Poll::Ready(Ok(n))
    }

    /// Shuts down `end`'s writing side: the peer reads the end after the bytes.
    pub fn shutdown(&mut self, end: Endpoint) {
        let pipe = &mut self.net.conns[end.conn].pipes[end.side];
        pipe.fin = true;
        if let Some(reader) = pipe.reader.take() {
            reader.wake();
        }
    }

    /// `end`'s socket was dropped: as a kernel does, it sends the end of the stream.
    pub fn close(&mut self, end: Endpoint) {
        if self.net.conns[end.conn].vanished[end.side] {
            return; // Gone without a word: no end of stream either.
        }
        self.shutdown(end);
        let at = self.elapsed.as_micros();
        self.trace
            .record(at, format_args!("close {} {}", end.conn, end.side));
    }

    /// Resets the connection of `end`: both sides fail.
    pub fn reset(&mut self, end: Endpoint) {
        let conn = &mut self.net.conns[end.conn];
        conn.reset = true;
        for pipe in &mut conn.pipes {
            for waker in [pipe.reader.take(), pipe.writer.take()]
                .into_iter()
                .flatten()
            {
                waker.wake();
            }
        }
    }

    /// Resets every open connection of `owner`.
    pub fn reset_all_of(&mut self, owner: ProcessId) {
        let ends: Vec<Endpoint> = self
            .net
            .conns
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.reset && c.owners.contains(&owner))
            .map(|(conn, _)| Endpoint { conn, side: 0 })
            .collect();
        for end in ends {
            self.reset(end);
        }
    }

    /// `owner`'s applications read nothing from any of its connections, present or future,
    /// until `until` (virtual time).
    pub fn freeze_reads(&mut self, owner: ProcessId, until: Duration) {
        self.net.frozen.insert(owner, until);
    }

    /// Every connection of `owner` is reset: its process crashed, and its kernel answers the
    /// peers with a reset. Its listeners close.
    pub fn crash_net(&mut self, owner: ProcessId) {
        self.net.listeners.retain(|_, l| l.owner != owner);
        let ends: Vec<Endpoint> = self
            .net
            .conns
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.reset)
            .flat_map(|(i, c)| {
                (0..2)
                    .filter(move |&s| c.owners[s] == owner)
                    .map(move |side| Endpoint { conn: i, side })
            })
            .collect();
        for end in ends {
            self.reset(end);
        }
    }

    /// `owner`'s host vanished without a word (a power cut, a cable pulled): its peers see
    /// nothing, their writes fill the pipe and wait, their reads wait for ever.
    pub fn vanish(&mut self, owner: ProcessId) {
        self.net.listeners.retain(|_, l| l.owner != owner);
        for conn in &mut self.net.conns {
            for side in 0..2 {
                if conn.owners[side] == owner {
                    conn.vanished[side] = true;
                    // Its reader reads no more.
                    conn.pipes[1 - side].frozen_until = Duration::MAX;
                }
            }
        }
    }
}
