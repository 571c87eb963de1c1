//! FIX session test cases 12 and 13: the Logout exchange.

use std::time::Duration;

use fixgate_core::{
    BeginString, DisconnectReason, Event, Role, SendError, SeqNum, SessionConfig, SessionState,
};
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US};

fn logged_on() -> ScriptedPeer {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    peer.log_on();
    peer
}

#[test]
fn tc_12_logout_we_start_is_closed_by_the_reply() {
    let mut peer = logged_on();
    peer.session
        .logout(peer.clock.now(), Some("end of day"))
        .unwrap();
    assert_eq!(peer.sent(), ["35=5|34=2|58=end of day"]);
    assert_eq!(peer.session.state(), SessionState::LogoutSent);
    let reply = peer.message("5", "");
    peer.deliver(&reply);
    assert_eq!(
        peer.take(),
        [
            Seen::Event(Event::LogoutReceived { text: None }),
            Seen::Disconnect(DisconnectReason::LoggedOut)
        ]
    );
    assert_eq!(peer.session.state(), SessionState::WaitForLogon);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn tc_12_logout_we_start_times_out_without_a_reply() {
    let mut peer = logged_on();
    peer.session.logout(peer.clock.now(), None).unwrap();
    peer.take();
    peer.wait(Duration::from_secs(1));
    assert_eq!(peer.take(), []);
    peer.wait(Duration::from_secs(1));
    assert_eq!(
        peer.take(),
        [Seen::Disconnect(DisconnectReason::LogoutTimeout)]
    );
}

#[test]
fn tc_13_unsolicited_logout_is_answered_then_closed() {
    let mut peer = logged_on();
    let logout = peer.message("5", "58=bye|");
    peer.deliver(&logout);
    let seen = peer.take();
    assert!(
        matches!(&seen[0], Seen::Event(Event::LogoutReceived { text: Some(t) }) if &t[..] == b"bye")
    );
    assert_eq!(
        seen[1..],
        [
            Seen::Sent("35=5|34=2".into()),
            Seen::Disconnect(DisconnectReason::LoggedOut)
        ]
    );
}

#[test]
fn tc_13_logout_during_a_resend_is_answered_after_it() {
    let mut peer = logged_on();
    let resend = peer.message("2", "7=1|16=0|");
    let logout = peer.message("5", "");
    peer.deliver(&[resend, logout].concat());
    let sent = peer.sent();
    assert_eq!(
        sent.first().map(String::as_str),
        Some("35=4|34=1|43=Y|122=*|36=2|123=Y")
    );
    assert_eq!(sent.last().map(String::as_str), Some("35=5|34=2"));
}

#[test]
fn logout_needs_a_logged_on_session() {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    assert_eq!(
        peer.session.logout(peer.clock.now(), None),
        Err(SendError::NotLoggedOn)
    );
}

#[test]
fn reset_on_logout_resets_both_numbers_after_the_exchange() {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.reset_on_logout = true;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    peer.session.logout(peer.clock.now(), None).unwrap();
    let reply = peer.message("5", "");
    peer.deliver(&reply);
    assert_eq!(peer.session.next_sender_seq(), SeqNum::new(1));
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(1));
}

#[test]
fn every_state_change_is_reported_in_order_when_asked() {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.report_state_changes = true;
    let mut peer = ScriptedPeer::with_config(config);
    let changes = |seen: Vec<Seen>| -> Vec<(SessionState, SessionState)> {
        seen.into_iter()
            .filter_map(|s| match s {
                Seen::Event(Event::StateChanged { from, to }) => Some((from, to)),
                _ => None,
            })
            .collect()
    };
    // Logon and Logout in one input: the Active state lasts no time, and is reported still.
    let mut both = peer.logon(30);
    both.extend(peer.message("5", ""));
    peer.deliver(&both);
    assert_eq!(
        changes(peer.take()),
        [
            (SessionState::WaitForLogon, SessionState::Active),
            (SessionState::Active, SessionState::WaitForLogon),
        ]
    );
    peer.session.handle_connected(peer.clock.now());
    peer.collect();
    peer.log_on();
    peer.session.logout(peer.clock.now(), None).unwrap();
    peer.session.finalize(peer.clock.now());
    peer.collect();
    assert_eq!(
        changes(peer.take()),
        [
            (SessionState::Active, SessionState::LogoutSent),
            // Finalizing drops the connection first.
            (SessionState::LogoutSent, SessionState::WaitForLogon),
            (SessionState::WaitForLogon, SessionState::Finalized),
        ]
    );
}

#[test]
fn state_changes_are_not_reported_by_default() {
    let mut peer = logged_on();
    peer.session.logout(peer.clock.now(), None).unwrap();
    peer.collect();
    assert!(
        !peer
            .take()
            .iter()
            .any(|s| matches!(s, Seen::Event(Event::StateChanged { .. })))
    );
}
