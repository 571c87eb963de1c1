//! The reject rule: every session-level Reject (35=3) and BusinessMessageReject (35=j) the
//! session builds.
//!
//! A message that is well framed but invalid (a required tag missing, a value of the wrong
//! format, a CompID or SendingTime problem) is answered with a Reject carrying `RefSeqNum <45>`,
//! and from FIX 4.2 on `RefTagID <371>`, `RefMsgType <372>` and `SessionRejectReason <373>`
//! (FIX test cases 2, 10, 11 and 14; 18 for the reverse route). Its number is consumed unless
//! the rule that calls for the Reject says otherwise (a SequenceReset moving backwards, a
//! ResendRequest outside the expected number). An application message the session does not
//! support, or that the application refuses, gets a BusinessMessageReject from FIX 4.2 on and a
//! session Reject with the text before. Both carry the refused message's routing fields,
//! reversed as QuickFIX does.

use smallvec::SmallVec;

use super::Session;
use crate::action::{DisconnectReason, Event};
use crate::codec::{HeaderField, Message, Value};
use crate::metrics::RejectKind;
use crate::msg_type::wire;
use crate::reject::SessionRejectReason;
use crate::store::StoreError;
use crate::version::BeginString;
use crate::{SeqNum, tag};

/// The text of a garbled message's Reject, QuickFIX/J's.
const GARBLED_TEXT: &str = "Message failed basic validity check";

/// What a session-level Reject refers to.
struct RejectRef<'a> {
    seq: SeqNum,
    msg_type: &'a [u8],
    /// `None` for a garbled message's Reject, which has only its text (as QuickFIX/J sends it).
    reason: Option<SessionRejectReason>,
    /// The tag at fault, as it was on the wire (`-1`, `0`, `55`…).
    tag: Option<&'a [u8]>,
    /// The rejected message's routing fields, reversed (see [`reverse_route`]).
    route: &'a [HeaderField<'a>],
}

/// A tag the session names, written as a Reject's `RefTagID <371>` carries it.
pub(super) fn ref_tag(tag: u32) -> Vec<u8> {
    tag.to_string().into_bytes()
}

/// The routing header fields of a message we answer, reversed as QuickFIX's `reverseRoute`
/// does: OnBehalfOfCompID/SubID <115>/<116> come back as DeliverToCompID/SubID <128>/<129> and
/// the other way round, and from FIX 4.1 on OnBehalfOfLocationID <144> and
/// DeliverToLocationID <145> too. Empty values are not copied.
fn reverse_route<'a>(
    begin_string: BeginString,
    msg: &'a Message,
) -> SmallVec<[HeaderField<'a>; 6]> {
    const PAIRS: [(u32, u32); 6] = [
        (tag::ON_BEHALF_OF_COMP_ID, tag::DELIVER_TO_COMP_ID),
        (tag::DELIVER_TO_COMP_ID, tag::ON_BEHALF_OF_COMP_ID),
        (tag::ON_BEHALF_OF_SUB_ID, tag::DELIVER_TO_SUB_ID),
        (tag::DELIVER_TO_SUB_ID, tag::ON_BEHALF_OF_SUB_ID),
        (tag::ON_BEHALF_OF_LOCATION_ID, tag::DELIVER_TO_LOCATION_ID),
        (tag::DELIVER_TO_LOCATION_ID, tag::ON_BEHALF_OF_LOCATION_ID),
    ];
    let pairs = if begin_string == BeginString::Fix40 {
        &PAIRS[..4]
    } else {
        &PAIRS[..]
    };
    pairs
        .iter()
        .filter_map(|&(from, to)| {
            msg.get(from)
                .filter(|value| !value.is_empty())
                .map(|value| HeaderField::new(to, Value::Text(value)))
        })
        .collect()
}

impl Session {
    /// A Reject from the counterparty (FIX test case 7): its number is consumed, and the
    /// application hears of it.
    pub(super) fn on_reject(&mut self, msg: &Message, seq: SeqNum) {
        self.take(seq, true);
        let reason = msg
            .uint(tag::SESSION_REJECT_REASON)
            .ok()
            .and_then(|r| u32::try_from(r).ok());
        self.counters
            .rejects_received
            .add(&RejectKind::from_code(reason));
        self.push_event(Event::RejectReceived {
            ref_seq: msg.seq_num(tag::REF_SEQ_NUM).ok(),
            reason,
            text: msg.get_bytes(tag::TEXT),
        });
    }

    /// Rejects message `seq`, which is consumed.
    pub(super) fn reject(
        &mut self,
        msg: &Message,
        seq: SeqNum,
        reason: SessionRejectReason,
        tag: Option<&[u8]>,
    ) {
        self.take(seq, true);
        self.reject_unconsumed(msg, seq, reason, tag);
    }

    /// Rejects message `seq` without consuming its number: the caller's rule decides about it.
    pub(super) fn reject_unconsumed(
        &mut self,
        msg: &Message,
        seq: SeqNum,
        reason: SessionRejectReason,
        tag: Option<&[u8]>,
    ) {
        let msg_type = msg.msg_type().to_vec();
        let route = reverse_route(self.config.begin_string, msg);
        self.send_reject(&RejectRef {
            seq,
            msg_type: &msg_type,
            reason: Some(reason),
            tag,
            route: &route,
        });
    }

