//! Writing messages: body fields with [`FieldWriter`], whole frames with [`encode_frame`].
//!
//! Outbound field order (DESIGN.md section 6): `8`, `9`, `35`, the other header fields in ascending
//! tag order, the body in the order the application gave it, then `10`. BodyLength is computed from
//! the parts' lengths before anything is written, so no field is written twice; it is never
//! zero-padded.

use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};

use super::{SOH, checksum};
use crate::tag;
use crate::time::{TimestampPrecision, UtcTimestamp};

/// A value to encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// Bytes written as they are. They MUST NOT contain SOH (use [`FieldWriter::data`] for data).
    Text(&'a [u8]),
    /// An unsigned integer.
    Uint(u64),
    /// A signed integer.
    Int(i64),
    /// A `char`.
    Char(u8),
    /// A `Boolean`, as `Y` or `N`.
    Bool(bool),
    /// A `UTCTimestamp` with the given number of fraction digits.
    Timestamp(UtcTimestamp, TimestampPrecision),
}

impl Value<'_> {
    /// The number of bytes the value takes on the wire.
    pub fn encoded_len(&self) -> usize {
        match *self {
            Self::Text(text) => text.len(),
            Self::Uint(n) => uint_len(n),
            Self::Int(n) => uint_len(n.unsigned_abs()) + usize::from(n < 0),
            Self::Char(_) | Self::Bool(_) => 1,
            Self::Timestamp(_, precision) => precision.encoded_len(),
        }
    }

    /// The value as it goes on the wire.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.write(&mut out);
        out.freeze()
    }

    fn write(&self, out: &mut BytesMut) {
        match *self {
            Self::Text(text) => out.put_slice(text),
            Self::Uint(n) => put_uint(out, n),
            Self::Int(n) => {
                if n < 0 {
                    out.put_u8(b'-');
                }
                put_uint(out, n.unsigned_abs());
            }
            Self::Char(c) => out.put_u8(c),
            Self::Bool(b) => out.put_u8(if b { b'Y' } else { b'N' }),
            Self::Timestamp(ts, precision) => out.put_slice(ts.format(precision).as_bytes()),
        }
    }
}

/// A header field for [`encode_frame`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderField<'a> {
    /// The tag.
    pub tag: u32,
    /// The value.
    pub value: Value<'a>,
}

impl<'a> HeaderField<'a> {
    /// A header field.
    pub fn new(tag: u32, value: Value<'a>) -> Self {
        Self { tag, value }
    }

    fn encoded_len(&self) -> usize {
        uint_len(u64::from(self.tag)) + self.value.encoded_len() + 2
    }
}

