//! A decoded message: a zero-copy view over one checked frame.

use std::ops::Range;

use bytes::Bytes;
use smallvec::SmallVec;

use super::data_fields::data_tag_for;
use super::error::{DecodeError, FieldError, FieldIssue, FieldIssueKind};
use super::index::FieldIndex;
use super::template::{ParseCache, TemplateField};
use super::value::parse_uint;
use super::view::{Field, FieldView, Group, GroupSpec, Span};
use super::{SOH, checksum, scan};
use crate::SeqNum;
use crate::tag::{self, Class};
use crate::time::UtcTimestamp;

/// At most this many [`FieldIssue`]s are kept per message; a peer cannot make us store more.
const MAX_ISSUES: usize = 8;

/// A decoded FIX message.
///
/// It is a view over the frame's [`Bytes`]: fields are indexed as ranges, never copied, and the
/// index of a message of up to 32 fields lives inline, so
/// decoding does not allocate. The frame has been checked (`BeginString <8>`, `BodyLength <9>`
/// and `MsgType <35>` first, `BodyLength` exact, `CheckSum <10>` last and correct); the fields
/// have been indexed but not judged: see [`Message::issues`].
///
/// ```
/// use bytes::Bytes;
/// use fixgate_core::codec::Message;
///
/// let frame = b"8=FIX.4.4|9=52|35=0|34=2|49=BANK|52=20261126-14:36:27.123|56=VENUE|10=116|"
///     .map(|b| if b == b'|' { 0x01 } else { b });
/// let msg = Message::parse(Bytes::copy_from_slice(&frame)).unwrap();
/// assert_eq!(msg.msg_type(), b"0");
/// assert_eq!(msg.seq_num(34).unwrap().get(), 2);
/// assert_eq!(msg.str(49).unwrap(), "BANK");
/// assert!(msg.issues().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Message {
    bytes: Bytes,
    spans: FieldIndex,
    issues: SmallVec<[FieldIssue; 2]>,
    /// The id of the remembered layout the message was found to have, field for field; 0 when
    /// it was parsed without one.
    layout: u64,
}

impl Default for Message {
    /// A message with no fields, to be filled by [`Decoder::decode_into`](super::Decoder::decode_into).
    fn default() -> Self {
        Self {
            bytes: Bytes::new(),
            spans: FieldIndex::new(),
            issues: SmallVec::new(),
            layout: 0,
        }
    }
}

impl Message {
    /// Checks and indexes one complete frame: `frame` must hold exactly one message, from `8=` to
    /// the SOH after `CheckSum <10>`.
    pub fn parse(frame: Bytes) -> Result<Self, DecodeError> {
        Self::build(frame, Checks::ALL, None)
    }

    /// [`Message::parse`], remembering the layout of each message type in `cache`: a message
    /// laid out like the last of its type is indexed faster, and the same way.
    pub fn parse_cached(frame: Bytes, cache: &mut ParseCache) -> Result<Self, DecodeError> {
        Self::build(frame, Checks::ALL, Some(cache))
    }

    /// Checks and indexes one complete frame into this message, in place: the parse behind
    /// the public ones, and [`Decoder::decode_into`](super::Decoder::decode_into)'s. On failure
    /// the message is unchanged and the frame comes back, so that it can be reported. `verify`
    /// says which of BodyLength and CheckSum are checked (QuickFIX's `ValidateLengthAndChecksum`,
    /// QuickFIX/J's `ValidateChecksum`).
    #[inline(always)]
    pub(super) fn fill(
        &mut self,
        frame: Bytes,
        verify: Checks,
        cache: Option<&mut ParseCache>,
    ) -> Result<(), (DecodeError, Bytes)> {
        let layout = match Layout::check(&frame, verify) {
            Ok(layout) => layout,
            Err(e) => return Err((e, frame)),
        };
        self.bytes = frame;
        self.spans.clear();
        self.issues.clear();
        self.layout = Indexer {
            buf: &self.bytes,
            spans: &mut self.spans,
            issues: &mut self.issues,
        }
        .run(&layout, cache);
        Ok(())
    }

    /// Lets go of the frame (so that the buffer it was read into can be reused), keeping the
    /// index's memory: the message is empty again.
    pub(crate) fn release(&mut self) {
        self.bytes = Bytes::new();
        self.spans.clear();
        self.issues.clear();
        self.layout = 0;
    }

    /// Becomes `other`, which is left empty (its frame let go): what is in use changes hands,
    /// not the whole of a message's inline index. This message's old frame is let go.
    #[inline]
    pub(crate) fn take_from(&mut self, other: &mut Self) {
        self.bytes = std::mem::take(&mut other.bytes);
        self.spans.take_from(&mut other.spans);
        std::mem::swap(&mut self.issues, &mut other.issues);
        other.issues.clear();
        self.layout = std::mem::take(&mut other.layout);
    }

