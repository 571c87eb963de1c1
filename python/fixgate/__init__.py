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
from typing import Optional

from ._fixgate import (
    BackpressureError,
    EngineStopped,
    FixEngine,
    FixgateError,
    FIXVersion,
    FixMessage,
    MessageExpired,
    Session,
    SessionFinalized,
    SessionId,
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
    "MessageExpired",
    "RejectReason",
    "Session",
    "SessionFinalized",
    "SessionId",
    "shutdown",
]