/// Appends one complete frame to `out` and returns where it lies in `out`.
///
/// `header` holds every header field besides `8`, `9` and `35` (typically `34`, `49`, `52`, `56`
/// and whatever else the session adds); it is sorted here into ascending tag order. `body` is the
/// encoded body, as a [`FieldWriter`] builds it.
///
/// ```
/// use bytes::BytesMut;
/// use fixgate_core::codec::{HeaderField, Value, encode_frame};
///
/// let mut out = BytesMut::new();
/// let mut header = [
///     HeaderField::new(56, Value::Text(b"VENUE")),
///     HeaderField::new(34, Value::Uint(2)),
///     HeaderField::new(49, Value::Text(b"BANK")),
/// ];
/// encode_frame(&mut out, b"FIX.4.4", b"0", &mut header, b"");
/// assert_eq!(&out[..], b"8=FIX.4.4\x019=27\x0135=0\x0134=2\x0149=BANK\x0156=VENUE\x0110=161\x01");
/// ```
pub fn encode_frame(
    out: &mut BytesMut,
    begin_string: &[u8],
    msg_type: &[u8],
    header: &mut [HeaderField<'_>],
    body: &[u8],
) -> Range<usize> {
    if !header.is_sorted_by_key(|field| field.tag) {
        header.sort_unstable_by_key(|field| field.tag);
    }
    let body_length = 4
        + msg_type.len()
        + header.iter().map(HeaderField::encoded_len).sum::<usize>()
        + body.len();
    let start = out.len();
    out.reserve(begin_string.len() + uint_len(body_length as u64) + body_length + 12);
    put_text_field(out, tag::BEGIN_STRING, begin_string);
    out.put_slice(b"9=");
    put_uint(out, body_length as u64);
    out.put_u8(SOH);
    put_text_field(out, tag::MSG_TYPE, msg_type);
    for field in header.iter() {
        put_field(out, field.tag, field.value);
    }
    out.put_slice(body);
    let sum = checksum(&out[start..]);
    out.put_slice(&[
        b'1',
        b'0',
        b'=',
        b'0' + sum / 100,
        b'0' + sum / 10 % 10,
        b'0' + sum % 10,
        SOH,
    ]);
    start..out.len()
}

/// Builds a message body field by field, in the order given, into a reusable buffer.
///
/// ```
/// use fixgate_core::codec::FieldWriter;
///
/// let mut body = FieldWriter::new();
/// body.str(11, "ORD-1").char(54, b'1').uint(38, 100).data(95, 96, b"a\x01b");
/// assert_eq!(body.as_bytes(), b"11=ORD-1\x0154=1\x0138=100\x0195=3\x0196=a\x01b\x01");
/// ```
#[derive(Clone, Debug, Default)]
pub struct FieldWriter {
    buf: BytesMut,
}

impl FieldWriter {
    /// An empty writer; it allocates on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: BytesMut::with_capacity(capacity),
        }
    }

    /// Appends `tag=value<SOH>`.
    #[inline]
    pub fn field(&mut self, tag: u32, value: Value<'_>) -> &mut Self {
        put_field(&mut self.buf, tag, value);
        self
    }

    /// Appends a text field. `value` MUST NOT contain SOH.
    #[inline]
    pub fn str(&mut self, tag: u32, value: &str) -> &mut Self {
        self.bytes(tag, value.as_bytes())
    }

    /// Appends a field of raw bytes. `value` MUST NOT contain SOH.
    #[inline]
    pub fn bytes(&mut self, tag: u32, value: &[u8]) -> &mut Self {
        put_text_field(&mut self.buf, tag, value);
        self
    }

    /// Appends an unsigned integer field.
    #[inline]
    pub fn uint(&mut self, tag: u32, value: u64) -> &mut Self {
        self.field(tag, Value::Uint(value))
    }

    /// Appends a signed integer field.
    #[inline]
    pub fn int(&mut self, tag: u32, value: i64) -> &mut Self {
        self.field(tag, Value::Int(value))
    }

    /// Appends a `char` field.
    #[inline]
    pub fn char(&mut self, tag: u32, value: u8) -> &mut Self {
        self.field(tag, Value::Char(value))
    }

    /// Appends a `Boolean` field (`Y`/`N`).
    #[inline]
    pub fn bool(&mut self, tag: u32, value: bool) -> &mut Self {
        self.field(tag, Value::Bool(value))
    }

    /// Appends a `UTCTimestamp` field.
    #[inline]
    pub fn timestamp(
        &mut self,
        tag: u32,
        value: UtcTimestamp,
        precision: TimestampPrecision,
    ) -> &mut Self {
        self.field(tag, Value::Timestamp(value, precision))
    }

    /// Appends a Length/Data pair, for example `RawDataLength <95>` and `RawData <96>`: the data
    /// may contain SOH, because the reader takes it by its length.
    pub fn data(&mut self, length_tag: u32, data_tag: u32, data: &[u8]) -> &mut Self {
        self.uint(length_tag, data.len() as u64);
        self.field(data_tag, Value::Text(data))
    }

    /// The encoded fields.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The number of bytes written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets the fields, keeping the buffer's memory.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Takes the fields written so far, leaving the writer empty.
    pub fn split(&mut self) -> Bytes {
        self.buf.split().freeze()
    }
}

