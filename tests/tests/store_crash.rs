//! Crash safety: a child process `put()`s messages into a `FileStore` and is killed with SIGKILL
//! at varying moments; after every restart the store holds every message whose `put()` returned.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use fixgate_core::codec::Message;
use fixgate_core::{MessageStore, SeqNum, UtcTimestamp, tag};
use fixgate_store::FileStore;

#[test]
fn every_put_that_returned_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut confirmed: Vec<u64> = Vec::new();
    for round in 0..12u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_child"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the child");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let start: u64 = lines
            .next()
            .unwrap()
            .unwrap()
            .strip_prefix("start ")
            .unwrap()
            .parse()
            .unwrap();
        // The store resumed after everything confirmed before (maybe after one more append that
        // was never confirmed).
        let last = confirmed.last().copied().unwrap_or(0);
        assert!(
            start == last + 1 || start == last + 2,
            "round {round}: resumed at {start} after {last}"
        );
        // Kill it at a different moment each round, mid-stream.
        std::thread::sleep(Duration::from_millis(3 + round * 7 % 40));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        confirmed.extend(
            lines
                .map_while(Result::ok)
                .filter_map(|l| l.parse::<u64>().ok()),
        );

        let store =
            FileStore::open(dir.path(), UtcTimestamp::from_unix(0, 0).unwrap()).expect("reopen");
        let mut stored = std::collections::BTreeMap::new();
        store
            .read_range(SeqNum::FIRST, SeqNum::new(u64::MAX), &mut |seq, frame| {
                let msg = Message::parse(bytes::Bytes::copy_from_slice(frame))
                    .expect("a stored frame is valid");
                assert_eq!(msg.seq_num(tag::MSG_SEQ_NUM), Ok(seq));
                stored.insert(seq.get(), msg.str(tag::CL_ORD_ID).unwrap().to_owned());
            })
            .unwrap();
        for &seq in &confirmed {
            assert_eq!(
                stored.get(&seq).map(String::as_str),
                Some(format!("ORDER-{seq}").as_str()),
                "round {round}: {seq} lost"
            );
        }
    }
    assert!(
        confirmed.len() > 100,
        "the child confirmed only {} puts",
        confirmed.len()
    );
}
