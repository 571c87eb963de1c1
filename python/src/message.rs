//! `FixMessage`: a message built in Python (its type and body fields), or one received and lent
//! to a listener for the time of its callback.

use bytes::BytesMut;
use fixgate_core::codec::{FieldView, FieldWriter, GroupSpec, Message, encode_frame};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList};

use crate::errors::{FixgateError, MessageExpired};

/// The header and trailer fields that the session writes itself: a message's body never
/// carries them when it is sent.
const SESSION_TAGS: [u32; 8] = [8, 9, 10, 34, 35, 49, 52, 56];

/// One field of a built message's body, or one repeating group.
#[derive(Clone)]
enum Item {
    /// A field: its tag and its value.
    Field(u32, Vec<u8>),
    /// A repeating group: its `NumInGroup` tag and its entries, each a list of fields and
    /// nested groups in order.
    Group(u32, Vec<Vec<Self>>),
}

impl Item {
    /// Writes the item: a group as its `NumInGroup` field, then each entry's items in order.
    fn write(&self, writer: &mut FieldWriter) {
        match self {
            Self::Field(tag, value) => {
                writer.bytes(*tag, value);
            }
            Self::Group(count_tag, entries) => {
                writer.uint(*count_tag, entries.len() as u64);
                for item in entries.iter().flatten() {
                    item.write(writer);
                }
            }
        }
    }

    /// The tag the item starts with: the field's, or the group's `NumInGroup`.
    fn tag(&self) -> u32 {
        match self {
            Self::Field(tag, _) | Self::Group(tag, _) => *tag,
        }
    }
}

/// What a message holds.
// `Lent` holds a message with its inline field index; boxing it would allocate per message.
#[allow(clippy::large_enum_variant)]
enum Body {
    /// Built in Python: its MsgType and its fields and groups in order.
    Built { msg_type: String, items: Vec<Item> },
    /// Received, and lent to a callback.
    Lent(Message),
    /// Received, after the callback it was lent to returned.
    Expired,
}

/// A FIX message: `FixMessage("D")`, then `set(tag, value)` for each body field; `put()` on a
/// session adds the header (BeginString, CompIDs, MsgSeqNum, SendingTime) and the trailer.
/// Repeating groups: `add_group(count_tag, entries)` to build one, `get_group(count_tag,
/// delimiter_tag, tags)` to read one (its entries are `GroupEntry` dicts, whose own `get_group`
/// and `add_group` read and build nested groups).
///
/// A message given to a listener's `on_new_message` is read-only and valid only inside that
/// callback (FIX Antenna's rule): `copy()` keeps one.
#[pyclass(module = "fixgate")]
pub(crate) struct FixMessage {
    body: Body,
}

impl FixMessage {
    /// A received message, lent to a callback.
    pub(crate) fn lent(message: Message) -> Self {
        Self {
            body: Body::Lent(message),
        }
    }

    /// Ends the loan of a received message.
    pub(crate) fn expire(&mut self) {
        self.body = Body::Expired;
    }

    /// Its MsgType and its body fields encoded, without the fields the session writes.
    pub(crate) fn encode(&self) -> PyResult<(Vec<u8>, Vec<u8>)> {
        let mut writer = FieldWriter::new();
        let msg_type = match &self.body {
            Body::Built { msg_type, items } => {
                for item in items {
                    if !SESSION_TAGS.contains(&item.tag()) {
                        item.write(&mut writer);
                    }
                }
                msg_type.as_bytes().to_vec()
            }
            Body::Lent(message) => {
                for field in message.fields().iter() {
                    match field.tag() {
                        Some(tag) if !SESSION_TAGS.contains(&tag) => {
                            writer.bytes(tag, field.value());
                        }
                        _ => {}
                    }
                }
                message.msg_type().to_vec()
            }
            Body::Expired => return Err(expired()),
        };
        Ok((msg_type, writer.as_bytes().to_vec()))
    }
}

fn expired() -> PyErr {
    MessageExpired::new_err(
        "the message was lent to a callback that has returned; copy() it inside the callback",
    )
}

/// A field's value as bytes: `bool` as Y/N, `bytes` as they are, anything else as `str()`;
/// the tag must be above 0 and the value not empty and without SOH.
fn field_value(tag: u32, value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let value = if let Ok(flag) = value.downcast::<PyBool>() {
        if flag.is_true() { b"Y" } else { b"N" }.to_vec()
    } else if let Ok(bytes) = value.downcast::<PyBytes>() {
        bytes.as_bytes().to_vec()
    } else {
        value.str()?.to_cow()?.as_bytes().to_vec()
    };
    if tag == 0 || value.is_empty() || value.contains(&1) {
        return Err(FixgateError::new_err(format!(
            "field {tag}: a tag above 0 and a value without SOH, not empty"
        )));
    }
    Ok(value)
}

/// A group's entries from Python: a list of entries, each a dict {tag: value} or a list of
/// (tag, value) pairs, in field order; a value that is a list is a nested group (its tag the
/// nested `NumInGroup`). Every entry must start with the same tag, the group's delimiter.
fn group_entries(count_tag: u32, entries: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<Item>>> {
    let mut parsed = Vec::new();
    for entry in entries.try_iter()? {
        let entry = entry?;
        let pairs: Vec<(u32, Bound<'_, PyAny>)> = if let Ok(dict) = entry.downcast::<PyDict>() {
            dict.iter()
                .map(|(tag, value)| Ok((tag.extract()?, value)))
                .collect::<PyResult<_>>()?
        } else {
            entry
                .try_iter()?
                .map(|pair| pair?.extract())
                .collect::<PyResult<_>>()?
        };
        let mut items = Vec::with_capacity(pairs.len());
        for (tag, value) in pairs {
            if let Ok(nested) = value.downcast::<PyList>() {
                items.push(Item::Group(tag, group_entries(tag, nested.as_any())?));
            } else {
                items.push(Item::Field(tag, field_value(tag, &value)?));
            }
        }
        parsed.push(items);
    }
    let delimiter = parsed
        .first()
        .and_then(|entry| entry.first())
        .map(Item::tag);
    for (index, entry) in parsed.iter().enumerate() {
        match entry.first() {
            None => {
                return Err(FixgateError::new_err(format!(
                    "group {count_tag}: entry {index} is empty"
                )));
            }
            Some(first) if Some(first.tag()) != delimiter => {
                return Err(FixgateError::new_err(format!(
                    "group {count_tag}: entry {index} starts with tag {}, not the delimiter {}",
                    first.tag(),
                    delimiter.unwrap_or_default()
                )));
            }
            Some(_) => {}
        }
        if let Some(again) = entry[1..].iter().find(|item| Some(item.tag()) == delimiter) {
            return Err(FixgateError::new_err(format!(
                "group {count_tag}: entry {index} repeats the delimiter {}",
                again.tag()
            )));
        }
    }
    Ok(parsed)
}

/// `body` (tag=value fields) framed as the core receives a message of type `msg_type`, so that
/// its groups are read by the same rules as a received message's.
fn framed(msg_type: &[u8], body: &[u8]) -> PyResult<Message> {
    let mut frame = BytesMut::new();
    encode_frame(&mut frame, b"FIX.4.4", msg_type, &mut [], body);
    Message::parse(frame.freeze())
        .map_err(|error| FixgateError::new_err(format!("DecodeError: {error}")))
}

/// The group spec of `get_group(count_tag, delimiter_tag, tags)`: the delimiter is a member.
fn members(delimiter_tag: u32, tags: Vec<u32>) -> Vec<u32> {
    let mut members = vec![delimiter_tag];
    members.extend(tags.into_iter().filter(|&tag| tag != delimiter_tag));
    members
}

/// The entries of the group `spec` describes in `view` (a message's fields, or an entry's), each
/// a `fixgate.GroupEntry`: a dict {tag: str} of the member tags it holds (a tag's first
/// occurrence in the entry) that keeps the entry's fields as received, for its nested groups.
fn read_group<'py>(
    py: Python<'py>,
    view: FieldView<'_>,
    spec: &GroupSpec<'_>,
) -> PyResult<Bound<'py, PyList>> {
    static CLASS: GILOnceCell<Py<PyAny>> = GILOnceCell::new();
    let class = CLASS.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("fixgate")?.getattr("GroupEntry")?.unbind())
    })?;
    let group = view
        .group(spec)
        .map_err(|error| FixgateError::new_err(format!("GroupError: {error}")))?;
    let list = PyList::empty(py);
    for entry in group {
        let fields = PyList::empty(py);
        for &tag in spec.members {
            if let Some(value) = entry.get(tag) {
                fields.append((tag, String::from_utf8_lossy(value)))?;
            }
        }
        let mut raw = FieldWriter::new();
        for field in entry.iter() {
            if let Some(tag) = field.tag() {
                raw.bytes(tag, field.value());
            }
        }
        list.append(
            class
                .bind(py)
                .call1((fields, PyBytes::new(py, raw.as_bytes())))?,
        )?;
    }
    Ok(list)
}

