//! `FixMessage`: a message built in Python (its type and body fields), or one received and lent
//! to a listener for the time of its callback.

use fixgate_core::codec::{FieldWriter, Message};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes};

use crate::errors::{FixgateError, MessageExpired};

/// The header and trailer fields that the session writes itself: a message's body never
/// carries them when it is sent.
const SESSION_TAGS: [u32; 8] = [8, 9, 10, 34, 35, 49, 52, 56];

/// What a message holds.
// `Lent` holds a message with its inline field index; boxing it would allocate per message.
#[allow(clippy::large_enum_variant)]
enum Body {
    /// Built in Python: its MsgType and its fields in order.
    Built {
        msg_type: String,
        fields: Vec<(u32, Vec<u8>)>,
    },
    /// Received, and lent to a callback.
    Lent(Message),
    /// Received, after the callback it was lent to returned.
    Expired,
}

/// A FIX message: `FixMessage("D")`, then `set(tag, value)` for each body field; `put()` on a
/// session adds the header (BeginString, CompIDs, MsgSeqNum, SendingTime) and the trailer.
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
            Body::Built { msg_type, fields } => {
                for (tag, value) in fields {
                    if !SESSION_TAGS.contains(tag) {
                        writer.bytes(*tag, value);
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

/// A field's value as bytes: `bool` as Y/N, `bytes` as they are, anything else as `str()`.
fn value_bytes(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(flag) = value.downcast::<PyBool>() {
        return Ok(if flag.is_true() { b"Y" } else { b"N" }.to_vec());
    }
    if let Ok(bytes) = value.downcast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    Ok(value.str()?.to_cow()?.as_bytes().to_vec())
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
                fields: Vec::new(),
            },
        })
    }

    /// Sets field `tag` to `value` (str, int, float, bool as Y/N, or bytes): replaces the
    /// field's first occurrence, or appends it. Received messages are read-only.
    fn set(&mut self, tag: u32, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = value_bytes(value)?;
        if tag == 0 || value.is_empty() || value.contains(&1) {
            return Err(FixgateError::new_err(format!(
                "field {tag}: a tag above 0 and a value without SOH, not empty"
            )));
        }
        match &mut self.body {
            Body::Built { msg_type, fields } => {
                if tag == 35 {
                    *msg_type = String::from_utf8_lossy(&value).into_owned();
                } else if let Some(field) = fields.iter_mut().find(|(t, _)| *t == tag) {
                    field.1 = value;
                } else {
                    fields.push((tag, value));
                }
                Ok(())
            }
            Body::Lent(_) => Err(FixgateError::new_err(
                "a received message is read-only; copy() it to change it",
            )),
            Body::Expired => Err(expired()),
        }
    }

    /// The value of field `tag` as a string (its first occurrence), or None when absent.
    fn get(&self, tag: u32) -> PyResult<Option<String>> {
        let value = match &self.body {
            Body::Built { msg_type, fields } => {
                if tag == 35 {
                    return Ok(Some(msg_type.clone()));
                }
                fields
                    .iter()
                    .find(|(t, _)| *t == tag)
                    .map(|(_, v)| v.as_slice())
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
            Body::Built { msg_type, fields } => {
                let mut writer = FieldWriter::new();
                writer.str(35, msg_type);
                for (tag, value) in fields {
                    writer.bytes(*tag, value);
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
            Body::Built { msg_type, fields } => Body::Built {
                msg_type: msg_type.clone(),
                fields: fields.clone(),
            },
            Body::Lent(message) => Body::Built {
                msg_type: String::from_utf8_lossy(message.msg_type()).into_owned(),
                fields: message
                    .fields()
                    .iter()
                    .filter_map(|field| {
                        let tag = field.tag()?;
                        (![8, 9, 10, 35].contains(&tag)).then(|| (tag, field.value().to_vec()))
                    })
                    .collect(),
            },
            Body::Expired => return Err(expired()),
        };
        Ok(Self { body })
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
