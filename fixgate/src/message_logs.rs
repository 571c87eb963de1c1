//! The message logs of every session (`MessageLog=Y`, or `--app log`), written by a thread of
//! their own so that file writes never stall the engine's runtime.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::SystemTime;

use bytes::Bytes;
use fixgate_core::{SessionId, UtcTimestamp};
pub use fixgate_store::session_folder;
use fixgate_store::{Direction, MessageLog};

/// One message to record.
struct Entry {
    session: SessionId,
    direction: Direction,
    at: UtcTimestamp,
    frame: Bytes,
}

/// Where the application records messages: the writer thread's queue.
pub struct MessageLogs {
    entries: mpsc::Sender<Entry>,
}

/// The writer thread: it ends once every [`MessageLogs`] is dropped and the queue is written.
pub struct LogWriter {
    thread: JoinHandle<()>,
}

impl MessageLogs {
    /// Starts the writer; each session's log goes to its folder under `dir`.
    pub fn spawn(dir: PathBuf) -> (Self, LogWriter) {
        let (entries, received) = mpsc::channel();
        let thread = std::thread::spawn(move || write_all(&dir, &received));
        (Self { entries }, LogWriter { thread })
    }

    /// Records one message, stamped now.
    pub fn record(&self, session: SessionId, inbound: bool, frame: Bytes) {
        let direction = if inbound {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let at = UtcTimestamp::from_system_time(SystemTime::now());
        let _ = self.entries.send(Entry {
            session,
            direction,
            at,
            frame,
        });
    }
}

impl LogWriter {
    /// Waits until everything recorded is written (after the recorders are dropped).
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// The writer thread: records entries as they come, and flushes whenever the queue is empty.
fn write_all(dir: &Path, received: &mpsc::Receiver<Entry>) {
    // `None`: the log could not be opened (reported once).
    let mut logs: HashMap<SessionId, Option<MessageLog>> = HashMap::new();
    while let Ok(first) = received.recv() {
        let mut next = Some(first);
        while let Some(entry) = next {
            let log = logs.entry(entry.session.clone()).or_insert_with(|| {
                MessageLog::open(session_folder(dir, &entry.session))
                    .inspect_err(|error| {
                        tracing::error!(%error, session = %entry.session, "cannot open the message log");
                    })
                    .ok()
            });
            if let Some(log) = log
                && let Err(error) = log.record(entry.direction, entry.at, &entry.frame)
            {
                tracing::error!(%error, session = %entry.session, "message log write failed");
            }
            next = received.try_recv().ok();
        }
        for log in logs.values_mut().flatten() {
            let _ = log.flush();
        }
    }
}
