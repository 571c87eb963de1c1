//! FIX session test cases 1B, 1S and 2S: the Logon exchange.

use std::time::Duration;

use fixgate_core::{
    Action, BeginString, DisconnectReason, Event, LogonRefusal, MemoryStore, Role, SeqNum, Session,
    SessionConfig, SessionState, UtcTimestamp,
};
use fixgate_tests::clock::SimClock;
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US, brief};
use fixgate_tests::wire::frame;

fn refused(reason: LogonRefusal) -> Vec<Seen> {
    vec![Seen::Disconnect(DisconnectReason::LogonRefused(reason))]
}

#[test]
fn tc_1s_a_valid_logon_is_answered_with_our_logon() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=A|34=1|98=0|108=30".into()),
            Seen::Event(Event::LoggedOn { reset: false }),
        ]
    );
    assert_eq!(peer.session.state(), SessionState::Active);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
    assert_eq!(peer.session.heart_bt_int(), Duration::from_secs(30));
}

#[test]
fn tc_1s_c_logon_with_seq_too_high_is_answered_then_gap_requested() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.next_seq = 5;
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30", "35=2|34=2|7=1|16=0"]);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(1));
}

/// An acceptor that expects 3, answered the counterparty's Logon 34=5, and asked for the gap.
fn logged_on_with_3_and_4_missing() -> ScriptedPeer {
    let clock = SimClock::new();
    let mut store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
    fixgate_core::MessageStore::set_next_target_seq(&mut store, SeqNum::new(3)).unwrap();
    let config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    let mut peer = ScriptedPeer::with_store(config, Box::new(store), clock);
    peer.next_seq = 5;
    let logon = peer.logon(30);
    peer.deliver(&logon);
    peer
}

#[test]
fn logon_too_high_counts_as_received_once_the_gap_below_it_is_filled() {
    // QuickFIX's `nextQueued`: Logon 34=5 with 3 and 4 missing, our 7=3, their GapFill 34=3
    // 36=5; the queued Logon is taken and 6 is expected, with no second ResendRequest.
    let mut peer = logged_on_with_3_and_4_missing();
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30", "35=2|34=2|7=3|16=0"]);
    let time = peer.timestamp(Duration::ZERO, false);
    let gap_fill = peer.message_with_seq("4", 3, &format!("43=Y|122={time}|36=5|123=Y|"));
    peer.deliver(&gap_fill);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(6));
    peer.wait(Duration::from_secs(10));
    assert!(
        !peer.sent().iter().any(|m| m.starts_with("35=2|")),
        "the gap is closed: nothing to ask again"
    );
}

#[test]
fn resend_request_ahead_of_the_gap_is_served_and_its_number_taken_in_turn() {
    // Logon 34=5 with 3 and 4 missing, then their ResendRequest 34=6. Their resend brings 3 and
    // 4 again and gap-fills from their Logon: 34=5 36=7. That GapFill is below the expected
    // number once the Logon is taken, so 6 must already count as received.
    let mut peer = logged_on_with_3_and_4_missing();
    let request = peer.message("2", "7=1|16=0|");
    peer.deliver(&request);
    peer.take();
    let time = peer.timestamp(Duration::ZERO, false);
    for seq in [3, 4] {
        let resent = peer.message_with_seq("D", seq, &format!("43=Y|122={time}|11=R{seq}|"));
        peer.deliver(&resent);
    }
    let gap_fill = peer.message_with_seq("4", 5, &format!("43=Y|122={time}|36=7|123=Y|"));
    peer.deliver(&gap_fill);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(7));
}

#[test]
fn tc_1s_c_fix40_requests_the_gap_to_999999() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix40);
    peer.next_seq = 3;
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(
        peer.sent(),
        ["35=A|34=1|98=0|108=30", "35=2|34=2|7=1|16=999999"]
    );
}

#[test]
fn tc_1s_d_logon_with_wrong_begin_string_closes_silently() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let wrong = frame(
        "FIX.4.2",
        &format!(
            "35=A|34=1|49={THEM}|52={}|56={US}|98=0|108=30|",
            peer.timestamp(Duration::ZERO, false)
        ),
    );
    peer.deliver(&wrong);
    assert_eq!(peer.take(), refused(LogonRefusal::WrongBeginString));
    assert_eq!(peer.session.state(), SessionState::WaitForLogon);
}

