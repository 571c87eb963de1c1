//! FIX session test cases 15, 16 and 19, the application API (settling, replies), commit
//! barriers, and command errors.

use fixgate_core::codec::{FieldWriter, HeaderField, Value};
use fixgate_core::{
    BeginString, MemoryStore, MessageStore, OutboundMessage, Role, SendError, SeqNum,
    SessionConfig, SessionState, StorageDurability, UtcTimestamp,
};
use fixgate_tests::clock::SimClock;
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US};

fn order(id: &str) -> FieldWriter {
    let mut body = FieldWriter::new();
    body.str(11, id);
    body
}

fn acceptor() -> SessionConfig {
    SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor)
}

#[test]
fn tc_15_app_message_is_stored_then_sent() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let seq = peer
        .session
        .send(peer.clock.now(), OutboundMessage::new(b"D", &order("A")))
        .unwrap();
    assert_eq!(seq, SeqNum::new(2));
    assert_eq!(peer.sent(), ["35=D|34=2|11=A"]);
}

#[test]
fn tc_15_app_header_fields_go_in_tag_order() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let header = [
        HeaderField::new(128, Value::Text(b"DEST")),
        HeaderField::new(115, Value::Text(b"CLIENT")),
        HeaderField::new(97, Value::Bool(true)),
    ];
    let body = order("A");
    peer.session
        .send(
            peer.clock.now(),
            OutboundMessage::new(b"D", &body).with_header(&header),
        )
        .unwrap();
    assert_eq!(peer.sent(), ["35=D|34=2|97=Y|115=CLIENT|128=DEST|11=A"]);
}

#[test]
fn tc_16_put_while_disconnected_is_stored_and_resent_after_logon() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    peer.session.disconnect(peer.clock.now()).unwrap();
    peer.take();
    let now = peer.clock.now();
    assert_eq!(
        peer.session
            .send(now, OutboundMessage::new(b"D", &order("OFFLINE"))),
        Ok(SeqNum::new(2))
    );
    assert_eq!(peer.take(), [], "nothing goes out while disconnected");
    peer.session.handle_connected(now);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=3|98=0|108=30"]);
    // The counterparty sees 3 where it expected 2 and asks for it.
    let request = peer.message("2", "7=2|16=0|");
    peer.deliver(&request);
    assert_eq!(
        peer.sent(),
        [
            "35=D|34=2|43=Y|122=*|11=OFFLINE",
            "35=4|34=3|43=Y|122=*|36=4|123=Y"
        ]
    );
}

#[test]
fn tc_19_poss_resend_is_visible_and_dedup_is_the_applications_job() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let first = peer.message("D", "11=ID|");
    let again = peer.message("D", "97=Y|11=ID|");
    peer.deliver(&[first, again].concat());
    let delivered = peer.delivered_and_ack();
    assert_eq!(delivered.len(), 2);
    assert!(!delivered[0].is_poss_resend());
    assert!(delivered[1].is_poss_resend());
}

#[test]
fn persisted_target_follows_settled_messages_only() {
    let clock = SimClock::new();
    let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
    let mut peer = ScriptedPeer::with_store(acceptor(), Box::new(store), clock);
    peer.log_on();
    let a = peer.message("D", "11=A|");
    let b = peer.message("D", "11=B|");
    peer.deliver(&[a, b].concat());
    let delivered: Vec<_> = peer.delivered();
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(4));
    assert_eq!(peer.session.unsettled_count(), 2);
    // Settling the second first moves nothing; settling the first moves past both.
    let now = peer.clock.now();
    peer.session
        .reply(now, &delivered[1], OutboundMessage::new(b"8", &order("B")))
        .unwrap();
    assert_eq!(peer.session.unsettled_count(), 1);
    peer.session.ack(peer.clock.now(), &delivered[0]).unwrap();
    assert_eq!(peer.session.unsettled_count(), 0);
}

/// A store that shares its state with the test, to look inside after the session used it.
#[derive(Clone)]
struct SharedStore(std::sync::Arc<std::sync::Mutex<MemoryStore>>);

