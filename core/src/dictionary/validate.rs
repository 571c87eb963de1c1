//! Validation of one message against a [`Dictionary`], in QuickFIX's order: the structure
//! (header, body, trailer), the MsgType, the required fields, then each field in wire order.
//!
//! One walk over the field index does it all, repeating groups included, without allocating for
//! messages of ordinary size.

use smallvec::SmallVec;

use super::{Dictionary, FieldInfo, GroupDef, Layout, Place, USER_DEFINED_TAGS};
use crate::codec::{FieldIssueKind, FieldView, Message, parse_uint};
use crate::reject::SessionRejectReason;
use crate::tag;

/// The validation switches of a session (QuickFIX's setting names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// `ValidateFieldsHaveValues`: a field without a value is rejected (reason 4).
    pub fields_have_values: bool,
    /// `ValidateFieldsOutOfOrder`: header, body and trailer fields must keep their places
    /// (reason 14), and an entry of a repeating group its dictionary order (reason 15).
    pub fields_out_of_order: bool,
    /// `ValidateUserDefinedFields`: user-defined tags (5000 and up) must be defined, and defined
    /// for the message type.
    pub user_defined_fields: bool,
    /// `AllowUnknownMsgFields`: standard tags (below 5000) may be unknown, or used in messages
    /// that do not define them.
    pub allow_unknown_msg_fields: bool,
}

impl Default for Rules {
    /// QuickFIX's defaults: every check on, nothing unknown allowed.
    fn default() -> Self {
        Self {
            fields_have_values: true,
            fields_out_of_order: true,
            user_defined_fields: true,
            allow_unknown_msg_fields: false,
        }
    }
}

/// What a Reject refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Culprit {
    /// The field at this index of [`Message::fields`] (its raw tag goes to `RefTagID <371>`).
    Field(usize),
    /// A tag that is missing.
    Missing(u32),
    /// The message as a whole (an unknown MsgType).
    Message,
}

/// Why a message fails validation: a SessionRejectReason and what it refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The reason.
    pub reason: SessionRejectReason,
    /// The field or tag at fault.
    pub culprit: Culprit,
}

impl Violation {
    /// The tag for `RefTagID <371>`, as it was on the wire.
    pub fn ref_tag(&self, msg: &Message) -> Option<Vec<u8>> {
        match self.culprit {
            Culprit::Field(index) => msg.field_at(index).map(|f| f.raw_tag().to_vec()),
            Culprit::Missing(tag) => Some(tag.to_string().into_bytes()),
            Culprit::Message => None,
        }
    }
}

impl Dictionary {
    /// Checks `msg` against the dictionary and `rules`. The first problem is returned, in
    /// QuickFIX's order: a field out of its part of the message, an unknown MsgType, a missing
    /// required field (header, trailer, body, then groups, each in ascending tag order), then
    /// the first field, in wire order, that is repeated, empty, badly formatted, outside its
    /// enumeration, unknown, not defined for the message type, or whose group count is wrong.
    pub fn validate(&self, msg: &Message, rules: &Rules) -> Result<(), Violation> {
        Walk::new(self, rules, msg).check(msg)
    }
}

impl Dictionary {
    /// What the dictionary says of `tag`; in a FIXT session-level message (`transport_only`),
    /// an application field is unknown.
    #[inline(always)]
    fn known(&self, tag: u32, transport_only: bool) -> FieldInfo {
        let info = self.fields.info(tag);
        if transport_only && !info.transport {
            FieldInfo::UNDEFINED
        } else {
            info
        }
    }

    /// What is wrong with `value` for the defined field `info`: its type's format, then its
    /// enumeration.
    #[inline(always)]
    pub(super) fn value_fault(&self, info: FieldInfo, value: &[u8]) -> Option<SessionRejectReason> {
        if !info.field_type.accepts(value) {
            Some(SessionRejectReason::IncorrectDataFormat)
        } else if info.enumerated && self.fields.def(info).is_some_and(|def| !def.allows(value)) {
            Some(SessionRejectReason::ValueOutOfRange)
        } else {
            None
        }
    }

    /// The definition a value of `tag` is checked against besides being empty: none for a
    /// framing field (the codec checked it) or an unknown one (reported, if at all, by its tag).
    pub(super) fn value_definition(&self, tag: u32, transport_only: bool) -> Option<FieldInfo> {
        let info = self.known(tag, transport_only);
        (!is_framing(tag) && info.is_defined()).then_some(info)
    }
}

/// The required fields seen at the top level, one bit per required tag of each part.
#[derive(Default)]
struct Seen {
    header: u64,
    body: u64,
    trailer: u64,
}

