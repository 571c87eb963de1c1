"""Fixtures: the process's one FixEngine (listening on a free loopback port) and the fixgate
binary that plays the counterparty (FIXGATE_BIN, set by test.sh, else target/debug/fixgate)."""

import json
import os
import pathlib
import subprocess

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
    engine = fixgate.FixEngine({"ListenAddress": "127.0.0.1", "ListenPort": 0})
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
