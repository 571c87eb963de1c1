//! [`PgStore`]: one session's store. Its messages and numbers are kept in memory (a bounded tail
//! of the messages) and written to the database at every commit, in one transaction per batch.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use fixgate_core::{MemoryStore, MessageStore, SeqNum, StoreError, SyncHandle, UtcTimestamp};

use crate::batch::{Appended, Batch};
use crate::lease::Lease;
use crate::work::{Create, Done, Loaded, Work};
use crate::{Inner, PgError};

/// A session's [`MessageStore`] on PostgreSQL, made by [`Postgres::open`](crate::Postgres::open).
///
/// - `append` keeps the message in memory and in the batch of the next commit; the commit
///   (`Action::Commit`, on the runtime's blocking pool through [`sync_handle`](Self::sync_handle))
///   writes the batch in one transaction that checks the session's fencing token. The session's
///   durability is `batch` at least, so nothing goes on the wire before its commit.
/// - Resends are served from memory: the last `PostgresResendCache` messages. A resend that
///   reaches further back gets a gap fill for the messages no longer held (recorded in
///   docs/design.md).
/// - Dropping the store gives the session up: another instance may claim it at once.
#[derive(Debug)]
pub struct PgStore {
    memory: MemoryStore,
    /// How many messages the memory keeps.
    keep: usize,
    shared: Arc<Shared>,
}

/// What the store shares with its sync handles.
#[derive(Debug)]
struct Shared {
    session: String,
    inner: Arc<Inner>,
    lease: Arc<Lease>,
    pending: Mutex<Batch>,
    /// When the session began, for a first commit that creates it.
    created: UtcTimestamp,
    /// Commits of one session run one at a time, in order.
    committing: Mutex<()>,
    /// Whether the store was dropped (a first commit still running then releases the session).
    dropped: AtomicBool,
}

impl Shared {
    /// Gives the session up, without waiting: another instance may claim it at once. A commit
    /// still running may land after the release; it changes nothing of the ownership.
    fn release(&self) {
        self.inner.leases.forget(&self.session, &self.lease);
        if self.lease.is_lost() || self.lease.token() == 0 {
            return;
        }
        let deadline = Instant::now() + self.inner.settings.failover_timeout;
        self.inner.service.send(
            Work::Release {
                session: self.session.clone(),
                token: self.lease.token(),
            },
            deadline,
        );
    }
}

impl PgStore {
    pub(crate) fn new(
        session: String,
        inner: Arc<Inner>,
        lease: Arc<Lease>,
        loaded: Loaded,
    ) -> Self {
        let mut memory = MemoryStore::new(loaded.created);
        let highest = loaded.highest;
        for (seq, answers, frame) in loaded.tail {
            // Numbers may have been moved on between stored messages.
            let _ = memory.set_next_sender_seq(seq);
            let _ = memory.append_shared(seq, &frame, answers);
        }
        let _ = memory.set_next_sender_seq(loaded.next_sender);
        let _ = memory.set_next_target_seq(loaded.next_target);
        // A reply proves its request was processed, even if the crash came before the number.
        let mut answered: BTreeSet<SeqNum> = loaded.answered.into_iter().collect();
        let mut target = loaded.next_target;
        while answered.remove(&target) {
            target = target.next();
        }
        let numbers = (loaded.next_sender, loaded.next_target);
        let mut store = Self {
            keep: inner.settings.resend_cache,
            shared: Arc::new(Shared {
                session,
                inner,
                lease,
                pending: Mutex::new(Batch::new(numbers, answered, highest)),
                created: loaded.created,
                committing: Mutex::new(()),
                dropped: AtomicBool::new(false),
            }),
            memory,
        };
        if target != loaded.next_target {
            let _ = store.set_next_target_seq(target);
        }
        store
    }

