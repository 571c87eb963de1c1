//! Garbled frames: BeginString, BodyLength, MsgType or CheckSum wrong (FIX session layer,
//! "garbled message"). Before logon one ends the connection. After it the spec's rule is to
//! ignore the frame and leave the expected MsgSeqNum where it is, so that the next message
//! finds the gap; QuickFIX/J's `RejectGarbledMessage` answers one whose header can still be
//! read (a wrong BodyLength or CheckSum) with a Reject instead (`reject.rs`).

use bytes::Bytes;

use super::Session;
use crate::action::{Event, LogonRefusal};
use crate::codec::{DecodeError, Message};
use crate::tag;

impl Session {
    /// A garbled frame, `bytes`, that `error` describes.
    pub(super) fn on_garbled(&mut self, error: DecodeError, bytes: Bytes) {
        self.note_received();
        if !self.is_logged_on() {
            self.refuse_logon(LogonRefusal::Garbled);
            return;
        }
        let rejectable = matches!(
            error,
            DecodeError::BodyLengthMismatch { .. } | DecodeError::CheckSumMismatch { .. }
        );
        self.push_event(Event::Garbled(error));
        if !(rejectable && self.config.reject_garbled_message) {
            return;
        }
        // Without a MsgSeqNum there is nothing to refer to: the frame is ignored after all.
        if let Ok(msg) = Message::parse_unchecked(bytes)
            && let Ok(seq) = msg.seq_num(tag::MSG_SEQ_NUM)
        {
            self.reject_garbled(&msg, seq);
        }
    }
}
