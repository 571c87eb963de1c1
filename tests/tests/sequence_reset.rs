//! FIX session test cases 10 and 11: SequenceReset in GapFill and Reset modes.

use std::time::Duration;

use fixgate_core::{BeginString, Event, SeqNum};
use fixgate_tests::peer::{ScriptedPeer, Seen};

fn logged_on() -> ScriptedPeer {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    peer
}

#[test]
fn tc_10_gap_fill_with_expected_seq_num_moves_the_expected_number() {
    let mut peer = logged_on();
    let gap_fill = peer.message_with_seq("4", 2, "36=20|123=Y|");
    peer.deliver(&gap_fill);
    assert_eq!(
        peer.take(),
        [Seen::Event(Event::SequenceReset {
            new_seq: SeqNum::new(20),
            gap_fill: true
        })]
    );
    let test_request = peer.message_with_seq("1", 20, "112=HELLO|");
    peer.deliver(&test_request);
    assert_eq!(peer.sent(), ["35=0|34=2|112=HELLO"]);
}

#[test]
fn tc_10_gap_fill_with_higher_seq_num_is_a_gap() {
    let mut peer = logged_on();
    let gap_fill = peer.message_with_seq("4", 10, "36=20|123=Y|");
    peer.deliver(&gap_fill);
    assert_eq!(peer.sent(), ["35=2|34=2|7=2|16=0"]);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn tc_10_gap_fill_with_lower_seq_num_and_poss_dup_is_ignored() {
    let mut peer = logged_on();
    let time = peer.timestamp(Duration::from_secs(1), true);
    let gap_fill = peer.message_with_seq("4", 1, &format!("43=Y|122={time}|36=20|123=Y|"));
    peer.deliver(&gap_fill);
    assert_eq!(peer.take(), []);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn tc_10_gap_fill_with_lower_seq_num_without_poss_dup_logs_out() {
    let mut peer = logged_on();
    let gap_fill = peer.message_with_seq("4", 1, "36=20|123=Y|");
    peer.deliver(&gap_fill);
    assert_eq!(
        peer.sent(),
        ["35=5|34=2|58=MsgSeqNum too low, expecting 2 but received 1"]
    );
}

#[test]
fn gap_fill_whose_new_seq_no_is_not_above_its_seq_num_is_rejected() {
    let mut peer = logged_on();
    let gap_fill = peer.message_with_seq("4", 2, "36=2|123=Y|");
    peer.deliver(&gap_fill);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Value is incorrect (out of range) for this tag|372=4|373=5"]
    );
}

#[test]
fn tc_11a_reset_with_higher_new_seq_no_is_adopted_whatever_its_seq_num() {
    let mut peer = logged_on();
    let reset = peer.message_with_seq("4", 0, "36=25|");
    peer.deliver(&reset);
    assert_eq!(
        peer.take(),
        [Seen::Event(Event::SequenceReset {
            new_seq: SeqNum::new(25),
            gap_fill: false
        })]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(25));
}

#[test]
fn tc_11b_reset_with_equal_new_seq_no_changes_nothing() {
    let mut peer = logged_on();
    let reset = peer.message_with_seq("4", 0, "36=2|");
    peer.deliver(&reset);
    assert!(peer.sent().is_empty());
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn tc_11c_reset_with_lower_new_seq_no_is_rejected_without_ref_tag_id() {
    let mut peer = logged_on();
    let reset = peer.message_with_seq("4", 0, "36=1|");
    peer.deliver(&reset);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=0|58=Value is incorrect (out of range) for this tag|372=4|373=5"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn gap_fill_releases_messages_queued_behind_it() {
    let mut peer = logged_on();
    let ahead = peer.message_with_seq("D", 5, "11=AHEAD|");
    peer.deliver(&ahead);
    peer.take();
    let gap_fill = peer.message_with_seq("4", 2, "43=Y|122=20261126-11:59:59|36=5|123=Y|");
    peer.deliver(&gap_fill);
    let seen = peer.take();
    assert!(
        seen.contains(&Seen::Delivered("35=D|34=5|11=AHEAD".into())),
        "{seen:?}"
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(6));
}
