//! The message log: every inbound and outbound message of a session, with a timestamp, as plain
//! text (`messages.txt` in the session's folder), for compliance and for debugging interop.
//! Buffered: adapters write it from a task of its own, off the hot path, and flush it there.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use fixgate_core::{TimestampPrecision, UtcTimestamp};

/// The log's file name inside the session's folder.
pub const MESSAGE_LOG_FILE: &str = "messages.txt";

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Received from the counterparty.
    Inbound,
    /// Sent to it.
    Outbound,
}

/// A plain-text log of a session's messages, one per line: time, `IN`/`OUT`, the message with
/// `|` for SOH.
#[derive(Debug)]
pub struct MessageLog {
    out: BufWriter<File>,
}

impl MessageLog {
    /// Opens (appending) or creates the log in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> io::Result<Self> {
        std::fs::create_dir_all(dir.as_ref())?;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(dir.as_ref().join(MESSAGE_LOG_FILE))?;
        Ok(Self {
            out: BufWriter::with_capacity(64 * 1024, file),
        })
    }

    /// Records one message.
    pub fn record(
        &mut self,
        direction: Direction,
        at: UtcTimestamp,
        frame: &[u8],
    ) -> io::Result<()> {
        let arrow: &[u8] = match direction {
            Direction::Inbound => b" IN  ",
            Direction::Outbound => b" OUT ",
        };
        self.out
            .write_all(at.format(TimestampPrecision::Micros).as_bytes())?;
        self.out.write_all(arrow)?;
        // SOH becomes `|`; a data field's other control bytes are kept as they are.
        for &byte in frame {
            self.out
                .write_all(&[if byte == 0x01 { b'|' } else { byte }])?;
        }
        self.out.write_all(b"\n")
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_time_direction_and_readable_message() {
        let dir = tempfile::tempdir().unwrap();
        let at = UtcTimestamp::from_unix(1_795_694_400, 123_456_000).unwrap();
        let mut log = MessageLog::open(dir.path()).unwrap();
        log.record(
            Direction::Inbound,
            at,
            b"8=FIX.4.4\x019=5\x0135=0\x0110=163\x01",
        )
        .unwrap();
        log.record(Direction::Outbound, at, b"8=FIX.4.4\x0135=A\x01")
            .unwrap();
        log.flush().unwrap();
        let text = std::fs::read_to_string(dir.path().join(MESSAGE_LOG_FILE)).unwrap();
        let expected = "20261126-12:00:00.123456 IN  8=FIX.4.4|9=5|35=0|10=163|\n\
                        20261126-12:00:00.123456 OUT 8=FIX.4.4|35=A|\n";
        assert_eq!(text, expected);
    }
}
