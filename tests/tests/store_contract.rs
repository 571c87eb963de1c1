//! The store contract (DESIGN.md section 4), one set of tests run against both durable stores:
//! the file store and the PostgreSQL store. What a commit made durable is what a store opened
//! again finds.

use fixgate_core::{MessageStore, SeqNum, SessionId, UtcTimestamp};
use fixgate_postgres::{Postgres, PostgresSettings};
use fixgate_store::FileStore;
use fixgate_tests::postgres::fresh_database;

/// Opens one session's store, again and again.
trait Stores {
    type Store: MessageStore;
    fn open(&mut self) -> Self::Store;
}

struct Files(tempfile::TempDir);

impl Stores for Files {
    type Store = FileStore;
    fn open(&mut self) -> FileStore {
        FileStore::open(self.0.path(), created()).unwrap()
    }
}

struct Database(Postgres);

impl Stores for Database {
    type Store = fixgate_postgres::PgStore;
    fn open(&mut self) -> Self::Store {
        self.0.open(&session(), created()).unwrap()
    }
}

fn session() -> SessionId {
    SessionId::new("FIXGATE", "CLIENT")
}

fn created() -> UtcTimestamp {
    UtcTimestamp::from_unix(1_795_694_400, 0).unwrap()
}

fn frame(seq: u64) -> Vec<u8> {
    format!("8=FIX.4.4|35=D|34={seq}|").into_bytes()
}

fn s(n: u64) -> SeqNum {
    SeqNum::new(n)
}

/// Makes what the store holds durable, as the adapter does at `Action::Commit`.
fn commit(store: &impl MessageStore) {
    if let Some(handle) = store.sync_handle() {
        handle.sync().unwrap();
    }
}

fn stored(store: &impl MessageStore) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    store
        .read_range(SeqNum::FIRST, s(u64::MAX), &mut |seq, bytes| {
            out.push((seq.get(), bytes.to_vec()))
        })
        .unwrap();
    out
}

fn messages_and_numbers_survive_reopening(mut stores: impl Stores) {
    let mut store = stores.open();
    for seq in 1..=3 {
        store.append(s(seq), &frame(seq), None).unwrap();
    }
    store.set_next_target_seq(s(7)).unwrap();
    commit(&store);
    drop(store);
    let store = stores.open();
    assert_eq!(
        stored(&store),
        (1..=3).map(|n| (n, frame(n))).collect::<Vec<_>>()
    );
    assert_eq!(store.next_sender_seq(), s(4));
    assert_eq!(store.next_target_seq(), s(7));
    assert_eq!(store.creation_time(), created());
}

fn a_reply_moves_the_recovered_target_past_what_it_answers(mut stores: impl Stores) {
    let mut store = stores.open();
    store.set_next_target_seq(s(5)).unwrap();
    commit(&store);
    // Replies to 6 and 5, in that order; the crash comes before the number is moved.
    store.append(s(1), &frame(1), Some(s(6))).unwrap();
    store.append(s(2), &frame(2), Some(s(5))).unwrap();
    commit(&store);
    drop(store);
    let store = stores.open();
    assert_eq!(store.next_target_seq(), s(7));
    assert_eq!(store.answered_from(s(5)), []);
}

fn replies_settled_out_of_order_are_remembered_across_a_restart(mut stores: impl Stores) {
    let mut store = stores.open();
    store.set_next_target_seq(s(5)).unwrap();
    store.append(s(1), &frame(1), Some(s(7))).unwrap();
    commit(&store);
    drop(store);
    let store = stores.open();
    assert_eq!(store.next_target_seq(), s(5));
    assert_eq!(store.answered_from(s(5)), [s(7)]);
}

fn numbers_moved_back_replace_the_messages_they_reach(mut stores: impl Stores) {
    let mut store = stores.open();
    for seq in 1..=3 {
        store.append(s(seq), &frame(seq), None).unwrap();
    }
    // A gap: the number moved on. Then back to 2, which is written again.
    store.set_next_sender_seq(s(10)).unwrap();
    store.append(s(10), &frame(10), None).unwrap();
    store.set_next_sender_seq(s(2)).unwrap();
    store.append(s(2), b"again", None).unwrap();
    commit(&store);
    drop(store);
    let store = stores.open();
    assert_eq!(
        stored(&store),
        [
            (1, frame(1)),
            (2, b"again".to_vec()),
            (3, frame(3)),
            (10, frame(10))
        ]
    );
    assert_eq!(store.next_sender_seq(), s(3));
}

fn a_reset_forgets_messages_and_numbers_and_keeps_its_time(mut stores: impl Stores) {
    let mut store = stores.open();
    store.append(s(1), &frame(1), Some(s(1))).unwrap();
    store.set_next_target_seq(s(2)).unwrap();
    commit(&store);
    let later = UtcTimestamp::from_unix(1_795_700_000, 0).unwrap();
    store.reset(later).unwrap();
    store.append(s(1), b"after", None).unwrap();
    commit(&store);
    drop(store);
    let store = stores.open();
    assert_eq!(stored(&store), [(1, b"after".to_vec())]);
    assert_eq!(
        (store.next_sender_seq(), store.next_target_seq()),
        (s(2), s(1))
    );
    assert_eq!(store.creation_time(), later);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod file_store {
            $(
                #[test]
                fn $name() {
                    super::$name(super::Files(tempfile::tempdir().unwrap()));
                }
            )*
        }
        mod postgres_store {
            $(
                #[test]
                fn $name() {
                    let Some(url) = super::fresh_database() else { return };
                    let settings = super::PostgresSettings::new(url, "contract");
                    super::$name(super::Database(super::Postgres::connect(settings).unwrap()));
                }
            )*
        }
    };
}

contract!(
    messages_and_numbers_survive_reopening,
    a_reply_moves_the_recovered_target_past_what_it_answers,
    replies_settled_out_of_order_are_remembered_across_a_restart,
    numbers_moved_back_replace_the_messages_they_reach,
    a_reset_forgets_messages_and_numbers_and_keeps_its_time,
);
