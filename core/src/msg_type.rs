//! `MsgType <35>` values.

use std::fmt;

use smallvec::SmallVec;

/// A message type: the session-level types by name, every other type as its wire bytes.
///
/// Application types of up to four bytes (all of the standard ones) are held without allocating.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// `0`: Heartbeat.
    Heartbeat,
    /// `1`: TestRequest.
    TestRequest,
    /// `2`: ResendRequest.
    ResendRequest,
    /// `3`: Reject (session level).
    Reject,
    /// `4`: SequenceReset, in its Reset and GapFill forms.
    SequenceReset,
    /// `5`: Logout.
    Logout,
    /// `A`: Logon.
    Logon,
    /// Any other type, as it appears on the wire (`D`, `8`, `AE`, `U1`…).
    App(SmallVec<[u8; 4]>),
}

/// The wire bytes of the MsgTypes the session layer reads and writes, for comparisons and `match`
/// patterns that build no [`MsgType`].
pub(crate) mod wire {
    /// `0`: Heartbeat.
    pub(crate) const HEARTBEAT: &[u8] = b"0";
    /// `1`: TestRequest.
    pub(crate) const TEST_REQUEST: &[u8] = b"1";
    /// `2`: ResendRequest.
    pub(crate) const RESEND_REQUEST: &[u8] = b"2";
    /// `3`: Reject (session level).
    pub(crate) const REJECT: &[u8] = b"3";
    /// `4`: SequenceReset.
    pub(crate) const SEQUENCE_RESET: &[u8] = b"4";
    /// `5`: Logout.
    pub(crate) const LOGOUT: &[u8] = b"5";
    /// `A`: Logon.
    pub(crate) const LOGON: &[u8] = b"A";
    /// `j`: BusinessMessageReject (FIX 4.2 and later).
    pub(crate) const BUSINESS_MESSAGE_REJECT: &[u8] = b"j";
}

impl MsgType {
    /// Classifies the bytes of a `MsgType <35>` value.
    pub fn from_bytes(value: &[u8]) -> Self {
        match value {
            wire::HEARTBEAT => Self::Heartbeat,
            wire::TEST_REQUEST => Self::TestRequest,
            wire::RESEND_REQUEST => Self::ResendRequest,
            wire::REJECT => Self::Reject,
            wire::SEQUENCE_RESET => Self::SequenceReset,
            wire::LOGOUT => Self::Logout,
            wire::LOGON => Self::Logon,
            other => Self::App(SmallVec::from_slice(other)),
        }
    }

    /// Whether `value` is one of the seven session-level types: [`MsgType::is_admin`] without
    /// building the type.
    pub fn is_admin_value(value: &[u8]) -> bool {
        matches!(
            value,
            wire::HEARTBEAT
                | wire::TEST_REQUEST
                | wire::RESEND_REQUEST
                | wire::REJECT
                | wire::SEQUENCE_RESET
                | wire::LOGOUT
                | wire::LOGON
        )
    }

    /// The wire form of this type.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Heartbeat => wire::HEARTBEAT,
            Self::TestRequest => wire::TEST_REQUEST,
            Self::ResendRequest => wire::RESEND_REQUEST,
            Self::Reject => wire::REJECT,
            Self::SequenceReset => wire::SEQUENCE_RESET,
            Self::Logout => wire::LOGOUT,
            Self::Logon => wire::LOGON,
            Self::App(bytes) => bytes,
        }
    }

    /// Whether this is one of the seven session-level (administrative) types.
    pub fn is_admin(&self) -> bool {
        !matches!(self, Self::App(_))
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_admin_and_app_types() {
        for wire in [
            &b"0"[..],
            b"1",
            b"2",
            b"3",
            b"4",
            b"5",
            b"A",
            b"D",
            b"AE",
            b"U1234",
            b"",
            b"00",
            b"a",
        ] {
            let t = MsgType::from_bytes(wire);
            assert_eq!(t.as_bytes(), wire);
            assert_eq!(
                t.is_admin(),
                wire.len() == 1 && b"012345A".contains(&wire[0])
            );
            assert_eq!(MsgType::is_admin_value(wire), t.is_admin());
        }
        assert_eq!(MsgType::from_bytes(b"A"), MsgType::Logon);
        assert_eq!(MsgType::from_bytes(b"D").to_string(), "D");
    }
}
