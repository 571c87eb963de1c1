"""The listener's typed callbacks: on_reject(session, direction, reason, text) and
on_disconnect(session, reason), each called only when the listener defines it."""

import threading

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
        # The counterparty rejects our Logon (MsgSeqNum 1).
        peer.send("3", [(45, 1), (373, 1), (58, "no reason at all")])
        assert recorder.wait_for("reject") == (
            "reject", "RAWREJ", "received", "required_tag_missing", None)
        # An order with an empty field: the session rejects it.
        peer.send("D", [(11, "ORD-1"), (55, ""), (54, 1), (60, "20260101-00:00:00.000"),
                        (38, 100), (40, 1)])
        sent = recorder.wait_for("reject", 2)
        assert sent is not None and sent[:4] == ("reject", "RAWREJ", "sent", "tag_without_value")
        assert sent[4]
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
