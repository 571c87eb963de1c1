//! # fixgate-store
//!
//! [`FileStore`]: the durable [`MessageStore`] of a fixgate session. One folder per session holds
//! an append-only log (`messages.log`) of checksummed records: every outbound message, with the
//! inbound MsgSeqNum it answers, and every change of the two sequence numbers. Opening the folder
//! replays the log (DESIGN.md section 4):
//! - every `append` is copied into a shared memory map of the file before it returns (no system
//!   call), so a message whose `put()` returned survives `kill -9` of the process, in every
//!   durability mode; room is reserved ahead, so a full disk is an error, not a crash;
//! - [`FileStore::sync_handle`] shares the open log (no syscall) with the adapter, which fsyncs off
//!   its executor when the session emits `Action::Commit` (`StorageDurability` batch and each);
//! - a torn tail (a record cut short by a crash) is truncated and reported; a complete record is
//!   never dropped, and damage before the tail refuses the open instead of losing data; the
//!   reserved room's zeros, and a record whose last byte a crash kept from being written, are the
//!   end of the log;
//! - a reply's record carries the inbound number it answers, so a recovered session does not ask
//!   again for a message it already answered, even if it crashed before persisting the number.

mod mapped;
mod message_log;
mod record;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fixgate_core::{MessageStore, SeqNum, SessionId, StoreError, SyncHandle, UtcTimestamp};

use crate::mapped::MappedLog;
use crate::record::{Damage, HEADER_LEN, KIND_AT, Kind, RECORD_HEADER_LEN};

pub use message_log::{Direction, MESSAGE_LOG_FILE, MessageLog};

/// Session `id`'s folder under `dir`: its store and its message log (the `fixgate` binary and
/// the Python package keep one folder per session this way).
pub fn session_folder(dir: &Path, id: &SessionId) -> PathBuf {
    dir.join(id.to_string().replace(['/', ':', '>'], "_"))
}

/// The log's file name inside the session's folder.
pub const LOG_FILE: &str = "messages.log";

/// What to do with the old log on a sequence reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnReset {
    /// Keep it, renamed `messages.<created>.log` (the default).
    #[default]
    Archive,
    /// Delete it.
    Delete,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The file is not a fixgate log of this version.
    #[error("{path}: not a fixgate message log (bad header or version)")]
    BadHeader {
        /// The file.
        path: PathBuf,
    },
    /// A damaged record before the end of the log: opening would lose the records after it.
    #[error("{path}: damaged record at byte {offset}, before the end of the log")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the damaged record starts.
        offset: u64,
    },
}

/// What opening a log found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Complete records replayed.
    pub records: u64,
    /// Bytes of a torn last record that were truncated.
    pub truncated_bytes: u64,
}

/// A durable, append-only message store in one folder.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    /// The open log; its file is shared with the sync handles handed to the adapter.
    log: MappedLog,
    /// Where each stored message's record starts, and its payload length.
    index: BTreeMap<SeqNum, (u64, u32)>,
    next_sender: SeqNum,
    next_target: SeqNum,
    /// Inbound numbers answered by stored replies, at or above the last persisted target.
    answered: BTreeSet<SeqNum>,
    created: UtcTimestamp,
    on_reset: OnReset,
    recovery: Recovery,
    scratch: Vec<u8>,
}

