//! FIX session test case 14 with a data dictionary: application and session-level messages
//! checked against a QuickFIX-format XML dictionary (a small one, written here), and the
//! SessionRejectReason and RefTagID of each Reject.

use std::path::Path;
use std::sync::Arc;

use fixgate_core::{BeginString, Role, SeqNum, SessionConfig};
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US};

/// FIX 4.4's header and trailer essentials, Heartbeat, and a NewOrderSingle with a repeating
/// group inside a component.
const DICTIONARY: &str = r#"<fix type='FIX' major='4' minor='4' servicepack='0'>
 <header>
  <field name='BeginString' required='Y'/><field name='BodyLength' required='Y'/>
  <field name='MsgType' required='Y'/><field name='SenderCompID' required='Y'/>
  <field name='TargetCompID' required='Y'/><field name='MsgSeqNum' required='Y'/>
  <field name='PossDupFlag' required='N'/><field name='SendingTime' required='Y'/>
  <field name='OrigSendingTime' required='N'/>
 </header>
 <trailer><field name='CheckSum' required='Y'/></trailer>
 <messages>
  <message name='Heartbeat' msgtype='0' msgcat='admin'><field name='TestReqID' required='N'/></message>
  <message name='Logon' msgtype='A' msgcat='admin'>
   <field name='EncryptMethod' required='Y'/><field name='HeartBtInt' required='Y'/>
  </message>
  <message name='NewOrderSingle' msgtype='D' msgcat='app'>
   <field name='ClOrdID' required='Y'/><field name='HandlInst' required='N'/>
   <component name='TrdgSesGrp' required='N'/>
   <field name='Symbol' required='Y'/><field name='Side' required='Y'/>
   <field name='TransactTime' required='Y'/><field name='OrderQty' required='N'/>
   <field name='OrdType' required='Y'/>
  </message>
 </messages>
 <components>
  <component name='TrdgSesGrp'>
   <group name='NoTradingSessions' required='N'>
    <field name='TradingSessionID' required='N'/><field name='TradingSessionSubID' required='N'/>
   </group>
  </component>
 </components>
 <fields>
  <field number='8' name='BeginString' type='STRING'/>
  <field number='9' name='BodyLength' type='LENGTH'/>
  <field number='10' name='CheckSum' type='STRING'/>
  <field number='11' name='ClOrdID' type='STRING'/>
  <field number='21' name='HandlInst' type='CHAR'>
   <value enum='1' description='AUTOMATED'/><value enum='2' description='SEMI'/>
   <value enum='3' description='MANUAL'/>
  </field>
  <field number='34' name='MsgSeqNum' type='SEQNUM'/>
  <field number='35' name='MsgType' type='STRING'/>
  <field number='38' name='OrderQty' type='QTY'/>
  <field number='40' name='OrdType' type='CHAR'>
   <value enum='1' description='MARKET'/><value enum='2' description='LIMIT'/>
  </field>
  <field number='43' name='PossDupFlag' type='BOOLEAN'/>
  <field number='49' name='SenderCompID' type='STRING'/>
  <field number='52' name='SendingTime' type='UTCTIMESTAMP'/>
  <field number='54' name='Side' type='CHAR'>
   <value enum='1' description='BUY'/><value enum='2' description='SELL'/>
  </field>
  <field number='55' name='Symbol' type='STRING'/>
  <field number='56' name='TargetCompID' type='STRING'/>
  <field number='60' name='TransactTime' type='UTCTIMESTAMP'/>
  <field number='98' name='EncryptMethod' type='INT'/>
  <field number='108' name='HeartBtInt' type='INT'/>
  <field number='112' name='TestReqID' type='STRING'/>
  <field number='122' name='OrigSendingTime' type='UTCTIMESTAMP'/>
  <field number='336' name='TradingSessionID' type='STRING'/>
  <field number='386' name='NoTradingSessions' type='NUMINGROUP'/>
  <field number='625' name='TradingSessionSubID' type='STRING'/>
 </fields>
</fix>"#;

const ORDER: &str = "11=ID|21=1|38=200|40=1|54=1|55=INTC|60=20261127-05:31:33|";

fn logged_on(begin_string: BeginString) -> ScriptedPeer {
    let mut text = DICTIONARY.to_owned();
    if begin_string == BeginString::Fix42 {
        text = text.replace("minor='4'", "minor='2'");
    }
    let dictionary = fixgate_dictionary::from_xml(&text, Path::new("test.xml")).unwrap();
    let mut config = SessionConfig::new(begin_string, US, THEM, Role::Acceptor);
    config.dictionary = Some(Arc::new(dictionary));
    let mut peer = ScriptedPeer::with_config(config);
    peer.log_on();
    peer
}

