//! `engine.properties`: `key = value` lines (DESIGN.md section 8). Engine keys are plain
//! (`ListenPort`); session keys are `Session.Default.<Key>` and `Session.<name>.<Key>`. Parsing
//! is pure: the caller reads the file and names it, and every error names the file, the line and
//! the key.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{ConfigError, Role, SessionConfig};
use crate::engine::{EngineConfig, SessionId, SessionIdParts};
use crate::quickfix_keys::{ForeignKey, unsupported_quickfix_key};
use crate::version::BeginString;

/// Engine-wide keys: those the core's [`EngineConfig`] takes, and those the adapters and the
/// `fixgate` binary read (address, port, storage, TLS).
pub const ENGINE_SETTINGS: &[&str] = &[
    "ListenAddress",
    "ListenPort",
    "CreateUnregisteredAcceptorSession",
    "AcceptorCompIDs",
    "LogonQualifierTag",
    "MaxPendingConnections",
    "MaxPendingConnectionsPerAddress",
    "PendingLogonTimeout",
    "ReconnectInterval",
    "ReceiveSpinningTimeout",
    "SocketSendBufferSize",
    "SocketReceiveBufferSize",
    "StorageType",
    "StorageDirectory",
    "PostgresUrl",
    "InstanceName",
    "FailoverTimeout",
    "PostgresPoolSize",
    "PostgresResendCache",
    "PreferredSessions",
    "MessageLog",
    "TlsCertificate",
    "TlsPrivateKey",
    "MetricsAddress",
    "AdminToken",
];

/// Session keys that identify a session rather than configure it.
const IDENTITY_KEYS: &[&str] = &[
    "SenderSubID",
    "SenderLocationID",
    "TargetSubID",
    "TargetLocationID",
    "SessionQualifier",
];

/// Session keys whose meaning here differs from the one a configuration written for another
/// engine may expect, each with what to know about it. Setting one earns a
/// [`PropertiesNotice`].
const CHANGED_MEANING: &[(&str, &str)] = &[(
    "ResendRequestChunkSize",
    "now QuickFIX/J's meaning: the most messages one of our ResendRequests asks for (0, the \
     default: no limit); the messages read from the store per resend step are \
     ResendReadChunkSize (default 1000)",
)];

/// A setting that is valid but may not do what its author expects; the caller shows it at
/// startup.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {text}")]
pub struct PropertiesNotice {
    /// The file's name, as the caller gave it.
    pub file: String,
    /// The line, from 1.
    pub line: usize,
    /// The key, as written.
    pub key: String,
    /// What to know about it.
    pub text: &'static str,
}

/// A value and the line it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    value: String,
    line: usize,
}

/// A parsed properties file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    file: String,
    engine: BTreeMap<String, Entry>,
    defaults: BTreeMap<String, Entry>,
    sessions: BTreeMap<String, BTreeMap<String, Entry>>,
}

/// What is wrong in a properties file, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {kind}")]
pub struct PropertiesError {
    /// The file's name, as the caller gave it.
    pub file: String,
    /// The line, from 1 (0 when the problem is a missing key).
    pub line: usize,
    /// The key at fault.
    pub key: String,
    /// What is wrong.
    pub kind: PropertiesErrorKind,
}

/// The kinds of [`PropertiesError`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PropertiesErrorKind {
    /// A line that is not `key = value`, a comment or blank.
    #[error("expected `key = value`")]
    Syntax,
    /// A key that no setting has.
    #[error("unknown key")]
    UnknownKey,
    /// A QuickFIX/J or QuickFIX C++ key that fixgate does not take, with what to do instead.
    #[error("a {} key that fixgate does not take: {}", .0.origin, .0.advice)]
    UnsupportedQuickFixKey(&'static ForeignKey),
    /// The same key twice.
    #[error("set twice (first on line {first})")]
    Duplicate {
        /// Where it was set first.
        first: usize,
    },
    /// The setting refused the value.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// A session without SenderCompID or TargetCompID.
    #[error("required for every session")]
    Missing,
}