    /// A frame read without checking BodyLength or CheckSum: the header of a garbled frame, for
    /// the Reject that `RejectGarbledMessage` asks for.
    pub(crate) fn parse_unchecked(frame: Bytes) -> Result<Self, DecodeError> {
        Self::build(frame, Checks::NONE, None)
    }

    /// The public parses: a fresh message, filled.
    fn build(
        frame: Bytes,
        verify: Checks,
        cache: Option<&mut ParseCache>,
    ) -> Result<Self, DecodeError> {
        let mut msg = Self::default();
        msg.fill(frame, verify, cache).map_err(|(error, _)| error)?;
        Ok(msg)
    }

    /// The whole frame, as received.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The value of `BeginString <8>`.
    pub fn begin_string(&self) -> &[u8] {
        self.value_at(0)
    }

    /// The value of `MsgType <35>`.
    pub fn msg_type(&self) -> &[u8] {
        self.value_at(2)
    }

    /// Issues found in well-framed fields, in wire order (at most 8 are kept).
    pub fn issues(&self) -> &[FieldIssue] {
        &self.issues
    }

    /// Whether a tag may occur more than once. When false, every tag is unique: the decoder
    /// looks for repeats and found none.
    pub fn may_repeat_tags(&self) -> bool {
        self.issues.len() >= MAX_ISSUES
            || self
                .issues
                .iter()
                .any(|issue| issue.kind == FieldIssueKind::RepeatedTag)
    }

    /// The id of the remembered layout (see [`ParseCache`]) whose tags the message has, in
    /// order; 0 when none. Two messages with the same nonzero id have the same tags.
    pub(crate) fn layout(&self) -> u64 {
        self.layout
    }

    /// All fields, `BeginString <8>` to `CheckSum <10>`, with typed getters.
    pub fn fields(&self) -> FieldView<'_> {
        FieldView::new(&self.bytes, self.spans.as_slice())
    }

    /// The field at `index` in wire order.
    pub fn field_at(&self, index: usize) -> Option<Field<'_>> {
        self.fields().at(index)
    }

    /// The value of the first field with `tag`.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.fields().get(tag)
    }

    /// The value of the first field with `tag`, sharing the frame's buffer.
    pub fn get_bytes(&self, tag: u32) -> Option<Bytes> {
        self.get(tag).map(|value| self.bytes.slice_ref(value))
    }

    /// See [`FieldView::str`].
    pub fn str(&self, tag: u32) -> Result<&str, FieldError> {
        self.fields().str(tag)
    }

    /// See [`FieldView::uint`].
    pub fn uint(&self, tag: u32) -> Result<u64, FieldError> {
        self.fields().uint(tag)
    }

    /// See [`FieldView::int`].
    pub fn int(&self, tag: u32) -> Result<i64, FieldError> {
        self.fields().int(tag)
    }

    /// See [`FieldView::seq_num`].
    pub fn seq_num(&self, tag: u32) -> Result<SeqNum, FieldError> {
        self.fields().seq_num(tag)
    }

    /// See [`FieldView::char`].
    pub fn char(&self, tag: u32) -> Result<u8, FieldError> {
        self.fields().char(tag)
    }

    /// See [`FieldView::bool`].
    pub fn bool(&self, tag: u32) -> Result<bool, FieldError> {
        self.fields().bool(tag)
    }

    /// See [`FieldView::timestamp`].
    pub fn timestamp(&self, tag: u32) -> Result<UtcTimestamp, FieldError> {
        self.fields().timestamp(tag)
    }

    /// See [`FieldView::group`].
    pub fn group(&self, spec: &GroupSpec<'_>) -> Result<Group<'_>, FieldError> {
        self.fields().group(spec)
    }

    fn value_at(&self, index: usize) -> &[u8] {
        self.field_at(index).map(|f| f.value()).unwrap_or_default()
    }
}

/// The positions found while checking a frame's envelope.
struct Layout {
    /// The SOH after `BeginString <8>`.
    begin_string_end: usize,
    /// The SOH after `BodyLength <9>`.
    body_length_end: usize,
    /// The SOH after `MsgType <35>`.
    msg_type_end: usize,
    /// The first byte of `10=`.
    trailer_start: usize,
}

