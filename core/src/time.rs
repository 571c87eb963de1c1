//! UTCTimestamp values (`YYYYMMDD-HH:MM:SS[.sss…]`), converted without a calendar library.
//!
//! Nothing here reads a clock: a timestamp is made from a [`SystemTime`] that the caller supplies.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::codec::{all_digits, is_all_digits};

/// The time, as the caller supplies it to every mutating call: a monotonic instant for timers and
/// a wall-clock time for `SendingTime <52>`. Core never reads a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time, for timers.
    pub mono: Instant,
    /// Wall-clock time (UTC), for timestamps on the wire.
    pub utc: SystemTime,
}

impl Now {
    /// The same moment advanced by `by` on both clocks.
    #[must_use]
    pub fn after(self, by: Duration) -> Self {
        Self {
            mono: self.mono + by,
            utc: self.utc + by,
        }
    }
}

const NANOS_PER_SEC: u32 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// How many fraction digits an outbound UTCTimestamp carries (the `TimestampPrecision` setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimestampPrecision {
    /// `YYYYMMDD-HH:MM:SS`: FIX 4.0 and 4.1.
    Seconds,
    /// `YYYYMMDD-HH:MM:SS.sss`: the default from FIX 4.2 on.
    Millis,
    /// Six fraction digits.
    Micros,
    /// Nine fraction digits.
    Nanos,
}

impl TimestampPrecision {
    /// Maps the setting's value (0, 3, 6 or 9 digits) to a precision.
    pub const fn from_digits(digits: u8) -> Option<Self> {
        match digits {
            0 => Some(Self::Seconds),
            3 => Some(Self::Millis),
            6 => Some(Self::Micros),
            9 => Some(Self::Nanos),
            _ => None,
        }
    }

    /// The number of fraction digits.
    pub const fn digits(self) -> usize {
        match self {
            Self::Seconds => 0,
            Self::Millis => 3,
            Self::Micros => 6,
            Self::Nanos => 9,
        }
    }

    /// The length of a timestamp written with this precision.
    pub const fn encoded_len(self) -> usize {
        match self.digits() {
            0 => 17,
            n => 18 + n,
        }
    }
}

/// A UTC instant with nanosecond resolution, between the years 0000 and 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTimestamp {
    secs: i64,
    nanos: u32,
}

/// The smallest and largest Unix seconds a four-digit year can express.
const MIN_SECS: i64 = days_since_epoch(0, 1, 1) * SECS_PER_DAY;
const MAX_SECS: i64 = days_since_epoch(9999, 12, 31) * SECS_PER_DAY + SECS_PER_DAY - 1;

impl UtcTimestamp {
    /// Makes a timestamp from seconds and nanoseconds since the Unix epoch; `None` outside the years
    /// 0000-9999 or when `nanos` is not below one second.
    pub const fn from_unix(secs: i64, nanos: u32) -> Option<Self> {
        if secs < MIN_SECS || secs > MAX_SECS || nanos >= NANOS_PER_SEC {
            return None;
        }
        Some(Self { secs, nanos })
    }

