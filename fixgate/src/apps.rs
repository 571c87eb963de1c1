//! The applications the binary can run behind its acceptor. They run on the engine task
//! ([`fixgate_tokio::Application`]): no hop between tasks per message, no allocation per order.

use fixgate_core::codec::{FieldWriter, Message};
use fixgate_core::{Delivered, DisconnectReason, Event, SessionId, tag};
use fixgate_tokio::{Application, Context};

use crate::message_logs::MessageLogs;

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

/// The application, with the executor's counter and a buffer reused for every answer.
pub(crate) struct Responder {
    app: App,
    /// The executor reports New (150=0) before each fill.
    report_new: bool,
    executions: u64,
    body: FieldWriter,
    logs: Option<MessageLogs>,
}

impl Responder {
    pub(crate) fn new(app: App, report_new: bool, logs: Option<MessageLogs>) -> Self {
        Self {
            app,
            report_new,
            executions: 0,
            body: FieldWriter::new(),
            logs,
        }
    }

    /// Answers `delivered`, settling it.
    fn respond(
        &mut self,
        ctx: &mut Context<'_>,
        session: &SessionId,
        delivered: Delivered,
    ) -> Result<(), fixgate_core::EngineError> {
        let msg = delivered.message();
        match self.app {
            App::Echo => {
                self.body.clear();
                body_of(msg, &mut self.body);
                let msg_type = msg.as_bytes().slice_ref(msg.msg_type());
                ctx.reply(session, delivered, &msg_type, self.body.as_bytes())
            }
            App::Executor if msg.msg_type() == b"D" => {
                self.executions += 1;
                if self.report_new {
                    self.body.clear();
                    report(msg, self.executions, Execution::New, &mut self.body);
                    ctx.put(session, b"8", self.body.as_bytes())?;
                }
                self.body.clear();
                report(msg, self.executions, Execution::Fill, &mut self.body);
                ctx.reply(session, delivered, b"8", self.body.as_bytes())
            }
            App::Executor | App::Log => ctx.ack(session, &delivered),
        }
    }
}

impl Application for Responder {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: Delivered) {
        if let Err(error) = self.respond(ctx, session, delivered) {
            let _span = tracing::info_span!("session", id = %session).entered();
            tracing::warn!(%error, "answering a message failed");
        }
    }

    fn on_event(&mut self, _: &mut Context<'_>, session: &SessionId, event: Event) {
        match event {
            Event::Message { inbound, frame } => {
                if let Some(logs) = &self.logs {
                    logs.record(session.clone(), inbound, frame);
                }
            }
            event => {
                let _span = tracing::info_span!("session", id = %session).entered();
                tracing::info!(?event);
            }
        }
    }

    fn on_disconnected(
        &mut self,
        _: &mut Context<'_>,
        session: &SessionId,
        reason: DisconnectReason,
    ) {
        let _span = tracing::info_span!("session", id = %session).entered();
        tracing::info!(?reason, "disconnected");
    }
}

/// Writes the body fields of `msg` to `body`, in wire order: everything that is neither header
/// nor trailer.
fn body_of(msg: &Message, body: &mut FieldWriter) {
    for field in msg.fields().iter() {
        match field.tag() {
            Some(t) if !tag::is_header(t) && !tag::is_trailer(t) => {
                body.bytes(t, field.value());
            }
            _ => {}
        }
    }
}

/// The kinds of ExecutionReport the executor sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Execution {
    /// The order is accepted: ExecType and OrdStatus New.
    New,
    /// The order is filled completely at its price (or 0 for a market order).
    Fill,
}

/// Writes an ExecutionReport for `order` (FIX 4.4 fields) to `body`. OrderID is the order's
/// number; ExecID is unique per report (odd for New, even for fills).
fn report(order: &Message, execution: u64, kind: Execution, body: &mut FieldWriter) {
    let text = |t| order.get(t).unwrap_or_default();
    let price = order.get(44).unwrap_or(b"0");
    let qty = order.get(tag::ORDER_QTY).unwrap_or(b"0");
    let (exec_type, status, filled, leaves, exec_id): (u8, u8, &[u8], &[u8], u64) = match kind {
        Execution::New => (b'0', b'0', b"0", qty, execution * 2 - 1),
        Execution::Fill => (b'F', b'2', qty, b"0", execution * 2),
    };
    body.uint(37, execution)
        .bytes(tag::CL_ORD_ID, text(tag::CL_ORD_ID))
        .uint(17, exec_id)
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
}
