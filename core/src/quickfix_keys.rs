//! QuickFIX/J's and QuickFIX C++'s keys that fixgate does not take, each with what to do instead,
//! so that a configuration carried over stops with advice rather than a bare "unknown key"
//! (`docs/settings.md` lists every QuickFIX key with its status; a test keeps the two equal).
//! A key in neither table nor fixgate's own is still an unknown key: a typo.

use std::fmt;

/// Which engine a key comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// QuickFIX/J.
    QuickFixJ,
    /// QuickFIX C++.
    QuickFixCpp,
    /// Both.
    Both,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::QuickFixJ => "QuickFIX/J",
            Self::QuickFixCpp => "QuickFIX C++",
            Self::Both => "QuickFIX/J and QuickFIX C++",
        })
    }
}

/// A QuickFIX key fixgate does not take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    /// The key, as QuickFIX spells it.
    pub name: &'static str,
    /// Where it comes from.
    pub origin: Origin,
    /// What to do instead.
    pub advice: &'static str,
}

const fn key(name: &'static str, origin: Origin, advice: &'static str) -> ForeignKey {
    ForeignKey {
        name,
        origin,
        advice,
    }
}

/// The QuickFIX key `name` stands for, if fixgate does not take it. QuickFIX/J's numbered
/// failover keys (`SocketConnectHost1`) stand for their first form.
pub fn unsupported_quickfix_key(name: &str) -> Option<&'static ForeignKey> {
    let find = |name: &str| UNSUPPORTED_QUICKFIX_KEYS.iter().find(|k| k.name == name);
    find(name).or_else(|| {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        (base.len() < name.len() && base.starts_with("SocketConnect"))
            .then(|| find(base))
            .flatten()
    })
}

const ACCEPTOR_TEMPLATE: &str =
    "write `CreateUnregisteredAcceptorSession = true`: `Session.Default` is the template";
const CLOSED_RESEND: &str = "not supported: fixgate asks for an open range (EndSeqNo 0); remove it";
const CONTINUE_INIT: &str = "not supported: any bad session stops startup; remove it";
const CORRUPTED: &str = "not supported: a store that fails to read ends the connection; remove it";
const DESCRIPTION: &str = "not supported; remove it (a `#` comment keeps the note)";
const DYNAMIC_SESSION: &str = "not needed: sessions made in code (`FixEngine::create_session`) wait until connected; remove it";
const FILE_STORE_SYNC: &str =
    "write `StorageDurability = each` to sync every message, `batch` to sync before each send";
const HEARTBEAT_TUNING: &str =
    "not supported: fixgate's heartbeat and TestRequest timings are fixed; remove it";
const HTTP: &str = "not supported: fixgate has no HTTP status page; remove it";
const JDBC: &str = "not supported: fixgate stores in files, in memory or in PostgreSQL (`StorageType = postgres`, `PostgresUrl`); remove it";
const LOCAL_BIND: &str =
    "not supported: the system picks the local address of an initiator's connection; remove it";
const LOGGING: &str = "not supported: fixgate logs events through `tracing` (`RUST_LOG`) and messages with `MessageLog`; remove it";
const LOGON_LOGOUT_TIME: &str = "fixgate logs on and out at `StartTime` and `EndTime`: remove it";
const LOGON_TAG: &str = "not supported in the file: set `Username`/`Password`, or `SessionConfig::logon_fields` in code";
const NOT_BEHAVIOUR: &str = "not supported: fixgate has no such behaviour; remove it";
const ORIG_SENDING_TIME: &str =
    "not supported: a PossDup message without OrigSendingTime is always rejected; remove it";
const PERSIST_MESSAGES: &str = "not supported: every message is stored; `GapFillMessageTypes` lists the types a resend gap-fills instead";
const PRESERVE_ORDER: &str =
    "not needed: fixgate hands the application the fields as received; remove it";
const PROXY: &str = "not supported: fixgate connects directly; remove it";
const REFRESH: &str =
    "not supported: a session's store is read when the session is made; remove it";
const REJECT_INVALID: &str =
    "not supported: a message that fails validation is rejected; remove it";
const RENAMED_LISTEN_ADDRESS: &str = "write `ListenAddress`";
const RENAMED_LISTEN_PORT: &str = "write `ListenPort` (one port serves every acceptor session)";
const RENAMED_MESSAGE_LOG: &str =
    "write `MessageLog = true`: a plain-text log per session beside its store";
