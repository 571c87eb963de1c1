//! The resend rule (FIX test cases 8 and 20): serving the counterparty's ResendRequest (35=2).
//!
//! `BeginSeqNo <7>` to `EndSeqNo <16>` (0, or 999999 before FIX 4.2, for "to the end") come
//! again from the store in chunks of `ResendReadChunkSize`: application messages with
//! `PossDupFlag <43>` = Y and `OrigSendingTime <122>`, runs of session-level messages (and of
//! types the policy gap-fills, and numbers the store lacks) as one SequenceReset-GapFill each,
//! under their old numbers. New messages wait behind the resend and go out after it. Our own
//! SequenceReset-Reset (an operator's command) is written here too: it is a GapFill's twin,
//! unstored.

use bytes::Bytes;

use super::reject::ref_tag;
use super::{Appended, Queued, Session};
use crate::action::{DisconnectReason, Event};
use crate::codec::{HeaderField, Message, Value};
use crate::msg_type::wire;
use crate::time::UtcTimestamp;
use crate::{MsgType, SeqNum, tag};

/// A resend in progress.
#[derive(Debug)]
pub(super) struct Resend {
    /// The next number to resend.
    next: SeqNum,
    /// The last number to resend.
    end: SeqNum,
    /// The first number of a run of session-level (or missing) messages not yet gap-filled.
    gap_from: Option<SeqNum>,
}

impl Session {
    /// A ResendRequest: serves `BeginSeqNo <7>` to `EndSeqNo <16>` (0, or 999999 before FIX 4.2,
    /// meaning "to the end"). A resend already in progress gives way to the new request.
    pub(super) fn on_resend_request(&mut self, msg: &Message, seq: SeqNum) {
        self.counters.resend_requests_in += 1;
        let (Ok(begin), Ok(end)) = (msg.seq_num(tag::BEGIN_SEQ_NO), msg.seq_num(tag::END_SEQ_NO))
        else {
            let missing = if msg.seq_num(tag::BEGIN_SEQ_NO).is_err() {
                tag::BEGIN_SEQ_NO
            } else {
                tag::END_SEQ_NO
            };
            return self.reject_unconsumed(
                msg,
                seq,
                crate::SessionRejectReason::RequiredTagMissing,
                Some(&ref_tag(missing)),
            );
        };
        let last = SeqNum::new(self.store.next_sender_seq().get().saturating_sub(1));
        let legacy_infinity = self.config.begin_string.is_before_fix42() && end.get() == 999_999;
        let end = if end.get() == 0 || legacy_infinity || end > last {
            last
        } else {
            end
        };
        let begin = begin.max(SeqNum::FIRST);
        self.push_event(Event::ResendRequested {
            from: begin,
            to: end,
        });
        self.start_resend(begin, end);
    }

    /// Resends our messages `begin` to `end` (nothing when `begin > end`).
    pub(super) fn start_resend(&mut self, begin: SeqNum, end: SeqNum) {
        if begin > end {
            return;
        }
        // A resend in progress gives way: what it left unsent is covered by the new request or
        // no longer wanted. New messages held behind it stay held until this one is done.
        self.resend = Some(Resend {
            next: begin,
            end,
            gap_from: None,
        });
        self.continue_resend();
    }