    /// Converts a wall-clock time supplied by the caller, saturating at the years 0000 and 9999.
    pub fn from_system_time(time: SystemTime) -> Self {
        let (secs, nanos) = match time.duration_since(UNIX_EPOCH) {
            Ok(d) => (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_nanos(),
            ),
            Err(before) => {
                let d = before.duration();
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => (-secs, 0),
                    n => (-secs - 1, NANOS_PER_SEC - n),
                }
            }
        };
        if secs < MIN_SECS {
            Self {
                secs: MIN_SECS,
                nanos: 0,
            }
        } else if secs > MAX_SECS {
            Self {
                secs: MAX_SECS,
                nanos: NANOS_PER_SEC - 1,
            }
        } else {
            Self { secs, nanos }
        }
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        let sub = Duration::from_nanos(u64::from(self.nanos));
        if self.secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(self.secs.unsigned_abs()) + sub
        } else {
            UNIX_EPOCH - Duration::from_secs(self.secs.unsigned_abs()) + sub
        }
    }

    /// Whether `self` and `other` are at most `limit` apart, either way round.
    pub fn is_within(self, other: Self, limit: Duration) -> bool {
        let nanos = |t: Self| i128::from(t.secs) * 1_000_000_000 + i128::from(t.nanos);
        nanos(self).abs_diff(nanos(other)) <= limit.as_nanos()
    }

    /// Seconds since the Unix epoch (negative before 1970).
    pub const fn unix_secs(self) -> i64 {
        self.secs
    }

    /// The nanoseconds within the second.
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Parses `YYYYMMDD-HH:MM:SS` with an optional fraction of 1 to 9 digits, or 12 (the last
    /// three are dropped). A leap second (`:60`) is accepted and counts as the next second.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let (base, fraction) = split_timestamp(value)?;
        Some(Self {
            secs: seconds_of(base)?,
            nanos: fraction_nanos(fraction),
        })
    }

    /// Whether [`UtcTimestamp::parse`] accepts `value`, without computing the time (a data
    /// dictionary's format check).
    ///
    /// The ranges are compared on the digits themselves (ASCII digits order as their values), and
    /// the days of the month are counted only past the 28th.
    pub fn is_valid(value: &[u8]) -> bool {
        split_timestamp(value).is_some_and(|(base, _)| is_valid_date_time(base))
    }

    /// [`UtcTimestamp::is_valid`], with the date and time of the last valid timestamp in
    /// `last_valid`: a value with the same `YYYYMMDD-HH:MM:SS` (the same second) has only its
    /// fraction checked. A valid value's date and time are kept there.
    pub(crate) fn is_valid_after(value: &[u8], last_valid: &mut [u8; 17]) -> bool {
        let Some((base, _)) = split_timestamp(value) else {
            return false;
        };
        if base == last_valid {
            return true;
        }
        let valid = is_valid_date_time(base);
        if valid {
            *last_valid = *base;
        }
        valid
    }

    /// Writes the timestamp with `precision` fraction digits (truncated, never rounded up).
    pub fn format(self, precision: TimestampPrecision) -> FormattedTimestamp {
        FormattedTimestamp::new(date_time(self.secs), self.nanos, precision)
    }
}

/// `YYYYMMDD-HH:MM:SS` of `secs` since the Unix epoch.
fn date_time(secs: i64) -> [u8; 17] {
    let days = secs.div_euclid(SECS_PER_DAY);
    let secs_of_day = secs.rem_euclid(SECS_PER_DAY) as u32;
    let (year, month, day) = civil_from_days(days);
    let year = year as u32;
    let mut buf = *b"00000000-00:00:00";
    put2(&mut buf, 0, year / 100);
    put2(&mut buf, 2, year % 100);
    put2(&mut buf, 4, month);
    put2(&mut buf, 6, day);
    put2(&mut buf, 9, secs_of_day / 3600);
    put2(&mut buf, 12, secs_of_day / 60 % 60);
    put2(&mut buf, 15, secs_of_day % 60);
    buf
}

/// Formats timestamps, keeping the last second's `YYYYMMDD-HH:MM:SS`: a session stamps many
/// messages within one second, and for those only the fraction is written.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimestampFormatter {
    /// The second last formatted, and its text.
    last: Option<(i64, [u8; 17])>,
}

impl TimestampFormatter {
    /// A formatter with nothing remembered.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The same text as [`UtcTimestamp::format`].
    pub(crate) fn format(
        &mut self,
        ts: UtcTimestamp,
        precision: TimestampPrecision,
    ) -> FormattedTimestamp {
        let date_time = match self.last {
            Some((secs, text)) if secs == ts.secs => text,
            _ => {
                let text = date_time(ts.secs);
                self.last = Some((ts.secs, text));
                text
            }
        };
        FormattedTimestamp::new(date_time, ts.nanos, precision)
    }
}

