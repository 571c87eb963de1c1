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

impl MsgType {
    /// Classifies the bytes of a `MsgType <35>` value.
    pub fn from_bytes(value: &[u8]) -> Self {
        match value {
            b"0" => Self::Heartbeat,
            b"1" => Self::TestRequest,
            b"2" => Self::ResendRequest,
            b"3" => Self::Reject,
            b"4" => Self::SequenceReset,
            b"5" => Self::Logout,
            b"A" => Self::Logon,
            other => Self::App(SmallVec::from_slice(other)),
        }
    }

    /// Whether `value` is one of the seven session-level types: [`MsgType::is_admin`] without
    /// building the type.
    pub fn is_admin_value(value: &[u8]) -> bool {
        matches!(value, b"0" | b"1" | b"2" | b"3" | b"4" | b"5" | b"A")
    }

    /// The wire form of this type.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Heartbeat => b"0",
            Self::TestRequest => b"1",
            Self::ResendRequest => b"2",
            Self::Reject => b"3",
            Self::SequenceReset => b"4",
            Self::Logout => b"5",
            Self::Logon => b"A",
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
