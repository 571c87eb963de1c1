//! The victim of the crash test (`tests/tests/store_crash.rs`): an acceptor session over a
//! `FileStore` in the folder given as its argument `put()`s messages as fast as it can and prints
//! each MsgSeqNum once `put()` has returned, until it is killed.

use std::io::Write;
use std::time::{Instant, SystemTime};

use fixgate_core::codec::FieldWriter;
use fixgate_core::{BeginString, Now, OutboundMessage, Role, Session, SessionConfig, UtcTimestamp};
use fixgate_store::FileStore;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: crash_child DIR");
    let now = || Now {
        mono: Instant::now(),
        utc: SystemTime::now(),
    };
    let store = FileStore::open(&dir, UtcTimestamp::from_system_time(SystemTime::now()))
        .expect("open the store");
    let config = SessionConfig::new(BeginString::Fix44, "VICTIM", "PEER", Role::Acceptor);
    let mut session = Session::new(config, Box::new(store), now()).expect("session");
    let mut out = std::io::stdout().lock();
    writeln!(out, "start {}", session.next_sender_seq()).expect("stdout");
    out.flush().expect("stdout");
    let mut body = FieldWriter::new();
    loop {
        body.clear();
        let id = format!("ORDER-{}", session.next_sender_seq());
        body.str(11, &id)
            .char(54, b'1')
            .str(55, "AAPL")
            .uint(38, 100);
        let seq = session
            .send(now(), OutboundMessage::new(b"D", &body))
            .expect("put");
        // Printed only after put() returned: the parent trusts exactly these numbers.
        writeln!(out, "{seq}").expect("stdout");
        out.flush().expect("stdout");
    }
}