impl Properties {
    /// Parses `text`, the contents of the file named `file`. Lines starting with `#` or `;` and
    /// blank lines are ignored.
    pub fn parse(text: &str, file: &str) -> Result<Self, PropertiesError> {
        let mut properties = Self {
            file: file.to_owned(),
            ..Self::default()
        };
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                return Err(properties.error(line, trimmed, PropertiesErrorKind::Syntax));
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() {
                return Err(properties.error(line, key, PropertiesErrorKind::Syntax));
            }
            let entry = Entry {
                value: value.to_owned(),
                line,
            };
            let (map, name) = match key.strip_prefix("Session.") {
                Some(rest) => {
                    let Some((block, name)) = rest.split_once('.') else {
                        return Err(properties.error(line, key, PropertiesErrorKind::Syntax));
                    };
                    if !is_session_key(name) {
                        return Err(properties.error(line, key, unknown(name)));
                    }
                    let map = match block {
                        "Default" => &mut properties.defaults,
                        block => properties.sessions.entry(block.to_owned()).or_default(),
                    };
                    (map, name)
                }
                None if ENGINE_SETTINGS.contains(&key) => (&mut properties.engine, key),
                None => return Err(properties.error(line, key, unknown(key))),
            };
            if let Some(first) = map.insert(name.to_owned(), entry) {
                let kind = PropertiesErrorKind::Duplicate { first: first.line };
                return Err(properties.error(line, key, kind));
            }
        }
        Ok(properties)
    }

    /// The settings that are valid but whose meaning changed (`ResendRequestChunkSize`), in file
    /// order.
    pub fn notices(&self) -> Vec<PropertiesNotice> {
        let blocks = std::iter::once(("Default", &self.defaults)).chain(
            self.sessions
                .iter()
                .map(|(name, keys)| (name.as_str(), keys)),
        );
        let mut notices: Vec<PropertiesNotice> = blocks
            .flat_map(|(block, keys)| {
                CHANGED_MEANING.iter().filter_map(move |(key, text)| {
                    keys.get(*key).map(|entry| PropertiesNotice {
                        file: self.file.clone(),
                        line: entry.line,
                        key: format!("Session.{block}.{key}"),
                        text,
                    })
                })
            })
            .collect();
        notices.sort_by_key(|notice| notice.line);
        notices
    }

    /// An engine-wide value, for the adapters' own keys (`ListenPort`, `StorageDirectory`…).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.engine.get(key).map(|entry| entry.value.as_str())
    }

    /// An engine-wide value parsed as `T`; a value that does not parse is an error that names
    /// the file, the line and the key.
    pub fn value<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, PropertiesError> {
        self.parsed(key, |value| value.parse().ok())
    }

    /// An engine-wide boolean (`Y`/`N`, `true`/`false`), like [`value`](Self::value).
    pub fn flag(&self, key: &str) -> Result<Option<bool>, PropertiesError> {
        self.parsed(key, parse_flag)
    }

    fn parsed<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, PropertiesError> {
        let Some(entry) = self.engine.get(key) else {
            return Ok(None);
        };
        parse(&entry.value).map(Some).ok_or_else(|| {
            let kind = PropertiesErrorKind::Invalid(ConfigError::InvalidValue {
                key: ENGINE_SETTINGS
                    .iter()
                    .find(|k| **k == key)
                    .copied()
                    .unwrap_or("?"),
                value: entry.value.clone(),
            });
            self.error(entry.line, key, kind)
        })
    }

    /// Where acceptors listen: `ListenAddress` (default 127.0.0.1) and `ListenPort`; `None`
    /// without a `ListenPort` (an engine with initiators only).
    pub fn listen_address(&self) -> Result<Option<std::net::SocketAddr>, PropertiesError> {
        let Some(port) = self.value::<u16>("ListenPort")? else {
            return Ok(None);
        };
        let host = self
            .value::<std::net::IpAddr>("ListenAddress")?
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        Ok(Some(std::net::SocketAddr::new(host, port)))
    }

    /// The engine's settings, with `Session.Default` as the template of created sessions.
    pub fn engine_config(&self) -> Result<EngineConfig, PropertiesError> {
        let mut config = EngineConfig::default();
        self.apply(
            &mut config.default_session,
            &self.defaults,
            "Session.Default",
        )?;
        for (key, entry) in &self.engine {
            let invalid = || {
                let kind = PropertiesErrorKind::Invalid(ConfigError::InvalidValue {
                    key: ENGINE_SETTINGS
                        .iter()
                        .find(|k| *k == key)
                        .copied()
                        .unwrap_or("?"),
                    value: entry.value.clone(),
                });
                self.error(entry.line, key, kind)
            };
            let seconds = || {
                entry
                    .value
                    .parse()
                    .map(Duration::from_secs)
                    .map_err(|_| invalid())
            };
            match key.as_str() {
                "CreateUnregisteredAcceptorSession" => {
                    config.create_unregistered_acceptor_session =
                        parse_flag(&entry.value).ok_or_else(invalid)?;
                }
                "AcceptorCompIDs" => {
                    let ids: Vec<String> = entry
                        .value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty() && *s != "*")
                        .map(str::to_owned)
                        .collect();
                    config.acceptor_comp_ids = (!ids.is_empty()).then_some(ids);
                }
                "LogonQualifierTag" => {
                    config.logon_qualifier_tag = Some(entry.value.parse().map_err(|_| invalid())?)
                }
                "MaxPendingConnections" => {
                    config.max_pending_connections = entry.value.parse().map_err(|_| invalid())?
                }
                "MaxPendingConnectionsPerAddress" => {
                    config.max_pending_per_address = entry.value.parse().map_err(|_| invalid())?
                }
                "PendingLogonTimeout" => config.logon_timeout = seconds()?,
                // Fractions allowed: a failover between instances is measured in seconds.
                "ReconnectInterval" => {
                    config.reconnect_interval = entry
                        .value
                        .parse()
                        .ok()
                        .filter(|secs: &f64| *secs > 0.0)
                        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                        .ok_or_else(invalid)?
                }
                "ReceiveSpinningTimeout" => {
                    config.receive_spinning_timeout = entry
                        .value
                        .parse()
                        .map(Duration::from_micros)
                        .map_err(|_| invalid())?
                }
                "SocketSendBufferSize" => {
                    config.socket_send_buffer_size = entry.value.parse().map_err(|_| invalid())?
                }
                "SocketReceiveBufferSize" => {
                    config.socket_receive_buffer_size =
                        entry.value.parse().map_err(|_| invalid())?
                }
                _ => {} // The adapters' keys.
            }
        }
        Ok(config)
    }

    /// Every named session: its id, and its settings (`Session.Default`, then its own keys).
    pub fn sessions(&self) -> Result<Vec<(SessionId, SessionConfig)>, PropertiesError> {
        let mut out = Vec::new();
        for (name, keys) in &self.sessions {
            let block = format!("Session.{name}");
            let mut config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
            self.apply(&mut config, &self.defaults, "Session.Default")?;
            self.apply(&mut config, keys, &block)?;
            for key in ["SenderCompID", "TargetCompID"] {
                if !keys.contains_key(key) && !self.defaults.contains_key(key) {
                    return Err(self.error(
                        0,
                        &format!("{block}.{key}"),
                        PropertiesErrorKind::Missing,
                    ));
                }
            }
            let identity = |key: &str| {
                keys.get(key)
                    .or_else(|| self.defaults.get(key))
                    .map(|e| e.value.clone())
            };
            let id = SessionId::from(SessionIdParts {
                sender_comp_id: config.sender_comp_id.clone(),
                sender_sub_id: identity("SenderSubID"),
                sender_location_id: identity("SenderLocationID"),
                target_comp_id: config.target_comp_id.clone(),
                target_sub_id: identity("TargetSubID"),
                target_location_id: identity("TargetLocationID"),
                qualifier: identity("SessionQualifier"),
            });
            if let Err(error) = config.validate() {
                return Err(self.error(0, &block, PropertiesErrorKind::Invalid(error)));
            }
            out.push((id, config));
        }
        Ok(out)
    }

    fn apply(
        &self,
        config: &mut SessionConfig,
        keys: &BTreeMap<String, Entry>,
        block: &str,
    ) -> Result<(), PropertiesError> {
        for (key, entry) in keys {
            if IDENTITY_KEYS.contains(&key.as_str()) {
                continue;
            }
            config.set(key, &entry.value).map_err(|error| {
                self.error(
                    entry.line,
                    &format!("{block}.{key}"),
                    PropertiesErrorKind::Invalid(error),
                )
            })?;
        }
        Ok(())
    }

    fn error(&self, line: usize, key: &str, kind: PropertiesErrorKind) -> PropertiesError {
        PropertiesError {
            file: self.file.clone(),
            line,
            key: key.to_owned(),
            kind,
        }
    }
}

