//! Readable FIX in tests: `|` stands for SOH.

/// Replaces every `|` with SOH.
pub fn soh(text: &str) -> Vec<u8> {
    text.bytes()
        .map(|b| if b == b'|' { 0x01 } else { b })
        .collect()
}

/// Replaces every SOH with `|`, for readable assertions.
pub fn pipe(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\x01', "|")
}

/// Builds a well-formed frame: `8=begin_string|9=<len>|<body>10=<sum>|`, where `body` is written
/// with `|` and ends with `|`.
pub fn frame(begin_string: &str, body: &str) -> Vec<u8> {
    let body = soh(body);
    let mut out = format!("8={begin_string}\x019={}\x01", body.len()).into_bytes();
    out.extend_from_slice(&body);
    let sum = out.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    out
}

/// Like [`frame`], with a BodyLength that differs from the true one by `delta`.
pub fn frame_with_length_delta(begin_string: &str, body: &str, delta: isize) -> Vec<u8> {
    let body = soh(body);
    let declared = body
        .len()
        .checked_add_signed(delta)
        .expect("length stays positive");
    let mut out = format!("8={begin_string}\x019={declared}\x01").into_bytes();
    out.extend_from_slice(&body);
    let sum = out.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    out
}

/// `frame` with its CheckSum <10> off by one (its last digit changed).
pub fn with_wrong_checksum(frame: &[u8]) -> Vec<u8> {
    let mut out = frame.to_vec();
    let last = out.len() - 2;
    out[last] = if out[last] == b'9' {
        b'0'
    } else {
        out[last] + 1
    };
    out
}

/// `frame` with a BodyLength <9> three short and a CheckSum <10> that matches it: the frame is
/// garbled by its length alone.
pub fn with_wrong_body_length(frame: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(frame).expect("ASCII frame");
    let (head, rest) = text.split_once("\x019=").expect("BodyLength");
    let (length, tail) = rest.split_once('\x01').expect("SOH after BodyLength");
    let short = length.parse::<usize>().expect("digits") - 3;
    let trailer = tail.rfind("10=").expect("CheckSum");
    let mut out = format!("{head}\x019={short}\x01{}", &tail[..trailer]).into_bytes();
    let sum = out.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    out.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    out
}
