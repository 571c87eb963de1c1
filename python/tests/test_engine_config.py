"""Engine configurations other than the test process's, each in a Python acceptor process of its
own (tests/acceptor_proc.py): stores from the properties, the sessions manager, credentials,
callbacks that raise, backpressure, and kill -9 under a stream of orders."""

import socket
import threading
import time

import pytest

import fixgate
from conftest import Acceptor, free_port, initiate, run_initiate

WITHIN = 30  # seconds: a bound between "works" and "hangs"


def base(port=0, **extra):
    properties = {"ListenAddress": "127.0.0.1", "ListenPort": port}
    properties.update(extra)
    return properties


def session_folders(store):
    return sorted(path.name for path in store.iterdir()) if store.exists() else []


def test_file_store_keeps_each_session_in_its_folder_across_restarts(fixgate_bin, tmp_path):
    store = tmp_path / "store"
    config = {
        "properties": base(StorageType="file", StorageDirectory=str(store),
                           CreateUnregisteredAcceptorSession=True),
        "sessions": [["PYACC", "FILE1"]],
        "manager": {"accept": ["UNREG1"]},
    }
    acceptor = Acceptor(config)
    try:
        assert acceptor.matching("seq FILE1") == ["seq FILE1 1 1"]
        report = initiate(fixgate_bin, acceptor.port, "FILE1", "PYACC", 5)
        assert report["received"] == 5, report
        # An unregistered session's store is a file store too.
        report = initiate(fixgate_bin, acceptor.port, "UNREG1", "PYACC", 3)
        assert report["received"] == 3, report
    finally:
        acceptor.stop()
    folders = session_folders(store)
    assert len(folders) == 2, folders
    assert any("FILE1" in f for f in folders) and any("UNREG1" in f for f in folders), folders
    for folder in folders:
        assert (store / folder / "messages.log").is_file()
    # A new process on the same folder goes on from the stored numbers: Logon, 5 orders or
    # reports and Logout each way.
    acceptor = Acceptor(config)
    try:
        assert acceptor.matching("seq FILE1") == ["seq FILE1 8 8"]
    finally:
        acceptor.stop()


def test_memory_store_writes_no_folder_and_starts_from_one(fixgate_bin, tmp_path):
    store = tmp_path / "store"
    config = {
        "properties": base(StorageType="memory", StorageDirectory=str(store)),
        "sessions": [["PYACC", "MEM1"]],
    }
    for _ in range(2):
        acceptor = Acceptor(config)
        try:
            assert acceptor.matching("seq MEM1") == ["seq MEM1 1 1"]
            report = initiate(fixgate_bin, acceptor.port, "MEM1", "PYACC", 3)
            assert report["received"] == 3, report
        finally:
            acceptor.stop()
    assert session_folders(store) == []


def test_an_unknown_storage_type_raises():
    # In the test process: the engine refuses before it starts.
    with pytest.raises(fixgate.FixgateError, match="StorageType"):
        fixgate.FixEngine({"ListenPort": 0, "StorageType": "tape"})


def test_sessions_manager_accepts_and_refuses_unregistered_logons(fixgate_bin):
    acceptor = Acceptor({
        "properties": base(CreateUnregisteredAcceptorSession=True),
        "manager": {"accept": ["GOOD"]},
    })
    try:
        report = initiate(fixgate_bin, acceptor.port, "GOOD", "PYACC", 5)
        assert report["received"] == 5, report
        assert acceptor.matching("created") == ["created GOOD"]
        refused = run_initiate(fixgate_bin, acceptor.port, "BAD", "PYACC", 1, "--attempts", "1")
        assert refused.returncode != 0, refused.stdout
        assert "closed the connection without answering our Logon" in refused.stderr, refused.stderr
        assert acceptor.wait_for(lambda line: line == "asked BAD")
        assert acceptor.matching("created") == ["created GOOD"]
        assert acceptor.matching("order BAD") == []
        # The listener set in on_session_created heard the session's state changes.
        states = [line.split()[2] for line in acceptor.matching("state GOOD")]
        # After the counterparty's Logout the acceptor waits for its next Logon.
        assert states == ["CONNECTED", "WAIT_FOR_LOGON"], states
    finally:
        acceptor.stop()


