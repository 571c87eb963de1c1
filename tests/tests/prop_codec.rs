//! Property tests of the codec: round trips, chunking invariance, and robustness.

use bytes::BytesMut;
use fixgate_core::BeginString;
use fixgate_core::codec::{Decoded, Decoder, FieldWriter, HeaderField, Value, encode_frame};
use fixgate_core::tag;
use fixgate_tests::wire::{frame, frame_with_length_delta, pipe};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

/// A message as a test describes it.
#[derive(Clone, Debug)]
struct Spec {
    begin_string: BeginString,
    msg_type: Vec<u8>,
    header: Vec<(u32, Vec<u8>)>,
    body: Vec<(u32, Vec<u8>)>,
    raw_data: Option<Vec<u8>>,
}

impl Spec {
    fn encode(&self) -> Vec<u8> {
        let mut body = FieldWriter::new();
        for (tag, value) in &self.body {
            body.bytes(*tag, value);
        }
        if let Some(data) = &self.raw_data {
            body.data(tag::RAW_DATA_LENGTH, tag::RAW_DATA, data);
        }
        let mut header: Vec<_> = self
            .header
            .iter()
            .map(|(tag, value)| HeaderField::new(*tag, Value::Text(value)))
            .collect();
        let mut out = BytesMut::new();
        encode_frame(
            &mut out,
            self.begin_string.as_str().as_bytes(),
            &self.msg_type,
            &mut header,
            body.as_bytes(),
        );
        out.to_vec()
    }

    /// The (tag, value) pairs the decoder should find, in wire order.
    fn expected_fields(&self) -> Vec<(u32, Vec<u8>)> {
        let mut header = self.header.clone();
        header.sort_by_key(|(tag, _)| *tag);
        let mut fields = vec![(35, self.msg_type.clone())];
        fields.extend(header);
        fields.extend(self.body.iter().cloned());
        if let Some(data) = &self.raw_data {
            fields.push((tag::RAW_DATA_LENGTH, data.len().to_string().into_bytes()));
            fields.push((tag::RAW_DATA, data.clone()));
        }
        fields
    }
}

/// Printable ASCII without SOH; `=` is allowed inside values.
fn value() -> impl Strategy<Value = Vec<u8>> {
    vec(0x20u8..0x7f, 1..24)
}

/// Body tags below 1000 and between 3000 and 40000; the range between holds the spec's
/// Length/Data pairs above 1000, which would turn the next field into a data field.
fn body_tag() -> impl Strategy<Value = u32> {
    prop_oneof![1u32..1000, 3000u32..40_000].prop_filter("a plain body tag", |&t| {
        !tag::is_header(t) && !tag::is_trailer(t) && !is_low_length_tag(t) && t != tag::RAW_DATA
    })
}

fn is_low_length_tag(t: u32) -> bool {
    [
        90, 93, 95, 212, 348, 350, 352, 354, 356, 358, 360, 362, 364, 445, 618, 621,
    ]
    .contains(&t)
}

fn spec() -> impl Strategy<Value = Spec> {
    let header_tags =
        prop::sample::subsequence(vec![34u32, 43, 49, 50, 52, 56, 57, 97, 115, 122, 128], 0..8);
    (
        prop::sample::select(BeginString::ALL.to_vec()),
        prop::sample::select(vec![&b"0"[..], b"A", b"D", b"8", b"AE", b"U1"]),
        header_tags.prop_flat_map(|tags| {
            let n = tags.len();
            (Just(tags), vec(value(), n))
        }),
        btree_map(body_tag(), value(), 0..30),
        prop::option::of(vec(any::<u8>(), 1..40)),
    )
        .prop_map(
            |(begin_string, msg_type, (tags, values), body, raw_data)| Spec {
                begin_string,
                msg_type: msg_type.to_vec(),
                header: tags.into_iter().zip(values).collect(),
                // Shuffle-free but not sorted by tag either: reverse the map's order.
                body: body.into_iter().rev().collect(),
                raw_data,
            },
        )
}

/// Decodes `stream` fed in chunks that end at `cuts` (sorted, deduplicated positions).
fn decode_split(stream: &[u8], cuts: &[usize]) -> Vec<Result<Vec<u8>, String>> {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        let cut = cut.clamp(start, stream.len());
        decoder.feed(&stream[start..cut]);
        start = cut;
        while let Some(decoded) = decoder.decode().expect("no fatal error") {
            out.push(match decoded {
                Decoded::Message(m) => Ok(m.as_bytes().to_vec()),
                Decoded::Garbled { error, .. } => Err(error.to_string()),
            });
        }
    }
    out
}

