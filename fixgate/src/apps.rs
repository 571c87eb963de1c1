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
    /// Print every application message and acknowledge it.
    Log,
}

/// The answer to a delivered message, if any: its MsgType and body.
pub(crate) fn answer(
    app: App,
    delivered: &Delivered,
    executions: &mut u64,
) -> Option<(Bytes, Bytes)> {
    let msg = delivered.message();
    match app {
        App::Echo => Some((msg.as_bytes().slice_ref(msg.msg_type()), body_of(msg))),
        App::Executor if msg.msg_type() == b"D" => {
            *executions += 1;
            Some((Bytes::from_static(b"8"), fill(msg, *executions)))
        }
        App::Executor => None,
        App::Log => {
            let text = String::from_utf8_lossy(msg.as_bytes()).replace('\x01', "|");
            println!("{text}");
            None
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

/// An ExecutionReport that fills `order` completely at its price (or 0 for a market order).
fn fill(order: &Message, execution: u64) -> Bytes {
    let text = |t| order.get(t).unwrap_or_default();
    let price = order.get(44).unwrap_or(b"0");
    let qty = order.get(tag::ORDER_QTY).unwrap_or(b"0");
    let mut body = FieldWriter::new();
    body.bytes(37, format!("ORD-{execution}").as_bytes())
        .bytes(tag::CL_ORD_ID, text(tag::CL_ORD_ID))
        .bytes(17, format!("EXEC-{execution}").as_bytes())
        .char(150, b'F')
        .char(39, b'2')
        .bytes(tag::SYMBOL, text(tag::SYMBOL))
        .bytes(54, text(54))
        .bytes(tag::ORDER_QTY, qty)
        .bytes(32, qty)
        .bytes(31, price)
        .uint(151, 0)
        .bytes(14, qty)
        .bytes(6, price);
    body.split()
}