impl MessageStore for SharedStore {
    fn append(
        &mut self,
        seq: SeqNum,
        frame: &[u8],
        answers: Option<SeqNum>,
    ) -> Result<(), fixgate_core::StoreError> {
        self.0.lock().unwrap().append(seq, frame, answers)
    }
    fn next_sender_seq(&self) -> SeqNum {
        self.0.lock().unwrap().next_sender_seq()
    }
    fn next_target_seq(&self) -> SeqNum {
        self.0.lock().unwrap().next_target_seq()
    }
    fn set_next_sender_seq(&mut self, seq: SeqNum) -> Result<(), fixgate_core::StoreError> {
        self.0.lock().unwrap().set_next_sender_seq(seq)
    }
    fn set_next_target_seq(&mut self, seq: SeqNum) -> Result<(), fixgate_core::StoreError> {
        self.0.lock().unwrap().set_next_target_seq(seq)
    }
    fn read_range(
        &self,
        from: SeqNum,
        to: SeqNum,
        each: &mut dyn FnMut(SeqNum, &[u8]),
    ) -> Result<(), fixgate_core::StoreError> {
        self.0.lock().unwrap().read_range(from, to, each)
    }
    fn reset(&mut self, now: UtcTimestamp) -> Result<(), fixgate_core::StoreError> {
        self.0.lock().unwrap().reset(now)
    }
    fn creation_time(&self) -> UtcTimestamp {
        self.0.lock().unwrap().creation_time()
    }
    fn answered_from(&self, from: SeqNum) -> Vec<SeqNum> {
        self.0.lock().unwrap().answered_from(from)
    }
}

#[test]
fn reply_record_carries_the_inbound_number_and_the_store_follows_settling() {
    let clock = SimClock::new();
    let store = SharedStore(std::sync::Arc::new(std::sync::Mutex::new(
        MemoryStore::new(UtcTimestamp::from_system_time(clock.utc())),
    )));
    let mut peer = ScriptedPeer::with_store(acceptor(), Box::new(store.clone()), clock);
    peer.log_on();
    assert_eq!(
        store.next_target_seq(),
        SeqNum::new(2),
        "the Logon is settled"
    );
    let a = peer.message("D", "11=A|");
    peer.deliver(&a);
    let delivered = match peer.take_actions().pop() {
        Some(fixgate_core::Action::Deliver(d)) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        store.next_target_seq(),
        SeqNum::new(2),
        "delivered is not processed"
    );
    let now = peer.clock.now();
    let reply = peer
        .session
        .reply(now, &delivered, OutboundMessage::new(b"8", &order("A")))
        .unwrap();
    assert_eq!(store.next_target_seq(), SeqNum::new(3));
    assert_eq!(store.0.lock().unwrap().answers(reply), Some(SeqNum::new(2)));
}

#[test]
fn each_durability_puts_a_commit_before_every_stored_send() {
    let mut config = acceptor();
    config.storage_durability = StorageDurability::Each;
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    peer.take();
    let now = peer.clock.now();
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("A")))
        .unwrap();
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("B")))
        .unwrap();
    assert_eq!(
        peer.take(),
        [
            Seen::Commit,
            Seen::Sent("35=D|34=2|11=A".into()),
            Seen::Commit,
            Seen::Sent("35=D|34=3|11=B".into()),
        ]
    );
}

#[test]
fn batch_durability_commits_once_for_a_batch() {
    let mut config = acceptor();
    config.storage_durability = StorageDurability::Batch;
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    peer.take();
    let now = peer.clock.now();
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("A")))
        .unwrap();
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("B")))
        .unwrap();
    assert_eq!(
        peer.take(),
        [
            Seen::Commit,
            Seen::Sent("35=D|34=2|11=A".into()),
            Seen::Sent("35=D|34=3|11=B".into())
        ]
    );
}