/// Parses timestamps, keeping the last second's `YYYYMMDD-HH:MM:SS` with its value: a
/// counterparty stamps many messages within one second, and for those only the fraction is read.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimestampParser {
    /// The text of the second last parsed, and its seconds since the epoch.
    last: Option<([u8; 17], i64)>,
}

impl TimestampParser {
    /// A parser with nothing remembered.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The same result as [`UtcTimestamp::parse`].
    pub(crate) fn parse(&mut self, value: &[u8]) -> Option<UtcTimestamp> {
        let (base, fraction) = split_timestamp(value)?;
        let secs = match self.last {
            Some((text, secs)) if text == *base => secs,
            _ => {
                let secs = seconds_of(base)?;
                self.last = Some((*base, secs));
                secs
            }
        };
        Some(UtcTimestamp {
            secs,
            nanos: fraction_nanos(fraction),
        })
    }
}

impl fmt::Display for UtcTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.format(TimestampPrecision::Nanos).as_str())
    }
}

/// A timestamp's text, held on the stack.
#[derive(Clone, Copy, Debug)]
pub struct FormattedTimestamp {
    buf: [u8; 27],
    len: u8,
}

impl FormattedTimestamp {
    /// `date_time` followed by the fraction of `nanos`, truncated to `precision`.
    ///
    /// All nine fraction digits are written and the text is cut to length: truncating the value
    /// and cutting its digits are the same. Bytes 16 to 23 are built in a register and stored at
    /// once, so that a reader copying the text in words does not wait on many small stores.
    fn new(date_time: [u8; 17], nanos: u32, precision: TimestampPrecision) -> Self {
        let pair = |n: u32| u64::from(u16::from_le_bytes(crate::codec::digit_pair(n)));
        let micros = nanos / 1_000;
        let below_micros = nanos % 1_000;
        let word = u64::from(date_time[16])
            | u64::from(b'.') << 8
            | pair(micros / 10_000) << 16
            | pair(micros / 100 % 100) << 32
            | pair(micros % 100) << 48;
        let mut buf = [0u8; 27];
        buf[..16].copy_from_slice(&date_time[..16]);
        buf[16..24].copy_from_slice(&word.to_le_bytes());
        buf[24..26].copy_from_slice(&crate::codec::digit_pair(below_micros / 10));
        buf[26] = b'0' + (below_micros % 10) as u8;
        Self {
            buf,
            len: precision.encoded_len() as u8,
        }
    }

