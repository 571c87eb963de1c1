//! Bodies of the cargo-fuzz targets. Each asserts invariants, so a violation is a crash.

use bytes::Bytes;
use fixgate_core::codec::{DecodeError, Decoded, Decoder, GroupSpec, Message};

/// A small limit, so that the fuzzer reaches the size errors too.
const FUZZ_MAX_MESSAGE_SIZE: usize = 4096;

/// What a decoder produced, normalised so that runs over different chunkings compare equal.
#[derive(Debug, PartialEq, Eq)]
enum Output {
    Message(Bytes),
    Garbled(DecodeError, Vec<u8>),
    Fatal(DecodeError),
}

/// Target `decode`: the first byte picks chunk sizes for the rest of the input.
///
/// - Decoding never panics, whatever the bytes.
/// - Every byte fed is accounted for: returned in a message, dropped as garbled, or still buffered.
/// - The same bytes give the same messages and garbled frames in one chunk or in many.
/// - Every message re-parses to the same fields, and its getters never panic.
pub fn decode(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let whole = decode_in_chunks(stream, stream.len().max(1), 0);
    let chunked = decode_in_chunks(stream, usize::from(seed % 16) + 1, seed / 16);
    assert_eq!(whole, chunked, "chunking changed the decoding");
    let _ = Message::parse(Bytes::copy_from_slice(stream));
}