#[test]
fn commands_are_checked() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let now = peer.clock.now();
    let body = order("A");
    assert_eq!(
        peer.session.send(now, OutboundMessage::new(b"0", &body)),
        Err(SendError::AdminMsgType("0".into()))
    );
    assert_eq!(
        peer.session.send(now, OutboundMessage::new(b"", &body)),
        Err(SendError::InvalidMsgType)
    );
    let owned = [HeaderField::new(34, Value::Uint(7))];
    assert_eq!(
        peer.session
            .send(now, OutboundMessage::new(b"D", &body).with_header(&owned)),
        Err(SendError::SessionOwnedTag { tag: 34 })
    );
    assert_eq!(
        peer.session
            .send(now, OutboundMessage::from_parts(b"D", b"11=A")),
        Err(SendError::MalformedBody)
    );
    assert_eq!(
        peer.session.reset_seq_num_local(now),
        Err(SendError::Connected)
    );
}

#[test]
fn finalize_is_sticky() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let now = peer.clock.now();
    peer.session.finalize(now);
    assert_eq!(peer.session.state(), SessionState::Finalized);
    assert_eq!(
        peer.session
            .send(now, OutboundMessage::new(b"D", &order("A"))),
        Err(SendError::Finalized)
    );
    assert_eq!(peer.session.logout(now, None), Err(SendError::Finalized));
    peer.session.handle_connected(now);
    assert!(!peer.session.is_connected());
}

#[test]
fn reset_seq_num_local_while_disconnected() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let now = peer.clock.now();
    peer.session.disconnect(now).unwrap();
    peer.session.reset_seq_num_local(now).unwrap();
    assert_eq!(peer.session.next_sender_seq(), SeqNum::new(1));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(1));
}

#[test]
fn tc_2r_unsupported_msg_type_gets_a_business_message_reject() {
    let mut config = acceptor();
    config.supported_msg_types = Some(vec!["D".into()]);
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let report = peer.message("8", "37=X|");
    peer.deliver(&report);
    assert_eq!(
        peer.sent(),
        ["35=j|34=2|45=2|58=Unsupported Message Type|372=8|380=3"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
    assert_eq!(peer.session.unsettled_count(), 0);
}

#[test]
fn tc_2r_fix40_unsupported_msg_type_gets_a_session_reject() {
    let mut config = SessionConfig::new(BeginString::Fix40, US, THEM, Role::Acceptor);
    config.supported_msg_types = Some(vec!["D".into()]);
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let report = peer.message("8", "37=X|");
    peer.deliver(&report);
    assert_eq!(peer.sent(), ["35=3|34=2|45=2|58=Unsupported message type"]);
}

#[test]
fn reject_business_settles_and_answers() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let order = peer.message("D", "11=ID|");
    peer.deliver(&order);
    let delivered = match peer.take_actions().pop() {
        Some(fixgate_core::Action::Deliver(d)) => d,
        other => panic!("{other:?}"),
    };
    let now = peer.clock.now();
    peer.session
        .reject_business(now, &delivered, 5, Some("Unknown security"))
        .unwrap();
    assert_eq!(
        peer.sent(),
        ["35=j|34=2|45=2|58=Unknown security|372=D|380=5"]
    );
    assert_eq!(peer.session.unsettled_count(), 0);
}

#[test]
fn admin_messages_are_reported_both_ways_when_asked() {
    let mut config = acceptor();
    config.report_messages = fixgate_core::MessageReport::Admin;
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    let seen = peer.take();
    let reported: Vec<bool> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Event(fixgate_core::Event::Message { inbound, .. }) => Some(*inbound),
            _ => None,
        })
        .collect();
    assert_eq!(reported, [true, false], "their Logon, then our reply");
    let hb = peer.message("0", "");
    peer.deliver(&hb);
    assert!(matches!(
        &peer.take()[..],
        [Seen::Event(fixgate_core::Event::Message {
            inbound: true,
            ..
        })]
    ));
}

