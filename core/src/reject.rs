//! `SessionRejectReason <373>` values and the texts QuickFIX sends with them.

/// Why a message was rejected at the session level (`SessionRejectReason <373>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionRejectReason {
    /// 0: a tag number that is not valid (`-1=`, `0=`, or unknown to the dictionary).
    InvalidTagNumber,
    /// 1: a required tag is missing.
    RequiredTagMissing,
    /// 2: the tag is not defined for this message type.
    TagNotDefinedForMessageType,
    /// 3: an undefined tag.
    UndefinedTag,
    /// 4: a tag without a value.
    TagWithoutValue,
    /// 5: a value out of range or not in the enumeration.
    ValueOutOfRange,
    /// 6: a value of the wrong format.
    IncorrectDataFormat,
    /// 9: the CompIDs do not match the session.
    CompIdProblem,
    /// 10: SendingTime is not accurate.
    SendingTimeAccuracy,
    /// 11: an invalid MsgType.
    InvalidMsgType,
    /// 13: a tag appears more than once.
    TagAppearsMoreThanOnce,
    /// 14: a tag out of the required order.
    TagOutOfOrder,
    /// 15: repeating group fields out of order.
    RepeatingGroupOutOfOrder,
    /// 16: a wrong NumInGroup count.
    IncorrectNumInGroup,
    /// 99: other.
    Other,
}

impl SessionRejectReason {
    /// The numeric value of `SessionRejectReason <373>`.
    pub const fn code(self) -> u32 {
        match self {
            Self::InvalidTagNumber => 0,
            Self::RequiredTagMissing => 1,
            Self::TagNotDefinedForMessageType => 2,
            Self::UndefinedTag => 3,
            Self::TagWithoutValue => 4,
            Self::ValueOutOfRange => 5,
            Self::IncorrectDataFormat => 6,
            Self::CompIdProblem => 9,
            Self::SendingTimeAccuracy => 10,
            Self::InvalidMsgType => 11,
            Self::TagAppearsMoreThanOnce => 13,
            Self::TagOutOfOrder => 14,
            Self::RepeatingGroupOutOfOrder => 15,
            Self::IncorrectNumInGroup => 16,
            Self::Other => 99,
        }
    }

    /// The reason whose `SessionRejectReason <373>` value is `code`, if FIX lists it.
    pub const fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::InvalidTagNumber,
            1 => Self::RequiredTagMissing,
            2 => Self::TagNotDefinedForMessageType,
            3 => Self::UndefinedTag,
            4 => Self::TagWithoutValue,
            5 => Self::ValueOutOfRange,
            6 => Self::IncorrectDataFormat,
            9 => Self::CompIdProblem,
            10 => Self::SendingTimeAccuracy,
            11 => Self::InvalidMsgType,
            13 => Self::TagAppearsMoreThanOnce,
            14 => Self::TagOutOfOrder,
            15 => Self::RepeatingGroupOutOfOrder,
            16 => Self::IncorrectNumInGroup,
            99 => Self::Other,
            _ => return None,
        })
    }

    /// The `Text <58>` QuickFIX sends with this reason, which counterparties and the acceptance
    /// suite expect word for word.
    pub const fn text(self) -> &'static str {
        match self {
            Self::InvalidTagNumber => "Invalid tag number",
            Self::RequiredTagMissing => "Required tag missing",
            Self::TagNotDefinedForMessageType => "Tag not defined for this message type",
            Self::UndefinedTag => "Undefined Tag",
            Self::TagWithoutValue => "Tag specified without a value",
            Self::ValueOutOfRange => "Value is incorrect (out of range) for this tag",
            Self::IncorrectDataFormat => "Incorrect data format for value",
            Self::CompIdProblem => "CompID problem",
            Self::SendingTimeAccuracy => "SendingTime accuracy problem",
            Self::InvalidMsgType => "Invalid MsgType",
            Self::TagAppearsMoreThanOnce => "Tag appears more than once",
            Self::TagOutOfOrder => "Tag specified out of required order",
            Self::RepeatingGroupOutOfOrder => "Out of order repeating group members",
            Self::IncorrectNumInGroup => "Incorrect NumInGroup count for repeating group",
            Self::Other => "Other",
        }
    }
}
