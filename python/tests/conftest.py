"""Fixtures: the process's one FixEngine (listening on a free loopback port) and the fixgate
binary that plays the counterparty (FIXGATE_BIN, set by test.sh, else target/debug/fixgate)."""

import datetime
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading

import pytest

import fixgate

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fixgate_bin():
    path = pathlib.Path(os.environ.get("FIXGATE_BIN", ROOT / "target" / "debug" / "fixgate"))
    assert path.is_file(), f"{path} is missing: cargo build -p fixgate, or set FIXGATE_BIN"
    return str(path)


@pytest.fixture(scope="session")
def engine():
    # Initiators reconnect after a second (the kill -9 tests restart their acceptors).
    engine = fixgate.FixEngine({"ListenAddress": "127.0.0.1", "ListenPort": 0,
                                "ReconnectInterval": 1})
    yield engine
    engine.stop()


def registered_acceptor(engine, theirs, listener, ours="PYACC"):
    """A FIX 4.4 session between `ours` and `theirs` with `listener`, registered as an
    acceptor."""
    ssn = engine.create_session(fixgate.SessionId(ours, theirs), "FIX44", fixgate.FIXVersion.FIX44)
    ssn.set_listener(listener)
    ssn.connect()
    return ssn


def initiate(fixgate_bin, port, sender, target, count, *extra):
    """Runs `fixgate initiate` to completion and returns its JSON report."""
    done = subprocess.run(
        [fixgate_bin, "initiate", "--port", str(port), "--sender", sender, "--target", target,
         "--count", str(count), "--window", "10", "--json", "--timeout", "60", *extra],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port():
    """A loopback port free now, for an acceptor that restarts on the same port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Acceptor:
    """tests/acceptor_proc.py in a process of its own, with its printed lines collected."""

    SCRIPT = pathlib.Path(__file__).resolve().parent / "acceptor_proc.py"

    def __init__(self, config, within=30):
        self.within = within
        self.lines = []
        self.changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, str(self.SCRIPT), json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.errors = []
        self.readers = [threading.Thread(target=self._read, daemon=True),
                        threading.Thread(target=self._read_errors, daemon=True)]
        for reader in self.readers:
            reader.start()
        started = self.wait_for(lambda line: line.startswith("listening"))
        assert started, "the acceptor did not start: " + "".join(self.errors)
        self.port = int(started.split()[1])

    def _read(self):
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.strip())
                self.changed.notify_all()
        with self.changed:
            self.lines.append("<eof>")
            self.changed.notify_all()

    def _read_errors(self):
        for line in self.process.stderr:
            self.errors.append(line)

    def wait_for(self, predicate, count=1):
        """The `count`-th line that matches `predicate`, waiting at most `within` seconds; None
        if it did not come."""
        def found():
            matching = [line for line in self.lines if predicate(line)]
            return matching[count - 1] if len(matching) >= count else None
        with self.changed:
            return self.changed.wait_for(found, self.within)

    def matching(self, prefix):
        """The lines that start with `prefix`."""
        with self.changed:
            return [line for line in self.lines if line.startswith(prefix)]

    def kill9(self):
        """SIGKILL, and wait for the process to end."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(self.within)
        for reader in self.readers:
            reader.join(self.within)

    def stop(self):
        """Closes its stdin (it stops its engine) and waits for it to end."""
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(self.within)
            except subprocess.TimeoutExpired:
                self.kill9()
        for reader in self.readers:
            reader.join(self.within)


def run_initiate(fixgate_bin, port, sender, target, count, *extra, timeout=60):
    """Runs `fixgate initiate` (giving up after `timeout` seconds); returns the finished
    process, its exit status unchecked."""
    return subprocess.run(
        [fixgate_bin, "initiate", "--port", str(port), "--sender", sender, "--target", target,
         "--count", str(count), "--window", "10", "--json", "--timeout", str(timeout), *extra],
        capture_output=True, text=True, timeout=120,
    )


class RawCounterparty:
    """A FIX 4.4 initiator on a raw loopback socket, for messages the fixgate binary does not
    send (groups, Rejects): frames built here, BodyLength and CheckSum included."""

    def __init__(self, port, sender, target, within=30):
        self.sender, self.target = sender, target
        self.seq = 1
        self.buffer = b""
        self.last = b""  # the last frame received
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=within)

    def frame(self, msg_type, fields):
        """A whole frame of `msg_type` with the next MsgSeqNum and `fields` ((tag, value) pairs)
        after the header."""
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]
        header = [(35, msg_type), (49, self.sender), (56, self.target), (34, self.seq), (52, now)]
        body = "".join("%d=%s\x01" % (tag, value) for tag, value in header + list(fields))
        head = "8=FIX.4.4\x019=%d\x01" % len(body.encode())
        data = (head + body).encode()
        return data + b"10=%03d\x01" % (sum(data) % 256)

    def send(self, msg_type, fields=()):
        """Sends one message; returns its MsgSeqNum."""
        seq = self.seq
        self.sock.sendall(self.frame(msg_type, fields))
        self.seq += 1
        return seq

    def receive(self):
        """The next message as a dict {tag: value} (the first occurrence of each tag); None when
        the counterparty closed the connection. The socket's timeout bounds the wait."""
        while True:
            end = self.buffer.find(b"\x0110=")
            if end >= 0 and self.buffer.find(b"\x01", end + 1) >= 0:
                stop = self.buffer.find(b"\x01", end + 1) + 1
                frame, self.buffer = self.buffer[:stop], self.buffer[stop:]
                self.last = frame
                fields = {}
                for pair in frame.decode().split("\x01")[:-1]:
                    tag, _, value = pair.partition("=")
                    fields.setdefault(int(tag), value)
                return fields
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk

    def receive_type(self, msg_type):
        """The next message of `msg_type`, skipping others (Heartbeats, TestRequests…)."""
        while True:
            msg = self.receive()
            if msg is None or msg.get(35) == msg_type:
                return msg

    def logon(self):
        """Sends a Logon and returns the answer."""
        self.send("A", [(98, 0), (108, 30)])
        return self.receive_type("A")

    def logout(self):
        """Sends a Logout and returns the answer (None if the connection closed first)."""
        self.send("5")
        return self.receive_type("5")

    def close(self):
        """Closes the socket."""
        self.sock.close()
