//! `NextExpectedMsgSeqNum <789>` on Logon, both ways (FIX 4.4 and FIXT.1.1, "Logon message
//! NextExpectedMsgSeqNum processing"), with `SendNextExpectedMsgSeqNum` (QuickFIX/J:
//! `EnableNextExpectedMsgSeqNum`) on.

use std::time::Duration;

use fixgate_core::codec::FieldWriter;
use fixgate_core::{
    BeginString, DisconnectReason, OutboundMessage, Role, SeqNum, Session, SessionConfig,
};
use fixgate_tests::clock::SimClock;
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US, brief};
use fixgate_tests::wire::frame;

fn config(role: Role) -> SessionConfig {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, role);
    config.set("EnableNextExpectedMsgSeqNum", "Y").unwrap();
    config
}

/// An acceptor that logged on (both sides at 1), sent orders 2 and 3, and lost the connection;
/// connected again, waiting for the next Logon.
fn acceptor_after_a_drop() -> ScriptedPeer {
    let mut peer = ScriptedPeer::with_config(config(Role::Acceptor));
    let logon = peer.message("A", "98=0|108=30|789=1|");
    peer.deliver(&logon);
    let now = peer.clock.now();
    for id in ["A", "B"] {
        let mut body = FieldWriter::new();
        body.str(11, id).char(54, b'1');
        peer.session
            .send(now, OutboundMessage::new(b"D", &body))
            .unwrap();
    }
    peer.session.handle_disconnected(now);
    peer.session.handle_connected(now);
    peer.take();
    peer
}

#[test]
fn acceptor_reply_says_the_number_after_the_logon_it_answers() {
    let mut peer = ScriptedPeer::with_config(config(Role::Acceptor));
    let logon = peer.message("A", "98=0|108=30|789=1|");
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30|789=2"]);
}

#[test]
fn acceptor_reply_to_a_reset_logon_says_two() {
    let mut peer = ScriptedPeer::with_config(config(Role::Acceptor));
    let logon = peer.message("A", "98=0|108=30|141=Y|789=1|");
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30|141=Y|789=2"]);
}

#[test]
fn what_the_counterparty_missed_goes_again_right_after_our_logon() {
    let mut peer = acceptor_after_a_drop();
    // It missed our 2 and 3.
    let logon = peer.message("A", "98=0|108=30|789=2|");
    peer.deliver(&logon);
    assert_eq!(
        peer.sent(),
        [
            "35=A|34=4|98=0|108=30|789=3",
            "35=D|34=2|43=Y|122=*|11=A|54=1",
            "35=D|34=3|43=Y|122=*|11=B|54=1",
        ]
    );
}

#[test]
fn a_counterparty_that_missed_nothing_gets_nothing_again() {
    let mut peer = acceptor_after_a_drop();
    let logon = peer.message("A", "98=0|108=30|789=4|");
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=4|98=0|108=30|789=3"]);
}

#[test]
fn next_expected_above_what_we_sent_is_refused_with_a_logout() {
    let mut peer = acceptor_after_a_drop();
    let logon = peer.message("A", "98=0|108=30|789=5|");
    peer.deliver(&logon);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent(
                "35=5|34=4|58=NextExpectedMsgSeqNum(789) too high, expecting at most 4 but \
                 received 5"
                    .into()
            ),
            Seen::Disconnect(DisconnectReason::NextExpectedMsgSeqNumTooHigh {
                most: SeqNum::new(4),
                received: SeqNum::new(5),
            }),
        ]
    );
}

#[test]
fn logon_too_high_is_not_asked_for_when_both_logons_carry_next_expected() {
    let mut peer = ScriptedPeer::with_config(config(Role::Acceptor));
    peer.next_seq = 4;
    let logon = peer.message("A", "98=0|108=30|789=1|");
    peer.deliver(&logon);
    // Our reply says we expect 1: the counterparty resends 1 to 3 by itself.
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30|789=1"]);
    let time = peer.timestamp(Duration::ZERO, false);
    let gap_fill = peer.message_with_seq("4", 1, &format!("43=Y|122={time}|36=4|123=Y|"));
    peer.deliver(&gap_fill);
    // The gap is closed and the Logon taken.
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(5));
    peer.wait(Duration::from_secs(10));
    assert!(!peer.sent().iter().any(|m| m.starts_with("35=2|")));
}

#[test]
fn a_gap_the_counterparty_does_not_fill_is_asked_for_after_resend_request_timeout() {
    let mut peer = ScriptedPeer::with_config(config(Role::Acceptor));
    peer.next_seq = 4;
    let logon = peer.message("A", "98=0|108=30|789=1|");
    peer.deliver(&logon);
    peer.take();
    peer.wait(Duration::from_secs(9));
    assert!(!peer.sent().iter().any(|m| m.starts_with("35=2|")));
    peer.wait(Duration::from_secs(1));
    assert_eq!(peer.sent(), ["35=2|34=2|7=1|16=0"]);
}