#[test]
fn tc_1s_d_logon_with_wrong_comp_ids_closes_silently() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let time = peer.timestamp(Duration::ZERO, false);
    let wrong = frame(
        "FIX.4.4",
        &format!("35=A|34=1|49=OTHER|52={time}|56={US}|98=0|108=30|"),
    );
    peer.deliver(&wrong);
    assert_eq!(peer.take(), refused(LogonRefusal::CompIdMismatch));
}

#[test]
fn tc_1s_d_logon_without_heart_bt_int_closes_silently() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let logon = peer.message("A", "98=0|");
    peer.deliver(&logon);
    assert_eq!(peer.take(), refused(LogonRefusal::Malformed));
}

#[test]
fn tc_1s_d_logon_with_bad_heart_bt_int_closes_silently() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let logon = peer.message("A", "98=0|108=-5|");
    peer.deliver(&logon);
    assert_eq!(peer.take(), refused(LogonRefusal::Malformed));
}

#[test]
fn tc_1s_d_logon_with_sending_time_out_of_range_closes_silently() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let late = peer.timestamp(Duration::from_secs(121), true);
    let logon = frame(
        "FIX.4.4",
        &format!("35=A|34=1|49={THEM}|52={late}|56={US}|98=0|108=30|"),
    );
    peer.deliver(&logon);
    assert_eq!(peer.take(), refused(LogonRefusal::SendingTime));
}

/// Before the Logon a timestamp with too many fraction digits closes silently (DESIGN.md
/// sections 5 and 6); 12 digits are read.
#[test]
fn logon_with_ten_fraction_digits_in_sending_time_closes_silently() {
    for (digits, answered) in [(10, false), (12, true)] {
        let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
        let now = peer.timestamp(Duration::ZERO, true);
        let sending_time = format!("{}.{}", &now[..17], "0".repeat(digits));
        let logon = frame(
            "FIX.4.4",
            &format!("35=A|34=1|49={THEM}|52={sending_time}|56={US}|98=0|108=30|"),
        );
        peer.deliver(&logon);
        if answered {
            assert_eq!(
                peer.session.state(),
                SessionState::Active,
                "{digits} digits"
            );
        } else {
            assert_eq!(peer.take(), refused(LogonRefusal::Malformed));
        }
    }
}

#[test]
fn tc_1s_d_fixt_logon_without_default_appl_ver_id_closes_silently() {
    let mut config = SessionConfig::new(BeginString::Fixt11, US, THEM, Role::Acceptor);
    config.default_appl_ver_id = Some("9".into());
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.message("A", "98=0|108=30|");
    peer.deliver(&logon);
    assert_eq!(peer.take(), refused(LogonRefusal::MissingDefaultApplVerId));
}

#[test]
fn fixt_logon_reply_carries_default_appl_ver_id() {
    let mut config = SessionConfig::new(BeginString::Fixt11, US, THEM, Role::Acceptor);
    config.default_appl_ver_id = Some("9".into());
    let mut peer = ScriptedPeer::with_config(config);
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30|1137=9"]);
}

#[test]
fn tc_1s_d_garbled_logon_closes_silently() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let mut logon = peer.logon(30);
    let n = logon.len();
    logon[n - 2] ^= 1; // CheckSum digit
    peer.deliver(&logon);
    assert_eq!(peer.take(), refused(LogonRefusal::Garbled));
}

#[test]
fn tc_1s_e_first_message_not_a_logon_closes_silently() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let heartbeat = peer.message("0", "");
    peer.deliver(&heartbeat);
    assert_eq!(peer.take(), refused(LogonRefusal::NotLogon));
}

#[test]
fn invalid_logon_can_be_refused_with_an_unstored_logout() {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.send_logout_on_invalid_logon = true;
    let mut peer = ScriptedPeer::with_config(config);
    let heartbeat = peer.message("0", "");
    peer.deliver(&heartbeat);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=5|34=1|58=Logon rejected".into()),
            Seen::Disconnect(DisconnectReason::LogonRefused(LogonRefusal::NotLogon)),
        ]
    );
    assert_eq!(
        peer.session.next_sender_seq(),
        SeqNum::new(1),
        "no number consumed"
    );
}