fn decode_in_chunks(stream: &[u8], first: usize, step: u8) -> Vec<Output> {
    let mut decoder = Decoder::with_max_message_size(FUZZ_MAX_MESSAGE_SIZE);
    let mut out: Vec<Output> = Vec::new();
    let mut fed = 0;
    let mut taken = 0;
    let mut size = first;
    while fed < stream.len() {
        let end = (fed + size).min(stream.len());
        decoder.feed(&stream[fed..end]);
        fed = end;
        size = (size + usize::from(step)) % 23 + 1;
        loop {
            match decoder.decode() {
                Ok(Some(Decoded::Message(msg))) => {
                    taken += msg.as_bytes().len();
                    check_message(&msg);
                    out.push(Output::Message(msg.as_bytes().clone()));
                }
                Ok(Some(Decoded::Garbled { error, bytes })) => {
                    assert!(error.is_garbled());
                    assert!(!bytes.is_empty(), "a garbled report must consume bytes");
                    taken += bytes.len();
                    match out.last_mut() {
                        // Garbage is reported in pieces as it arrives: join the pieces.
                        Some(Output::Garbled(_, prev)) if error == DecodeError::NotAFrame => {
                            prev.extend_from_slice(&bytes);
                        }
                        _ => out.push(Output::Garbled(error, bytes.to_vec())),
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    assert!(error.is_fatal());
                    assert_eq!(
                        decoder.decode().err(),
                        Some(error.clone()),
                        "failure must be sticky"
                    );
                    out.push(Output::Fatal(error));
                    return out;
                }
            }
        }
        assert_eq!(
            taken + decoder.buffered_len(),
            fed,
            "bytes were lost or invented"
        );
    }
    out
}

fn check_message(msg: &Message) {
    let again = Message::parse(msg.as_bytes().clone()).expect("a decoded frame re-parses");
    let fields = msg.fields();
    // The decoder remembers layouts; a parse without them must find the same.
    assert!(fields.iter().eq(again.fields().iter()));
    assert_eq!(msg.issues(), again.issues());
    assert_eq!(fields.at(0).and_then(|f| f.tag()), Some(8));
    assert_eq!(fields.at(fields.len() - 1).and_then(|f| f.tag()), Some(10));
    for field in fields.iter() {
        let Some(tag) = field.tag() else { continue };
        let _ = (
            msg.uint(tag),
            msg.int(tag),
            msg.timestamp(tag),
            msg.str(tag),
        );
        let _ = fields.decimal(tag);
    }
    for issue in msg.issues() {
        assert!(issue.index < fields.len());
    }
    if let Some(tag) = fields.at(3).and_then(|f| f.tag()) {
        let members = [tag, 1, 2, 3];
        let spec = GroupSpec {
            count_tag: tag,
            delimiter: 1,
            members: &members,
        };
        if let Ok(group) = msg.group(&spec) {
            for entry in group {
                assert_eq!(entry.at(0).and_then(|f| f.tag()), Some(1));
            }
        }
    }
}

/// Target `session_input`: an acceptor session fed arbitrary bytes and timer ticks.
///
/// The first byte picks the mode: bit 0 logs on first with a valid Logon, bit 1 reconnects after
/// each disconnect; bits 2 to 5 turn on `RejectGarbledMessage`, `ValidateChecksum=N`,
/// `ResendRequestChunkSize=3` and `SendNextExpectedMsgSeqNum`. Then each byte below 192 feeds the next `byte % 64 + 1` input bytes, and each
/// byte from 192 advances the clock by up to 32 s.
/// - Nothing panics.
/// - Every message the session sends is a valid frame with our CompIDs, and new messages carry
///   strictly increasing MsgSeqNums (resent copies, with PossDupFlag, may go back; a Logon with
///   ResetSeqNumFlag starts them again at 1).
/// - `poll_timeout` is never in the past after `handle_timeout`.
pub fn session_input(data: &[u8]) {
    use fixgate_core::{Action, BeginString, Role, SessionConfig, tag};
    use std::time::Duration;

    use crate::peer::{ScriptedPeer, THEM, US};

    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.max_queued_messages = 16;
    config.resend_read_chunk_size = 4;
    for (bit, key, value) in [
        (2, "RejectGarbledMessage", "Y"),
        (3, "ValidateChecksum", "N"),
        (4, "ResendRequestChunkSize", "3"),
        (5, "SendNextExpectedMsgSeqNum", "Y"),
    ] {
        if mode >> bit & 1 == 1 {
            config.set(key, value).expect("a valid setting");
        }
    }
    let mut peer = ScriptedPeer::with_config(config);
    if mode & 1 == 1 {
        peer.log_on();
    }
    let mut last_new_seq = 0u64;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        if op < 192 {
            let n = (usize::from(op) % 64 + 1).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            peer.session.handle_input(peer.clock.now(), chunk);
        } else {
            let now = peer
                .clock
                .advance(Duration::from_millis(u64::from(op - 191) * 500));
            peer.session.handle_timeout(now);
            if let Some(at) = peer.session.poll_timeout() {
                assert!(at > now.mono, "a timer due now was not fired");
            }
        }
        for action in peer.take_actions() {
            match action {
                Action::Send(bytes) => {
                    let msg = Message::parse(bytes).expect("the session sends valid frames");
                    assert_eq!(msg.get(tag::SENDER_COMP_ID), Some(US.as_bytes()));
                    assert_eq!(msg.get(tag::TARGET_COMP_ID), Some(THEM.as_bytes()));
                    let seq = msg.seq_num(tag::MSG_SEQ_NUM).expect("MsgSeqNum").get();
                    let resent = msg.bool(tag::POSS_DUP_FLAG) == Ok(true);
                    let refusal =
                        msg.msg_type() == b"5" && msg.get(tag::TEXT) == Some(b"Logon rejected");
                    // A Logon with ResetSeqNumFlag=Y starts our numbers again at 1.
                    let reset = msg.msg_type() == b"A"
                        && msg.bool(tag::RESET_SEQ_NUM_FLAG) == Ok(true)
                        && seq == 1;
                    if !resent && !refusal {
                        assert!(
                            seq > last_new_seq || reset,
                            "MsgSeqNum {seq} after {last_new_seq}: {}",
                            crate::wire::pipe(msg.as_bytes())
                        );
                        last_new_seq = seq;
                    }
                }
                Action::Deliver(delivered) => {
                    peer.session.ack(peer.clock.now(), &delivered).expect("ack")
                }
                _ => {}
            }
        }
        if mode & 2 == 2 && !peer.session.is_connected() {
            peer.session.handle_connected(peer.clock.now());
        }
    }
}