/// One validation of one message: what it has found so far.
pub(super) struct Walk<'a> {
    dictionary: &'a Dictionary,
    rules: &'a Rules,
    fields: FieldView<'a>,
    /// The field problem with the lowest index so far.
    first: Option<Violation>,
    /// The first required tag found missing in a group entry.
    group_missing: Option<u32>,
    /// A FIXT session-level message: only the transport dictionary's fields are known.
    pub(super) transport_only: bool,
    /// Whether the message may hold a repeated tag (the decoder saw one).
    repeats: bool,
    /// Each `NumInGroup` field's index and the number of entries found after it.
    pub(super) counts: SmallVec<[(usize, u64); 4]>,
}

impl<'a> Walk<'a> {
    /// A walk over `msg` that has noted nothing yet.
    pub(super) fn new(dictionary: &'a Dictionary, rules: &'a Rules, msg: &'a Message) -> Self {
        Self {
            dictionary,
            rules,
            fields: msg.fields(),
            first: None,
            group_missing: None,
            transport_only: false,
            repeats: msg.may_repeat_tags(),
            counts: SmallVec::new(),
        }
    }

    /// The whole validation of `msg`; see [`Dictionary::validate`]. The walk keeps what it
    /// found of the message's groups (`counts`).
    pub(super) fn check(&mut self, msg: &Message) -> Result<(), Violation> {
        self.note_issues(msg)?;
        let dictionary: &'a Dictionary = self.dictionary;
        let Some(message) = dictionary.message_def(msg.msg_type()) else {
            return Err(Violation {
                reason: SessionRejectReason::InvalidMsgType,
                culprit: Culprit::Message,
            });
        };
        self.transport_only = message.transport;
        let body = &message.layout;
        let seen = self.top_level(body);
        let parts = [
            (&dictionary.header, seen.header),
            (&dictionary.trailer, seen.trailer),
            (body, seen.body),
        ];
        let everything = 0..self.fields.len();
        let missing = parts
            .into_iter()
            .find_map(|(layout, seen)| first_missing(layout, seen, &self.fields, &everything))
            .or(self.group_missing);
        if let Some(tag) = missing {
            return Err(Violation {
                reason: SessionRejectReason::RequiredTagMissing,
                culprit: Culprit::Missing(tag),
            });
        }
        self.first.map_or(Ok(()), Err)
    }

