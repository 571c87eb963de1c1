//! The application behind the AT acceptor (shared README, section 4.2): echo Email (C),
//! NewOrderSingle (D) and SecurityDefinition (d), dropping a PossResend order whose ClOrdID was
//! already echoed on the session. Unsupported types never reach it: the sessions'
//! `SupportedMsgTypes` makes the core answer them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use fixgate_core::codec::{FieldWriter, HeaderField, Message, Value};
use fixgate_core::dictionary::{Dictionary, write_canonical_body};
use fixgate_core::{Delivered, Event, Now, OutboundMessage, SessionId, tag};
use fixgate_tokio::{AppEvent, FixEngine};
use tokio::sync::mpsc::UnboundedReceiver;

/// The header fields the session writes itself; an echo does not copy them.
const SESSION_OWNED: [u32; 10] = [8, 9, 35, 34, 49, 56, 52, 43, 122, 10];

/// Each session's data dictionary, which gives the echo its groups' order.
pub(crate) type SessionDictionaries = HashMap<SessionId, Option<Arc<Dictionary>>>;

/// Serves `events` until the engine stops.
pub(crate) async fn serve(
    engine: FixEngine,
    mut events: UnboundedReceiver<AppEvent>,
    dictionaries: SessionDictionaries,
) {
    let mut seen: HashMap<SessionId, HashSet<Vec<u8>>> = HashMap::new();
    while let Some(event) = events.recv().await {
        match event {
            AppEvent::Event {
                session,
                event: Event::LoggedOn { .. },
            } => {
                // A new Logon starts a new conversation: the ClOrdIDs of the last one are gone.
                seen.remove(&session);
            }
            AppEvent::Deliver { session, delivered } => {
                let msg = delivered.message();
                let drop = msg.msg_type() == b"D" && {
                    let ids = seen.entry(session.clone()).or_default();
                    let cl_ord_id = msg.get(tag::CL_ORD_ID).unwrap_or_default().to_vec();
                    !ids.insert(cl_ord_id) && delivered.is_poss_resend()
                };
                // An answer to a message of an old sequence (the counterparty logged on again with a
                // reset meanwhile) is refused by the session: StaleDelivery, which is fine here.
                let result = if drop {
                    engine.ack(session, delivered).await
                } else {
                    let dictionary = dictionaries.get(&session).cloned().flatten();
                    engine
                        .with_engine(move |engine| {
                            // A stale delivery (see above) is not answered; nothing else fails here.
                            let _ = echo(engine, &session, &delivered, dictionary.as_deref());
                        })
                        .await
                };
                if let Err(fixgate_tokio::Error::Stopped) = result {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Sends `delivered` back as a new message: its header fields other than the session's own,
/// and its body in canonical order (ascending tags, groups in dictionary order).
fn echo(
    engine: &mut fixgate_core::Engine,
    session: &SessionId,
    delivered: &Delivered,
    dictionary: Option<&Dictionary>,
) -> Result<(), fixgate_core::EngineError> {
    let msg: &Message = delivered.message();
    let mut header = Vec::new();
    for field in msg.fields().iter() {
        let Some(t) = field.tag() else { continue };
        if tag::is_header(t) && !SESSION_OWNED.contains(&t) {
            header.push(HeaderField::new(t, Value::Text(field.value())));
        }
    }
    let mut body = FieldWriter::new();
    write_canonical_body(msg, dictionary, &mut body);
    let now = Now {
        mono: Instant::now(),
        utc: SystemTime::now(),
    };
    let out = OutboundMessage::new(msg.msg_type(), &body).with_header(&header);
    engine.reply(now, session, delivered, out).map(drop)
}
