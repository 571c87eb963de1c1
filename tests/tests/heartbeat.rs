//! FIX session test cases 4 to 7: heartbeats, TestRequests, and a received Reject.

use std::time::Duration;

use bytes::Bytes;
use fixgate_core::{BeginString, DisconnectReason, Event, SeqNum};
use fixgate_tests::peer::{ScriptedPeer, Seen};

fn logged_on(heart_bt_int: u64) -> ScriptedPeer {
    let mut peer = ScriptedPeer::acceptor(BeginString::Fix44);
    let logon = peer.logon(heart_bt_int);
    peer.deliver(&logon);
    peer.take();
    peer
}

#[test]
fn tc_4a_heartbeat_after_heart_bt_int_without_output() {
    let mut peer = logged_on(6);
    peer.wait(Duration::from_secs(5));
    assert_eq!(peer.sent(), Vec::<String>::new());
    // Keep the counterparty talking so that no TestRequest is due.
    let hb = peer.message("0", "");
    peer.deliver(&hb);
    peer.wait(Duration::from_secs(1));
    assert_eq!(peer.sent(), ["35=0|34=2"]);
}

#[test]
fn tc_4b_test_request_is_answered_with_its_test_req_id() {
    let mut peer = logged_on(30);
    let test_request = peer.message("1", "112=HELLO|");
    peer.deliver(&test_request);
    assert_eq!(peer.sent(), ["35=0|34=2|112=HELLO"]);
}

#[test]
fn tc_5_heartbeat_received_is_consumed_without_an_answer() {
    let mut peer = logged_on(30);
    let heartbeat = peer.message("0", "");
    peer.deliver(&heartbeat);
    assert_eq!(peer.take(), []);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn tc_6_test_request_after_silence_then_silent_close() {
    let mut peer = logged_on(10);
    // Our own heartbeat at 10 s; TestRequest at 12 s (1.2 × HeartBtInt) of silence.
    peer.wait(Duration::from_secs(11));
    assert_eq!(peer.sent(), ["35=0|34=2"]);
    peer.wait(Duration::from_secs(1));
    assert_eq!(
        peer.take(),
        [
            Seen::Sent("35=1|34=3|112=TEST".into()),
            Seen::Event(Event::TestRequestSent)
        ]
    );
    // Nothing by 24 s (2.4 × HeartBtInt): close without a Logout.
    peer.wait(Duration::from_secs(11));
    assert!(!peer.take().iter().any(|s| matches!(s, Seen::Disconnect(_))));
    peer.wait(Duration::from_secs(1));
    let seen = peer.take();
    assert!(
        !seen
            .iter()
            .any(|s| matches!(s, Seen::Sent(m) if m.starts_with("35=5")))
    );
    assert!(
        seen.contains(&Seen::Disconnect(DisconnectReason::HeartbeatTimeout)),
        "{seen:?}"
    );
}

#[test]
fn tc_6_answered_test_request_keeps_the_session() {
    let mut peer = logged_on(10);
    peer.wait(Duration::from_secs(12));
    assert!(peer.sent().iter().any(|m| m.starts_with("35=1|")));
    let answer = peer.message("0", "112=TEST|");
    peer.deliver(&answer);
    peer.wait(Duration::from_secs(20));
    assert!(!peer.take().iter().any(|s| matches!(s, Seen::Disconnect(_))));
    assert!(peer.session.is_connected());
}

#[test]
fn tc_7_reject_received_consumes_its_seq_num_and_raises_an_event() {
    let mut peer = logged_on(30);
    let reject = peer.message("3", "45=1|58=bad|373=5|");
    peer.deliver(&reject);
    assert_eq!(
        peer.take(),
        [Seen::Event(Event::RejectReceived {
            ref_seq: Some(SeqNum::new(1)),
            reason: Some(5),
            text: Some(Bytes::from_static(b"bad")),
        })]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn poll_timeout_is_never_in_the_past_and_tracks_the_heartbeat() {
    let mut peer = logged_on(30);
    let deadline = peer.session.poll_timeout().expect("a heartbeat is armed");
    assert_eq!(deadline, peer.clock.now().mono + Duration::from_secs(30));
    peer.wait(Duration::from_secs(30));
    assert!(peer.session.poll_timeout().unwrap() > peer.clock.now().mono);
}

#[test]
fn tc_6_no_heartbeat_while_our_test_request_is_unanswered() {
    let mut peer = logged_on(6);
    // Heartbeat at 6 s, TestRequest at 7.2 s (whole seconds here: 8 s).
    peer.wait(Duration::from_secs(8));
    assert_eq!(peer.sent(), ["35=0|34=2", "35=1|34=3|112=TEST"]);
    // The counterparty stays silent: no Heartbeat at 6 s after the TestRequest, only the
    // silent close at 2.4 × HeartBtInt (14.4 s).
    peer.wait(Duration::from_secs(7));
    let seen = peer.take();
    assert_eq!(
        seen,
        [Seen::Disconnect(DisconnectReason::HeartbeatTimeout)],
        "{seen:?}"
    );
}
