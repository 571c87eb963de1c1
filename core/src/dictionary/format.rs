//! Field types and the format each one requires of a value (QuickFIX's convertors: what they
//! refuse is "Incorrect data format for value").

use crate::codec::{is_decimal, parse_bool, parse_char, parse_int};
use crate::time::UtcTimestamp;

/// The type of a field, as the dictionary declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// Free text, and every type whose format is not checked (`STRING`, `CURRENCY`,
    /// `EXCHANGE`, `COUNTRY`, `LANGUAGE`, `LOCALMKTDATE`, `MONTHYEAR`, `DATA`, `XMLDATA`,
    /// `TZTIMEONLY`, `TZTIMESTAMP`, `XID`, …).
    String,
    /// One character.
    Char,
    /// Several space-separated values, each checked against the enumeration
    /// (`MULTIPLEVALUESTRING`, `MULTIPLESTRINGVALUE`, `MULTIPLECHARVALUE`).
    MultipleValue,
    /// An integer: an optional `-` and digits (`INT`, `LENGTH`, `NUMINGROUP`, `SEQNUM`,
    /// `TAGNUM`, `DAYOFMONTH`).
    Int,
    /// A decimal: an optional `-`, digits, at most one `.` (`FLOAT`, `QTY`, `PRICE`,
    /// `PRICEOFFSET`, `AMT`, `PERCENTAGE`).
    Float,
    /// `Y` or `N`.
    Boolean,
    /// `YYYYMMDD-HH:MM:SS[.fff…]` (`UTCTIMESTAMP`, and `TIME` in FIX 4.0 and 4.1).
    UtcTimestamp,
    /// `HH:MM:SS[.fff…]`.
    UtcTimeOnly,
    /// `YYYYMMDD` (`UTCDATEONLY`, `UTCDATE`, and `DATE` in FIX 4.0 to 4.4).
    UtcDateOnly,
}

impl FieldType {
    /// The type of a QuickFIX XML type name; names whose format is free map to
    /// [`FieldType::String`].
    pub fn from_xml(name: &str) -> Self {
        match name {
            "CHAR" => Self::Char,
            "MULTIPLEVALUESTRING" | "MULTIPLESTRINGVALUE" | "MULTIPLECHARVALUE" => {
                Self::MultipleValue
            }
            "INT" | "LENGTH" | "NUMINGROUP" | "SEQNUM" | "TAGNUM" | "DAYOFMONTH" => Self::Int,
            "FLOAT" | "QTY" | "PRICE" | "PRICEOFFSET" | "AMT" | "PERCENTAGE" => Self::Float,
            "BOOLEAN" => Self::Boolean,
            "UTCTIMESTAMP" | "TIME" => Self::UtcTimestamp,
            "UTCTIMEONLY" => Self::UtcTimeOnly,
            "UTCDATEONLY" | "UTCDATE" | "DATE" => Self::UtcDateOnly,
            _ => Self::String,
        }
    }

    /// Whether a value holds several space-separated enumeration values.
    pub fn is_multiple_value(self) -> bool {
        self == Self::MultipleValue
    }

    /// Whether `value` has this type's format.
    #[inline]
    pub fn accepts(self, value: &[u8]) -> bool {
        match self {
            Self::String | Self::MultipleValue => true,
            Self::Char => parse_char(value).is_some(),
            Self::Int => parse_int(value).is_some(),
            Self::Float => is_decimal(value),
            Self::Boolean => parse_bool(value).is_some(),
            Self::UtcTimestamp => is_timestamp(value),
            Self::UtcTimeOnly => is_time_only(value),
            Self::UtcDateOnly => is_date(value),
        }
    }
}

/// Out of line, so that the cheap checks of [`FieldType::accepts`] inline into the walk.
#[inline(never)]
fn is_timestamp(value: &[u8]) -> bool {
    UtcTimestamp::is_valid(value)
}

/// `HH:MM:SS` with an optional fraction of one or more digits.
#[inline(never)]
fn is_time_only(value: &[u8]) -> bool {
    let (base, fraction) = value.split_at(value.len().min(8));
    let fraction_ok = match fraction.split_first() {
        None => true,
        Some((b'.', digits)) => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    };
    fraction_ok
        && matches!(base, [h1, h2, b':', m1, m2, b':', s1, s2]
            if number(&[*h1, *h2]).is_some_and(|h| h < 24)
                && number(&[*m1, *m2]).is_some_and(|m| m < 60)
                && number(&[*s1, *s2]).is_some_and(|s| s <= 60))
}

/// `YYYYMMDD` with a month from 1 to 12 and a day from 1 to 31.
#[inline(never)]
fn is_date(value: &[u8]) -> bool {
    value.len() == 8
        && number(&value[..4]).is_some()
        && number(&value[4..6]).is_some_and(|m| (1..=12).contains(&m))
        && number(&value[6..8]).is_some_and(|d| (1..=31).contains(&d))
}

fn number(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::FieldType;

    #[test]
    fn formats_follow_quickfix_convertors() {
        let cases: &[(FieldType, &[&str], &[&str])] = &[
            (
                FieldType::Int,
                &["0", "-12", "007"],
                &["+1", "1.0", "", "-", "1e3"],
            ),
            (
                FieldType::Float,
                &["200.00", "-1.5", "002000.00", ".5", "1."],
                &["+200.00", "1.2.3", "-", "1e3", "abc"],
            ),
            (FieldType::Char, &["A"], &["AB", ""]),
            (FieldType::Boolean, &["Y", "N"], &["y", "T", "YES"]),
            (
                FieldType::UtcTimestamp,
                &["20261127-05:16:11", "20261127-05:16:11.123"],
                &["20040415", "20261327-05:16:11", "20261127 05:16:11"],
            ),
            (
                FieldType::UtcTimeOnly,
                &["05:16:11", "23:59:60.5"],
                &["24:00:00", "5:16:11", "05:16:11."],
            ),
            (
                FieldType::UtcDateOnly,
                &["20261127"],
                &["2026112", "20261301", "20261100"],
            ),
        ];
        for (field_type, good, bad) in cases {
            for value in *good {
                assert!(
                    field_type.accepts(value.as_bytes()),
                    "{field_type:?} {value}"
                );
            }
            for value in *bad {
                assert!(
                    !field_type.accepts(value.as_bytes()),
                    "{field_type:?} {value}"
                );
            }
        }
    }

    #[test]
    fn xml_names_map_to_types() {
        assert_eq!(FieldType::from_xml("QTY"), FieldType::Float);
        assert_eq!(FieldType::from_xml("TIME"), FieldType::UtcTimestamp);
        assert_eq!(FieldType::from_xml("NUMINGROUP"), FieldType::Int);
        assert_eq!(FieldType::from_xml("MONTHYEAR"), FieldType::String);
        assert!(FieldType::from_xml("MULTIPLECHARVALUE").is_multiple_value());
    }
}