/// An input for [`session_input`] made from `seed`: FIX-shaped frames rather than raw bytes, so
/// that the session gets past framing and its rules are what is tried. A mode byte (every
/// setting bit), then up to 25 messages: Logons (with `NextExpectedMsgSeqNum`, with
/// `ResetSeqNumFlag`), TestRequests, ResendRequests, SequenceResets (GapFill or Reset),
/// Logouts, orders and reports, numbered in order, ahead (a gap) or behind, some as PossDup
/// copies and some with a wrong CheckSum, each fed in chunks, with the clock moved now and then.
pub fn session_input_from_seed(seed: u64) -> Vec<u8> {
    use fixgate_core::{TimestampPrecision, UtcTimestamp};
    use std::time::Duration;

    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let start = crate::clock::SimClock::new().utc();
    let mut data = vec![(next() & 0xff) as u8];
    let (mut elapsed, mut seq) = (0u64, 1u64);
    for k in 0..next() % 25 + 1 {
        let time = UtcTimestamp::from_system_time(start + Duration::from_millis(elapsed))
            .format(TimestampPrecision::Millis);
        let time = time.as_str();
        let msg_type = match next() % 10 {
            _ if k == 0 && next() % 3 != 0 => "A",
            0 => "0",
            1 => "1",
            2 => "2",
            3 => "4",
            4 => "5",
            5 => "A",
            6 => "8",
            _ => "D",
        };
        let this = match next() % 6 {
            0 => seq + 1 + next() % 4,
            1 => seq.saturating_sub(next() % 3).max(1),
            _ => seq,
        };
        seq = this + 1;
        let mut fields = String::new();
        match msg_type {
            "A" => {
                fields.push_str("98=0|108=30|");
                if next() % 2 == 0 {
                    fields.push_str(&format!("789={}|", next() % 6));
                }
                if next() % 4 == 0 {
                    fields.push_str("141=Y|");
                }
            }
            "1" => fields.push_str("112=T|"),
            "2" => fields.push_str(&format!("7={}|16={}|", next() % 6, next() % 8)),
            "4" => {
                fields.push_str(&format!("36={}|", next() % 12));
                if next() % 2 == 0 {
                    fields.push_str("123=Y|");
                }
            }
            "8" | "D" => fields.push_str("11=X|55=A|54=1|38=1|40=1|"),
            _ => {}
        }
        if next() % 5 == 0 {
            fields.push_str(&format!("43=Y|122={time}|"));
        }
        let body = format!("35={msg_type}|34={this}|49=TW|52={time}|56=ISLD|{fields}");
        let mut frame = crate::wire::frame("FIX.4.4", &body);
        if next() % 10 == 0 {
            let at = frame.len() - 3;
            frame[at] ^= 1; // A wrong CheckSum.
        }
        for chunk in frame.chunks((next() % 64) as usize + 1) {
            data.push((chunk.len() - 1) as u8);
            data.extend_from_slice(chunk);
        }
        if next() % 4 == 0 {
            let step = next() % 4;
            data.push(192 + step as u8);
            elapsed += (step + 1) * 500;
        }
    }
    // Then, at times, a long wait: timers fire.
    let waits = (next() % 2) * (next() % 30);
    data.resize(data.len() + waits as usize, 255);
    data
}

