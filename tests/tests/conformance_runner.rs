//! The acceptance-suite runner itself (`fixgate_tests::conformance`), on hand-made scripts and a
//! scripted loopback acceptor: line kinds, completion, comparison, framing and the close rules.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use fixgate_core::codec::{Decoded, Decoder};
use fixgate_tests::conformance::compare::{FieldFormats, compare};
use fixgate_tests::conformance::runner::{RunnerConfig, run_script};
use fixgate_tests::conformance::script::{ParseError, Script, Step, complete, expand};

const FORMATS: &str =
    "10=\\d{3}$\n52=\\d{8}-\\d{2}:\\d{2}:\\d{2}|\\d{8}-\\d{2}:\\d{2}:\\d{2}[.]\\d{3}$\n";

fn soh(text: &str) -> Vec<u8> {
    text.replace('|', "\x01").into_bytes()
}

fn parse(text: &str) -> Result<Script, ParseError> {
    Script::parse(Path::new("t.def"), &soh(text))
}

#[test]
fn lines_take_a_connection_prefix_and_comments_are_skipped() {
    let script = parse("# comment\r\n\niCONNECT\nI2,8=FIX.4.2|35=0|\ne2,DISCONNECT\n").unwrap();
    assert_eq!(
        script.steps,
        [
            (3, Step::Connect { conn: 1 }),
            (
                4,
                Step::Send {
                    conn: 2,
                    text: soh("8=FIX.4.2|35=0|")
                }
            ),
            (5, Step::ExpectDisconnect { conn: 2 }),
        ]
    );
}

#[test]
fn unknown_line_kinds_and_trailing_blanks_are_syntax_errors() {
    assert_eq!(
        parse("iCONNECT\nX8=FIX.4.2|\n"),
        Err(ParseError::Syntax(2, "X8=FIX.4.2|".into()))
    );
    assert_eq!(
        parse("iCONNECT \n"),
        Err(ParseError::Syntax(1, "iCONNECT ".into()))
    );
    assert_eq!(parse("# nothing\n"), Err(ParseError::NoConnect));
    assert_eq!(
        parse("eCONNECT\niCONNECT\n"),
        Err(ParseError::InitiatorScript)
    );
    // An initiator script is skipped even with line kinds this runner does not know.
    assert_eq!(
        parse("R8=FIX.4.2|\ne1,CONNECT\n"),
        Err(ParseError::InitiatorScript)
    );
}

#[test]
fn completion_gives_a_frame_our_decoder_accepts() {
    let done = complete(&soh("8=FIX.4.2|35=0|34=2|49=A|56=B|"));
    assert!(done.starts_with(&soh("8=FIX.4.2|9=20|35=0|")));
    let mut decoder = Decoder::new();
    decoder.feed(&done);
    assert!(matches!(decoder.decode(), Ok(Some(Decoded::Message(_)))));
}

#[test]
fn written_body_length_and_checksum_are_kept_verbatim() {
    let text = soh("8=FIX.4.2|9=5|35=0|10=000|");
    assert_eq!(complete(&text), text);
    // With 10= written and no 9=, the SOH before 10= is not counted (the reference's quirk).
    assert_eq!(
        complete(&soh("8=FIX.4.2|35=0|10=000|")),
        soh("8=FIX.4.2|9=4|35=0|10=000|")
    );
    // Not starting with a BeginString field: sent as written.
    assert_eq!(complete(&soh("35=0|")), soh("35=0|"));
}

#[test]
fn time_placeholders_are_utc_seconds_with_offsets() {
    let now = UNIX_EPOCH + Duration::from_secs(86_400);
    let out = expand(b"52=<TIME>|<TIME+10>|<TIME-1>|<OTHER>", now, Path::new(".")).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "52=19700102-00:00:00|19700102-00:00:10|19700101-23:59:59|<OTHER>"
    );
}

#[test]
fn comparison_is_by_field_with_patterns_for_varying_values() {
    let formats = FieldFormats::parse(FORMATS).unwrap();
    let expected = soh("8=FIX.4.2|9=5|52=00000000-00:00:00.000|10=0|");
    let good = soh("8=FIX.4.2|9=5|52=20261127-03:00:00.123|10=123|");
    assert_eq!(compare(&formats, &expected, &good), Ok(()));
    let bad_length = soh("8=FIX.4.2|9=6|52=20261127-03:00:00.123|10=123|");
    assert!(compare(&formats, &expected, &bad_length).is_err());
    let bad_time = soh("8=FIX.4.2|9=5|52=yesterday|10=123|");
    assert!(compare(&formats, &expected, &bad_time).is_err());
    let reordered = soh("8=FIX.4.2|52=20261127-03:00:00.123|9=5|10=123|");
    assert_eq!(
        compare(&formats, &expected, &reordered),
        Err("Expected field (9) but found field (52)".into())
    );
}

/// Runs `script` against a one-connection acceptor that reads what the script sends, then writes
/// `reply` and closes (or, with `hold`, keeps the connection open).
fn against(script: &str, reply: &[u8], hold: bool) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reply = reply.to_vec();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 256];
        let _ = stream.read(&mut buf);
        stream.write_all(&reply).unwrap();
        if hold {
            // Until the runner closes its side.
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    let config = RunnerConfig {
        addr,
        expect_timeout: Duration::from_secs(5),
        formats: FieldFormats::parse(FORMATS).unwrap(),
    };
    let result = run_script(&config, &parse(script).unwrap());
    server.join().unwrap();
    result
}

#[test]
fn coalesced_messages_are_framed_by_their_body_length() {
    let one = complete(&soh("8=FIX.4.2|35=0|34=1|"));
    let two = complete(&soh("8=FIX.4.2|35=0|34=2|"));
    let script = "iCONNECT\nI8=FIX.4.2|35=A|\nE8=FIX.4.2|35=0|34=1|\nE8=FIX.4.2|35=0|34=2|\n";
    assert_eq!(against(script, &[one.clone(), two].concat(), true), Ok(()));
    let wrong = "iCONNECT\nI8=FIX.4.2|35=A|\nE8=FIX.4.2|35=0|34=2|\n";
    assert!(
        against(wrong, &one, true)
            .unwrap_err()
            .starts_with("line 3: ")
    );
}

#[test]
fn expected_disconnect_fails_on_unread_data_and_passes_on_a_silent_close() {
    let script = "iCONNECT\nI8=FIX.4.2|35=A|\neDISCONNECT\n";
    assert_eq!(against(script, b"", false), Ok(()));
    let logout = complete(&soh("8=FIX.4.2|35=5|34=1|"));
    let error = against(script, &logout, false).unwrap_err();
    assert!(
        error.starts_with("line 3: Expected disconnection, got data"),
        "{error}"
    );
}

#[test]
fn writing_on_a_connection_never_opened_fails_the_script() {
    let script = "iCONNECT\nI8=FIX.4.2|35=A|\nI3,8=FIX.4.2|35=0|\n";
    assert_eq!(
        against(script, b"", true),
        Err("line 3: connection 3 is not open".into())
    );
}
