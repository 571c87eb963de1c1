//! The delivery queue: application messages waiting for the caller to take them.
//!
//! A message is decoded straight into a slot at the back of the queue (the spare), so that it is
//! not moved between the decoder and the caller: a `Message` with its inline field index is a
//! few hundred bytes, and each move of one was a copy. The session sets the queue aside while it
//! decodes (`Session::decode`), which lets it read the message in the slot while it changes
//! itself; what it delivers meanwhile from elsewhere (queued messages that a gap fill released)
//! goes into the session's own, empty, queue and is appended after the message that released it.

use std::collections::VecDeque;

use crate::SeqNum;
use crate::action::Delivered;
use crate::codec::Message;

/// Delivered messages in order, and possibly a spare slot behind them.
#[derive(Debug, Default)]
pub(super) struct Inbox {
    queue: VecDeque<Delivered>,
    /// Whether the last entry is the spare: a slot to decode into, not a delivery.
    spare: bool,
}

impl Inbox {
    /// The spare slot's message, for the decoder to fill: made when there is none, and reused
    /// until a message in it is delivered.
    #[inline]
    pub(super) fn spare(&mut self) -> &mut Message {
        if !self.spare {
            self.spare = true;
            self.queue.push_back(Delivered {
                message: Message::default(),
                seq: SeqNum::FIRST,
                epoch: 0,
            });
        }
        let last = self.queue.len() - 1;
        &mut self.queue[last].message
    }

    /// Delivers the message in the spare slot as `seq` of `epoch`.
    #[inline]
    pub(super) fn commit(&mut self, seq: SeqNum, epoch: u64) {
        if let Some(slot) = self.queue.back_mut().filter(|_| self.spare) {
            slot.seq = seq;
            slot.epoch = epoch;
            self.spare = false;
        }
    }

    /// Delivers a message that was held elsewhere (in the out-of-order queue).
    pub(super) fn push(&mut self, delivered: Delivered) {
        match self.spare.then(|| self.queue.pop_back()).flatten() {
            Some(spare) => {
                self.queue.push_back(delivered);
                self.queue.push_back(spare);
            }
            None => self.queue.push_back(delivered),
        }
    }

    /// Moves `other`'s deliveries to the end of this queue, ahead of the spare.
    #[inline]
    pub(super) fn append(&mut self, other: &mut Self) {
        while let Some(delivered) = other.take() {
            self.push(delivered);
        }
    }

    /// Drops the spare slot, and with it the last frame decoded into it (so that the buffer it
    /// was read into can be reused).
    #[inline]
    pub(super) fn drop_spare(&mut self) {
        if self.spare {
            self.spare = false;
            self.queue.truncate(self.queue.len() - 1);
        }
    }

    /// The oldest delivery.
    #[inline]
    pub(super) fn take(&mut self) -> Option<Delivered> {
        if self.spare && self.queue.len() == 1 {
            return None;
        }
        self.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::codec::Decoder;

    fn heartbeat(seq: u64) -> Bytes {
        let body = format!("35=0\x0134={seq}\x01");
        let head = format!("8=FIX.4.4\x019={}\x01{body}", body.len());
        let sum = head.bytes().fold(0u8, |s, b| s.wrapping_add(b));
        Bytes::from(format!("{head}10={sum:03}\x01"))
    }

    fn seqs(inbox: &mut Inbox) -> Vec<u64> {
        std::iter::from_fn(|| inbox.take())
            .map(|d| d.message().seq_num(34).unwrap().get())
            .collect()
    }

    /// Decodes `seq` into the spare slot.
    fn decode(inbox: &mut Inbox, decoder: &mut Decoder, seq: u64) {
        decoder.feed(&heartbeat(seq));
        assert!(decoder.decode_into(inbox.spare()).unwrap().is_some());
    }

    #[test]
    fn keeps_order_around_the_spare_and_never_hands_it_out() {
        let mut decoder = Decoder::new();
        let mut inbox = Inbox::default();
        decode(&mut inbox, &mut decoder, 1);
        inbox.commit(SeqNum::new(1), 0);
        decode(&mut inbox, &mut decoder, 2);
        // 2 stays in the spare (not delivered); a message released elsewhere goes before it.
        let mut released = Inbox::default();
        let msg = Message::parse(heartbeat(3)).unwrap();
        released.push(Delivered {
            message: msg,
            seq: SeqNum::new(3),
            epoch: 0,
        });
        inbox.append(&mut released);
        assert!(released.take().is_none());
        decode(&mut inbox, &mut decoder, 4);
        inbox.commit(SeqNum::new(4), 0);
        decode(&mut inbox, &mut decoder, 5);
        inbox.drop_spare();
        assert_eq!(seqs(&mut inbox), [1, 3, 4]);
    }

    #[test]
    fn an_undelivered_spare_is_reused_and_not_taken() {
        let mut decoder = Decoder::new();
        let mut inbox = Inbox::default();
        decode(&mut inbox, &mut decoder, 1);
        decode(&mut inbox, &mut decoder, 2);
        assert!(inbox.take().is_none());
        inbox.commit(SeqNum::new(2), 0);
        assert_eq!(seqs(&mut inbox), [2]);
    }
}