/// The entries of the group that `count_tag` introduces inside one group entry: `entry` is the
/// entry's fields as received (bytes) or an entry being built (a dict or (tag, value) pairs,
/// with nested groups as lists); see `FixMessage.get_group`. `GroupEntry.get_group` calls this.
#[pyfunction]
#[pyo3(signature = (entry, count_tag, delimiter_tag, tags))]
pub(crate) fn read_entry_group<'py>(
    entry: &Bound<'py, PyAny>,
    count_tag: u32,
    delimiter_tag: u32,
    tags: Vec<u32>,
) -> PyResult<Bound<'py, PyList>> {
    let py = entry.py();
    let body = if let Ok(bytes) = entry.downcast::<PyBytes>() {
        bytes.as_bytes().to_vec()
    } else {
        let mut writer = FieldWriter::new();
        let entries = PyList::new(py, [entry])?;
        for item in group_entries(0, entries.as_any())?.iter().flatten() {
            item.write(&mut writer);
        }
        writer.as_bytes().to_vec()
    };
    let members = members(delimiter_tag, tags);
    let spec = GroupSpec {
        count_tag,
        delimiter: delimiter_tag,
        members: &members,
    };
    read_group(py, framed(b"0", &body)?.fields(), &spec)
}

/// Checks the entries of a group being built (`GroupEntry.add_group`), as `FixMessage.add_group`
/// does.
#[pyfunction]
pub(crate) fn check_group(count_tag: u32, entries: &Bound<'_, PyAny>) -> PyResult<()> {
    if count_tag == 0 || SESSION_TAGS.contains(&count_tag) {
        return Err(FixgateError::new_err(format!(
            "group {count_tag}: not a NumInGroup tag of a message body"
        )));
    }
    group_entries(count_tag, entries).map(drop)
}

#[pymethods]
impl FixMessage {
    /// A new message of type `msg_type` ("D" for NewOrderSingle, "8" for ExecutionReport…)
    /// with no fields yet.
    #[new]
    fn new(msg_type: &str) -> PyResult<Self> {
        if msg_type.is_empty() || msg_type.contains('\x01') {
            return Err(FixgateError::new_err(format!(
                "invalid MsgType {msg_type:?}"
            )));
        }
        Ok(Self {
            body: Body::Built {
                msg_type: msg_type.to_owned(),
                items: Vec::new(),
            },
        })
    }

    /// Sets field `tag` to `value` (str, int, float, bool as Y/N, or bytes): replaces the
    /// field's first occurrence, or appends it (fields inside groups are not touched; a group's
    /// NumInGroup tag is changed with `add_group`). Received messages are read-only.
    fn set(&mut self, tag: u32, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = field_value(tag, value)?;
        match &mut self.body {
            Body::Built { msg_type, items } => {
                if tag == 35 {
                    *msg_type = String::from_utf8_lossy(&value).into_owned();
                    return Ok(());
                }
                match items.iter_mut().find(|item| item.tag() == tag) {
                    Some(Item::Field(_, old)) => *old = value,
                    Some(Item::Group(..)) => {
                        return Err(FixgateError::new_err(format!(
                            "field {tag} is a group's NumInGroup: add_group() replaces the group"
                        )));
                    }
                    None => items.push(Item::Field(tag, value)),
                }
                Ok(())
            }
            Body::Lent(_) => Err(FixgateError::new_err(
                "a received message is read-only; copy() it to change it",
            )),
            Body::Expired => Err(expired()),
        }
    }

    /// The value of field `tag` as a string (its first occurrence), or None when absent. In a
    /// built message, fields inside groups are read with `get_group`; a group's NumInGroup tag
    /// gives its number of entries.
    fn get(&self, tag: u32) -> PyResult<Option<String>> {
        let value = match &self.body {
            Body::Built { msg_type, items } => {
                if tag == 35 {
                    return Ok(Some(msg_type.clone()));
                }
                return Ok(match items.iter().find(|item| item.tag() == tag) {
                    Some(Item::Field(_, value)) => {
                        Some(String::from_utf8_lossy(value).into_owned())
                    }
                    Some(Item::Group(_, entries)) => Some(entries.len().to_string()),
                    None => None,
                });
            }
            Body::Lent(message) => message.get(tag),
            Body::Expired => return Err(expired()),
        };
        Ok(value.map(|v| String::from_utf8_lossy(v).into_owned()))
    }

    /// Whether field `tag` is present.
    fn __contains__(&self, tag: u32) -> PyResult<bool> {
        Ok(self.get(tag)?.is_some())
    }

    /// The MsgType (tag 35).
    #[getter]
    fn msg_type(&self) -> PyResult<String> {
        match &self.body {
            Body::Built { msg_type, .. } => Ok(msg_type.clone()),
            Body::Lent(message) => Ok(String::from_utf8_lossy(message.msg_type()).into_owned()),
            Body::Expired => Err(expired()),
        }
    }

