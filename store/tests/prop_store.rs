//! Random appends, restarts and torn tails never lose a complete record.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;

use fixgate_core::{MessageStore, SeqNum, UtcTimestamp};
use fixgate_store::{FileStore, LOG_FILE};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Append(u8),
    Reply(u8),
    SetTarget(u8),
    SkipSender(u8),
    Reopen,
    /// A crash in the middle of writing: garbage of this length at the end of the file.
    TornTail(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u8>().prop_map(Op::Append),
        2 => any::<u8>().prop_map(Op::Reply),
        1 => any::<u8>().prop_map(Op::SetTarget),
        1 => (1u8..5).prop_map(Op::SkipSender),
        2 => Just(Op::Reopen),
        2 => (1u8..60).prop_map(Op::TornTail),
    ]
}

fn now() -> UtcTimestamp {
    UtcTimestamp::from_unix(1_795_694_400, 0).unwrap()
}

proptest! {
    #[test]
    fn complete_records_survive_restarts_and_torn_tails(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(dir.path(), now()).unwrap();
        let mut messages: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        // The last number set, and the inbound numbers replied to since: what recovery derives.
        let mut target = 1u64;
        let mut answered = std::collections::BTreeSet::new();
        for op in ops {
            match op {
                Op::Append(n) | Op::Reply(n) => {
                    let seq = store.next_sender_seq();
                    let frame = vec![b'a' + n % 26; usize::from(n) + 1];
                    // Replies answer the expected number or one a little beyond it (out of order).
                    let answers = matches!(op, Op::Reply(_)).then(|| target + u64::from(n % 3));
                    store.append(seq, &frame, answers.map(SeqNum::new)).unwrap();
                    messages.insert(seq.get(), frame);
                    answered.extend(answers);
                }
                Op::SetTarget(n) => {
                    target = u64::from(n) + 1;
                    answered.retain(|&a| a >= target);
                    store.set_next_target_seq(SeqNum::new(target)).unwrap();
                }
                Op::SkipSender(n) => {
                    let seq = store.next_sender_seq().get() + u64::from(n);
                    store.set_next_sender_seq(SeqNum::new(seq)).unwrap();
                }
                Op::Reopen | Op::TornTail(_) => {
                    let expected_sender = store.next_sender_seq();
                    drop(store);
                    if let Op::TornTail(len) = op {
                        let mut file = OpenOptions::new().append(true).open(dir.path().join(LOG_FILE)).unwrap();
                        // The first bytes of a record whose end never made it to the disk.
                        // (A 200-byte payload, declared consistently, then cut short.)
                        let mut record = 200u32.to_le_bytes().to_vec();
                        record.extend_from_slice(&(!200u32).to_le_bytes());
                        record.resize(usize::from(len).max(record.len()), 7);
                        file.write_all(&record[..usize::from(len).min(record.len())]).unwrap();
                    }
                    store = FileStore::open(dir.path(), now()).unwrap();
                    prop_assert_eq!(store.next_sender_seq(), expected_sender);
                    let mut recovered = target;
                    while answered.contains(&recovered) {
                        recovered += 1;
                    }
                    prop_assert_eq!(store.next_target_seq(), SeqNum::new(recovered));
                    let mut found = BTreeMap::new();
                    store.read_range(SeqNum::FIRST, SeqNum::new(u64::MAX), &mut |seq, frame| {
                        found.insert(seq.get(), frame.to_vec());
                    }).unwrap();
                    prop_assert_eq!(&found, &messages);
                }
            }
        }
    }
}
