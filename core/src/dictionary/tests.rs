//! The validator and the canonical writer against a small dictionary built by hand.

use bytes::Bytes;

use super::*;
use crate::codec::{FieldWriter, Message, ParseCache, checksum};
use crate::reject::SessionRejectReason as R;

/// FIX 4.4-like: a header, a trailer, Heartbeat, and a NewOrderSingle with two groups (one
/// nested) and an enumerated, a decimal, a timestamp and a multiple-value field.
fn dictionary() -> Dictionary {
    let mut b = DictionaryBuilder::new("FIX.4.4");
    let fields: &[(u32, &str, FieldType, &[&str])] = &[
        (8, "BeginString", FieldType::String, &[]),
        (9, "BodyLength", FieldType::Int, &[]),
        (35, "MsgType", FieldType::String, &["0", "D"]),
        (34, "MsgSeqNum", FieldType::Int, &[]),
        (49, "SenderCompID", FieldType::String, &[]),
        (52, "SendingTime", FieldType::UtcTimestamp, &[]),
        (56, "TargetCompID", FieldType::String, &[]),
        (10, "CheckSum", FieldType::String, &[]),
        (112, "TestReqID", FieldType::String, &[]),
        (11, "ClOrdID", FieldType::String, &[]),
        (18, "ExecInst", FieldType::MultipleValue, &["1", "2", "G"]),
        (21, "HandlInst", FieldType::Char, &["1", "2", "3"]),
        (38, "OrderQty", FieldType::Float, &[]),
        (55, "Symbol", FieldType::String, &[]),
        (60, "TransactTime", FieldType::UtcTimestamp, &[]),
        (78, "NoAllocs", FieldType::Int, &[]),
        (79, "AllocAccount", FieldType::String, &[]),
        (80, "AllocQty", FieldType::Float, &[]),
        (539, "NoNestedPartyIDs", FieldType::Int, &[]),
        (524, "NestedPartyID", FieldType::String, &[]),
        (538, "NestedPartyRole", FieldType::Int, &[]),
        (386, "NoTradingSessions", FieldType::Int, &[]),
        (336, "TradingSessionID", FieldType::String, &[]),
        (6000, "VenueTag", FieldType::String, &[]),
    ];
    for (tag, name, field_type, values) in fields {
        let values = values.iter().map(|v| v.as_bytes().to_vec());
        b.field(*tag, name, *field_type, values).unwrap();
    }
    let mut header = LayoutBuilder::new();
    for (tag, required) in [(8, true), (9, true), (35, true), (49, true), (56, true)] {
        header.field(tag, required);
    }
    header.field(34, true).field(52, true);
    b.header(header).unwrap();
    let mut trailer = LayoutBuilder::new();
    trailer.field(10, true);
    b.trailer(trailer).unwrap();
    let mut heartbeat = LayoutBuilder::new();
    heartbeat.field(112, false);
    b.message(b"0", heartbeat).unwrap();
    let mut parties = LayoutBuilder::new();
    parties.field(524, false).field(538, true);
    let mut allocs = LayoutBuilder::new();
    allocs
        .field(79, false)
        .field(80, false)
        .group(539, false, parties);
    let mut sessions = LayoutBuilder::new();
    sessions.field(336, false);
    let mut order = LayoutBuilder::new();
    order
        .field(11, true)
        .field(18, false)
        .field(21, false)
        .group(78, false, allocs)
        .field(38, false)
        .field(55, true)
        .group(386, false, sessions)
        .field(60, true)
        .field(6000, false);
    b.message(b"D", order).unwrap();
    b.build().unwrap()
}

/// A FIX 4.4 frame around `fields` (`|` for SOH), with the standard header's first fields.
fn message(msg_type: &str, fields: &str) -> Message {
    Message::parse(frame(msg_type, fields)).unwrap()
}

fn frame(msg_type: &str, fields: &str) -> Bytes {
    let body = format!("35={msg_type}|34=2|49=A|52=20261127-05:31:33.000|56=B|{fields}|")
        .replace('|', "\x01");
    let mut frame = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = checksum(&frame);
    frame.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    Bytes::from(frame)
}

const ORDER: &str = "11=ID|21=1|38=100|55=INTC|60=20261127-05:31:33";

fn check(fields: &str, rules: &Rules) -> Result<(), (R, Option<String>)> {
    let msg = message("D", fields);
    dictionary().validate(&msg, rules).map_err(|v| {
        let tag = v.ref_tag(&msg).map(|t| String::from_utf8(t).unwrap());
        (v.reason, tag)
    })
}

