"""FIX Antenna's acceptor example, with `import fixgate as v12` as the only change.

The session is registered as an acceptor and nobody logs on: put() stores the order for the
next Logon, then the session is disconnected, its numbers reset, and it is finalized.
"""

import fixgate as v12

engine = v12.FixEngine()
ssn = engine.create_session(v12.SessionId("TEST1", "TEST2"), "FIX44", v12.FIXVersion.FIX44)
ssn.connect()  # register as acceptor

msg = v12.FixMessage("D")  # NewOrderSingle
msg.set(11, "ORDER-1")  # ClOrdID
msg.set(21, "1")  # HandlInst
msg.set(55, "EUR/USD")  # Symbol
msg.set(54, "1")  # Side: buy
msg.set(60, "20240101-00:00:00")  # TransactTime
msg.set(38, 1000)  # OrderQty
msg.set(40, "1")  # OrdType: market
ssn.put(msg)
print("stored as MsgSeqNum", ssn.next_sender_seq_num - 1, "state", ssn.state)

ssn.disconnect()
ssn.reset_seq_num_local()
ssn.finalize()  # exactly once
engine.stop()
print("done")