impl Layout {
    fn check(buf: &[u8], verify: Checks) -> Result<Self, DecodeError> {
        if buf.len() > u32::MAX as usize {
            return Err(DecodeError::FrameTooLong {
                limit: u32::MAX as usize,
            });
        }
        if !buf.starts_with(b"8=") {
            return Err(DecodeError::NotAFrame);
        }
        let begin_string_end = find(buf, SOH, 2).ok_or(DecodeError::MissingBodyLength)?;
        let length_start = begin_string_end + 3;
        if buf.get(begin_string_end + 1..length_start) != Some(b"9=") {
            return Err(DecodeError::MissingBodyLength);
        }
        let body_length_end = find(buf, SOH, length_start).ok_or(DecodeError::InvalidBodyLength)?;
        let declared = body_length(&buf[length_start..body_length_end])?;
        let body_start = body_length_end + 1;

        let trailer_start = match buf.split_last() {
            // The usual case, `<SOH>10=nnn<SOH>`, without a search.
            Some((&SOH, rest))
                if rest.len() >= 7 && rest[rest.len() - 7..].starts_with(b"\x0110=") =>
            {
                rest.len() - 6
            }
            Some((&SOH, rest)) => memchr::memrchr(SOH, rest).map_or(0, |i| i + 1),
            _ => 0,
        };
        if trailer_start < body_start {
            return Err(DecodeError::InvalidCheckSum);
        }
        let Some(digits) = buf[trailer_start..].strip_prefix(b"10=") else {
            return Err(DecodeError::InvalidCheckSum);
        };
        let actual = trailer_start - body_start;
        if verify.length && declared != actual as u64 {
            return Err(DecodeError::BodyLengthMismatch { declared, actual });
        }
        let found = match digits {
            [a, b, c, SOH] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => return Err(DecodeError::InvalidCheckSum),
        };
        if verify.checksum {
            let computed = checksum(&buf[..trailer_start]);
            if found != u16::from(computed) {
                return Err(DecodeError::CheckSumMismatch { found, computed });
            }
        }

        let body = &buf[body_start..trailer_start];
        let msg_type_end = find(body, SOH, 0).map(|i| body_start + i);
        match msg_type_end {
            Some(end) if body.starts_with(b"35=") && end > body_start + 3 => Ok(Self {
                begin_string_end,
                body_length_end,
                msg_type_end: end,
                trailer_start,
            }),
            _ => Err(DecodeError::MissingMsgType),
        }
    }
}

/// Which of a frame's totals are checked: `BodyLength <9>` and `CheckSum <10>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checks {
    /// BodyLength must count the body's bytes.
    pub(crate) length: bool,
    /// CheckSum must be the byte sum.
    pub(crate) checksum: bool,
}

impl Checks {
    /// Both: the spec's rule.
    pub(crate) const ALL: Self = Self {
        length: true,
        checksum: true,
    };
    /// Neither.
    pub(crate) const NONE: Self = Self {
        length: false,
        checksum: false,
    };
}

/// Parses `BodyLength <9>`, zero-padded or not; a number too large for `u64` saturates.
pub(super) fn body_length(value: &[u8]) -> Result<u64, DecodeError> {
    if value.is_empty() {
        return Err(DecodeError::InvalidBodyLength);
    }
    value.iter().try_fold(0u64, |n, &b| {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return Err(DecodeError::InvalidBodyLength);
        }
        Ok(n.saturating_mul(10).saturating_add(u64::from(digit)))
    })
}

fn find(buf: &[u8], byte: u8, from: usize) -> Option<usize> {
    scan::find(buf, from, byte)
}

/// What the indexer must remember from one field to the next.
struct Walk {
    /// The part of the message the fields so far belong to: `Header`, `Body` or `Trailer`.
    region: Class,
    /// Tags below 1024 seen so far, for the repeat check; larger ones are found by a scan.
    seen: [u64; 16],
    repeat_reported: bool,
    /// The data tag that the previous field gave a length for, and that length (tag 0: none).
    data_tag: u32,
    data_len: usize,
}

impl Walk {
    /// Moves into the part of the message a field of `class` belongs to; false when the field
    /// is out of order there.
    #[inline]
    fn enter(&mut self, class: Class) -> bool {
        match class {
            Class::Header => self.region == Class::Header,
            Class::Trailer => {
                self.region = Class::Trailer;
                true
            }
            Class::Body | Class::Length => {
                let in_order = self.region != Class::Trailer;
                self.region = Class::Body;
                in_order
            }
        }
    }

    /// Marks `tag` as seen and returns whether it was already; `None` above the bitmap's tags.
    #[inline(always)]
    fn see(&mut self, tag: u32) -> Option<bool> {
        let word = self.seen.get_mut(tag as usize / 64)?;
        let bit = 1u64 << (tag % 64);
        let seen = *word & bit != 0;
        *word |= bit;
        Some(seen)
    }

