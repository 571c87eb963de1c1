//! Session settings, named as in QuickFIX (DESIGN.md section 8).

use std::sync::Arc;
use std::time::Duration;

use crate::codec::DEFAULT_MAX_MESSAGE_SIZE;
use crate::dictionary::{Dictionary, Rules};
use crate::schedule::Schedule;
use crate::secret::Secret;
use crate::time::TimestampPrecision;
use crate::version::BeginString;

/// Which side opens the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Waits for the counterparty's Logon.
    Acceptor,
    /// Connects and sends the first Logon.
    Initiator,
}

/// How durable a stored message is when its bytes are handed out (`StorageDurability`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StorageDurability {
    /// Survives a process crash: the store's append makes it visible to the OS. The default.
    #[default]
    Process,
    /// Group commit: one `Action::Commit` before the sends that depend on the messages stored since
    /// the last one.
    Batch,
    /// An `Action::Commit` before every stored message's send.
    Each,
}

/// A setting with a value it cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// SenderCompID or TargetCompID is empty or holds a byte that cannot travel in a field.
    #[error("{key} must be non-empty printable ASCII")]
    InvalidCompId {
        /// `SenderCompID` or `TargetCompID`.
        key: &'static str,
    },
    /// A duration that must be positive is zero.
    #[error("{key} must be positive")]
    ZeroDuration {
        /// The setting's name.
        key: &'static str,
    },
    /// FIXT.1.1 needs the application version it defaults to.
    #[error("DefaultApplVerID is required for FIXT.1.1")]
    MissingDefaultApplVerId,
    /// An initiator's address has a host without a port, or a port without a host.
    #[error("SocketConnectHost{index} and SocketConnectPort{index} go together", index = AddressIndex(*index))]
    IncompleteAddress {
        /// The address's number (0 for the unnumbered keys).
        index: usize,
    },
    /// No setting has this name.
    #[error("unknown setting {key}")]
    UnknownSetting {
        /// The name given.
        key: String,
    },
    /// A secret setting still names where to read it (`env:NAME`, `file:PATH`): the caller
    /// reads it before making the session (the driver does).
    #[error("{key} is {secret:?}, which was not read: make the session through the driver")]
    UnreadSecret {
        /// The setting's name.
        key: &'static str,
        /// Where it was to be read from.
        secret: Secret,
    },
    /// `TimeZone` names a zone (`America/New_York`) whose rules were not supplied: the caller
    /// replaces the [`NamedZone`](crate::schedule::NamedZone) before making the session (the
    /// driver does).
    #[error("TimeZone {name:?} has no rules: make the session through the driver")]
    UnresolvedTimeZone {
        /// The zone's name.
        name: String,
    },
    /// `TimeZone` names no zone in the time-zone database.
    #[error("TimeZone cannot be {name:?}: no such zone in the time-zone database")]
    UnknownTimeZone {
        /// The name given.
        name: String,
    },
    /// The setting cannot take this value.
    #[error("{key} cannot be {value:?}")]
    InvalidValue {
        /// The setting's canonical name.
        key: &'static str,
        /// The value given.
        value: String,
    },
}