const RENAMED_RECEIVE_BUFFER: &str = "write `SocketReceiveBufferSize`";
const RENAMED_SEND_BUFFER: &str = "write `SocketSendBufferSize`";
const RENAMED_STORAGE_DIR: &str = "write `StorageDirectory` (with `StorageType = file`): one folder per session, fixgate's own format";
const RENAMED_TIMESTAMP_PRECISION: &str =
    "write `TimestampPrecision` with the number of fraction digits: 0, 3, 6 or 9";
const RENAMED_TLS_CERT: &str = "write `TlsCertificate` (a PEM certificate chain)";
const RENAMED_TLS_KEY: &str = "write `TlsPrivateKey` (a PEM private key)";
const RESET_SEQ_NUM: &str = "write `ResetOnLogon`";
const SOCKET_OPTION: &str =
    "not supported: fixgate sets `TCP_NODELAY` always and no other socket option; remove it";
const SQL_STORE: &str = "not supported: fixgate stores in files, in memory or in PostgreSQL (`StorageType = postgres`, `PostgresUrl`); remove it";
const TLS_CLIENT: &str = "not supported: initiators set TLS in code (`TlsConfig`); remove it";
const TLS_JKS: &str = "not supported: fixgate's TLS takes PEM files, `TlsCertificate` and `TlsPrivateKey`, on the acceptor port; remove it";
const UNHANDLED: &str = "not needed: the application settles every message with `ack` or `reply` (a BusinessMessageReject); remove it";
const UNORDERED_GROUPS: &str = "`ValidateFieldsOutOfOrder` decides the order of group entries too";
const USE_LOCAL_TIME: &str = "write `TimeZone` with the zone's IANA name";
const VALIDATE_INCOMING: &str = "write `UseDataDictionary = N`";
const VALIDATE_SEQ: &str = "not supported: fixgate always checks MsgSeqNum; remove it";
const VM_PIPE: &str = "not supported: fixgate speaks TCP only; remove it";
const WEEKDAYS: &str = "not supported: a daily schedule runs every day and `StartDay`/`EndDay` make a weekly one; remove it";
const WRITE_QUEUE: &str = "not supported: `MaxOutboundBytes` and `SlowConsumerTimeout` bound what a slow counterparty holds; remove it";

