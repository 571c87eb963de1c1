//! Writing messages: body fields with [`FieldWriter`], whole frames with [`encode_frame`].
//!
//! Outbound field order (DESIGN.md section 6): `8`, `9`, `35`, the other header fields in ascending
//! tag order, the body in the order the application gave it, then `10`. BodyLength is computed from
//! the parts' lengths before anything is written, so no field is written twice; it is never
//! zero-padded.

use std::ops::Range;

use bytes::{Bytes, BytesMut};

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
    #[inline]
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
        let mut buf = BytesMut::zeroed(self.encoded_len() + BLOCK);
        let mut fields = Fields {
            buf: &mut buf,
            at: 0,
        };
        fields.bare(*self);
        let len = fields.at;
        buf.truncate(len);
        buf.freeze()
    }

    /// The bytes a `tag=value<SOH>` field of this value may use while it is written.
    #[inline(always)]
    fn room(&self) -> usize {
        match *self {
            Self::Text(text) => text_room(text),
            Self::Timestamp(_, precision) => BLOCK + precision.encoded_len(),
            Self::Uint(_) | Self::Int(_) | Self::Char(_) | Self::Bool(_) => BLOCK,
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

    #[inline]
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
    let header_len =
        4 + msg_type.len() + header.iter().map(HeaderField::encoded_len).sum::<usize>();
    let body_length = header_len + body.len();
    // `8=…|9=…|`, then the header from `35`: written in place, with a block of scratch after it
    // (no field writes more than a block past its own end).
    let prefix = begin_string.len() + uint_len(body_length as u64) + 6 + header_len;
    let start = out.len();
    out.reserve(prefix + body.len() + BLOCK);
    out.resize(start + prefix + BLOCK, 0);
    let mut fields = Fields {
        buf: &mut out[start..],
        at: 0,
    };
    fields.text(tag::BEGIN_STRING, begin_string);
    fields.uint(tag::BODY_LENGTH, body_length as u64);
    fields.text(tag::MSG_TYPE, msg_type);
    for field in header.iter() {
        fields.value(field.tag, field.value);
    }
    debug_assert_eq!(fields.at, prefix);
    out.truncate(start + prefix);
    out.extend_from_slice(body);
    let sum = checksum(&out[start..]);
    out.extend_from_slice(&[
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
#[derive(Clone, Default)]
pub struct FieldWriter {
    /// The fields in `buf[..len]`; the bytes after them are scratch for the next field, written
    /// whole and then trimmed (see [`Fields`]).
    buf: BytesMut,
    len: usize,
}

impl FieldWriter {
    /// An empty writer; it allocates on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: BytesMut::zeroed(capacity),
            len: 0,
        }
    }

    /// The writer's fields from the end of the last one, with at least `room` bytes after it.
    #[inline(always)]
    fn fields(&mut self, room: usize) -> Fields<'_> {
        if self.buf.len() - self.len < room {
            self.grow(room);
        }
        Fields {
            buf: &mut self.buf,
            at: self.len,
        }
    }

    /// Makes `room` bytes of scratch after the fields, at least doubling the buffer.
    #[cold]
    fn grow(&mut self, room: usize) {
        let len = (self.len + room).max(2 * self.buf.len()).max(64);
        self.buf.resize(len, 0);
    }

    /// Appends `tag=value<SOH>`.
    #[inline(always)]
    pub fn field(&mut self, tag: u32, value: Value<'_>) -> &mut Self {
        let mut fields = self.fields(value.room());
        fields.value(tag, value);
        self.len = fields.at;
        self
    }

    /// Appends a text field. `value` MUST NOT contain SOH.
    #[inline]
    pub fn str(&mut self, tag: u32, value: &str) -> &mut Self {
        self.bytes(tag, value.as_bytes())
    }

    /// Appends a field of raw bytes. `value` MUST NOT contain SOH.
    #[inline(always)]
    pub fn bytes(&mut self, tag: u32, value: &[u8]) -> &mut Self {
        let mut fields = self.fields(text_room(value));
        fields.text(tag, value);
        self.len = fields.at;
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
        &self.buf[..self.len]
    }

    /// The number of bytes written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets the fields, keeping the buffer's memory.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Takes the fields written so far, leaving the writer empty.
    pub fn split(&mut self) -> Bytes {
        let fields = self.buf.split_to(self.len).freeze();
        self.len = 0;
        fields
    }
}

impl std::fmt::Debug for FieldWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FieldWriter")
            .field(&self.as_bytes().escape_ascii().to_string())
            .finish()
    }
}

/// The fixed size in which short fields are written: copied whole into the scratch after the
/// last field, then trimmed to their length.
const BLOCK: usize = 32;

