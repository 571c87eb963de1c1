//! FIX session test case 14: Rejects for field errors in session-level messages.

use fixgate_core::{BeginString, Role, SeqNum, SessionConfig};
use fixgate_tests::peer::{ScriptedPeer, THEM, US};
use fixgate_tests::wire::frame;

fn logged_on(begin_string: BeginString) -> ScriptedPeer {
    let mut peer = ScriptedPeer::acceptor(begin_string);
    peer.log_on();
    peer
}

#[test]
fn tc_14a_negative_tag_is_an_invalid_tag_number() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("0", "-1=HI|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Invalid tag number|371=-1|372=0|373=0"]
    );
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3));
}

#[test]
fn tc_14a_tag_zero_is_an_invalid_tag_number() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("0", "0=HI|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Invalid tag number|371=0|372=0|373=0"]
    );
}

#[test]
fn tc_14d_tag_without_value_is_rejected() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("1", "112=|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Tag specified without a value|371=112|372=1|373=4"]
    );
}

#[test]
fn tc_14d_empty_values_pass_when_not_validated() {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.validate_fields_have_values = false;
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    let msg = peer.message("0", "58=|");
    peer.deliver(&msg);
    assert_eq!(peer.sent(), Vec::<String>::new());
}

#[test]
fn tc_14g_header_field_after_body_is_out_of_order() {
    let mut peer = logged_on(BeginString::Fix44);
    let time = peer.timestamp(std::time::Duration::ZERO, false);
    let msg = frame(
        "FIX.4.4",
        &format!("35=1|34=2|49={THEM}|56={US}|112=X|52={time}|"),
    );
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Tag specified out of required order|371=52|372=1|373=14"]
    );
}

#[test]
fn tc_14h_repeated_tag_in_a_session_message_is_rejected() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("1", "112=A|112=B|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Tag appears more than once|371=112|372=1|373=13"]
    );
}

#[test]
fn fix40_reject_puts_the_tag_in_the_text() {
    let mut peer = logged_on(BeginString::Fix40);
    let msg = peer.message("1", "112=|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Tag specified without a value (112)"]
    );
}

#[test]
fn test_request_without_test_req_id_is_rejected() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("1", "");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Required tag missing|371=112|372=1|373=1"]
    );
}

#[test]
fn tc_14g_fix42_reject_has_no_reason_fix42_does_not_define() {
    // FIX 4.2 defines SessionRejectReason up to 11; "out of order" (14) goes by its text alone.
    let mut peer = logged_on(BeginString::Fix42);
    let msg = peer.message("0", "112=X|34=9|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Tag specified out of required order|371=34|372=0"]
    );
}

#[test]
fn tc_14b_missing_target_comp_id_is_a_required_tag_missing() {
    let mut peer = logged_on(BeginString::Fix44);
    let time = peer.timestamp(std::time::Duration::ZERO, false);
    let msg = frame("FIX.4.4", &format!("35=0|34=2|49={THEM}|52={time}|"));
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Required tag missing|371=56|372=0|373=1"]
    );
    assert!(peer.session.is_connected());
}

#[test]
fn tc_14d_empty_target_comp_id_is_a_tag_without_value_not_a_comp_id_problem() {
    let mut peer = logged_on(BeginString::Fix44);
    let time = peer.timestamp(std::time::Duration::ZERO, false);
    let msg = frame("FIX.4.4", &format!("35=0|34=2|49={THEM}|52={time}|56=|"));
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Tag specified without a value|371=56|372=0|373=4"]
    );
    assert!(peer.session.is_connected());
}

#[test]
fn tc_18_reject_carries_the_reverse_route_without_empty_routing_tags() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("0", "115=JCD|116=|144=CHI|112=|");
    peer.deliver(&msg);
    // 116 is empty: that is the Reject's subject, and it is not copied back as 129.
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|128=JCD|145=CHI|45=2|58=Tag specified without a value|371=116|372=0|373=4"]
    );
    let msg = peer.message("0", "128=JCD|129=CS|112=|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=3|115=JCD|116=CS|45=3|58=Tag specified without a value|371=112|372=0|373=4"]
    );
}

#[test]
fn tc_18_fix40_reverse_route_has_no_location_ids() {
    let mut peer = logged_on(BeginString::Fix40);
    let msg = peer.message("1", "115=JCD|144=CHI|");
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|128=JCD|45=2|58=Required tag missing (112)"]
    );
}
