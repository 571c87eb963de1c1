//! FIX session test case 2: receiving messages after logon, and the sequence rules.

use std::time::Duration;

use fixgate_core::{BeginString, DisconnectReason, Event, SeqNum, SessionRejectReason};
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US};
use fixgate_tests::wire::frame;

fn logged_on() -> ScriptedPeer {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    peer
}

fn delivered(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Delivered(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn tc_2a_expected_seq_num_is_delivered() {
    let mut peer = logged_on();
    let order = peer.message("D", "11=ID|21=1|55=X|54=1|60=20261126-12:00:00|40=1|");
    peer.deliver(&order);
    assert_eq!(
        delivered(&peer.take()),
        ["35=D|34=2|11=ID|21=1|55=X|54=1|60=20261126-12:00:00|40=1"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn tc_2b_seq_num_too_high_is_queued_and_processed_after_the_gap_is_filled() {
    let mut peer = logged_on();
    let missing = peer.message("D", "11=A|");
    let ahead = peer.message("D", "11=B|");
    let further = peer.message("D", "11=C|");
    peer.deliver(&ahead);
    peer.deliver(&further);
    assert_eq!(
        peer.take(),
        [
            Seen::Event(Event::GapDetected {
                from: SeqNum::new(2),
                received: SeqNum::new(3)
            }),
            Seen::Sent("35=2|34=2|7=2|16=0".into()),
            // One ResendRequest for the whole gap, not one per message.
            Seen::Event(Event::GapDetected {
                from: SeqNum::new(2),
                received: SeqNum::new(4)
            }),
        ]
    );
    peer.deliver(&missing);
    assert_eq!(
        delivered(&peer.take()),
        ["35=D|34=2|11=A", "35=D|34=3|11=B", "35=D|34=4|11=C"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(5));
}

#[test]
fn tc_2c_seq_num_too_low_without_poss_dup_logs_out() {
    let mut peer = logged_on();
    let stale = peer.message_with_seq("0", 1, "");
    peer.deliver(&stale);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=5|34=2|58=MsgSeqNum too low, expecting 2 but received 1".into()),
            Seen::Disconnect(DisconnectReason::MsgSeqNumTooLow {
                expected: SeqNum::new(2),
                received: SeqNum::new(1)
            }),
        ]
    );
}

#[test]
fn tc_2d_garbled_message_is_ignored_without_a_seq_change() {
    let mut peer = logged_on();
    let mut garbled = peer.message_with_seq("0", 2, "");
    let n = garbled.len();
    garbled[n - 3] = if garbled[n - 3] == b'9' { b'0' } else { b'9' };
    peer.deliver(&garbled);
    assert!(matches!(&peer.take()[..], [Seen::Event(Event::Garbled(_))]));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
    let good = peer.message("0", "");
    peer.deliver(&good);
    assert_eq!(peer.take(), []);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn tc_3b_wrong_checksum_is_ignored_and_later_seen_as_a_gap() {
    let mut peer = logged_on();
    let mut bad = peer.message("D", "11=ID|");
    let n = bad.len();
    bad[n - 2] = if bad[n - 2] == b'9' { b'0' } else { b'9' };
    peer.deliver(&bad);
    assert!(matches!(&peer.take()[..], [Seen::Event(Event::Garbled(_))]));
    let next = peer.message("0", "");
    peer.deliver(&next);
    assert_eq!(peer.sent(), ["35=2|34=2|7=2|16=0"]);
}

#[test]
fn tc_3c_frame_with_a_wrong_body_length_is_ignored() {
    let mut peer = logged_on();
    let good = peer.message_with_seq("0", 2, "");
    let text = String::from_utf8(good).unwrap();
    let (head, rest) = text.split_once("\x019=").unwrap();
    let (length, tail) = rest.split_once('\x01').unwrap();
    let wrong: usize = length.parse::<usize>().unwrap() - 3;
    peer.deliver(format!("{head}\x019={wrong}\x01{tail}").as_bytes());
    assert!(matches!(&peer.take()[..], [Seen::Event(Event::Garbled(_))]));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn tc_2e_poss_dup_with_a_lower_seq_num_is_ignored() {
    let mut peer = logged_on();
    let time = peer.timestamp(Duration::from_secs(1), true);
    let dup = peer.message_with_seq("D", 1, &format!("43=Y|122={time}|11=ID|"));
    peer.deliver(&dup);
    assert_eq!(peer.take(), []);
    assert!(peer.session.is_connected());
}

#[test]
fn tc_2f_poss_dup_with_orig_sending_time_after_sending_time_is_rejected_then_logged_out() {
    let mut peer = logged_on();
    let later = peer.timestamp(Duration::from_secs(10), false);
    let dup = peer.message("D", &format!("43=Y|122={later}|11=ID|"));
    peer.deliver(&dup);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=3|34=2|45=2|58=SendingTime accuracy problem|372=D|373=10".into()),
            Seen::Event(Event::RejectSent {
                ref_seq: SeqNum::new(2),
                reason: SessionRejectReason::SendingTimeAccuracy,
                tag: None
            }),
            Seen::Sent("35=5|34=3".into()),
            Seen::Disconnect(DisconnectReason::SendingTimeAccuracy),
        ]
    );
}

#[test]
fn tc_2g_poss_dup_without_orig_sending_time_is_rejected_and_the_session_goes_on() {
    let mut peer = logged_on();
    let dup = peer.message("D", "43=Y|11=ID|");
    peer.deliver(&dup);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Required tag missing|371=122|372=D|373=1"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
    let next = peer.message("D", "11=ID2|");
    peer.deliver(&next);
    assert_eq!(delivered(&peer.take()), ["35=D|34=3|11=ID2"]);
}

#[test]
fn tc_2i_begin_string_mismatch_logs_out() {
    let mut peer = logged_on();
    let time = peer.timestamp(Duration::ZERO, false);
    let wrong = frame(
        "FIX.4.2",
        &format!("35=0|34=2|49={THEM}|52={time}|56={US}|"),
    );
    peer.deliver(&wrong);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=5|34=2|58=Incorrect BeginString".into()),
            Seen::Disconnect(DisconnectReason::IncorrectBeginString),
        ]
    );
}

#[test]
fn tc_2k_comp_id_mismatch_is_rejected_then_logged_out() {
    let mut peer = logged_on();
    let time = peer.timestamp(Duration::ZERO, false);
    let wrong = frame("FIX.4.4", &format!("35=0|34=2|49=OTHER|52={time}|56={US}|"));
    peer.deliver(&wrong);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=CompID problem|372=0|373=9", "35=5|34=3"]
    );
    assert!(!peer.session.is_connected());
}

#[test]
fn tc_2o_sending_time_out_of_tolerance_is_rejected_then_logged_out() {
    let mut peer = logged_on();
    let early = peer.timestamp(Duration::from_secs(121), true);
    let msg = frame(
        "FIX.4.4",
        &format!("35=0|34=2|49={THEM}|52={early}|56={US}|"),
    );
    peer.deliver(&msg);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=3|34=2|45=2|58=SendingTime accuracy problem|372=0|373=10".into()),
            Seen::Event(Event::RejectSent {
                ref_seq: SeqNum::new(2),
                reason: SessionRejectReason::SendingTimeAccuracy,
                tag: None
            }),
            Seen::Sent("35=5|34=3".into()),
            Seen::Disconnect(DisconnectReason::SendingTimeAccuracy),
        ]
    );
}

