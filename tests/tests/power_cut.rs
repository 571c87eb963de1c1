//! What each `StorageDurability` promises against a machine crash (a power cut), and no more.
//!
//! A process crash cannot tell the modes apart: every append is written to the operating system
//! before it counts as stored (`store_crash.rs`, `fixgate/tests/kill9.rs`). A power cut loses
//! what the operating system had not yet made durable. Its worst case is modelled here exactly:
//! the session runs over a real `FileStore`, the test carries out its actions as an adapter does
//! (`Action::Commit` is an fsync of the store's log), and at every message handed to the wire the
//! log is put back to what the last fsync covered, plus part of what changed since (a torn
//! record), and reopened. Asserted, for each mode:
//! - `Process`: nothing is synced, so in the worst case every message the counterparty has seen
//!   is gone, and the recovered session would reuse its numbers;
//! - `Batch` and `Each`: every message on the wire, and the record of every inbound order a reply
//!   answered, survive; `Batch` with one fsync per burst, `Each` with one per message;
//! - a message put while disconnected (sent only by the next Logon's resend) is durable under
//!   `Batch` and `Each` once the actions are carried out, and not under `Process`.

use std::fs;
use std::path::Path;

use fixgate_core::codec::{FieldWriter, Message};
use fixgate_core::{
    Action, BeginString, MessageStore, OutboundMessage, Role, SeqNum, SessionConfig,
    StorageDurability, UtcTimestamp, tag,
};
use fixgate_store::{FileStore, LOG_FILE};
use fixgate_tests::clock::SimClock;
use fixgate_tests::peer::{ScriptedPeer, THEM, US};

/// What the worst power cut at each moment would have kept.
#[derive(Debug, Default)]
struct Outcome {
    /// Stored messages handed to the wire, in order.
    on_wire: Vec<u64>,
    /// Those that a power cut right after their send would have lost.
    lost_on_wire: Vec<u64>,
    /// fsyncs the session asked for.
    fsyncs: usize,
    /// The inbound order that was replied to, and whether a power cut after the reply's send
    /// would still know it was answered (its next-expected number past it).
    answered_order: u64,
    answered_survives: bool,
    /// Messages stored while disconnected, and how many a power cut after the actions loses.
    stored_offline: usize,
    lost_offline: usize,
    /// The recovered next sender number after the last cut, against the highest number sent.
    recovered_next_sender: u64,
}

/// The store a power cut leaves: the log as the last fsync saw it, with the first `torn_half` of
/// what changed since written too (the page cache written back in part).
fn power_cut(live: &Path, durable: &[u8], torn_half: bool, into: &Path) -> FileStore {
    let _ = fs::remove_dir_all(into);
    fs::create_dir_all(into).unwrap();
    let now = fs::read(live.join(LOG_FILE)).unwrap_or_default();
    let mut image = durable.to_vec();
    image.resize(now.len().max(durable.len()), 0);
    let changed: Vec<usize> = (0..now.len()).filter(|&i| now[i] != image[i]).collect();
    if torn_half && let (Some(&first), Some(&last)) = (changed.first(), changed.last()) {
        let cut = first + (last + 1 - first) / 2;
        image[first..cut].copy_from_slice(&now[first..cut]);
    }
    if !durable.is_empty() {
        fs::write(into.join(LOG_FILE), &image).unwrap();
    }
    FileStore::open(into, UtcTimestamp::from_unix(0, 0).unwrap()).expect("a cut log opens")
}

fn stored(store: &FileStore, seq: u64) -> bool {
    let mut found = false;
    store
        .read_range(SeqNum::new(seq), SeqNum::new(seq), &mut |_, _| found = true)
        .unwrap();
    found
}

fn order(id: &str) -> FieldWriter {
    let mut body = FieldWriter::new();
    body.str(tag::CL_ORD_ID, id);
    body
}

