//! The FIX tag=value codec: a streaming [`Decoder`] that frames and indexes messages as zero-copy
//! [`Message`] views, and an encoder ([`FieldWriter`], [`encode_frame`]) that writes them.
//!
//! The codec frames and indexes; it does not judge. Only framing errors are final here: field-level
//! problems of a well-framed message are reported as [`FieldIssue`]s, and the session decides what
//! to reject.

mod data_fields;
mod encode;
mod error;
mod frame;
mod index;
mod message;
mod scan;
mod template;
mod value;
mod view;

pub(crate) use data_fields::{PAIRS as LENGTH_DATA_PAIRS, data_tag_for};
pub(crate) use encode::digit_pair;
pub use encode::{FieldWriter, HeaderField, Value, encode_frame};
pub use error::{DecodeError, FieldError, FieldIssue, FieldIssueKind};
pub(crate) use frame::DEFAULT_MAX_MESSAGE_SIZE;
pub use frame::{Decoded, Decoder, Filled};
pub use message::Message;
pub use template::ParseCache;
pub(crate) use value::{
    all_digits, is_all_digits, is_decimal, is_int, parse_bool, parse_char, parse_int, parse_uint,
};
pub use view::{Field, FieldView, Group, GroupSpec};

/// The field delimiter, `<SOH>`.
pub const SOH: u8 = 0x01;

/// The FIX CheckSum: the byte sum modulo 256 (a wrapping `u8` sum, which the compiler vectorises).
#[inline]
pub(crate) fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}
