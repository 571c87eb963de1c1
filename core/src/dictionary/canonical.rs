//! A received message's body written again in the order QuickFIX serialises a parsed message:
//! fields in ascending tag order, each repeating group right after its `NumInGroup` field, and
//! every group entry's fields in dictionary order (DESIGN.md section 6).

use super::{Dictionary, GroupDef, Place};
use crate::codec::{FieldView, FieldWriter, Message};
use crate::tag;

/// Writes the body of `msg` (neither header nor trailer fields) to `out` in canonical order.
/// Without a dictionary, groups are unknown and every body field is sorted by tag.
pub fn write_canonical_body(msg: &Message, dictionary: Option<&Dictionary>, out: &mut FieldWriter) {
    let fields = msg.fields();
    let mut items = Vec::new();
    let body = dictionary.and_then(|d| d.message(msg.msg_type()));
    let mut i = 0;
    while let Some(field) = fields.at(i) {
        let start = i;
        i += 1;
        let Some(t) = field.tag() else { continue };
        let place = dictionary
            .and_then(|d| d.field(t))
            .map_or_else(|| builtin_place(t), |def| def.place);
        if place != Place::Body {
            continue;
        }
        let group = body.and_then(|b| b.member(t)).and_then(|(_, m)| m.group());
        if let Some(group) = group {
            i = group_end(&fields, group, i);
        }
        items.push(Item {
            key: t as usize,
            start,
            end: i,
            group,
        });
    }
    write_items(&fields, items, out);
}

/// One thing to write: a field, or a group's `NumInGroup` field with its entries.
struct Item<'a> {
    /// The sort key: the tag at the top level, the dictionary position inside an entry.
    key: usize,
    start: usize,
    end: usize,
    group: Option<&'a GroupDef>,
}

fn write_items(fields: &FieldView<'_>, mut items: Vec<Item<'_>>, out: &mut FieldWriter) {
    items.sort_by_key(|item| item.key);
    for item in items {
        let Some(field) = fields.at(item.start) else {
            continue;
        };
        if let Some(t) = field.tag() {
            out.bytes(t, field.value());
        }
        let Some(group) = item.group else { continue };
        let mut i = item.start + 1;
        while i < item.end {
            let (entry, next) = entry_items(fields, group, i);
            write_items(fields, entry, out);
            i = next;
        }
    }
}

/// The items of the entry of `group` that starts at `start`, and the index after it.
fn entry_items<'a>(
    fields: &FieldView<'_>,
    group: &'a GroupDef,
    start: usize,
) -> (Vec<Item<'a>>, usize) {
    let mut items = Vec::new();
    let mut i = start;
    while let Some((position, inner)) = entry_member(fields, group, start, i) {
        let begin = i;
        i += 1;
        if let Some(inner) = inner {
            i = group_end(fields, inner, i);
        }
        items.push(Item {
            key: position,
            start: begin,
            end: i,
            group: inner,
        });
    }
    (items, i.max(start + 1))
}

/// The member of an entry at index `i` (the entry started at `start`), if the entry goes on.
fn entry_member<'a>(
    fields: &FieldView<'_>,
    group: &'a GroupDef,
    start: usize,
    i: usize,
) -> Option<(usize, Option<&'a GroupDef>)> {
    let t = fields.at(i)?.tag()?;
    if i != start && t == group.delimiter {
        return None;
    }
    let (position, member) = group.layout.member(t)?;
    Some((position, member.group()))
}

/// The index after the last entry of `group`, whose entries start at `i`: found by walking the
/// members, without collecting them.
fn group_end(fields: &FieldView<'_>, group: &GroupDef, mut i: usize) -> usize {
    while fields.at(i).and_then(|f| f.tag()) == Some(group.delimiter) {
        let start = i;
        while let Some((_, inner)) = entry_member(fields, group, start, i) {
            i += 1;
            if let Some(inner) = inner {
                i = group_end(fields, inner, i);
            }
        }
        i = i.max(start + 1);
    }
    i
}

fn builtin_place(t: u32) -> Place {
    if tag::is_header(t) {
        Place::Header
    } else if tag::is_trailer(t) {
        Place::Trailer
    } else {
        Place::Body
    }
}