impl FileStore {
    /// Opens the store in `dir`, creating the folder and an empty log (created at `now`) if
    /// needed, and replays the log.
    pub fn open(dir: impl AsRef<Path>, now: UtcTimestamp) -> Result<Self, OpenError> {
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join(LOG_FILE);
        let io = |source| OpenError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(|source| OpenError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        if bytes.is_empty() {
            file.write_all(&record::header(now)).map_err(io)?;
            bytes.extend_from_slice(&record::header(now));
        }
        let created = record::parse_header(&bytes)
            .ok_or_else(|| OpenError::BadHeader { path: path.clone() })?;
        let mut store = Self {
            dir,
            log: MappedLog::new(file, bytes.len() as u64),
            index: BTreeMap::new(),
            next_sender: SeqNum::FIRST,
            next_target: SeqNum::FIRST,
            answered: BTreeSet::new(),
            created,
            on_reset: OnReset::default(),
            recovery: Recovery::default(),
            scratch: Vec::with_capacity(512),
        };
        let len = store.replay(&bytes, &path)?;
        // What follows the last record (reserved room, a torn record) is cut off.
        store.log.truncate(len).map_err(io)?;
        Ok(store)
    }

    /// Chooses what a sequence reset does with the old log.
    pub fn set_on_reset(&mut self, on_reset: OnReset) {
        self.on_reset = on_reset;
    }

    /// What opening found.
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    /// The session's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The number of stored messages.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no message is stored.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Replays the log's records and returns where they end.
    fn replay(&mut self, bytes: &[u8], path: &Path) -> Result<u64, OpenError> {
        let mut at = HEADER_LEN;
        let mut answered = BTreeSet::new();
        // The bytes written from `from` on, up to the last that is not zero.
        let written = |from: usize| {
            bytes[from..]
                .iter()
                .rposition(|&b| b != 0)
                .map_or(0, |last| last as u64 + 1)
        };
        while at < bytes.len() {
            let rest = &bytes[at..];
            // The end of the log: room reserved ahead, or a record whose committing byte a
            // crash kept from being written.
            if rest
                .get(KIND_AT)
                .map_or_else(|| rest.iter().all(|&b| b == 0), |&kind| kind == 0)
            {
                self.recovery.truncated_bytes = written(at);
                break;
            }
            let record = match record::decode(rest) {
                Ok(record) => record,
                Err(damage) => {
                    // Torn: cut short by a crash, or complete but the last thing written (a
                    // write the crash interrupted, or a page a power cut lost). Anything else is
                    // damage that truncating would turn into lost records.
                    let end = record::declared_len(rest).map(|len| at + RECORD_HEADER_LEN + len);
                    let is_tail = match (damage, end) {
                        (Damage::Incomplete, _) => true,
                        (Damage::Corrupt, Ok(end)) => bytes
                            .get(end..)
                            .is_none_or(|after| after.iter().all(|&b| b == 0)),
                        (Damage::Corrupt, Err(_)) => false,
                    };
                    if !is_tail {
                        return Err(OpenError::Corrupt {
                            path: path.to_path_buf(),
                            offset: at as u64,
                        });
                    }
                    // A torn last record: it is cut off, so that the next append starts clean.
                    self.recovery.truncated_bytes = written(at);
                    break;
                }
            };
            match record.kind {
                Kind::Message => {
                    self.index
                        .insert(record.seq, (at as u64, record.payload_len as u32));
                    self.next_sender = record.seq.next();
                    if let Some(inbound) = record.answers {
                        answered.insert(inbound);
                    }
                }
                Kind::NextSender => self.next_sender = record.seq,
                Kind::NextTarget => {
                    self.next_target = record.seq;
                    // Replies below the new number are history; those above it still count.
                    answered.retain(|&inbound| inbound >= record.seq);
                }
            }
            self.recovery.records += 1;
            at += RECORD_HEADER_LEN + record.payload_len;
        }
        // A reply proves its request was processed, even if the crash came before the number.
        while answered.contains(&self.next_target) {
            self.next_target = self.next_target.next();
        }
        answered.retain(|&inbound| inbound >= self.next_target);
        self.answered = answered;
        Ok(at as u64)
    }

    fn write_record(
        &mut self,
        kind: Kind,
        seq: SeqNum,
        answers: Option<SeqNum>,
        payload: &[u8],
    ) -> Result<u64, StoreError> {
        self.scratch.clear();
        record::encode(&mut self.scratch, kind, seq, answers, payload);
        // Copied into the mapped file: once this returns, the record survives a crash of the
        // process.
        self.log.append(&self.scratch).map_err(io_error)
    }
}

fn io_error(error: io::Error) -> StoreError {
    StoreError::Io(error.kind())
}

impl MessageStore for FileStore {
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        if seq != self.next_sender {
            return Err(StoreError::OutOfOrder {
                seq,
                expected: self.next_sender,
            });
        }
        let at = self.write_record(Kind::Message, seq, answers, frame)?;
        self.index.insert(seq, (at, frame.len() as u32));
        if let Some(inbound) = answers {
            self.answered.insert(inbound);
        }
        self.next_sender = seq.next();
        Ok(())
    }