#[test]
fn reset_seq_num_flag_resets_both_sides_and_is_echoed() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let msg = peer.message("0", "");
    peer.deliver(&msg);
    peer.session.disconnect(peer.clock.now()).unwrap();
    peer.session.handle_connected(peer.clock.now());
    peer.take();
    peer.next_seq = 1;
    let logon = peer.message("A", "98=0|108=30|141=Y|");
    peer.deliver(&logon);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=A|34=1|98=0|108=30|141=Y".into()),
            Seen::Event(Event::LoggedOn { reset: true }),
        ]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn refused_logon_with_reset_flag_changes_no_state() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let msg = peer.message("0", "");
    peer.deliver(&msg);
    peer.session.disconnect(peer.clock.now()).unwrap();
    peer.session.handle_connected(peer.clock.now());
    peer.take();
    let (sender, target) = (
        peer.session.next_sender_seq(),
        peer.session.next_target_seq(),
    );
    let time = peer.timestamp(Duration::ZERO, false);
    let bad = frame(
        "FIX.4.4",
        &format!("35=A|34=1|49=INTRUDER|52={time}|56={US}|98=0|108=30|141=Y|"),
    );
    peer.deliver(&bad);
    assert_eq!(peer.take(), refused(LogonRefusal::CompIdMismatch));
    assert_eq!(
        (
            peer.session.next_sender_seq(),
            peer.session.next_target_seq()
        ),
        (sender, target)
    );
}

#[test]
fn logon_seq_too_low_is_answered_with_logout() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    let hb = peer.message("0", "");
    peer.deliver(&hb);
    peer.session.disconnect(peer.clock.now()).unwrap();
    peer.session.handle_connected(peer.clock.now());
    peer.take();
    peer.next_seq = 1;
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=5|34=2|58=MsgSeqNum too low, expecting 3 but received 1".into()),
            Seen::Disconnect(DisconnectReason::MsgSeqNumTooLow {
                expected: SeqNum::new(3),
                received: SeqNum::new(1)
            }),
        ]
    );
}

#[test]
fn logon_timeout_closes_a_silent_connection() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.wait(Duration::from_secs(9));
    assert_eq!(peer.take(), []);
    peer.wait(Duration::from_secs(1));
    assert_eq!(
        peer.take(),
        [Seen::Disconnect(DisconnectReason::LogonTimeout)]
    );
}

#[test]
fn slowloris_logon_is_closed_at_logon_timeout() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let logon = peer.logon(30);
    for &byte in &logon[..logon.len() - 1] {
        peer.deliver(&[byte]);
        peer.wait(Duration::from_millis(200));
    }
    assert!(
        peer.take()
            .contains(&Seen::Disconnect(DisconnectReason::LogonTimeout))
    );
}

fn initiator() -> (Session, SimClock) {
    let clock = SimClock::new();
    let config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Initiator);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
    let mut session = Session::new(config, Box::new(store), clock.now()).unwrap();
    session.handle_connected(clock.now());
    (session, clock)
}

fn sent(session: &mut Session) -> Vec<String> {
    std::iter::from_fn(|| session.poll_action())
        .filter_map(|a| match a {
            Action::Send(bytes) => Some(brief(&bytes)),
            _ => None,
        })
        .collect()
}

fn reply(clock: &SimClock, seq: u64, extra: &str) -> Vec<u8> {
    let time = UtcTimestamp::from_system_time(clock.utc())
        .format(fixgate_core::TimestampPrecision::Millis);
    frame(
        "FIX.4.4",
        &format!(
            "35=A|34={seq}|49={THEM}|52={}|56={US}|98=0|108=30|{extra}",
            time.as_str()
        ),
    )
}

#[test]
fn tc_1b_initiator_sends_logon_and_accepts_a_valid_reply() {
    let (mut session, clock) = initiator();
    assert_eq!(sent(&mut session), ["35=A|34=1|98=0|108=30"]);
    assert_eq!(session.state(), SessionState::LogonSent);
    session.handle_input(clock.now(), &reply(&clock, 1, ""));
    let actions: Vec<_> = std::iter::from_fn(|| session.poll_action()).collect();
    assert!(
        matches!(
            &actions[..],
            [Action::Event(Event::LoggedOn { reset: false })]
        ),
        "{actions:?}"
    );
    assert_eq!(session.state(), SessionState::Active);
}

#[test]
fn tc_1b_initiator_requests_the_gap_when_the_reply_is_too_high() {
    let (mut session, clock) = initiator();
    sent(&mut session);
    session.handle_input(clock.now(), &reply(&clock, 4, ""));
    assert_eq!(sent(&mut session), ["35=2|34=2|7=1|16=0"]);
}

