//! Building a [`Dictionary`] by tag numbers. A loader (the `fixgate-dictionary` crate for
//! QuickFIX's XML) resolves names and components, then describes fields and layouts here.

use std::collections::BTreeMap;

use super::{
    DENSE_LAYOUT_TAGS, DENSE_TAGS, Dictionary, Enumeration, FieldDef, FieldInfo, FieldTable,
    FieldType, GroupDef, Layout, Member, MessageDef, Place, Slot,
};
use crate::dictionary::enumeration::pack;

/// Why a dictionary could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A repeating group has no fields, so no delimiter.
    #[error("group {tag} has no fields")]
    EmptyGroup {
        /// The group's `NumInGroup` tag.
        tag: u32,
    },
    /// A layout uses a tag that no field definition gives.
    #[error("tag {tag} is used but not defined as a field")]
    UndefinedField {
        /// The tag.
        tag: u32,
    },
    /// A layout has more members than a table index holds.
    #[error("a layout has {count} members; at most 65535 are supported")]
    TooManyMembers {
        /// The number of members.
        count: usize,
    },
    /// Tag 0 is not a tag.
    #[error("tag 0 is not a valid tag number")]
    ZeroTag,
}

/// Collects a dictionary's fields and layouts, then compiles them with [`build`](Self::build).
#[derive(Debug, Default)]
pub struct DictionaryBuilder {
    begin_string: String,
    fields: BTreeMap<u32, FieldDef>,
    header: Layout,
    trailer: Layout,
    messages: BTreeMap<Vec<u8>, Layout>,
    /// The MsgTypes defined before [`seal_transport`](Self::seal_transport).
    transport_messages: Vec<Vec<u8>>,
}

impl DictionaryBuilder {
    /// An empty dictionary for `begin_string` (`FIX.4.4`, `FIXT.1.1`).
    pub fn new(begin_string: impl Into<String>) -> Self {
        Self {
            begin_string: begin_string.into(),
            ..Self::default()
        }
    }

    /// Defines field `tag`. `values` is its enumeration (empty: any value of the type). A second
    /// definition of the same tag replaces the first, so that an application dictionary can
    /// refine a transport dictionary's fields.
    pub fn field(
        &mut self,
        tag: u32,
        name: &str,
        field_type: FieldType,
        values: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<(), BuildError> {
        if tag == 0 {
            return Err(BuildError::ZeroTag);
        }
        let transport = self.fields.get(&tag).is_some_and(|f| f.transport);
        self.fields.insert(
            tag,
            FieldDef {
                name: name.into(),
                field_type,
                place: Place::Body,
                transport,
                values: Enumeration::new(values.into_iter().collect()),
            },
        );
        Ok(())
    }

    /// Marks everything defined so far as the FIXT transport dictionary's: its message types
    /// (the session-level ones) then know only its fields, whatever an application dictionary
    /// adds afterwards.
    pub fn seal_transport(&mut self) {
        for def in self.fields.values_mut() {
            def.transport = true;
        }
        self.transport_messages = self.messages.keys().cloned().collect();
    }

    /// Sets the standard header's layout.
    pub fn header(&mut self, layout: LayoutBuilder) -> Result<(), BuildError> {
        self.header = layout.build()?;
        Ok(())
    }

    /// Sets the standard trailer's layout.
    pub fn trailer(&mut self, layout: LayoutBuilder) -> Result<(), BuildError> {
        self.trailer = layout.build()?;
        Ok(())
    }

    /// Defines MsgType `msg_type`'s body (replacing an earlier definition).
    pub fn message(&mut self, msg_type: &[u8], layout: LayoutBuilder) -> Result<(), BuildError> {
        self.messages.insert(msg_type.to_vec(), layout.build()?);
        Ok(())
    }

    /// Compiles the tables, checking that every layout's tags are defined fields.
    pub fn build(mut self) -> Result<Dictionary, BuildError> {
        for (layout, place) in [
            (&self.header, Place::Header),
            (&self.trailer, Place::Trailer),
        ] {
            for member in layout.members.iter() {
                if let Some(def) = self.fields.get_mut(&member.tag) {
                    def.place = place;
                }
            }
        }
        let layouts = [&self.header, &self.trailer]
            .into_iter()
            .chain(self.messages.values());
        for layout in layouts {
            check_defined(layout, &self.fields)?;
        }
        let messages: Box<[MessageDef]> = self
            .messages
            .into_iter()
            .map(|(msg_type, layout)| MessageDef {
                transport: self.transport_messages.contains(&msg_type),
                msg_type: msg_type.into_boxed_slice(),
                layout,
            })
            .collect();
        let mut message_keys: Vec<(u64, u32)> = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| Some((pack(&m.msg_type)?, u32::try_from(i).ok()?)))
            .collect();
        message_keys.sort_unstable();
        let mut by_char = [0u16; 128];
        for (i, m) in messages.iter().enumerate() {
            if let ([c], Ok(slot)) = (&m.msg_type[..], u16::try_from(i + 1))
                && c.is_ascii()
            {
                by_char[usize::from(*c)] = slot;
            }
        }
        Ok(Dictionary {
            begin_string: self.begin_string.into_boxed_str(),
            fields: field_table(self.fields),
            header: self.header,
            trailer: self.trailer,
            messages,
            message_keys: message_keys.into_boxed_slice(),
            by_char,
        })
    }
}

