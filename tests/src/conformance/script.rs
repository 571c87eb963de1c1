//! The `.def` script language of the QuickFIX acceptance suite (shared README, section 2):
//! line kinds, connection numbers, placeholders and BodyLength/CheckSum completion.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use fixgate_core::{TimestampPrecision, UtcTimestamp};

/// The field separator.
pub const SOH: u8 = 0x01;

/// One executable line of a script; `conn` is the connection number (1 when not written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `iCONNECT`: open connection `conn`.
    Connect { conn: u8 },
    /// `iDISCONNECT`: close connection `conn` from our side.
    Disconnect { conn: u8 },
    /// `I<message>`: send the message (placeholders expanded and completed when executed).
    Send { conn: u8, text: Vec<u8> },
    /// `E<message>`: read the next message and compare it with this one.
    Expect { conn: u8, text: Vec<u8> },
    /// `eDISCONNECT`: the acceptor must close the connection within 10 s, sending nothing.
    ExpectDisconnect { conn: u8 },
    /// `eCONNECT`: the engine under test connects to us (initiator scripts only).
    ExpectConnect { conn: u8 },
}

/// A parsed script: its steps with their 1-based line numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// The file the script came from (for `<FILE:…>` next to it and for reports).
    pub path: PathBuf,
    /// The executable lines, in order.
    pub steps: Vec<(usize, Step)>,
}

/// Why a script cannot run at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A line that is no known kind (line number, the line).
    Syntax(usize, String),
    /// Neither `iCONNECT` nor `eCONNECT` anywhere.
    NoConnect,
    /// The first connect is `eCONNECT`: an initiator-side script, which this runner skips.
    InitiatorScript,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Syntax(line, text) => write!(f, "line {line}: syntax error: {text}"),
            Self::NoConnect => f.write_str("did not contain iCONNECT or eCONNECT"),
            Self::InitiatorScript => f.write_str("initiator script (eCONNECT first): skipped"),
        }
    }
}

impl Script {
    /// Parses the bytes of a `.def` file.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, ParseError> {
        // Which side the script plays is decided before its lines are judged, so that an
        // initiator script with line kinds we do not know is skipped, not failed.
        match first_connect(bytes) {
            None => return Err(ParseError::NoConnect),
            Some(b'e') => return Err(ParseError::InitiatorScript),
            Some(_) => {}
        }
        let mut steps = Vec::new();
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let number = index + 1;
            let Some((&kind, rest)) = line.split_first() else {
                continue;
            };
            if kind == b'#' {
                continue;
            }
            let (conn, rest) = connection_prefix(rest);
            let step = match (kind, rest) {
                (b'i', b"CONNECT") => Step::Connect { conn },
                (b'i', b"DISCONNECT") => Step::Disconnect { conn },
                (b'e', b"DISCONNECT") => Step::ExpectDisconnect { conn },
                (b'e', b"CONNECT") => Step::ExpectConnect { conn },
                (b'I', text) => Step::Send {
                    conn,
                    text: text.to_vec(),
                },
                (b'E', text) => Step::Expect {
                    conn,
                    text: text.to_vec(),
                },
                _ => {
                    let text = String::from_utf8_lossy(line).replace('\x01', "|");
                    return Err(ParseError::Syntax(number, text));
                }
            };
            steps.push((number, step));
        }
        Ok(Self {
            path: path.to_owned(),
            steps,
        })
    }
}

/// The kind (`i` or `e`) of the first line matching `^[ie]\d*,?CONNECT`, if any.
fn first_connect(bytes: &[u8]) -> Option<u8> {
    bytes.split(|&b| b == b'\n').find_map(|line| {
        let (&kind, rest) = line.split_first()?;
        if kind != b'i' && kind != b'e' {
            return None;
        }
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let rest = &rest[digits..];
        let rest = rest.strip_prefix(b",").unwrap_or(rest);
        rest.starts_with(b"CONNECT").then_some(kind)
    })
}

