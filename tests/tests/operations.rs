//! Operator commands (DESIGN.md section 7): setting sequence numbers, SequenceReset-Reset, and the
//! in-session reset through Logon 141=Y.

use fixgate_core::{BeginString, Event, SendError, SeqNum};
use fixgate_tests::peer::{ScriptedPeer, Seen};

fn logged_on() -> ScriptedPeer {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    peer
}

#[test]
fn set_next_sequence_numbers_is_reported() {
    let mut peer = logged_on();
    let now = peer.clock.now();
    peer.session
        .set_next_sender_seq(now, SeqNum::new(100))
        .unwrap();
    peer.session
        .set_next_target_seq(now, SeqNum::new(50))
        .unwrap();
    assert_eq!(
        peer.take(),
        [
            Seen::Event(Event::SequenceNumbersChanged {
                next_sender: SeqNum::new(100),
                next_target: SeqNum::new(2)
            }),
            Seen::Event(Event::SequenceNumbersChanged {
                next_sender: SeqNum::new(100),
                next_target: SeqNum::new(50)
            }),
        ]
    );
    let hb = peer.message_with_seq("1", 50, "112=X|");
    peer.deliver(&hb);
    assert_eq!(peer.sent(), ["35=0|34=100|112=X"]);
}

#[test]
fn tc_9_sequence_reset_reset_moves_our_number_forward() {
    let mut peer = logged_on();
    let now = peer.clock.now();
    peer.session
        .send_sequence_reset(now, SeqNum::new(10))
        .unwrap();
    assert_eq!(peer.sent(), ["35=4|34=2|36=10|123=N"]);
    assert_eq!(peer.session.next_sender_seq(), SeqNum::new(10));
    assert_eq!(
        peer.session.send_sequence_reset(now, SeqNum::new(5)),
        Err(SendError::SeqNumNotAhead {
            next: SeqNum::new(10),
            new_seq: SeqNum::new(5)
        })
    );
}

#[test]
fn tc_9_reset_seq_num_exchanges_logons_with_the_flag() {
    let mut peer = logged_on();
    let now = peer.clock.now();
    peer.session.reset_seq_num(now).unwrap();
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30|141=Y"]);
    peer.next_seq = 1;
    let reply = peer.message("A", "98=0|108=30|141=Y|");
    peer.deliver(&reply);
    assert_eq!(
        peer.sent(),
        Vec::<String>::new(),
        "their Logon answers ours"
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
    assert_eq!(peer.session.next_sender_seq(), SeqNum::new(2));
}

#[test]
fn counterparty_reset_logon_while_logged_on_is_answered() {
    let mut peer = logged_on();
    let order = peer.message("D", "11=X|");
    peer.deliver(&order);
    peer.take();
    peer.next_seq = 1;
    let reset = peer.message("A", "98=0|108=30|141=Y|");
    peer.deliver(&reset);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30|141=Y"]);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}