    /// The decoder's findings that validation reports: a field out of its part of the message
    /// ends validation at once; a data field whose length is wrong is noted.
    pub(super) fn note_issues(&mut self, msg: &Message) -> Result<(), Violation> {
        for issue in msg.issues() {
            match issue.kind {
                FieldIssueKind::OutOfOrder if self.rules.fields_out_of_order => {
                    return Err(Violation {
                        reason: SessionRejectReason::TagOutOfOrder,
                        culprit: Culprit::Field(issue.index),
                    });
                }
                FieldIssueKind::DataLengthMismatch => {
                    self.note(issue.index, SessionRejectReason::IncorrectDataFormat)
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The first problem noted.
    pub(super) fn first(&self) -> Option<Violation> {
        self.first
    }

    /// Notes a problem with field `index`; the one earliest on the wire wins.
    pub(super) fn note(&mut self, index: usize, reason: SessionRejectReason) {
        let earlier = match self.first {
            Some(Violation {
                culprit: Culprit::Field(first),
                ..
            }) => index < first,
            _ => true,
        };
        if earlier {
            self.first = Some(Violation {
                reason,
                culprit: Culprit::Field(index),
            });
        }
    }

    /// Walks the header, body and trailer fields, and every group they hold.
    fn top_level(&mut self, body: &Layout) -> Seen {
        let mut seen = Seen::default();
        let mut repeats = self.repeats.then(TagSet::default);
        let (buf, spans) = self.fields.parts();
        let dictionary: &'a Dictionary = self.dictionary;
        let mut i = 0;
        while let Some(&span) = spans.get(i) {
            let index = i;
            i += 1;
            let tag = span.tag;
            if tag == 0 {
                self.note(index, SessionRejectReason::InvalidTagNumber);
                continue;
            }
            if let Some(repeats) = &mut repeats
                && !repeats.insert(tag)
            {
                self.note(index, SessionRejectReason::TagAppearsMoreThanOnce);
            }
            let value = span.value(buf);
            let info = self.check_value(index, value, tag);
            let (layout, bits) = match info.place {
                Place::Header => (&dictionary.header, &mut seen.header),
                Place::Trailer => (&dictionary.trailer, &mut seen.trailer),
                Place::Body => (body, &mut seen.body),
            };
            let slot = layout.slot(tag);
            let Some(member) = slot.index() else {
                if info.is_defined() && !is_framing(tag) && self.should_check(tag) {
                    self.note(index, SessionRejectReason::TagNotDefinedForMessageType);
                }
                continue;
            };
            *bits |= slot.required_bit();
            if slot.group
                && let Some(group) = layout.members[member].group()
            {
                i = self.group(index, value, group, i);
            }
        }
        seen
    }

    /// Walks the entries of `group`, whose `NumInGroup` field is at `count_index`; they start at
    /// `i`. Returns the index after the last entry.
    fn group(&mut self, count_index: usize, count: &[u8], group: &GroupDef, mut i: usize) -> usize {
        let mut entries = 0u64;
        while let Some(tag) = self.fields.at(i).and_then(|f| f.tag()) {
            if tag != group.delimiter {
                // A member before the first delimiter: the entries are out of order, and
                // their count cannot be judged.
                if entries == 0
                    && self.rules.fields_out_of_order
                    && group.layout.member(tag).is_some()
                {
                    self.note(i, SessionRejectReason::RepeatingGroupOutOfOrder);
                    return i;
                }
                break;
            }
            entries += 1;
            i = self.entry(group, i);
        }
        self.counts.push((count_index, entries));
        if parse_uint(count).is_some_and(|declared| declared != entries) {
            self.note(count_index, SessionRejectReason::IncorrectNumInGroup);
        }
        i
    }

    /// Walks one entry of `group`, starting with its delimiter at `start`. Returns the index
    /// after it.
    fn entry(&mut self, group: &GroupDef, start: usize) -> usize {
        let layout = &group.layout;
        let mut seen = 0u64;
        let mut last_position = 0;
        let mut i = start;
        while let Some(field) = self.fields.at(i) {
            let Some(tag) = field.tag().filter(|&t| i == start || t != group.delimiter) else {
                break;
            };
            let slot = layout.slot(tag);
            let Some(position) = slot.index() else {
                break;
            };
            let member = &layout.members[position];
            let index = i;
            i += 1;
            seen |= slot.required_bit();
            if (start..index).any(|j| self.fields.at(j).and_then(|f| f.tag()) == Some(tag)) {
                self.note(index, SessionRejectReason::TagAppearsMoreThanOnce);
            }
            if self.rules.fields_out_of_order && position < last_position {
                self.note(index, SessionRejectReason::RepeatingGroupOutOfOrder);
            }
            last_position = position;
            self.check_value(index, field.value(), tag);
            if let Some(inner) = member.group() {
                i = self.group(index, field.value(), inner, i);
            }
        }
        if self.group_missing.is_none() {
            self.group_missing = first_missing(layout, seen, &self.fields, &(start..i));
        }
        i
    }

    /// The checks of one field's value: empty, format, enumeration, and whether the tag is
    /// known at all. Returns what the dictionary says of the tag.
    #[inline(always)]
    fn check_value(&mut self, index: usize, value: &[u8], tag: u32) -> FieldInfo {
        if value.is_empty() && self.rules.fields_have_values {
            self.note(index, SessionRejectReason::TagWithoutValue);
        }
        let info = self.dictionary.known(tag, self.transport_only);
        if is_framing(tag) {
            return info; // The codec has checked them.
        }
        if !info.is_defined() {
            if self.should_check(tag) {
                self.note(index, SessionRejectReason::InvalidTagNumber);
            }
        } else if let Some(reason) = self.dictionary.value_fault(info, value) {
            self.note(index, reason);
        }
        info
    }

    /// Whether an unknown or misplaced `tag` is rejected, by the user-defined and
    /// unknown-field switches.
    fn should_check(&self, tag: u32) -> bool {
        if tag >= USER_DEFINED_TAGS {
            self.rules.user_defined_fields
        } else {
            !self.rules.allow_unknown_msg_fields
        }
    }
}

fn is_framing(tag: u32) -> bool {
    matches!(
        tag,
        tag::BEGIN_STRING | tag::BODY_LENGTH | tag::MSG_TYPE | tag::CHECK_SUM
    )
}

/// The lowest required tag of `layout` not marked in `seen` (bits for the first 64 required
/// tags; later ones are looked for in `range` of `fields`).
fn first_missing(
    layout: &Layout,
    seen: u64,
    fields: &FieldView<'_>,
    range: &std::ops::Range<usize>,
) -> Option<u32> {
    if seen & layout.required_mask == layout.required_mask && layout.required.len() <= 64 {
        return None;
    }
    layout
        .required
        .iter()
        .enumerate()
        .find(|&(i, &tag)| match i {
            0..64 => seen & (1 << i) == 0,
            _ => !range
                .clone()
                .any(|j| fields.at(j).and_then(|f| f.tag()) == Some(tag)),
        })
        .map(|(_, &tag)| tag)
}

/// The tags seen at one level: a bitmap below 1024, a short list above.
struct TagSet {
    low: [u64; 16],
    high: SmallVec<[u32; 8]>,
}

impl Default for TagSet {
    fn default() -> Self {
        Self {
            low: [0; 16],
            high: SmallVec::new(),
        }
    }
}

impl TagSet {
    /// Adds `tag`; false when it was there already.
    fn insert(&mut self, tag: u32) -> bool {
        match self.low.get_mut((tag / 64) as usize) {
            Some(word) => {
                let bit = 1 << (tag % 64);
                let new = *word & bit == 0;
                *word |= bit;
                new
            }
            None if self.high.contains(&tag) => false,
            None => {
                self.high.push(tag);
                true
            }
        }
    }
}