    /// Notes a field that followed a remembered layout: well placed and not repeated.
    fn pass(&mut self, tag: u32) {
        self.enter(tag::class(tag));
        self.see(tag);
    }
}

/// Builds the field index of a checked frame and notes the issues of its fields.
struct Indexer<'a> {
    buf: &'a [u8],
    spans: &'a mut FieldIndex,
    issues: &'a mut SmallVec<[FieldIssue; 2]>,
}

impl Indexer<'_> {
    /// Indexes the frame; returns the id of the remembered layout it followed in full, or 0.
    fn run(mut self, layout: &Layout, cache: Option<&mut ParseCache>) -> u64 {
        let end = layout.trailer_start;
        let length_start = layout.begin_string_end + 1;
        let type_start = layout.body_length_end + 1;
        self.spans
            .push(span(tag::BEGIN_STRING, 1, layout.begin_string_end));
        self.spans.push(span(
            tag::BODY_LENGTH,
            length_start + 1,
            layout.body_length_end,
        ));
        self.spans
            .push(span(tag::MSG_TYPE, type_start + 2, layout.msg_type_end));
        let first = layout.msg_type_end + 1;
        let msg_type = &self.buf[type_start + 3..layout.msg_type_end];
        let mut pos = first;
        if let Some((template, id)) = cache.as_deref().and_then(|c| c.fields(msg_type)) {
            let followed;
            (pos, followed) = self.follow(template, pos, end);
            if pos == end {
                self.spans
                    .push(span(tag::CHECK_SUM, end + 2, self.buf.len() - 1));
                // A message may hold the first fields of a layout only.
                return if followed == template.len() { id } else { 0 };
            }
        }
        let mut walk = Walk {
            region: Class::Header,
            seen: [0; 16],
            repeat_reported: false,
            data_tag: 0,
            data_len: 0,
        };
        walk.seen[0] = (1 << tag::BEGIN_STRING) | (1 << tag::BODY_LENGTH) | (1 << tag::MSG_TYPE);
        // Fields that followed a remembered layout before it differed are judged as if they
        // had been parsed one by one.
        for span in &self.spans.as_slice()[3..] {
            walk.pass(span.tag);
        }
        while pos < end {
            // The fast path covers a plain `digits=value` field; anything else takes the careful one.
            let Some(field) = scan::field(self.buf, pos).filter(|_| walk.data_tag == 0) else {
                pos = self.careful_field(pos, end, &mut walk);
                continue;
            };
            let (tag, eq) = (field.tag, field.eq);
            let value_end = match field.soh {
                Some(soh) if soh < end => soh,
                // None in the word read at `pos`: the search goes on after it.
                _ => self.find_soh(pos + 8, end),
            };
            self.spans.push(span(tag, eq, value_end));
            self.judge(tag, eq + 1..value_end, &mut walk);
            pos = value_end + 1;
        }
        self.spans
            .push(span(tag::CHECK_SUM, end + 2, self.buf.len() - 1));
        if let Some(cache) = cache
            && self.issues.is_empty()
        {
            let spans = self.spans.as_slice();
            cache.remember(msg_type, self.buf, first, &spans[3..spans.len() - 1]);
        }
        0
    }

    /// Indexes the fields from `pos` while their tags are those of `template`, in order. Returns
    /// where it stopped (`end` when the body was laid out as remembered, or as its first fields)
    /// and how many fields it indexed.
    #[inline(always)]
    fn follow(&mut self, template: &[TemplateField], pos: usize, end: usize) -> (usize, usize) {
        let mut start = pos;
        // Every SOH of the body lies in a whole word: the trailer's seven bytes follow it.
        let mut delimiters = scan::Delimiters::new(self.buf, pos);
        let first = self.spans.len();
        // The spans go straight to their slots, counted in a register: a length kept in memory
        // would chain each field's store to the next one's.
        let slots = self.spans.spare_inline();
        let mut n = 0;
        for (field, slot) in template.iter().zip(slots.iter_mut()) {
            let Some(soh) = delimiters.next().filter(|&soh| soh < end) else {
                break;
            };
            // A NUL right after a SOH may be taken for one; the field starting there then has
            // no digit first, and does not match.
            let Some(span) = field.span(self.buf, start, soh) else {
                break;
            };
            slot.tag = span.tag;
            slot.eq = span.eq;
            slot.end = span.end;
            if span.end == span.eq + 1 && self.issues.len() < MAX_ISSUES {
                self.issues.push(FieldIssue {
                    kind: FieldIssueKind::EmptyValue,
                    index: first + n,
                });
            }
            n += 1;
            start = soh + 1;
        }
        self.spans.commit(n);
        (start, n)
    }

    /// Indexes the field at `pos` whatever its shape: an invalid tag, a missing `=`, or a data
    /// field read by its length. Returns where the next field starts.
    #[cold]
    fn careful_field(&mut self, pos: usize, end: usize, walk: &mut Walk) -> usize {
        let index = self.spans.len();
        let (tag, eq) = self.read_tag(pos, end);
        let (data_tag, data_len) = (walk.data_tag, walk.data_len);
        walk.data_tag = 0;
        if eq >= end || self.buf[eq] == SOH {
            // No `=` before the SOH: the whole field is the tag, with no value.
            let soh = eq.min(end - 1);
            self.spans.push(span(tag, soh, soh));
            self.issue(FieldIssueKind::MissingEquals, index);
            return soh + 1;
        }
        let value_start = eq + 1;
        let value_end = if tag != 0 && tag == data_tag {
            let declared_end = value_start.saturating_add(data_len);
            if declared_end < end && self.buf[declared_end] == SOH {
                declared_end
            } else {
                self.issue(FieldIssueKind::DataLengthMismatch, index);
                self.find_soh(value_start, end)
            }
        } else {
            self.find_soh(value_start, end)
        };
        self.spans.push(span(tag, eq, value_end));
        if tag == 0 {
            self.issue(FieldIssueKind::InvalidTag, index);
        } else {
            self.judge(tag, value_start..value_end, walk);
        }
        value_end + 1
    }

    /// Notes the issues of the field just indexed, and remembers a length for the next field.
    #[inline(always)]
    fn judge(&mut self, tag: u32, value: Range<usize>, walk: &mut Walk) {
        let index = self.spans.len() - 1;
        if value.is_empty() {
            self.issue(FieldIssueKind::EmptyValue, index);
        }
        // A header field in the header, or a plain body field in the body: nothing to do.
        let class = tag::class(tag);
        if class != walk.region {
            self.judge_unusual(tag, class, value, walk);
        }
        if !walk.repeat_reported && self.is_repeat(tag, walk) {
            walk.repeat_reported = true;
            self.issue(FieldIssueKind::RepeatedTag, index);
        }
    }

    /// The rarer cases of [`judge`](Self::judge): header and trailer fields, length fields, and the
    /// first body field.
    fn judge_unusual(&mut self, tag: u32, class: Class, value: Range<usize>, walk: &mut Walk) {
        if !walk.enter(class) {
            self.issue(FieldIssueKind::OutOfOrder, self.spans.len() - 1);
        }
        if let Some(data_tag) = data_tag_for(tag)
            && let Some(len) = parse_uint(&self.buf[value])
        {
            walk.data_tag = data_tag;
            walk.data_len = usize::try_from(len).unwrap_or(usize::MAX);
        }
    }

    /// Reads a tag starting at `pos` byte by byte: returns its number (0 when invalid) and the
    /// position of the `=` or SOH that ends it.
    fn read_tag(&self, pos: usize, end: usize) -> (u32, usize) {
        let mut i = pos;
        let mut number: u64 = 0;
        let mut numeric = true;
        while i < end {
            let b = self.buf[i];
            if b == b'=' || b == SOH {
                break;
            }
            let digit = b.wrapping_sub(b'0');
            numeric &= digit <= 9;
            number = number.saturating_mul(10).saturating_add(u64::from(digit));
            i += 1;
        }
        let valid = numeric && i > pos && number > 0 && number <= u64::from(u32::MAX);
        (if valid { number as u32 } else { 0 }, i)
    }

    /// The position of the SOH that ends a value starting at `from`. A checked frame always has
    /// one before `end` (the SOH before `10=`).
    #[inline(always)]
    fn find_soh(&self, from: usize, end: usize) -> usize {
        scan::find(self.buf, from, SOH).map_or(end - 1, |i| i.min(end - 1))
    }

    #[inline(always)]
    fn is_repeat(&self, tag: u32, walk: &mut Walk) -> bool {
        if let Some(repeat) = walk.see(tag) {
            return repeat;
        }
        let spans = self.spans.as_slice();
        let earlier = &spans[..spans.len() - 1];
        earlier.iter().any(|span| span.tag == tag)
    }

    fn issue(&mut self, kind: FieldIssueKind, index: usize) {
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(FieldIssue { kind, index });
        }
    }
}

fn span(tag: u32, eq: usize, end: usize) -> Span {
    // Frames are bounded far below 4 GiB by the decoder's size limit.
    Span {
        tag,
        eq: eq as u32,
        end: end as u32,
    }
}
