//! One runner-side TCP connection: writes, message framing as the reference runner reads
//! (shared README, section 3.1), and the acceptor's close.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::script::SOH;

/// How long `eDISCONNECT` waits for the acceptor to close.
pub const DISCONNECT_WITHIN: Duration = Duration::from_secs(10);

/// A connection to the acceptor and the bytes read but not yet consumed.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    closed: bool,
}

impl Connection {
    /// Connects to `addr`.
    pub fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::new(),
            closed: false,
        })
    }

    /// Writes `bytes` in one write.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("write failed: {e}"))
    }

    /// Reads one message framed by its BodyLength, waiting up to `timeout`.
    pub fn read_message(&mut self, timeout: Duration) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + timeout;
        let length_at = self.fill_until(deadline, |buf| find(buf, b"\x019=").map(|p| p + 3))?;
        let length_end = self.fill_until(deadline, |buf| {
            buf[length_at..]
                .iter()
                .position(|&b| b == SOH)
                .map(|p| length_at + p)
        })?;
        let digits = &self.buf[length_at..length_end];
        let length: usize = std::str::from_utf8(digits)
            .ok()
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| format!("BodyLength is not a number: {:?}", show(digits)))?;
        let body_end = (length_end + 1)
            .checked_add(length)
            .ok_or_else(|| format!("BodyLength {length} is too large"))?;
        self.fill_until(deadline, |buf| (buf.len() >= body_end).then_some(()))?;
        let end = self.fill_until(deadline, |buf| {
            buf[body_end..]
                .iter()
                .position(|&b| b == SOH)
                .map(|p| body_end + p + 1)
        })?;
        Ok(self.buf.drain(..end).collect())
    }

    /// Closes the connection at once, as the reference runner does: the next script may log on
    /// to the same session before the acceptor has seen this close.
    pub fn close(self) {
        if !self.closed {
            let _ = self.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Waits for the acceptor to close the connection, with nothing read before the close.
    pub fn expect_close(&mut self) -> Result<(), String> {
        if !self.buf.is_empty() {
            return Err(format!(
                "Expected disconnection, got data: {}",
                show(&self.buf)
            ));
        }
        if self.closed {
            return Ok(());
        }
        let deadline = Instant::now() + DISCONNECT_WITHIN;
        match self.read_some(deadline) {
            Ok(0) => Ok(()),
            Ok(_) => Err(format!(
                "Expected disconnection, got data: {}",
                show(&self.buf)
            )),
            Err(ReadError::Timeout) => Err("Connection hangs".into()),
            Err(ReadError::Io(_)) => Ok(()),
        }
    }

    /// Reads until `ready` finds what it looks for in the buffer.
    fn fill_until<T>(
        &mut self,
        deadline: Instant,
        ready: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<T, String> {
        loop {
            if let Some(found) = ready(&self.buf) {
                return Ok(found);
            }
            match self.read_some(deadline) {
                Ok(0) => return Err("disconnected, expected data".into()),
                Ok(_) => {}
                Err(ReadError::Timeout) => return Err("timed out waiting for a message".into()),
                Err(ReadError::Io(e)) => return Err(format!("disconnected, expected data ({e})")),
            }
        }
    }

    /// One read into the buffer; `Ok(0)` is the peer's close.
    fn read_some(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        if self.closed {
            return Ok(0);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::Timeout);
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(ReadError::Io)?;
        let mut chunk = [0u8; 4096];
        loop {
            return match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.closed = true;
                    Ok(0)
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    Ok(n)
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    Err(ReadError::Timeout)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.closed = true;
                    Err(ReadError::Io(e))
                }
            };
        }
    }
}

enum ReadError {
    Timeout,
    Io(std::io::Error),
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn show(bytes: &[u8]) -> String {
    super::compare::show(bytes)
}
