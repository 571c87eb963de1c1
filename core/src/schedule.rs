//! Session schedules: when a session may be logged on, and when a new sequence period starts
//! (QuickFIX's StartTime/EndTime/StartDay/EndDay/TimeZone/NonStopSession). Decided from the
//! caller's `now.utc`; a time zone's rules reach core through [`TimeZoneRules`], implemented
//! outside it (the standard library has no zone data): a zone named in the settings
//! (`TimeZone = America/New_York`) stays a [`NamedZone`] until the caller supplies its rules
//! (the driver does, when it makes the session).

use std::fmt;
use std::sync::Arc;

use crate::time::UtcTimestamp;

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// A time zone's offset from UTC at any instant.
pub trait TimeZoneRules: Send + Sync {
    /// The zone's name, for logs (`UTC`, `Europe/London`).
    fn name(&self) -> &str;
    /// Seconds east of UTC at `utc` (daylight saving included).
    fn utc_offset(&self, utc: UtcTimestamp) -> i32;
    /// Whether these are the zone's rules; `false` for a [`NamedZone`], whose rules the caller
    /// has yet to supply. A session refuses a schedule in a zone without rules.
    fn has_rules(&self) -> bool {
        true
    }
}

/// A zone known only by its IANA name (`America/New_York`), as the settings give it: core has
/// no zone data, so the caller MUST replace it with the zone's rules before making a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedZone {
    name: String,
}

impl NamedZone {
    /// A zone named `name`, if it is written like an IANA name: ASCII letters, digits and
    /// `/ _ - +`, starting with a letter (`Europe/London`, `Etc/GMT+5`).
    pub fn parse(name: &str) -> Option<Self> {
        let mut bytes = name.bytes();
        let plausible = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b));
        plausible.then(|| Self {
            name: name.to_owned(),
        })
    }
}

impl TimeZoneRules for NamedZone {
    fn name(&self) -> &str {
        &self.name
    }

    /// UTC, never used: a session refuses a zone without rules.
    fn utc_offset(&self, _utc: UtcTimestamp) -> i32 {
        0
    }

    fn has_rules(&self) -> bool {
        false
    }
}

/// A zone with a fixed offset; `FixedOffset::UTC` is UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedOffset {
    name: String,
    seconds: i32,
}

impl FixedOffset {
    /// UTC.
    pub fn utc() -> Self {
        Self {
            name: "UTC".into(),
            seconds: 0,
        }
    }

