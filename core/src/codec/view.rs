//! Read access to a run of fields: a whole message or one entry of a repeating group.

use std::fmt;

use crate::SeqNum;
use crate::time::UtcTimestamp;

use super::SOH;
use super::error::FieldError;
use super::value::{is_decimal, parse_bool, parse_char, parse_int, parse_uint};

/// Where one field lies in its frame: the value is `eq + 1..end`, and `end` is the SOH after it.
/// The raw tag runs from just after the SOH before `eq` up to `eq` (a tag holds no SOH, and a
/// field starts right after the SOH that ends the one before): it is found when asked for, on
/// error paths, so that a message's inline index stays small (12 bytes a field). A field without
/// `=` has `eq == end` and an empty value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// The parsed tag, or 0 when the raw tag is not a valid tag number.
    pub(crate) tag: u32,
    pub(crate) eq: u32,
    pub(crate) end: u32,
}

impl Span {
    /// A placeholder for unused slots.
    pub(crate) const EMPTY: Self = Self {
        tag: 0,
        eq: 0,
        end: 0,
    };

    fn raw_tag(self, buf: &[u8]) -> &[u8] {
        let eq = (self.eq as usize).min(buf.len());
        let start = buf[..eq]
            .iter()
            .rposition(|&b| b == SOH)
            .map_or(0, |soh| soh + 1);
        &buf[start..eq]
    }

    #[inline]
    pub(crate) fn value(self, buf: &[u8]) -> &[u8] {
        let end = self.end as usize;
        buf.get((self.eq as usize + 1).min(end)..end)
            .unwrap_or_default()
    }
}

/// One field of a decoded message.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    buf: &'a [u8],
    span: Span,
}

impl<'a> Field<'a> {
    /// The tag as it was on the wire, for example `-1` (so that a Reject can echo it in
    /// `RefTagID <371>`).
    pub fn raw_tag(&self) -> &'a [u8] {
        self.span.raw_tag(self.buf)
    }

    /// The tag number, or `None` when the raw tag is not a positive decimal number.
    pub fn tag(&self) -> Option<u32> {
        (self.span.tag != 0).then_some(self.span.tag)
    }

    /// The value bytes, without the SOH. A data field's value may contain SOH.
    pub fn value(&self) -> &'a [u8] {
        self.span.value(self.buf)
    }
}

impl PartialEq for Field<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.tag() == other.tag()
            && self.value() == other.value()
            && self.raw_tag() == other.raw_tag()
    }
}

impl Eq for Field<'_> {}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("raw_tag", &self.raw_tag())
            .field("tag", &self.tag())
            .field("value", &self.value())
            .finish()
    }
}

/// A group's shape, which the codec does not know without a dictionary: its `NumInGroup` tag, the
/// tag that starts every entry, and every tag an entry may hold (nested groups' tags included).
#[derive(Clone, Copy, Debug)]
pub struct GroupSpec<'a> {
    /// The `NumInGroup` tag, for example `NoPartyIDs <453>`.
    pub count_tag: u32,
    /// The first field of every entry, for example `PartyID <448>`.
    pub delimiter: u32,
    /// The tags an entry may contain, the delimiter included.
    pub members: &'a [u32],
}

/// A run of fields with typed getters: a whole message, or one entry of a repeating group.
///
/// The getters return the *first* occurrence of a tag in the run.
#[derive(Clone, Copy, Debug)]
pub struct FieldView<'a> {
    buf: &'a [u8],
    spans: &'a [Span],
}

impl<'a> FieldView<'a> {
    pub(crate) fn new(buf: &'a [u8], spans: &'a [Span]) -> Self {
        Self { buf, spans }
    }

    /// The frame and the field index, for walks that read them directly.
    pub(crate) fn parts(&self) -> (&'a [u8], &'a [Span]) {
        (self.buf, self.spans)
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The field at `index`, in wire order.
    pub fn at(&self, index: usize) -> Option<Field<'a>> {
        self.spans.get(index).map(|&span| field(self.buf, span))
    }

