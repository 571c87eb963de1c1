"""Type stubs of fixgate, FIX Antenna's session API on fixgate's Rust engine."""

import os
from typing import Dict, List, Mapping, Optional, Protocol, Sequence, Tuple, Union, overload

class FixgateError(Exception):
    """An error of the FIX engine; its message carries the engine's reason."""

class SessionFinalized(FixgateError):
    """The session was finalized: it can no longer be used (finalize() runs once)."""

class BackpressureError(FixgateError):
    """The connection holds MaxOutboundBytes unwritten; a put() inside a callback raises this."""

class EngineStopped(FixgateError):
    """The engine has stopped."""

class MessageExpired(FixgateError):
    """A message lent to on_new_message was used after the callback returned."""

class UnknownSetting(FixgateError):
    """A create_session setting that fixgate does not know."""

class InvalidSetting(FixgateError):
    """A create_session setting whose value does not fit it, or one the arguments decide
    (BeginString, SenderCompID, TargetCompID, ConnectionType)."""

class RejectReason(str):
    """The reason of a session-level Reject (on_reject): the lower-snake-case label of its
    SessionRejectReason ("required_tag_missing"…, "unknown" for one FIX does not list), with
    code, the SessionRejectReason <373> number (None when the Reject had none)."""

    code: Optional[int]
    def __new__(cls, label: str, code: Optional[int] = ...) -> "RejectReason": ...

class SessionId:
    """A session's identity: our SenderCompID and the counterparty's (our TargetCompID)."""

    def __init__(self, sender: str, target: str) -> None: ...
    @property
    def sender(self) -> str: ...
    @property
    def target(self) -> str: ...

class FIXVersion:
    """The session protocol's version."""

    FIX40: "FIXVersion"
    FIX41: "FIXVersion"
    FIX42: "FIXVersion"
    FIX43: "FIXVersion"
    FIX44: "FIXVersion"
    FIXT11: "FIXVersion"

FieldValue = Union[str, int, float, bool, bytes]
# A group entry's value may itself be a list of entries: a nested group under that NumInGroup.
GroupValue = Union[FieldValue, List["GroupEntryLike"]]
GroupEntryLike = Union[Sequence[Tuple[int, GroupValue]], Mapping[int, GroupValue]]

class GroupEntry(Dict[int, object]):
    """One entry of a repeating group: a dict {tag: value}. FixMessage.get_group returns them
    (values str, raw the entry's fields as received); built by hand, in field order, they go to
    FixMessage.add_group like any dict entry."""

    raw: Optional[bytes]
    def __init__(self, fields: GroupEntryLike = ..., raw: Optional[bytes] = ...) -> None: ...
    def get_group(
        self, count_tag: int, delimiter_tag: int, tags: Sequence[int]
    ) -> List["GroupEntry"]:
        """The entries of the group nested in this entry (e.g. 802 NoPartySubIDs in a 453
        NoPartyIDs entry), read by FixMessage.get_group's rules."""
    def add_group(self, count_tag: int, entries: Sequence[GroupEntryLike]) -> None:
        """Adds (or replaces in place) a nested group; an empty list removes it. Checks the
        entries at once (FixgateError)."""

class FixMessage:
    """A FIX message: its type, body fields and repeating groups. Messages lent to a callback
    are read-only."""

    def __init__(self, msg_type: str) -> None: ...
    def set(self, tag: int, value: Union[str, int, float, bool, bytes]) -> None: ...
    def get(self, tag: int) -> Optional[str]: ...
    def __contains__(self, tag: int) -> bool: ...
    @property
    def msg_type(self) -> str: ...
    @property
    def raw(self) -> bytes: ...
    def copy(self) -> "FixMessage": ...
    def add_group(self, count_tag: int, entries: Sequence[GroupEntryLike]) -> None:
        """Adds the repeating group that count_tag (its NumInGroup, e.g. 453) introduces: each
        entry a list of (tag, value) pairs or a dict, in field order, every one starting with
        the group's delimiter tag (e.g. 448); a list value is a nested group. Written as
        NumInGroup then each entry's fields where the group stands among the body fields, in
        raw and by Session.put(). Added again, the group is replaced in place; an empty list
        removes it. Raises FixgateError for a malformed group or a read-only message."""
    def get_group(
        self, count_tag: int, delimiter_tag: int, tags: Sequence[int]
    ) -> List[GroupEntry]:
        """The group's entries, each a GroupEntry (a dict {tag: value} of its member tags), read
        by the core's rules: an entry starts with delimiter_tag and runs while its tags are in
        tags (list every tag an entry may hold, nested groups' included; read a nested group
        with the entry's get_group). No NumInGroup is []; a NumInGroup that does not match the
        entries found, or is not a number, raises FixgateError with the core's reason."""