#[test]
fn message_answered_out_of_order_before_a_restart_is_not_processed_again() {
    let clock = SimClock::new();
    let shared = SharedStore(std::sync::Arc::new(std::sync::Mutex::new(
        MemoryStore::new(UtcTimestamp::from_system_time(clock.utc())),
    )));
    let mut peer = ScriptedPeer::with_store(acceptor(), Box::new(shared.clone()), clock);
    peer.log_on();
    let a = peer.message("D", "11=A|");
    let b = peer.message("D", "11=B|");
    peer.deliver(&[a, b].concat());
    let delivered: Vec<_> = peer.delivered();
    // B (3) is answered; A (2) is still being worked on when the process dies.
    let now = peer.clock.now();
    peer.session
        .reply(now, &delivered[1], OutboundMessage::new(b"8", &order("B")))
        .unwrap();
    assert_eq!(shared.next_target_seq(), SeqNum::new(2));
    // Restart over the same store: A and B come again; only A reaches the application.
    let clock = peer.clock;
    drop(peer);
    let mut peer = ScriptedPeer::with_store(acceptor(), Box::new(shared.clone()), clock);
    peer.next_seq = 4;
    let logon = peer.logon(30);
    peer.deliver(&logon);
    peer.take();
    let time = peer.timestamp(std::time::Duration::from_secs(1), true);
    let a_again = peer.message_with_seq("D", 2, &format!("43=Y|122={time}|11=A|"));
    let b_again = peer.message_with_seq("D", 3, &format!("43=Y|122={time}|11=B|"));
    peer.deliver(&[a_again, b_again].concat());
    let seen = peer.take();
    let delivered: Vec<_> = seen
        .iter()
        .filter(|s| matches!(s, Seen::Delivered(_)))
        .collect();
    assert_eq!(delivered.len(), 1, "{seen:?}");
    assert!(
        seen.contains(&Seen::Event(fixgate_core::Event::AlreadyProcessed {
            seq: SeqNum::new(3)
        }))
    );
}

#[test]
fn every_message_is_reported_for_a_message_log_when_asked() {
    let mut config = acceptor();
    config.report_messages = fixgate_core::MessageReport::All;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    peer.take();
    let order_in = peer.message("D", "11=IN|55=X|54=1|38=1|40=1|");
    peer.deliver(&order_in);
    peer.session
        .send(peer.clock.now(), OutboundMessage::new(b"8", &order("OUT")))
        .unwrap();
    peer.collect();
    let reported: Vec<(bool, String)> = peer
        .take()
        .iter()
        .filter_map(|s| match s {
            Seen::Event(fixgate_core::Event::Message { inbound, frame }) => {
                Some((*inbound, fixgate_tests::peer::brief(frame)))
            }
            _ => None,
        })
        .map(|(inbound, text)| (inbound, text.split('|').next().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(
        reported,
        [(true, "35=D".to_owned()), (false, "35=8".to_owned())],
        "the application messages too, both ways"
    );
}

#[test]
fn tc_2r_fixt_business_message_reject_carries_default_appl_ver_id() {
    let mut config = SessionConfig::new(BeginString::Fixt11, US, THEM, Role::Acceptor);
    config.set("DefaultApplVerID", "FIX.5.0").unwrap();
    config.supported_msg_types = Some(vec!["D".into()]);
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let report = peer.message("8", "37=X|");
    peer.deliver(&report);
    assert_eq!(
        peer.sent(),
        ["35=j|34=2|45=2|58=Unsupported Message Type|372=8|380=3|1137=7"]
    );
}

#[test]
fn answer_to_a_message_delivered_before_a_reset_is_refused() {
    let mut config = acceptor();
    config.reset_on_logon = true;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let order = peer.message("D", "11=OLD|");
    peer.deliver(&order);
    let old = peer.take_actions().into_iter().find_map(|a| match a {
        fixgate_core::Action::Deliver(d) => Some(d),
        _ => None,
    });
    let old = old.expect("delivered");
    // The connection drops and the counterparty logs on again: ResetOnLogon starts a new
    // sequence, in which number 2 is a different message.
    peer.session.handle_disconnected(peer.clock.now());
    peer.session.handle_connected(peer.clock.now());
    peer.next_seq = 1;
    peer.log_on();
    let now = peer.clock.now();
    let answer = FieldWriter::new();
    assert_eq!(
        peer.session
            .reply(now, &old, OutboundMessage::new(b"D", &answer)),
        Err(SendError::StaleDelivery)
    );
    assert_eq!(
        peer.session.ack(peer.clock.now(), &old),
        Err(SendError::StaleDelivery)
    );
    assert_eq!(peer.sent(), Vec::<String>::new());
    assert_eq!(peer.session.next_sender_seq(), SeqNum::new(2));
}

#[test]
fn tc_18_business_message_reject_carries_the_reverse_route() {
    let mut config = acceptor();
    config.supported_msg_types = Some(vec!["D".into()]);
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let report = peer.message("8", "115=JCD|129=CS|37=X|");
    peer.deliver(&report);
    assert_eq!(
        peer.sent(),
        ["35=j|34=2|116=CS|128=JCD|45=2|58=Unsupported Message Type|372=8|380=3"]
    );
}

/// The messages of `seen` reported by `Event::Message`, outbound only, as `35=..` with the
/// sequence-reset fields.
fn reported_outbound(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Event(fixgate_core::Event::Message {
                inbound: false,
                frame,
            }) => Some(fixgate_tests::peer::brief(frame)),
            _ => None,
        })
        .collect()
}

