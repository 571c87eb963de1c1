//! Remembered message shapes: a counterparty sends each message type with the same fields in
//! the same order, message after message. Everything validation judges from the tags alone (the
//! MsgType, the fields' places, the required fields, repeats, groups and their order) is then
//! the same as for the last such message that passed; only the values are left to check.

use std::sync::Arc;

use smallvec::SmallVec;

use super::validate::Walk;
use super::{Culprit, Dictionary, FieldInfo, FieldType, Rules, Violation};
use crate::codec::{Message, is_decimal, is_int, parse_uint};
use crate::recent::Recent;
use crate::reject::SessionRejectReason;
use crate::time::UtcTimestamp;

/// How many shapes a cache keeps: the message types, and the layouts of each, that one
/// counterparty sends.
const MAX_SHAPES: usize = 16;

/// The shapes of messages that passed validation, for [`Dictionary::validate_cached`].
///
/// A shape is a message's MsgType, its tags in wire order, and the rules it was validated
/// under. A cache serves one dictionary at a time: used with another, it forgets what it held.
/// At most 16 shapes are kept, the oldest replaced first; once that many have been seen, a new
/// one reuses the memory of the one it replaces.
#[derive(Debug, Default)]
pub struct ShapeCache {
    dictionary: Option<Arc<Dictionary>>,
    shapes: Recent<Shape, MAX_SHAPES>,
    /// The date and time of the last valid timestamp: the next ones are mostly in the same
    /// second.
    last_valid_second: [u8; 17],
}

impl ShapeCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of shapes held.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether no shape is held.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// Forgets every shape unless they were judged by `dictionary`.
    fn serve(&mut self, dictionary: &Arc<Dictionary>) {
        if !self
            .dictionary
            .as_ref()
            .is_some_and(|d| Arc::ptr_eq(d, dictionary))
        {
            self.dictionary = Some(Arc::clone(dictionary));
            self.shapes.clear();
        }
    }

    /// The index of the shape `msg` has, if it was remembered under `rules`.
    #[inline]
    fn find(&mut self, msg: &Message, rules: &Rules) -> Option<usize> {
        // A message the decoder found laid out as an earlier one has that one's shape.
        let layout = msg.layout();
        if layout != 0
            && let Some(index) = self
                .shapes
                .iter()
                .position(|shape| shape.layout == layout && shape.rules == *rules)
        {
            return Some(index);
        }
        let index = self.compare(msg, rules)?;
        if layout != 0 {
            self.shapes[index].layout = layout;
        }
        Some(index)
    }

    /// The index of the shape `msg` has, found by comparing its tags with each shape's.
    fn compare(&self, msg: &Message, rules: &Rules) -> Option<usize> {
        let spans = msg.fields().parts().1;
        let msg_type = msg.msg_type();
        self.shapes.iter().position(|shape| {
            shape.tags.len() == spans.len()
                && shape.rules == *rules
                && shape.msg_type.len() == msg_type.len()
                && shape.msg_type.iter().zip(msg_type).all(|(a, b)| a == b)
                && shape
                    .tags
                    .iter()
                    .zip(spans)
                    .fold(true, |same, (&tag, span)| same & (tag == span.tag))
        })
    }

    fn insert(&mut self, dictionary: &Dictionary, msg: &Message, rules: &Rules, walk: &Walk<'_>) {
        let shape = self.shapes.claim();
        let spans = msg.fields().parts().1;
        shape.msg_type.clear();
        shape.msg_type.extend_from_slice(msg.msg_type());
        shape.layout = msg.layout();
        shape.rules = *rules;
        shape.tags.clear();
        shape.tags.extend(spans.iter().map(|span| span.tag));
        shape.value_rules.clear();
        for (index, span) in spans.iter().enumerate() {
            let definition = dictionary.value_definition(span.tag, walk.transport_only);
            // Indexes fit: a frame is far smaller than 4 GiB, and holds fewer fields.
            let rule_index = index as u32;
            if let Some(info) = definition {
                shape
                    .value_rules
                    .extend(ValueRule::typed(dictionary, rule_index, info));
            }
            if let Some(&(_, entries)) = walk.counts.iter().find(|&&(at, _)| at == index) {
                shape.value_rules.push(ValueRule {
                    index: rule_index,
                    test: ValueTest::Entries(entries),
                });
            }
        }
    }
}

/// One remembered shape.
#[derive(Debug, Default)]
struct Shape {
    msg_type: SmallVec<[u8; 4]>,
    /// The id of the decoder's remembered layout last found to have this shape; 0 when none.
    layout: u64,
    rules: Rules,
    tags: Vec<u32>,
    /// What the values must pass, in wire order: a field has none when any value but an
    /// empty one passes (free text without an enumeration, framing and unknown fields).
    value_rules: Vec<ValueRule>,
}

/// A remembered check of one value that can fail, in wire order.
#[derive(Clone, Copy, Debug)]
struct ValueRule {
    /// The field's index in the message.
    index: u32,
    test: ValueTest,
}