/// The bytes a text field may use while it is written: a block, or its whole length with the
/// longest tag.
#[inline(always)]
fn text_room(value: &[u8]) -> usize {
    BLOCK.max(value.len() + 12)
}

/// Fields written into initialized bytes: `buf[..at]` is written, and a field may overwrite the
/// scratch after `at` (as much as its [`Value::room`] says) before it advances `at` past itself.
/// Whoever makes one leaves that much room; a write past `buf` is a bug, and panics.
struct Fields<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Fields<'_> {
    /// The `N` bytes at the write position, to be filled and then trimmed by [`advance`](Self::advance).
    #[inline(always)]
    fn block<const N: usize>(&mut self) -> &mut [u8; N] {
        let at = self.at;
        <&mut [u8; N]>::try_from(&mut self.buf[at..at + N]).expect("room was left")
    }

    /// Keeps `len` bytes of what was written at the write position.
    #[inline(always)]
    fn advance(&mut self, len: usize) {
        self.at += len;
    }

    /// Writes `bytes` as they are.
    #[inline(always)]
    fn raw(&mut self, bytes: &[u8]) {
        self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    /// Writes `tag=value<SOH>`: text, integers below 10^8, chars and booleans as one block (see
    /// [`text`](Self::text)), the rest piece by piece.
    #[inline(always)]
    fn value(&mut self, tag: u32, value: Value<'_>) {
        match value {
            Value::Text(text) => self.text(tag, text),
            Value::Uint(n) => self.uint(tag, n),
            Value::Char(c) => self.text(tag, &[c]),
            Value::Bool(b) => self.text(tag, if b { b"Y" } else { b"N" }),
            value => {
                self.tag(tag);
                self.bare(value);
                self.raw(&[SOH]);
            }
        }
    }

    /// Writes the value alone.
    #[inline]
    fn bare(&mut self, value: Value<'_>) {
        match value {
            Value::Text(text) => self.raw(text),
            Value::Uint(n) => self.digits(n),
            Value::Int(n) => {
                if n < 0 {
                    self.raw(b"-");
                }
                self.digits(n.unsigned_abs());
            }
            Value::Char(c) => self.raw(&[c]),
            Value::Bool(b) => self.raw(if b { b"Y" } else { b"N" }),
            Value::Timestamp(ts, precision) => self.raw(ts.format(precision).as_bytes()),
        }
    }

    /// Writes `tag=value<SOH>`. A common tag with a short value (most of them: CompIDs,
    /// ClOrdIDs, prices, timestamps) is one block with no `memcpy` call.
    #[inline(always)]
    fn text(&mut self, tag: u32, value: &[u8]) {
        match TAG_PREFIXES.get(tag as usize) {
            Some(prefix) if value.len() <= SHORT_VALUE => {
                let block = self.block::<BLOCK>();
                block[..8].copy_from_slice(prefix);
                let at = usize::from(prefix[7]);
                let end = at + value.len();
                copy_short(&mut block[at..at + SHORT_VALUE], value);
                block[end] = SOH;
                self.advance(end + 1);
            }
            _ => {
                self.tag(tag);
                self.raw(value);
                self.raw(&[SOH]);
            }
        }
    }

    /// Writes `tag=n<SOH>`: for a common tag and `n` below 10^8, one block.
    #[inline(always)]
    fn uint(&mut self, tag: u32, n: u64) {
        match (TAG_PREFIXES.get(tag as usize), short_digits(n)) {
            (Some(prefix), Some((digits, len))) => {
                let block = self.block::<BLOCK>();
                block[..8].copy_from_slice(prefix);
                let at = usize::from(prefix[7]);
                block[at..at + 8].copy_from_slice(&digits);
                block[at + len] = SOH;
                self.advance(at + len + 1);
            }
            _ => {
                self.tag(tag);
                self.digits(n);
                self.raw(&[SOH]);
            }
        }
    }

    /// Writes `tag=`: a common tag from the table as one 8-byte block.
    #[inline(always)]
    fn tag(&mut self, tag: u32) {
        match TAG_PREFIXES.get(tag as usize) {
            Some(prefix) => {
                *self.block::<8>() = *prefix;
                self.advance(usize::from(prefix[7]));
            }
            None => {
                self.digits(u64::from(tag));
                self.raw(b"=");
            }
        }
    }

    /// Writes `n` in decimal: eight digits at once below 10^8, two at a time above.
    #[inline]
    fn digits(&mut self, n: u64) {
        if let Some((digits, len)) = short_digits(n) {
            *self.block::<8>() = digits;
            self.advance(len);
            return;
        }
        let len = uint_len(n);
        let block = self.block::<20>();
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
        self.advance(len);
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

/// The longest value [`Fields::text`] writes as one block.
const SHORT_VALUE: usize = 24;

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

    /// `n` written by [`Fields::digits`].
    fn decimal(n: u64) -> Vec<u8> {
        let mut buf = vec![0; BLOCK];
        let mut fields = Fields {
            buf: &mut buf,
            at: 0,
        };
        fields.digits(n);
        let len = fields.at;
        buf.truncate(len);
        buf
    }

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
    fn writers_of_every_starting_capacity_grow_and_split_cleanly() {
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.123456789").unwrap();
        let long = "L".repeat(40);
        let short = "S".repeat(SHORT_VALUE);
        // The widest of each kind: ten-digit tags, the longest short text, the longest numbers.
        let max = u32::MAX;
        let expected = format!(
            "11=A\x0158={long}\x0134={}\x0199999=-{}\x0160=20261126-14:36:27.123456789\x01\
             54=1\x0143=Y\x0195=3\x0196=a\x01b\x01{max}={short}\x01{max}={}\x01{max}=-{}\x01\
             {max}=20261126-14:36:27.123456789\x01",
            u64::MAX,
            i64::MIN.unsigned_abs(),
            u64::MAX,
            i64::MIN.unsigned_abs()
        );
        for capacity in 0..=80 {
            let mut w = FieldWriter::with_capacity(capacity);
            for round in 0..3 {
                w.str(11, "A")
                    .str(58, &long)
                    .uint(34, u64::MAX)
                    .int(99_999, i64::MIN)
                    .timestamp(60, ts, TimestampPrecision::Nanos)
                    .char(54, b'1')
                    .bool(43, true)
                    .data(95, 96, b"a\x01b")
                    .str(max, &short)
                    .uint(max, u64::MAX)
                    .int(max, i64::MIN)
                    .timestamp(max, ts, TimestampPrecision::Nanos);
                assert_eq!(
                    w.len(),
                    expected.len(),
                    "capacity {capacity}, round {round}"
                );
                // The first round is taken whole, the next ones are cleared and written again.
                if round == 0 {
                    assert_eq!(&w.split()[..], expected.as_bytes(), "capacity {capacity}");
                    assert!(w.is_empty());
                } else {
                    assert_eq!(w.as_bytes(), expected.as_bytes(), "capacity {capacity}");
                    w.clear();
                }
            }
        }
    }

    #[test]
    fn each_field_fits_in_the_room_it_asks_for() {
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.123456789").unwrap();
        let texts: Vec<Vec<u8>> = (0..=40).map(|len| vec![b'x'; len]).collect();
        let mut values: Vec<Value<'_>> = texts.iter().map(|t| Value::Text(t)).collect();
        values.extend([
            Value::Uint(u64::MAX),
            Value::Uint(99_999_999),
            Value::Int(i64::MIN),
            Value::Int(-99_999_999),
            Value::Char(b'c'),
            Value::Bool(true),
            Value::Timestamp(ts, TimestampPrecision::Nanos),
        ]);
        for tag in [1, 1023, 1024, 99_999_999, 100_000_000, u32::MAX] {
            for value in &values {
                // Exactly the room the field asks for, and not a byte more.
                let mut buf = vec![0; value.room()];
                let mut fields = Fields {
                    buf: &mut buf,
                    at: 0,
                };
                fields.value(tag, *value);
                let len = fields.at;
                let mut expected = format!("{tag}=").into_bytes();
                expected.extend_from_slice(&value.to_bytes());
                expected.push(SOH);
                assert_eq!(&buf[..len], &expected[..], "tag {tag}, {value:?}");
            }
        }
    }

    #[test]
    fn values_alone_are_written_as_on_the_wire() {
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.123").unwrap();
        for (value, text) in [
            (Value::Text(b"ABC"), "ABC"),
            (Value::Uint(1_234_567_890_123), "1234567890123"),
            (Value::Int(-5), "-5"),
            (Value::Char(b'x'), "x"),
            (Value::Bool(false), "N"),
            (
                Value::Timestamp(ts, TimestampPrecision::Millis),
                "20261126-14:36:27.123",
            ),
        ] {
            assert_eq!(&value.to_bytes()[..], text.as_bytes());
            assert_eq!(value.encoded_len(), text.len());
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
            assert_eq!(decimal(n), n.to_string().as_bytes(), "{n}");
            let mut w = FieldWriter::new();
            w.uint(34, n).uint(20_000, n);
            assert_eq!(w.as_bytes(), format!("34={n}\x0120000={n}\x01").as_bytes());
        }
    }

    #[test]
    fn integers_are_written_in_plain_decimal() {
        for n in [0u64, 7, 10, 99, 100, 101, 12_345, 1_234_567, u64::MAX] {
            assert_eq!(decimal(n), n.to_string().as_bytes());
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
