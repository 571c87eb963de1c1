//! Data dictionaries compiled into lookup tables, and validation of messages against them.
//!
//! A [`Dictionary`] says which fields exist, their types and enumerations, and which fields each
//! message type (and the header, the trailer, every repeating group) may or must hold. The
//! `fixgate-dictionary` crate builds one from QuickFIX's XML with a [`DictionaryBuilder`]; the
//! session reads it with [`Dictionary::validate`], which walks a message once without allocating.

mod build;
mod canonical;
mod enumeration;
mod format;
mod shapes;
mod validate;

#[cfg(test)]
mod tests;

pub use build::{BuildError, DictionaryBuilder, LayoutBuilder};
pub use canonical::write_canonical_body;
use enumeration::Enumeration;
pub use format::FieldType;
pub use shapes::ShapeCache;
pub use validate::{Culprit, Rules, Violation};

/// Tags below this are looked up in a dense table; larger ones by binary search.
const DENSE_TAGS: usize = 16_384;

/// A layout whose tags are all below this has a dense table of its members (8 KiB at most).
const DENSE_LAYOUT_TAGS: u32 = 4096;

/// The first user-defined tag (`ValidateUserDefinedFields` governs tags from here on).
pub(crate) const USER_DEFINED_TAGS: u32 = 5000;

/// A compiled data dictionary: one FIX version's fields, header, trailer and message layouts.
///
/// Built with [`DictionaryBuilder`]; shared between sessions behind an `Arc`.
#[derive(Debug, PartialEq, Eq)]
pub struct Dictionary {
    begin_string: Box<str>,
    fields: FieldTable,
    header: Layout,
    trailer: Layout,
    /// Sorted by MsgType.
    messages: Box<[MessageDef]>,
    /// The MsgTypes of up to seven bytes, packed, sorted, with their index in `messages`.
    message_keys: Box<[(u64, u32)]>,
    /// `by_char[c]` is the index in `messages` plus one of the one-byte MsgType `c`, or 0.
    by_char: [u16; 128],
}

impl Dictionary {
    /// The `BeginString` the dictionary describes (`FIX.4.4`, or `FIXT.1.1` for a transport
    /// dictionary merged with an application one).
    pub fn begin_string(&self) -> &str {
        &self.begin_string
    }

    /// The definition of field `tag`.
    pub fn field(&self, tag: u32) -> Option<&FieldDef> {
        self.fields.get(tag)
    }

    /// Whether MsgType `msg_type` is defined.
    pub fn has_message(&self, msg_type: &[u8]) -> bool {
        self.message(msg_type).is_some()
    }

    /// The number of message types defined.
    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// The standard header's layout.
    pub fn header(&self) -> &Layout {
        &self.header
    }

    /// The standard trailer's layout.
    pub fn trailer(&self) -> &Layout {
        &self.trailer
    }

    /// The body layout of MsgType `msg_type`.
    pub fn message(&self, msg_type: &[u8]) -> Option<&Layout> {
        self.message_def(msg_type).map(|m| &m.layout)
    }

    fn message_def(&self, msg_type: &[u8]) -> Option<&MessageDef> {
        if let [c] = msg_type {
            let slot = *self.by_char.get(usize::from(*c))?;
            return self.messages.get(usize::from(slot).checked_sub(1)?);
        }
        let index = match enumeration::pack(msg_type) {
            Some(key) => {
                let i = self.message_keys.binary_search_by_key(&key, |k| k.0).ok()?;
                self.message_keys[i].1 as usize
            }
            None => self
                .messages
                .binary_search_by(|m| m.msg_type.as_ref().cmp(msg_type))
                .ok()?,
        };
        self.messages.get(index)
    }
}

/// One field: its name, type and, when it has one, its enumeration.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldDef {
    name: Box<str>,
    field_type: FieldType,
    /// Where the field goes: the header, the trailer, or a body.
    place: Place,
    /// Defined by a FIXT transport dictionary: known to session-level messages.
    transport: bool,
    /// The values allowed.
    values: Enumeration,
}

impl FieldDef {
    /// The field's name (`ClOrdID`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's type.
    pub fn field_type(&self) -> FieldType {
        self.field_type
    }

    /// Whether `value` is in the enumeration (any value is, when there is none). A
    /// multiple-value type's value is checked word by word.
    #[inline(always)]
    pub fn allows(&self, value: &[u8]) -> bool {
        if self.values.is_any() {
            true
        } else if self.field_type.is_multiple_value() {
            value.split(|&b| b == b' ').all(|v| self.values.contains(v))
        } else {
            self.values.contains(value)
        }
    }
}

/// The part of a message a field belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Header,
    Body,
    Trailer,
}

/// Field definitions by tag.
#[derive(Debug, Default, PartialEq, Eq)]
struct FieldTable {
    /// `dense[tag]` is what validation needs of `tag`, for tags below [`DENSE_TAGS`].
    dense: Box<[FieldInfo]>,
    /// Tags from [`DENSE_TAGS`] on, sorted, with their information.
    sparse: Box<[(u32, FieldInfo)]>,
    defs: Box<[FieldDef]>,
}

