"""The listener's typed callbacks: on_reject(session, direction, reason, text),
on_disconnect(session, reason) and on_session_state_change(session, state), each called only
when the listener defines it."""

import threading

import fixgate
from conftest import RawCounterparty, registered_acceptor

WITHIN = 30  # seconds: a bound between "works" and "hangs"


class Recorder:
    """Keeps every on_reject and on_disconnect call."""

    def __init__(self):
        self.calls = []
        self.changed = threading.Condition()

    def on_new_message(self, session, msg):
        pass

    def _record(self, call):
        with self.changed:
            self.calls.append(call)
            self.changed.notify_all()

    def on_reject(self, session, direction, reason, text):
        self._record(("reject", session.id.target, direction, reason, text))

    def on_disconnect(self, session, reason):
        self._record(("disconnect", session.id.target, reason))

    def wait_for(self, kind, count=1):
        """The `count`-th call of `kind`, waiting at most WITHIN seconds; None if it did not
        come."""
        def found():
            matching = [call for call in self.calls if call[0] == kind]
            return matching[count - 1] if len(matching) >= count else None
        with self.changed:
            return self.changed.wait_for(found, WITHIN)


def test_rejects_both_ways_and_a_logout_reach_the_listener(engine):
    recorder = Recorder()
    ssn = registered_acceptor(engine, "RAWREJ", recorder)
    peer = RawCounterparty(engine.listen_port, "RAWREJ", "PYACC", WITHIN)
    try:
        assert peer.logon() is not None
        # The counterparty rejects our Logon (MsgSeqNum 1): its Text and reason reach us.
        peer.send("3", [(45, 1), (373, 1), (58, "no reason at all")])
        received = recorder.wait_for("reject")
        assert received == (
            "reject", "RAWREJ", "received", "required_tag_missing", "no reason at all")
        assert isinstance(received[3], fixgate.RejectReason) and received[3].code == 1
        # An order with an empty field: the session rejects it.
        peer.send("D", [(11, "ORD-1"), (55, ""), (54, 1), (60, "20260101-00:00:00.000"),
                        (38, 100), (40, 1)])
        sent = recorder.wait_for("reject", 2)
        assert sent is not None and sent[:4] == ("reject", "RAWREJ", "sent", "tag_without_value")
        assert sent[3].code == 4 and sent[4]
        # A reason FIX does not list keeps its number; a Reject without Text has None.
        peer.send("3", [(45, 2), (373, 77)])
        assert recorder.wait_for("reject", 3) == ("reject", "RAWREJ", "received", "unknown", None)
        assert recorder.wait_for("reject", 3)[3].code == 77
        reject = peer.receive_type("3")
        assert reject is not None and reject[373] == "4"
        assert peer.logout() is not None
        assert recorder.wait_for("disconnect") == ("disconnect", "RAWREJ", "logged_out")
    finally:
        peer.close()
    ssn.finalize()


def test_a_listener_without_the_typed_callbacks_still_works(engine):
    class Plain:
        def __init__(self):
            self.states = []
            self.changed = threading.Condition()

        def on_new_message(self, session, msg):
            pass

        def on_session_state_change(self, session, state):
            with self.changed:
                self.states.append(state)
                self.changed.notify_all()

    plain = Plain()
    ssn = registered_acceptor(engine, "RAWPLAIN", plain)
    peer = RawCounterparty(engine.listen_port, "RAWPLAIN", "PYACC", WITHIN)
    try:
        assert peer.logon() is not None
        peer.send("3", [(45, 1), (373, 1)])
        assert peer.logout() is not None
        with plain.changed:
            assert plain.changed.wait_for(lambda: "CONNECTED" in plain.states and
                                          plain.states[-1] != "CONNECTED", WITHIN)
    finally:
        peer.close()
    ssn.finalize()


class States:
    """Keeps every on_session_state_change, and nothing else."""

    def __init__(self):
        self.states = []
        self.changed = threading.Condition()

    def on_new_message(self, session, msg):
        pass

    def on_session_state_change(self, session, state):
        with self.changed:
            self.states.append(state)
            self.changed.notify_all()

    def wait_for(self, expected):
        """Whether the states told so far become `expected`, within WITHIN seconds."""
        with self.changed:
            return self.changed.wait_for(lambda: self.states == expected, WITHIN)


def test_every_state_change_is_told_in_order_even_when_it_lasts_no_time(engine):
    states = States()
    ssn = registered_acceptor(engine, "RAWSTATE", states)
    peer = RawCounterparty(engine.listen_port, "RAWSTATE", "PYACC", WITHIN)
    try:
        # Logon and Logout in one write: the session is logged on for no time at all, and no
        # other callback comes between.
        logon = peer.frame("A", [(98, 0), (108, 30)])
        peer.seq += 1
        logout = peer.frame("5", [])
        peer.seq += 1
        peer.sock.sendall(logon + logout)
        assert peer.receive_type("5") is not None
        assert states.wait_for(["CONNECTED", "WAIT_FOR_LOGON"]), states.states
    finally:
        peer.close()
    ssn.finalize()


def test_an_initiator_is_told_its_logon_logout_and_reconnect(engine):
    acceptor = registered_acceptor(engine, "PYINIT", States(), ours="PYSTATEACC")
    states = States()
    initiator = engine.create_session(fixgate.SessionId("PYINIT", "PYSTATEACC"), "FIX44",
                                      fixgate.FIXVersion.FIX44)
    initiator.set_listener(states)
    initiator.connect_to("127.0.0.1", engine.listen_port)
    try:
        assert states.wait_for(["WAIT_FOR_CONFIRM_LOGON", "CONNECTED"]), states.states
        # The acceptor logs out: the initiator waits to reconnect, then logs on again.
        acceptor.disconnect()
        assert states.wait_for(["WAIT_FOR_CONFIRM_LOGON", "CONNECTED", "DISCONNECTED",
                                "WAIT_FOR_CONFIRM_LOGON", "CONNECTED"]), states.states
    finally:
        initiator.finalize()
        acceptor.finalize()
