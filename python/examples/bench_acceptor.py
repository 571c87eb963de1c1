#!/usr/bin/env python3
"""Benchmark acceptor on fixgate (scripts/bench-python.sh): answers each NewOrderSingle with an
ExecutionReport built field by field in Python, the same work as bench_acceptor_quickfix.py.

usage: bench_acceptor.py --port P [--sender ACC] [--target INI] [--mode exec|min]

--mode exec (default): reads 11, 55, 54, 38 and sets them and OrderID, ExecID, ExecType,
  OrdStatus, LeavesQty, CumQty, AvgPx one field at a time, then put() (the reply).
--mode min: the least Python can do and still answer: copy() a prebuilt ExecutionReport, set
  ClOrdID, put(); it measures the cost of crossing into Python.
Prints "listening on P" once the engine listens; runs until SIGTERM/SIGINT.
"""
import argparse
import signal
import threading

import fixgate


class Executor:
    def __init__(self):
        self.n = 0

    def on_new_message(self, session, msg):
        if msg.msg_type != "D":
            return
        self.n += 1
        n = str(self.n)
        cl_ord_id = msg.get(11)
        symbol = msg.get(55)
        side = msg.get(54)
        qty = msg.get(38)
        report = fixgate.FixMessage("8")
        report.set(37, "O" + n)  # OrderID
        report.set(17, "E" + n)  # ExecID
        report.set(150, "0")  # ExecType: new
        report.set(39, "0")  # OrdStatus: new
        report.set(11, cl_ord_id)
        report.set(55, symbol)
        report.set(54, side)
        report.set(38, qty)
        report.set(151, qty)  # LeavesQty
        report.set(14, "0")  # CumQty
        report.set(6, "0")  # AvgPx
        session.put(report)


class Minimal:
    def __init__(self):
        self.template = fixgate.FixMessage("8")
        for tag, value in [(37, "O"), (17, "E"), (150, "0"), (39, "0"), (55, "X"), (54, "1"),
                           (38, "1"), (151, "1"), (14, "0"), (6, "0")]:
            self.template.set(tag, value)

    def on_new_message(self, session, msg):
        report = self.template.copy()
        report.set(11, msg.get(11))
        session.put(report)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sender", default="ACC")
    ap.add_argument("--target", default="INI")
    ap.add_argument("--mode", choices=["exec", "min"], default="exec")
    a = ap.parse_args()
    engine = fixgate.FixEngine({"ListenAddress": "127.0.0.1", "ListenPort": a.port})
    ssn = engine.create_session(fixgate.SessionId(a.sender, a.target), "FIX44", fixgate.FIXVersion.FIX44)
    ssn.set_listener(Executor() if a.mode == "exec" else Minimal())
    ssn.connect()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("listening on", engine.listen_port, flush=True)
    while not stop.wait(1):
        pass
    ssn.finalize()
    engine.stop()


if __name__ == "__main__":
    main()
