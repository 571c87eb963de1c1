//! Store syncs run off the engine task (DESIGN.md section 4, amended; issue 19): a session's
//! `Commit` holds back only that session's later sends, the engine goes on serving the others,
//! and a failed sync never releases them: the connection closes without a Logout and the
//! application hears why.

mod hostile;

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use fixgate_core::{
    BeginString, DisconnectReason, EngineConfig, MemoryStore, MessageStore, Role, SeqNum,
    SessionConfig, SessionId, StorageDurability, StoreError, SyncHandle, UtcTimestamp,
};
use fixgate_tokio::{AppEvent, FixEngine, Session};
use hostile::{End, Peer, US, WITHIN, logged_on, logon, wait_for};

/// The counterparty whose store syncs slowly or fails.
const SLOW: &str = "SLOW";
/// A counterparty on a memory store, served meanwhile.
const FAST: &str = "FAST";

/// A sync that waits until released, or fails.
#[derive(Default)]
struct Disk {
    released: Mutex<bool>,
    wake: Condvar,
    fails: bool,
}

impl Disk {
    fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.wake.notify_all();
    }
}

impl SyncHandle for Disk {
    fn sync(&self) -> Result<(), StoreError> {
        if self.fails {
            return Err(StoreError::Io(std::io::ErrorKind::Other));
        }
        let released = self.released.lock().unwrap();
        drop(self.wake.wait_while(released, |r| !*r).unwrap());
        Ok(())
    }
}

/// A memory store whose syncs go to a [`Disk`].
struct SyncedStore {
    inner: MemoryStore,
    disk: Arc<Disk>,
}

impl MessageStore for SyncedStore {
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), StoreError> {
        self.inner.append(seq, frame, answers)
    }

    fn next_sender_seq(&self) -> SeqNum {
        self.inner.next_sender_seq()
    }

    fn next_target_seq(&self) -> SeqNum {
        self.inner.next_target_seq()
    }

    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.inner.set_next_sender_seq(seq)
    }

    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), StoreError> {
        self.inner.set_next_target_seq(seq)
    }

    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), StoreError> {
        self.inner.read_range(from, to, each)
    }

    fn reset(&mut self, now: UtcTimestamp) -> Result<(), StoreError> {
        self.inner.reset(now)
    }

    fn creation_time(&self) -> UtcTimestamp {
        self.inner.creation_time()
    }

    fn sync_handle(&self) -> Option<Arc<dyn SyncHandle>> {
        Some(self.disk.clone())
    }
}

/// An engine with acceptor FAST (memory store) and acceptor SLOW, whose store syncs every
/// message (`StorageDurability::Each`) on `disk`.
async fn engine(
    disk: &Arc<Disk>,
) -> (
    FixEngine,
    tokio::sync::mpsc::UnboundedReceiver<AppEvent>,
    Session,
) {
    let (engine, events) = hostile::acceptor_engine(EngineConfig::default()).await;
    hostile::acceptor(&engine, FAST, |_| {}).await;
    let mut config = SessionConfig::new(BeginString::Fix44, US, SLOW, Role::Acceptor);
    config.storage_durability = StorageDurability::Each;
    let store = SyncedStore {
        inner: MemoryStore::new(UtcTimestamp::from_system_time(SystemTime::now())),
        disk: disk.clone(),
    };
    let slow = engine
        .create_session(SessionId::new(US, SLOW), config, Box::new(store))
        .await
        .unwrap();
    slow.connect().await.unwrap();
    (engine, events, slow)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sync_holds_its_own_session_only() {
    let disk = Arc::new(Disk::default());
    let (engine, mut events, slow) = engine(&disk).await;
    let addr = engine.local_addr().unwrap();

    // SLOW's Logon reply is stored, then waits for its sync, which waits for the disk.
    let mut slow_peer = Peer::connect(addr).await;
    slow_peer.send(&logon(SLOW, US, 30, "")).await.unwrap();

    // Meanwhile FAST logs on and is answered, again and again.
    let mut fast = Peer::connect(addr).await;
    fast.send(&logon(FAST, US, 30, "")).await.unwrap();
    fast.expect(b"A").await;
    logged_on(&mut events, FAST).await;
    for seq in 2..7 {
        let id = format!("RT{seq}");
        let test_request = hostile::message(FAST, US, "1", seq, &format!("112={id}|"));
        fast.send(&test_request).await.unwrap();
        let heartbeat = fast.expect(b"0").await;
        assert_eq!(heartbeat.str(112), Ok(id.as_str()));
    }
    // And SLOW has heard nothing: its reply is held behind the sync.
    let (received, end) =
        hostile::read_until_closed(&mut slow_peer.stream, Duration::from_millis(300)).await;
    assert_eq!(
        (received, end),
        (0, End::Open),
        "SLOW's bytes went out before its sync"
    );

    // The disk answers: SLOW's Logon reply goes out, and its puts flow.
    disk.release();
    slow_peer.expect(b"A").await;
    logged_on(&mut events, SLOW).await;
    tokio::time::timeout(
        WITHIN,
        slow.put(&b"B"[..], Bytes::from_static(b"148=news\x01")),
    )
    .await
    .unwrap()
    .unwrap();
    slow_peer.expect(b"B").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_closes_without_a_logout_and_says_why() {
    let disk = Arc::new(Disk {
        fails: true,
        ..Disk::default()
    });
    let (engine, mut events, _slow) = engine(&disk).await;
    let addr = engine.local_addr().unwrap();

    let mut slow_peer = Peer::connect(addr).await;
    slow_peer.send(&logon(SLOW, US, 30, "")).await.unwrap();
    // Nothing is sent after the failed sync, not the Logon reply and not a Logout: the
    // connection just closes.
    let (received, end) = slow_peer.until_closed(WITHIN).await;
    assert_eq!((received, end), (0, End::Eof));
    let reason = wait_for(&mut events, |e| match e {
        AppEvent::Disconnected { session, reason } if &*session.target_comp_id == SLOW => {
            Some(reason.clone())
        }
        _ => None,
    })
    .await;
    assert!(matches!(reason, DisconnectReason::Store(_)), "{reason:?}");

    // The other session is served as ever.
    let mut fast = Peer::connect(addr).await;
    fast.send(&logon(FAST, US, 30, "")).await.unwrap();
    fast.expect(b"A").await;
}