def test_without_a_manager_the_engine_accepts_unregistered_logons(fixgate_bin):
    # The engine's default accepts: the Logon is answered, and with no listener the order is
    # acknowledged without a report (the initiator times out waiting for it).
    for create, logs_on in [(True, True), (False, False)]:
        acceptor = Acceptor({"properties": base(CreateUnregisteredAcceptorSession=create)})
        try:
            done = run_initiate(fixgate_bin, acceptor.port, "ANY", "PYACC", 1, "--attempts", "1",
                                timeout=3)
        finally:
            acceptor.stop()
        assert done.returncode != 0
        refused = "closed the connection without answering our Logon" in done.stderr
        assert refused != logs_on, done.stderr
        if logs_on:
            assert "timed out before 1 reports" in done.stderr, done.stderr


def test_a_sessions_manager_needs_on_unregistered_acceptor(engine):
    with pytest.raises(fixgate.FixgateError, match="on_unregistered_acceptor"):
        engine.set_sessions_manager(object())
    engine.set_sessions_manager(None)  # the engine's default again


def test_credentials_from_the_properties_refuse_a_wrong_password(fixgate_bin):
    acceptor = Acceptor({
        "properties": base(**{"Session.S.SenderCompID": "PYACC",
                              "Session.S.TargetCompID": "CRED",
                              "Session.S.Username": "U",
                              "Session.S.Password": "P"}),
        "sessions": [["PYACC", "CRED"]],
    })
    try:
        report = initiate(fixgate_bin, acceptor.port, "CRED", "PYACC", 5,
                          "--username", "U", "--password", "P")
        assert report["received"] == 5, report
        wrong = run_initiate(fixgate_bin, acceptor.port, "CRED", "PYACC", 1,
                             "--username", "U", "--password", "nope", "--attempts", "1")
        assert wrong.returncode != 0, wrong.stdout
        assert "closed the connection without answering our Logon" in wrong.stderr, wrong.stderr
        missing = run_initiate(fixgate_bin, acceptor.port, "CRED", "PYACC", 1, "--attempts", "1")
        assert missing.returncode != 0, missing.stdout
        assert "closed the connection without answering our Logon" in missing.stderr, missing.stderr
        assert len(acceptor.matching("order CRED")) == 5
    finally:
        acceptor.stop()


class Reports:
    """An initiator's listener: counts the ExecutionReports by ClOrdID."""

    def __init__(self):
        self.by_id = {}
        self.changed = threading.Condition()

    def on_new_message(self, session, msg):
        if msg.msg_type == "8":
            with self.changed:
                cl_ord_id = msg.get(11)
                self.by_id[cl_ord_id] = self.by_id.get(cl_ord_id, 0) + 1
                self.changed.notify_all()

    def wait_for(self, ids, within=WITHIN):
        with self.changed:
            return self.changed.wait_for(lambda: all(i in self.by_id for i in ids), within)


def order(cl_ord_id):
    msg = fixgate.FixMessage("D")
    for tag, value in [(11, cl_ord_id), (21, "1"), (55, "EUR/USD"), (54, "1"),
                       (60, "20240101-00:00:00"), (38, 100), (40, "1")]:
        msg.set(tag, value)
    return msg


def file_acceptor(store, port, target, **extra):
    config = {
        "properties": base(port, StorageType="file", StorageDirectory=str(store),
                           **{"Session.Default.StorageDurability": "process"}),
        "sessions": [["PYACC", target]],
    }
    config.update(extra)
    return Acceptor(config)


def test_a_callback_that_raises_settles_nothing_and_its_order_comes_again(engine, tmp_path):
    store, port = tmp_path / "store", free_port()
    acceptor = file_acceptor(store, port, "RAISE", raise_on=["C3"])
    ssn = engine.create_session(fixgate.SessionId("RAISE", "PYACC"), "FIX44",
                                fixgate.FIXVersion.FIX44)
    reports = Reports()
    ssn.set_listener(reports)
    try:
        ssn.connect_to("127.0.0.1", port)
        ids = ["C%d" % i for i in range(6)]
        for cl_ord_id in ids:
            ssn.put(order(cl_ord_id))
        assert reports.wait_for([i for i in ids if i != "C3"])
        assert acceptor.wait_for(lambda line: line == "raised RAISE C3")
        assert "C3" not in reports.by_id
        acceptor.kill9()
        # The same folder, the application healed: only the unsettled order comes again.
        acceptor = file_acceptor(store, port, "RAISE")
        assert reports.wait_for(["C3"])
        # The acceptor prints its line after its put(): the report may come first.
        assert acceptor.wait_for(lambda line: line.startswith("order RAISE"))
        assert acceptor.matching("order RAISE") == ["order RAISE C3"]
        assert all(reports.by_id[i] == 1 for i in ids), reports.by_id
    finally:
        ssn.disconnect("done")
        ssn.finalize()
        acceptor.stop()