/// Why `name` is not a key: a QuickFIX key fixgate does not take, or a typo.
fn unknown(name: &str) -> PropertiesErrorKind {
    unsupported_quickfix_key(name).map_or(
        PropertiesErrorKind::UnknownKey,
        PropertiesErrorKind::UnsupportedQuickFixKey,
    )
}

fn is_session_key(key: &str) -> bool {
    IDENTITY_KEYS.contains(&key)
        || crate::settings::SESSION_SETTINGS
            .iter()
            .any(|s| s.name == key || s.aliases.contains(&key))
        || crate::settings::is_connect_key(key)
}

fn parse_flag(value: &str) -> Option<bool> {
    match value {
        "Y" | "true" => Some(true),
        "N" | "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# fixgate demo
ListenPort = 9876
CreateUnregisteredAcceptorSession = true
AcceptorCompIDs = ISLD
ReceiveSpinningTimeout = 250
SocketSendBufferSize = 65536
Session.Default.BeginString = FIX.4.2
Session.Default.HeartBtInt = 20
Session.Default.SenderCompID = ISLD
Session.tw.TargetCompID = TW
Session.tw.CheckSendingTimeAccuracy = false
Session.tw44.BeginString = FIX.4.4
Session.tw44.TargetCompID = TW44
Session.tw44.TargetSubID = DESK
";

    #[test]
    fn an_initiator_s_numbered_addresses_and_a_fractional_reconnect_interval_are_read() {
        let text = "ReconnectInterval = 0.25\n\
                    Session.X.BeginString = FIX.4.4\n\
                    Session.X.SenderCompID = A\n\
                    Session.X.TargetCompID = B\n\
                    Session.X.ConnectionType = initiator\n\
                    Session.X.SocketConnectHost = a.example\n\
                    Session.X.SocketConnectPort = 1\n\
                    Session.X.BackupHost = b.example\n\
                    Session.X.BackupPort = 2\n\
                    Session.X.SocketConnectHost2 = c.example\n\
                    Session.X.SocketConnectPort2 = 3\n";
        let props = Properties::parse(text, "x").unwrap();
        let engine = props.engine_config().unwrap();
        assert_eq!(engine.reconnect_interval, Duration::from_millis(250));
        let sessions = props.sessions().unwrap();
        let addresses: Vec<_> = sessions[0].1.connect_to().collect();
        assert_eq!(
            addresses,
            [("a.example", 1), ("b.example", 2), ("c.example", 3)]
        );
        assert!(
            Properties::parse("ReconnectInterval = -1\n", "x")
                .unwrap()
                .engine_config()
                .is_err()
        );
    }

    #[test]
    fn parses_engine_keys_defaults_and_sessions() {
        let props = Properties::parse(SAMPLE, "demo.properties").unwrap();
        assert_eq!(props.get("ListenPort"), Some("9876"));
        let engine = props.engine_config().unwrap();
        assert!(engine.create_unregistered_acceptor_session);
        assert_eq!(engine.acceptor_comp_ids, Some(vec!["ISLD".to_owned()]));
        assert_eq!(engine.default_session.heart_bt_int, Duration::from_secs(20));
        assert_eq!(engine.receive_spinning_timeout, Duration::from_micros(250));
        assert_eq!(engine.socket_send_buffer_size, 65536);
        assert_eq!(engine.socket_receive_buffer_size, 0);
        let sessions = props.sessions().unwrap();
        assert_eq!(sessions.len(), 2);
        let (tw, tw_config) = &sessions[0];
        assert_eq!(tw.to_string(), "ISLD->TW");
        assert_eq!(tw_config.begin_string, BeginString::Fix42);
        assert!(!tw_config.check_latency);
        let (tw44, tw44_config) = &sessions[1];
        assert_eq!(tw44.to_string(), "ISLD->TW44/DESK");
        assert_eq!(tw44_config.begin_string, BeginString::Fix44);
        assert_eq!(tw44_config.heart_bt_int, Duration::from_secs(20));
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let error =
            Properties::parse("ListenPort = 1\nListenPortt = 2\n", "a.properties").unwrap_err();
        assert_eq!(
            error.to_string(),
            "a.properties:2: ListenPortt: unknown key"
        );
        let error = Properties::parse("just words\n", "b").unwrap_err();
        assert_eq!((error.line, error.kind), (1, PropertiesErrorKind::Syntax));
        let error = Properties::parse("ListenPort=1\nListenPort=2\n", "c").unwrap_err();
        assert_eq!(error.kind, PropertiesErrorKind::Duplicate { first: 1 });
        let text =
            "Session.x.SenderCompID=A\nSession.x.TargetCompID=B\nSession.x.HeartBtInt=soon\n";
        let error = Properties::parse(text, "d")
            .unwrap()
            .sessions()
            .unwrap_err();
        assert_eq!(
            (error.line, error.key.as_str()),
            (3, "Session.x.HeartBtInt")
        );
        let error = Properties::parse("Session.x.SenderCompID=A\n", "e")
            .unwrap()
            .sessions()
            .unwrap_err();
        assert_eq!(
            (error.kind, error.key.as_str()),
            (PropertiesErrorKind::Missing, "Session.x.TargetCompID")
        );
        let error = Properties::parse("Session.x.Bogus=1\n", "f").unwrap_err();
        assert_eq!(error.kind, PropertiesErrorKind::UnknownKey);
    }

    #[test]
    fn a_key_whose_meaning_changed_earns_a_notice_naming_both_keys() {
        assert_eq!(Properties::parse(SAMPLE, "s").unwrap().notices(), []);
        let text = "Session.Default.ResendRequestChunkSize = 5\nSession.x.SenderCompID = A\n";
        let notices = Properties::parse(text, "g").unwrap().notices();
        assert_eq!(notices.len(), 1);
        let shown = notices[0].to_string();
        assert!(
            shown.starts_with("g:1: Session.Default.ResendRequestChunkSize: now QuickFIX/J's"),
            "{shown}"
        );
        assert!(shown.contains("ResendReadChunkSize"), "{shown}");
    }

    #[test]
    fn quickfix_keys_fixgate_does_not_take_say_what_to_do_and_typos_stay_unknown() {
        let error = Properties::parse("ListenPort = 1\nJdbcURL = jdbc:h2:mem\n", "q").unwrap_err();
        assert_eq!(
            error.to_string(),
            "q:2: JdbcURL: a QuickFIX/J key that fixgate does not take: not supported: fixgate \
             stores in files, in memory or in PostgreSQL (`StorageType = postgres`, \
             `PostgresUrl`); remove it"
        );
        let error = Properties::parse("Session.Default.SocketUseSSL = Y\n", "q").unwrap_err();
        assert!(
            matches!(error.kind, PropertiesErrorKind::UnsupportedQuickFixKey(k) if k.name == "SocketUseSSL"),
            "{error}"
        );
        let error = Properties::parse("SocketAcceptPort = 9876\n", "q").unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("write `ListenPort` (one port serves every acceptor session)"),
            "{error}"
        );
        let error = Properties::parse("Session.x.HeartBtInterval = 30\n", "q").unwrap_err();
        assert_eq!(
            error.to_string(),
            "q:1: Session.x.HeartBtInterval: unknown key"
        );
    }
}
