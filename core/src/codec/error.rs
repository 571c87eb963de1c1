//! What can go wrong when decoding, and what the codec reports without judging.

/// Why a frame could not be decoded.
///
/// Every variant but the two size limits describes a *garbled* frame ([`DecodeError::is_garbled`]):
/// the spec says to ignore it without incrementing the expected `MsgSeqNum <34>`. The size limits
/// are fatal: the connection cannot be resynchronised safely and must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Bytes that do not start with `8=` were skipped up to the next `<SOH>8=`.
    #[error("bytes that are not a FIX frame were skipped")]
    NotAFrame,
    /// `BeginString <8>` is not followed by `BodyLength <9>`, or is implausibly long.
    #[error("BeginString <8> is not followed by BodyLength <9>")]
    MissingBodyLength,
    /// `BodyLength <9>` is empty or not a decimal number.
    #[error("BodyLength <9> is not a decimal number")]
    InvalidBodyLength,
    /// `BodyLength <9>` does not match the bytes between it and `CheckSum <10>`.
    #[error("BodyLength <9> declared {declared}, frame has {actual}")]
    BodyLengthMismatch {
        /// The declared value (saturated at `u64::MAX`).
        declared: u64,
        /// The length actually found.
        actual: usize,
    },
    /// `CheckSum <10>` is missing as the last field or is not three digits.
    #[error("CheckSum <10> is missing or not three digits")]
    InvalidCheckSum,
    /// `CheckSum <10>` does not match the byte sum of the frame.
    #[error("CheckSum <10> is {found:03}, computed {computed:03}")]
    CheckSumMismatch {
        /// The value on the wire (three digits, so up to 999).
        found: u16,
        /// The byte sum modulo 256.
        computed: u8,
    },
    /// The third field is not `MsgType <35>`, or its value is empty.
    #[error("MsgType <35> is not the third field")]
    MissingMsgType,
    /// `BodyLength <9>` declares more than the configured maximum (`MaxMessageSize`). Fatal.
    #[error("BodyLength <9> declares {declared} bytes, above the limit of {limit}")]
    BodyLengthTooLarge {
        /// The declared value (saturated at `u64::MAX`).
        declared: u64,
        /// The configured maximum.
        limit: usize,
    },
    /// A frame ran past the configured maximum without a `CheckSum <10>` to end it. Fatal.
    #[error("a frame ran past {limit} bytes without CheckSum <10>")]
    FrameTooLong {
        /// The configured maximum.
        limit: usize,
    },
}

impl DecodeError {
    /// Whether the frame is garbled: to be ignored, after which decoding goes on.
    pub fn is_garbled(&self) -> bool {
        !self.is_fatal()
    }

    /// Whether decoding cannot go on: the connection must be closed.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::BodyLengthTooLarge { .. } | Self::FrameTooLong { .. }
        )
    }
}

/// Something wrong with one field of a well-framed message, reported with the field's position.
///
/// The codec does not judge: the session and the validator decide, by their settings and the
/// dictionary, which of these deserve a Reject (a repeated tag is legal inside a repeating group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldIssue {
    /// What is wrong.
    pub kind: FieldIssueKind,
    /// The field's index in [`Message::fields`](super::Message::fields) (0 is `BeginString <8>`).
    pub index: usize,
}

/// The kinds of [`FieldIssue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldIssueKind {
    /// The tag is not a positive decimal number that fits in `u32` (`-1=`, `0=`, `4x=`, `=`).
    InvalidTag,
    /// The field has no `=`.
    MissingEquals,
    /// The tag has no value (`56=<SOH>`).
    EmptyValue,
    /// The tag appeared earlier in the message. Only the first repeat is reported.
    RepeatedTag,
    /// A header field after a body field, or a body field after a trailer field.
    OutOfOrder,
    /// A data field does not end where its length field says (it is then read up to the next SOH).
    DataLengthMismatch,
}

/// A typed getter could not produce a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// The field is absent.
    #[error("tag {tag} is missing")]
    Missing {
        /// The tag asked for.
        tag: u32,
    },
    /// The value does not have the requested type's format.
    #[error("tag {tag} has an incorrect data format")]
    InvalidFormat {
        /// The tag asked for.
        tag: u32,
    },
    /// A repeating group has a different number of entries than its `NumInGroup` field says.
    #[error("group {tag} declares {declared} entries, found {found}")]
    GroupCount {
        /// The `NumInGroup` tag.
        tag: u32,
        /// Its value.
        declared: u64,
        /// The entries found.
        found: u64,
    },
}
