//! Resend from the file store (issue 7, item 5): an acceptor session over a `FileStore` holds N
//! stored orders; the counterparty logs on and asks for all of them (`7=1`, `16=0`). The engine
//! is driven in process, as an adapter drives it: each round's sends are written (dropped here)
//! and reported with `handle_written`. Prints the time until the last resent message and the peak
//! resident memory above the level before the request, as one JSON line.
//!
//! ```text
//! resend-bench [--messages N] [--dir DIR]       (default 100,000, a folder in the temp dir)
//! ```
//! The store was just written, so its file is in the page cache: the warm-cache case.

use std::time::{Instant, SystemTime};

use fixgate_core::OutboundMessage;
use fixgate_core::{
    BeginString, ConnId, Engine, EngineConfig, Now, Output, Role, SessionConfig, SessionId,
    TimestampPrecision, UtcTimestamp,
};
use fixgate_store::FileStore;
use fixgate_tests::bench::{arg, number_arg, rss_kib};
use fixgate_tests::wire::frame;

fn now() -> Now {
    Now {
        mono: Instant::now(),
        utc: SystemTime::now(),
    }
}

fn message(msg_type: &str, seq: u64, fields: &str) -> Vec<u8> {
    let time = UtcTimestamp::from_system_time(SystemTime::now()).format(TimestampPrecision::Millis);
    frame(
        "FIX.4.4",
        &format!(
            "35={msg_type}|34={seq}|49=TW|52={}|56=ISLD|{fields}",
            time.as_str()
        ),
    )
}

/// Carries out the outputs like an adapter whose writes complete at once; the bytes written.
fn drain(engine: &mut Engine, conn: ConnId) -> (usize, u64) {
    let (mut bytes, mut messages) = (0, 0);
    while let Some(output) = engine.poll_output() {
        if let Output::Send { bytes: frame, .. } = output {
            bytes += frame.len();
            messages += 1;
        }
    }
    engine.handle_written(conn, now(), bytes);
    (bytes, messages)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count = number_arg(&args, "--messages", 100_000);
    let dir = arg(&args, "--dir").map_or_else(
        || std::env::temp_dir().join(format!("fixgate-resend-{}", std::process::id())),
        std::path::PathBuf::from,
    );
    let _ = std::fs::remove_dir_all(&dir);

    let mut engine = Engine::new(EngineConfig::default(), now());
    let id = SessionId::new("ISLD", "TW");
    let config = SessionConfig::new(BeginString::Fix44, "ISLD", "TW", Role::Acceptor);
    let store = FileStore::open(&dir, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("open the store");
    engine
        .create_session(id.clone(), config, Box::new(store))
        .unwrap();
    engine.register_acceptor(&id).unwrap();
    let body = b"11=ORDER\x0121=1\x0155=AAPL\x0154=1\x0160=20261127-12:00:00\x0138=100\x0140=1\x01";
    for _ in 0..count {
        engine
            .put(now(), &id, OutboundMessage::from_parts(b"D", body))
            .unwrap();
    }
    let conn = ConnId(1);
    engine.handle_connection_opened(conn, None, now());
    engine.handle_input(conn, now(), &message("A", 1, "98=0|108=30|"));
    drain(&mut engine, conn);

    let rss = || rss_kib("self").unwrap_or(0);
    let before = rss();
    let mut peak = before;
    let start = Instant::now();
    engine.handle_input(conn, now(), &message("2", 2, "7=1|16=0|"));
    let mut resent = 0;
    loop {
        let (bytes, messages) = drain(&mut engine, conn);
        peak = peak.max(rss());
        if bytes == 0 {
            break;
        }
        resent += messages;
    }
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{{\"stored\":{count},\"resent\":{resent},\"seconds\":{seconds:.3},\"peak_extra_mib\":{:.1}}}",
        peak.saturating_sub(before) as f64 / 1024.0
    );
}