/// Target `engine_route`: an engine with two registered acceptors (and unregistered sessions
/// allowed) routes connections whose bytes are arbitrary.
///
/// Each input byte below 224 sends the next `byte % 32 + 1` bytes on connection `byte % 4`
/// (opened on first use); 224-239 closes connection `byte % 4`; 240 and above advance the clock.
/// - Nothing panics, and every output names a connection that was opened.
/// - No connection ever gets bytes after it was closed.
/// - The pending-connection and session counts stay bounded.
pub fn engine_route(data: &[u8]) {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use fixgate_core::{
        BeginString, ConnId, Engine, EngineConfig, MemoryStore, Output, Role, SessionConfig,
        SessionId, UtcTimestamp,
    };

    use crate::clock::SimClock;

    let mut clock = SimClock::new();
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        max_pending_connections: 3,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config, clock.now());
    for target in ["TW", "TW2"] {
        let id = SessionId::new("ISLD", target);
        let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
        let session = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        engine
            .create_session(id.clone(), session, Box::new(store))
            .expect("new session");
        engine.register_acceptor(&id).expect("acceptor");
    }
    let mut opened = BTreeSet::new();
    let mut closed = BTreeSet::new();
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let conn = ConnId(u64::from(op % 4));
        match op {
            0..=223 => {
                let n = (usize::from(op) % 32 + 1).min(rest.len());
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                if opened.insert(conn) {
                    engine.handle_connection_opened(conn, None, clock.now());
                }
                if !closed.contains(&conn) {
                    engine.handle_input(conn, clock.now(), chunk);
                }
            }
            224..=239 => {
                if opened.contains(&conn) && closed.insert(conn) {
                    engine.handle_connection_closed(conn, clock.now());
                }
            }
            _ => {
                let now = clock.advance(Duration::from_secs(u64::from(op - 239)));
                engine.handle_timeout(now);
            }
        }
        while let Some(output) = engine.poll_output() {
            match output {
                Output::Send { conn, .. } => {
                    assert!(
                        opened.contains(&conn) && !closed.contains(&conn),
                        "send on {conn}"
                    );
                }
                Output::Close { conn, .. } => {
                    assert!(opened.contains(&conn), "close of {conn}");
                    closed.insert(conn);
                }
                Output::Deliver { session } => {
                    let delivered = engine.take_delivered(&session).expect("announced");
                    engine.ack(&session, &delivered).expect("ack")
                }
                _ => {}
            }
        }
        assert!(
            engine.session_ids().count() <= 2 + 4,
            "sessions grow without bound"
        );
    }
}

/// Target `properties`: arbitrary text as an `engine.properties` file.
/// - Parsing, building the engine's settings and the sessions never panic.
/// - Every error names the file, and a line within it (or 0 for a missing key).
pub fn properties(data: &[u8]) {
    use fixgate_core::properties::Properties;

    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count();
    let check = |error: &fixgate_core::properties::PropertiesError| {
        assert_eq!(error.file, "fuzz.properties");
        assert!(error.line <= lines, "line {} of {lines}", error.line);
    };
    match Properties::parse(&text, "fuzz.properties") {
        Ok(props) => {
            if let Err(error) = props.engine_config() {
                check(&error);
            }
            if let Err(error) = props.sessions() {
                check(&error);
            }
        }
        Err(error) => check(&error),
    }
}

/// Target `dictionary`: arbitrary text as a QuickFIX XML data dictionary.
///
/// - Loading never panics; an XML error names the file and a line of the text.
/// - A dictionary that loads validates sample messages (orders with groups, repeats, unknown
///   tags) without panicking, under strict and lenient rules, and a remembered shape gives the
///   result of a full validation.
/// - The canonical body it writes only reorders the message's fields: none invented, none
///   written twice.
pub fn dictionary(data: &[u8]) {
    use fixgate_core::codec::FieldWriter;
    use fixgate_core::dictionary::{Rules, ShapeCache, write_canonical_body};
    use fixgate_dictionary::LoadError;

    let text = String::from_utf8_lossy(data);
    let lines = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
    let dictionary = match fixgate_dictionary::from_xml(&text, std::path::Path::new("fuzz.xml")) {
        Ok(dictionary) => dictionary,
        Err(LoadError::Invalid { file, line, .. }) => {
            assert_eq!(file, std::path::Path::new("fuzz.xml"));
            assert!(line <= lines + 1, "line {line} of {lines}");
            return;
        }
        Err(_) => return,
    };
    let lenient = Rules {
        fields_have_values: false,
        fields_out_of_order: false,
        user_defined_fields: false,
        allow_unknown_msg_fields: true,
    };
    let dictionary = std::sync::Arc::new(dictionary);
    let mut shapes = ShapeCache::new();
    for body in DICTIONARY_SAMPLES {
        let msg = Message::parse(Bytes::from(crate::wire::frame("FIX.4.4", body))).unwrap();
        for rules in [Rules::default(), lenient] {
            let full = dictionary.validate(&msg, &rules);
            if let Err(violation) = full {
                let _ = violation.ref_tag(&msg);
            }
            // The first call judges the shape, the second (when it passed) remembers it.
            for _ in 0..2 {
                assert_eq!(dictionary.validate_cached(&msg, &rules, &mut shapes), full);
            }
        }
        let mut out = FieldWriter::new();
        write_canonical_body(&msg, Some(&*dictionary), &mut out);
        let mut fields: Vec<Vec<u8>> = msg
            .fields()
            .iter()
            .filter(|f| f.tag().is_some())
            .map(|f| [f.raw_tag(), b"=", f.value()].concat())
            .collect();
        for written in out
            .as_bytes()
            .split(|&b| b == 0x01)
            .filter(|w| !w.is_empty())
        {
            let at = fields.iter().position(|f| f == written);
            let at =
                at.unwrap_or_else(|| panic!("invented {:?}", String::from_utf8_lossy(written)));
            fields.swap_remove(at);
        }
    }
}