#[test]
fn initiator_takes_a_reply_too_high_once_the_gap_below_it_is_filled() {
    let (mut session, clock) = initiator();
    sent(&mut session);
    session.handle_input(clock.now(), &reply(&clock, 4, ""));
    assert_eq!(sent(&mut session), ["35=2|34=2|7=1|16=0"]);
    let time = UtcTimestamp::from_system_time(clock.utc())
        .format(fixgate_core::TimestampPrecision::Millis);
    let gap_fill = frame(
        "FIX.4.4",
        &format!(
            "35=4|34=1|43=Y|49={THEM}|52={t}|56={US}|122={t}|36=4|123=Y|",
            t = time.as_str()
        ),
    );
    session.handle_input(clock.now(), &gap_fill);
    assert_eq!(session.next_target_seq(), SeqNum::new(5));
}

#[test]
fn tc_1b_initiator_disconnects_on_a_reply_that_is_not_a_logon() {
    let (mut session, clock) = initiator();
    sent(&mut session);
    let time = UtcTimestamp::from_system_time(clock.utc())
        .format(fixgate_core::TimestampPrecision::Millis);
    let heartbeat = frame(
        "FIX.4.4",
        &format!("35=0|34=1|49={THEM}|52={}|56={US}|", time.as_str()),
    );
    session.handle_input(clock.now(), &heartbeat);
    let actions: Vec<_> = std::iter::from_fn(|| session.poll_action()).collect();
    assert!(matches!(
        &actions[..],
        [Action::Disconnect(DisconnectReason::LogonRefused(
            LogonRefusal::NotLogon
        ))]
    ));
    assert_eq!(session.state(), SessionState::Disconnected);
}

#[test]
fn tc_1b_initiator_disconnects_on_an_invalid_reply() {
    let (mut session, clock) = initiator();
    sent(&mut session);
    session.handle_input(
        clock.now(),
        &frame("FIX.4.4", "35=A|34=1|49=TW|56=ISLD|98=0|108=30|"),
    );
    let actions: Vec<_> = std::iter::from_fn(|| session.poll_action()).collect();
    assert!(
        matches!(
            &actions[..],
            [Action::Disconnect(DisconnectReason::LogonRefused(_))]
        ),
        "{actions:?}"
    );
}

/// An acceptor refuses in silence (unknown CompID, wrong credentials, an address not allowed):
/// the initiator's connection ends with the Logon unanswered, and says so.
#[test]
fn initiator_whose_logon_is_closed_unanswered_says_so() {
    let (mut session, clock) = initiator();
    sent(&mut session);
    session.handle_disconnected(clock.now());
    let actions: Vec<_> = std::iter::from_fn(|| session.poll_action()).collect();
    assert!(
        matches!(
            &actions[..],
            [Action::Disconnect(DisconnectReason::LogonUnanswered)]
        ),
        "{actions:?}"
    );
    assert_eq!(session.state(), SessionState::Disconnected);
}

#[test]
fn logon_carries_configured_extra_fields() {
    let clock = SimClock::new();
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Initiator);
    config.logon_fields = vec![(553, "user".into()), (554, "secret".into())];
    let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
    let mut session = Session::new(config, Box::new(store), clock.now()).unwrap();
    session.handle_connected(clock.now());
    assert_eq!(
        sent(&mut session),
        ["35=A|34=1|98=0|108=30|553=user|554=secret"]
    );
}

#[test]
fn logon_can_carry_next_expected_msg_seq_num() {
    let clock = SimClock::new();
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Initiator);
    config.set("SendNextExpectedMsgSeqNum", "Y").unwrap();
    let mut store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
    fixgate_core::MessageStore::set_next_target_seq(&mut store, SeqNum::new(42)).unwrap();
    let mut session = Session::new(config, Box::new(store), clock.now()).unwrap();
    session.handle_connected(clock.now());
    assert_eq!(sent(&mut session), ["35=A|34=1|98=0|108=30|789=42"]);
}

#[test]
fn application_logon_check_can_refuse() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.session
        .set_logon_check(Box::new(|logon| logon.get(554) == Some(&b"secret"[..])));
    let wrong = peer.message("A", "98=0|108=30|553=user|554=guess|");
    peer.deliver(&wrong);
    assert_eq!(peer.take(), refused(LogonRefusal::RefusedByApplication));
    peer.session.handle_connected(peer.clock.now());
    peer.next_seq = 1;
    let right = peer.message("A", "98=0|108=30|553=user|554=secret|");
    peer.deliver(&right);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30"]);
}