/// The Reject (or nothing) the session sends for message 2 of type `msg_type`.
fn answer(msg_type: &str, fields: &str) -> Vec<String> {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message(msg_type, fields);
    peer.deliver(&msg);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(3), "consumed");
    peer.sent()
}

fn reject(text: &str, tag: u32, msg_type: &str, reason: u32) -> Vec<String> {
    vec![format!(
        "35=3|34=2|45=2|58={text}|371={tag}|372={msg_type}|373={reason}"
    )]
}

/// The message was delivered to the application, and nothing was sent.
fn assert_delivered_alone(peer: &mut ScriptedPeer) {
    let seen = peer.take();
    assert!(!seen.iter().any(|s| matches!(s, Seen::Sent(_))), "{seen:?}");
    let delivered = seen.iter().filter(|s| matches!(s, Seen::Delivered(_)));
    assert_eq!(delivered.count(), 1, "{seen:?}");
}

#[test]
fn valid_order_with_its_group_is_delivered() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("D", &format!("{ORDER}386=2|336=PRE|625=A|336=POST|"));
    peer.deliver(&msg);
    assert_delivered_alone(&mut peer);
}

#[test]
fn tc_14a_tag_unknown_to_the_dictionary_is_an_invalid_tag_number() {
    let sent = answer("0", "999=HI|");
    assert_eq!(sent, reject("Invalid tag number", 999, "0", 0));
}

#[test]
fn tc_14b_required_field_missing_from_an_order() {
    let sent = answer("D", "11=ID|21=1|40=1|54=1|60=20261127-05:31:33|");
    assert_eq!(sent, reject("Required tag missing", 55, "D", 1));
}

#[test]
fn tc_14c_field_not_defined_for_the_message_type() {
    let sent = answer("0", "55=MSFT|");
    assert_eq!(
        sent,
        reject("Tag not defined for this message type", 55, "0", 2)
    );
}

#[test]
fn tc_14e_value_outside_the_enumeration() {
    let sent = answer("D", &ORDER.replace("21=1", "21=4"));
    let text = "Value is incorrect (out of range) for this tag";
    assert_eq!(sent, reject(text, 21, "D", 5));
}

#[test]
fn tc_14f_value_of_the_wrong_format() {
    let sent = answer("D", &ORDER.replace("38=200", "38=+200.00"));
    assert_eq!(sent, reject("Incorrect data format for value", 38, "D", 6));
}

#[test]
fn tc_14h_repeated_tag_in_an_order() {
    let sent = answer("D", &ORDER.replace("40=1|", "40=1|40=2|"));
    assert_eq!(sent, reject("Tag appears more than once", 40, "D", 13));
}

#[test]
fn tc_14i_group_count_that_does_not_match_its_entries() {
    let sent = answer("D", &format!("{ORDER}386=3|336=PRE|336=POST|"));
    let text = "Incorrect NumInGroup count for repeating group";
    assert_eq!(sent, reject(text, 386, "D", 16));
}

#[test]
fn tc_14i_fix42_reject_has_no_reason_fix42_does_not_define() {
    let mut peer = logged_on(BeginString::Fix42);
    let msg = peer.message("D", &format!("{ORDER}386=3|336=PRE|"));
    peer.deliver(&msg);
    assert_eq!(
        peer.sent(),
        ["35=3|34=2|45=2|58=Incorrect NumInGroup count for repeating group|371=386|372=D"]
    );
}

#[test]
fn tc_14i_group_count_of_zero_is_accepted() {
    let mut peer = logged_on(BeginString::Fix44);
    let msg = peer.message("D", &format!("{ORDER}386=0|"));
    peer.deliver(&msg);
    assert_delivered_alone(&mut peer);
}

#[test]
fn tc_14_group_member_before_its_delimiter_is_out_of_order() {
    let sent = answer("D", &format!("{ORDER}386=1|625=A|336=PRE|"));
    let text = "Out of order repeating group members";
    assert_eq!(sent, reject(text, 625, "D", 15));
}

#[test]
fn tc_14_unknown_msg_type_is_invalid() {
    let sent = answer("ZZ", "55=X|");
    assert_eq!(sent, ["35=3|34=2|45=2|58=Invalid MsgType|372=ZZ|373=11"]);
}
