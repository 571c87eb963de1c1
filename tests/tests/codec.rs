//! The codec on real messages, garbled frames and malformed fields.

use bytes::Bytes;
use fixgate_core::codec::{
    DecodeError, Decoded, Decoder, FieldError, FieldIssue, FieldIssueKind, FieldWriter, GroupSpec,
    HeaderField, Message, ParseCache, Value, encode_frame,
};
use fixgate_core::{SeqNum, TimestampPrecision, UtcTimestamp, tag};
use fixgate_tests::fixtures::{EXECUTION_REPORT, NEW_ORDER_SINGLE};
use fixgate_tests::wire::{frame, frame_with_length_delta, pipe, soh};

/// Feeds `bytes` in one chunk and returns everything decoded.
fn decode_all(bytes: &[u8]) -> Vec<Decoded> {
    let mut decoder = Decoder::new();
    decoder.feed(bytes);
    std::iter::from_fn(|| decoder.decode().expect("no fatal error")).collect()
}

fn messages(decoded: &[Decoded]) -> Vec<String> {
    decoded
        .iter()
        .filter_map(|d| match d {
            Decoded::Message(m) => Some(pipe(m.as_bytes())),
            Decoded::Garbled { .. } => None,
        })
        .collect()
}

fn garbled(decoded: &[Decoded]) -> Vec<DecodeError> {
    decoded
        .iter()
        .filter_map(|d| match d {
            Decoded::Garbled { error, .. } => Some(error.clone()),
            Decoded::Message(_) => None,
        })
        .collect()
}

fn parse(bytes: &[u8]) -> Message {
    Message::parse(Bytes::copy_from_slice(bytes)).expect("a valid frame")
}

#[test]
fn logon_is_decoded_with_typed_getters() {
    let wire = frame(
        "FIX.4.4",
        "35=A|34=1|49=TW|52=20261126-14:36:27.123|56=ISLD|98=0|108=30|141=Y|553=user|",
    );
    let msg = parse(&wire);
    assert_eq!(msg.begin_string(), b"FIX.4.4");
    assert_eq!(msg.msg_type(), b"A");
    assert_eq!(msg.seq_num(tag::MSG_SEQ_NUM), Ok(SeqNum::new(1)));
    assert_eq!(msg.str(tag::SENDER_COMP_ID), Ok("TW"));
    assert_eq!(msg.uint(tag::HEART_BT_INT), Ok(30));
    assert_eq!(msg.bool(tag::RESET_SEQ_NUM_FLAG), Ok(true));
    assert_eq!(msg.char(tag::ENCRYPT_METHOD), Ok(b'0'));
    let sent = msg.timestamp(tag::SENDING_TIME).unwrap();
    assert_eq!(
        sent.format(TimestampPrecision::Millis).as_str(),
        "20261126-14:36:27.123"
    );
    assert_eq!(
        msg.uint(tag::PASSWORD),
        Err(FieldError::Missing { tag: tag::PASSWORD })
    );
    assert_eq!(
        msg.bool(tag::USERNAME),
        Err(FieldError::InvalidFormat { tag: tag::USERNAME })
    );
    assert!(msg.issues().is_empty());
    let tags: Vec<_> = msg.fields().iter().map(|f| f.tag().unwrap()).collect();
    assert_eq!(tags, [8, 9, 35, 34, 49, 52, 56, 98, 108, 141, 553, 10]);
}

#[test]
fn new_order_single_fixture_decodes_without_issues() {
    let msg = parse(NEW_ORDER_SINGLE);
    assert_eq!(msg.msg_type(), b"D");
    assert_eq!(msg.fields().len(), 18);
    assert_eq!(msg.str(tag::CL_ORD_ID), Ok("CLORD-000000001234"));
    assert_eq!(msg.fields().decimal(44), Ok("187.25"));
    assert_eq!(msg.uint(tag::ORDER_QTY), Ok(100));
    assert_eq!(msg.seq_num(tag::MSG_SEQ_NUM), Ok(SeqNum::new(1_234_567)));
    assert_eq!(msg.timestamp(60).unwrap().subsec_nanos(), 123_456_000);
    assert!(msg.issues().is_empty());
    assert_eq!(&msg.get_bytes(tag::SYMBOL).unwrap()[..], b"AAPL");
}

