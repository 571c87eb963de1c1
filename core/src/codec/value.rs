//! Parsers for the value types of the FIX specification. Each takes a field's raw bytes and returns
//! `None` when they do not have the type's format.

/// An unsigned decimal integer (`int`, `SeqNum`, `Length`, `NumInGroup`): digits only, no sign.
/// Leading zeros are accepted, as QuickFIX accepts them.
#[inline]
pub(crate) fn parse_uint(value: &[u8]) -> Option<u64> {
    match value.len() {
        // Nineteen digits cannot overflow: no checked arithmetic, and no branch per digit.
        1..20 => {
            let mut n: u64 = 0;
            let mut digits = true;
            for &b in value {
                let digit = b.wrapping_sub(b'0');
                digits &= digit <= 9;
                n = n.wrapping_mul(10).wrapping_add(u64::from(digit));
            }
            digits.then_some(n)
        }
        20 => value.iter().try_fold(0u64, |n, &b| {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            n.checked_mul(10)?.checked_add(u64::from(digit))
        }),
        _ => parse_long_uint(value),
    }
}

/// Values longer than 20 bytes fit `u64` only when led by zeros.
fn parse_long_uint(value: &[u8]) -> Option<u64> {
    let zeros = value.iter().take_while(|&&b| b == b'0').count();
    if value.is_empty() || zeros == 0 {
        return None;
    }
    match &value[zeros..] {
        [] => Some(0),
        rest if rest.len() <= 20 => parse_uint(rest),
        _ => None,
    }
}

/// A signed decimal integer: an optional `-` and digits.
pub(crate) fn parse_int(value: &[u8]) -> Option<i64> {
    match value.split_first() {
        Some((b'-', digits)) => {
            let n = parse_uint(digits)?;
            0i64.checked_sub_unsigned(n)
        }
        _ => i64::try_from(parse_uint(value)?).ok(),
    }
}

/// Whether `value` is an integer [`parse_int`] accepts, checked without converting it.
#[inline]
pub(crate) fn is_int(value: &[u8]) -> bool {
    let digits = value.strip_prefix(b"-").unwrap_or(value);
    match digits.len() {
        // Eighteen digits fit in an `i64`, whatever they are.
        1..=18 => is_all_digits(digits),
        _ => parse_int(value).is_some(),
    }
}

/// Whether every byte is an ASCII digit, a word at a time.
#[inline]
pub(crate) fn is_all_digits(bytes: &[u8]) -> bool {
    match *bytes {
        // Four to eight bytes: the first four and the last four, which may overlap.
        [a, b, c, d, ..] if bytes.len() <= 8 => {
            let [.., w, x, y, z] = *bytes else {
                return false;
            };
            all_digits(u64::from_le_bytes([a, b, c, d, w, x, y, z]), u64::MAX)
        }
        [..] if bytes.len() < 4 => bytes.iter().all(u8::is_ascii_digit),
        _ => {
            let (words, rest) = bytes.as_chunks::<8>();
            words
                .iter()
                .all(|&word| all_digits(u64::from_le_bytes(word), u64::MAX))
                && is_all_digits(rest)
        }
    }
}

/// Whether every byte of `word` selected by `lanes` (0xFF per byte) is an ASCII digit.
#[inline(always)]
pub(crate) const fn all_digits(word: u64, lanes: u64) -> bool {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    const SIXES: u64 = 0x0606_0606_0606_0606;
    let x = word & lanes;
    // A digit is 0x30..=0x39: its high nibble is 3, and still 3 after adding 6.
    x & HIGH_NIBBLES & lanes == THREES & lanes
        && x.wrapping_add(SIXES & lanes) & HIGH_NIBBLES & lanes == THREES & lanes
}

/// A `char`: exactly one byte.
pub(crate) fn parse_char(value: &[u8]) -> Option<u8> {
    match value {
        [c] => Some(*c),
        _ => None,
    }
}

/// A `Boolean`: `Y` or `N`.
pub(crate) fn parse_bool(value: &[u8]) -> Option<bool> {
    match value {
        b"Y" => Some(true),
        b"N" => Some(false),
        _ => None,
    }
}

/// A `float`, `Qty`, `Price` or `Amt`: an optional `-`, digits and at most one `.`, with at least
/// one digit. The value is checked, not converted, because FIX decimals must not pass through
/// binary floating point; the caller chooses a decimal type.
pub(crate) fn is_decimal(value: &[u8]) -> bool {
    let digits = value.strip_prefix(b"-").unwrap_or(value);
    let mut dot = false;
    for &b in digits {
        if b == b'.' && !dot {
            dot = true;
        } else if !b.is_ascii_digit() {
            return false;
        }
    }
    digits.len() > usize::from(dot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_checks_agree_with_parsing() {
        for value in [
            "0",
            "-0",
            "7",
            "-12",
            "123",
            "1234",
            "-1234567",
            "12345678",
            "123456789",
            "123456789012345678",
            "-123456789012345678",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "",
            "-",
            "--1",
            "+1",
            "1.0",
            "12a4",
            "1234567x",
            "x2345678",
            "12345678901234567x",
            "123 ",
            " 123",
        ] {
            let bytes = value.as_bytes();
            assert_eq!(is_int(bytes), parse_int(bytes).is_some(), "{value:?}");
        }
    }

    #[test]
    fn unsigned_integers() {
        assert_eq!(parse_uint(b"0"), Some(0));
        assert_eq!(parse_uint(b"0000118"), Some(118));
        assert_eq!(parse_uint(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint(b"18446744073709551616"), None);
        assert_eq!(parse_uint(b"000000000000000000000000042"), Some(42));
        assert_eq!(parse_uint(b"0000000000000000000000"), Some(0));
        assert_eq!(
            parse_uint(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_uint(b"99999999999999999999"), None);
        assert_eq!(parse_uint(b"999999999999999999\xff"), None);
        for bad in [&b""[..], b"-1", b"+1", b"1.0", b" 1", b"1a"] {
            assert_eq!(parse_uint(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn signed_integers() {
        assert_eq!(parse_int(b"-42"), Some(-42));
        assert_eq!(parse_int(b"42"), Some(42));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"-"), None);
        assert_eq!(parse_int(b"--1"), None);
    }

    #[test]
    fn chars_bools_and_decimals() {
        assert_eq!(parse_char(b"D"), Some(b'D'));
        assert_eq!(parse_char(b"DD"), None);
        assert_eq!(parse_bool(b"Y"), Some(true));
        assert_eq!(parse_bool(b"N"), Some(false));
        assert_eq!(parse_bool(b"y"), None);
        for good in [&b"187.25"[..], b"-0.5", b"100", b"100.", b".5"] {
            assert!(is_decimal(good));
        }
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"-.",
            b"1.2.3",
            b"1..",
            b"1e5",
            b"200.00x",
            b"1-",
        ] {
            assert!(!is_decimal(bad));
        }
    }
}
