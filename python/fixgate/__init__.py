"""fixgate: FIX Antenna's session API in Python, on fixgate's Rust FIX engine.

``import fixgate as v12`` runs FIX Antenna's Python examples::

    engine = v12.FixEngine()
    ssn = engine.create_session(v12.SessionId("TEST1", "TEST2"), "FIX44", v12.FIXVersion.FIX44)
    ssn.connect()                      # register as an acceptor
    msg = v12.FixMessage("D")
    msg.set(11, "ORDER-1")
    ssn.put(msg)                       # stored; sent now or after the next Logon
    ssn.disconnect(); ssn.reset_seq_num_local(); ssn.finalize()

The engine runs on a thread of its own; a session's listener (``ssn.set_listener(obj)``) has
its ``on_new_message(session, msg)`` called there with the GIL held.

Stores come from the properties (``StorageType = memory`` or ``file`` with ``StorageDirectory``),
credentials from ``Session.<name>.Username``/``Password``; with
``CreateUnregisteredAcceptorSession = true``, ``engine.set_sessions_manager(obj)`` decides on
Logons for unregistered sessions (``on_unregistered_acceptor``, ``on_session_created``).
"""

import atexit
from typing import Any, Iterable, List, Optional

from ._fixgate import (
    BackpressureError,
    EngineStopped,
    FixEngine,
    FixgateError,
    FIXVersion,
    FixMessage,
    InvalidSetting,
    MessageExpired,
    Session,
    SessionFinalized,
    SessionId,
    UnknownSetting,
    check_group as _check_group,
    read_entry_group as _read_entry_group,
    shutdown,
)



class RejectReason(str):
    """The reason of a session-level Reject, as ``on_reject`` gets it: a ``str``, the
    lower-snake-case label of its SessionRejectReason ("required_tag_missing"…, "unknown" for a
    received Reject without a reason FIX lists), whose ``code`` is the SessionRejectReason
    <373> number itself (None when the Reject had none)."""

    code: Optional[int]

    def __new__(cls, label: str, code: Optional[int] = None) -> "RejectReason":
        reason = super().__new__(cls, label)
        reason.code = code
        return reason

    def __repr__(self) -> str:
        return "RejectReason(%s, %r)" % (str.__repr__(self), self.code)


class GroupEntry(dict):
    """One entry of a repeating group: a dict {tag: value}.

    ``FixMessage.get_group`` returns them, each holding the member tags the entry has (a tag's
    first occurrence in it) and, in ``raw``, the entry's fields as received (tag=value bytes with
    SOH), from which ``get_group`` reads its nested groups. Built by hand (``GroupEntry()`` or
    ``GroupEntry([(448, "B1"), (452, 1)])``, in field order), ``add_group`` adds a nested group,
    and the entry goes to ``FixMessage.add_group`` like any dict entry."""

    raw: Optional[bytes]

    def __init__(self, fields: Any = (), raw: Optional[bytes] = None) -> None:
        super().__init__(fields)
        self.raw = raw

    def get_group(self, count_tag: int, delimiter_tag: int,
                  tags: Iterable[int]) -> List["GroupEntry"]:
        """The entries of the group nested in this entry that ``count_tag`` (its NumInGroup,
        e.g. 802 NoPartySubIDs) introduces, read by the rules of ``FixMessage.get_group``:
        from the fields as received, or from the entry as built."""
        source = self.raw if self.raw is not None else self
        return _read_entry_group(source, count_tag, delimiter_tag, list(tags))

    def add_group(self, count_tag: int, entries: Iterable[Any]) -> None:
        """Adds (or replaces in place) the nested group that ``count_tag`` introduces: entries
        as ``FixMessage.add_group`` takes them; an empty list removes it. The entry is then one
        being built: ``raw`` is cleared."""
        entries = list(entries)
        _check_group(count_tag, entries)
        if entries:
            self[count_tag] = entries
        else:
            self.pop(count_tag, None)
        self.raw = None


# The engine thread calls into Python: it stops (logging sessions out) before the interpreter
# goes away.
atexit.register(shutdown)

__all__ = [
    "BackpressureError",
    "EngineStopped",
    "FixEngine",
    "FixgateError",
    "FIXVersion",
    "FixMessage",
    "GroupEntry",
    "InvalidSetting",
    "MessageExpired",
    "RejectReason",
    "Session",
    "SessionFinalized",
    "SessionId",
    "UnknownSetting",
    "shutdown",
]