    /// Parses `UTC`, `Z`, or an offset such as `+02:00` / `-0530`.
    pub fn parse(text: &str) -> Option<Self> {
        if matches!(text, "UTC" | "Z" | "GMT" | "Etc/UTC") {
            return Some(Self::utc());
        }
        let (sign, rest) = match text.as_bytes().first()? {
            b'+' => (1, &text[1..]),
            b'-' => (-1, &text[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i32 = digits[..2].parse().ok()?;
        let minutes: i32 = digits[2..].parse().ok()?;
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(Self {
            name: text.to_owned(),
            seconds: sign * (hours * 3600 + minutes * 60),
        })
    }
}

impl TimeZoneRules for FixedOffset {
    fn name(&self) -> &str {
        &self.name
    }

    fn utc_offset(&self, _utc: UtcTimestamp) -> i32 {
        self.seconds
    }
}

/// When a session runs. Times are seconds after local midnight; days are 0 (Sunday) to 6.
#[derive(Clone)]
pub struct Schedule {
    /// `StartTime`.
    pub start_time: u32,
    /// `EndTime`.
    pub end_time: u32,
    /// `StartDay` and `EndDay`, for a weekly session; `None` for a daily one.
    pub days: Option<(u8, u8)>,
    /// `NonStopSession`: always open, never reset by the schedule.
    pub non_stop: bool,
    /// `TimeZone`.
    pub zone: Arc<dyn TimeZoneRules>,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("start_time", &self.start_time)
            .field("end_time", &self.end_time)
            .field("days", &self.days)
            .field("non_stop", &self.non_stop)
            .field("zone", &self.zone.name())
            .finish()
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.start_time == other.start_time
            && self.end_time == other.end_time
            && self.days == other.days
            && self.non_stop == other.non_stop
            && self.zone.name() == other.zone.name()
    }
}

impl Eq for Schedule {}

impl Schedule {
    /// A daily session from `start_time` to `end_time` in UTC (equal times: all day, reset at
    /// `start_time`).
    pub fn daily(start_time: u32, end_time: u32) -> Self {
        Self {
            start_time,
            end_time,
            days: None,
            non_stop: false,
            zone: Arc::new(FixedOffset::utc()),
        }
    }

    /// Whether a session may be logged on at `utc`.
    pub fn is_open(&self, utc: UtcTimestamp) -> bool {
        if self.non_stop {
            return true;
        }
        let local = self.local_secs(utc);
        match self.days {
            None => {
                let tod = local.rem_euclid(DAY) as u32;
                match self.start_time.cmp(&self.end_time) {
                    std::cmp::Ordering::Less => (self.start_time..self.end_time).contains(&tod),
                    std::cmp::Ordering::Greater => tod >= self.start_time || tod < self.end_time,
                    std::cmp::Ordering::Equal => true,
                }
            }
            Some((start_day, end_day)) => {
                let start = i64::from(start_day) * DAY + i64::from(self.start_time);
                let end = i64::from(end_day) * DAY + i64::from(self.end_time);
                let now = week_secs(local);
                if start < end {
                    (start..end).contains(&now)
                } else {
                    now >= start || now < end
                }
            }
        }
    }

    /// The start of the latest period that began at or before `utc` (as a UTC timestamp); `None`
    /// for a non-stop session. A store created before it belongs to an earlier period.
    pub fn period_start(&self, utc: UtcTimestamp) -> Option<UtcTimestamp> {
        if self.non_stop {
            return None;
        }
        let local = self.local_secs(utc);
        let (period, offset_in_period) = match self.days {
            None => (DAY, i64::from(self.start_time)),
            Some((start_day, _)) => (
                WEEK,
                i64::from(start_day) * DAY + i64::from(self.start_time),
            ),
        };
        // Weeks counted from a Sunday: 1970-01-04 is the first Sunday after the epoch.
        let origin = if period == WEEK { 3 * DAY } else { 0 };
        let since = local - origin - offset_in_period;
        let start_local = local - since.rem_euclid(period);
        self.to_utc(start_local, utc)
    }

    /// The instant, near `near`, at which the zone's clocks show `local` (seconds since the
    /// epoch, local). The offset must be the one in force then, which a daylight-saving change
    /// between the two may have moved: the offset at `near` gives a first guess, and the offset
    /// at that guess the answer. A local time that a change skips or repeats gets one of the
    /// instants around it.
    fn to_utc(&self, local: i64, near: UtcTimestamp) -> Option<UtcTimestamp> {
        let guess = local - i64::from(self.zone.utc_offset(near));
        let offset = self.zone.utc_offset(UtcTimestamp::from_unix(guess, 0)?);
        UtcTimestamp::from_unix(local - i64::from(offset), 0)
    }

    fn local_secs(&self, utc: UtcTimestamp) -> i64 {
        utc.unix_secs() + i64::from(self.zone.utc_offset(utc))
    }
}

/// Seconds since Sunday 00:00 of the local week.
fn week_secs(local: i64) -> i64 {
    // 1970-01-01 was a Thursday: day 4 of a week that starts on Sunday.
    (local + 4 * DAY).rem_euclid(WEEK)
}

/// Parses `HH:MM:SS` into seconds after midnight.
pub(crate) fn parse_time_of_day(text: &str) -> Option<u32> {
    let mut parts = text.split(':');
    let mut next = |max: u32| {
        parts
            .next()?
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|v| *v <= max)
    };
    let (h, m, s) = (next(23)?, next(59)?, next(59)?);
    Some(h * 3600 + m * 60 + s)
}

/// Parses a day name (`Sunday`, `sun`, `Mo`…) into 0 (Sunday) to 6.
pub(crate) fn parse_day(text: &str) -> Option<u8> {
    const DAYS: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    let lower = text.trim().to_ascii_lowercase();
    if lower.len() < 2 {
        return None;
    }
    DAYS.iter()
        .position(|day| day.starts_with(&lower))
        .map(|i| i as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> UtcTimestamp {
        UtcTimestamp::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn daily_window_and_period_start() {
        let s = Schedule::daily(8 * 3600, 17 * 3600);
        assert!(!s.is_open(at("20261126-07:59:59")));
        assert!(s.is_open(at("20261126-08:00:00")));
        assert!(!s.is_open(at("20261126-17:00:00")));
        assert_eq!(
            s.period_start(at("20261126-12:00:00")),
            Some(at("20261126-08:00:00"))
        );
        assert_eq!(
            s.period_start(at("20261126-07:00:00")),
            Some(at("20261125-08:00:00"))
        );
    }

    #[test]
    fn window_across_midnight() {
        let s = Schedule::daily(22 * 3600, 6 * 3600);
        assert!(s.is_open(at("20261126-23:00:00")));
        assert!(s.is_open(at("20261127-05:59:59")));
        assert!(!s.is_open(at("20261127-06:00:00")));
        assert_eq!(
            s.period_start(at("20261127-03:00:00")),
            Some(at("20261126-22:00:00"))
        );
    }

    #[test]
    fn weekly_window_in_a_fixed_zone() {
        // Sunday 17:00 to Friday 17:00 in New York winter time (UTC-5).
        let s = Schedule {
            start_time: 17 * 3600,
            end_time: 17 * 3600,
            days: Some((0, 5)),
            non_stop: false,
            zone: Arc::new(FixedOffset::parse("-05:00").unwrap()),
        };
        // 2026-11-26 is a Thursday.
        assert!(s.is_open(at("20261126-12:00:00")));
        assert!(!s.is_open(at("20261128-12:00:00")), "Saturday");
        assert!(s.is_open(at("20261129-22:00:00")), "Sunday 17:00 New York");
        assert_eq!(
            s.period_start(at("20261126-12:00:00")),
            Some(at("20261122-22:00:00"))
        );
    }

    /// New York's rules around 2026-03-08 07:00 UTC, when EST (UTC-5) becomes EDT (UTC-4).
    struct NewYorkSpring2026;

    impl TimeZoneRules for NewYorkSpring2026 {
        fn name(&self) -> &str {
            "America/New_York"
        }

        fn utc_offset(&self, utc: UtcTimestamp) -> i32 {
            if utc < at("20260308-07:00:00") {
                -5 * 3600
            } else {
                -4 * 3600
            }
        }
    }

    #[test]
    fn period_start_takes_the_offset_in_force_at_the_start() {
        // Saturday 20:00 to Friday 17:00 New York; the clocks went forward on the Sunday
        // between, so Saturday 2026-03-07 20:00 EST was 2026-03-08 01:00 UTC.
        let s = Schedule {
            start_time: 20 * 3600,
            end_time: 17 * 3600,
            days: Some((6, 5)),
            non_stop: false,
            zone: Arc::new(NewYorkSpring2026),
        };
        assert_eq!(
            s.period_start(at("20260309-12:00:00")),
            Some(at("20260308-01:00:00"))
        );
        assert!(s.is_open(at("20260313-20:59:59")), "Friday 16:59:59 EDT");
        assert!(!s.is_open(at("20260313-21:00:00")), "Friday 17:00 EDT");
    }

    #[test]
    fn a_named_zone_has_no_rules_until_the_caller_supplies_them() {
        let zone = NamedZone::parse("America/New_York").unwrap();
        assert_eq!(zone.name(), "America/New_York");
        assert!(!zone.has_rules());
        assert!(FixedOffset::utc().has_rules());
        assert!(NamedZone::parse("Etc/GMT+5").is_some());
        for bad in ["", "+02:00", "New York", "Europe/Lon;don"] {
            assert_eq!(NamedZone::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_time_of_day("08:30:15"), Some(8 * 3600 + 30 * 60 + 15));
        assert_eq!(parse_time_of_day("24:00:00"), None);
        assert_eq!(parse_day("Sunday"), Some(0));
        assert_eq!(parse_day("fri"), Some(5));
        assert_eq!(parse_day("x"), None);
        assert_eq!(
            FixedOffset::parse("+0530")
                .unwrap()
                .utc_offset(at("20261126-00:00:00")),
            19_800
        );
        assert!(FixedOffset::parse("Europe/London").is_none());
        assert!(
            Schedule {
                non_stop: true,
                ..Schedule::daily(0, 0)
            }
            .is_open(at("20261128-12:00:00"))
        );
    }
}