    fn next_sender_seq(&self) -> SeqNum {
        self.next_sender
    }

    fn next_target_seq(&self) -> SeqNum {
        self.next_target
    }

    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.write_record(Kind::NextSender, seq, None, &[])?;
        self.next_sender = seq;
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.write_record(Kind::NextTarget, seq, None, &[])?;
        self.next_target = seq;
        self.answered.retain(|&inbound| inbound >= seq);
        Ok(())
    }

    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), StoreError> {
        if from > to {
            return Ok(());
        }
        // One message in memory at a time, however long the range.
        let mut buf = Vec::new();
        for (&seq, &(at, len)) in self.index.range(from..=to) {
            buf.resize(len as usize, 0);
            self.log
                .file()
                .0
                .read_exact_at(&mut buf, at + RECORD_HEADER_LEN as u64)
                .map_err(io_error)?;
            each(seq, &buf);
        }
        Ok(())
    }

    fn reset(&mut self, now: UtcTimestamp) -> Result<(), StoreError> {
        let path = self.dir.join(LOG_FILE);
        match self.on_reset {
            OnReset::Archive => {
                let archived = self.dir.join(format!(
                    "messages.{}.log",
                    self.created
                        .format(fixgate_core::TimestampPrecision::Micros)
                        .as_str()
                ));
                fs::rename(&path, archived).map_err(io_error)?;
            }
            OnReset::Delete => fs::remove_file(&path).map_err(io_error)?,
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(io_error)?;
        file.write_all(&record::header(now)).map_err(io_error)?;
        // The old log's map goes (and its reserved room is given back) as the new one takes over.
        self.log = MappedLog::new(file, HEADER_LEN as u64);
        self.index.clear();
        self.answered.clear();
        self.next_sender = SeqNum::FIRST;
        self.next_target = SeqNum::FIRST;
        self.created = now;
        Ok(())
    }

    fn creation_time(&self) -> UtcTimestamp {
        self.created
    }

    fn answered_from(&self, from: SeqNum) -> Vec<SeqNum> {
        self.answered.range(from..).copied().collect()
    }

    fn sync_handle(&self) -> Option<Arc<dyn SyncHandle>> {
        Some(self.log.file().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> UtcTimestamp {
        UtcTimestamp::from_unix(1_795_694_400, 0).unwrap()
    }

    fn frame(seq: u64) -> Vec<u8> {
        format!("8=FIX.4.4|35=D|34={seq}|").into_bytes()
    }

    fn stored(store: &FileStore) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        store
            .read_range(SeqNum::FIRST, SeqNum::new(u64::MAX), &mut |seq, bytes| {
                out.push((seq.get(), bytes.to_vec()))
            })
            .unwrap();
        out
    }

    #[test]
    fn messages_and_numbers_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        for seq in 1..=3 {
            store.append(SeqNum::new(seq), &frame(seq), None).unwrap();
        }
        store.set_next_target_seq(SeqNum::new(7)).unwrap();
        drop(store);
        let store = FileStore::open(dir.path(), now()).unwrap();
        assert_eq!(
            stored(&store),
            (1..=3).map(|s| (s, frame(s))).collect::<Vec<_>>()
        );
        assert_eq!(store.next_sender_seq(), SeqNum::new(4));
        assert_eq!(store.next_target_seq(), SeqNum::new(7));
        assert_eq!(store.creation_time(), now());
        assert_eq!(
            store.recovery(),
            Recovery {
                records: 4,
                truncated_bytes: 0
            }
        );
    }

    #[test]
    fn torn_tail_is_truncated_and_the_log_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        store.append(SeqNum::new(1), &frame(1), None).unwrap();
        drop(store);
        let mut partial = Vec::new();
        record::encode(&mut partial, Kind::Message, SeqNum::new(2), None, &frame(2));
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(LOG_FILE))
            .unwrap();
        file.write_all(&partial[..partial.len() - 3]).unwrap();
        drop(file);
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        assert_eq!(store.recovery().truncated_bytes, partial.len() as u64 - 3);
        assert_eq!(store.next_sender_seq(), SeqNum::new(2));
        store.append(SeqNum::new(2), &frame(2), None).unwrap();
        drop(store);
        let store = FileStore::open(dir.path(), now()).unwrap();
        assert_eq!(stored(&store).len(), 2);
    }

    #[test]
    fn after_a_crash_the_reserved_room_and_an_uncommitted_record_are_the_end_of_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        store.append(SeqNum::new(1), &frame(1), None).unwrap();
        store.set_next_target_seq(SeqNum::new(4)).unwrap();
        let len = HEADER_LEN + 2 * RECORD_HEADER_LEN + frame(1).len();
        // A crash: no drop, so the room reserved ahead stays, as zeros.
        std::mem::forget(store);
        let mut bytes = fs::read(&path).unwrap();
        assert!(bytes.len() >= 64 << 10, "room is reserved ahead");
        assert!(bytes[len..].iter().all(|&b| b == 0));
        // A record written whole but for its committing kind byte, as a crash mid-copy leaves it.
        let mut partial = Vec::new();
        record::encode(&mut partial, Kind::Message, SeqNum::new(2), None, &frame(2));
        partial[KIND_AT] = 0;
        bytes[len..len + partial.len()].copy_from_slice(&partial);
        fs::write(&path, &bytes).unwrap();

        let mut store = FileStore::open(dir.path(), now()).unwrap();
        assert_eq!(
            store.recovery(),
            Recovery {
                records: 2,
                truncated_bytes: partial.len() as u64
            }
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), len as u64);
        assert_eq!(
            (store.next_sender_seq(), store.next_target_seq()),
            (SeqNum::new(2), SeqNum::new(4))
        );
        store.append(SeqNum::new(2), &frame(2), None).unwrap();
        drop(store);
        let store = FileStore::open(dir.path(), now()).unwrap();
        assert_eq!(stored(&store).len(), 2);
        assert_eq!(store.recovery().truncated_bytes, 0);
    }

    #[test]
    fn a_damaged_last_record_before_the_reserved_room_is_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        store.append(SeqNum::new(1), &frame(1), None).unwrap();
        store.append(SeqNum::new(2), &frame(2), None).unwrap();
        std::mem::forget(store);
        // A power cut lost the page with the end of the last record's payload.
        let mut bytes = fs::read(&path).unwrap();
        let last_end = HEADER_LEN + 2 * (RECORD_HEADER_LEN + frame(1).len());
        bytes[last_end - 3..last_end].fill(0);
        fs::write(&path, &bytes).unwrap();
        let store = FileStore::open(dir.path(), now()).unwrap();
        assert_eq!(stored(&store), [(1, frame(1))]);
        assert_eq!(store.next_sender_seq(), SeqNum::new(2));
    }

    #[test]
    fn damage_before_the_tail_refuses_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        store.append(SeqNum::new(1), &frame(1), None).unwrap();
        store.append(SeqNum::new(2), &frame(2), None).unwrap();
        drop(store);
        let path = dir.path().join(LOG_FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes[HEADER_LEN + RECORD_HEADER_LEN + 2] ^= 0x20;
        fs::write(&path, bytes).unwrap();
        assert!(matches!(
            FileStore::open(dir.path(), now()),
            Err(OpenError::Corrupt { .. })
        ));
    }

    #[test]
    fn reset_archives_by_default_and_can_delete() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        store.append(SeqNum::new(1), &frame(1), None).unwrap();
        let later = UtcTimestamp::from_unix(1_795_700_000, 0).unwrap();
        store.reset(later).unwrap();
        assert_eq!((store.next_sender_seq(), store.len()), (SeqNum::FIRST, 0));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "the old log is archived"
        );
        store.set_on_reset(OnReset::Delete);
        store.reset(later).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        drop(store);
        assert_eq!(
            FileStore::open(dir.path(), now()).unwrap().creation_time(),
            later
        );
    }

    #[test]
    fn not_a_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(LOG_FILE),
            b"hello, this is not a log at all....",
        )
        .unwrap();
        assert!(matches!(
            FileStore::open(dir.path(), now()),
            Err(OpenError::BadHeader { .. })
        ));
    }
}