impl FieldTable {
    /// What validation needs of `tag`, in one table load; [`FieldInfo::UNDEFINED`] for an
    /// undefined tag.
    #[inline]
    fn info(&self, tag: u32) -> FieldInfo {
        match self.dense.get(tag as usize) {
            Some(&info) => info,
            None => match self.sparse.binary_search_by_key(&tag, |&(t, _)| t) {
                Ok(i) => self.sparse[i].1,
                Err(_) => FieldInfo::UNDEFINED,
            },
        }
    }

    #[inline]
    fn def(&self, info: FieldInfo) -> Option<&FieldDef> {
        self.defs.get((info.def as usize).checked_sub(1)?)
    }

    fn get(&self, tag: u32) -> Option<&FieldDef> {
        self.def(self.info(tag))
    }
}

/// The part of a [`FieldDef`] that validation reads for every field, kept in the tag table
/// itself so that a field costs one lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldInfo {
    /// The index of the definition plus one; 0 for an undefined tag.
    def: u32,
    field_type: FieldType,
    place: Place,
    transport: bool,
    /// Whether the field has an enumeration.
    enumerated: bool,
}

impl FieldInfo {
    const UNDEFINED: Self = Self {
        def: 0,
        field_type: FieldType::String,
        place: Place::Body,
        transport: false,
        enumerated: false,
    };

    fn of(index: usize, def: &FieldDef) -> Self {
        Self {
            // At most u32::MAX fields fit in memory long before this conversion could fail.
            def: u32::try_from(index + 1).unwrap_or(u32::MAX),
            field_type: def.field_type,
            place: def.place,
            transport: def.transport,
            enumerated: !def.values.is_any(),
        }
    }

    fn is_defined(self) -> bool {
        self.def != 0
    }
}

/// The fields one level of a message may hold: the header, a message body, the trailer, or an
/// entry of a repeating group. Components are flattened into it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// In dictionary order.
    members: Box<[Member]>,
    /// `dense[tag]` is `tag`'s slot: every member's tag, when the largest is below
    /// [`DENSE_LAYOUT_TAGS`]; empty otherwise.
    dense: Box<[Slot]>,
    /// Every member's tag with its slot, sorted by tag (used without `dense`).
    by_tag: Box<[(u32, Slot)]>,
    /// The required members' tags, ascending; the first 64 have bit `i` in walk masks.
    required: Box<[u32]>,
    /// The bits of the first 64 required members: a walk that saw them all has this mask.
    required_mask: u64,
}

impl Layout {
    /// The member with tag `tag`, and its position in dictionary order.
    #[inline]
    pub fn member(&self, tag: u32) -> Option<(usize, &Member)> {
        let index = self.slot(tag).index()?;
        Some((index, &self.members[index]))
    }

    /// The slot of `tag`: whether it is a member, and what a walk must note of it.
    #[inline]
    fn slot(&self, tag: u32) -> Slot {
        if self.dense.is_empty() {
            match self.by_tag.binary_search_by_key(&tag, |&(t, _)| t) {
                Ok(i) => self.by_tag[i].1,
                Err(_) => Slot::NONE,
            }
        } else {
            self.dense.get(tag as usize).copied().unwrap_or(Slot::NONE)
        }
    }

    /// The members, in dictionary order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The required members' tags, ascending.
    pub fn required(&self) -> &[u32] {
        &self.required
    }
}

/// A tag's entry in a layout's lookup tables (four bytes, so that the tables stay small).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    /// The index in `members` plus one; 0 for a tag that is not a member.
    member: u16,
    /// One plus the member's bit in walk masks, for the first 64 required members; else 0.
    required: u8,
    /// Whether the member counts a repeating group.
    group: bool,
}

impl Slot {
    const NONE: Self = Self {
        member: 0,
        required: 0,
        group: false,
    };

    /// The member's index, when the tag is a member.
    #[inline]
    fn index(self) -> Option<usize> {
        usize::from(self.member).checked_sub(1)
    }

    /// The bit a walk sets on seeing the member (0 when it is not tracked by bit).
    #[inline]
    fn required_bit(self) -> u64 {
        match self.required {
            0 => 0,
            n => 1 << (n - 1),
        }
    }
}

/// One member of a [`Layout`]: a field, or the `NumInGroup` field of a repeating group.
#[derive(Debug, PartialEq, Eq)]
pub struct Member {
    tag: u32,
    required: bool,
    group: Option<Box<GroupDef>>,
}

impl Member {
    /// The field's tag (the `NumInGroup` tag for a group).
    pub fn tag(&self) -> u32 {
        self.tag
    }

    /// Whether the layout requires it.
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The repeating group this `NumInGroup` field counts.
    pub fn group(&self) -> Option<&GroupDef> {
        self.group.as_deref()
    }
}

/// A repeating group: the tag that starts each entry, and what an entry holds.
#[derive(Debug, PartialEq, Eq)]
pub struct GroupDef {
    delimiter: u32,
    layout: Layout,
}

impl GroupDef {
    /// The first field of every entry.
    pub fn delimiter(&self) -> u32 {
        self.delimiter
    }

    /// An entry's fields.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
}

/// One message type's layout.
#[derive(Debug, PartialEq, Eq)]
struct MessageDef {
    msg_type: Box<[u8]>,
    layout: Layout,
    /// Defined by a FIXT transport dictionary: only transport fields are known in it, as
    /// QuickFIX validates session-level messages with the transport dictionary alone.
    transport: bool,
}
