//! The MsgSeqNum rule (FIX test cases 2b, 2c, 2e and 10): inbound messages are processed in
//! `MsgSeqNum <34>` order.
//!
//! The expected number is processed and taken. A higher one is a gap: the message waits in the
//! out-of-order queue (up to `MaxQueuedMessages`) while `gap_fill.rs` asks for what is missing,
//! and the queue drains as the gap fills. A lower one without `PossDupFlag <43>` = Y ends the
//! session with a Logout; with it, it is a duplicate and ignored once its `OrigSendingTime
//! <122>` passes. A ResendRequest is served whatever its number, a Logout is honoured whatever
//! its number, and a SequenceReset-Reset ignores MsgSeqNum.
//!
//! Taking a number is not settling it: the store's next-expected number moves only past
//! messages that are settled (admin ones when handled, application ones when acked or answered;
//! `settle.rs`, DESIGN.md section 4), so that a crash never loses a message the application has
//! not processed.

use std::time::Instant;

use super::Session;
use crate::action::{Delivered, DisconnectReason, Event};
use crate::codec::Message;
use crate::error::SendError;
use crate::store::StoreError;
use crate::time::UtcTimestamp;
use crate::{MsgType, SeqNum, tag};

/// A message received ahead of a gap.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "the queue held messages inline before; handled entries are few"
)]
pub(super) enum Ahead {
    /// Waiting to be processed in order, with when its bytes were given
    /// (`Delivered::received_at`).
    Waiting(Message, Instant),
    /// Handled when it came (a Logon, a ResendRequest): only its number waits to be taken in
    /// order, so that the gap below it closes without asking for it again.
    Handled,
}

impl Session {
    /// The MsgSeqNum rule for message `seq` after logon: processed now when it is the expected
    /// number, queued behind a gap (and the gap requested) when higher, refused when lower; a
    /// ResendRequest, a Logout, a SequenceReset-Reset and a Logon with ResetSeqNumFlag=Y are
    /// exceptions. Returns whether `msg` goes to the application (the caller queues it).
    #[inline]
    pub(super) fn order_by_seq_num(&mut self, msg: &Message, seq: SeqNum) -> bool {
        let msg_type = MsgType::from_bytes(msg.msg_type());
        self.count_received(msg_type.is_admin());
        if msg_type == MsgType::Logon && msg.bool(tag::RESET_SEQ_NUM_FLAG) == Ok(true) {
            self.on_reset_logon(msg, seq);
            return false;
        }
        let expected = self.next_target;
        // A Logout is honoured whatever its number, and a SequenceReset-Reset ignores it.
        if msg_type == MsgType::Logout && seq != expected {
            self.on_logout(msg);
            return false;
        }
        if msg_type == MsgType::SequenceReset && msg.bool(tag::GAP_FILL_FLAG) != Ok(true) {
            return self.process(msg, msg_type, seq);
        }
        if seq > expected {
            // A ResendRequest is served at once, not queued behind the gap (DESIGN.md section 5);
            // its number is taken in turn, once the gap below it is filled.
            if msg_type == MsgType::ResendRequest {
                self.report_inbound(msg);
                self.on_resend_request(msg, seq);
                self.queue_ahead(seq, Ahead::Handled);
            } else {
                self.queue_ahead(seq, Ahead::Waiting(msg.clone(), self.input_at));
            }
            self.request_gap_fill(expected, seq);
            return false;
        }
        if seq < expected {
            // A ResendRequest is served whatever its number; a number below the expected one
            // consumes nothing (QuickFIX checks neither too high nor too low for it; FIX test
            // case 8: a repeated ResendRequest).
            if msg_type == MsgType::ResendRequest {
                self.report_inbound(msg);
                self.on_resend_request(msg, seq);
                return false;
            }
            if msg.bool(tag::POSS_DUP_FLAG) == Ok(true) {
                // A duplicate of something already processed: ignored, once its OrigSendingTime
                // passes the PossDupFlag rules (FIX test cases 2f, 2g).
                self.check_poss_dup(msg, seq);
                return false;
            }
            self.too_low(expected, seq);
            return false;
        }
        let delivered = self.process(msg, msg_type, seq);
        self.drain_queued();
        delivered
    }