const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The two ASCII digits of `n`, which must be below 100.
#[inline(always)]
pub(crate) fn digit_pair(n: u32) -> [u8; 2] {
    let i = (n as usize % 100) * 2;
    [DIGIT_PAIRS[i], DIGIT_PAIRS[i + 1]]
}

/// The number of decimal digits of `n`; small numbers (tags, lengths, sequence numbers) take
/// the first comparisons.
#[inline]
pub(crate) fn uint_len(n: u64) -> usize {
    if n < 10 {
        1
    } else if n < 100 {
        2
    } else if n < 1000 {
        3
    } else if n < 10_000 {
        4
    } else {
        n.ilog10() as usize + 1
    }
}

/// Writes `n` in decimal straight into `out`: eight digits at once below 10^8, two at a time
/// above.
#[inline]
pub(crate) fn put_uint(out: &mut BytesMut, n: u64) {
    if let Some((digits, len)) = short_digits(n) {
        let (at, block) = grow::<8>(out);
        *block = digits;
        out.truncate(at + len);
        return;
    }
    let len = uint_len(n);
    let (at, block) = grow::<20>(out);
    let (mut n, mut i) = (n, len);
    while n >= 100 {
        i -= 2;
        block[i..i + 2].copy_from_slice(&digit_pair((n % 100) as u32));
        n /= 100;
    }
    if n >= 10 {
        block[..2].copy_from_slice(&digit_pair(n as u32));
    } else {
        block[0] = b'0' + n as u8;
    }
    out.truncate(at + len);
}

/// Writes `tag=n<SOH>`: for a common tag and `n` below 10^8, one 32-byte append, trimmed.
#[inline(always)]
fn put_uint_field(out: &mut BytesMut, tag: u32, n: u64) {
    match (TAG_PREFIXES.get(tag as usize), short_digits(n)) {
        (Some(prefix), Some((digits, len))) => {
            let (start, block) = grow::<32>(out);
            block[..8].copy_from_slice(prefix);
            let at = usize::from(prefix[7]);
            block[at..at + 8].copy_from_slice(&digits);
            block[at + len] = SOH;
            out.truncate(start + at + len + 1);
        }
        _ => {
            out.reserve(32);
            put_tag(out, tag);
            put_uint(out, n);
            out.put_u8(SOH);
        }
    }
}

/// The decimal digits of `n` when it is below 10^8: eight bytes whose first `len` are the
/// digits (the rest to be trimmed), and `len`.
///
/// The digits come from one word ("SWAR"): `n` is split into two halves below 10^4 held in
/// 32-bit lanes, each lane is divided by 100 and then, in 16-bit lanes, by 10, with a multiply
/// and a shift that are exact in those ranges; the leading zeros are then shifted out.
#[inline(always)]
fn short_digits(n: u64) -> Option<([u8; 8], usize)> {
    if n >= 100_000_000 {
        return None;
    }
    let x = (n / 10_000) | ((n % 10_000) << 32);
    // Each 32-bit lane (below 10^4) divided by 100: x * 10486 >> 20 is exact there.
    let hundreds = ((x * 10_486) >> 20) & 0x0000_007F_0000_007F;
    let x = hundreds | ((x - hundreds * 100) << 16);
    // Each 16-bit lane (below 100) divided by 10: x * 103 >> 10 is exact there.
    let tens = ((x * 103) >> 10) & 0x000F_000F_000F_000F;
    let digits = tens | ((x - tens * 10) << 8);
    // The first digit is in the lowest byte; leading zeros are zero bytes (at most 7 dropped).
    let zeros = (digits.trailing_zeros() / 8).min(7);
    let ascii = (digits | 0x3030_3030_3030_3030) >> (8 * zeros);
    Some((ascii.to_le_bytes(), 8 - zeros as usize))
}

