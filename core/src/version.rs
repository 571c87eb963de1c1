//! `BeginString <8>` values: the session protocol versions.

use std::fmt;

use crate::time::TimestampPrecision;

/// A session protocol version, as named by `BeginString <8>`.
///
/// FIX 5.0 and later run over `FIXT.1.1`; their application version travels in `ApplVerID <1128>` /
/// `DefaultApplVerID <1137>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum BeginString {
    /// `FIX.4.0`
    Fix40,
    /// `FIX.4.1`
    Fix41,
    /// `FIX.4.2`
    Fix42,
    /// `FIX.4.3`
    Fix43,
    /// `FIX.4.4`
    Fix44,
    /// `FIXT.1.1`, the transport of FIX 5.0, 5.0 SP1 and 5.0 SP2.
    Fixt11,
}

impl BeginString {
    /// Every version, oldest first.
    pub const ALL: [Self; 6] = [
        Self::Fix40,
        Self::Fix41,
        Self::Fix42,
        Self::Fix43,
        Self::Fix44,
        Self::Fixt11,
    ];

    /// Parses the value of `BeginString <8>`.
    pub fn from_bytes(value: &[u8]) -> Option<Self> {
        Some(match value {
            b"FIX.4.0" => Self::Fix40,
            b"FIX.4.1" => Self::Fix41,
            b"FIX.4.2" => Self::Fix42,
            b"FIX.4.3" => Self::Fix43,
            b"FIX.4.4" => Self::Fix44,
            b"FIXT.1.1" => Self::Fixt11,
            _ => return None,
        })
    }

    /// The wire form, for example `FIX.4.4`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Fix40 => "FIX.4.0",
            Self::Fix41 => "FIX.4.1",
            Self::Fix42 => "FIX.4.2",
            Self::Fix43 => "FIX.4.3",
            Self::Fix44 => "FIX.4.4",
            Self::Fixt11 => "FIXT.1.1",
        }
    }

    /// Whether this is FIX 4.0 or 4.1, the versions before FIX 4.2 changed the session layer:
    /// a UTCTimestamp without a fraction, `EndSeqNo <16>` 999999 for "to the end", a Reject
    /// without RefTagID, RefMsgType or SessionRejectReason, and no BusinessMessageReject.
    pub(crate) const fn is_before_fix42(self) -> bool {
        matches!(self, Self::Fix40 | Self::Fix41)
    }

    /// The precision of outbound UTCTimestamps unless `TimestampPrecision` says otherwise: seconds
    /// for FIX 4.0 and 4.1, whose UTCTimestamp has no fraction, and milliseconds from FIX 4.2 on.
    pub const fn default_timestamp_precision(self) -> TimestampPrecision {
        if self.is_before_fix42() {
            TimestampPrecision::Seconds
        } else {
            TimestampPrecision::Millis
        }
    }
}

impl fmt::Display for BeginString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_version_and_nothing_else() {
        for v in BeginString::ALL {
            assert_eq!(BeginString::from_bytes(v.as_str().as_bytes()), Some(v));
        }
        assert_eq!(BeginString::from_bytes(b"FIX.4.5"), None);
        assert_eq!(BeginString::from_bytes(b"fix.4.4"), None);
    }

    #[test]
    fn only_fix40_and_fix41_are_before_fix42() {
        for v in BeginString::ALL {
            assert_eq!(
                v.is_before_fix42(),
                matches!(v, BeginString::Fix40 | BeginString::Fix41)
            );
        }
    }

    #[test]
    fn timestamp_precision_defaults_by_version() {
        assert_eq!(
            BeginString::Fix40.default_timestamp_precision(),
            TimestampPrecision::Seconds
        );
        assert_eq!(
            BeginString::Fix41.default_timestamp_precision(),
            TimestampPrecision::Seconds
        );
        assert_eq!(
            BeginString::Fix42.default_timestamp_precision(),
            TimestampPrecision::Millis
        );
        assert_eq!(
            BeginString::Fixt11.default_timestamp_precision(),
            TimestampPrecision::Millis
        );
    }
}
