//! The codec's steady state allocates nothing per message.

use bytes::{Bytes, BytesMut};
use fixgate_core::codec::{
    Decoded, Decoder, FieldWriter, HeaderField, Message, Value, encode_frame,
};
use fixgate_core::{TimestampPrecision, UtcTimestamp, tag};
use fixgate_tests::alloc::{CountingAllocator, allocations_in};
use fixgate_tests::fixtures::{EXECUTION_REPORT, NEW_ORDER_SINGLE};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn parsing_a_message_of_up_to_32_fields_does_not_allocate() {
    for fixture in [NEW_ORDER_SINGLE, EXECUTION_REPORT] {
        let frame = Bytes::from_static(fixture);
        let (fields, allocations) = allocations_in(|| {
            let msg = Message::parse(frame.clone()).unwrap();
            msg.str(tag::CL_ORD_ID).unwrap();
            msg.fields().len()
        });
        assert!(fields > 16);
        assert_eq!(allocations, 0);
    }
}

#[test]
fn streaming_decoder_reuses_its_buffer_once_messages_are_dropped() {
    let mut decoder = Decoder::new();
    let step = |decoder: &mut Decoder| {
        for fixture in [NEW_ORDER_SINGLE, EXECUTION_REPORT] {
            decoder.feed(fixture);
            let Some(Decoded::Message(msg)) = decoder.decode().unwrap() else {
                panic!("not a message");
            };
            assert_eq!(msg.as_bytes().len(), fixture.len());
        }
    };
    for _ in 0..10 {
        step(&mut decoder);
    }
    let ((), allocations) = allocations_in(|| {
        for _ in 0..1000 {
            step(&mut decoder);
        }
    });
    assert_eq!(allocations, 0, "2000 messages");
}

#[test]
fn encoding_into_reused_buffers_does_not_allocate() {
    let ts = UtcTimestamp::parse(b"20261126-14:36:27.123").unwrap();
    let mut body = FieldWriter::with_capacity(256);
    let mut out = BytesMut::with_capacity(512);
    let ((), allocations) = allocations_in(|| {
        for seq in 1..=1000u64 {
            body.clear();
            out.clear();
            body.str(tag::CL_ORD_ID, "ORD-1")
                .char(54, b'1')
                .uint(38, 100)
                .str(44, "187.25");
            let mut header = [
                HeaderField::new(tag::MSG_SEQ_NUM, Value::Uint(seq)),
                HeaderField::new(tag::SENDER_COMP_ID, Value::Text(b"BANK")),
                HeaderField::new(tag::TARGET_COMP_ID, Value::Text(b"VENUE")),
                HeaderField::new(
                    tag::SENDING_TIME,
                    Value::Timestamp(ts, TimestampPrecision::Millis),
                ),
            ];
            encode_frame(&mut out, b"FIX.4.4", b"D", &mut header, body.as_bytes());
        }
    });
    assert_eq!(allocations, 0);
}

#[test]
fn the_counter_sees_allocations() {
    let (v, allocations) = allocations_in(|| Vec::<u8>::with_capacity(64));
    assert_eq!((v.capacity() >= 64, allocations), (true, 1));
    // A message of more than 32 fields moves its index to the heap, and the counter sees it.
    let body: String = (1000..1040).map(|t| format!("{t}=x|")).collect();
    let wire = fixgate_tests::wire::frame("FIX.4.4", &format!("35=D|{body}"));
    let frame = Bytes::from(wire);
    let (_, allocations) = allocations_in(|| Message::parse(frame.clone()).unwrap());
    assert!(allocations >= 1);
}

#[test]
fn validating_against_a_dictionary_does_not_allocate() {
    let file = fixgate_tests::conformance::suite_dir().join("spec/FIX44.xml");
    if !file.is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "QuickFIX's FIX44.xml is missing under CI=true: {}",
            file.display()
        );
        eprintln!("skipping: no dictionary at {}", file.display());
        return;
    }
    let dictionary = fixgate_dictionary::load(&file).unwrap();
    let rules = fixgate_core::dictionary::Rules::default();
    for fixture in [NEW_ORDER_SINGLE, EXECUTION_REPORT] {
        let frame = Bytes::from_static(fixture);
        let (valid, allocations) = allocations_in(|| {
            let msg = Message::parse(frame.clone()).unwrap();
            dictionary.validate(&msg, &rules)
        });
        assert_eq!(valid, Ok(()));
        assert_eq!(allocations, 0);
    }
    // With remembered shapes: once a shape is held, its messages cost no allocation either.
    let dictionary = std::sync::Arc::new(dictionary);
    let mut shapes = fixgate_core::dictionary::ShapeCache::new();
    for fixture in [NEW_ORDER_SINGLE, EXECUTION_REPORT] {
        let frame = Bytes::from_static(fixture);
        let msg = Message::parse(frame.clone()).unwrap();
        assert_eq!(
            dictionary.validate_cached(&msg, &rules, &mut shapes),
            Ok(())
        );
        let (valid, allocations) = allocations_in(|| {
            let msg = Message::parse(frame.clone()).unwrap();
            dictionary.validate_cached(&msg, &rules, &mut shapes)
        });
        assert_eq!(valid, Ok(()));
        assert_eq!(allocations, 0);
    }
}