fn check_defined(layout: &Layout, fields: &BTreeMap<u32, FieldDef>) -> Result<(), BuildError> {
    for member in layout.members.iter() {
        if !fields.contains_key(&member.tag) {
            return Err(BuildError::UndefinedField { tag: member.tag });
        }
        if let Some(group) = &member.group {
            check_defined(&group.layout, fields)?;
        }
    }
    Ok(())
}

fn field_table(fields: BTreeMap<u32, FieldDef>) -> FieldTable {
    let dense_len = fields
        .keys()
        .copied()
        .filter(|&t| (t as usize) < DENSE_TAGS)
        .max()
        .map_or(0, |t| t as usize + 1);
    let mut dense = vec![FieldInfo::UNDEFINED; dense_len];
    let mut sparse = Vec::new();
    let mut defs = Vec::with_capacity(fields.len());
    for (index, (tag, def)) in fields.into_iter().enumerate() {
        let info = FieldInfo::of(index, &def);
        match dense.get_mut(tag as usize) {
            Some(slot) => *slot = info,
            None => sparse.push((tag, info)),
        }
        defs.push(def);
    }
    FieldTable {
        dense: dense.into_boxed_slice(),
        sparse: sparse.into_boxed_slice(),
        defs: defs.into_boxed_slice(),
    }
}

/// The members of one layout, in dictionary order.
#[derive(Debug, Default)]
pub struct LayoutBuilder {
    members: Vec<(u32, bool, Option<Self>)>,
}

impl LayoutBuilder {
    /// An empty layout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no member was added.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adds field `tag`.
    pub fn field(&mut self, tag: u32, required: bool) -> &mut Self {
        self.members.push((tag, required, None));
        self
    }

    /// Adds the repeating group counted by `count_tag`; `entry`'s first member is the delimiter.
    pub fn group(&mut self, count_tag: u32, required: bool, entry: Self) -> &mut Self {
        self.members.push((count_tag, required, Some(entry)));
        self
    }

    fn build(self) -> Result<Layout, BuildError> {
        let count = self.members.len();
        if count > usize::from(u16::MAX) {
            return Err(BuildError::TooManyMembers { count });
        }
        let mut members: Vec<Member> = Vec::with_capacity(count);
        for (tag, required, entry) in self.members {
            if tag == 0 {
                return Err(BuildError::ZeroTag);
            }
            // A field listed twice (directly and through a component, as some published
            // dictionaries do) is one member, at its first place.
            if members.iter().any(|m| m.tag == tag) {
                continue;
            }
            let group = match entry {
                None => None,
                Some(entry) => {
                    let layout = entry.build()?;
                    let delimiter = layout
                        .members
                        .first()
                        .map(|m| m.tag)
                        .ok_or(BuildError::EmptyGroup { tag })?;
                    Some(Box::new(GroupDef { delimiter, layout }))
                }
            };
            members.push(Member {
                tag,
                required,
                group,
            });
        }
        let mut required: Vec<u32> = members
            .iter()
            .filter(|m| m.required)
            .map(|m| m.tag)
            .collect();
        required.sort_unstable();
        let required_mask = match required.len() {
            n @ 0..64 => (1u64 << n) - 1,
            _ => u64::MAX,
        };
        let mut by_tag: Vec<(u32, Slot)> = members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let bit = required
                    .iter()
                    .position(|&t| t == m.tag)
                    .filter(|&b| b < 64);
                let slot = Slot {
                    // `count` fits u16, checked above.
                    member: u16::try_from(i + 1).unwrap_or(u16::MAX),
                    required: bit.map_or(0, |b| b as u8 + 1),
                    group: m.group.is_some(),
                };
                (m.tag, slot)
            })
            .collect();
        by_tag.sort_unstable_by_key(|&(tag, _)| tag);
        let max = by_tag.last().map_or(0, |&(t, _)| t);
        let mut dense = Vec::new();
        if max < DENSE_LAYOUT_TAGS {
            dense = vec![Slot::NONE; max as usize + 1];
            for &(tag, slot) in &by_tag {
                dense[tag as usize] = slot;
            }
        }
        Ok(Layout {
            members: members.into_boxed_slice(),
            dense: dense.into_boxed_slice(),
            by_tag: by_tag.into_boxed_slice(),
            required: required.into_boxed_slice(),
            required_mask,
        })
    }
}