#[test]
fn execution_report_with_repeating_group_is_walked() {
    let wire = frame(
        "FIX.4.4",
        "35=8|34=9|49=S|52=20261126-14:36:27|56=T|37=O1|17=E1|150=0|39=0|55=AAPL|54=1|\
         453=3|448=BROKER|447=D|452=1|448=CLIENT|447=D|452=3|802=1|523=desk|803=4|448=VENUE|452=73|\
         151=100|14=0|6=0|",
    );
    let msg = parse(&wire);
    // Groups legitimately repeat tags; the codec reports the first repeat and leaves the verdict
    // to whoever knows the group.
    assert_eq!(
        msg.issues(),
        [FieldIssue {
            kind: FieldIssueKind::RepeatedTag,
            index: 17
        }]
    );
    let parties = GroupSpec {
        count_tag: 453,
        delimiter: 448,
        members: &[448, 447, 452, 802, 523, 803],
    };
    let entries: Vec<_> = msg.group(&parties).unwrap().collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].str(448), Ok("BROKER"));
    assert_eq!(entries[1].uint(452), Ok(3));
    assert_eq!(entries[2].str(448), Ok("VENUE"));
    assert_eq!(entries[2].get(447), None);
    let sub_ids = GroupSpec {
        count_tag: 802,
        delimiter: 523,
        members: &[523, 803],
    };
    let nested: Vec<_> = entries[1].group(&sub_ids).unwrap().collect();
    assert_eq!(nested.len(), 1);
    assert_eq!(nested[0].uint(803), Ok(4));
    // Fields after the group are still found.
    assert_eq!(msg.uint(151), Ok(100));
}

#[test]
fn repeating_group_with_wrong_count_is_reported() {
    let wire = frame("FIX.4.4", "35=8|34=9|453=3|448=A|452=1|448=B|452=3|151=0|");
    let msg = parse(&wire);
    let spec = GroupSpec {
        count_tag: 453,
        delimiter: 448,
        members: &[448, 452],
    };
    assert_eq!(
        msg.group(&spec).unwrap_err(),
        FieldError::GroupCount {
            tag: 453,
            declared: 3,
            found: 2
        }
    );
    let empty = frame("FIX.4.4", "35=8|34=9|453=0|151=0|");
    assert_eq!(parse(&empty).group(&spec).unwrap().count(), 0);
}

#[test]
fn raw_data_containing_soh_is_read_by_its_length() {
    let wire = frame("FIX.4.4", "35=D|34=3|95=12|96=a|b=c|10=1|x|58=after|");
    let msg = parse(&wire);
    assert_eq!(msg.get(tag::RAW_DATA), Some(&b"a\x01b=c\x0110=1\x01x"[..]));
    assert_eq!(msg.str(tag::TEXT), Ok("after"));
    assert!(msg.issues().is_empty());
    // The same through the streaming decoder, one byte at a time.
    let mut decoder = Decoder::new();
    let mut found = Vec::new();
    for &b in &wire {
        decoder.feed(&[b]);
        while let Some(d) = decoder.decode().unwrap() {
            found.push(d);
        }
    }
    assert_eq!(messages(&found), [pipe(&wire)]);
}

#[test]
fn data_field_whose_length_is_wrong_is_reported() {
    let wire = frame("FIX.4.4", "35=D|34=3|95=2|96=abc|58=x|");
    let msg = parse(&wire);
    assert_eq!(msg.get(96), Some(&b"abc"[..]));
    assert_eq!(
        msg.issues(),
        [FieldIssue {
            kind: FieldIssueKind::DataLengthMismatch,
            index: 5
        }]
    );
}