/// Message bodies (after the standard header's first fields) that the `dictionary` target
/// validates against whatever dictionary the input makes.
const DICTIONARY_SAMPLES: &[&str] = &[
    "35=D|34=2|49=A|52=20261127-05:31:33|56=B|11=ID|21=1|38=100|40=1|54=1|55=INTC|60=20261127-05:31:33|",
    "35=D|34=2|49=A|52=20261127-05:31:33|56=B|11=ID|386=2|336=X|625=Y|336=Z|78=1|79=A|80=1|55=I|",
    "35=0|34=2|49=A|52=20261127-05:31:33|56=B|112=|999=X|112=Y|5000=Z|",
    "35=8|34=2|43=Y|49=A|52=20261127-05:31:33|56=B|122=20261127-05:31:33|453=1|448=P|447=D|452=1|802=1|523=S|",
];

/// Target `link` (differential): an initiator and an acceptor joined by a link that the input
/// drives, two bytes per step: puts on either side, partial transmissions, cuts, reconnects,
/// bytes lost in flight and timer jumps of up to 65 s. After the input, the link heals; then
/// every message put on one side has reached the other side's application exactly once, in the
/// order it was put.
///
/// `MaxLatency` is above the longest time the input can hold a message on the link (256 steps of
/// at most 65 s, then the 160 s heal: under 5 h). Within it, FIX itself promises no more than
/// at-most-once: a message that arrives later than `MaxLatency` is rejected (SendingTime
/// accuracy) and its number consumed, so the application never sees it. The SendingTime check
/// still runs on every message; it only never fails.
pub fn link(data: &[u8]) {
    use std::time::Duration;

    use crate::pair::{Pair, Side};

    let mut pair = Pair::with_config(Duration::from_secs(30), |config| {
        config.max_latency = Duration::from_secs(24 * 3600);
    });
    pair.connect();
    let mut put: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for (i, step) in data.chunks_exact(2).take(256).enumerate() {
        let (kind, arg) = (step[0], step[1]);
        let side = if kind & 0x80 == 0 {
            Side::Initiator
        } else {
            Side::Acceptor
        };
        match kind & 0x07 {
            0 | 1 => {
                let id = format!("{side:?}-{i}");
                pair.put(side, &id);
                put[side as usize].push(id);
            }
            2 | 3 => {
                pair.pump();
                pair.transmit(usize::from(arg) + 1);
            }
            4 => pair.tick(Duration::from_millis(u64::from(arg) * 256)),
            5 => pair.cut(),
            6 => pair.connect(),
            _ => {
                pair.pump();
                pair.lose_byte(side, usize::from(arg) | usize::from(kind >> 3) << 8);
            }
        }
        // Actions are drained after every step, as an adapter does.
        pair.pump();
    }
    // Heal for 160 s: a Logon corrupted in flight waits out LogonTimeout (10 s) before the next
    // try, and a message lost last on the link shows as a gap at the next Heartbeat (30 s).
    for _ in 0..160 {
        pair.connect();
        pair.settle();
        pair.tick(Duration::from_secs(1));
    }
    pair.settle();
    assert!(pair.is_connected(), "the link did not heal");
    for (from, to) in [
        (Side::Initiator, Side::Acceptor),
        (Side::Acceptor, Side::Initiator),
    ] {
        // Every message put arrived once, in the order it was put, and nothing else arrived.
        assert_eq!(
            pair.received(to),
            put[from as usize],
            "{from:?} to {to:?}: not each message exactly once and in order (rejected: {:?})",
            pair.rejected(to)
        );
    }
}
