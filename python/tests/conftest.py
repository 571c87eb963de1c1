"""Fixtures: the process's one FixEngine (listening on a free loopback port) and the fixgate
binary that plays the counterparty (FIXGATE_BIN, set by test.sh, else target/debug/fixgate)."""

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
