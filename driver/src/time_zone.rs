//! IANA time zones for session schedules (`TimeZone = America/New_York`). Core has no zone data:
//! a named zone reaches it as a [`NamedZone`](fixgate_core::schedule::NamedZone), and the driver
//! replaces that with the zone's rules from the time-zone database when it makes the session.
//! jiff reads the system's database (`/usr/share/zoneinfo`, or `TZDIR`), and falls back to the
//! copy built into the binary where the system has none (DESIGN.md, Schedules).

use std::sync::Arc;

use fixgate_core::schedule::TimeZoneRules;
use fixgate_core::{ConfigError, SessionConfig, UtcTimestamp};

/// A zone of the IANA time-zone database, with its daylight-saving rules.
#[derive(Clone, Debug)]
pub struct IanaTimeZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl IanaTimeZone {
    /// The zone named `name` (`Europe/London`); an unknown name is
    /// [`ConfigError::UnknownTimeZone`].
    pub fn get(name: &str) -> Result<Self, ConfigError> {
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| ConfigError::UnknownTimeZone {
            name: name.to_owned(),
        })?;
        Ok(Self {
            name: name.to_owned(),
            zone,
        })
    }
}

impl TimeZoneRules for IanaTimeZone {
    fn name(&self) -> &str {
        &self.name
    }

    fn utc_offset(&self, utc: UtcTimestamp) -> i32 {
        // Every UtcTimestamp (years 0000 to 9999) is within jiff's range.
        jiff::Timestamp::from_second(utc.unix_secs())
            .map_or(0, |at| self.zone.to_offset(at).seconds())
    }
}

/// Gives a schedule whose `TimeZone` is only a name the zone's rules. [`FixEngine`] does it
/// when it makes a session; call it first to check a configuration before starting anything.
///
/// [`FixEngine`]: crate::FixEngine
pub fn resolve_time_zone(config: &mut SessionConfig) -> Result<(), ConfigError> {
    if let Some(schedule) = &mut config.schedule
        && !schedule.zone.has_rules()
    {
        schedule.zone = Arc::new(IanaTimeZone::get(schedule.zone.name())?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use fixgate_core::{BeginString, Role};

    use super::*;

    fn at(text: &str) -> UtcTimestamp {
        UtcTimestamp::parse(text.as_bytes()).unwrap()
    }

    fn new_york_day() -> SessionConfig {
        let mut config = SessionConfig::new(BeginString::Fix44, "A", "B", Role::Acceptor);
        for (key, value) in [
            ("StartTime", "08:00:00"),
            ("EndTime", "17:00:00"),
            ("TimeZone", "America/New_York"),
        ] {
            config.set(key, value).unwrap();
        }
        config
    }

    #[test]
    fn new_york_opens_at_13_utc_in_winter_and_12_utc_in_summer() {
        let mut config = new_york_day();
        resolve_time_zone(&mut config).unwrap();
        let schedule = config.schedule.unwrap();
        // Winter (EST, UTC-5), the Friday before the clocks go forward on 2026-03-08.
        assert!(!schedule.is_open(at("20260306-12:59:59")));
        assert!(schedule.is_open(at("20260306-13:00:00")));
        assert!(!schedule.is_open(at("20260306-22:00:00")));
        // Summer (EDT, UTC-4), the Monday after.
        assert!(!schedule.is_open(at("20260309-11:59:59")));
        assert!(schedule.is_open(at("20260309-12:00:00")));
        assert!(!schedule.is_open(at("20260309-21:00:00")));
        assert_eq!(
            schedule.period_start(at("20260309-15:00:00")),
            Some(at("20260309-12:00:00"))
        );
        // And back in November (2026-11-01).
        assert!(schedule.is_open(at("20261102-13:00:00")));
        assert!(!schedule.is_open(at("20261102-12:59:59")));
    }

    #[test]
    fn an_unknown_zone_is_a_config_error_naming_the_key_and_the_value() {
        let mut config = new_york_day();
        config.set("TimeZone", "America/New_Yrok").unwrap();
        let error = resolve_time_zone(&mut config).unwrap_err();
        assert_eq!(
            error,
            ConfigError::UnknownTimeZone {
                name: "America/New_Yrok".into()
            }
        );
        assert_eq!(
            error.to_string(),
            "TimeZone cannot be \"America/New_Yrok\": no such zone in the time-zone database"
        );
    }

    #[test]
    fn fixed_offsets_are_left_alone() {
        let mut config = new_york_day();
        config.set("TimeZone", "-05:00").unwrap();
        resolve_time_zone(&mut config).unwrap();
        assert_eq!(config.schedule.unwrap().zone.name(), "-05:00");
    }
}