/// Runs an acceptor in `mode` through a Logon, an inbound order and its reply, bursts of puts and
/// a disconnect with more puts, cutting the power (in a copy) after every send.
fn run(mode: StorageDurability) -> Outcome {
    let live = tempfile::tempdir().unwrap();
    let cut = tempfile::tempdir().unwrap();
    let cut = cut.path().join("store");
    let clock = SimClock::new();
    let store = FileStore::open(live.path(), UtcTimestamp::from_system_time(clock.utc())).unwrap();
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.storage_durability = mode;
    let mut peer = ScriptedPeer::with_store(config, Box::new(store), clock);
    let log = || fs::read(live.path().join(LOG_FILE)).unwrap();
    let mut outcome = Outcome::default();
    let mut durable = Vec::new();
    let mut reply_to = None;

    let mut carry_out = |peer: &mut ScriptedPeer, outcome: &mut Outcome, reply_to: &mut _| {
        for action in peer.take_actions() {
            match action {
                Action::Commit => {
                    peer.session.sync_handle().unwrap().sync().unwrap();
                    durable = log();
                    outcome.fsyncs += 1;
                }
                Action::Send(bytes) => {
                    let seq = Message::parse(bytes)
                        .unwrap()
                        .seq_num(tag::MSG_SEQ_NUM)
                        .unwrap();
                    outcome.on_wire.push(seq.get());
                    // The worst cut now: what the last fsync covered, and half of the rest.
                    let recovered = power_cut(live.path(), &durable, true, &cut);
                    if !stored(&recovered, seq.get()) {
                        outcome.lost_on_wire.push(seq.get());
                    }
                    if let Some(order) = *reply_to {
                        outcome.answered_order = order;
                        outcome.answered_survives = recovered.next_target_seq().get() > order;
                        *reply_to = None;
                    }
                }
                Action::Deliver(delivered) => {
                    let now = peer.clock.now();
                    let fill = order("FILL");
                    let reply = OutboundMessage::new(b"8", &fill);
                    peer.session.reply(now, &delivered, reply).unwrap();
                    *reply_to = Some(delivered.seq().get());
                }
                _ => {}
            }
        }
    };

    let logon = peer.logon(30);
    peer.deliver(&logon);
    carry_out(&mut peer, &mut outcome, &mut reply_to);
    let inbound = peer.message("D", "11=IN|55=X|54=1|38=1|40=1|");
    peer.deliver(&inbound);
    // The reply is put by the application while it handles the delivery.
    carry_out(&mut peer, &mut outcome, &mut reply_to);
    carry_out(&mut peer, &mut outcome, &mut reply_to);
    for burst in 1..=4 {
        for i in 0..burst {
            let now = peer.clock.now();
            let body = order(&format!("B{burst}-{i}"));
            peer.session
                .send(now, OutboundMessage::new(b"D", &body))
                .unwrap();
        }
        carry_out(&mut peer, &mut outcome, &mut reply_to);
    }

    // Disconnected: puts are stored and wait for the next Logon's resend.
    let now = peer.clock.now();
    peer.session.handle_disconnected(now);
    let first_offline = peer.session.next_sender_seq().get();
    for i in 0..3 {
        let now = peer.clock.now();
        let body = order(&format!("OFF{i}"));
        peer.session
            .send(now, OutboundMessage::new(b"D", &body))
            .unwrap();
    }
    carry_out(&mut peer, &mut outcome, &mut reply_to);
    outcome.stored_offline = 3;
    let recovered = power_cut(live.path(), &durable, false, &cut);
    outcome.lost_offline = (first_offline..first_offline + 3)
        .filter(|&seq| !stored(&recovered, seq))
        .count();
    outcome.recovered_next_sender = recovered.next_sender_seq().get();
    eprintln!("{mode:?}: {outcome:?}");
    outcome
}

#[test]
fn process_durability_promises_nothing_against_a_power_cut() {
    let outcome = run(StorageDurability::Process);
    assert_eq!(outcome.fsyncs, 0);
    // Logon, the reply and ten puts reached the counterparty; the worst cut keeps none of them.
    assert_eq!(outcome.on_wire.len(), 12);
    assert_eq!(outcome.lost_on_wire, outcome.on_wire);
    assert!(
        !outcome.answered_survives,
        "the answered order would run again"
    );
    // The recovered session would send numbers the counterparty has already seen.
    assert!(outcome.recovered_next_sender <= *outcome.on_wire.last().unwrap());
    assert_eq!(outcome.lost_offline, outcome.stored_offline);
}

/// What `Batch` and `Each` both promise: every message on the wire, the answered order's record
/// and the puts made while disconnected survive the worst cut, and no number is reused.
fn assert_keeps_everything_sent(outcome: &Outcome) {
    assert_eq!(outcome.on_wire.len(), 12);
    assert_eq!(outcome.lost_on_wire, Vec::<u64>::new());
    assert!(
        outcome.answered_survives,
        "order {}",
        outcome.answered_order
    );
    assert!(outcome.recovered_next_sender > *outcome.on_wire.last().unwrap());
    assert_eq!(outcome.lost_offline, 0);
}

#[test]
fn batch_durability_keeps_everything_sent_with_one_fsync_per_burst() {
    let outcome = run(StorageDurability::Batch);
    assert_keeps_everything_sent(&outcome);
    // Logon, reply, then one per burst of puts: six for twelve messages; one more for the three
    // puts made while disconnected.
    assert_eq!(outcome.fsyncs, 7);
}

#[test]
fn each_durability_keeps_everything_sent_with_one_fsync_per_message() {
    let outcome = run(StorageDurability::Each);
    assert_keeps_everything_sent(&outcome);
    assert_eq!(outcome.fsyncs, outcome.on_wire.len() + 1);
}
