//! The applications the binary can run behind its acceptor. They run on the engine task
//! ([`fixgate_tokio::Application`]): no hop between tasks per message, and the executor
//! allocates nothing per order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use fixgate_core::codec::{FieldWriter, HeaderField, Message, Value};
use fixgate_core::dictionary::{Dictionary, write_canonical_body};
use fixgate_core::{Delivered, DisconnectReason, Event, OutboundMessage, SessionId, tag};
use fixgate_tokio::{Application, Context};

use crate::message_logs::MessageLogs;

/// What to do with each delivered application message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum App {
    /// Fill every NewOrderSingle with an ExecutionReport; acknowledge anything else.
    Executor,
    /// Send every application message back as a new message, as the QuickFIX acceptance suite's
    /// server does: the counterparty's own header fields kept, the body in canonical order
    /// (groups in dictionary order), and a PossResend order whose ClOrdID was already echoed on
    /// this logon dropped.
    Echo,
    /// Acknowledge every application message; the message log records it.
    Log,
}

/// The header fields the session writes itself; an echo does not copy them.
const SESSION_OWNED: [u32; 10] = [8, 9, 35, 34, 49, 56, 52, 43, 122, 10];

/// The application, with the executor's counter and a buffer reused for every answer.
pub struct Responder {
    app: App,
    /// The executor reports New (150=0) before each fill.
    report_new: bool,
    executions: u64,
    body: FieldWriter,
    logs: Option<MessageLogs>,
    /// The sessions' data dictionaries, which give the echo its groups' order.
    dictionaries: HashMap<SessionId, Arc<Dictionary>>,
    /// The dictionary of sessions created from an unregistered Logon.
    default_dictionary: Option<Arc<Dictionary>>,
    /// The ClOrdIDs the echo has sent back on each session since its Logon.
    echoed: HashMap<SessionId, HashSet<Vec<u8>>>,
}

impl Responder {
    /// `app`, with the executor's `--report-new` and the message log, when there is one.
    pub fn new(app: App, report_new: bool, logs: Option<MessageLogs>) -> Self {
        Self {
            app,
            report_new,
            executions: 0,
            body: FieldWriter::new(),
            logs,
            dictionaries: HashMap::new(),
            default_dictionary: None,
            echoed: HashMap::new(),
        }
    }

    /// Gives the echo the sessions' dictionaries (`default` for sessions created from an
    /// unregistered Logon).
    #[must_use]
    pub fn with_dictionaries(
        mut self,
        dictionaries: HashMap<SessionId, Arc<Dictionary>>,
        default: Option<Arc<Dictionary>>,
    ) -> Self {
        self.dictionaries = dictionaries;
        self.default_dictionary = default;
        self
    }

    /// Answers `delivered`, settling it.
    fn respond(
        &mut self,
        ctx: &mut Context<'_>,
        session: &SessionId,
        delivered: &Delivered,
    ) -> Result<(), fixgate_core::EngineError> {
        let msg = delivered.message();
        match self.app {
            App::Echo => {
                if msg.msg_type() == b"D" {
                    let cl_ord_id = msg.get(tag::CL_ORD_ID).unwrap_or_default().to_vec();
                    let ids = self.echoed.entry(session.clone()).or_default();
                    if !ids.insert(cl_ord_id) && delivered.is_poss_resend() {
                        return ctx.ack(session, delivered);
                    }
                }
                self.body.clear();
                let dictionary = self
                    .dictionaries
                    .get(session)
                    .or(self.default_dictionary.as_ref());
                write_canonical_body(msg, dictionary.map(Arc::as_ref), &mut self.body);
                let header: Vec<HeaderField<'_>> = msg
                    .fields()
                    .iter()
                    .filter_map(|f| f.tag().map(|t| (t, f.value())))
                    .filter(|&(t, _)| tag::is_header(t) && !SESSION_OWNED.contains(&t))
                    .map(|(t, value)| HeaderField::new(t, Value::Text(value)))
                    .collect();
                let out = OutboundMessage::new(msg.msg_type(), &self.body).with_header(&header);
                ctx.reply_message(session, delivered, out)
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
            App::Executor | App::Log => ctx.ack(session, delivered),
        }
    }
}

impl Application for Responder {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: &Delivered) {
        if let Err(error) = self.respond(ctx, session, delivered) {
            let _span = tracing::info_span!("session", id = %session).entered();
            tracing::warn!(%error, "answering a message failed");
        }
    }

    fn on_event(&mut self, _: &mut Context<'_>, session: &SessionId, event: Event) {
        match event {
            Event::LoggedOn { .. } => {
                // A new Logon starts a new conversation: the last one's ClOrdIDs are forgotten.
                self.echoed.remove(session);
                let _span = tracing::info_span!("session", id = %session).entered();
                tracing::info!(?event);
            }
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
fn report<'a>(order: &'a Message, execution: u64, kind: Execution, body: &mut FieldWriter) {
    // One pass over the order for the five fields the report echoes (the first of each counts),
    // rather than a search per field.
    let [mut cl_ord_id, mut symbol, mut side, mut qty, mut price] = [None; 5];
    for field in order.fields().iter() {
        let slot = match field.tag() {
            Some(tag::CL_ORD_ID) => &mut cl_ord_id,
            Some(tag::SYMBOL) => &mut symbol,
            Some(54) => &mut side,
            Some(tag::ORDER_QTY) => &mut qty,
            Some(44) => &mut price,
            _ => continue,
        };
        slot.get_or_insert(field.value());
    }
    let text = |value: Option<&'a [u8]>| value.unwrap_or_default();
    let price = price.unwrap_or(b"0");
    let qty = qty.unwrap_or(b"0");
    let (exec_type, status, filled, leaves, exec_id): (u8, u8, &[u8], &[u8], u64) = match kind {
        Execution::New => (b'0', b'0', b"0", qty, execution * 2 - 1),
        Execution::Fill => (b'F', b'2', qty, b"0", execution * 2),
    };
    body.uint(37, execution)
        .bytes(tag::CL_ORD_ID, text(cl_ord_id))
        .uint(17, exec_id)
        .char(150, exec_type)
        .char(39, status)
        .bytes(tag::SYMBOL, text(symbol))
        .bytes(54, text(side))
        .bytes(tag::ORDER_QTY, qty);
    if kind == Execution::Fill {
        body.bytes(32, qty).bytes(31, price);
    }
    body.bytes(151, leaves)
        .bytes(14, filled)
        .bytes(6, if kind == Execution::Fill { price } else { b"0" });
}
