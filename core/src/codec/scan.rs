//! Word-at-a-time byte search ("SWAR"): eight bytes per step in safe Rust.
//!
//! FIX fields are short (a delimiter every 5 to 6 bytes in a typical order), so a `memchr` call per
//! field costs more in call overhead than it saves; one 64-bit word test per step does not.

const SOH: u8 = 0x01;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Loads eight bytes at `at`, if there are eight.
#[inline(always)]
pub(crate) fn word(buf: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = buf.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// A mask whose lowest set bit is the high bit of the first byte of `word` equal to `byte`; zero
/// when there is none. Bits above the first match may be spurious, where a byte equal to
/// `byte ^ 1` follows a match (a borrow runs on through it); every match has its bit.
#[inline(always)]
fn first_match(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The position of the first `byte` at or after `from`.
#[inline(always)]
pub(crate) fn find(buf: &[u8], from: usize, byte: u8) -> Option<usize> {
    // Most FIX values are shorter than eight bytes: test the first word inline.
    if let Some(w) = word(buf, from) {
        let m = first_match(w, byte);
        if m != 0 {
            return Some(from + (m.trailing_zeros() / 8) as usize);
        }
        return find_after_word(buf, from + 8, byte);
    }
    memchr::memchr(byte, buf.get(from..)?).map(|i| from + i)
}

/// [`find`] past its first word: a few more word steps, then memchr's vector loop for long values
/// (data, free text).
#[inline(never)]
fn find_after_word(buf: &[u8], from: usize, byte: u8) -> Option<usize> {
    let mut at = from;
    for _ in 0..7 {
        let Some(w) = word(buf, at) else { break };
        let m = first_match(w, byte);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr(byte, buf.get(at..)?).map(|i| at + i)
}

/// Where the SOH bytes from `from` on may be, in order, a word at a time, up to the last whole
/// word of the buffer (so a SOH in its last seven bytes is missed: a frame's trailer). Each word
/// is tested on its own, so finding a field's end does not wait on finding the end of the one
/// before it.
///
/// Every SOH is found, but a NUL byte right after a SOH (or after such a NUL) may be found too
/// (see [`first_match`]): such a position is where a field starts, and a caller must not take it
/// for a SOH unchecked.
pub(crate) struct Delimiters<'a> {
    /// The words after the one whose SOHs are in `bits`.
    words: std::slice::Iter<'a, [u8; 8]>,
    /// The start of the word whose SOHs are in `bits`.
    base: usize,
    /// The high bit of every SOH byte of the word not yet returned.
    bits: u64,
}

impl<'a> Delimiters<'a> {
    #[inline(always)]
    pub(crate) fn new(buf: &'a [u8], from: usize) -> Self {
        let mut words = buf
            .get(from..)
            .unwrap_or_default()
            .as_chunks::<8>()
            .0
            .iter();
        Self {
            base: from,
            bits: words
                .next()
                .map_or(0, |&w| first_match(u64::from_le_bytes(w), SOH)),
            words,
        }
    }
}

impl Iterator for Delimiters<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.base += 8;
            self.bits = first_match(u64::from_le_bytes(*self.words.next()?), SOH);
        }
        let at = self.base + (self.bits.trailing_zeros() / 8) as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }
}

/// A field read by [`field`]: its tag, the position of its `=`, and the position of its SOH when
/// that lies in the same eight bytes.
pub(crate) struct ShortField {
    pub(crate) tag: u32,
    pub(crate) eq: usize,
    pub(crate) soh: Option<usize>,
}

/// Reads a tag of one to seven ASCII digits followed by `=` at `at`, and finds the field's SOH
/// too if it lies in the same eight bytes (`54=1<SOH>`). `None` sends the caller to the careful
/// path, which handles everything else (long or invalid tags, a missing `=`, the buffer's end).
#[inline(always)]
pub(crate) fn field(buf: &[u8], at: usize) -> Option<ShortField> {
    let w = word(buf, at)?;
    let (tag, eq) = tag_in_word(w, at)?;
    // The tag's bytes are digits, so the word's first SOH, if any, is the value's end.
    let soh = first_match(w, SOH);
    let soh = (soh != 0).then(|| at + (soh.trailing_zeros() / 8) as usize);
    Some(ShortField { tag, eq, soh })
}

#[inline(always)]
fn tag_in_word(w: u64, at: usize) -> Option<(u32, usize)> {
    let eq = first_match(w, b'=');
    if eq == 0 {
        return None;
    }
    let len = (eq.trailing_zeros() / 8) as usize;
    let mut tag = 0u32;
    let mut digits = len > 0;
    for i in 0..len {
        let digit = ((w >> (8 * i)) as u8).wrapping_sub(b'0');
        digits &= digit <= 9;
        tag = tag * 10 + u32::from(digit);
    }
    (digits && tag != 0).then_some((tag, at + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_agrees_with_a_plain_search() {
        let buf: Vec<u8> = (0..300u32)
            .map(|i| {
                if i % 37 == 5 {
                    1
                } else {
                    b'a' + (i % 20) as u8
                }
            })
            .collect();
        for from in 0..buf.len() {
            let expected = buf[from..].iter().position(|&b| b == 1).map(|i| from + i);
            assert_eq!(find(&buf, from, 1), expected, "from {from}");
        }
        assert_eq!(find(b"abc", 5, 1), None);
    }

    #[test]
    fn delimiters_are_every_soh_in_range() {
        let buf: Vec<u8> = (0..100u32)
            .map(|i| match i % 7 {
                0 | 3 => 1,
                5 => 0,
                _ => 0x81,
            })
            .collect();
        for from in 0..buf.len() {
            // Up to the last whole word from `from`.
            let end = from + (buf.len() - from) / 8 * 8;
            let expected: Vec<usize> = (from..end).filter(|&i| buf[i] == 1).collect();
            let found: Vec<usize> = Delimiters::new(&buf, from)
                .filter(|&i| buf[i] == 1)
                .collect();
            assert_eq!(found, expected, "from {from}");
        }
    }

    #[test]
    fn field_fast_path_takes_only_plain_digit_tags() {
        let tag = |buf: &[u8], at| field(buf, at).map(|f| (f.tag, f.eq));
        assert_eq!(tag(b"35=D\x0134=1\x01", 0), Some((35, 2)));
        assert_eq!(field(b"35=D\x0134=1\x01", 0).unwrap().soh, Some(4));
        assert_eq!(field(b"55=AAPL.O\x01", 0).unwrap().soh, None);
        assert_eq!(tag(b"1234567=x\x01", 0), Some((1_234_567, 7)));
        assert_eq!(tag(b"x\x0155=AAPL\x01", 2), Some((55, 4)));
        for slow in [
            &b"12345678=x\x01"[..],
            b"-1=HI\x01xxx",
            b"0=HI\x01xxxx",
            b"=x\x01xxxxxx",
            b"4/=x\x01xxxx",
            b"4:=x\x01xxxx",
            b"1\x01=x\x01xxxx",
            b"35=D",
        ] {
            assert_eq!(tag(slow, 0), None, "{}", String::from_utf8_lossy(slow));
        }
    }
}