#[derive(Clone, Copy, Debug)]
enum ValueTest {
    /// One character of a set (bit `c` for character `c`): a `CHAR` field with an enumeration
    /// of single characters, the commonest enumerated field.
    Char([u64; 2]),
    /// An integer without an enumeration (`INT`, `SEQNUM`, `LENGTH`, …).
    Int,
    /// A decimal without an enumeration (`PRICE`, `QTY`, …).
    Decimal,
    /// A `UTCTIMESTAMP`.
    Timestamp,
    /// Any other type's format, and the enumeration when the field has one.
    Typed(FieldInfo),
    /// A `NumInGroup` field's count, against the entries that follow it.
    Entries(u64),
}

impl ValueRule {
    /// The check of a defined field's value, or none when every non-empty value passes.
    fn typed(dictionary: &Dictionary, index: u32, info: FieldInfo) -> Option<Self> {
        let free = matches!(
            info.field_type,
            FieldType::String | FieldType::MultipleValue
        );
        if free && !info.enumerated {
            return None;
        }
        let chars = match info.field_type {
            FieldType::Char => dictionary
                .fields
                .def(info)
                .and_then(|def| def.values.chars()),
            _ => None,
        };
        let test = match (info.field_type, chars) {
            (_, Some(chars)) => ValueTest::Char([chars as u64, (chars >> 64) as u64]),
            (FieldType::Int, None) if !info.enumerated => ValueTest::Int,
            (FieldType::Float, None) if !info.enumerated => ValueTest::Decimal,
            (FieldType::UtcTimestamp, None) if !info.enumerated => ValueTest::Timestamp,
            _ => ValueTest::Typed(info),
        };
        Some(Self { index, test })
    }

    /// Why `value` fails this check, if it does.
    #[inline(always)]
    fn fault(
        &self,
        dictionary: &Dictionary,
        value: &[u8],
        last_valid_second: &mut [u8; 17],
    ) -> Option<SessionRejectReason> {
        match self.test {
            ValueTest::Char(chars) => match value {
                [c] if c.is_ascii() && chars[usize::from(c >> 6)] >> (c & 63) & 1 != 0 => None,
                [_] => Some(SessionRejectReason::ValueOutOfRange),
                _ => Some(SessionRejectReason::IncorrectDataFormat),
            },
            ValueTest::Int => (!is_int(value)).then_some(SessionRejectReason::IncorrectDataFormat),
            ValueTest::Decimal => {
                (!is_decimal(value)).then_some(SessionRejectReason::IncorrectDataFormat)
            }
            ValueTest::Timestamp => (!UtcTimestamp::is_valid_after(value, last_valid_second))
                .then_some(SessionRejectReason::IncorrectDataFormat),
            ValueTest::Typed(info) => dictionary.value_fault(info, value),
            ValueTest::Entries(entries) => parse_uint(value)
                .is_some_and(|declared| declared != entries)
                .then_some(SessionRejectReason::IncorrectNumInGroup),
        }
    }
}

impl Dictionary {
    /// [`Dictionary::validate`], with the shapes of earlier messages remembered in `cache`.
    ///
    /// A message with the shape of one that passed (the same MsgType, the same tags in the same
    /// order, the same rules) has only its values checked: empty values, formats, enumerations,
    /// data lengths and group counts. The result is the one [`Dictionary::validate`] gives, at
    /// a fraction of the cost; a message of a new shape is validated in full, and its shape
    /// remembered when it passes.
    pub fn validate_cached(
        self: &Arc<Self>,
        msg: &Message,
        rules: &Rules,
        cache: &mut ShapeCache,
    ) -> Result<(), Violation> {
        cache.serve(self);
        let Some(index) = cache.find(msg, rules) else {
            let mut walk = Walk::new(self, rules, msg);
            let checked = walk.check(msg);
            if checked.is_ok() {
                cache.insert(self, msg, rules, &walk);
            }
            return checked;
        };
        let shape = &cache.shapes[index];
        let (buf, spans) = msg.fields().parts();
        let last_valid_second = &mut cache.last_valid_second;
        let bad_rule = shape.value_rules.iter().find_map(|rule| {
            let index = rule.index as usize;
            let value = spans.get(index)?.value(buf);
            rule.fault(self, value, last_valid_second)
                .map(|reason| (index, reason))
        });
        if msg.issues().is_empty() {
            // No value is empty (the decoder would have said so).
            return bad_rule.map_or(Ok(()), |(index, reason)| {
                Err(Violation {
                    reason,
                    culprit: Culprit::Field(index),
                })
            });
        }
        // An empty value is reported before its field's other checks, in wire order.
        let empty = rules
            .fields_have_values
            .then(|| spans.iter().position(|span| span.value(buf).is_empty()))
            .flatten();
        let bad_value = match (empty, bad_rule) {
            (Some(empty), Some((index, _))) if index < empty => bad_rule,
            (Some(empty), _) => Some((empty, SessionRejectReason::TagWithoutValue)),
            (None, bad_rule) => bad_rule,
        };
        // The decoder's findings (a data field of the wrong length) are weighed with it.
        let mut walk = Walk::new(self, rules, msg);
        walk.note_issues(msg)?;
        if let Some((index, reason)) = bad_value {
            walk.note(index, reason);
        }
        walk.first().map_or(Ok(()), Err)
    }
}
