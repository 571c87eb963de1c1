//! The applications the binary can run behind its acceptor.

use bytes::Bytes;
use fixgate_core::codec::{FieldWriter, Message};
use fixgate_core::{Delivered, tag};

/// What to do with each delivered application message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum App {
    /// Fill every NewOrderSingle with an ExecutionReport; acknowledge anything else.
    Executor,
    /// Send every application message back as it came.
    Echo,
    /// Acknowledge every application message; the message log records it.
    Log,
}

/// A message to send: its MsgType and body.
pub(crate) type Outgoing = (Bytes, Bytes);

/// How the application answers one delivered message.
#[derive(Debug, Default)]
pub(crate) struct Response {
    /// Sent first, without settling the message (the executor's New report).
    pub(crate) first: Option<Outgoing>,
    /// The reply that settles it; `None` acknowledges it without one.
    pub(crate) reply: Option<Outgoing>,
}

/// The application's state: which one it is, and the executor's counter.
#[derive(Debug)]
pub(crate) struct Responder {
    app: App,
    /// The executor reports New (150=0) before each fill.
    report_new: bool,
    executions: u64,
}

impl Responder {
    pub(crate) fn new(app: App, report_new: bool) -> Self {
        Self {
            app,
            report_new,
            executions: 0,
        }
    }

    /// The answer to `delivered`.
    pub(crate) fn respond(&mut self, delivered: &Delivered) -> Response {
        let msg = delivered.message();
        match self.app {
            App::Echo => Response {
                first: None,
                reply: Some((msg.as_bytes().slice_ref(msg.msg_type()), body_of(msg))),
            },
            App::Executor if msg.msg_type() == b"D" => {
                self.executions += 1;
                let report = |kind| (Bytes::from_static(b"8"), report(msg, self.executions, kind));
                Response {
                    first: self.report_new.then(|| report(Execution::New)),
                    reply: Some(report(Execution::Fill)),
                }
            }
            App::Executor | App::Log => Response::default(),
        }
    }
}

/// The body fields of `msg`, in wire order: everything that is neither header nor trailer.
fn body_of(msg: &Message) -> Bytes {
    let mut body = FieldWriter::new();
    for field in msg.fields().iter() {
        match field.tag() {
            Some(t) if !tag::is_header(t) && !tag::is_trailer(t) => {
                body.bytes(t, field.value());
            }
            _ => {}
        }
    }
    body.split()
}

/// The kinds of ExecutionReport the executor sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Execution {
    /// The order is accepted: ExecType and OrdStatus New.
    New,
    /// The order is filled completely at its price (or 0 for a market order).
    Fill,
}

/// An ExecutionReport for `order` (FIX 4.4 fields).
fn report(order: &Message, execution: u64, kind: Execution) -> Bytes {
    let text = |t| order.get(t).unwrap_or_default();
    let price = order.get(44).unwrap_or(b"0");
    let qty = order.get(tag::ORDER_QTY).unwrap_or(b"0");
    let (exec_type, filled, leaves, exec_id): (u8, &[u8], &[u8], _) = match kind {
        Execution::New => (b'0', b"0", qty, format!("EXEC-{execution}-N")),
        Execution::Fill => (b'F', qty, b"0", format!("EXEC-{execution}")),
    };
    let status = if kind == Execution::New { b'0' } else { b'2' };
    let mut body = FieldWriter::new();
    body.bytes(37, format!("ORD-{execution}").as_bytes())
        .bytes(tag::CL_ORD_ID, text(tag::CL_ORD_ID))
        .bytes(17, exec_id.as_bytes())
        .char(150, exec_type)
        .char(39, status)
        .bytes(tag::SYMBOL, text(tag::SYMBOL))
        .bytes(54, text(54))
        .bytes(tag::ORDER_QTY, qty);
    if kind == Execution::Fill {
        body.bytes(32, qty).bytes(31, price);
    }
    body.bytes(151, leaves)
        .bytes(14, filled)
        .bytes(6, if kind == Execution::Fill { price } else { b"0" });
    body.split()
}