/// Splits an optional `<digit>,` connection prefix; without one the connection is 1.
fn connection_prefix(rest: &[u8]) -> (u8, &[u8]) {
    match rest {
        [digit, b',', tail @ ..] if digit.is_ascii_digit() => (digit - b'0', tail),
        _ => (1, rest),
    }
}

/// Expands `<TIME>`, `<TIME±N>` and `<FILE:path>` with the time `now`. `dir` is the script's
/// folder, searched after the working directory for `<FILE:…>`.
pub fn expand(text: &[u8], now: SystemTime, dir: &Path) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.iter().position(|&b| b == b'<') {
        out.extend_from_slice(&rest[..start]);
        let tail = &rest[start..];
        let Some(end) = tail.iter().position(|&b| b == b'>') else {
            out.extend_from_slice(tail);
            return Ok(out);
        };
        let inner = &tail[1..end];
        match placeholder(inner, now, dir)? {
            Some(value) => out.extend_from_slice(&value),
            None => out.extend_from_slice(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.extend_from_slice(rest);
    Ok(out)
}

/// The value of one placeholder, or `None` when `inner` is not one (kept as written).
fn placeholder(inner: &[u8], now: SystemTime, dir: &Path) -> Result<Option<Vec<u8>>, String> {
    if let Some(offset) = inner.strip_prefix(b"TIME") {
        let time = match offset {
            [] => now,
            [sign @ (b'+' | b'-'), digits @ ..] => {
                let Some(secs) = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse::<u64>().ok())
                else {
                    return Ok(None);
                };
                let by = Duration::from_secs(secs);
                if *sign == b'+' { now + by } else { now - by }
            }
            _ => return Ok(None),
        };
        let formatted = UtcTimestamp::from_system_time(time).format(TimestampPrecision::Seconds);
        return Ok(Some(formatted.as_bytes().to_vec()));
    }
    if let Some(name) = inner.strip_prefix(b"FILE:") {
        let name = String::from_utf8_lossy(name).into_owned();
        let contents = std::fs::read(&name)
            .or_else(|_| std::fs::read(dir.join(&name)))
            .map_err(|e| format!("<FILE:{name}>: {e}"))?;
        return Ok(Some(contents.trim_ascii().to_vec()));
    }
    Ok(None)
}

/// Adds BodyLength and CheckSum where the script left them out (README 2.3). A text that does not
/// start with a `8=` field is returned unchanged; a `9=` or trailing `10=` that the script wrote
/// is kept verbatim.
pub fn complete(text: &[u8]) -> Vec<u8> {
    if !text.starts_with(b"8=") {
        return text.to_vec();
    }
    let Some(head_end) = text.iter().position(|&b| b == SOH).map(|p| p + 1) else {
        return text.to_vec();
    };
    let checksum_at = trailing_checksum(text);
    let mut out = Vec::with_capacity(text.len() + 16);
    if contains(text, b"\x019=") {
        out.extend_from_slice(text);
    } else {
        // Reference quirk: with a written 10=, the SOH in front of it is not counted.
        let body_end = checksum_at.map_or(text.len(), |at| at - 1);
        let length = body_end.saturating_sub(head_end);
        out.extend_from_slice(&text[..head_end]);
        out.extend_from_slice(format!("9={length}\x01").as_bytes());
        out.extend_from_slice(&text[head_end..]);
    }
    if checksum_at.is_none() {
        let sum = out.iter().fold(0u8, |acc, &b| acc.wrapping_add(b));
        out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    }
    out
}

/// Where the value field `10=` starts when `text` ends with a `<SOH>10=…<SOH>` field.
fn trailing_checksum(text: &[u8]) -> Option<usize> {
    let body = text.strip_suffix(&[SOH])?;
    let start = body.iter().rposition(|&b| b == SOH)? + 1;
    body[start..].starts_with(b"10=").then_some(start)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
