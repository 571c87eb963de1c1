//! Garbled messages after logon with QuickFIX/J's settings: `RejectGarbledMessage` answers them
//! with a Reject, `ValidateChecksum=N` lets a wrong CheckSum through. The spec's default, to
//! ignore them, is in `receive.rs` (test cases 2d, 3b, 3c).

use fixgate_core::{BeginString, Event, Role, SeqNum, SessionConfig};
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US};
use fixgate_tests::wire::{with_wrong_body_length, with_wrong_checksum};

fn logged_on(settings: &[(&str, &str)]) -> ScriptedPeer {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    for (key, value) in settings {
        config.set(key, value).unwrap();
    }
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    peer
}

/// QuickFIX/J's acceptance test `RejectGarbledMessage`: each garbled message is rejected, and
/// its number consumed, so no ResendRequest follows.
#[test]
fn reject_garbled_message_rejects_a_bad_checksum_and_consumes_its_number() {
    let mut peer = logged_on(&[("RejectGarbledMessage", "Y")]);
    let heartbeat = peer.message("0", "");
    peer.deliver(&with_wrong_checksum(&heartbeat));
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Message failed basic validity check|372=0"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
    let good = peer.message("0", "");
    peer.deliver(&good);
    assert_eq!(peer.take(), []);
    let order = peer.message("D", "11=ID|21=3|40=1|54=1|55=INTC|");
    peer.deliver(&with_wrong_checksum(&order));
    assert_eq!(
        peer.sent(),
        ["35=3|34=3|45=4|58=Message failed basic validity check|372=D"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(5));
}

#[test]
fn reject_garbled_message_rejects_a_wrong_body_length_too() {
    let mut peer = logged_on(&[("RejectGarbledMessage", "Y")]);
    let heartbeat = peer.message("0", "");
    peer.deliver(&with_wrong_body_length(&heartbeat));
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Message failed basic validity check|372=0"]
    );
}

#[test]
fn reject_garbled_message_does_not_consume_a_number_ahead_of_the_expected_one() {
    let mut peer = logged_on(&[("RejectGarbledMessage", "Y")]);
    let ahead = peer.message_with_seq("0", 5, "");
    peer.deliver(&with_wrong_checksum(&ahead));
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=5|58=Message failed basic validity check|372=0"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn validate_checksum_n_accepts_a_wrong_checksum() {
    let mut peer = logged_on(&[("ValidateChecksum", "N")]);
    let heartbeat = peer.message("0", "");
    peer.deliver(&with_wrong_checksum(&heartbeat));
    assert_eq!(peer.take(), []);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn validate_checksum_n_still_checks_the_body_length() {
    let mut peer = logged_on(&[("ValidateChecksum", "N")]);
    let heartbeat = peer.message("0", "");
    peer.deliver(&with_wrong_body_length(&heartbeat));
    assert!(matches!(
        &peer.take()[..],
        [Seen::Event(Event::Garbled(
            fixgate_core::codec::DecodeError::BodyLengthMismatch { .. }
        ))]
    ));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn a_garbled_message_that_fills_a_gap_releases_what_waited_behind_it() {
    let mut peer = logged_on(&[("RejectGarbledMessage", "Y")]);
    let ahead = peer.message_with_seq("D", 3, "11=AHEAD|");
    peer.deliver(&ahead);
    peer.take();
    let missing = peer.message_with_seq("0", 2, "");
    peer.deliver(&with_wrong_checksum(&missing));
    let delivered = peer.delivered_and_ack();
    assert_eq!(delivered.len(), 1, "the queued order goes on");
    assert_eq!(delivered[0].seq(), SeqNum::new(3));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(4));
}