#[test]
fn without_the_setting_an_incoming_next_expected_is_ignored() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.next_seq = 4;
    let logon = peer.message("A", "98=0|108=30|789=7|");
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30", "35=2|34=2|7=1|16=0"]);
}

/// An initiator with orders 2 and 3 in its store from an earlier connection, connected again;
/// what it sent on each connection.
fn initiator_after_a_drop() -> (Session, SimClock, [Vec<String>; 2]) {
    let clock = SimClock::new();
    let store =
        fixgate_core::MemoryStore::new(fixgate_core::UtcTimestamp::from_system_time(clock.utc()));
    let mut session = Session::new(config(Role::Initiator), Box::new(store), clock.now()).unwrap();
    let now = clock.now();
    session.handle_connected(now);
    session.handle_input(now, &reply(&clock, 1, 2));
    let first = sent(&mut session);
    for id in ["A", "B"] {
        let mut body = FieldWriter::new();
        body.str(11, id).char(54, b'1');
        session
            .send(now, OutboundMessage::new(b"D", &body))
            .unwrap();
    }
    sent(&mut session);
    session.handle_disconnected(now);
    session.handle_connected(now);
    let second = sent(&mut session);
    (session, clock, [first, second])
}

/// The acceptor's Logon reply, numbered `seq`, expecting our `next_expected`.
fn reply(clock: &SimClock, seq: u64, next_expected: u64) -> Vec<u8> {
    let time = fixgate_core::UtcTimestamp::from_system_time(clock.utc())
        .format(fixgate_core::TimestampPrecision::Millis);
    frame(
        "FIX.4.4",
        &format!(
            "35=A|34={seq}|49={THEM}|52={}|56={US}|98=0|108=30|789={next_expected}|",
            time.as_str()
        ),
    )
}

fn sent(session: &mut Session) -> Vec<String> {
    std::iter::from_fn(|| session.poll_action())
        .filter_map(|action| match action {
            fixgate_core::Action::Send(frame) => Some(brief(&frame)),
            _ => None,
        })
        .collect()
}

#[test]
fn initiator_logon_says_the_next_number_it_expects() {
    let (_, _, [first, second]) = initiator_after_a_drop();
    assert_eq!(first, ["35=A|34=1|98=0|108=30|789=1"]);
    assert_eq!(second, ["35=A|34=4|98=0|108=30|789=2"]);
}

#[test]
fn initiator_resends_what_the_acceptor_missed_when_its_reply_says_so() {
    let (mut session, clock, _) = initiator_after_a_drop();
    session.handle_input(clock.now(), &reply(&clock, 2, 2));
    assert_eq!(
        sent(&mut session),
        [
            "35=D|34=2|43=Y|122=*|11=A|54=1",
            "35=D|34=3|43=Y|122=*|11=B|54=1",
        ]
    );
}

#[test]
fn initiator_refuses_a_reply_that_expects_more_than_it_sent() {
    let (mut session, clock, _) = initiator_after_a_drop();
    session.handle_input(clock.now(), &reply(&clock, 2, 6));
    assert_eq!(
        sent(&mut session),
        ["35=5|34=5|58=NextExpectedMsgSeqNum(789) too high, expecting at most 5 but received 6"]
    );
}

#[test]
fn initiator_answers_a_reply_too_low_with_a_logout_not_held_behind_its_logon() {
    let (mut session, clock, _) = initiator_after_a_drop();
    session.handle_input(clock.now(), &reply(&clock, 1, 5));
    assert_eq!(
        sent(&mut session),
        ["35=5|34=5|58=MsgSeqNum too low, expecting 2 but received 1"]
    );
}

#[test]
fn next_expected_zero_is_a_malformed_logon() {
    let mut peer = ScriptedPeer::with_config(config(Role::Acceptor));
    let logon = peer.message("A", "98=0|108=30|789=0|");
    peer.deliver(&logon);
    assert_eq!(
        peer.take(),
        [Seen::Disconnect(DisconnectReason::LogonRefused(
            fixgate_core::LogonRefusal::Malformed
        ))]
    );
}

#[test]
fn a_reset_logon_expecting_more_than_one_is_refused_before_anything_is_reset() {
    let mut peer = acceptor_after_a_drop();
    let logon = peer.message("A", "98=0|108=30|141=Y|789=4|");
    peer.deliver(&logon);
    assert_eq!(
        peer.sent(),
        ["35=5|34=4|58=NextExpectedMsgSeqNum(789) too high, expecting at most 1 but received 4"]
    );
    // The refused Logon reset nothing: the numbers go on from where they were.
    assert_eq!(peer.session.next_sender_seq(), SeqNum::new(5));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}