#[test]
fn tc_2q_invalid_msg_type_is_rejected() {
    let mut peer = logged_on();
    let msg = peer.message("*", "");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Invalid MsgType|372=*|373=11"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn tc_2t_first_three_fields_out_of_order_are_garbled() {
    let mut peer = logged_on();
    let time = peer.timestamp(Duration::ZERO, false);
    let wrong = frame(
        "FIX.4.4",
        &format!("34=2|35=0|49={THEM}|52={time}|56={US}|"),
    );
    peer.deliver(&wrong);
    assert!(matches!(&peer.take()[..], [Seen::Event(Event::Garbled(_))]));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn logout_is_honoured_whatever_its_seq_num() {
    let mut peer = logged_on();
    let logout = peer.message_with_seq("5", 10, "");
    peer.deliver(&logout);
    let seen = peer.take();
    assert_eq!(seen[1], Seen::Sent("35=5|34=2".into()), "{seen:?}");
    assert_eq!(seen[2], Seen::Disconnect(DisconnectReason::LoggedOut));
}

#[test]
fn message_too_large_disconnects_with_a_typed_reason() {
    let mut peer = logged_on();
    peer.deliver(b"8=FIX.4.4\x019=2147483648\x01");
    let seen = peer.take();
    assert!(
        matches!(
            &seen[..],
            [Seen::Disconnect(DisconnectReason::MessageTooLarge(_))]
        ),
        "{seen:?}"
    );
}

#[test]
fn out_of_order_queue_is_bounded() {
    let mut config = fixgate_core::SessionConfig::new(
        BeginString::Fix44,
        US,
        THEM,
        fixgate_core::Role::Acceptor,
    );
    config.max_queued_messages = 3;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    peer.next_seq = 3;
    for _ in 0..10 {
        let msg = peer.message("D", "11=X|");
        peer.deliver(&msg);
    }
    peer.take();
    let gap = peer.message_with_seq("D", 2, "11=GAP|");
    peer.deliver(&gap);
    // Three queued messages come after the gap; the rest arrive again through the resend.
    assert_eq!(delivered(&peer.take()).len(), 4);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(6));
}