    /// The fields in wire order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Field<'a>> + 'a {
        let buf = self.buf;
        self.spans.iter().map(move |&span| field(buf, span))
    }

    /// The index of the first field with `tag`.
    pub fn position(&self, tag: u32) -> Option<usize> {
        self.spans.iter().position(|span| span.tag == tag)
    }

    /// The value of the first field with `tag`.
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.spans
            .iter()
            .find(|span| span.tag == tag)
            .map(|&span| span.value(self.buf))
    }

    /// Whether a field with `tag` is present.
    pub fn contains(&self, tag: u32) -> bool {
        self.position(tag).is_some()
    }

    /// A `String` value, which must be valid UTF-8 (ASCII in practice).
    pub fn str(&self, tag: u32) -> Result<&'a str, FieldError> {
        self.typed(tag, |v| std::str::from_utf8(v).ok())
    }

    /// An unsigned integer (`int`, `Length`, `NumInGroup`, `SeqNum`).
    pub fn uint(&self, tag: u32) -> Result<u64, FieldError> {
        self.typed(tag, parse_uint)
    }

    /// A signed integer.
    pub fn int(&self, tag: u32) -> Result<i64, FieldError> {
        self.typed(tag, parse_int)
    }

    /// A sequence number such as `MsgSeqNum <34>`; 0 is accepted.
    pub fn seq_num(&self, tag: u32) -> Result<SeqNum, FieldError> {
        self.typed(tag, |v| parse_uint(v).map(SeqNum::new))
    }

    /// A `char`: exactly one byte.
    pub fn char(&self, tag: u32) -> Result<u8, FieldError> {
        self.typed(tag, parse_char)
    }

    /// A `Boolean`: `Y` or `N`.
    pub fn bool(&self, tag: u32) -> Result<bool, FieldError> {
        self.typed(tag, parse_bool)
    }

    /// A `UTCTimestamp` with any number of fraction digits.
    pub fn timestamp(&self, tag: u32) -> Result<UtcTimestamp, FieldError> {
        self.typed(tag, UtcTimestamp::parse)
    }

    /// A decimal (`Price`, `Qty`, `float`…), checked and returned as text, so that no precision is
    /// lost to binary floating point.
    pub fn decimal(&self, tag: u32) -> Result<&'a str, FieldError> {
        self.typed(tag, |v| {
            is_decimal(v).then(|| std::str::from_utf8(v).ok()).flatten()
        })
    }

    /// The entries of the repeating group that `spec.count_tag` introduces.
    ///
    /// The count is checked against the entries found: an entry starts with `spec.delimiter` and
    /// runs while the tags are in `spec.members`. A missing count field is an empty group.
    pub fn group(&self, spec: &GroupSpec<'_>) -> Result<Group<'a>, FieldError> {
        let Some(count_index) = self.position(spec.count_tag) else {
            return Ok(Group {
                buf: self.buf,
                rest: &[],
                remaining: 0,
                delimiter: spec.delimiter,
            });
        };
        let declared = self.uint(spec.count_tag)?;
        let after = self.spans.get(count_index + 1..).unwrap_or_default();
        let mut found = 0u64;
        let mut used = 0;
        while after.get(used).is_some_and(|s| s.tag == spec.delimiter) {
            used = entry_end(after, used, spec);
            found += 1;
        }
        if found != declared {
            return Err(FieldError::GroupCount {
                tag: spec.count_tag,
                declared,
                found,
            });
        }
        Ok(Group {
            buf: self.buf,
            rest: &after[..used],
            remaining: found,
            delimiter: spec.delimiter,
        })
    }

    fn typed<T>(
        &self,
        tag: u32,
        parse: impl FnOnce(&'a [u8]) -> Option<T>,
    ) -> Result<T, FieldError> {
        let value = self.get(tag).ok_or(FieldError::Missing { tag })?;
        parse(value).ok_or(FieldError::InvalidFormat { tag })
    }
}

fn field(buf: &[u8], span: Span) -> Field<'_> {
    Field { buf, span }
}

/// The index after the entry that starts at `start`.
fn entry_end(spans: &[Span], start: usize, spec: &GroupSpec<'_>) -> usize {
    let mut end = start + 1;
    while spans
        .get(end)
        .is_some_and(|s| s.tag != spec.delimiter && spec.members.contains(&s.tag))
    {
        end += 1;
    }
    end
}

/// The entries of a repeating group, each a [`FieldView`]; see [`FieldView::group`].
#[derive(Clone, Debug)]
pub struct Group<'a> {
    buf: &'a [u8],
    rest: &'a [Span],
    remaining: u64,
    delimiter: u32,
}

impl<'a> Iterator for Group<'a> {
    type Item = FieldView<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 || self.rest.is_empty() {
            return None;
        }
        self.remaining -= 1;
        let mut end = 1;
        while self.rest.get(end).is_some_and(|s| s.tag != self.delimiter) {
            end += 1;
        }
        let (entry, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(FieldView::new(self.buf, entry))
    }
}