    /// Keeps message `seq`, received ahead of a gap, until the expected number reaches it (up
    /// to `MaxOutOfOrderMessages`; beyond, it comes again with the resend).
    pub(super) fn queue_ahead(&mut self, seq: SeqNum, ahead: Ahead) {
        if self.queued_inbound.len() < self.config.max_queued_messages {
            self.queued_inbound.insert(seq, ahead);
        }
    }

    /// Processes the queued messages that the expected number has reached.
    pub(super) fn drain_queued(&mut self) {
        while self.connected {
            let Some(entry) = self.queued_inbound.first_entry() else {
                break;
            };
            let seq = *entry.key();
            if seq > self.next_target {
                break;
            }
            let ahead = entry.remove();
            if seq < self.next_target {
                continue; // Passed by a GapFill or a Reset.
            }
            match ahead {
                Ahead::Handled => self.take(seq, true),
                Ahead::Waiting(message, received_at) => {
                    if self.process(&message, MsgType::from_bytes(message.msg_type()), seq) {
                        let epoch = self.epoch;
                        self.inbox.push(Delivered {
                            message,
                            seq,
                            epoch,
                            received_at: Some(received_at),
                        });
                    }
                }
            }
        }
        self.on_gap_progress();
    }

    /// Takes message `seq` (the expected one): the expected number moves on, and the settle
    /// window learns whether it is already settled.
    pub(super) fn take(&mut self, seq: SeqNum, settled: bool) {
        if seq != self.next_target {
            return; // A SequenceReset-Reset's number, which consumes nothing.
        }
        self.next_target = seq.next();
        if self.settled.take(seq, settled) {
            self.persist_target();
        }
    }

    /// Persists the settled next-expected number; a store that fails it ends the connection.
    pub(super) fn persist_target(&mut self) {
        if let Err(error) = self.store.set_next_target_seq(self.settled.base()) {
            self.emit_store_failure(error);
        }
    }

    /// MsgSeqNum lower than expected without PossDupFlag: Logout, then close.
    pub(super) fn too_low(&mut self, expected: SeqNum, received: SeqNum) {
        let text = format!("MsgSeqNum too low, expecting {expected} but received {received}");
        self.send_logout(Some(text.as_bytes()));
        self.close(DisconnectReason::MsgSeqNumTooLow { expected, received });
    }

    /// Both sequence numbers back to 1, store emptied.
    pub(super) fn reset_sequences(&mut self) -> Result<(), StoreError> {
        self.store
            .reset(UtcTimestamp::from_system_time(self.now.utc))?;
        self.epoch += 1;
        self.next_target = SeqNum::FIRST;
        self.settled.reset(SeqNum::FIRST);
        self.queued_inbound.clear();
        self.already_answered.clear();
        self.gap = None;
        Ok(())
    }

    /// Settles inbound message `seq` and persists the next-expected number if it moved. Below
    /// `MaxUnsettledMessages` again, the input held back is decoded.
    pub(super) fn settle(&mut self, seq: SeqNum) -> Result<(), SendError> {
        let held = self.is_input_held();
        if self.settled.settle(seq) {
            self.store.set_next_target_seq(self.settled.base())?;
        }
        if held && !self.is_input_held() {
            // The silence while held was ours: the counterparty's clock starts again.
            self.note_received();
            self.arm_heartbeats();
            self.decode_all();
        }
        Ok(())
    }

    /// Raises [`Event::SequenceNumbersChanged`] after a reset or an operator's change.
    pub(super) fn report_seq_change(&mut self) {
        self.push_event(Event::SequenceNumbersChanged {
            next_sender: self.store.next_sender_seq(),
            next_target: self.next_target,
        });
    }
}