proptest! {
    #[test]
    fn encode_then_decode_round_trips(spec in spec()) {
        let wire = spec.encode();
        let mut decoder = Decoder::new();
        decoder.feed(&wire);
        let Some(Decoded::Message(msg)) = decoder.decode().unwrap() else {
            panic!("not decoded: {}", pipe(&wire));
        };
        prop_assert_eq!(decoder.buffered_len(), 0);
        prop_assert!(msg.issues().is_empty(), "{:?} in {}", msg.issues(), pipe(&wire));
        prop_assert_eq!(msg.begin_string(), spec.begin_string.as_str().as_bytes());
        let found: Vec<(u32, Vec<u8>)> = msg
            .fields()
            .iter()
            .skip(2)
            .take(msg.fields().len() - 3)
            .map(|f| (f.tag().unwrap(), f.value().to_vec()))
            .collect();
        prop_assert_eq!(found, spec.expected_fields());
    }

    #[test]
    fn any_chunking_gives_the_same_frames(
        specs in vec(spec(), 1..6),
        cuts in vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let messages: Vec<Vec<u8>> = specs.iter().map(Spec::encode).collect();
        let stream = messages.concat();
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let expected: Vec<_> = messages.into_iter().map(Ok).collect();
        prop_assert_eq!(decode_split(&stream, &[]), expected.clone());
        prop_assert_eq!(decode_split(&stream, &cuts), expected.clone());
        let every_byte: Vec<usize> = (1..stream.len()).collect();
        prop_assert_eq!(decode_split(&stream, &every_byte), expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_are_accounted_for(bytes in vec(any::<u8>(), 0..600)) {
        // The fuzz target's body: chunking invariance, byte accounting and getters.
        fixgate_tests::fuzz::decode(&bytes);
    }

    #[test]
    fn fix_like_noise_never_panics(
        parts in vec(prop::sample::select(vec![
            "8=FIX.4.4|", "9=", "12", "0", "|", "35=D|", "10=", "123", "=", "95=3|", "96=", "a|b",
            "34=1|", "garbage", "8=", "58=x8=y|",
        ]), 0..60),
        seed in any::<u8>(),
    ) {
        let text: String = parts.concat();
        let mut bytes = vec![seed];
        bytes.extend(fixgate_tests::wire::soh(&text));
        fixgate_tests::fuzz::decode(&bytes);
    }

    #[test]
    fn garbled_frame_between_valid_ones_loses_neither(
        kind in 0..3u8,
        cut in any::<prop::sample::Index>(),
    ) {
        let first = frame("FIX.4.4", "35=0|34=2|49=TW|56=ISLD|");
        let body = "35=D|34=3|49=TW|56=ISLD|11=ID|21=1|55=X|";
        let bad = match kind {
            0 => {
                let mut f = frame("FIX.4.4", body);
                let n = f.len();
                f[n - 3] = if f[n - 3] == b'0' { b'1' } else { b'0' };
                f
            }
            1 => frame_with_length_delta("FIX.4.4", body, -7),
            // Garbage: a frame backwards, ending with SOH as a line on the wire does.
            _ => {
                let mut g: Vec<u8> = frame("FIX.4.4", body).into_iter().rev().collect();
                g.push(0x01);
                g
            }
        };
        let last = frame("FIX.4.4", "35=0|34=4|49=TW|56=ISLD|");
        let stream = [first.clone(), bad, last.clone()].concat();
        let decoded = decode_split(&stream, &[cut.index(stream.len())]);
        let valid: Vec<_> = decoded.into_iter().filter_map(Result::ok).collect();
        prop_assert_eq!(valid, vec![first, last]);
    }

    #[test]
    fn too_long_body_length_swallows_exactly_the_next_message(
        extra in 1isize..40,
        cut in any::<prop::sample::Index>(),
    ) {
        let long = frame_with_length_delta("FIX.4.4", "35=D|34=4|49=TW|56=ISLD|11=ID|", extra);
        let swallowed = frame("FIX.4.4", "35=D|34=5|49=TW|56=ISLD|11=ID|");
        let after = frame("FIX.4.4", "35=0|34=6|49=TW|56=ISLD|");
        let stream = [long, swallowed, after.clone()].concat();
        let decoded = decode_split(&stream, &[cut.index(stream.len())]);
        prop_assert_eq!(decoded.len(), 2);
        prop_assert!(decoded[0].is_err());
        prop_assert_eq!(&decoded[1], &Ok(after));
    }
}

/// One field as raw text: plain fields with tags of every kind the indexer tells apart (header,
/// body, long, zero-padded, invalid, NUL right after the SOH), a data field with SOH inside,
/// and a field without `=`.
fn raw_field() -> impl Strategy<Value = String> {
    let tags = vec![
        "34",
        "49",
        "52",
        "56",
        "11",
        "1",
        "55",
        "54",
        "38",
        "21",
        "10",
        "9999",
        "1234567",
        "12345678",
        "034",
        "0",
        "x",
        "\u{0}",
        "\u{0}\u{0}1",
    ];
    // Plain body tags as well, so that a message may outgrow the inline index.
    let tag = prop_oneof![
        prop::sample::select(tags).prop_map(str::to_string),
        (100u32..160).prop_map(|t| t.to_string()),
    ];
    prop_oneof![
        8 => (tag, "[ -~]{0,12}").prop_map(|(t, v)| format!("{t}={v}")),
        1 => Just("95=3|96=a|b".to_string()),
        1 => Just("58".to_string()),
    ]
}

/// What a parse found: every field's raw tag, tag and value, then the issues.
fn parsed(msg: &fixgate_core::codec::Message) -> String {
    let fields: Vec<_> = msg
        .fields()
        .iter()
        .map(|f| (pipe(f.raw_tag()), f.tag(), pipe(f.value())))
        .collect();
    format!("{fields:?} {:?} {}", msg.issues(), msg.may_repeat_tags())
}

proptest! {
    #[test]
    fn remembered_layouts_index_as_a_full_parse_does(
        base in vec(raw_field(), 0..48),
        edits in vec((any::<prop::sample::Index>(), raw_field(), 0..5u8), 0..8),
        msg_type in prop::sample::select(vec!["D", "8", "AE"]),
    ) {
        use fixgate_core::codec::{Message, ParseCache};
        // A run of messages, each the one before with one edit: layouts repeat, and differ
        // at any field. The first is well formed as often as it can be (header fields first,
        // no tag twice), so that its layout is remembered.
        let tag_of = |f: &String| f.split_once('=').map_or(f.clone(), |(t, _)| t.to_string());
        let mut seen = std::collections::HashSet::new();
        let mut fields: Vec<String> = base.into_iter().filter(|f| seen.insert(tag_of(f))).collect();
        fields.sort_by_key(|f| !["34", "49", "52", "56"].contains(&tag_of(f).as_str()));
        let mut bodies = vec![fields.clone()];
        for (at, field, op) in edits {
            match op {
                0 if !fields.is_empty() => {
                    let i = at.index(fields.len());
                    fields[i] = field;
                }
                1 => fields.insert(at.index(fields.len() + 1), field),
                2 if !fields.is_empty() => {
                    fields.remove(at.index(fields.len()));
                }
                // A new value for the same tag: the layout is kept (an empty value included).
                3 if !fields.is_empty() => {
                    let i = at.index(fields.len());
                    let value = field.split_once('=').map_or("", |(_, v)| v);
                    let tag = fields[i].split_once('=').map_or(&fields[i][..], |(t, _)| t);
                    fields[i] = format!("{tag}={}", &value[..value.len().min(3)]);
                }
                _ => {}
            }
            bodies.push(fields.clone());
            bodies.push(fields.clone());
        }
        let mut cache = ParseCache::new();
        let mut decoder = Decoder::new();
        for body in bodies {
            let mut text = format!("35={msg_type}|");
            for field in &body {
                text.push_str(field);
                text.push('|');
            }
            let wire = frame("FIX.4.4", &text);
            let full = Message::parse(bytes::Bytes::from(wire.clone()));
            let cached = Message::parse_cached(bytes::Bytes::from(wire.clone()), &mut cache);
            decoder.feed(&wire);
            let streamed = decoder.decode().expect("no fatal error");
            match (full, cached, streamed) {
                (Ok(full), Ok(cached), Some(Decoded::Message(streamed))) => {
                    prop_assert_eq!(parsed(&cached), parsed(&full), "{}", pipe(&wire));
                    prop_assert_eq!(parsed(&streamed), parsed(&full), "{}", pipe(&wire));
                }
                (Err(full), Err(cached), Some(Decoded::Garbled { error, .. })) => {
                    prop_assert_eq!(&cached, &full);
                    prop_assert_eq!(&error, &full);
                }
                (full, cached, streamed) => {
                    prop_assert!(false, "{full:?} / {cached:?} / {streamed:?}");
                }
            }
        }
    }
}
