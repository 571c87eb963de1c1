//! Remembered message shapes: a counterparty sends each message type with the same fields in
//! the same order, message after message. Everything validation judges from the tags alone (the
//! MsgType, the fields' places, the required fields, repeats, groups and their order) is then
//! the same as for the last such message that passed; only the values are left to check.

use std::sync::Arc;

use smallvec::SmallVec;

use super::validate::{ValueCheck, Walk};
use super::{Culprit, Dictionary, FieldInfo, FieldType, Rules, Violation};
use crate::codec::{Message, is_decimal, is_int, parse_uint};
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
    shapes: Vec<Shape>,
    /// The shape to replace next when the cache is full.
    next: usize,
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
            self.next = 0;
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
        let shape = if self.shapes.len() < MAX_SHAPES {
            self.shapes.push(Shape::default());
            self.shapes.last_mut()
        } else {
            let victim = self.next;
            self.next = (victim + 1) % MAX_SHAPES;
            self.shapes.get_mut(victim)
        };
        let Some(shape) = shape else { return };
        let spans = msg.fields().parts().1;
        shape.msg_type.clear();
        shape.msg_type.extend_from_slice(msg.msg_type());
        shape.layout = msg.layout();
        shape.rules = *rules;
        shape.tags.clear();
        shape.tags.extend(spans.iter().map(|span| span.tag));
        shape.checks.clear();
        shape.checks.extend(spans.iter().map(|span| FieldCheck {
            value: dictionary.value_check(span.tag, walk.transport_only),
            entries: None,
        }));
        for &(index, entries) in &walk.counts {
            if let Some(check) = shape.checks.get_mut(index) {
                check.entries = Some(entries);
            }
        }
        shape.rules_of_values.clear();
        for (index, check) in shape.checks.iter().enumerate() {
            // Indexes fit: a frame is far smaller than 4 GiB, and holds fewer fields.
            let index = index as u32;
            if let ValueCheck::Typed(info) = check.value {
                shape
                    .rules_of_values
                    .extend(ValueRule::typed(dictionary, index, info));
            }
            if let Some(entries) = check.entries {
                shape.rules_of_values.push(ValueRule {
                    index,
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
    /// What each field's value must be, in wire order.
    checks: Vec<FieldCheck>,
    /// The same checks with the trivial ones left out (free text without an enumeration), for
    /// a message without empty values.
    rules_of_values: Vec<ValueRule>,
}

/// The checks of one field's value in a remembered shape.
#[derive(Clone, Copy, Debug)]
struct FieldCheck {
    value: ValueCheck,
    /// For a `NumInGroup` field, the number of entries that follow it.
    entries: Option<u64>,
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
        if msg.issues().is_empty() {
            // No value is empty (the decoder would have said so): only the rules that can fail
            // are run.
            let (buf, spans) = msg.fields().parts();
            for rule in &shape.rules_of_values {
                let index = rule.index as usize;
                let Some(span) = spans.get(index) else { break };
                let value = span.value(buf);
                if let Some(reason) = rule.fault(self, value, &mut cache.last_valid_second) {
                    return Err(Violation {
                        reason,
                        culprit: Culprit::Field(index),
                    });
                }
            }
            return Ok(());
        }
        let bad_value = self.first_bad_value(msg, rules, shape);
        // The decoder's findings (a data field of the wrong length) are weighed with it.
        let mut walk = Walk::new(self, rules, msg);
        walk.note_issues(msg)?;
        if let Some((index, reason)) = bad_value {
            walk.note(index, reason);
        }
        walk.first().map_or(Ok(()), Err)
    }

    /// The first field, in wire order, whose value fails its remembered checks, and why: in
    /// [`Dictionary::validate`]'s order, empty, format, enumeration, then a group count that
    /// does not match the entries.
    fn first_bad_value(
        &self,
        msg: &Message,
        rules: &Rules,
        shape: &Shape,
    ) -> Option<(usize, SessionRejectReason)> {
        let (buf, spans) = msg.fields().parts();
        let have_values = rules.fields_have_values;
        for (index, (span, check)) in spans.iter().zip(&shape.checks).enumerate() {
            let value = span.value(buf);
            if value.is_empty() && have_values {
                return Some((index, SessionRejectReason::TagWithoutValue));
            }
            if let ValueCheck::Typed(info) = check.value
                && let Some(reason) = self.value_fault(info, value)
            {
                return Some((index, reason));
            }
            if let Some(entries) = check.entries
                && parse_uint(value).is_some_and(|declared| declared != entries)
            {
                return Some((index, SessionRejectReason::IncorrectNumInGroup));
            }
        }
        None
    }
}