#[test]
fn wrong_checksum_is_accepted_when_length_and_checksum_are_not_validated() {
    let mut config = fixgate_core::SessionConfig::new(
        BeginString::Fix44,
        US,
        THEM,
        fixgate_core::Role::Acceptor,
    );
    config.validate_length_and_checksum = false;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let mut order = peer.message("D", "11=ID|");
    let n = order.len();
    order[n - 2] = if order[n - 2] == b'9' { b'0' } else { b'9' };
    peer.deliver(&order);
    assert_eq!(delivered(&peer.take()), ["35=D|34=2|11=ID"]);
}

#[test]
fn tc_2g_poss_dup_below_the_expected_number_without_orig_sending_time_is_rejected() {
    let mut peer = logged_on();
    let order = peer.message("D", "11=ID|");
    peer.deliver(&order);
    peer.take();
    let dup = peer.message_with_seq("D", 2, "43=Y|11=ID|");
    peer.deliver(&dup);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Required tag missing|371=122|372=D|373=1"]
    );
    // The duplicate consumed nothing, and the session goes on.
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
    let next = peer.message("D", "11=ID2|");
    peer.deliver(&next);
    assert_eq!(delivered(&peer.take()), ["35=D|34=3|11=ID2"]);
}

#[test]
fn tc_2f_poss_dup_below_the_expected_number_with_a_later_orig_sending_time_logs_out() {
    let mut peer = logged_on();
    let order = peer.message("D", "11=ID|");
    peer.deliver(&order);
    peer.take();
    let later = peer.timestamp(Duration::from_secs(10), false);
    let dup = peer.message_with_seq("D", 2, &format!("43=Y|122={later}|11=ID|"));
    peer.deliver(&dup);
    assert_eq!(
        peer.sent(),
        [
            "35=3|34=2|45=2|58=SendingTime accuracy problem|372=D|373=10",
            "35=5|34=3"
        ]
    );
    assert!(!peer.session.is_connected());
}

/// An acceptor with `MaxUnsettledMessages = limit`, logged on with HeartBtInt `heart_bt_int`,
/// to which the counterparty has sent `orders` orders (`11=O0`, `11=O1`, …) in one read; what it
/// did in reply is not yet taken.
fn orders_beyond_the_limit(limit: usize, heart_bt_int: u64, orders: usize) -> ScriptedPeer {
    let mut config = fixgate_core::SessionConfig::new(
        BeginString::Fix44,
        US,
        THEM,
        fixgate_core::Role::Acceptor,
    );
    config.max_unsettled_messages = limit;
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(heart_bt_int);
    peer.deliver(&logon);
    peer.take();
    let orders: Vec<u8> = (0..orders)
        .flat_map(|i| peer.message("D", &format!("11=O{i}|")))
        .collect();
    peer.deliver(&orders);
    peer
}