fn rejected(fields: &str) -> (R, Option<String>) {
    check(fields, &Rules::default()).expect_err(fields)
}

fn at(reason: R, tag: &str) -> (R, Option<String>) {
    (reason, Some(tag.to_owned()))
}

#[test]
fn a_valid_order_passes_with_its_groups() {
    let rules = Rules::default();
    assert_eq!(check(ORDER, &rules), Ok(()));
    let groups = "11=ID|18=1 G|21=1|78=2|79=A|80=1|539=1|524=P|538=3|79=B|80=2|38=3|55=X|386=0|60=20261127-05:31:33";
    assert_eq!(check(groups, &rules), Ok(()));
}

#[test]
fn each_field_problem_gets_its_reason_and_tag() {
    assert_eq!(
        rejected("11=ID|21=1|38=100|60=20261127-05:31:33"),
        at(R::RequiredTagMissing, "55")
    );
    assert_eq!(
        rejected(&format!("{ORDER}|999=X")),
        at(R::InvalidTagNumber, "999")
    );
    assert_eq!(
        rejected(&format!("{ORDER}|112=X")),
        at(R::TagNotDefinedForMessageType, "112")
    );
    assert_eq!(
        rejected(&format!("{ORDER}|18=")),
        at(R::TagWithoutValue, "18")
    );
    assert_eq!(
        rejected("11=ID|21=4|38=100|55=INTC|60=20261127-05:31:33"),
        at(R::ValueOutOfRange, "21")
    );
    assert_eq!(
        rejected(&format!("{ORDER}|18=1 X")),
        at(R::ValueOutOfRange, "18")
    );
    assert_eq!(
        rejected("11=ID|21=1|38=+100|55=INTC|60=20261127-05:31:33"),
        at(R::IncorrectDataFormat, "38")
    );
    assert_eq!(
        rejected("11=ID|21=1|38=1|55=A|55=B|60=20261127-05:31:33"),
        at(R::TagAppearsMoreThanOnce, "55")
    );
    assert_eq!(
        rejected(&format!("{ORDER}|386=2|336=X")),
        at(R::IncorrectNumInGroup, "386")
    );
    // The first member before the delimiter, and a member out of its entry's order.
    assert_eq!(
        rejected(&format!("{ORDER}|78=1|80=5|79=A")),
        at(R::RepeatingGroupOutOfOrder, "80")
    );
    assert_eq!(
        rejected(&format!("{ORDER}|78=1|79=A|539=1|524=P|538=1|80=5")),
        at(R::RepeatingGroupOutOfOrder, "80")
    );
    // A required field of a group entry, and a field repeated inside one entry.
    assert_eq!(
        rejected(&format!("{ORDER}|78=1|79=A|539=1|524=P")),
        at(R::RequiredTagMissing, "538")
    );
    assert_eq!(
        rejected(&format!("{ORDER}|78=1|79=A|80=1|80=2")),
        at(R::TagAppearsMoreThanOnce, "80")
    );
}

#[test]
fn the_order_of_checks_is_quickfixs() {
    // A missing required field wins over a bad field; among field problems, the first on the wire.
    assert_eq!(
        rejected("11=ID|21=9|38=1|60=20261127-05:31:33"),
        at(R::RequiredTagMissing, "55")
    );
    assert_eq!(
        rejected("11=ID|21=9|38=+1|55=X|60=20261127-05:31:33"),
        at(R::ValueOutOfRange, "21")
    );
    // A wrong count is reported at its NumInGroup field, before the problems that follow it.
    assert_eq!(
        rejected(&format!("{ORDER}|386=3|336=X|6000=")),
        at(R::IncorrectNumInGroup, "386")
    );
    // Header fields after the body come first of all.
    let msg = message("D", &format!("{ORDER}|43=Y"));
    let violation = dictionary().validate(&msg, &Rules::default()).unwrap_err();
    assert_eq!(violation.reason, R::TagOutOfOrder);
}

#[test]
fn unknown_msg_type_is_invalid() {
    let msg = message("ZZ", "11=ID");
    let violation = dictionary().validate(&msg, &Rules::default()).unwrap_err();
    assert_eq!(violation.reason, R::InvalidMsgType);
    assert_eq!(violation.ref_tag(&msg), None);
}

