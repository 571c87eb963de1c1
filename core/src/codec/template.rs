//! Remembered field layouts. A counterparty sends each message type with the same tags in the
//! same order, message after message. A message laid out like the last well-formed one of its
//! type is indexed by comparing each field's tag bytes with the remembered ones, one word per
//! field, instead of parsing the tag and judging its place: the judgement is the one the
//! remembered message earned.

use std::sync::atomic::{AtomicU64, Ordering};

use super::scan;
use super::view::Span;
use crate::recent::Recent;
use crate::tag::{self, Class};

/// How many layouts a cache keeps.
const MAX_TEMPLATES: usize = 16;
/// The most fields a remembered layout holds; larger messages are always parsed in full.
const MAX_TEMPLATE_FIELDS: usize = 256;

/// What [`Message::parse_cached`](super::Message::parse_cached) remembers between messages: the
/// field layout of the last well-formed message of each type (up to 16 types, the oldest
/// replaced first).
///
/// A layout is remembered only from a message without [`FieldIssue`](super::FieldIssue)s, whose
/// tags are at most seven digits and which holds no length-prefixed data field. A message whose
/// tags match one field for field is indexed exactly as a full parse would index it.
#[derive(Clone, Debug, Default)]
pub struct ParseCache {
    templates: Recent<Template, MAX_TEMPLATES>,
}

/// The layout of one message type: its fields after `MsgType <35>` and before the trailer.
#[derive(Clone, Debug, Default)]
struct Template {
    /// The MsgType, packed (see [`pack_msg_type`]).
    msg_type: u64,
    /// Unique in the process to this layout (see [`Message::layout`](super::Message)).
    id: u64,
    fields: Vec<TemplateField>,
}

/// The source of layout ids; 0 is never one.
static NEXT_LAYOUT: AtomicU64 = AtomicU64::new(1);

/// One remembered field: its tag bytes and `=`, as a little-endian word, and the tag.
#[derive(Clone, Copy, Debug)]
pub(super) struct TemplateField {
    raw: u64,
    /// Ones over the bytes of `raw` that count.
    mask: u64,
    /// Their number: the value starts this many bytes after the field.
    len: u32,
    tag: u32,
}

impl ParseCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of layouts held.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether no layout is held.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The remembered fields of `msg_type`, and their layout's id.
    #[inline]
    pub(super) fn fields(&self, msg_type: &[u8]) -> Option<(&[TemplateField], u64)> {
        let key = pack_msg_type(msg_type)?;
        self.templates
            .iter()
            .find(|t| t.msg_type == key)
            .map(|t| (&t.fields[..], t.id))
    }

    /// Remembers the layout of a well-formed message of `msg_type`, whose body and header fields
    /// after `MsgType <35>` are `spans` in `buf`; `first_start` is where the first of them starts.
    pub(super) fn remember(
        &mut self,
        msg_type: &[u8],
        buf: &[u8],
        first_start: usize,
        spans: &[Span],
    ) {
        let Some(key) = pack_msg_type(msg_type) else {
            return;
        };
        if spans.len() > MAX_TEMPLATE_FIELDS {
            return;
        }
        let template = match self.templates.iter().position(|t| t.msg_type == key) {
            Some(index) => &mut self.templates[index],
            None => self.templates.claim(),
        };
        template.msg_type = key;
        template.id = NEXT_LAYOUT.fetch_add(1, Ordering::Relaxed);
        template.fields.clear();
        let mut start = first_start;
        for span in spans {
            let Some(field) = TemplateField::of(buf, start, *span) else {
                // A layout that cannot be followed: forget the type rather than keep half.
                template.msg_type = u64::MAX;
                template.fields.clear();
                return;
            };
            template.fields.push(field);
            start = span.end as usize + 1;
        }
    }
}

impl TemplateField {
    /// The field `span`, starting at `start`, if its tag and `=` fit in a word and it does not
    /// announce a data field's length.
    fn of(buf: &[u8], start: usize, span: Span) -> Option<Self> {
        let len = (span.eq as usize + 1).checked_sub(start)?;
        if !(2..=8).contains(&len) || tag::class(span.tag) == Class::Length {
            return None;
        }
        let word = scan::word(buf, start)?;
        let mask = u64::MAX >> (64 - 8 * len);
        Some(Self {
            raw: word & mask,
            mask,
            len: len as u32,
            tag: span.tag,
        })
    }

    /// The field from `start` to the SOH at `soh`, when its tag bytes are this field's.
    #[inline(always)]
    pub(super) fn span(&self, buf: &[u8], start: usize, soh: usize) -> Option<Span> {
        let word = scan::word(buf, start)?;
        // The matched bytes are digits and `=`, so the SOH lies past them.
        ((word ^ self.raw) & self.mask == 0).then(|| Span {
            tag: self.tag,
            eq: (start + self.len as usize - 1) as u32,
            end: soh as u32,
        })
    }
}

/// A MsgType of up to seven bytes and its length in one integer (never `u64::MAX`).
#[inline]
fn pack_msg_type(value: &[u8]) -> Option<u64> {
    if value.len() > 7 {
        return None;
    }
    let packed = value
        .iter()
        .rev()
        .fold(0u64, |packed, &b| packed << 8 | u64::from(b));
    Some(packed | (value.len() as u64) << 56)
}