/// Appends `N` zero bytes and returns where they start and the bytes themselves, to be filled in
/// place and trimmed: fixed-size stores, and no stack copy whose reload would stall.
#[inline(always)]
fn grow<const N: usize>(out: &mut BytesMut) -> (usize, &mut [u8; N]) {
    let at = out.len();
    out.extend_from_slice(&[0; N]);
    let block = <&mut [u8; N]>::try_from(&mut out[at..]).expect("N bytes were just appended");
    (at, block)
}

/// `tag=` for every tag below 1024, padded to eight bytes, with its length in the last byte.
const TAG_PREFIXES: [[u8; 8]; 1024] = {
    let mut table = [[0u8; 8]; 1024];
    let mut tag = 0;
    while tag < 1024 {
        let len = if tag < 10 {
            1
        } else if tag < 100 {
            2
        } else if tag < 1000 {
            3
        } else {
            4
        };
        let mut n = tag;
        let mut i = len;
        while i > 0 {
            i -= 1;
            table[tag][i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        table[tag][len] = b'=';
        table[tag][7] = len as u8 + 1;
        tag += 1;
    }
    table
};

/// Writes `tag=`. Common tags come from a table and are stored as one fixed-size copy (a plain
/// store, not a `memcpy` call), then trimmed to their length.
#[inline(always)]
fn put_tag(out: &mut BytesMut, tag: u32) {
    match TAG_PREFIXES.get(tag as usize) {
        Some(prefix) => {
            out.put_slice(prefix);
            out.truncate(out.len() - 8 + usize::from(prefix[7]));
        }
        None => {
            put_uint(out, u64::from(tag));
            out.put_u8(b'=');
        }
    }
}

/// Writes `tag=value<SOH>`: text, integers below 10^8, chars and booleans as one block (see
/// [`put_text_field`]), the rest piece by piece.
#[inline(always)]
fn put_field(out: &mut BytesMut, tag: u32, value: Value<'_>) {
    match value {
        Value::Text(text) => put_text_field(out, tag, text),
        Value::Uint(n) => put_uint_field(out, tag, n),
        Value::Char(c) => put_text_field(out, tag, &[c]),
        Value::Bool(b) => put_text_field(out, tag, if b { b"Y" } else { b"N" }),
        value => {
            out.reserve(32);
            put_tag(out, tag);
            value.write(out);
            out.put_u8(SOH);
        }
    }
}

/// The longest value [`put_text_field`] writes as one block.
const SHORT_VALUE: usize = 24;

/// Writes `tag=value<SOH>`. A common tag with a short value (most of them: CompIDs, ClOrdIDs,
/// prices, timestamps) is written into a 32-byte block appended whole and then trimmed, so that
/// the field costs one append and no `memcpy` call.
#[inline(always)]
fn put_text_field(out: &mut BytesMut, tag: u32, value: &[u8]) {
    match TAG_PREFIXES.get(tag as usize) {
        Some(prefix) if value.len() <= SHORT_VALUE => {
            let (start, block) = grow::<32>(out);
            block[..8].copy_from_slice(prefix);
            let at = usize::from(prefix[7]);
            let end = at + value.len();
            copy_short(&mut block[at..at + SHORT_VALUE], value);
            block[end] = SOH;
            out.truncate(start + end + 1);
        }
        _ => {
            out.reserve(value.len() + 16);
            put_tag(out, tag);
            out.put_slice(value);
            out.put_u8(SOH);
        }
    }
}

/// Copies `src` (at most [`SHORT_VALUE`] bytes) to the start of `dst` with two fixed-size,
/// possibly overlapping copies: the way `memcpy` copies short runs, without calling it.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..n].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..n].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_written_from_the_table_and_beyond() {
        for tag in [
            1u32,
            9,
            10,
            99,
            100,
            999,
            1000,
            1023,
            1024,
            9999,
            10_000,
            5_000_000,
            u32::MAX,
        ] {
            let mut w = FieldWriter::new();
            w.str(tag, "x");
            assert_eq!(w.as_bytes(), format!("{tag}=x\x01").as_bytes());
        }
    }

    #[test]
    fn text_fields_of_every_length_are_copied_whole() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..=text.len() {
            for tag in [1u32, 55, 150, 1023, 1024, 20_000] {
                let mut w = FieldWriter::new();
                w.bytes(9999, b"x").bytes(tag, &text[..len]).bytes(1, b"y");
                let mut expected = format!("9999=x\x01{tag}=").into_bytes();
                expected.extend_from_slice(&text[..len]);
                expected.extend_from_slice(b"\x011=y\x01");
                assert_eq!(w.as_bytes(), &expected[..], "tag {tag}, {len} bytes");
            }
        }
    }

    #[test]
    fn eight_digit_words_agree_with_plain_formatting() {
        let samples = (0..100_000u64)
            .chain((0..100_000).map(|i| i * 997 + 12_345))
            .chain((0..=8).flat_map(|p| {
                let p = 10u64.pow(p);
                [p - 1, p, p + 1]
            }))
            .chain([99_999_999, 100_000_000]);
        for n in samples {
            let mut out = BytesMut::new();
            put_uint(&mut out, n);
            assert_eq!(&out[..], n.to_string().as_bytes(), "{n}");
            let mut w = FieldWriter::new();
            w.uint(34, n).uint(20_000, n);
            assert_eq!(w.as_bytes(), format!("34={n}\x0120000={n}\x01").as_bytes());
        }
    }

    #[test]
    fn integers_are_written_in_plain_decimal() {
        for n in [0u64, 7, 10, 99, 100, 101, 12_345, 1_234_567, u64::MAX] {
            let mut out = BytesMut::new();
            put_uint(&mut out, n);
            assert_eq!(&out[..], n.to_string().as_bytes());
            assert_eq!(uint_len(n), n.to_string().len());
        }
        let mut w = FieldWriter::new();
        w.int(1, -42).int(2, i64::MIN).bool(3, true).bool(4, false);
        assert_eq!(
            w.as_bytes(),
            b"1=-42\x012=-9223372036854775808\x013=Y\x014=N\x01"
        );
    }

    #[test]
    fn header_is_sorted_and_lengths_add_up() {
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.123456").unwrap();
        let mut header = [
            HeaderField::new(56, Value::Text(b"ACCEPTOR01")),
            HeaderField::new(52, Value::Timestamp(ts, TimestampPrecision::Micros)),
            HeaderField::new(34, Value::Uint(1_234_567)),
            HeaderField::new(49, Value::Text(b"INITIATOR01")),
        ];
        let mut body = FieldWriter::new();
        body.str(11, "CLORD-000000001234")
            .str(1, "ACCOUNT01")
            .char(21, b'1')
            .str(55, "AAPL")
            .char(54, b'1')
            .timestamp(60, ts, TimestampPrecision::Micros)
            .uint(38, 100)
            .char(40, b'2')
            .str(44, "187.25")
            .char(59, b'0');
        let mut out = BytesMut::from(&b"prefix"[..]);
        let range = encode_frame(&mut out, b"FIX.4.4", b"D", &mut header, body.as_bytes());
        let expected =
            "8=FIX.4.4|9=180|35=D|34=1234567|49=INITIATOR01|52=20261126-14:36:27.123456|\
            56=ACCEPTOR01|11=CLORD-000000001234|1=ACCOUNT01|21=1|55=AAPL|54=1|\
            60=20261126-14:36:27.123456|38=100|40=2|44=187.25|59=0|10=202|"
                .replace('|', "\x01");
        assert_eq!(&out[range], expected.as_bytes());
    }
}
