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


# NoPartyIDs(453) entries, each with its NoPartySubIDs(802): PartySubID(523), PartySubIDType(803).
PARTY_TAGS = [447, 452, 802, 523, 803]


def nested_parties():
    """Two parties built with GroupEntry.add_group: the first with two sub-IDs, the second
    with one."""
    broker = fixgate.GroupEntry([(448, "BROKER1"), (447, "D"), (452, 1)])
    broker.add_group(802, [[(523, "DESK-A"), (803, 4)], {523: "TRADER-9", 803: 10}])
    client = fixgate.GroupEntry({448: "CLIENT7", 447: "D", 452: 3})
    client.add_group(802, [fixgate.GroupEntry([(523, "ACC-1"), (803, 26)])])
    return [broker, client]


NESTED_WIRE = (b"\x01453=2\x01448=BROKER1\x01447=D\x01452=1\x01802=2\x01523=DESK-A\x01803=4\x01"
               b"523=TRADER-9\x01803=10\x01448=CLIENT7\x01447=D\x01452=3\x01802=1\x01523=ACC-1\x01"
               b"803=26\x01")


def test_nested_groups_are_built_on_entries_and_read_from_them():
    msg = fixgate.FixMessage("8")
    msg.set(37, "O1")
    msg.add_group(453, nested_parties())
    msg.set(55, "EUR/USD")
    assert msg.raw == b"35=8\x0137=O1" + NESTED_WIRE + b"55=EUR/USD\x01"
    parties = msg.get_group(453, 448, PARTY_TAGS)
    assert [party[448] for party in parties] == ["BROKER1", "CLIENT7"]
    # Each entry reads its own nested group, not its neighbour's and not flattened.
    assert parties[0].get_group(802, 523, [803]) == [{523: "DESK-A", 803: "4"},
                                                     {523: "TRADER-9", 803: "10"}]
    assert parties[1].get_group(802, 523, [803]) == [{523: "ACC-1", 803: "26"}]
    assert parties[0].raw.startswith(b"448=BROKER1\x01") and b"CLIENT7" not in parties[0].raw
    # An entry being built reads its nested group too; a count that does not match raises.
    assert nested_parties()[0].get_group(802, 523, [803])[1] == {523: "TRADER-9", 803: "10"}
    with pytest.raises(fixgate.FixgateError, match="group 802 declares 2 entries, found 1"):
        parties[0].get_group(802, 523, [])
    # add_group on an entry checks the entries at once; an empty list removes the group.
    with pytest.raises(fixgate.FixgateError, match="starts with tag 803"):
        fixgate.GroupEntry([(448, "X")]).add_group(802, [[(523, "A")], [(803, 4)]])
    entry = nested_parties()[1]
    entry.add_group(802, [])
    assert entry == {448: "CLIENT7", 447: "D", 452: 3}
    assert entry.get_group(802, 523, [803]) == []


class NestedReader:
    """Reads the parties and their sub-IDs of each NewOrderSingle inside the callback, and
    answers with an ExecutionReport that carries them, nested groups built on entries."""

    def __init__(self):
        self.parties = None
        self.received = threading.Event()

    def on_new_message(self, session, msg):
        if msg.msg_type != "D":
            return
        parties = msg.get_group(453, 448, PARTY_TAGS)
        self.parties = [(p[448], p.get_group(802, 523, [803])) for p in parties]
        report = fixgate.FixMessage("8")
        for tag, value in [(37, "O1"), (11, msg.get(11)), (17, "E1"), (150, "0"), (39, "0"),
                           (55, msg.get(55)), (54, msg.get(54)), (151, msg.get(38)),
                           (14, 0), (6, 0)]:
            report.set(tag, value)
        entries = []
        for party in parties:
            entry = fixgate.GroupEntry([(448, party[448]), (447, party[447]), (452, party[452])])
            entry.add_group(802, [[(523, sub[523]), (803, sub[803])]
                                  for sub in party.get_group(802, 523, [803])])
            entries.append(entry)
        report.add_group(453, entries)
        session.put(report)
        self.received.set()


def test_a_listener_reads_and_answers_nested_groups_from_the_wire(engine):
    reader = NestedReader()
    ssn = registered_acceptor(engine, "RAWNEST", reader)
    peer = RawCounterparty(engine.listen_port, "RAWNEST", "PYACC", WITHIN)
    try:
        assert peer.logon() is not None
        peer.send("D", [(11, "ORD-8"), (453, 2), (448, "BROKER1"), (447, "D"), (452, 1),
                        (802, 2), (523, "DESK-A"), (803, 4), (523, "TRADER-9"), (803, 10),
                        (448, "CLIENT7"), (447, "D"), (452, 3), (802, 1), (523, "ACC-1"),
                        (803, 26), (55, "EUR/USD"), (54, 1), (60, "20260101-00:00:00.000"),
                        (38, 100), (40, 1)])
        assert reader.received.wait(WITHIN)
        assert reader.parties == [
            ("BROKER1", [{523: "DESK-A", 803: "4"}, {523: "TRADER-9", 803: "10"}]),
            ("CLIENT7", [{523: "ACC-1", 803: "26"}]),
        ]
        report = peer.receive_type("8")
        assert report is not None and report[11] == "ORD-8"
        assert NESTED_WIRE in peer.last
        assert peer.logout() is not None
    finally:
        peer.close()
    ssn.finalize()