#[test]
fn switches_relax_the_checks() {
    let lenient = Rules {
        fields_have_values: false,
        fields_out_of_order: false,
        user_defined_fields: false,
        allow_unknown_msg_fields: true,
    };
    assert_eq!(
        check(&format!("{ORDER}|112=|999=X|7000=Y"), &lenient),
        Ok(())
    );
    assert_eq!(
        check(
            &format!("{ORDER}|78=1|79=A|539=1|524=P|538=1|80=5"),
            &lenient
        ),
        Ok(())
    );
    // A user-defined tag is checked like any other unless ValidateUserDefinedFields=N.
    assert_eq!(
        rejected(&format!("{ORDER}|7000=Y")),
        at(R::InvalidTagNumber, "7000")
    );
    assert_eq!(check(&format!("{ORDER}|6000=V"), &Rules::default()), Ok(()));
    // The decoder keeps eight issues: a repeat after eight empty fields is still found.
    let empties: String = (901..909).map(|tag| format!("|{tag}=")).collect();
    let repeat = format!("{ORDER}{empties}|55=X");
    assert!(message("D", &repeat).may_repeat_tags());
    assert_eq!(
        check(&repeat, &lenient),
        Err(at(R::TagAppearsMoreThanOnce, "55"))
    );
    assert!(!message("D", ORDER).may_repeat_tags());
}

#[test]
fn fixt_session_messages_know_only_transport_fields() {
    let mut b = DictionaryBuilder::new("FIXT.1.1");
    let mut header = LayoutBuilder::new();
    for (tag, name) in [
        (8, "BeginString"),
        (9, "BodyLength"),
        (35, "MsgType"),
        (34, "MsgSeqNum"),
        (49, "SenderCompID"),
        (52, "SendingTime"),
        (56, "TargetCompID"),
    ] {
        b.field(tag, name, FieldType::String, []).unwrap();
        header.field(tag, true);
    }
    b.header(header).unwrap();
    b.field(10, "CheckSum", FieldType::String, []).unwrap();
    b.field(112, "TestReqID", FieldType::String, []).unwrap();
    let mut heartbeat = LayoutBuilder::new();
    heartbeat.field(112, false);
    b.message(b"0", heartbeat).unwrap();
    b.seal_transport();
    b.field(55, "Symbol", FieldType::String, []).unwrap();
    let mut order = LayoutBuilder::new();
    order.field(55, true);
    b.message(b"D", order).unwrap();
    let dictionary = b.build().unwrap();
    let rules = Rules::default();
    let reason = |msg: &Message| dictionary.validate(msg, &rules).map_err(|v| v.reason);
    // Symbol is an application field: unknown to a Heartbeat, as QuickFIX's transport
    // dictionary alone validates it.
    assert_eq!(reason(&message("0", "55=X")), Err(R::InvalidTagNumber));
    assert_eq!(reason(&message("0", "112=X")), Ok(()));
    assert_eq!(reason(&message("D", "55=X")), Ok(()));
    assert_eq!(
        reason(&message("D", "55=X|112=Y")),
        Err(R::TagNotDefinedForMessageType)
    );
}

#[test]
fn canonical_body_sorts_fields_and_keeps_groups_in_dictionary_order() {
    let d = dictionary();
    let msg = message(
        "D",
        "60=20261127-05:31:33|55=X|78=2|79=A|539=1|524=P|538=3|80=1|79=B|11=ID|21=1",
    );
    let mut out = FieldWriter::new();
    write_canonical_body(&msg, Some(&d), &mut out);
    let text = String::from_utf8(out.as_bytes().to_vec())
        .unwrap()
        .replace('\x01', "|");
    assert_eq!(
        text,
        "11=ID|21=1|55=X|60=20261127-05:31:33|78=2|79=A|80=1|539=1|524=P|538=3|79=B|"
    );
    let mut plain = FieldWriter::new();
    write_canonical_body(&msg, None, &mut plain);
    let text = String::from_utf8(plain.as_bytes().to_vec())
        .unwrap()
        .replace('\x01', "|");
    assert!(text.starts_with("11=ID|21=1|55=X|60="), "{text}");
}

