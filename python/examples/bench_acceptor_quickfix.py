#!/usr/bin/env python3
"""Benchmark acceptor on QuickFIX's Python binding (pip install quickfix-ssl==1.15.1.post4),
the baseline of scripts/bench-python.sh: the same Python work as bench_acceptor.py.

usage: bench_acceptor_quickfix.py --port P [--sender ACC] [--target INI]

fromApp reads 11, 55, 54, 38 and builds the ExecutionReport field by field (OrderID, ExecID,
ExecType, OrdStatus, the four read fields, LeavesQty, CumQty, AvgPx), then sendToTarget.
SocketAcceptor: one thread runs the connections and fromApp (the binding has no
ThreadedSocketAcceptor). Memory store, ResetOnLogon, no data dictionary, SocketNodelay.
Prints "listening on P"; runs until SIGTERM/SIGINT. QuickFIX 1.15 binds 0.0.0.0:P.
"""
import argparse
import signal
import threading

import quickfix as fix


class App(fix.Application):
    def __init__(self):
        super().__init__()
        self.n = 0

    def onCreate(self, sid): pass
    def onLogon(self, sid): pass
    def onLogout(self, sid): pass
    def toAdmin(self, msg, sid): pass
    def fromAdmin(self, msg, sid): pass
    def toApp(self, msg, sid): pass

    def fromApp(self, msg, sid):
        if msg.getHeader().getField(35) != "D":
            return
        self.n += 1
        n = str(self.n)
        cl_ord_id = msg.getField(11)
        symbol = msg.getField(55)
        side = msg.getField(54)
        qty = msg.getField(38)
        report = fix.Message()
        report.getHeader().setField(fix.MsgType("8"))
        report.setField(fix.OrderID("O" + n))
        report.setField(fix.ExecID("E" + n))
        report.setField(fix.ExecType("0"))
        report.setField(fix.OrdStatus("0"))
        report.setField(fix.ClOrdID(cl_ord_id))
        report.setField(fix.Symbol(symbol))
        report.setField(fix.Side(side))
        report.setField(fix.StringField(38, qty))  # OrderQty, as read
        report.setField(fix.StringField(151, qty))  # LeavesQty
        report.setField(fix.StringField(14, "0"))  # CumQty
        report.setField(fix.StringField(6, "0"))  # AvgPx
        fix.Session.sendToTarget(report, sid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sender", default="ACC")
    ap.add_argument("--target", default="INI")
    a = ap.parse_args()
    settings = fix.SessionSettings()
    d = fix.Dictionary()
    for k, v in [("ConnectionType", "acceptor"), ("StartTime", "00:00:00"),
                 ("EndTime", "00:00:00"), ("SocketAcceptPort", str(a.port)),
                 ("UseDataDictionary", "N"), ("ResetOnLogon", "Y"), ("ResetOnLogout", "Y"),
                 ("ResetOnDisconnect", "Y"), ("SocketNodelay", "Y"), ("CheckLatency", "N")]:
        d.setString(k, v)
    settings.set(fix.SessionID("FIX.4.4", a.sender, a.target), d)
    app = App()
    acceptor = fix.SocketAcceptor(app, fix.MemoryStoreFactory(), settings)
    acceptor.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("listening on", a.port, flush=True)
    while not stop.wait(1):
        pass
    acceptor.stop()


if __name__ == "__main__":
    main()
