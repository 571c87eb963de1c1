"""A Python acceptor in a process of its own, for the tests that need another engine
configuration than the test process's (one FixEngine per process) or that kill it.

`python acceptor_proc.py CONFIG_JSON`, where the JSON object has:
- "properties": the FixEngine's properties (a dict);
- "sessions": [[sender, target], ...] to create, each with an executor, and connect();
- "raise_on": ClOrdIDs whose callback raises instead of replying;
- "manager": {"accept": [target CompIDs]} to set a sessions manager that accepts those;
- "flood": {"to": target, "size": bytes, "count": n}: after each order, the callback puts up
  to n News of that size on the session with that counterparty, until BackpressureError.

It prints one line per event, flushed: "listening PORT" once started, "created SESSION",
"asked TARGET", "state TARGET STATE", "seq TARGET NEXT_SENDER NEXT_TARGET" after connect(),
"order TARGET CLORDID" for each order whose callback replied, "raised TARGET CLORDID",
"backpressure TARGET PUTS" or "flooded TARGET PUTS". It stops (logging its sessions out) when its stdin closes.
"""

import json
import sys

import fixgate


def say(*words):
    print(*words, flush=True)


class Executor:
    """Answers each NewOrderSingle with an ExecutionReport echoing its ClOrdID."""

    def __init__(self, raise_on, flood):
        self.raise_on = set(raise_on)
        self.flood = flood
        self.sessions = {}  # by counterparty, for the flood

    def on_new_message(self, session, msg):
        target = session.id.target
        if msg.msg_type != "D":
            return
        cl_ord_id = msg.get(11)
        if cl_ord_id in self.raise_on:
            say("raised", target, cl_ord_id)
            raise RuntimeError("the application fails on " + cl_ord_id)
        report = fixgate.FixMessage("8")
        for tag, value in [(37, "O" + cl_ord_id), (17, "E" + cl_ord_id), (150, "0"), (39, "0"),
                           (55, msg.get(55) or "X"), (54, msg.get(54) or "1"),
                           (151, msg.get(38) or "1"), (14, 0), (6, 0), (11, cl_ord_id)]:
            report.set(tag, value)
        session.put(report)  # the reply: it settles the order
        say("order", target, cl_ord_id)
        if self.flood:
            self.put_until_full(self.sessions[self.flood["to"]])

    def put_until_full(self, session):
        text = "x" * self.flood["size"]
        target = session.id.target
        for puts in range(self.flood["count"]):
            news = fixgate.FixMessage("B")
            news.set(148, text)
            try:
                session.put(news)
            except fixgate.BackpressureError:
                say("backpressure", target, puts)
                return
        say("flooded", target, self.flood["count"])


class StateTeller:
    """An executor that also prints every state change."""

    def __init__(self, executor):
        self.executor = executor

    def on_new_message(self, session, msg):
        self.executor.on_new_message(session, msg)

    def on_session_state_change(self, session, state):
        say("state", session.id.target, state)


class Manager:
    """Accepts the unregistered sessions whose counterparty it knows, and gives each created
    session its executor."""

    def __init__(self, accept, listener):
        self.accept = set(accept)
        self.listener = listener
        self.sessions = []

    def on_unregistered_acceptor(self, session_id, logon):
        assert logon.msg_type == "A" and logon.get(98) is not None
        say("asked", session_id.target)
        return session_id.target in self.accept

    def on_session_created(self, session):
        self.sessions.append(session)  # keeps the handle
        session.set_listener(self.listener)
        say("created", session.id.target)


def main():
    config = json.loads(sys.argv[1])
    engine = fixgate.FixEngine(config["properties"])
    executor = Executor(config.get("raise_on", []), config.get("flood"))
    listener = StateTeller(executor)
    if "manager" in config:
        engine.set_sessions_manager(Manager(config["manager"]["accept"], listener))
    sessions = []
    for sender, target in config.get("sessions", []):
        ssn = engine.create_session(fixgate.SessionId(sender, target), "FIX44",
                                    fixgate.FIXVersion.FIX44)
        ssn.set_listener(listener)
        ssn.connect()
        say("seq", target, ssn.next_sender_seq_num, ssn.next_target_seq_num)
        sessions.append(ssn)
        executor.sessions[target] = ssn
    say("listening", engine.listen_port)
    sys.stdin.read()
    engine.stop()
    say("stopped")


if __name__ == "__main__":
    main()