    /// Rejects garbled message `seq` (`RejectGarbledMessage`), read without its totals checked.
    /// As QuickFIX/J does, the Reject has the text alone, and the number is consumed when it is
    /// the expected one, unless the message is a Logon or a SequenceReset.
    pub(super) fn reject_garbled(&mut self, msg: &Message, seq: SeqNum) {
        let consumed = seq == self.next_target
            && ![wire::LOGON, wire::SEQUENCE_RESET].contains(&msg.msg_type());
        if consumed {
            self.take(seq, true);
        }
        let msg_type = msg.msg_type().to_vec();
        let route = reverse_route(self.config.begin_string, msg);
        self.send_reject(&RejectRef {
            seq,
            msg_type: &msg_type,
            reason: None,
            tag: None,
            route: &route,
        });
        if consumed {
            // What waited behind the consumed number goes on.
            self.drain_queued();
        }
    }

    /// Rejects message `seq`, which is consumed, then logs out and closes.
    pub(super) fn reject_and_logout(
        &mut self,
        msg: &Message,
        seq: SeqNum,
        reason: SessionRejectReason,
        why: DisconnectReason,
    ) {
        self.reject(msg, seq, reason, None);
        // The Reject carries the reason; the Logout after it has no text (as QuickFIX sends it;
        // FIX test cases 2f, 2k, 2o).
        self.send_logout(None);
        self.close(why);
    }

    /// A session-level Reject. FIX 4.0 and 4.1 have no RefTagID, RefMsgType or
    /// SessionRejectReason: the tag goes into the text instead, as QuickFIX writes it. FIX 4.2
    /// defines SessionRejectReason values up to 11 (Invalid MsgType) only: a later reason is
    /// given by the text alone. It is counted by its reason (a garbled message's, which has
    /// none, as [`RejectKind::Unknown`]).
    fn send_reject(&mut self, reject: &RejectRef<'_>) {
        let kind = reject
            .reason
            .map_or(RejectKind::Unknown, RejectKind::Reason);
        self.counters.rejects_sent.add(&kind);
        let legacy = self.config.begin_string.is_before_fix42();
        let with_reason = reject.reason.filter(|reason| {
            self.config.begin_string != BeginString::Fix42
                || reason.code() <= SessionRejectReason::InvalidMsgType.code()
        });
        let text = reject
            .reason
            .map_or(GARBLED_TEXT, SessionRejectReason::text);
        self.send_admin_routed(wire::REJECT, reject.route, |body| {
            body.uint(tag::REF_SEQ_NUM, reject.seq.get());
            match (legacy, reject.tag) {
                (true, Some(tag)) => {
                    let mut with_tag = Vec::with_capacity(text.len() + tag.len() + 3);
                    with_tag.extend_from_slice(text.as_bytes());
                    with_tag.extend_from_slice(b" (");
                    with_tag.extend_from_slice(tag);
                    with_tag.push(b')');
                    body.bytes(tag::TEXT, &with_tag);
                }
                _ => {
                    body.str(tag::TEXT, text);
                }
            }
            if !legacy {
                if let Some(tag) = reject.tag {
                    body.bytes(tag::REF_TAG_ID, tag);
                }
                body.bytes(tag::REF_MSG_TYPE, reject.msg_type);
                if let Some(reason) = with_reason {
                    body.uint(tag::SESSION_REJECT_REASON, u64::from(reason.code()));
                }
            }
        });
        if let Some(reason) = reject.reason {
            self.push_event(Event::RejectSent {
                ref_seq: reject.seq,
                reason,
                tag: reject
                    .tag
                    .and_then(crate::codec::parse_uint)
                    .and_then(|t| u32::try_from(t).ok()),
            });
        }
    }

    /// Answers an application message of a type the session does not support: a
    /// BusinessMessageReject (380=3) from FIX 4.2 on, a session Reject before.
    pub(super) fn reject_unsupported(&mut self, msg: &Message, seq: SeqNum) {
        let text: &[u8] = if self.config.begin_string.is_before_fix42() {
            b"Unsupported message type"
        } else {
            b"Unsupported Message Type"
        };
        if let Err(error) = self.send_business_reject(msg, seq, 3, Some(text), None) {
            self.emit_store_failure(error);
        }
    }

    /// A BusinessMessageReject (FIX 4.2 and later) or, before FIX 4.2, a session Reject with the
    /// text: the way to refuse an application message (DESIGN.md section 7). Stored like any
    /// message; `answers` is the inbound number it settles. Like a session Reject it carries
    /// the refused message's reverse route.
    pub(super) fn send_business_reject(
        &mut self,
        refused: &Message,
        ref_seq: SeqNum,
        reason: u32,
        text: Option<&[u8]>,
        answers: Option<SeqNum>,
    ) -> Result<SeqNum, StoreError> {
        let ref_msg_type = refused.msg_type();
        let route = reverse_route(self.config.begin_string, refused);
        let legacy = self.config.begin_string.is_before_fix42();
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        body.uint(tag::REF_SEQ_NUM, ref_seq.get());
        if let Some(text) = text {
            body.bytes(tag::TEXT, text);
        }
        if !legacy {
            body.bytes(tag::REF_MSG_TYPE, ref_msg_type)
                .uint(tag::BUSINESS_REJECT_REASON, u64::from(reason));
            // FIXT: the application version the reject is written in, as QuickFIX adds it.
            if self.config.begin_string == BeginString::Fixt11
                && let Some(version) = &self.config.default_appl_ver_id
            {
                body.str(tag::DEFAULT_APPL_VER_ID, version);
            }
        }
        let msg_type = if legacy {
            // A session-level Reject without SessionRejectReason: counted as such.
            self.counters.rejects_sent.add(&RejectKind::Unknown);
            wire::REJECT
        } else {
            wire::BUSINESS_MESSAGE_REJECT
        };
        let transmit = self.connected;
        let sent =
            self.store_and_send(msg_type, legacy, &route, body.as_bytes(), answers, transmit);
        self.body = body;
        sent
    }
}