#[test]
fn builder_refuses_undefined_fields_and_empty_groups() {
    let mut b = DictionaryBuilder::new("FIX.4.4");
    let mut order = LayoutBuilder::new();
    order.field(55, true);
    b.message(b"D", order).unwrap();
    assert_eq!(b.build(), Err(BuildError::UndefinedField { tag: 55 }));
    let mut b = DictionaryBuilder::new("FIX.4.4");
    b.field(78, "NoAllocs", FieldType::Int, []).unwrap();
    let mut order = LayoutBuilder::new();
    order.group(78, false, LayoutBuilder::new());
    assert_eq!(
        b.message(b"D", order),
        Err(BuildError::EmptyGroup { tag: 78 })
    );
}

#[test]
fn a_remembered_shape_gives_what_a_full_validation_gives() {
    let dictionary = std::sync::Arc::new(dictionary());
    let lenient = Rules {
        fields_have_values: false,
        fields_out_of_order: false,
        user_defined_fields: false,
        allow_unknown_msg_fields: true,
    };
    let shapes = [
        ORDER.to_owned(),
        "11=ID|18=1 G|21=1|78=2|79=A|80=1|539=1|524=P|538=3|79=B|80=2|38=3|55=X|386=0|60=20261127-05:31:33|6000=V".to_owned(),
        format!("{ORDER}|386=1|336=S"),
    ];
    let values = [
        "",
        "+1",
        "-1",
        "0",
        "1",
        "2",
        "4",
        "X",
        "1 X",
        "1 G",
        "1.5",
        "20261127-05:31:33",
        "20261327-05:31:33",
    ];
    // Parsed in full, or with the decoder's layouts remembered (then the shape is found by
    // the layout's id); one cache serves both sets of rules.
    for remember_layouts in [false, true] {
        let mut cache = ShapeCache::new();
        let mut layouts = ParseCache::new();
        for rules in [Rules::default(), lenient] {
            let mut parse = |fields: &str| match remember_layouts {
                true => Message::parse_cached(frame("D", fields), &mut layouts).unwrap(),
                false => message("D", fields),
            };
            for shape in &shapes {
                assert_eq!(
                    dictionary.validate_cached(&parse(shape), &rules, &mut cache),
                    Ok(()),
                    "{shape}"
                );
                // Every value of every field replaced: the tags stay, so the shape is remembered.
                let fields: Vec<&str> = shape.split('|').collect();
                for (i, field) in fields.iter().enumerate() {
                    let tag = field.split('=').next().unwrap();
                    for value in values {
                        let mut changed = fields.clone();
                        let replaced = format!("{tag}={value}");
                        changed[i] = &replaced;
                        let msg = parse(&changed.join("|"));
                        assert_eq!(
                            dictionary.validate_cached(&msg, &rules, &mut cache),
                            dictionary.validate(&msg, &rules),
                            "{}",
                            changed.join("|")
                        );
                    }
                }
            }
        }
        assert_eq!(cache.len(), 2 * shapes.len());
    }
}

#[test]
fn a_shape_cache_serves_one_dictionary_and_keeps_sixteen_shapes() {
    let first = std::sync::Arc::new(dictionary());
    let second = std::sync::Arc::new(dictionary());
    let rules = Rules::default();
    let mut cache = ShapeCache::new();
    let order = message("D", ORDER);
    assert_eq!(first.validate_cached(&order, &rules, &mut cache), Ok(()));
    assert_eq!(cache.len(), 1);
    // A failing message is not remembered; another dictionary starts afresh.
    let bad = message("D", "11=ID|21=1|38=100|60=20261127-05:31:33");
    assert!(first.validate_cached(&bad, &rules, &mut cache).is_err());
    assert_eq!(cache.len(), 1);
    assert_eq!(second.validate_cached(&order, &rules, &mut cache), Ok(()));
    assert_eq!(cache.len(), 1);
    // Twenty shapes (a user-defined field or not, and 0 to 9 trading sessions): sixteen kept,
    // and each still validates as in full.
    for _ in 0..2 {
        for venue in ["", "|6000=V"] {
            for sessions in 0..10 {
                let entries: String = (0..sessions).map(|_| "|336=S").collect();
                let fields = format!("{ORDER}{venue}|386={sessions}{entries}");
                let msg = message("D", &fields);
                assert_eq!(second.validate_cached(&msg, &rules, &mut cache), Ok(()));
                let wrong = fields.replace(&format!("386={sessions}"), "386=11");
                let msg = message("D", &wrong);
                assert_eq!(
                    second.validate_cached(&msg, &rules, &mut cache),
                    second.validate(&msg, &rules)
                );
            }
        }
    }
    assert_eq!(cache.len(), 16);
}
