"""Interop with QuickFIX/C++ (qf-peer from ../shared/peers/quickfix, FIXGATE_QF_PEER): the
fixgate package as an acceptor under QuickFIX's initiator, and as an initiator towards
QuickFIX's acceptor. Without FIXGATE_QF_PEER the tests skip, except under CI=true, where they
fail."""

import json
import os
import selectors
import socket
import subprocess
import threading
import time

import pytest

import fixgate

WITHIN = 30  # seconds: a bound between "works" and "hangs"


@pytest.fixture(scope="module")
def qf_peer():
    path = os.environ.get("FIXGATE_QF_PEER")
    if not path:
        message = "FIXGATE_QF_PEER is not set (build it with ../shared/peers/quickfix/build.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert os.path.isfile(path) and os.access(path, os.X_OK), f"FIXGATE_QF_PEER={path} is not an executable"
    return path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Executor:
    """Answers each NewOrderSingle with an ExecutionReport, as the reply put in the callback."""

    def __init__(self, expected):
        self.expected = expected
        self.orders = []
        self.done = threading.Event()

    def on_new_message(self, session, msg):
        if msg.msg_type != "D":
            return
        n = len(self.orders)
        report = fixgate.FixMessage("8")
        report.set(37, "O%d" % n)
        report.set(17, "E%d" % n)
        report.set(150, "0")
        report.set(39, "0")
        report.set(11, msg.get(11))
        report.set(55, msg.get(55))
        report.set(54, msg.get(54))
        report.set(38, msg.get(38))
        report.set(151, msg.get(38))
        report.set(14, 0)
        report.set(6, 0)
        session.put(report)
        self.orders.append(msg.get(11))
        if len(self.orders) >= self.expected:
            self.done.set()


def test_quickfix_initiator_gets_an_execution_report_for_every_order(engine, qf_peer):
    count = 2000
    ssn = engine.create_session(fixgate.SessionId("PYQACC", "QFINI"), "FIX44", fixgate.FIXVersion.FIX44)
    executor = Executor(count)
    ssn.set_listener(executor)
    ssn.connect()
    try:
        done = subprocess.run(
            [qf_peer, "initiator", "--host", "127.0.0.1", "--port", str(engine.listen_port),
             "--sender", "QFINI", "--target", "PYQACC", "--begin", "FIX.4.4",
             "--count", str(count), "--window", "10", "--timeout", "60"],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["sent"] == count and report["received"] == count, report
        assert report["rejects"] == 0, report
        assert executor.done.wait(WITHIN)
        assert executor.orders == [str(i) for i in range(count)]  # in order, each once
        # Logon, the reports and the Logout went out; Logon, the orders and the Logout came in.
        assert ssn.next_sender_seq_num == count + 3
        assert ssn.next_target_seq_num == count + 3
    finally:
        ssn.finalize()


class Collector:
    """Keeps a copy of each ExecutionReport, signals each, and notes the session's states."""

    def __init__(self):
        self.reports = {}
        self.states = []
        self.changed = threading.Condition()

    def on_new_message(self, session, msg):
        with self.changed:
            if msg.msg_type == "8":
                self.reports[msg.get(11)] = msg.copy()
            self.changed.notify_all()

    def on_session_state_change(self, session, state):
        with self.changed:
            self.states.append(state)
            self.changed.notify_all()

    def wait_for(self, predicate):
        with self.changed:
            return self.changed.wait_for(predicate, WITHIN)


def start_acceptor(qf_peer, port, sender, target):
    """Starts qf-peer's acceptor and waits for its "listening" line on stderr."""
    peer = subprocess.Popen(
        [qf_peer, "acceptor", "--port", str(port), "--sender", sender, "--target", target,
         "--begin", "FIX.4.4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + WITHIN
    with selectors.DefaultSelector() as sel:
        sel.register(peer.stderr, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(deadline - time.monotonic()):
                break
            line = peer.stderr.readline()
            if not line:
                break
            if "listening" in line:
                return peer
    peer.kill()
    peer.wait(WITHIN)
    pytest.fail("qf-peer's acceptor did not start listening")


def test_initiator_orders_get_their_execution_reports_from_quickfix(engine, qf_peer):
    count = 200
    port = free_port()
    # QuickFIX 1.15 has no SocketAcceptHost: it binds 0.0.0.0; we connect to 127.0.0.1 only.
    peer = start_acceptor(qf_peer, port, "QFACC", "PYQINI")
    try:
        ssn = engine.create_session(fixgate.SessionId("PYQINI", "QFACC"), "FIX44", fixgate.FIXVersion.FIX44)
        collector = Collector()
        ssn.set_listener(collector)
        ssn.connect_to("127.0.0.1", port)
        assert collector.wait_for(lambda: "CONNECTED" in collector.states), collector.states
        for i in range(count):
            order = fixgate.FixMessage("D")
            order.set(11, "PY%d" % i)
            order.set(21, "1")
            order.set(55, "EUR/USD")
            order.set(54, "1")
            order.set(60, "20240101-00:00:00")
            order.set(38, 100 + i)
            order.set(40, "1")
            assert ssn.put(order) >= 2  # after the Logon
        assert collector.wait_for(lambda: len(collector.reports) == count), len(collector.reports)
        for i in range(count):
            report = collector.reports["PY%d" % i]
            assert report.get(55) == "EUR/USD" and report.get(54) == "1"
            assert report.get(38) == str(100 + i) and report.get(151) == str(100 + i)
            assert report.get(150) == "0" and report.get(39) == "0"
        assert ssn.state == "CONNECTED"
        ssn.disconnect("done")
        assert collector.wait_for(lambda: collector.states[-1] == "DISCONNECTED"), collector.states
        ssn.finalize()
    finally:
        peer.terminate()
        peer.wait(WITHIN)