    /// The ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// Writes `n` (below 100) as two digits at `at`.
#[inline(always)]
fn put2(buf: &mut [u8], at: usize, n: u32) {
    let pair = crate::codec::digit_pair(n);
    buf[at] = pair[0];
    buf[at + 1] = pair[1];
}

/// Whether `YYYYMMDD-HH:MM:SS` is a valid date and time of day (a leap second allowed).
fn is_valid_date_time(base: &[u8; 17]) -> bool {
    // Two words, `YYYYMMDD` and `HH:MM:SS`, with the `-` between them.
    let (date, rest) = base.split_at(8);
    let (Ok(date), [b'-', time @ ..]) = (<[u8; 8]>::try_from(date), rest) else {
        return false;
    };
    let Ok(time) = <[u8; 8]>::try_from(time) else {
        return false;
    };
    let (date, time) = (u64::from_le_bytes(date), u64::from_le_bytes(time));
    // The two digits at byte `at` of a word, as a number that orders as they do.
    let pair = |word: u64, at: u32| (word >> (8 * at)) as u16;
    let digits = |text: &[u8; 2]| u16::from_le_bytes(*text);
    let (month, day) = (pair(date, 4).swap_bytes(), pair(date, 6).swap_bytes());
    let in_range = |value: u16, low: &[u8; 2], high: &[u8; 2]| {
        (digits(low).swap_bytes()..=digits(high).swap_bytes()).contains(&value)
    };
    all_digits(date, u64::MAX)
        && all_digits(time, 0xFFFF_00FF_FF00_FFFF)
        && time & 0x0000_FF00_00FF_0000 == 0x0000_3A00_003A_0000
        && in_range(month, b"01", b"12")
        && in_range(day, b"01", b"31")
        && (day <= digits(b"28").swap_bytes() || {
            let (year, month, day) = date_of(base);
            day <= days_in_month(year, month)
        })
        && pair(time, 0).swap_bytes() <= digits(b"23").swap_bytes()
        && pair(time, 3).swap_bytes() <= digits(b"59").swap_bytes()
        && pair(time, 6).swap_bytes() <= digits(b"60").swap_bytes()
}

/// A timestamp's `YYYYMMDD-HH:MM:SS` (not yet checked) and its fraction's digits (checked:
/// none, or 1 to 9, or 12 (picoseconds) after a `.`; QuickFIX C++ and QuickFIX/J refuse 10, 11
/// and more than 12).
fn split_timestamp(value: &[u8]) -> Option<(&[u8; 17], &[u8])> {
    match value.split_first_chunk::<17>()? {
        (base, []) => Some((base, &[])),
        (base, [b'.', digits @ ..])
            if matches!(digits.len(), 1..=9 | 12) && is_all_digits(digits) =>
        {
            Some((base, digits))
        }
        _ => None,
    }
}

/// The seconds since the Unix epoch of `YYYYMMDD-HH:MM:SS`, when it is a valid date and time.
fn seconds_of(base: &[u8; 17]) -> Option<i64> {
    if !is_valid_date_time(base) {
        return None;
    }
    let (year, month, day) = date_of(base);
    let d = |i: usize| u32::from(base[i] - b'0');
    let (hour, minute, second) = (d(9) * 10 + d(10), d(12) * 10 + d(13), d(15) * 10 + d(16));
    Some(
        days_since_epoch(year, month, day) * SECS_PER_DAY
            + i64::from(hour * 3600 + minute * 60 + second),
    )
}

/// The year, month and day of a checked `YYYYMMDD-…` timestamp.
fn date_of(base: &[u8; 17]) -> (u32, u32, u32) {
    let d = |i: usize| u32::from(base[i] - b'0');
    (
        d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3),
        d(4) * 10 + d(5),
        d(6) * 10 + d(7),
    )
}

/// The nanoseconds of a fraction's digits (all ASCII digits, maybe none; those past the ninth
/// dropped).
fn fraction_nanos(digits: &[u8]) -> u32 {
    const SCALE: [u32; 10] = [
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let kept = &digits[..digits.len().min(9)];
    let n = kept.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
    n * SCALE[kept.len()]
}

/// Days since 1970-01-01 of a proleptic Gregorian date of the years 0000 to 9999 (H. Hinnant's
/// `days_from_civil`, in unsigned arithmetic: one era of 400 years is added, so that January and
/// February of the year 0 stay positive).
const fn days_since_epoch(year: u32, month: u32, day: u32) -> i64 {
    let y = year + 400 - if month <= 2 { 1 } else { 0 };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era) as i64 - 719_468 - 146_097
}

const fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

const fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The inverse of [`days_since_epoch`], for any day.
const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_after_a_remembered_second_is_validity() {
        let mut last = [0u8; 17];
        for value in [
            "20261127-05:16:11.123",
            "20261127-05:16:11.124",
            "20261127-05:16:11",
            "20261127-05:16:11.",
            "20261127-05:16:11.12x",
            "20261127-05:16:61",
            "20261127-05:16:12.5",
            "20260230-05:16:12",
            "20260230-05:16:12",
            "",
        ] {
            let valid = UtcTimestamp::is_valid(value.as_bytes());
            assert_eq!(
                UtcTimestamp::is_valid_after(value.as_bytes(), &mut last),
                valid,
                "{value}"
            );
        }
        assert_eq!(&last, b"20261127-05:16:12");
    }

    #[test]
    fn parses_and_formats_each_precision() {
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.123456789").unwrap();
        assert_eq!(
            ts.format(TimestampPrecision::Seconds).as_str(),
            "20261126-14:36:27"
        );
        assert_eq!(
            ts.format(TimestampPrecision::Millis).as_str(),
            "20261126-14:36:27.123"
        );
        assert_eq!(
            ts.format(TimestampPrecision::Micros).as_str(),
            "20261126-14:36:27.123456"
        );
        assert_eq!(
            ts.format(TimestampPrecision::Nanos).as_str(),
            "20261126-14:36:27.123456789"
        );
        for p in [0, 3, 6, 9] {
            let p = TimestampPrecision::from_digits(p).unwrap();
            assert_eq!(ts.format(p).as_bytes().len(), p.encoded_len());
        }
        // Leading zeros in every digit pair of the fraction, then the largest fraction.
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.000700809").unwrap();
        assert_eq!(
            ts.format(TimestampPrecision::Nanos).as_str(),
            "20261126-14:36:27.000700809"
        );
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.999999999").unwrap();
        assert_eq!(
            ts.format(TimestampPrecision::Micros).as_str(),
            "20261126-14:36:27.999999"
        );
    }

    #[test]
    fn parser_reads_what_parse_reads_as_the_second_changes() {
        let mut parser = TimestampParser::new();
        for value in [
            &b"20261231-23:59:59.999"[..],
            b"20261231-23:59:59.001",
            b"20261231-23:59:59",
            b"20261231-23:59:59.",
            b"20261231-23:59:60.5",
            b"20270101-00:00:00.000000001",
            b"20270101-00:00:00.12x",
            b"20270101-24:00:00.1",
            b"20270101-00:00:00.123",
            b"20270230-00:00:00",
            b"2027",
        ] {
            assert_eq!(
                parser.parse(value),
                UtcTimestamp::parse(value),
                "{}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn formatter_writes_what_format_writes_as_the_second_changes() {
        let mut formatter = TimestampFormatter::new();
        let base = UtcTimestamp::parse(b"20261231-23:59:59.999999999").unwrap();
        // The same second twice, the next second (a new day and year), and back again.
        let offsets = [0i64, 0, 1, 1, 0, -86_400, 86_400 * 366];
        for (i, offset) in offsets.into_iter().enumerate() {
            let ts = UtcTimestamp {
                secs: base.secs + offset,
                nanos: (i as u32 * 123_456_789) % NANOS_PER_SEC,
            };
            for p in [0, 3, 6, 9] {
                let p = TimestampPrecision::from_digits(p).unwrap();
                assert_eq!(formatter.format(ts, p).as_str(), ts.format(p).as_str());
            }
        }
    }

    #[test]
    fn is_valid_agrees_with_parse_on_every_single_byte_change() {
        // Fractions tested byte by byte (3 digits), as two words (6 and 8), and in a loop (9).
        for good in [
            &b"20240229-23:59:60.123"[..],
            b"20240229-23:59:60.123456",
            b"20240229-23:59:60.12345678",
            b"20240229-23:59:60.123456789",
        ] {
            assert!(UtcTimestamp::is_valid(good));
            // Each byte replaced by a digit boundary, a separator or a non-digit, and every prefix.
            for at in 0..good.len() {
                for b in [b'0', b'9', b'/', b':', b'-', b'.', b'a', 0x3A, 0xF9, 0xFF] {
                    let mut value = good.to_vec();
                    value[at] = b;
                    assert_eq!(
                        UtcTimestamp::is_valid(&value),
                        UtcTimestamp::parse(&value).is_some(),
                        "{}",
                        String::from_utf8_lossy(&value)
                    );
                }
                let prefix = &good[..at];
                assert_eq!(
                    UtcTimestamp::is_valid(prefix),
                    UtcTimestamp::parse(prefix).is_some()
                );
            }
        }
        for bad in [
            &b"20230229-00:00:00"[..],
            b"20241131-00:00:00",
            b"20241130-24:00:00",
        ] {
            assert!(!UtcTimestamp::is_valid(bad));
        }
    }

    #[test]
    fn accepts_any_number_of_fraction_digits() {
        let one = UtcTimestamp::parse(b"20261126-14:36:27.1").unwrap();
        assert_eq!(one.subsec_nanos(), 100_000_000);
        let twelve = UtcTimestamp::parse(b"20261126-14:36:27.123456789999").unwrap();
        assert_eq!(twelve.subsec_nanos(), 123_456_789);
        assert!(UtcTimestamp::parse(b"20261126-14:36:27.").is_none());
        assert!(UtcTimestamp::parse(b"20261126-14:36:27.12a").is_none());
    }

    #[test]
    fn rejects_impossible_dates_and_times() {
        for bad in [
            &b"20260230-00:00:00"[..],
            b"20251301-00:00:00",
            b"20261126-24:00:00",
            b"20261126-14:60:00",
            b"20261126 14:36:27",
            b"2026112-14:36:27",
            b"",
        ] {
            assert!(
                UtcTimestamp::parse(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(UtcTimestamp::parse(b"20240229-23:59:60").is_some());
    }

    #[test]
    fn is_within_measures_the_distance_either_way() {
        let at = |text: &[u8]| UtcTimestamp::parse(text).unwrap();
        let ours = at(b"20261126-14:36:27.900");
        let limit = Duration::from_secs(2);
        for (theirs, within) in [
            (&b"20261126-14:36:25.900"[..], true),
            (b"20261126-14:36:25.899", false),
            (b"20261126-14:36:29.900", true),
            (b"20261126-14:36:29.901", false),
            (b"20261126-14:36:27.900", true),
            (b"20261125-14:36:27.900", false),
        ] {
            let theirs = at(theirs);
            assert_eq!(ours.is_within(theirs, limit), within, "{theirs:?}");
            assert_eq!(theirs.is_within(ours, limit), within, "{theirs:?}");
        }
        // Before 1970 as after it.
        let before = at(b"19691231-23:59:59.500");
        let after = at(b"19700101-00:00:00.400");
        assert!(before.is_within(after, Duration::from_millis(900)));
        assert!(!before.is_within(after, Duration::from_millis(899)));
    }

    #[test]
    fn matches_unix_time_and_system_time() {
        let ts = UtcTimestamp::parse(b"19700101-00:00:00").unwrap();
        assert_eq!((ts.unix_secs(), ts.subsec_nanos()), (0, 0));
        let ts = UtcTimestamp::parse(b"20261126-14:36:27.5").unwrap();
        assert_eq!(ts.unix_secs(), 1_795_703_787);
        assert_eq!(UtcTimestamp::from_system_time(ts.to_system_time()), ts);
        let early = UtcTimestamp::parse(b"19691231-23:59:59.250").unwrap();
        assert_eq!(early.unix_secs(), -1);
        assert_eq!(
            UtcTimestamp::from_system_time(early.to_system_time()),
            early
        );
    }

    #[test]
    fn civil_conversion_round_trips_over_the_whole_range() {
        let mut days = days_since_epoch(0, 1, 1);
        let last = days_since_epoch(9999, 12, 31);
        while days <= last {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_since_epoch(y as u32, m, d), days);
            days += 97;
        }
        // Year 0 is a leap year; the epoch is day 0.
        for ((y, m, d), days) in [
            ((0, 1, 1), -719_528),
            ((0, 2, 29), -719_469),
            ((0, 3, 1), -719_468),
            ((1970, 1, 1), 0),
            ((9999, 12, 31), 2_932_896),
        ] {
            assert_eq!(days_since_epoch(y, m, d), days);
            assert_eq!(civil_from_days(days), (i64::from(y), m, d));
        }
        assert_eq!(UtcTimestamp::from_unix(MAX_SECS + 1, 0), None);
        assert_eq!(
            UtcTimestamp::from_unix(MAX_SECS, 0)
                .unwrap()
                .format(TimestampPrecision::Seconds)
                .as_str(),
            "99991231-23:59:59"
        );
    }
}
