"""The fixgate package as an acceptor (and an initiator) against the real fixgate binary."""

import pathlib
import subprocess
import threading

import pytest

import fixgate
from conftest import initiate

WITHIN = 30  # seconds: a bound between "works" and "hangs"


class Executor:
    """Answers each NewOrderSingle with an ExecutionReport echoing its ClOrdID, in the callback."""

    def __init__(self, expected):
        self.expected = expected
        self.orders = []
        self.done = threading.Event()
        self.thread = None

    def on_new_message(self, session, msg):
        self.thread = threading.get_ident()
        if msg.msg_type != "D":
            return
        report = fixgate.FixMessage("8")
        for tag, value in [(37, "O1"), (17, "E%d" % len(self.orders)), (150, "0"), (39, "0"),
                           (55, msg.get(55)), (54, msg.get(54)), (151, msg.get(38)),
                           (14, 0), (6, 0)]:
            report.set(tag, value)
        report.set(11, msg.get(11))
        session.put(report)  # the reply: it settles the order
        self.orders.append(msg.get(11))
        if len(self.orders) >= self.expected:
            self.done.set()


def test_acceptor_answers_every_order_with_an_execution_report(engine, fixgate_bin):
    ssn = engine.create_session(fixgate.SessionId("PYACC", "INI1"), "FIX44", fixgate.FIXVersion.FIX44)
    executor = Executor(50)
    ssn.set_listener(executor)
    ssn.connect()
    report = initiate(fixgate_bin, engine.listen_port, "INI1", "PYACC", 50)
    assert report["received"] == 50, report
    assert executor.done.wait(WITHIN)
    assert len(set(executor.orders)) == 50 and report["rejects"] == 0
    assert executor.thread != threading.main_thread().ident  # the engine thread
    # Logon, 50 reports and the Logout went out; Logon, 50 orders and the Logout came in.
    assert ssn.next_sender_seq_num == 53
    assert ssn.next_target_seq_num == 53
    ssn.finalize()


def test_sequence_numbers_go_on_after_a_drop(engine, fixgate_bin, tmp_path):
    ssn = engine.create_session(fixgate.SessionId("PYACC", "INI2"), "FIX44", fixgate.FIXVersion.FIX44)
    executor = Executor(20)
    ssn.set_listener(executor)
    ssn.connect()
    store = str(tmp_path / "initiator-store")
    first = initiate(fixgate_bin, engine.listen_port, "INI2", "PYACC", 10, "--store", store)
    assert first["received"] == 10, first
    after_first = (ssn.next_sender_seq_num, ssn.next_target_seq_num)
    assert after_first == (13, 13)
    # The same CompIDs log on again, without a reset: both sides go on from their numbers.
    second = initiate(fixgate_bin, engine.listen_port, "INI2", "PYACC", 10, "--store", store)
    assert second["received"] == 10, second
    assert executor.done.wait(WITHIN)
    assert (ssn.next_sender_seq_num, ssn.next_target_seq_num) == (25, 25)
    ssn.finalize()


def test_a_second_finalize_raises(engine):
    ssn = engine.create_session(fixgate.SessionId("PYACC", "INI3"), "FIX44", fixgate.FIXVersion.FIX44)
    ssn.connect()
    ssn.finalize()
    with pytest.raises(fixgate.SessionFinalized):
        ssn.finalize()
    with pytest.raises(fixgate.SessionFinalized):
        ssn.put(fixgate.FixMessage("B"))
    assert ssn.state == "FINALIZED"


def test_a_second_engine_raises(engine):
    with pytest.raises(fixgate.FixgateError, match="already running"):
        fixgate.FixEngine({"ListenPort": 0})


def test_a_message_lent_to_a_callback_expires_and_a_copy_stays(engine, fixgate_bin):
    ssn = engine.create_session(fixgate.SessionId("PYACC", "INI4"), "FIX44", fixgate.FIXVersion.FIX44)

    class Keeper(Executor):
        def on_new_message(self, session, msg):
            self.lent = msg
            self.copy = msg.copy()
            super().on_new_message(session, msg)

    keeper = Keeper(1)
    ssn.set_listener(keeper)
    ssn.connect()
    initiate(fixgate_bin, engine.listen_port, "INI4", "PYACC", 1)
    assert keeper.done.wait(WITHIN)
    with pytest.raises(fixgate.MessageExpired):
        keeper.lent.get(11)
    assert keeper.copy.get(11) == keeper.orders[0]
    assert keeper.copy.msg_type == "D"
    ssn.finalize()


class Collector:
    """Keeps a copy of every message and signals each."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    def on_new_message(self, session, msg):
        with self.arrived:
            self.messages.append(msg.copy())
            self.arrived.notify_all()

    def wait_for(self, predicate):
        with self.arrived:
            return self.arrived.wait_for(lambda: any(predicate(m) for m in self.messages), WITHIN)


def test_put_outside_a_callback_reaches_the_counterparty(engine, fixgate_bin, tmp_path):
    # The fixgate binary as the acceptor, with its echo application: what reaches it comes back.
    config = tmp_path / "echo.properties"
    config.write_text("ListenAddress = 127.0.0.1\nListenPort = 0\n"
                      "CreateUnregisteredAcceptorSession = true\nStorageType = memory\n")
    peer = subprocess.Popen([fixgate_bin, "--config", str(config), "--app", "echo", "--store", "memory"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = None
        for line in peer.stdout:  # "fixgate listening on 127.0.0.1:P" once it listens
            if line.startswith("fixgate listening on"):
                port = int(line.rsplit(":", 1)[1])
                break
        assert port, "the fixgate acceptor did not start"
        ssn = engine.create_session(fixgate.SessionId("PYINI", "ECHO"), "FIX44", fixgate.FIXVersion.FIX44)
        collector = Collector()
        ssn.set_listener(collector)
        ssn.connect_to("127.0.0.1", port)
        news = fixgate.FixMessage("B")  # News, put from this thread: it waits for the engine
        news.set(148, "hello from python")
        seq = ssn.put(news)
        assert seq >= 1
        assert collector.wait_for(lambda m: m.msg_type == "B" and m.get(148) == "hello from python")
        ssn.disconnect("done")
        ssn.finalize()
    finally:
        peer.terminate()
        peer.wait(WITHIN)


def test_seed_example_runs_to_completion():
    seed = pathlib.Path(__file__).resolve().parents[1] / "examples" / "seed.py"
    # Its own process: it makes the process's one engine.
    done = subprocess.run([__import__("sys").executable, str(seed)], capture_output=True, text=True,
                          timeout=WITHIN)
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout
