//! A field's enumeration, stored for lookups without byte-string comparisons: a bitmap when
//! every value is one ASCII character (most FIX enumerations), packed integers when every value
//! fits in seven bytes, sorted byte strings otherwise.

/// The values a field allows.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Enumeration {
    /// Any value of the field's type.
    Any,
    /// One ASCII character each: bit `c` is set for character `c`.
    Chars(u128),
    /// Up to seven bytes each, [`pack`]ed, sorted.
    Short(Box<[u64]>),
    /// Sorted.
    Long(Box<[Box<[u8]>]>),
}

impl Enumeration {
    /// The enumeration of `values` (sorted and deduplicated here).
    pub(super) fn new(mut values: Vec<Vec<u8>>) -> Self {
        values.sort();
        values.dedup();
        if values.is_empty() {
            return Self::Any;
        }
        if values.iter().all(|v| matches!(v[..], [c] if c.is_ascii())) {
            return Self::Chars(values.iter().fold(0, |bits, v| bits | 1 << v[0]));
        }
        let packed: Option<Vec<u64>> = values.iter().map(|v| pack(v)).collect();
        match packed {
            Some(mut packed) => {
                packed.sort_unstable();
                Self::Short(packed.into_boxed_slice())
            }
            None => Self::Long(values.into_iter().map(Vec::into_boxed_slice).collect()),
        }
    }

    /// Whether `value` is one of the values. The character set is tested inline; the searches
    /// stay out of line, so that the check inlines into the validation walk.
    #[inline(always)]
    pub(super) fn contains(&self, value: &[u8]) -> bool {
        match self {
            Self::Any => true,
            Self::Chars(bits) => matches!(value, [c] if c.is_ascii() && bits & 1 << c != 0),
            Self::Short(packed) => contains_packed(packed, value),
            Self::Long(values) => contains_long(values, value),
        }
    }

    /// The set of characters, when every value is one ASCII character.
    pub(super) fn chars(&self) -> Option<u128> {
        match self {
            Self::Chars(bits) => Some(*bits),
            _ => None,
        }
    }

    /// Whether every value is allowed.
    pub(super) fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

#[inline(never)]
fn contains_packed(packed: &[u64], value: &[u8]) -> bool {
    pack(value).is_some_and(|p| packed.binary_search(&p).is_ok())
}

#[inline(never)]
fn contains_long(values: &[Box<[u8]>], value: &[u8]) -> bool {
    values.binary_search_by(|v| v.as_ref().cmp(value)).is_ok()
}

/// Up to seven bytes and their length in one integer; `None` for longer values.
pub(super) fn pack(value: &[u8]) -> Option<u64> {
    if value.len() > 7 {
        return None;
    }
    let mut bytes = [0u8; 8];
    bytes[..value.len()].copy_from_slice(value);
    bytes[7] = value.len() as u8;
    Some(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::Enumeration;

    fn of(values: &[&str]) -> Enumeration {
        Enumeration::new(values.iter().map(|v| v.as_bytes().to_vec()).collect())
    }

    #[test]
    fn every_representation_finds_exactly_its_values() {
        let chars = of(&["1", "2", "A"]);
        assert!(matches!(chars, Enumeration::Chars(_)));
        let short = of(&["CS", "FUT", "OPT", "1"]);
        assert!(matches!(short, Enumeration::Short(_)));
        let long = of(&["CS", "REPURCHASE"]);
        assert!(matches!(long, Enumeration::Long(_)));
        for (e, yes, no) in [
            (
                &chars,
                &["1", "2", "A"][..],
                &["3", "a", "12", "", "\u{e9}"][..],
            ),
            (
                &short,
                &["CS", "FUT", "OPT", "1"],
                &["C", "CS ", "FUTX", "", "2"],
            ),
            (&long, &["CS", "REPURCHASE"], &["REPURCHAS", "C", ""]),
        ] {
            for v in yes {
                assert!(e.contains(v.as_bytes()), "{v}");
            }
            for v in no {
                assert!(!e.contains(v.as_bytes()), "{v}");
            }
        }
        assert!(of(&[]).contains(b"anything"));
    }
}
