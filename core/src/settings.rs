//! Session settings by name: QuickFIX's keys, with FIX Antenna's names accepted as aliases
//! (DESIGN.md section 8). `docs/settings.md` documents the same table, and a test keeps the two
//! equal.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{ConfigError, Role, SessionConfig, StorageDurability};
use crate::schedule::{
    FixedOffset, NamedZone, Schedule, TimeZoneRules, parse_day, parse_time_of_day,
};
use crate::secret::Secret;
use crate::time::TimestampPrecision;
use crate::version::BeginString;

/// One session setting: its canonical name and the aliases that mean the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The canonical (QuickFIX) name.
    pub name: &'static str,
    /// Other names accepted for it (FIX Antenna's).
    pub aliases: &'static [&'static str],
}

const fn setting(name: &'static str, aliases: &'static [&'static str]) -> Setting {
    Setting { name, aliases }
}

/// Every session setting [`SessionConfig::set`] understands.
pub const SESSION_SETTINGS: &[Setting] = &[
    setting("BeginString", &[]),
    setting("SenderCompID", &[]),
    setting("TargetCompID", &[]),
    setting("ConnectionType", &[]),
    setting("HeartBtInt", &["HeartbeatInterval"]),
    setting("LogonTimeout", &[]),
    setting("LogoutTimeout", &[]),
    setting("TestRequestId", &[]),
    setting("ResetOnLogon", &["ForceSeqNumReset"]),
    setting("ResetOnLogout", &[]),
    setting("ResetOnDisconnect", &[]),
    setting("CheckLatency", &["CheckSendingTimeAccuracy"]),
    setting("MaxLatency", &[]),
    setting("ReasonableDelayInMs", &[]),
    setting("CheckCompID", &[]),
    setting("ValidateFieldsHaveValues", &[]),
    setting("ValidateFieldsOutOfOrder", &[]),
    setting("ValidateLengthAndChecksum", &[]),
    setting("ValidateChecksum", &[]),
    setting("RejectGarbledMessage", &[]),
    setting("ValidateUserDefinedFields", &[]),
    setting("AllowUnknownMsgFields", &[]),
    setting("UseDataDictionary", &[]),
    setting("DataDictionary", &[]),
    setting("TransportDataDictionary", &[]),
    setting("AppDataDictionary", &[]),
    setting("TimestampPrecision", &[]),
    setting("MaxMessageSize", &[]),
    setting("ResendRequestChunkSize", &[]),
    setting("ResendReadChunkSize", &[]),
    setting("SendRedundantResendRequests", &[]),
    setting("ResendRequestTimeout", &[]),
    setting("SendLogoutOnInvalidLogon", &[]),
    setting("MaxOutOfOrderMessages", &[]),
    setting("StorageDurability", &[]),
    setting("MaxOutboundBytes", &[]),
    setting("SlowConsumerTimeout", &[]),
    setting("DefaultApplVerID", &[]),
    setting("SupportedMsgTypes", &[]),
    setting("GapFillMessageTypes", &[]),
    setting("StartTime", &[]),
    setting("EndTime", &[]),
    setting("StartDay", &[]),
    setting("EndDay", &[]),
    setting("TimeZone", &[]),
    setting("NonStopSession", &[]),
    setting(
        "SendNextExpectedMsgSeqNum",
        &["EnableNextExpectedMsgSeqNum"],
    ),
    setting("EnableLastMsgSeqNumProcessed", &[]),
    setting("AllowedRemoteAddresses", &[]),
    setting("Username", &[]),
    setting("Password", &[]),
    setting("MaxUnsettledMessages", &[]),
    setting("SocketConnectHost", &[]),
    setting("SocketConnectPort", &[]),
    setting("SocketConnectHost1", &["BackupHost"]),
    setting("SocketConnectPort1", &["BackupPort"]),
];

impl SessionConfig {
    /// Sets one setting by name (canonical or alias, case-sensitive as in QuickFIX files).
    /// Booleans take `Y`/`N` or `true`/`false`; durations are seconds, except
    /// `ReasonableDelayInMs` (milliseconds, as in FIX Antenna).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        if let Some((part, index)) = connect_key(key) {
            return self.set_connect_address(part, index, value);
        }
        let Some(setting) = SESSION_SETTINGS
            .iter()
            .find(|s| s.name == key || s.aliases.contains(&key))
        else {
            return Err(ConfigError::UnknownSetting {
                key: key.to_owned(),
            });
        };
        let name = setting.name;
        let invalid = || ConfigError::InvalidValue {
            key: name,
            value: value.to_owned(),
        };
        let flag = || parse_bool(value).ok_or_else(invalid);
        let number = || value.trim().parse::<u64>().map_err(|_| invalid());
        let seconds = || number().map(Duration::from_secs);
        match name {
            "BeginString" => {
                self.begin_string = BeginString::from_bytes(value.as_bytes()).ok_or_else(invalid)?
            }
            "SenderCompID" => self.sender_comp_id = value.to_owned(),
            "TargetCompID" => self.target_comp_id = value.to_owned(),
            "ConnectionType" => {
                self.role = match value {
                    "acceptor" => Role::Acceptor,
                    "initiator" => Role::Initiator,
                    _ => return Err(invalid()),
                }
            }
            "HeartBtInt" => self.heart_bt_int = seconds()?,
            "LogonTimeout" => self.logon_timeout = seconds()?,
            "LogoutTimeout" => self.logout_timeout = seconds()?,
            "TestRequestId" => self.test_request_id = value.to_owned(),
            "ResetOnLogon" => self.reset_on_logon = flag()?,
            "ResetOnLogout" => self.reset_on_logout = flag()?,
            "ResetOnDisconnect" => self.reset_on_disconnect = flag()?,
            "CheckLatency" => self.check_latency = flag()?,
            "MaxLatency" => self.max_latency = seconds()?,
            "ReasonableDelayInMs" => self.max_latency = Duration::from_millis(number()?),
            "CheckCompID" => self.check_comp_id = flag()?,
            "ValidateFieldsHaveValues" => self.validate_fields_have_values = flag()?,
            "ValidateFieldsOutOfOrder" => self.validate_fields_out_of_order = flag()?,
            "ValidateLengthAndChecksum" => self.validate_length_and_checksum = flag()?,
            "ValidateChecksum" => self.validate_checksum = flag()?,
            "RejectGarbledMessage" => self.reject_garbled_message = flag()?,
            "ValidateUserDefinedFields" => self.validate_user_defined_fields = flag()?,
            "AllowUnknownMsgFields" => self.allow_unknown_msg_fields = flag()?,
            "UseDataDictionary" => self.dictionary_files.use_data_dictionary = Some(flag()?),
            "DataDictionary" => self.dictionary_files.data_dictionary = Some(value.to_owned()),
            "TransportDataDictionary" => {
                self.dictionary_files.transport_data_dictionary = Some(value.to_owned())
            }
            "AppDataDictionary" => {
                self.dictionary_files.app_data_dictionary = Some(value.to_owned())
            }
            "TimestampPrecision" => {
                let digits = u8::try_from(number()?).map_err(|_| invalid())?;
                self.timestamp_precision =
                    Some(TimestampPrecision::from_digits(digits).ok_or_else(invalid)?);
            }
            "MaxMessageSize" => {
                self.max_message_size = usize::try_from(number()?).map_err(|_| invalid())?
            }
            "ResendRequestChunkSize" => self.resend_request_chunk_size = number()?,
            "ResendReadChunkSize" => self.resend_read_chunk_size = number()?,
            "SendRedundantResendRequests" => self.send_redundant_resend_requests = flag()?,
            "ResendRequestTimeout" => self.resend_request_timeout = seconds()?,
            "SendLogoutOnInvalidLogon" => self.send_logout_on_invalid_logon = flag()?,
            "MaxOutOfOrderMessages" => {
                self.max_queued_messages = usize::try_from(number()?).map_err(|_| invalid())?
            }
            "MaxOutboundBytes" => {
                self.max_outbound_bytes = usize::try_from(number()?).map_err(|_| invalid())?
            }
            "SlowConsumerTimeout" => self.slow_consumer_timeout = seconds()?,
            "StorageDurability" => {
                self.storage_durability = match value {
                    "process" => StorageDurability::Process,
                    "batch" => StorageDurability::Batch,
                    "each" => StorageDurability::Each,
                    _ => return Err(invalid()),
                }
            }
            "DefaultApplVerID" => {
                self.default_appl_ver_id = Some(appl_ver_id(value).ok_or_else(invalid)?.to_owned())
            }
            "SupportedMsgTypes" => self.supported_msg_types = Some(msg_types(value)),
            "GapFillMessageTypes" => self.gap_fill_msg_types = msg_types(value),
            "StartTime" => {
                self.schedule_mut().start_time = parse_time_of_day(value).ok_or_else(invalid)?
            }
            "EndTime" => {
                self.schedule_mut().end_time = parse_time_of_day(value).ok_or_else(invalid)?
            }
            "StartDay" | "EndDay" => {
                let day = parse_day(value).ok_or_else(invalid)?;
                let schedule = self.schedule_mut();
                let (start, end) = schedule.days.unwrap_or((day, day));
                schedule.days = Some(if name == "StartDay" {
                    (day, end)
                } else {
                    (start, day)
                });
            }
            "TimeZone" => {
                // An IANA name waits for its rules from outside core (`NamedZone`).
                let zone: Arc<dyn TimeZoneRules> = match FixedOffset::parse(value) {
                    Some(fixed) => Arc::new(fixed),
                    None => Arc::new(NamedZone::parse(value).ok_or_else(invalid)?),
                };
                self.schedule_mut().zone = zone;
            }
            "NonStopSession" => self.schedule_mut().non_stop = flag()?,
            "SendNextExpectedMsgSeqNum" => self.send_next_expected_msg_seq_num = flag()?,
            "EnableLastMsgSeqNumProcessed" => self.enable_last_msg_seq_num_processed = flag()?,
            "MaxUnsettledMessages" => {
                self.max_unsettled_messages = usize::try_from(number()?).map_err(|_| invalid())?
            }
            "Username" => self.username = Some(value.to_owned()),
            "Password" => self.password = Some(Secret::parse(value)),
            "AllowedRemoteAddresses" => {
                let list = crate::access::IpRange::parse_list(value).map_err(|_| invalid())?;
                // An empty list would shut everyone out: a typo, not a policy.
                if list.is_empty() {
                    return Err(invalid());
                }
                self.allowed_remote_addresses = Some(list);
            }
            _ => {
                return Err(ConfigError::UnknownSetting {
                    key: key.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// Which half of an initiator's address a key sets.
#[derive(Clone, Copy)]
enum AddressPart {
    Host,
    Port,
}

/// Whether `key` names half of an initiator's address (`SocketConnectHost2`, …).
pub(crate) fn is_connect_key(key: &str) -> bool {
    connect_key(key).is_some()
}

/// `SocketConnectHost<n>` and `SocketConnectPort<n>` (no number: 0), and FIX Antenna's
/// `BackupHost`/`BackupPort` (1).
fn connect_key(key: &str) -> Option<(AddressPart, usize)> {
    match key {
        "BackupHost" => return Some((AddressPart::Host, 1)),
        "BackupPort" => return Some((AddressPart::Port, 1)),
        _ => {}
    }
    let (part, number) = match key.strip_prefix("SocketConnectHost") {
        Some(number) => (AddressPart::Host, number),
        None => (AddressPart::Port, key.strip_prefix("SocketConnectPort")?),
    };
    match number {
        "" => Some((part, 0)),
        // A handful of backups at most; a number like 007 or 1000000 is a typo.
        n if n.len() <= 2 && !n.starts_with('0') => Some((part, n.parse().ok()?)),
        _ => None,
    }
}

impl SessionConfig {
    fn set_connect_address(
        &mut self,
        part: AddressPart,
        index: usize,
        value: &str,
    ) -> Result<(), ConfigError> {
        if self.connect_addresses.len() <= index {
            self.connect_addresses
                .resize_with(index + 1, Default::default);
        }
        let address = &mut self.connect_addresses[index];
        match part {
            AddressPart::Host if !value.trim().is_empty() => {
                address.host = Some(value.trim().to_owned())
            }
            AddressPart::Port => match value.trim().parse() {
                Ok(port) => address.port = Some(port),
                Err(_) => {
                    return Err(ConfigError::InvalidValue {
                        key: "SocketConnectPort",
                        value: value.to_owned(),
                    });
                }
            },
            AddressPart::Host => {
                return Err(ConfigError::InvalidValue {
                    key: "SocketConnectHost",
                    value: value.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The schedule, created (all day, UTC) by the first schedule key.
    fn schedule_mut(&mut self) -> &mut Schedule {
        self.schedule.get_or_insert_with(|| Schedule::daily(0, 0))
    }
}

/// A comma-separated list of MsgTypes.
fn msg_types(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim() {
        "Y" | "y" | "true" | "TRUE" | "True" => Some(true),
        "N" | "n" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// `DefaultApplVerID` as QuickFIX writes it (`FIX.5.0SP2`) or as it goes on the wire (`9`).
fn appl_ver_id(value: &str) -> Option<&'static str> {
    const VERSIONS: [(&str, &str); 10] = [
        ("FIX.2.7", "0"),
        ("FIX.3.0", "1"),
        ("FIX.4.0", "2"),
        ("FIX.4.1", "3"),
        ("FIX.4.2", "4"),
        ("FIX.4.3", "5"),
        ("FIX.4.4", "6"),
        ("FIX.5.0", "7"),
        ("FIX.5.0SP1", "8"),
        ("FIX.5.0SP2", "9"),
    ];
    VERSIONS
        .iter()
        .find(|(name, wire)| *name == value || *wire == value)
        .map(|(_, wire)| *wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SessionConfig {
        SessionConfig::new(BeginString::Fix44, "A", "B", Role::Acceptor)
    }

    #[test]
    fn names_and_aliases_set_the_same_field() {
        let mut a = config();
        let mut b = config();
        a.set("CheckLatency", "N").unwrap();
        b.set("CheckSendingTimeAccuracy", "false").unwrap();
        assert_eq!(a, b);
        assert!(!a.check_latency);
        a.set("ReasonableDelayInMs", "1500").unwrap();
        assert_eq!(a.max_latency, Duration::from_millis(1500));
        a.set("MaxLatency", "30").unwrap();
        assert_eq!(a.max_latency, Duration::from_secs(30));
    }

    #[test]
    fn an_initiator_s_addresses_come_in_the_order_of_their_numbers() {
        let mut c = config();
        c.set("SocketConnectHost2", "c.example").unwrap();
        c.set("SocketConnectPort2", "3").unwrap();
        c.set("SocketConnectHost", "a.example").unwrap();
        c.set("SocketConnectPort", "1").unwrap();
        c.set("BackupHost", "b.example").unwrap();
        c.set("SocketConnectPort1", "2").unwrap();
        c.validate().unwrap();
        let addresses: Vec<_> = c.connect_to().collect();
        assert_eq!(
            addresses,
            [("a.example", 1), ("b.example", 2), ("c.example", 3)]
        );
        // A host without its port, and keys that only look numbered.
        c.set("SocketConnectHost4", "d.example").unwrap();
        assert_eq!(
            c.validate(),
            Err(ConfigError::IncompleteAddress { index: 4 })
        );
        assert_eq!(
            ConfigError::IncompleteAddress { index: 4 }.to_string(),
            "SocketConnectHost4 and SocketConnectPort4 go together"
        );
        for typo in [
            "SocketConnectHost007",
            "SocketConnectHostX",
            "SocketConnectPort123",
        ] {
            assert!(matches!(
                c.set(typo, "1"),
                Err(ConfigError::UnknownSetting { .. })
            ));
        }
        assert!(c.set("SocketConnectPort", "http").is_err());
    }

    #[test]
    fn values_are_checked() {
        let mut c = config();
        assert_eq!(
            c.set("HeartBtInt", "soon"),
            Err(ConfigError::InvalidValue {
                key: "HeartBtInt",
                value: "soon".into()
            })
        );
        assert_eq!(
            c.set("HeartBeat", "30"),
            Err(ConfigError::UnknownSetting {
                key: "HeartBeat".into()
            })
        );
        assert!(c.set("TimestampPrecision", "4").is_err());
        c.set("DefaultApplVerID", "FIX.5.0SP2").unwrap();
        assert_eq!(c.default_appl_ver_id.as_deref(), Some("9"));
        c.set("SupportedMsgTypes", "D, F,G").unwrap();
        assert_eq!(
            c.supported_msg_types,
            Some(vec!["D".into(), "F".into(), "G".into()])
        );
    }

    #[test]
    fn every_setting_is_handled() {
        let samples = [
            ("BeginString", "FIX.4.2"),
            ("ConnectionType", "initiator"),
            ("TimestampPrecision", "6"),
            ("StorageDurability", "batch"),
            ("DefaultApplVerID", "9"),
            ("SupportedMsgTypes", "D"),
            ("GapFillMessageTypes", "D"),
            ("StartTime", "08:00:00"),
            ("EndTime", "17:00:00"),
            ("StartDay", "Mon"),
            ("EndDay", "Fri"),
            ("TimeZone", "+01:00"),
            ("SenderCompID", "X"),
            ("TargetCompID", "Y"),
            ("TestRequestId", "PING"),
            ("AllowedRemoteAddresses", "127.0.0.1, 10.0.0.0/8"),
        ];
        for setting in SESSION_SETTINGS {
            // Numbers first; the flags and names fail on them and take the sample or `Y`.
            let value = samples
                .iter()
                .find(|(k, _)| *k == setting.name)
                .map_or("1", |(_, v)| *v);
            let mut c = config();
            let result = c
                .set(setting.name, value)
                .or_else(|_| c.set(setting.name, "Y"));
            assert!(result.is_ok(), "{}: {result:?}", setting.name);
        }
    }
}
