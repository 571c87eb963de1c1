"""Repeating groups on FixMessage: add_group() when building, get_group() when reading."""

import threading

import pytest

import fixgate
from conftest import RawCounterparty, registered_acceptor

WITHIN = 30  # seconds: a bound between "works" and "hangs"

PARTIES = [
    [(448, "BROKER1"), (447, "D"), (452, 1)],
    {448: "CLIENT7", 447: "D", 452: 3},
]


def test_a_built_group_round_trips_through_raw_and_get_group():
    msg = fixgate.FixMessage("D")
    msg.set(11, "ORD-1")
    msg.add_group(453, PARTIES)
    msg.set(55, "EUR/USD")
    assert msg.raw == (b"35=D\x0111=ORD-1\x01453=2\x01448=BROKER1\x01447=D\x01452=1\x01"
                       b"448=CLIENT7\x01447=D\x01452=3\x0155=EUR/USD\x01")
    assert msg.get(453) == "2"
    assert msg.get_group(453, 448, [447, 452]) == [
        {448: "BROKER1", 447: "D", 452: "1"},
        {448: "CLIENT7", 447: "D", 452: "3"},
    ]
    # A copy keeps the group.
    assert msg.copy().get_group(453, 448, [447, 452]) == msg.get_group(453, 448, [447, 452])
    # An entry runs while its tags are members: a member left out ends it early, and the count
    # no longer matches (the core's rule).
    with pytest.raises(fixgate.FixgateError, match="group 453 declares 2 entries, found 1"):
        msg.get_group(453, 448, [452])
    # Added again, the group is replaced where it stands; an empty list removes it.
    msg.add_group(453, [[(448, "X"), (452, 11)]])
    assert b"\x01453=1\x01448=X\x01452=11\x0155=EUR/USD\x01" in msg.raw
    msg.add_group(453, [])
    assert msg.raw == b"35=D\x0111=ORD-1\x0155=EUR/USD\x01"
    assert msg.get_group(453, 448, [447, 452]) == []


def test_a_nested_group_is_written_inside_its_entry():
    msg = fixgate.FixMessage("D")
    msg.add_group(453, [[(448, "B1"), (452, 1), (802, [[(523, "S1"), (803, 4)]])]])
    assert msg.raw == b"35=D\x01453=1\x01448=B1\x01452=1\x01802=1\x01523=S1\x01803=4\x01"
    assert msg.get_group(453, 448, [452, 802, 523, 803]) == [
        {448: "B1", 452: "1", 802: "1", 523: "S1", 803: "4"}]


def test_malformed_groups_raise_fixgate_error():
    msg = fixgate.FixMessage("D")
    with pytest.raises(fixgate.FixgateError, match="starts with tag 447"):
        msg.add_group(453, [[(448, "A")], [(447, "D")]])
    with pytest.raises(fixgate.FixgateError, match="empty"):
        msg.add_group(453, [[]])
    with pytest.raises(fixgate.FixgateError):
        msg.add_group(453, [[(448, "a\x01b")]])
    with pytest.raises(fixgate.FixgateError, match="NumInGroup"):
        msg.add_group(35, [[(448, "A")]])
    # A count that does not match the entries: the core's reason.
    msg.set(453, 3)
    msg.set(448, "ONLY")
    with pytest.raises(fixgate.FixgateError, match="group 453 declares 3 entries, found 1"):
        msg.get_group(453, 448, [447, 452])
    msg.set(453, "x")
    with pytest.raises(fixgate.FixgateError, match="incorrect data format"):
        msg.get_group(453, 448, [447])
    built = fixgate.FixMessage("D")
    built.add_group(453, PARTIES)
    with pytest.raises(fixgate.FixgateError, match="add_group"):
        built.set(453, 5)


class GroupReader:
    """Reads the parties of each NewOrderSingle inside the callback, and echoes them in an
    ExecutionReport (a group through put())."""

    def __init__(self):
        self.parties = None
        self.copied = None
        self.received = threading.Event()

    def on_new_message(self, session, msg):
        if msg.msg_type != "D":
            return
        self.parties = msg.get_group(453, 448, [447, 452])
        self.copied = msg.copy()
        report = fixgate.FixMessage("8")
        for tag, value in [(37, "O1"), (11, msg.get(11)), (17, "E1"), (150, "0"), (39, "0"),
                           (55, msg.get(55)), (54, msg.get(54)), (151, msg.get(38)),
                           (14, 0), (6, 0)]:
            report.set(tag, value)
        report.add_group(453, [[(448, p[448]), (447, p[447]), (452, p[452])]
                               for p in self.parties])
        session.put(report)
        self.received.set()


def test_a_listener_reads_the_group_of_an_order_from_the_wire(engine):
    reader = GroupReader()
    ssn = registered_acceptor(engine, "RAWGRP", reader)
    peer = RawCounterparty(engine.listen_port, "RAWGRP", "PYACC", WITHIN)
    try:
        assert peer.logon() is not None
        peer.send("D", [(11, "ORD-7"), (453, 2), (448, "BROKER1"), (447, "D"), (452, 1),
                        (448, "CLIENT7"), (447, "D"), (452, 3), (55, "EUR/USD"), (54, 1),
                        (60, "20260101-00:00:00.000"), (38, 100), (40, 1)])
        assert reader.received.wait(WITHIN)
        assert reader.parties == [{448: "BROKER1", 447: "D", 452: "1"},
                                  {448: "CLIENT7", 447: "D", 452: "3"}]
        # The copy outlives the callback, with its group.
        assert reader.copied.get_group(453, 448, [447, 452]) == reader.parties
        report = peer.receive_type("8")
        assert report is not None and report[11] == "ORD-7" and report[453] == "2"
        assert (b"\x01453=2\x01448=BROKER1\x01447=D\x01452=1\x01448=CLIENT7\x01447=D\x01452=3\x01"
                in peer.last)
        assert peer.logout() is not None
    finally:
        peer.close()
    ssn.finalize()