/// The settings of one session.
///
/// Fields are public; [`SessionConfig::validate`] checks them, and
/// [`Session::new`](crate::Session::new) refuses a configuration that fails it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// `BeginString`.
    pub begin_string: BeginString,
    /// `SenderCompID`: our CompID.
    pub sender_comp_id: String,
    /// `TargetCompID`: the counterparty's CompID.
    pub target_comp_id: String,
    /// Acceptor or initiator.
    pub role: Role,
    /// `HeartBtInt`: the initiator proposes it; an acceptor adopts the value of the Logon.
    pub heart_bt_int: Duration,
    /// `LogonTimeout`: how long a Logon (or its reply) may take. Default 10 s.
    pub logon_timeout: Duration,
    /// `LogoutTimeout`: how long to wait for the reply to our Logout. Default 2 s.
    pub logout_timeout: Duration,
    /// `TestRequestId`: the `TestReqID <112>` of our TestRequests. Default `TEST`.
    pub test_request_id: String,
    /// `ResetOnLogon`: reset both sequence numbers at every Logon.
    pub reset_on_logon: bool,
    /// `ResetOnLogout`: reset both sequence numbers after a Logout exchange.
    pub reset_on_logout: bool,
    /// `ResetOnDisconnect`: reset both sequence numbers when the connection drops.
    pub reset_on_disconnect: bool,
    /// `CheckLatency` (FIX Antenna: `CheckSendingTimeAccuracy`): check SendingTime against our clock.
    pub check_latency: bool,
    /// `MaxLatency` (FIX Antenna: `ReasonableDelayInMs`): the SendingTime tolerance. Default 120 s.
    pub max_latency: Duration,
    /// `CheckCompID`: check that inbound CompIDs mirror ours.
    pub check_comp_id: bool,
    /// `ValidateFieldsHaveValues`: reject a tag without a value.
    pub validate_fields_have_values: bool,
    /// `ValidateFieldsOutOfOrder`: reject header fields after body fields.
    pub validate_fields_out_of_order: bool,
    /// `ValidateLengthAndChecksum`: a wrong BodyLength or CheckSum garbles the frame.
    pub validate_length_and_checksum: bool,
    /// `ValidateChecksum` (QuickFIX/J): with `false`, a wrong CheckSum alone does not garble
    /// the frame (BodyLength is still checked, unless `validate_length_and_checksum` is off).
    pub validate_checksum: bool,
    /// `RejectGarbledMessage` (QuickFIX/J): after logon, answer a frame garbled by its
    /// BodyLength or CheckSum with a Reject (`Message failed basic validity check`) instead of
    /// ignoring it; its number is consumed when it is the expected one.
    pub reject_garbled_message: bool,
    /// `ValidateUserDefinedFields`: with a dictionary, user-defined tags (5000 and up) must be
    /// defined, and defined for the message type.
    pub validate_user_defined_fields: bool,
    /// `AllowUnknownMsgFields`: with a dictionary, standard tags may be unknown or used in
    /// messages that do not define them.
    pub allow_unknown_msg_fields: bool,
    /// Where the data dictionary comes from (`UseDataDictionary`, `DataDictionary`,
    /// `TransportDataDictionary`, `AppDataDictionary`); a loader outside core reads the files
    /// into [`SessionConfig::dictionary`].
    pub dictionary_files: DictionaryFiles,
    /// The data dictionary that validates every message (the transport and application
    /// dictionaries merged, for FIXT). Without one, the session-level messages and the header
    /// are checked by built-in rules and application messages are not validated.
    pub dictionary: Option<Arc<Dictionary>>,
    /// `TimestampPrecision`: fraction digits of outbound timestamps; by default per version.
    pub timestamp_precision: Option<TimestampPrecision>,
    /// `MaxMessageSize`: the largest BodyLength accepted. Default 1 MiB.
    pub max_message_size: usize,
    /// `ResendRequestChunkSize` (QuickFIX/J's key): the most messages one of our ResendRequests
    /// asks for; the next chunk is asked for once the expected number passes the end of the last.
    /// Default 0: one request to the end of the gap.
    pub resend_request_chunk_size: u64,
    /// `ResendReadChunkSize`: messages pulled from the store per step when serving a resend.
    /// Default 1000.
    pub resend_read_chunk_size: u64,
    /// `SendRedundantResendRequests`: ask again for a range already requested.
    pub send_redundant_resend_requests: bool,
    /// `ResendRequestTimeout`: how long a gap may stay unfilled after our ResendRequest before
    /// we ask again for what is still missing. Default 10 s.
    pub resend_request_timeout: Duration,
    /// `SendLogoutOnInvalidLogon`: refuse a bad Logon with one Logout instead of closing silently.
    pub send_logout_on_invalid_logon: bool,
    /// The most out-of-order messages held while a gap is filled (`MaxOutOfOrderMessages`).
    pub max_queued_messages: usize,
    /// `StorageDurability`.
    pub storage_durability: StorageDurability,
    /// `MaxOutboundBytes`: bytes handed to the connection and not yet written, above which
    /// `put()` meets backpressure. Default 4 MiB.
    pub max_outbound_bytes: usize,
    /// `SlowConsumerTimeout`: how long written bytes may make no progress before the connection
    /// is closed as a slow consumer. Default 30 s.
    pub slow_consumer_timeout: Duration,
    /// `DefaultApplVerID <1137>` for FIXT.1.1 sessions (for example `9` for FIX 5.0 SP2).
    pub default_appl_ver_id: Option<String>,
    /// The application MsgTypes this session accepts; `None` accepts all. Any other type is
    /// answered by the session itself: BusinessMessageReject `380=3` from FIX 4.2 on, a session
    /// Reject before.
    pub supported_msg_types: Option<Vec<String>>,
    /// `GapFillMessageTypes`: application MsgTypes that a resend replaces with a GapFill instead of
    /// sending again (stale orders, for example), raising `Event::NotResent` for each.
    pub gap_fill_msg_types: Vec<String>,
    /// `SendNextExpectedMsgSeqNum`: put `NextExpectedMsgSeqNum <789>` (the next inbound number we
    /// expect) on our Logon, FIX 4.4's recovery hint.
    pub send_next_expected_msg_seq_num: bool,
    /// `EnableLastMsgSeqNumProcessed`: from FIX 4.2 on, every message we send carries
    /// `LastMsgSeqNumProcessed <369>`, the last inbound MsgSeqNum processed in sequence (the
    /// next expected one minus one); a resent copy keeps the one it was first sent with.
    pub enable_last_msg_seq_num_processed: bool,
    /// `Username`: on an initiator, the `Username <553>` our Logon carries; on an acceptor, the
    /// one the counterparty's Logon must carry (with `password`).
    pub username: Option<String>,
    /// `Password`: on an initiator, the `Password <554>` our Logon carries; on an acceptor, the
    /// one the counterparty's Logon must carry. `env:NAME` and `file:PATH` keep it out of the
    /// settings; the driver reads them when it makes the session.
    pub password: Option<Secret>,
    /// Extra body fields for our Logon (venue fields…), written after EncryptMethod and
    /// HeartBtInt.
    pub logon_fields: Vec<(u32, String)>,
    /// When the session runs (`StartTime`, `EndTime`, `StartDay`, `EndDay`, `TimeZone`,
    /// `NonStopSession`); `None` is always open, never reset by time.
    pub schedule: Option<Schedule>,
    /// Which messages raise [`Event::Message`](crate::Event::Message), received and sent: none,
    /// the session-level ones (for hooks), or all (for a message log).
    pub report_messages: MessageReport,
    /// Whether every change of the session's state raises
    /// [`Event::StateChanged`](crate::Event::StateChanged), in order (for listeners that follow
    /// the state, as FIX Antenna's do). Off by default.
    pub report_state_changes: bool,
    /// `AllowedRemoteAddresses`: the addresses (IPs, CIDR blocks) a Logon for this acceptor may
    /// come from; `None` allows any. A Logon from elsewhere is refused like bad credentials.
    pub allowed_remote_addresses: Option<Vec<crate::access::IpRange>>,
    /// An initiator's addresses, in the order they are tried: `SocketConnectHost` and
    /// `SocketConnectPort` first, then `SocketConnectHost1`/`SocketConnectPort1` (FIX Antenna's
    /// `BackupHost`/`BackupPort`), `SocketConnectHost2`, … (QuickFIX's failover keys). Indexed
    /// by that number; the adapters resolve the host names.
    pub connect_addresses: Vec<ConnectAddress>,
    /// `MaxUnsettledMessages`: application messages delivered and not yet acked or replied to, at
    /// which the session stops decoding and the connection stops being read, until half are
    /// settled; 0 for no limit. Default 10,000.
    pub max_unsettled_messages: usize,
}

