//! The log file, appended through a shared memory map (DESIGN.md section 4): an append is a copy
//! into the operating system's page cache, which survives a crash of the process, with no system
//! call per record. Room is reserved ahead (`fallocate`), so that a full disk is an error when the
//! log grows, never a `SIGBUS` when a record is copied in. This module holds the crate's only
//! `unsafe`.
//!
//! A record is committed by its last byte written: everything else first, then its kind byte
//! (offset [`KIND_AT`]), one store. A crash between the two leaves a record whose kind is 0,
//! which recovery reads as the end of the log, like the zeros of the reserved room after it.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{Ordering, compiler_fence};

use fixgate_core::{StoreError, SyncHandle};
use memmap2::{MmapMut, MmapOptions};

use crate::record::KIND_AT;

/// The smallest room reserved (a thousand idle sessions reserve 64 MiB of disk), and the most
/// added at once (beyond it the room grows linearly).
const MIN_ROOM: u64 = 64 << 10;
const MAX_STEP: u64 = 64 << 20;

/// The open log: its file, shared with sync handles, and the map records are copied into.
#[derive(Debug)]
pub(crate) struct MappedLog {
    file: Arc<LogFile>,
    /// `None` until the first room is reserved.
    map: Option<MmapMut>,
    /// The bytes in use: the header and the committed records.
    len: u64,
}

impl MappedLog {
    /// Takes over `file`, which is `len` bytes long; room for more is reserved at the first
    /// append.
    pub(crate) fn new(file: File, len: u64) -> Self {
        Self {
            file: Arc::new(LogFile(file)),
            map: None,
            len,
        }
    }

    /// Cuts the file to its first `len` bytes (recovery's end of the log: whatever follows,
    /// reserved room or a record never committed, goes).
    pub(crate) fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.map = None;
        self.file.0.set_len(len)?;
        self.len = len;
        Ok(())
    }

    /// The file, for reads and syncs.
    pub(crate) fn file(&self) -> &Arc<LogFile> {
        &self.file
    }

    /// Appends one encoded record (at least [`KIND_AT`] + 1 bytes) and returns where it starts.
    pub(crate) fn append(&mut self, record: &[u8]) -> io::Result<u64> {
        debug_assert!(record.len() > KIND_AT);
        let at = self.len;
        let end = at + record.len() as u64;
        let room = self.map.as_ref().map_or(0, |map| map.len() as u64);
        if end > room {
            self.reserve(end)?;
        }
        let map = self.map.as_mut().expect("room was reserved");
        let dst = &mut map[at as usize..end as usize];
        dst[..KIND_AT].copy_from_slice(&record[..KIND_AT]);
        dst[KIND_AT + 1..].copy_from_slice(&record[KIND_AT + 1..]);
        // The kind byte commits the record: no store of the rest may be moved after it.
        compiler_fence(Ordering::Release);
        dst[KIND_AT] = record[KIND_AT];
        self.len = end;
        Ok(at)
    }

    /// Grows the file's reserved room to hold at least `needed` bytes, and maps it.
    fn reserve(&mut self, needed: u64) -> io::Result<()> {
        let room = self.map.as_ref().map_or(0, |map| map.len() as u64);
        let step = room.clamp(MIN_ROOM, MAX_STEP);
        let new_room = (room + step).max(needed).next_multiple_of(MIN_ROOM);
        let file = &self.file.0;
        match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, new_room) {
            Ok(()) => {}
            // A file system without it: a sparse extension (a full disk then surfaces as SIGBUS).
            Err(rustix::io::Errno::OPNOTSUPP) => file.set_len(new_room)?,
            Err(errno) => return Err(errno.into()),
        }
        let len = usize::try_from(new_room).map_err(|_| io::ErrorKind::FileTooLarge)?;
        // SAFETY: the map covers `new_room` bytes, which the file now has (reserved just above).
        // Undefined behaviour would follow only if another process truncated or wrote the file
        // while it is mapped; the log is this store's own, one writer per session folder.
        let map = unsafe { MmapOptions::new().len(len).map_mut(file)? };
        self.map = Some(map);
        Ok(())
    }
}

impl Drop for MappedLog {
    /// Gives the reserved room back: a closed log is as long as its records.
    fn drop(&mut self) {
        self.map = None;
        let _ = self.file.0.set_len(self.len);
    }
}

/// The log's file, synced from another thread through the handles that share it. `fdatasync`
/// also writes back the pages dirtied through the map.
#[derive(Debug)]
pub(crate) struct LogFile(pub(crate) File);

impl SyncHandle for LogFile {
    fn sync(&self) -> Result<(), StoreError> {
        self.0
            .sync_data()
            .map_err(|error| StoreError::Io(error.kind()))
    }
}
