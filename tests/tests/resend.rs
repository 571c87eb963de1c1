//! FIX session test case 8 and 20: serving a ResendRequest.

use fixgate_core::codec::FieldWriter;
use fixgate_core::{BeginString, Event, OutboundMessage, Role, SeqNum, SessionConfig};
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US};

fn order(id: &str) -> FieldWriter {
    let mut body = FieldWriter::new();
    body.str(11, id).char(54, b'1');
    body
}

/// Logged on, then our messages 2 (app), 3 (heartbeat), 4 (app), 5 (app).
fn with_history(config: SessionConfig) -> ScriptedPeer {
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let now = peer.clock.now();
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("A")))
        .unwrap();
    let test_request = peer.message("1", "112=X|");
    peer.deliver(&test_request);
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("B")))
        .unwrap();
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("C")))
        .unwrap();
    assert_eq!(peer.sent().len(), 4);
    peer
}

fn acceptor() -> SessionConfig {
    SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor)
}

#[test]
fn tc_8_resend_replays_app_messages_and_gap_fills_admin_ones() {
    let mut peer = with_history(acceptor());
    let request = peer.message("2", "7=1|16=0|");
    peer.deliver(&request);
    assert_eq!(
        peer.take(),
        [
            Seen::Event(Event::ResendRequested {
                from: SeqNum::new(1),
                to: SeqNum::new(5)
            }),
            Seen::Sent("35=4|34=1|43=Y|122=*|36=2|123=Y".into()),
            Seen::Sent("35=D|34=2|43=Y|122=*|11=A|54=1".into()),
            Seen::Sent("35=4|34=3|43=Y|122=*|36=4|123=Y".into()),
            Seen::Sent("35=D|34=4|43=Y|122=*|11=B|54=1".into()),
            Seen::Sent("35=D|34=5|43=Y|122=*|11=C|54=1".into()),
        ]
    );
    assert_eq!(
        peer.session.next_sender_seq(),
        SeqNum::new(6),
        "a resend consumes no number"
    );
}

#[test]
fn tc_8_resend_of_a_closed_range() {
    let mut peer = with_history(acceptor());
    let request = peer.message("2", "7=3|16=4|");
    peer.deliver(&request);
    assert_eq!(
        peer.sent(),
        [
            "35=4|34=3|43=Y|122=*|36=4|123=Y",
            "35=D|34=4|43=Y|122=*|11=B|54=1"
        ]
    );
}

#[test]
fn tc_8_trailing_admin_messages_end_in_one_gap_fill() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    for _ in 0..3 {
        let test_request = peer.message("1", "112=X|");
        peer.deliver(&test_request);
    }
    peer.take();
    let request = peer.message("2", "7=1|16=0|");
    peer.deliver(&request);
    assert_eq!(peer.sent(), ["35=4|34=1|43=Y|122=*|36=5|123=Y"]);
}

#[test]
fn tc_8_fix40_end_seq_no_999999_means_to_the_end() {
    let mut peer = with_history(SessionConfig::new(
        BeginString::Fix40,
        US,
        THEM,
        Role::Acceptor,
    ));
    let request = peer.message("2", "7=4|16=999999|");
    peer.deliver(&request);
    assert_eq!(peer.sent().len(), 2);
}

#[test]
fn resend_is_pulled_from_the_store_in_chunks() {
    let mut config = acceptor();
    config.resend_read_chunk_size = 2;
    let mut peer = with_history(config);
    let request = peer.message("2", "7=1|16=0|");
    peer.session.handle_input(peer.clock.now(), &request);
    // Nothing is read ahead: the first chunk (1-2) is queued, the next once it is drained.
    let mut sent = Vec::new();
    while let Some(action) = peer.session.poll_action() {
        if let fixgate_core::Action::Send(bytes) = action {
            sent.push(fixgate_tests::peer::brief(&bytes));
        }
    }
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert_eq!(sent[4], "35=D|34=5|43=Y|122=*|11=C|54=1");
}

#[test]
fn new_messages_wait_behind_a_resend() {
    let mut config = acceptor();
    config.resend_read_chunk_size = 1;
    let mut peer = with_history(config);
    let request = peer.message("2", "7=2|16=0|");
    peer.session.handle_input(peer.clock.now(), &request);
    let now = peer.clock.now();
    peer.session
        .send(now, OutboundMessage::new(b"D", &order("NEW")))
        .unwrap();
    let sent = peer.sent();
    assert_eq!(sent.last().unwrap(), "35=D|34=6|11=NEW|54=1", "{sent:?}");
    assert_eq!(sent.len(), 5);
}

#[test]
fn tc_20_resend_request_with_a_higher_seq_num_is_served_before_our_own() {
    let mut peer = with_history(acceptor());
    peer.next_seq = 10;
    let request = peer.message("2", "7=5|16=0|");
    peer.deliver(&request);
    assert_eq!(
        peer.sent(),
        ["35=D|34=5|43=Y|122=*|11=C|54=1", "35=2|34=6|7=3|16=0"]
    );
}

#[test]
fn range_already_requested_is_not_requested_again() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    peer.next_seq = 5;
    for _ in 0..3 {
        let msg = peer.message("0", "");
        peer.deliver(&msg);
    }
    let requests: Vec<_> = peer
        .sent()
        .into_iter()
        .filter(|m| m.starts_with("35=2|"))
        .collect();
    assert_eq!(requests, ["35=2|34=2|7=2|16=0"]);
}