class Listener(Protocol):
    """What set_listener takes: on_new_message, and optionally (each called only if defined)
    on_session_state_change(session, state), called on every change of the session's state,
    in order, the ones that last no time included (the state's name, as Session.state gives
    it);
    on_reject(session, direction, reason, text), for each session-level Reject: direction
    "received" or "sent", reason a RejectReason (the lower-snake-case label of its
    SessionRejectReason, "required_tag_missing", "tag_without_value"…, "unknown" for a received
    Reject without a known one; .code its number), text the Reject's Text (None when a
    received one has none);
    on_disconnect(session, reason), when the connection ends: reason the label of why
    ("logged_out", "heartbeat_timeout", "connection_closed", "requested"…)."""

    def on_new_message(self, session: "Session", msg: FixMessage) -> None: ...

class SessionsManager(Protocol):
    """What FixEngine.set_sessions_manager takes: on_unregistered_acceptor(session_id, logon)
    returns True to accept a Logon for a session nobody registered (logon is valid only during
    the call), and optionally on_session_created(session) receives each session it accepted,
    before its first message, to set its listener."""

    def on_unregistered_acceptor(self, session_id: SessionId, logon: FixMessage) -> bool: ...

class Session:
    """A FIX session: connect() (acceptor) or connect_to() (initiator), put(), finalize()."""

    @property
    def id(self) -> SessionId: ...
    @property
    def app_version(self) -> str: ...
    @property
    def version(self) -> FIXVersion: ...
    @overload
    def connect(self) -> None:
        """Registers the session as an acceptor."""
    @overload
    def connect(self, hbi: int, host: str, port: int) -> None:
        """Starts the session as an initiator towards host:port with HeartBtInt hbi seconds
        (FIX Antenna's form of connect_to)."""
    def connect_to(self, host: str, port: int) -> None: ...
    def put(self, msg: FixMessage) -> int: ...
    def disconnect(self, reason: Optional[str] = None) -> None: ...
    def reset_seq_num_local(self) -> None: ...
    def finalize(self) -> None: ...
    def set_listener(self, listener: Listener) -> None: ...
    @property
    def state(self) -> str: ...
    @property
    def next_sender_seq_num(self) -> int: ...
    @property
    def next_target_seq_num(self) -> int: ...

class FixEngine:
    """The FIX engine of this process (one per process), on a thread of its own.

    Sessions keep their messages as the properties' StorageType says: memory (the default) or
    file (fixgate's file store, one folder per session under StorageDirectory)."""

    def __init__(
        self,
        properties: Union[None, str, "os.PathLike[str]", Dict[str, object]] = None,
    ) -> None: ...
    def create_session(
        self,
        session_id: SessionId,
        app_version: str,
        version: FIXVersion,
        settings: Optional[Mapping[str, object]] = None,
    ) -> Session:
        """A session with the properties' settings for its CompIDs, then settings (the same
        session keys, for this session alone: HeartBtInt, ResetOnLogon, Username, Password…).
        Raises UnknownSetting for an unknown key, InvalidSetting for a bad value."""
    def set_sessions_manager(self, manager: Optional[SessionsManager]) -> None:
        """Decides on Logons for unregistered sessions (CreateUnregisteredAcceptorSession on);
        None puts back the engine's default, which accepts them all."""
    @property
    def listen_port(self) -> Optional[int]: ...
    def stop(self) -> None: ...

def shutdown() -> None:
    """Stops the process's engine, if one runs (registered with atexit)."""
