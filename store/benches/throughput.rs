//! The store's append throughput in each durability mode, in messages per second.
//!
//! `cargo bench -p fixgate-store --bench throughput` appends 200-byte frames to a `FileStore` in
//! a temporary folder (on the same disk as `/tmp`):
//! - `process`: append only (a copy into the mapped log): survives a process crash;
//! - `batch`: plus one `fdatasync` per 100 appends (the `Commit` barrier of a burst);
//! - `each`: plus one `fdatasync` per append.
//!
//! Run by `cargo test`, it appends a few messages per mode to check that the code works.

use std::time::{Instant, SystemTime};

use fixgate_core::{MessageStore, SeqNum, UtcTimestamp};
use fixgate_store::FileStore;

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let scale = if benching { 1 } else { 1000 };
    let frame = vec![b'x'; 200];
    for (mode, count, sync_every) in [
        ("process", 200_000, 0),
        ("batch", 50_000, 100),
        ("each", 2_000, 1),
    ] {
        let count = (count / scale).max(10);
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut store = FileStore::open(
            dir.path(),
            UtcTimestamp::from_system_time(SystemTime::now()),
        )
        .expect("open");
        let sync = store.sync_handle().expect("a file store can sync");
        // A benchmark reads the clock by design.
        let start = Instant::now();
        for i in 0..count {
            store
                .append(SeqNum::new(i + 1), &frame, None)
                .expect("append");
            if sync_every > 0 && (i + 1) % sync_every == 0 {
                sync.sync().expect("sync");
            }
        }
        let elapsed = start.elapsed();
        let rate = count as f64 / elapsed.as_secs_f64();
        println!(
            "{mode:8} {count:7} messages of 200 B in {:8.3} ms: {rate:10.0} messages/s",
            elapsed.as_secs_f64() * 1e3
        );
    }
}