def fix_frame(fields):
    """A FIX 4.4 frame of `fields` (tag, value) after BeginString and BodyLength."""
    body = "".join("%d=%s\x01" % (tag, value) for tag, value in fields)
    head = "8=FIX.4.4\x019=%d\x01" % len(body)
    checksum = sum((head + body).encode()) % 256
    return (head + body + "10=%03d\x01" % checksum).encode()


def test_put_in_a_callback_raises_backpressure_error_when_the_peer_does_not_read(fixgate_bin):
    # Each order's callback puts up to 16 MB of News on SLOW, whose counterparty does not read:
    # the first fills the connection (MaxOutboundBytes unwritten, once the kernel's buffers are
    # full); a later one's put() raises BackpressureError.
    acceptor = Acceptor({
        "properties": base(**{"Session.Default.MaxOutboundBytes": 65536}),
        "sessions": [["PYACC", "SLOW"], ["PYACC", "FAST1"], ["PYACC", "FAST2"]],
        "flood": {"to": "SLOW", "size": 8192, "count": 2000},
    })
    peer = socket.socket()
    try:
        # A small receive buffer, and no reads: the acceptor's bytes pile up unwritten.
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.connect(("127.0.0.1", acceptor.port))
        now = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime())
        logon = [(35, "A"), (49, "SLOW"), (56, "PYACC"), (34, 1), (52, now), (98, 0), (108, 30)]
        peer.sendall(fix_frame(logon))
        assert acceptor.wait_for(lambda line: line == "state SLOW CONNECTED")
        # The orders are answered whether the flood fits or not: the reply goes first. The first
        # one's flood is written while the second initiator starts.
        for fast in ["FAST1", "FAST2"]:
            report = initiate(fixgate_bin, acceptor.port, fast, "PYACC", 1)
            assert report["received"] == 1, report
        assert acceptor.wait_for(lambda line: line.startswith("backpressure SLOW")), acceptor.lines
        assert acceptor.matching("flooded SLOW")[:1] == ["flooded SLOW 2000"], acceptor.lines
    finally:
        peer.close()
        acceptor.stop()


def test_kill9_of_a_python_acceptor_loses_nothing_and_executes_nothing_twice(engine, tmp_path):
    store, port = tmp_path / "store", free_port()
    acceptor = file_acceptor(store, port, "KILL9")
    ssn = engine.create_session(fixgate.SessionId("KILL9", "PYACC"), "FIX44",
                                fixgate.FIXVersion.FIX44)
    reports = Reports()
    ssn.set_listener(reports)
    ids = ["K%04d" % i for i in range(300)]
    stop = threading.Event()

    def stream():
        # A steady stream, about 200 orders a second, whether the acceptor is up or not.
        for cl_ord_id in ids:
            if stop.is_set():
                return
            ssn.put(order(cl_ord_id))
            stop.wait(0.005)

    sender = threading.Thread(target=stream, daemon=True)
    try:
        ssn.connect_to("127.0.0.1", port)
        sender.start()
        mid_stream = []
        for kill in range(3):
            # Kill it once it has executed a few more orders, mid-stream.
            assert acceptor.wait_for(lambda line: line.startswith("order KILL9"), count=20)
            mid_stream.append(sender.is_alive())
            acceptor.kill9()
            acceptor = file_acceptor(store, port, "KILL9")
        sender.join(WITHIN)
        assert not sender.is_alive()
        assert reports.wait_for(ids, within=60), "missing: %s" % sorted(
            set(ids) - set(reports.by_id))
        twice = {i: n for i, n in reports.by_id.items() if n != 1}
        assert twice == {}, twice
        assert set(reports.by_id) == set(ids)
        assert any(mid_stream), "every kill came after the last order was put"
    finally:
        stop.set()
        ssn.disconnect("done")
        ssn.finalize()
        acceptor.stop()