#[test]
fn zero_padded_body_length_is_accepted() {
    let body = "35=0|34=2|49=OTHERENGINE|52=20261126-14:36:27.123|56=US|112=padded-length-test|58=some text to make it longer|";
    let valid = frame("FIX.4.2", body);
    let text = pipe(&valid);
    let length: usize = text.split('|').nth(1).unwrap()[2..].parse().unwrap();
    let padded = soh(&text.replacen(&format!("|9={length}|"), &format!("|9={length:07}|"), 1));
    // Fix the checksum for the extra zeros.
    let body_end = padded.len() - 7;
    let sum = padded[..body_end]
        .iter()
        .fold(0u8, |s, &b| s.wrapping_add(b));
    let mut wire = padded[..body_end].to_vec();
    wire.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    assert!(pipe(&wire).contains("|9=0000"), "{}", pipe(&wire));
    let decoded = decode_all(&wire);
    assert_eq!(messages(&decoded), [pipe(&wire)]);
}

#[test]
fn bad_checksum_between_valid_messages_loses_neither() {
    let first = frame("FIX.4.4", "35=0|34=2|49=TW|56=ISLD|");
    let mut bad = frame("FIX.4.4", "35=0|34=3|49=TW|56=ISLD|");
    let len = bad.len();
    bad[len - 2] = if bad[len - 2] == b'9' { b'0' } else { b'9' };
    let last = frame("FIX.4.4", "35=0|34=4|49=TW|56=ISLD|");
    let decoded = decode_all(&[first.clone(), bad, last.clone()].concat());
    assert_eq!(messages(&decoded), [pipe(&first), pipe(&last)]);
    assert!(matches!(
        garbled(&decoded)[..],
        [DecodeError::CheckSumMismatch { .. }]
    ));
}

#[test]
fn checksum_that_is_not_three_digits_is_garbled_and_does_not_swallow() {
    // Conformance script 2d ends a garbled message with `10=0`: the frame still ends there.
    let garbled_frame = soh("8=FIX.4.4|9=5|35=0|10=0|");
    let next = frame("FIX.4.4", "35=0|34=2|49=TW|56=ISLD|");
    let decoded = decode_all(&[garbled_frame, next.clone()].concat());
    assert_eq!(garbled(&decoded), [DecodeError::InvalidCheckSum]);
    assert_eq!(messages(&decoded), [pipe(&next)]);
}

#[test]
fn body_length_too_short_garbles_only_its_own_message() {
    let short = frame_with_length_delta("FIX.4.4", "35=D|34=2|49=TW|56=ISLD|11=ID|21=3|", -20);
    let valid = frame("FIX.4.4", "35=D|34=3|49=TW|56=ISLD|11=ID|21=3|");
    let decoded = decode_all(&[short, valid.clone()].concat());
    assert!(matches!(
        garbled(&decoded)[..],
        [DecodeError::BodyLengthMismatch { .. }]
    ));
    assert_eq!(messages(&decoded), [pipe(&valid)]);
}

#[test]
fn body_length_too_long_swallows_the_next_message_as_quickfix_does() {
    // Conformance script 2m: both messages are ignored, and the one after them survives.
    let long = frame_with_length_delta("FIX.4.4", "35=D|34=4|49=TW|56=ISLD|11=ID|", 30);
    let swallowed = frame("FIX.4.4", "35=D|34=5|49=TW|56=ISLD|11=ID|");
    let after = frame("FIX.4.4", "35=D|34=4|49=TW|56=ISLD|11=ID|");
    let decoded = decode_all(&[long, swallowed, after.clone()].concat());
    assert_eq!(decoded.len(), 2);
    assert!(matches!(
        garbled(&decoded)[..],
        [DecodeError::BodyLengthMismatch { .. }]
    ));
    assert_eq!(messages(&decoded), [pipe(&after)]);
}

