//! The delivery queue: application messages waiting for the caller to take them.
//!
//! A `Message` with its inline field index is a few hundred bytes, and each move of one was a
//! copy. So messages are not moved between the decoder and the caller: the queue is a ring of
//! slots that are reused, a message is decoded straight into the slot behind the deliveries
//! (the spare), and the caller takes one into storage of its own that it reuses too
//! ([`Inbox::take_into`]): only the fields in use are copied, and the slot is reused in turn.
//!
//! The session sets the queue aside while it decodes (`Session::decode`), which lets it read
//! the message in the spare while it changes itself; what it delivers meanwhile from elsewhere
//! (queued messages that a gap fill released) goes into the session's own, empty, queue and is
//! appended after the message that released it.

use std::time::Instant;

use crate::SeqNum;
use crate::action::Delivered;
use crate::codec::Message;

/// Delivered messages in order, in a ring of reused slots.
#[derive(Debug, Default)]
pub(super) struct Inbox {
    /// The ring: `len` deliveries from `head` on, then slots to reuse, the first of them the
    /// spare. Slots to reuse hold no frame (the buffer it was read into can be reused).
    slots: Vec<Delivered>,
    head: usize,
    len: usize,
}

impl Inbox {
    /// The spare slot's message, for the decoder to fill; a slot is added when every one holds
    /// a delivery.
    #[inline]
    pub(super) fn spare(&mut self) -> &mut Message {
        if self.len == self.slots.len() {
            // The ring's end is physically at `head`: the new slot goes in there.
            if self.head == 0 {
                self.slots.push(Delivered::default());
            } else {
                self.slots.insert(self.head, Delivered::default());
                self.head += 1;
            }
        }
        let at = self.at(self.len);
        &mut self.slots[at].message
    }

    /// Whether deliveries wait to be taken.
    #[inline]
    pub(super) fn has_deliveries(&self) -> bool {
        self.len > 0
    }

    /// Delivers the message in the spare slot as `seq` of `epoch`, received at `received_at`.
    #[inline]
    pub(super) fn commit(&mut self, seq: SeqNum, epoch: u64, received_at: Instant) {
        if self.len < self.slots.len() {
            let at = self.at(self.len);
            let slot = &mut self.slots[at];
            slot.seq = seq;
            slot.epoch = epoch;
            slot.received_at = Some(received_at);
            self.len += 1;
        }
    }

    /// Delivers a message that was held elsewhere (in the out-of-order queue, or in another
    /// inbox), in place of what the spare held.
    pub(super) fn push(&mut self, delivered: Delivered) {
        self.spare();
        let at = self.at(self.len);
        self.slots[at] = delivered;
        self.len += 1;
    }

    /// Moves `other`'s deliveries to the end of this queue. Nearly always it has none: that is
    /// seen here, without a call.
    #[inline]
    pub(super) fn append(&mut self, other: &mut Self) {
        if other.len == 0 {
            return;
        }
        while let Some(delivered) = other.take() {
            self.push(delivered);
        }
    }

    /// Lets go of the frame in the spare, once the decoder is done with it.
    #[inline]
    pub(super) fn release_spare(&mut self) {
        if self.len < self.slots.len() {
            let at = self.at(self.len);
            self.slots[at].message.release();
        }
    }

    /// Moves the oldest delivery into `into`, whose old message is let go; its slot is left
    /// empty, to be reused. False, and `into` unchanged, when there is none.
    #[inline]
    pub(super) fn take_into(&mut self, into: &mut Delivered) -> bool {
        if self.len == 0 {
            return false;
        }
        let slot = &mut self.slots[self.head];
        into.message.take_from(&mut slot.message);
        into.seq = slot.seq;
        into.epoch = slot.epoch;
        into.received_at = slot.received_at;
        self.head = self.at(1);
        self.len -= 1;
        true
    }

    /// The oldest delivery, taken out.
    pub(super) fn take(&mut self) -> Option<Delivered> {
        if self.len == 0 {
            return None;
        }
        let mut delivered = Delivered::default();
        self.take_into(&mut delivered).then_some(delivered)
    }

    /// The physical index of ring position `pos` (at most the number of slots).
    #[inline]
    fn at(&self, pos: usize) -> usize {
        let i = self.head + pos;
        if i >= self.slots.len() {
            i - self.slots.len()
        } else {
            i
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::codec::Decoder;

    /// A time to deliver at: the tests' one clock read, an `Instant` having no other constructor.
    #[allow(clippy::disallowed_methods)]
    fn received() -> Instant {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *START.get_or_init(Instant::now)
    }

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
        inbox.commit(SeqNum::new(1), 0, received());
        decode(&mut inbox, &mut decoder, 2);
        // 2 stays in the spare (not delivered); a message released elsewhere goes before it.
        let mut released = Inbox::default();
        let msg = Message::parse(heartbeat(3)).unwrap();
        released.push(Delivered {
            message: msg,
            seq: SeqNum::new(3),
            epoch: 0,
            received_at: Some(received()),
        });
        inbox.append(&mut released);
        assert!(released.take().is_none());
        decode(&mut inbox, &mut decoder, 4);
        inbox.commit(SeqNum::new(4), 0, received());
        decode(&mut inbox, &mut decoder, 5);
        inbox.release_spare();
        assert_eq!(seqs(&mut inbox), [1, 3, 4]);
    }

    #[test]
    fn grows_in_the_middle_of_the_ring_keeping_order_and_lets_taken_frames_go() {
        let mut decoder = Decoder::new();
        let mut inbox = Inbox::default();
        for seq in 1..=3 {
            decode(&mut inbox, &mut decoder, seq);
            inbox.commit(SeqNum::new(seq), 0, received());
        }
        let mut taken = Delivered::default();
        assert!(inbox.take_into(&mut taken));
        assert_eq!(taken.seq(), SeqNum::new(1));
        assert_eq!(taken.received_at(), Some(received()));
        let frame = taken.message().as_bytes().clone();
        // 4 reuses the slot that 1 left, 5 needs a new one with the ring wrapped.
        for seq in 4..=5 {
            decode(&mut inbox, &mut decoder, seq);
            inbox.commit(SeqNum::new(seq), 0, received());
        }
        assert!(inbox.take_into(&mut taken));
        assert_eq!(taken.seq(), SeqNum::new(2));
        // The frame that `taken` held before is let go: only the test holds it now.
        assert!(frame.is_unique());
        assert_eq!(seqs(&mut inbox), [3, 4, 5]);
        assert!(!inbox.take_into(&mut taken));
        assert_eq!(taken.seq(), SeqNum::new(2));
    }

    #[test]
    fn an_undelivered_spare_is_reused_and_not_taken() {
        let mut decoder = Decoder::new();
        let mut inbox = Inbox::default();
        decode(&mut inbox, &mut decoder, 1);
        decode(&mut inbox, &mut decoder, 2);
        assert!(inbox.take().is_none());
        inbox.commit(SeqNum::new(2), 0, received());
        assert_eq!(seqs(&mut inbox), [2]);
    }
}