#[test]
fn gap_fill_and_sequence_reset_are_reported_once_each() {
    let mut config = acceptor();
    config.report_messages = fixgate_core::MessageReport::All;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    peer.take();
    // Our Logon reply (1) is resent as a GapFill.
    let resend_request = peer.message("2", "7=1|16=0|");
    peer.deliver(&resend_request);
    let reported = reported_outbound(&peer.take());
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(reported[0].starts_with("35=4|34=1|43=Y|"), "{reported:?}");
    peer.session
        .send_sequence_reset(peer.clock.now(), SeqNum::new(10))
        .unwrap();
    peer.collect();
    let reported = reported_outbound(&peer.take());
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(reported[0].starts_with("35=4|"), "{reported:?}");
}

#[test]
fn logout_refusing_a_logon_is_reported_once() {
    let mut config = acceptor();
    config.report_messages = fixgate_core::MessageReport::All;
    config.send_logout_on_invalid_logon = true;
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.message("A", "98=0|");
    peer.deliver(&logon);
    let reported = reported_outbound(&peer.take());
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(reported[0].starts_with("35=5|"), "{reported:?}");
}

/// `EnableLastMsgSeqNumProcessed` (issue 20 item 4): from FIX 4.2 on, every message we send
/// carries LastMsgSeqNumProcessed (369), the next expected number minus one, as QuickFIX sets
/// it; a resent copy keeps the one it was first sent with. FIX 4.1 has no such field.
#[test]
fn last_msg_seq_num_processed_is_on_every_message_and_a_resent_copy_keeps_its_own() {
    let mut config = acceptor();
    config.set("EnableLastMsgSeqNumProcessed", "Y").unwrap();
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|369=0|98=0|108=30"]);
    let now = peer.clock.now();
    let body = order("A");
    peer.session
        .send(now, OutboundMessage::new(b"8", &body))
        .unwrap();
    assert_eq!(peer.sent(), ["35=8|34=2|369=1|11=A"]);
    let test_request = peer.message("1", "112=T|");
    peer.deliver(&test_request);
    assert_eq!(peer.sent(), ["35=0|34=3|369=2|112=T"]);
    let resend = peer.message("2", "7=2|16=2|");
    peer.deliver(&resend);
    assert_eq!(peer.sent(), ["35=8|34=2|43=Y|122=*|369=1|11=A"]);

    let mut config = SessionConfig::new(BeginString::Fix41, US, THEM, Role::Acceptor);
    config.set("EnableLastMsgSeqNumProcessed", "Y").unwrap();
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30"]);
}