#[test]
fn first_three_fields_out_of_order_are_garbled() {
    // Conformance script 2t.
    let msg_type_first =
        soh("35=0|8=FIX.4.4|9=29|34=2|49=TW44|52=20261126-14:36:27|56=ISLD|10=121|");
    let seq_second = frame("FIX.4.4", "34=3|35=0|49=TW44|52=20261126-14:36:27|56=ISLD|");
    let valid = frame("FIX.4.4", "35=1|34=3|49=TW44|56=ISLD|112=HELLO|");
    let decoded = decode_all(&[msg_type_first, seq_second, valid.clone()].concat());
    assert_eq!(messages(&decoded), [pipe(&valid)]);
    let errors = garbled(&decoded);
    assert_eq!(errors[0], DecodeError::NotAFrame);
    assert!(errors.contains(&DecodeError::MissingMsgType));
}

#[test]
fn garbage_is_skipped_to_soh_8_not_to_any_8() {
    let valid = frame("FIX.4.4", "35=0|34=2|49=TW|56=ISLD|");
    let garbage = soh("58=text 8=FIX.4.4|108=30|garbage|");
    let decoded = decode_all(&[garbage.clone(), valid.clone()].concat());
    assert_eq!(messages(&decoded), [pipe(&valid)]);
    let skipped: Vec<u8> = decoded
        .iter()
        .filter_map(|d| match d {
            Decoded::Garbled { bytes, .. } => Some(bytes.to_vec()),
            Decoded::Message(_) => None,
        })
        .flatten()
        .collect();
    assert_eq!(pipe(&skipped), pipe(&garbage));
}

#[test]
fn eight_equals_after_garbage_is_not_a_frame_start() {
    // "38=100" split after "3" must not make "8=100" look like a frame start.
    let mut decoder = Decoder::new();
    decoder.feed(b"xx\x013");
    let first = decoder.decode().unwrap();
    assert!(matches!(
        first,
        Some(Decoded::Garbled {
            error: DecodeError::NotAFrame,
            ..
        })
    ));
    decoder.feed(&soh("8=100|"));
    let valid = frame("FIX.4.4", "35=0|34=2|");
    decoder.feed(&valid);
    let rest: Vec<_> = std::iter::from_fn(|| decoder.decode().unwrap()).collect();
    assert_eq!(messages(&rest), [pipe(&valid)]);
}

#[test]
fn body_length_above_the_limit_is_fatal_and_sticky() {
    let mut decoder = Decoder::new();
    decoder.feed(&soh("8=FIX.4.4|9=2147483648|35=0|"));
    let error = DecodeError::BodyLengthTooLarge {
        declared: 2_147_483_648,
        limit: 1 << 20,
    };
    assert_eq!(decoder.decode().unwrap_err(), error);
    assert!(error.is_fatal() && !error.is_garbled());
    decoder.feed(&frame("FIX.4.4", "35=0|"));
    assert_eq!(decoder.decode().unwrap_err(), error);
    assert_eq!(decoder.buffered_len(), 0);
}

#[test]
fn frame_that_never_ends_is_bounded() {
    let mut decoder = Decoder::with_max_message_size(1000);
    decoder.feed(&soh("8=FIX.4.4|9=10|35=0|"));
    let chunk = [b'x'; 100];
    let mut result = Ok(false);
    for _ in 0..20 {
        decoder.feed(&chunk);
        result = decoder.decode().map(|d| d.is_some());
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(DecodeError::FrameTooLong { limit: 1000 }));
}

#[test]
fn huge_declared_length_allocates_nothing_in_advance() {
    let mut decoder = Decoder::new();
    decoder.feed(&soh("8=FIX.4.4|9=1000000|35=0|"));
    assert!(decoder.decode().unwrap().is_none());
    assert!(decoder.buffered_len() < 64);
}