/// QuickFIX/J's and QuickFIX C++'s keys that fixgate does not take.
pub const UNSUPPORTED_QUICKFIX_KEYS: &[ForeignKey] = &[
    key("SocketAcceptPort", Origin::Both, RENAMED_LISTEN_PORT),
    key(
        "SocketAcceptAddress",
        Origin::QuickFixJ,
        RENAMED_LISTEN_ADDRESS,
    ),
    key("FileStorePath", Origin::Both, RENAMED_STORAGE_DIR),
    key("FileLogPath", Origin::Both, RENAMED_MESSAGE_LOG),
    key(
        "TimeStampPrecision",
        Origin::QuickFixJ,
        RENAMED_TIMESTAMP_PRECISION,
    ),
    key(
        "MillisecondsInTimeStamp",
        Origin::QuickFixCpp,
        RENAMED_TIMESTAMP_PRECISION,
    ),
    key("SendBufferSize", Origin::QuickFixCpp, RENAMED_SEND_BUFFER),
    key(
        "ReceiveBufferSize",
        Origin::QuickFixCpp,
        RENAMED_RECEIVE_BUFFER,
    ),
    key(
        "ServerCertificateFile",
        Origin::QuickFixCpp,
        RENAMED_TLS_CERT,
    ),
    key(
        "ServerCertificateKeyFile",
        Origin::QuickFixCpp,
        RENAMED_TLS_KEY,
    ),
    key("SendResetSeqNumFlag", Origin::QuickFixCpp, RESET_SEQ_NUM),
    key("FileStoreSync", Origin::QuickFixJ, FILE_STORE_SYNC),
    key(
        "ValidateIncomingMessage",
        Origin::QuickFixJ,
        VALIDATE_INCOMING,
    ),
    key(
        "ValidateUnorderedGroupFields",
        Origin::QuickFixJ,
        UNORDERED_GROUPS,
    ),
    key("UseLocalTime", Origin::QuickFixCpp, USE_LOCAL_TIME),
    key("LogonTime", Origin::QuickFixCpp, LOGON_LOGOUT_TIME),
    key("LogoutTime", Origin::QuickFixCpp, LOGON_LOGOUT_TIME),
    key("LogonDay", Origin::QuickFixCpp, LOGON_LOGOUT_TIME),
    key("LogoutDay", Origin::QuickFixCpp, LOGON_LOGOUT_TIME),
    key("Weekdays", Origin::QuickFixJ, WEEKDAYS),
    key("PersistMessages", Origin::Both, PERSIST_MESSAGES),
    key("LogonTag", Origin::QuickFixJ, LOGON_TAG),
    key("AcceptorTemplate", Origin::QuickFixJ, ACCEPTOR_TEMPLATE),
    key("DynamicSession", Origin::QuickFixJ, DYNAMIC_SESSION),
    key("MaxScheduledWriteRequests", Origin::QuickFixJ, WRITE_QUEUE),
    key("SocketSynchronousWrites", Origin::QuickFixJ, WRITE_QUEUE),
    key(
        "SocketSynchronousWriteTimeout",
        Origin::QuickFixJ,
        WRITE_QUEUE,
    ),
    key("SocketUseSSL", Origin::QuickFixJ, TLS_JKS),
    key("SocketKeyStore", Origin::QuickFixJ, TLS_JKS),
    key("SocketKeyStorePassword", Origin::QuickFixJ, TLS_JKS),
    key("KeyManagerFactoryAlgorithm", Origin::QuickFixJ, TLS_JKS),
    key("KeyStoreType", Origin::QuickFixJ, TLS_JKS),
    key("SocketTrustStore", Origin::QuickFixJ, TLS_JKS),
    key("SocketTrustStorePassword", Origin::QuickFixJ, TLS_JKS),
    key("TrustManagerFactoryAlgorithm", Origin::QuickFixJ, TLS_JKS),
    key("TrustStoreType", Origin::QuickFixJ, TLS_JKS),
    key("NeedClientAuth", Origin::QuickFixJ, TLS_JKS),
    key("EnabledProtocols", Origin::QuickFixJ, TLS_JKS),
    key("CipherSuites", Origin::QuickFixJ, TLS_JKS),
    key("ClientCertificateFile", Origin::QuickFixCpp, TLS_CLIENT),
    key("ClientCertificateKeyFile", Origin::QuickFixCpp, TLS_CLIENT),
    key(
        "CertificationAuthoritiesFile",
        Origin::QuickFixCpp,
        TLS_CLIENT,
    ),
    key(
        "CertificationAuthoritiesDirectory",
        Origin::QuickFixCpp,
        TLS_CLIENT,
    ),
    key(
        "CertificateRevocationListFile",
        Origin::QuickFixCpp,
        TLS_CLIENT,
    ),
    key(
        "CertificateRevocationListDirectory",
        Origin::QuickFixCpp,
        TLS_CLIENT,
    ),
    key("CertificateVerifyLevel", Origin::QuickFixCpp, TLS_CLIENT),
    key("SSLProtocol", Origin::QuickFixCpp, TLS_CLIENT),
    key("SSLCipherSuite", Origin::QuickFixCpp, TLS_CLIENT),
    key("ProxyType", Origin::QuickFixJ, PROXY),
    key("ProxyVersion", Origin::QuickFixJ, PROXY),
    key("ProxyHost", Origin::QuickFixJ, PROXY),
    key("ProxyPort", Origin::QuickFixJ, PROXY),
    key("ProxyUser", Origin::QuickFixJ, PROXY),
    key("ProxyPassword", Origin::QuickFixJ, PROXY),
    key("ProxyDomain", Origin::QuickFixJ, PROXY),
    key("ProxyWorkstation", Origin::QuickFixJ, PROXY),
    key("SocketKeepAlive", Origin::QuickFixJ, SOCKET_OPTION),
    key("SocketOobInline", Origin::QuickFixJ, SOCKET_OPTION),
    key("SocketLinger", Origin::QuickFixJ, SOCKET_OPTION),
    key("SocketTcpNoDelay", Origin::QuickFixJ, SOCKET_OPTION),
    key("SocketTrafficClass", Origin::QuickFixJ, SOCKET_OPTION),
    key("SocketNodelay", Origin::QuickFixCpp, SOCKET_OPTION),
    key("SocketReuseAddress", Origin::Both, SOCKET_OPTION),
    key("SocketLocalHost", Origin::QuickFixJ, LOCAL_BIND),
    key("SocketLocalPort", Origin::QuickFixJ, LOCAL_BIND),
    key("SocketConnectSourceHost", Origin::QuickFixCpp, LOCAL_BIND),
    key("SocketConnectSourcePort", Origin::QuickFixCpp, LOCAL_BIND),
    key("SocketConnectProtocol", Origin::QuickFixJ, VM_PIPE),
    key("SocketAcceptProtocol", Origin::QuickFixJ, VM_PIPE),
    key("FileStoreMaxCachedMsgs", Origin::QuickFixJ, JDBC),
    key("JdbcDataSourceName", Origin::QuickFixJ, JDBC),
    key("JdbcDriver", Origin::QuickFixJ, JDBC),
    key("JdbcURL", Origin::QuickFixJ, JDBC),
    key("JdbcUser", Origin::QuickFixJ, JDBC),
    key("JdbcPassword", Origin::QuickFixJ, JDBC),
    key("JdbcStoreMessagesTableName", Origin::QuickFixJ, JDBC),
    key("JdbcStoreSessionsTableName", Origin::QuickFixJ, JDBC),
    key("JdbcSessionIdDefaultPropertyValue", Origin::QuickFixJ, JDBC),
    key("JdbcMaxActiveConnection", Origin::QuickFixJ, JDBC),
    key("JdbcMaxActiveTime", Origin::QuickFixJ, JDBC),
    key("JdbcMaxConnectionLifeTime", Origin::QuickFixJ, JDBC),
    key("JdbcSimultaneousBuildThrottle", Origin::QuickFixJ, JDBC),
    key(
        "MySQLStoreUseConnectionPool",
        Origin::QuickFixCpp,
        SQL_STORE,
    ),
    key("MySQLStoreDatabase", Origin::QuickFixCpp, SQL_STORE),
    key("MySQLStoreUser", Origin::QuickFixCpp, SQL_STORE),
    key("MySQLStorePassword", Origin::QuickFixCpp, SQL_STORE),
    key("MySQLStoreHost", Origin::QuickFixCpp, SQL_STORE),
    key("MySQLStorePort", Origin::QuickFixCpp, SQL_STORE),
    key(
        "PostgreSQLStoreUseConnectionPool",
        Origin::QuickFixCpp,
        SQL_STORE,
    ),
    key("PostgreSQLStoreDatabase", Origin::QuickFixCpp, SQL_STORE),
    key("PostgreSQLStoreUser", Origin::QuickFixCpp, SQL_STORE),
    key("PostgreSQLStorePassword", Origin::QuickFixCpp, SQL_STORE),
    key("PostgreSQLStoreHost", Origin::QuickFixCpp, SQL_STORE),
    key("PostgreSQLStorePort", Origin::QuickFixCpp, SQL_STORE),
    key("OdbcStoreUser", Origin::QuickFixCpp, SQL_STORE),
    key("OdbcStorePassword", Origin::QuickFixCpp, SQL_STORE),
    key("OdbcStoreConnectionString", Origin::QuickFixCpp, SQL_STORE),
    key("JdbcLogHeartBeats", Origin::QuickFixJ, LOGGING),
    key("JdbcLogIncomingTable", Origin::QuickFixJ, LOGGING),
    key("JdbcLogOutgoingTable", Origin::QuickFixJ, LOGGING),
    key("JdbcLogEventTable", Origin::QuickFixJ, LOGGING),
    key("FileLogHeartbeats", Origin::QuickFixJ, LOGGING),
    key("FileIncludeMilliseconds", Origin::QuickFixJ, LOGGING),
    key(
        "FileIncludeTimeStampForMessages",
        Origin::QuickFixJ,
        LOGGING,
    ),
    key("SLF4JLogEventCategory", Origin::QuickFixJ, LOGGING),
    key(
        "SLF4JLogIncomingMessageCategory",
        Origin::QuickFixJ,
        LOGGING,
    ),
    key(
        "SLF4JLogOutgoingMessageCategory",
        Origin::QuickFixJ,
        LOGGING,
    ),
    key("SLF4JLogPrependSessionID", Origin::QuickFixJ, LOGGING),
    key("SLF4JLogHeartbeats", Origin::QuickFixJ, LOGGING),
    key("ScreenLogEvents", Origin::QuickFixJ, LOGGING),
    key("ScreenLogShowHeartBeats", Origin::QuickFixJ, LOGGING),
    key("ScreenLogShowIncoming", Origin::Both, LOGGING),
    key("ScreenLogShowOutgoing", Origin::Both, LOGGING),
    key("FileLogBackupPath", Origin::QuickFixCpp, LOGGING),
    key("ScreenLogShowEvents", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogUseConnectionPool", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogDatabase", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogUser", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogPassword", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogHost", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogPort", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogIncomingTable", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogOutgoingTable", Origin::QuickFixCpp, LOGGING),
    key("MySQLLogEventTable", Origin::QuickFixCpp, LOGGING),
    key(
        "PostgreSQLLogUseConnectionPool",
        Origin::QuickFixCpp,
        LOGGING,
    ),
    key("PostgreSQLLogDatabase", Origin::QuickFixCpp, LOGGING),
    key("PostgreSQLLogUser", Origin::QuickFixCpp, LOGGING),
    key("PostgreSQLLogPassword", Origin::QuickFixCpp, LOGGING),
    key("PostgreSQLLogHost", Origin::QuickFixCpp, LOGGING),
    key("PostgreSQLLogPort", Origin::QuickFixCpp, LOGGING),
    key("PostgreSQLLogIncomingTable", Origin::QuickFixCpp, LOGGING),
    key("PostgreSQLLogOutgoingTable", Origin::QuickFixCpp, LOGGING),
    key("PostgreSQLLogEventTable", Origin::QuickFixCpp, LOGGING),
    key("OdbcLogUser", Origin::QuickFixCpp, LOGGING),
    key("OdbcLogPassword", Origin::QuickFixCpp, LOGGING),
    key("OdbcLogConnectionString", Origin::QuickFixCpp, LOGGING),
    key("OdbcLogIncomingTable", Origin::QuickFixCpp, LOGGING),
    key("OdbcLogOutgoingTable", Origin::QuickFixCpp, LOGGING),
    key("OdbcLogEventTable", Origin::QuickFixCpp, LOGGING),
    key("HttpAcceptPort", Origin::QuickFixCpp, HTTP),
    key("ResetOnError", Origin::QuickFixJ, NOT_BEHAVIOUR),
    key("DisconnectOnError", Origin::QuickFixJ, NOT_BEHAVIOUR),
    key("Description", Origin::QuickFixJ, DESCRIPTION),
    key("RefreshOnLogon", Origin::Both, REFRESH),
    key(
        "TestRequestDelayMultiplier",
        Origin::QuickFixJ,
        HEARTBEAT_TUNING,
    ),
    key(
        "HeartBeatTimeoutMultiplier",
        Origin::QuickFixJ,
        HEARTBEAT_TUNING,
    ),
    key("DisableHeartBeatCheck", Origin::QuickFixJ, HEARTBEAT_TUNING),
    key(
        "RequiresOrigSendingTime",
        Origin::QuickFixJ,
        ORIG_SENDING_TIME,
    ),
    key("RejectInvalidMessage", Origin::QuickFixJ, REJECT_INVALID),
    key("ValidateSequenceNumbers", Origin::QuickFixJ, VALIDATE_SEQ),
    key(
        "PreserveMessageFieldsOrder",
        Origin::QuickFixCpp,
        PRESERVE_ORDER,
    ),
    key("ClosedResendInterval", Origin::QuickFixJ, CLOSED_RESEND),
    key(
        "RejectMessageOnUnhandledException",
        Origin::QuickFixJ,
        UNHANDLED,
    ),
    key(
        "ContinueInitializationOnError",
        Origin::QuickFixJ,
        CONTINUE_INIT,
    ),
    key(
        "ForceResendWhenCorruptedStore",
        Origin::QuickFixJ,
        CORRUPTED,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_with_their_numbered_forms_and_typos_are_not() {
        let jdbc = unsupported_quickfix_key("JdbcURL").unwrap();
        assert_eq!(jdbc.origin, Origin::QuickFixJ);
        assert!(jdbc.advice.contains("StorageType"), "{}", jdbc.advice);
        assert_eq!(
            unsupported_quickfix_key("SocketConnectSourceHost2").map(|k| k.name),
            Some("SocketConnectSourceHost")
        );
        // The initiator's addresses are fixgate's own keys now, numbered forms included.
        assert_eq!(unsupported_quickfix_key("SocketConnectHost2"), None);
        assert_eq!(unsupported_quickfix_key("JdbcURL2"), None);
        assert_eq!(unsupported_quickfix_key("HeartBtInterval"), None);
        assert_eq!(Origin::Both.to_string(), "QuickFIX/J and QuickFIX C++");
    }

    #[test]
    fn no_key_is_listed_twice_or_taken_by_fixgate() {
        use crate::properties::{Properties, PropertiesErrorKind};
        let mut names: Vec<&str> = UNSUPPORTED_QUICKFIX_KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), UNSUPPORTED_QUICKFIX_KEYS.len());
        for name in names {
            for line in [format!("{name} = 1"), format!("Session.x.{name} = 1")] {
                let kind = Properties::parse(&line, "k").map_err(|e| e.kind);
                assert!(
                    matches!(kind, Err(PropertiesErrorKind::UnsupportedQuickFixKey(k)) if k.name == name),
                    "{line}: {kind:?}"
                );
            }
        }
    }
}
