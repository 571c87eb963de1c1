"""Per-session settings: create_session(session_id, app_version, version, settings), a dict of
the properties' session keys that override the engine's defaults for that session alone; and
FIX Antenna's initiator call, connect(hbi, host, port)."""

import socket

import pytest

import fixgate
from conftest import RawCounterparty

WITHIN = 30  # seconds: a bound between "works" and "hangs"


class Quiet:
    def on_new_message(self, session, msg):
        pass


def acceptor(engine, theirs, settings=None):
    ssn = engine.create_session(fixgate.SessionId("PYACC", theirs), "FIX44",
                                fixgate.FIXVersion.FIX44, settings)
    ssn.set_listener(Quiet())
    ssn.connect()
    return ssn


def log_on(engine, theirs, *credentials):
    """A raw Logon from `theirs` (with Username and Password when given); the answer, None
    when the connection closed without one."""
    peer = RawCounterparty(engine.listen_port, theirs, "PYACC", WITHIN)
    try:
        fields = [(98, 0), (108, 30)]
        if credentials:
            fields += [(553, credentials[0]), (554, credentials[1])]
        peer.send("A", fields)
        answer = peer.receive_type("A")
        if answer is not None:
            assert peer.logout() is not None
        return answer
    finally:
        peer.close()


def test_credentials_given_to_one_session_bind_that_session_alone(engine):
    guarded = acceptor(engine, "SETCRED", {"Username": "trader", "Password": "s3cret"})
    open_door = acceptor(engine, "SETOPEN")
    try:
        assert log_on(engine, "SETCRED") is None
        assert log_on(engine, "SETCRED", "trader", "wrong") is None
        assert log_on(engine, "SETCRED", "trader", "s3cret") is not None
        # The engine's defaults still hold for another session.
        assert log_on(engine, "SETOPEN") is not None
    finally:
        guarded.finalize()
        open_door.finalize()


def test_settings_take_quickfix_names_fix_antenna_aliases_and_python_values(engine):
    ssn = engine.create_session(
        fixgate.SessionId("PYACC", "SETALIAS"), "FIX44", fixgate.FIXVersion.FIX44,
        {"HeartbeatInterval": 5, "ForceSeqNumReset": True, "LogonTimeout": "3",
         "CheckLatency": False})
    ssn.finalize()


def test_unknown_and_invalid_settings_raise_typed_errors(engine):
    sid = fixgate.SessionId("PYACC", "SETBAD")
    v44 = fixgate.FIXVersion.FIX44
    with pytest.raises(fixgate.UnknownSetting, match="HeartBeatInt"):
        engine.create_session(sid, "FIX44", v44, {"HeartBeatInt": 5})
    with pytest.raises(fixgate.InvalidSetting, match="HeartBtInt"):
        engine.create_session(sid, "FIX44", v44, {"HeartBtInt": "soon"})
    with pytest.raises(fixgate.InvalidSetting, match="SenderCompID"):
        engine.create_session(sid, "FIX44", v44, {"SenderCompID": "OTHER"})
    assert issubclass(fixgate.UnknownSetting, fixgate.FixgateError)
    # Nothing was created by the failed calls: the id is free.
    engine.create_session(sid, "FIX44", v44, {}).finalize()


def test_connect_with_hbi_host_and_port_starts_an_initiator(engine):
    # FIX Antenna's initiator call, connect(hbi, host, port), towards a bare listening socket
    # that reads the Logon.
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(WITHIN)
        ssn = engine.create_session(fixgate.SessionId("PYINIT", "RAWLISTEN"), "FIX44",
                                    fixgate.FIXVersion.FIX44)
        try:
            ssn.connect(7, "127.0.0.1", server.getsockname()[1])
            conn, _ = server.accept()
            with conn:
                conn.settimeout(WITHIN)
                data = b""
                while b"\x0110=" not in data or not data.endswith(b"\x01"):
                    chunk = conn.recv(4096)
                    assert chunk, data
                    data += chunk
            assert b"\x0135=A\x01" in data and b"\x01108=7\x01" in data, data
        finally:
            ssn.finalize()
    with pytest.raises(fixgate.FixgateError, match="connect"):
        ssn2 = engine.create_session(fixgate.SessionId("PYINIT", "RAWHALF"), "FIX44",
                                     fixgate.FIXVersion.FIX44)
        try:
            ssn2.connect(7, "127.0.0.1")
        finally:
            ssn2.finalize()


def test_a_password_setting_may_name_where_to_read_it(engine, monkeypatch):
    monkeypatch.setenv("FIXGATE_PY_TEST_PASSWORD", "from-env")
    ssn = acceptor(engine, "SETENV", {"Username": "u", "Password": "env:FIXGATE_PY_TEST_PASSWORD"})
    try:
        assert log_on(engine, "SETENV", "u", "env:FIXGATE_PY_TEST_PASSWORD") is None
        assert log_on(engine, "SETENV", "u", "from-env") is not None
    finally:
        ssn.finalize()