#[test]
fn redundant_resend_requests_when_configured() {
    let mut config = acceptor();
    config.send_redundant_resend_requests = true;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    peer.next_seq = 5;
    for _ in 0..2 {
        let msg = peer.message("0", "");
        peer.deliver(&msg);
    }
    let requests: Vec<_> = peer
        .sent()
        .into_iter()
        .filter(|m| m.starts_with("35=2|"))
        .collect();
    assert_eq!(requests, ["35=2|34=2|7=2|16=0", "35=2|34=3|7=2|16=0"]);
}

#[test]
fn unfilled_gap_is_requested_again_from_what_is_still_missing() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let ahead = peer.message_with_seq("D", 6, "11=AHEAD|");
    peer.deliver(&ahead);
    assert!(peer.sent().contains(&"35=2|34=2|7=2|16=0".to_owned()));
    // The counterparty fills only part of the gap.
    let time = peer.timestamp(std::time::Duration::ZERO, false);
    let partial = peer.message_with_seq("4", 2, &format!("43=Y|122={time}|36=4|123=Y|"));
    peer.deliver(&partial);
    peer.take();
    peer.wait(std::time::Duration::from_secs(9));
    assert!(!peer.sent().iter().any(|m| m.starts_with("35=2|")));
    peer.wait(std::time::Duration::from_secs(1));
    assert!(peer.sent().contains(&"35=2|34=3|7=4|16=0".to_owned()));
}

#[test]
fn gap_fill_policy_skips_configured_types_and_says_so() {
    let mut config = acceptor();
    config.gap_fill_msg_types = vec!["D".into()];
    let mut peer = with_history(config);
    let request = peer.message("2", "7=2|16=0|");
    peer.deliver(&request);
    let seen = peer.take();
    let not_resent: Vec<u64> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Event(Event::NotResent { seq, .. }) => Some(seq.get()),
            _ => None,
        })
        .collect();
    assert_eq!(not_resent, [2, 4, 5]);
    assert!(
        seen.contains(&Seen::Sent("35=4|34=2|43=Y|122=*|36=6|123=Y".into())),
        "{seen:?}"
    );
}

#[test]
fn tc_8_resend_request_below_the_expected_number_is_served_and_consumes_nothing() {
    let mut peer = with_history(acceptor());
    // The counterparty's numbers so far: 1 (Logon), 2 (TestRequest); 3 is expected.
    let first = peer.message("2", "7=5|16=0|");
    peer.deliver(&first);
    assert_eq!(peer.sent(), ["35=D|34=5|43=Y|122=*|11=C|54=1"]);
    // The same request again under its old number 3, without PossDupFlag: served again, and
    // the expected number stays 4 (no "MsgSeqNum too low" Logout).
    let again = peer.message_with_seq("2", 3, "7=5|16=0|");
    peer.deliver(&again);
    assert_eq!(peer.sent(), ["35=D|34=5|43=Y|122=*|11=C|54=1"]);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(4));
    assert!(peer.session.is_connected());
}

/// Our ResendRequests sent since the last look.
fn resend_requests(peer: &mut ScriptedPeer) -> Vec<String> {
    peer.sent()
        .into_iter()
        .filter(|m| m.starts_with("35=2|"))
        .collect()
}

/// Logged on with `ResendRequestChunkSize = 5`, messages 2 and 3 received, then `ahead`: the gap
/// from 4 is open.
fn chunked_gap(ahead: u64) -> ScriptedPeer {
    let mut config = acceptor();
    config.set("ResendRequestChunkSize", "5").unwrap();
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    for _ in 2..4 {
        let heartbeat = peer.message("0", "");
        peer.deliver(&heartbeat);
    }
    let msg = peer.message_with_seq("D", ahead, "11=AHEAD|");
    peer.deliver(&msg);
    peer
}

#[test]
fn resend_request_chunk_size_asks_for_the_next_chunk_once_the_last_arrives() {
    // QuickFIX/J's worked example: expecting 4, receiving 14, chunks of 5.
    let mut peer = chunked_gap(14);
    assert_eq!(resend_requests(&mut peer), ["35=2|34=2|7=4|16=8"]);
    let time = peer.timestamp(std::time::Duration::ZERO, false);
    for seq in 4..8 {
        let resent = peer.message_with_seq("D", seq, &format!("43=Y|122={time}|11=R{seq}|"));
        peer.deliver(&resent);
    }
    assert_eq!(resend_requests(&mut peer), Vec::<String>::new());
    let last = peer.message_with_seq("D", 8, &format!("43=Y|122={time}|11=R8|"));
    peer.deliver(&last);
    // The rest fits in one chunk: asked for to the end.
    assert_eq!(resend_requests(&mut peer), ["35=2|34=3|7=9|16=0"]);
}

#[test]
fn resend_request_chunk_size_goes_on_after_a_gap_fill() {
    let mut peer = chunked_gap(21);
    assert_eq!(resend_requests(&mut peer), ["35=2|34=2|7=4|16=8"]);
    let time = peer.timestamp(std::time::Duration::ZERO, false);
    let gap_fill = peer.message_with_seq("4", 4, &format!("43=Y|122={time}|36=9|123=Y|"));
    peer.deliver(&gap_fill);
    assert_eq!(resend_requests(&mut peer), ["35=2|34=3|7=9|16=13"]);
    // A repeat after ResendRequestTimeout asks for a chunk too.
    peer.wait(std::time::Duration::from_secs(10));
    assert_eq!(resend_requests(&mut peer), ["35=2|34=4|7=9|16=13"]);
}

#[test]
fn without_resend_request_chunk_size_one_request_asks_to_the_end() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let msg = peer.message_with_seq("D", 2000, "11=AHEAD|");
    peer.deliver(&msg);
    assert_eq!(resend_requests(&mut peer), ["35=2|34=2|7=2|16=0"]);
}