/// The data dictionary settings of a session, as written (paths unresolved).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DictionaryFiles {
    /// `UseDataDictionary`: `None` when not given (a dictionary is used when a path is).
    pub use_data_dictionary: Option<bool>,
    /// `DataDictionary`: the dictionary of a FIX 4.x session.
    pub data_dictionary: Option<String>,
    /// `TransportDataDictionary`: the session-level dictionary of a FIXT.1.1 session.
    pub transport_data_dictionary: Option<String>,
    /// `AppDataDictionary`: the application dictionary of a FIXT.1.1 session.
    pub app_data_dictionary: Option<String>,
}

/// Which messages a session reports with [`Event::Message`](crate::Event::Message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageReport {
    /// None.
    #[default]
    Off,
    /// Session-level messages.
    Admin,
    /// Every message on the wire, resends included.
    All,
}

impl MessageReport {
    /// Whether a message of this MsgType is reported.
    pub fn covers(self, msg_type: &[u8]) -> bool {
        match self {
            Self::Off => false,
            Self::Admin => crate::MsgType::from_bytes(msg_type).is_admin(),
            Self::All => true,
        }
    }
}

impl SessionConfig {
    /// The defaults for a session between `sender_comp_id` (us) and `target_comp_id`.
    pub fn new(
        begin_string: BeginString,
        sender_comp_id: impl Into<String>,
        target_comp_id: impl Into<String>,
        role: Role,
    ) -> Self {
        Self {
            begin_string,
            sender_comp_id: sender_comp_id.into(),
            target_comp_id: target_comp_id.into(),
            role,
            heart_bt_int: Duration::from_secs(30),
            logon_timeout: Duration::from_secs(10),
            logout_timeout: Duration::from_secs(2),
            test_request_id: "TEST".into(),
            reset_on_logon: false,
            reset_on_logout: false,
            reset_on_disconnect: false,
            check_latency: true,
            max_latency: Duration::from_secs(120),
            check_comp_id: true,
            validate_fields_have_values: true,
            validate_fields_out_of_order: true,
            validate_length_and_checksum: true,
            validate_checksum: true,
            reject_garbled_message: false,
            validate_user_defined_fields: true,
            allow_unknown_msg_fields: false,
            dictionary_files: DictionaryFiles::default(),
            dictionary: None,
            timestamp_precision: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            resend_request_chunk_size: 0,
            resend_read_chunk_size: 1000,
            send_redundant_resend_requests: false,
            resend_request_timeout: Duration::from_secs(10),
            send_logout_on_invalid_logon: false,
            max_queued_messages: 10_000,
            storage_durability: StorageDurability::Process,
            max_outbound_bytes: 4 << 20,
            slow_consumer_timeout: Duration::from_secs(30),
            default_appl_ver_id: None,
            supported_msg_types: None,
            gap_fill_msg_types: Vec::new(),
            send_next_expected_msg_seq_num: false,
            enable_last_msg_seq_num_processed: false,
            username: None,
            password: None,
            logon_fields: Vec::new(),
            report_messages: MessageReport::Off,
            report_state_changes: false,
            schedule: None,
            allowed_remote_addresses: None,
            connect_addresses: Vec::new(),
            max_unsettled_messages: 10_000,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, id) in [
            ("SenderCompID", &self.sender_comp_id),
            ("TargetCompID", &self.target_comp_id),
        ] {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                return Err(ConfigError::InvalidCompId { key });
            }
        }
        for (key, value) in [
            ("HeartBtInt", self.heart_bt_int),
            ("LogonTimeout", self.logon_timeout),
            ("LogoutTimeout", self.logout_timeout),
            ("ResendRequestTimeout", self.resend_request_timeout),
            ("SlowConsumerTimeout", self.slow_consumer_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration { key });
            }
        }
        for (index, address) in self.connect_addresses.iter().enumerate() {
            if address.host.is_some() != address.port.is_some() {
                return Err(ConfigError::IncompleteAddress { index });
            }
        }
        if self.begin_string == BeginString::Fixt11 && self.default_appl_ver_id.is_none() {
            return Err(ConfigError::MissingDefaultApplVerId);
        }
        Ok(())
    }

    /// The initiator's addresses that have both a host and a port, in the order they are
    /// tried.
    pub fn connect_to(&self) -> impl Iterator<Item = (&str, u16)> {
        self.connect_addresses
            .iter()
            .filter_map(|a| Some((a.host.as_deref()?, a.port?)))
    }

    /// The validation switches that go with [`SessionConfig::dictionary`].
    pub fn validation_rules(&self) -> Rules {
        Rules {
            fields_have_values: self.validate_fields_have_values,
            fields_out_of_order: self.validate_fields_out_of_order,
            user_defined_fields: self.validate_user_defined_fields,
            allow_unknown_msg_fields: self.allow_unknown_msg_fields,
        }
    }

    /// The precision of outbound timestamps.
    pub fn precision(&self) -> TimestampPrecision {
        self.timestamp_precision
            .unwrap_or_else(|| self.begin_string.default_timestamp_precision())
    }
}

/// One address of an initiator (`SocketConnectHost<n>` and `SocketConnectPort<n>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectAddress {
    /// The host: a name or an IP address.
    pub host: Option<String>,
    /// The port.
    pub port: Option<u16>,
}

/// An address's number as its keys spell it: nothing for the first.
struct AddressIndex(usize);

impl std::fmt::Display for AddressIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            0 => Ok(()),
            n => write!(f, "{n}"),
        }
    }
}
