//! The simulation's disk: a message store whose every change is either synced (it survives a
//! machine crash) or only appended (it survives a process crash, as a write() or an mmap'd
//! append does), with syncs that fail when told to (DESIGN.md section 4).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use fixgate_core::{MemoryStore, MessageStore, SeqNum, StoreError, SyncHandle, UtcTimestamp};

use super::executor::lock;

/// A change to a store, kept until it is synced.
#[derive(Clone, Debug)]
enum Change {
    Append(SeqNum, Bytes, Option<SeqNum>),
    NextSender(SeqNum),
    NextTarget(SeqNum),
    Reset(UtcTimestamp),
}

impl Change {
    fn apply(&self, store: &mut MemoryStore) -> Result<(), StoreError> {
        match self {
            Self::Append(seq, frame, answers) => store.append_shared(*seq, frame, *answers),
            Self::NextSender(seq) => store.set_next_sender_seq(*seq),
            Self::NextTarget(seq) => store.set_next_target_seq(*seq),
            Self::Reset(at) => store.reset(*at),
        }
    }
}

/// One session's storage on the simulated disk.
#[derive(Debug)]
pub struct Disk {
    /// What the process sees: every change made.
    live: MemoryStore,
    /// What is on stable storage: the changes up to the last sync.
    durable: MemoryStore,
    unsynced: Vec<Change>,
    /// Syncs fail while this is set.
    pub failing: bool,
    /// Bytes appended in all, for the bound on store growth.
    pub appended_bytes: u64,
    /// Syncs made, and failed.
    pub syncs: (u64, u64),
}

impl Disk {
    /// An empty disk, its store created at `created`.
    pub fn new(created: UtcTimestamp) -> Arc<Mutex<Self>> {
        Arc::new(Mutex::new(Self {
            live: MemoryStore::new(created),
            durable: MemoryStore::new(created),
            unsynced: Vec::new(),
            failing: false,
            appended_bytes: 0,
            syncs: (0, 0),
        }))
    }

    /// The machine lost power: what was not synced is gone.
    pub fn lose_unsynced(&mut self) {
        self.live = self.durable.clone();
        self.unsynced.clear();
    }

    /// The store's next outbound MsgSeqNum, as the process sees it.
    pub fn next_sender_seq(&self) -> SeqNum {
        self.live.next_sender_seq()
    }

    /// The store's next inbound MsgSeqNum, as the process sees it.
    pub fn next_target_seq(&self) -> SeqNum {
        self.live.next_target_seq()
    }

    fn change(&mut self, change: Change) -> Result<(), StoreError> {
        change.apply(&mut self.live)?;
        self.unsynced.push(change);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        if self.failing {
            self.syncs.1 += 1;
            return Err(StoreError::Io(std::io::ErrorKind::Other));
        }
        self.syncs.0 += 1;
        for change in self.unsynced.drain(..) {
            change.apply(&mut self.durable)?;
        }
        Ok(())
    }
}

/// A [`MessageStore`] on a simulated [`Disk`]; a restarted process opens another on the same
/// disk.
pub struct SimStore(pub Arc<Mutex<Disk>>);

impl MessageStore for SimStore {
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        self.append_shared(seq, &Bytes::copy_from_slice(frame), answers)
    }

    fn append_shared(
        &mut self,
        seq: SeqNum,
        frame: &Bytes,
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        let mut disk = lock(&self.0);
        disk.appended_bytes += frame.len() as u64;
        disk.change(Change::Append(seq, frame.clone(), answers))
    }

    fn next_sender_seq(&self) -> SeqNum {
        lock(&self.0).live.next_sender_seq()
    }

    fn next_target_seq(&self) -> SeqNum {
        lock(&self.0).live.next_target_seq()
    }

    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        lock(&self.0).change(Change::NextSender(seq))
    }

    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        lock(&self.0).change(Change::NextTarget(seq))
    }

    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), StoreError> {
        // Copied out first: `each` may take a while, and nothing else runs meanwhile anyway.
        let live = lock(&self.0).live.clone();
        live.read_range(from, to, each)
    }

    fn reset(&mut self, now: UtcTimestamp) -> Result<(), StoreError> {
        lock(&self.0).change(Change::Reset(now))
    }

    fn creation_time(&self) -> UtcTimestamp {
        lock(&self.0).live.creation_time()
    }

    fn answered_from(&self, from: SeqNum) -> Vec<SeqNum> {
        lock(&self.0).live.answered_from(from)
    }

    fn sync_handle(&self) -> Option<Arc<dyn SyncHandle>> {
        Some(Arc::new(SimSync(self.0.clone())))
    }
}

/// Syncs a [`Disk`].
struct SimSync(Arc<Mutex<Disk>>);

impl SyncHandle for SimSync {
    fn sync(&self) -> Result<(), StoreError> {
        lock(&self.0).sync()
    }
}