    /// Produces the next chunk of the resend in progress.
    pub(super) fn continue_resend(&mut self) {
        let Some(mut resend) = self.resend.take() else {
            return;
        };
        let chunk = self.config.resend_read_chunk_size.max(1);
        let chunk_end = SeqNum::new(
            resend
                .end
                .get()
                .min(resend.next.get().saturating_add(chunk - 1)),
        );
        let mut stored: Vec<(SeqNum, Bytes)> = Vec::new();
        let read = self
            .store
            .read_range(resend.next, chunk_end, &mut |seq, frame| {
                stored.push((seq, Bytes::copy_from_slice(frame)));
            });
        if let Err(error) = read {
            return self.close(DisconnectReason::Store(error));
        }
        let mut cursor = resend.next;
        for (seq, frame) in stored {
            if seq > cursor {
                resend.gap_from.get_or_insert(cursor); // Numbers the store does not hold.
            }
            cursor = seq.next();
            match Message::parse(frame) {
                Ok(msg) if self.gap_fills(msg.msg_type()) => {
                    resend.gap_from.get_or_insert(seq);
                    let msg_type = MsgType::from_bytes(msg.msg_type());
                    self.push_event(Event::NotResent { seq, msg_type });
                }
                Ok(msg) if !MsgType::from_bytes(msg.msg_type()).is_admin() => {
                    if let Some(from) = resend.gap_from.take() {
                        self.send_gap_fill(from, seq);
                    }
                    self.resend_copy(&msg, seq);
                }
                _ => {
                    resend.gap_from.get_or_insert(seq);
                }
            }
        }
        if cursor <= chunk_end {
            resend.gap_from.get_or_insert(cursor);
        }
        if chunk_end < resend.end {
            resend.next = chunk_end.next();
            self.resend = Some(resend);
            return;
        }
        if let Some(from) = resend.gap_from.take() {
            self.send_gap_fill(from, resend.end.next());
        }
        self.release_held();
    }

    /// Sends the messages held behind a resend or our Logon, in order.
    pub(super) fn release_held(&mut self) {
        let index = self.appended;
        while let Some((frame, admin)) = self.held.pop_front() {
            self.queue
                .push_back(Queued::Stored(frame, Appended::new(index, admin)));
            self.note_sent();
        }
    }

    /// Whether the resend policy replaces messages of this type with a GapFill.
    fn gap_fills(&self, msg_type: &[u8]) -> bool {
        self.config
            .gap_fill_msg_types
            .iter()
            .any(|t| t.as_bytes() == msg_type)
    }

    /// Sends stored message `seq` again: PossDupFlag=Y, OrigSendingTime from its SendingTime, a
    /// fresh SendingTime, the same number and content.
    fn resend_copy(&mut self, msg: &Message, seq: SeqNum) {
        let orig = msg.get(tag::SENDING_TIME).unwrap_or_default().to_vec();
        let mut header: Vec<HeaderField<'_>> = Vec::new();
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        for field in msg.fields().iter() {
            let Some(t) = field.tag() else { continue };
            if super::outbound::SESSION_OWNED_TAGS.contains(&t) || tag::is_trailer(t) {
                continue;
            }
            if tag::is_header(t) {
                header.push(HeaderField::new(t, Value::Text(field.value())));
            } else {
                body.bytes(t, field.value());
            }
        }
        let frame = self.encode(seq, msg.msg_type(), &header, body.as_bytes(), Some(&orig));
        self.body = body;
        // Only application messages are resent: session-level ones are gap-filled.
        self.send_unstored(msg.msg_type(), false, frame);
    }

    /// A SequenceReset-GapFill under the old number `seq`, moving the counterparty to `new_seq`.
    pub(super) fn send_gap_fill(&mut self, seq: SeqNum, new_seq: SeqNum) {
        self.counters.gap_fills_out += 1;
        let sending_time =
            UtcTimestamp::from_system_time(self.now.utc).format(self.config.precision());
        self.send_sequence_reset_unstored(seq, new_seq, Some(sending_time.as_bytes()));
    }

    /// A SequenceReset-Reset to `new_seq`, under our next number, which it does not consume (the
    /// receiver ignores MsgSeqNum in Reset mode).
    pub(super) fn send_reset(&mut self, new_seq: SeqNum) {
        let seq = self.store.next_sender_seq();
        self.send_sequence_reset_unstored(seq, new_seq, None);
    }

    /// A SequenceReset under number `seq`, unstored: a GapFill when it carries the
    /// `orig_sending_time` of a copy sent again, a Reset when not.
    fn send_sequence_reset_unstored(
        &mut self,
        seq: SeqNum,
        new_seq: SeqNum,
        orig_sending_time: Option<&[u8]>,
    ) {
        let gap_fill = orig_sending_time.is_some();
        self.send_unstored_admin(seq, wire::SEQUENCE_RESET, orig_sending_time, |body| {
            // Ascending tag order, as QuickFIX writes it: NewSeqNo <36>, then GapFillFlag <123>.
            body.uint(tag::NEW_SEQ_NO, new_seq.get())
                .bool(tag::GAP_FILL_FLAG, gap_fill);
        });
    }
}
