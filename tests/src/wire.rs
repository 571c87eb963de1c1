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