#[test]
fn field_issues_are_reported_with_positions() {
    let wire = frame(
        "FIX.4.4",
        "35=0|34=2|49=TW|56=ISLD|-1=HI|0=HI|58=|4x=y|abc|112=a|112=b|",
    );
    let msg = parse(&wire);
    use FieldIssueKind::*;
    let issues: Vec<_> = msg.issues().iter().map(|i| (i.kind, i.index)).collect();
    assert_eq!(
        issues,
        [
            (InvalidTag, 6),
            (InvalidTag, 7),
            (EmptyValue, 8),
            (InvalidTag, 9),
            (MissingEquals, 10),
            (RepeatedTag, 12)
        ]
    );
    let minus_one = msg.field_at(6).unwrap();
    assert_eq!(
        (minus_one.raw_tag(), minus_one.tag(), minus_one.value()),
        (&b"-1"[..], None, &b"HI"[..])
    );
    assert_eq!(msg.field_at(7).unwrap().raw_tag(), b"0");
    assert_eq!(msg.field_at(10).unwrap().raw_tag(), b"abc");
    assert_eq!(msg.str(112), Ok("a"));
}

#[test]
fn header_field_after_body_is_reported_out_of_order() {
    let wire = frame(
        "FIX.4.4",
        "35=D|34=2|49=TW|11=ID|52=20261126-14:36:27|56=ISLD|93=2|89=ab|55=X|",
    );
    let msg = parse(&wire);
    use FieldIssueKind::*;
    let issues: Vec<_> = msg.issues().iter().map(|i| (i.kind, i.index)).collect();
    assert_eq!(issues, [(OutOfOrder, 6), (OutOfOrder, 7), (OutOfOrder, 10)]);
}

#[test]
fn msg_seq_num_zero_is_a_value() {
    let msg = parse(&frame("FIX.4.4", "35=4|34=0|36=5|123=N|"));
    assert_eq!(msg.seq_num(tag::MSG_SEQ_NUM), Ok(SeqNum::new(0)));
}

#[test]
fn encoder_reproduces_the_execution_report_fixture() {
    let ts = UtcTimestamp::parse(b"20261126-14:36:27.123456").unwrap();
    let micros = TimestampPrecision::Micros;
    let mut body = FieldWriter::new();
    body.str(37, "ORD-000000001234")
        .str(11, "CLORD-000000001234")
        .str(17, "EXEC-000000001234-1")
        .char(150, b'F')
        .char(39, b'2')
        .str(1, "ACCOUNT01")
        .str(55, "AAPL")
        .char(54, b'1')
        .uint(38, 100)
        .char(40, b'2')
        .str(44, "187.25")
        .char(59, b'0')
        .uint(32, 100)
        .str(31, "187.25")
        .uint(151, 0)
        .uint(14, 100)
        .str(6, "187.25")
        .timestamp(60, ts, micros);
    let mut header = [
        HeaderField::new(tag::SENDING_TIME, Value::Timestamp(ts, micros)),
        HeaderField::new(tag::TARGET_COMP_ID, Value::Text(b"INITIATOR01")),
        HeaderField::new(tag::SENDER_COMP_ID, Value::Text(b"ACCEPTOR01")),
        HeaderField::new(tag::MSG_SEQ_NUM, Value::Uint(1_234_567)),
    ];
    let mut out = bytes::BytesMut::new();
    let range = encode_frame(&mut out, b"FIX.4.4", b"8", &mut header, body.as_bytes());
    assert_eq!(pipe(&out[range]), pipe(EXECUTION_REPORT));
}

#[test]
fn remembered_layouts_index_messages_of_every_size_as_a_full_parse_does() {
    // Around the inline index's size, and well past it.
    for fields in (20..40).chain([100]) {
        let mut cache = ParseCache::new();
        let body: String = (0..fields).map(|i| format!("{}=v{i}|", 1000 + i)).collect();
        let wire = frame("FIX.4.4", &format!("35=D|34=2|{body}"));
        let full = parse(&wire);
        for round in 0..3 {
            let cached = Message::parse_cached(Bytes::from(wire.clone()), &mut cache).unwrap();
            let all = |m: &Message| -> Vec<(Option<u32>, Vec<u8>)> {
                m.fields()
                    .iter()
                    .map(|f| (f.tag(), f.value().to_vec()))
                    .collect()
            };
            assert_eq!(all(&cached), all(&full), "{fields} fields, round {round}");
            assert_eq!(cached.issues(), full.issues());
            assert_eq!(cache.len(), 1);
        }
    }
}