    /// The session's lease: whether this instance still owns the session.
    pub fn lease(&self) -> &Arc<Lease> {
        &self.shared.lease
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Batch> {
        self.shared
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn numbers(&self) -> (SeqNum, SeqNum) {
        (self.memory.next_sender_seq(), self.memory.next_target_seq())
    }

    /// Refuses every change once another instance has claimed the session.
    fn owned(&self) -> Result<(), StoreError> {
        match self.shared.lease.is_lost() {
            true => Err(StoreError::Fenced),
            false => Ok(()),
        }
    }
}

impl MessageStore for PgStore {
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
        self.owned()?;
        self.memory.append_shared(seq, frame, answers)?;
        self.memory.keep_last(self.keep);
        self.pending().append(Appended {
            seq,
            answers,
            frame: frame.clone(),
        });
        Ok(())
    }

    fn next_sender_seq(&self) -> SeqNum {
        self.memory.next_sender_seq()
    }

    fn next_target_seq(&self) -> SeqNum {
        self.memory.next_target_seq()
    }

    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.owned()?;
        self.memory.set_next_sender_seq(seq)?;
        let (sender, target) = self.numbers();
        self.pending().set_numbers(sender, target);
        Ok(())
    }

    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.owned()?;
        self.memory.set_next_target_seq(seq)?;
        let (sender, target) = self.numbers();
        self.pending().set_numbers(sender, target);
        Ok(())
    }

    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), StoreError> {
        self.memory.read_range(from, to, each)
    }

    fn reset(&mut self, now: UtcTimestamp) -> Result<(), StoreError> {
        self.owned()?;
        self.memory.reset(now)?;
        self.pending().reset(now);
        Ok(())
    }

    fn creation_time(&self) -> UtcTimestamp {
        self.memory.creation_time()
    }

    fn answered_from(&self, from: SeqNum) -> Vec<SeqNum> {
        self.pending().answered.range(from..).copied().collect()
    }

    fn durable_before_commit(&self) -> bool {
        false
    }

    fn held_until(&self) -> Option<Instant> {
        self.shared.lease.held_until()
    }

    fn sync_handle(&self) -> Option<Arc<dyn SyncHandle>> {
        Some(Arc::clone(&self.shared) as Arc<dyn SyncHandle>)
    }
}

impl Drop for PgStore {
    /// Gives the session up without waiting (this may run on the engine task). What was not
    /// committed was not sent either: it is not written, as after a crash.
    fn drop(&mut self) {
        self.shared.dropped.store(true, Ordering::Release);
        self.shared.release();
    }
}

impl SyncHandle for Shared {
    /// Writes the batch in one transaction, which must end while the lease holds (a session
    /// not claimed yet is claimed by it); the caller may send what it held back only if the
    /// lease still holds afterwards.
    fn sync(&self) -> Result<(), StoreError> {
        let _order = self.committing.lock().unwrap_or_else(|e| e.into_inner());
        let asked = Instant::now();
        let settings = &self.inner.settings;
        let token = self.lease.token();
        let create = (token == 0).then(|| Create {
            instance: settings.instance.clone(),
            created: self.created,
            lease: settings.failover_timeout,
        });
        let deadline = match create {
            Some(_) => asked + settings.failover_timeout,
            // A lease that does not hold now sends nothing to the database: a commit polled
            // once reaches the server whatever its deadline.
            None if !self.lease.holds(asked) => return Err(StoreError::Fenced),
            None => self.lease.deadline().ok_or(StoreError::Fenced)?,
        };
        let batch = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if !batch.dirty {
            return match create.is_some() || self.lease.holds(Instant::now()) {
                true => Ok(()),
                false => Err(StoreError::Fenced),
            };
        }
        let claims = create.is_some();
        let work = Work::Commit {
            session: self.session.clone(),
            token,
            batch: batch.clone(),
            create,
        };
        match self.inner.service.call(work, deadline) {
            Ok(Done::Committed(token)) => {
                if claims {
                    let leases = &self.inner.leases;
                    leases.granted(&self.session, &self.lease, token, asked);
                    // The store went while its first commit ran: the session is let go now.
                    if self.dropped.load(Ordering::Acquire) {
                        self.release();
                    }
                }
                match self.lease.holds(Instant::now()) {
                    true => Ok(()),
                    false => Err(StoreError::Fenced),
                }
            }
            Ok(done) => Err(PgError::Thread(format!("a commit answered {done:?}")).into()),
            Err(error @ (PgError::Fenced | PgError::Known(_))) => {
                tracing::warn!(session = %self.session, %error, "the session is not ours");
                self.lease.lose();
                Err(StoreError::Fenced)
            }
            Err(error) => {
                tracing::warn!(session = %self.session, %error, "commit failed");
                self.pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .put_back(batch);
                Err(error.into())
            }
        }
    }
}