    /// The message as tag=value bytes with SOH separators: a received message's whole frame as
    /// it came; a built one's `35=` and body fields (the session adds header and trailer).
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        match &self.body {
            Body::Lent(message) => Ok(PyBytes::new(py, message.as_bytes())),
            Body::Built { msg_type, items } => {
                let mut writer = FieldWriter::new();
                writer.str(35, msg_type);
                for item in items {
                    item.write(&mut writer);
                }
                Ok(PyBytes::new(py, writer.as_bytes()))
            }
            Body::Expired => Err(expired()),
        }
    }

    /// A copy of this message that the caller owns: it stays valid after a callback and can be
    /// changed and sent (the received header and trailer fields are left out of what is sent).
    fn copy(&self) -> PyResult<Self> {
        let body = match &self.body {
            Body::Built { msg_type, items } => Body::Built {
                msg_type: msg_type.clone(),
                items: items.clone(),
            },
            Body::Lent(message) => Body::Built {
                msg_type: String::from_utf8_lossy(message.msg_type()).into_owned(),
                items: message
                    .fields()
                    .iter()
                    .filter_map(|field| {
                        let tag = field.tag()?;
                        (![8, 9, 10, 35].contains(&tag))
                            .then(|| Item::Field(tag, field.value().to_vec()))
                    })
                    .collect(),
            },
            Body::Expired => return Err(expired()),
        };
        Ok(Self { body })
    }

    /// Adds the repeating group that `count_tag` (its NumInGroup, e.g. 453 NoPartyIDs) introduces:
    /// `entries` is a list of entries, each a list of (tag, value) pairs or a dict, in field
    /// order, every one starting with the group's delimiter tag (e.g. 448 PartyID); a value that
    /// is a list is a nested group. The message writes NumInGroup, then each entry's fields in
    /// order, where the group stands among the body fields (a group added again with the same
    /// NumInGroup replaces it in place; an empty list removes it). Received messages are
    /// read-only.
    fn add_group(&mut self, count_tag: u32, entries: &Bound<'_, PyAny>) -> PyResult<()> {
        if count_tag == 0 || SESSION_TAGS.contains(&count_tag) {
            return Err(FixgateError::new_err(format!(
                "group {count_tag}: not a NumInGroup tag of a message body"
            )));
        }
        let entries = group_entries(count_tag, entries)?;
        let items = match &mut self.body {
            Body::Built { items, .. } => items,
            Body::Lent(_) => {
                return Err(FixgateError::new_err(
                    "a received message is read-only; copy() it to change it",
                ));
            }
            Body::Expired => return Err(expired()),
        };
        let at = items.iter().position(|item| item.tag() == count_tag);
        match (at, entries.is_empty()) {
            (Some(at), true) => {
                items.remove(at);
            }
            (Some(at), false) => items[at] = Item::Group(count_tag, entries),
            (None, true) => {}
            (None, false) => items.push(Item::Group(count_tag, entries)),
        }
        Ok(())
    }

    /// The entries of the repeating group that `count_tag` (its NumInGroup) introduces, read
    /// with the core's group rules: an entry starts with `delimiter_tag` and runs while its tags
    /// are among `tags` (the delimiter counts as one), so `tags` lists every tag an entry may
    /// hold, nested groups' included. Each entry is a `GroupEntry`, a dict {tag: str} of the
    /// member tags it holds (a tag's first occurrence in the entry) whose `get_group` reads
    /// the groups nested in it. No NumInGroup field is an empty list; a NumInGroup that does
    /// not match the entries found, or that is not a number, raises FixgateError with the
    /// core's reason.
    #[pyo3(signature = (count_tag, delimiter_tag, tags))]
    fn get_group<'py>(
        &self,
        py: Python<'py>,
        count_tag: u32,
        delimiter_tag: u32,
        tags: Vec<u32>,
    ) -> PyResult<Bound<'py, PyList>> {
        let members = members(delimiter_tag, tags);
        let spec = GroupSpec {
            count_tag,
            delimiter: delimiter_tag,
            members: &members,
        };
        match &self.body {
            Body::Lent(message) => read_group(py, message.fields(), &spec),
            Body::Built { msg_type, items } => {
                // Framed as the core receives it, so that both are read by the same rules.
                let mut body = FieldWriter::new();
                for item in items {
                    item.write(&mut body);
                }
                read_group(
                    py,
                    framed(msg_type.as_bytes(), body.as_bytes())?.fields(),
                    &spec,
                )
            }
            Body::Expired => Err(expired()),
        }
    }

    /// The message's fields, `|` for SOH.
    fn __repr__(&self, py: Python<'_>) -> String {
        match self.raw(py) {
            Ok(raw) => format!(
                "FixMessage({:?})",
                String::from_utf8_lossy(raw.as_bytes()).replace('\x01', "|")
            ),
            Err(_) => "FixMessage(<expired>)".to_owned(),
        }
    }
}