/// Inbound flow control (`MaxUnsettledMessages`): the application never holds more than the
/// limit; what arrives beyond it waits undecoded, and the counterparty's silence meanwhile is ours,
/// so no TestRequest or heartbeat timeout comes of it.
#[test]
fn input_is_held_at_max_unsettled_messages_without_timing_the_counterparty_out() {
    let mut peer = orders_beyond_the_limit(3, 10, 5);
    let first = peer.take_actions();
    let held: Vec<_> = first
        .iter()
        .filter_map(|a| match a {
            fixgate_core::Action::Deliver(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        held.iter().map(|d| d.seq().get()).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert!(peer.session.is_input_held());

    // A minute with nothing decoded: our heartbeats go on, no TestRequest, no close.
    peer.wait(Duration::from_secs(60));
    let seen = peer.take();
    assert!(
        seen.iter()
            .all(|s| matches!(s, Seen::Sent(m) if m.starts_with("35=0|"))),
        "{seen:?}"
    );
    assert!(!seen.is_empty(), "our own heartbeats stop");

    // Each settlement lets one held message through, in order.
    peer.session.ack(peer.clock.now(), &held[0]).unwrap();
    assert_eq!(delivered(&peer.take()), ["35=D|34=5|11=O3"]);
    peer.session.ack(peer.clock.now(), &held[1]).unwrap();
    assert_eq!(delivered(&peer.take()), ["35=D|34=6|11=O4"]);
    assert!(peer.session.is_input_held(), "three unsettled again");
    peer.session.ack(peer.clock.now(), &held[2]).unwrap();
    assert!(!peer.session.is_input_held());
    // Reading again, the counterparty's clock restarted: a TestRequest after 1.2 × HeartBtInt.
    peer.wait(Duration::from_secs(11));
    assert!(!peer.sent().iter().any(|m| m.starts_with("35=1|")));
    peer.wait(Duration::from_secs(2));
    assert!(peer.sent().iter().any(|m| m.starts_with("35=1|")));
}

/// What was read while input was held is processed when the counterparty closes: it sent it
/// before closing (a Logout may be among it), and it is in hand.
#[test]
fn input_held_when_the_counterparty_closes_is_processed() {
    let mut peer = orders_beyond_the_limit(2, 30, 4);
    assert_eq!(delivered(&peer.take()).len(), 2);
    let now = peer.clock.now();
    peer.session.handle_disconnected(now);
    assert_eq!(
        delivered(&peer.take()),
        ["35=D|34=4|11=O2", "35=D|34=5|11=O3"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(6));
}

/// UTCTimestamp fractions (issue 20 item 5, DESIGN.md section 6): 0 to 9 digits and exactly 12
/// (picoseconds) are read; 10, 11, and 13 or more are an incorrect data format, as QuickFIX C++
/// and QuickFIX/J reject them.
#[test]
fn sending_time_fractions_of_0_to_9_or_12_digits_pass_others_are_incorrect_data_format() {
    for digits in 0..=15 {
        let mut peer = logged_on();
        let now = peer.timestamp(Duration::ZERO, true);
        let fraction = if digits == 0 {
            String::new()
        } else {
            format!(".{}", "0".repeat(digits))
        };
        let sending_time = format!("{}{fraction}", &now[..17]);
        let msg = frame(
            "FIX.4.4",
            &format!("35=0|34=2|49={THEM}|52={sending_time}|56={US}|"),
        );
        peer.deliver(&msg);
        let expected: &[&str] = if digits <= 9 || digits == 12 {
            &[]
        } else {
            &["35=3|34=2|45=2|58=Incorrect data format for value|371=52|372=0|373=6"]
        };
        assert_eq!(peer.sent(), expected, "{digits} fraction digits");
        assert!(peer.session.is_connected());
        assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
    }
}

#[test]
fn a_missing_sending_time_is_a_required_tag_missing() {
    let mut peer = logged_on();
    let msg = frame("FIX.4.4", &format!("35=0|34=2|49={THEM}|56={US}|"));
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Required tag missing|371=52|372=0|373=1"]
    );
}
