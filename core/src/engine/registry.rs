//! The sessions by id, and when each next needs [`Engine::handle_timeout`](super::Engine): a
//! queue of deadlines, so that finding the next timer does not visit every session.
//!
//! Every mutable access to a session marks it *dirty*; its deadline is computed again (once, however
//! often it was touched) before the queue is next read. The queue is a min-heap kept lazily: a
//! session's entry is replaced only when its deadline moves earlier. An entry left behind by a
//! deadline that moved later (a Heartbeat put off by every message sent) is found when it reaches
//! the top, and pushed back at the session's true deadline then.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

use super::Slot;
use super::id::SessionId;
use crate::hash::FastHash;

/// A session's place in the queue.
#[derive(Debug, Default)]
pub(super) struct TimerState {
    /// The session's deadline as last computed; exact unless `dirty`.
    deadline: Option<Instant>,
    /// The earliest entry of this session in the queue.
    queued: Option<Instant>,
    /// Touched since its deadline was last computed.
    dirty: bool,
}

/// A queued deadline.
struct Due {
    at: Instant,
    id: SessionId,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at.cmp(&other.at)
    }
}

/// The sessions, and the queue of their deadlines.
#[derive(Default)]
pub(super) struct Registry {
    slots: HashMap<SessionId, Slot, FastHash>,
    /// Sessions touched since the queue was last brought up to date.
    dirty: Vec<SessionId>,
    queue: BinaryHeap<Reverse<Due>>,
}

impl Registry {
    pub(super) fn get(&self, id: &SessionId) -> Option<&Slot> {
        self.slots.get(id)
    }

    /// The session `id`, for a change that may move its deadline.
    #[inline]
    pub(super) fn get_mut(&mut self, id: &SessionId) -> Option<&mut Slot> {
        let slot = self.slots.get_mut(id)?;
        mark(&mut self.dirty, id, slot);
        Some(slot)
    }

    pub(super) fn contains_key(&self, id: &SessionId) -> bool {
        self.slots.contains_key(id)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &SessionId> {
        self.slots.keys()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&SessionId, &Slot)> {
        self.slots.iter()
    }

    /// Every session, each marked for a change.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (&SessionId, &mut Slot)> {
        let dirty = &mut self.dirty;
        self.slots.iter_mut().map(|(id, slot)| {
            mark(dirty, id, slot);
            (id, slot)
        })
    }

    pub(super) fn insert(&mut self, id: SessionId, mut slot: Slot) {
        mark(&mut self.dirty, &id, &mut slot);
        self.slots.insert(id, slot);
    }

    /// Removes a session; its queued entries are dropped when they reach the top.
    pub(super) fn remove(&mut self, id: &SessionId) {
        self.slots.remove(id);
    }

    /// The earliest deadline of any session.
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        self.update();
        // Entries above the true deadlines go back in at those.
        while let Some(Reverse(top)) = self.queue.peek() {
            let at = top.at;
            let slot = self.slots.get_mut(&top.id);
            if slot
                .as_ref()
                .is_some_and(|slot| slot.timer.deadline == Some(at))
            {
                return Some(at);
            }
            let Some(Reverse(due)) = self.queue.pop() else {
                break;
            };
            if let Some(slot) = slot {
                if slot.timer.queued == Some(at) {
                    slot.timer.queued = None;
                }
                enqueue(&mut self.queue, due.id, &mut slot.timer);
            }
        }
        None
    }

    /// Takes the sessions with an entry due at `now` out of the queue, into `due`. Each is marked
    /// for a change, so that it is queued again at its next deadline.
    pub(super) fn take_due(&mut self, now: Instant, due: &mut Vec<SessionId>) {
        self.update();
        while self.queue.peek().is_some_and(|Reverse(top)| top.at <= now) {
            let Some(Reverse(entry)) = self.queue.pop() else {
                break;
            };
            let Some(slot) = self.slots.get_mut(&entry.id) else {
                continue;
            };
            if slot.timer.queued == Some(entry.at) {
                slot.timer.queued = None;
            }
            mark(&mut self.dirty, &entry.id, slot);
            due.push(entry.id);
        }
    }

    /// Computes the deadline of every session touched since the last time, and queues those that
    /// moved earlier than their entry.
    fn update(&mut self) {
        for id in self.dirty.drain(..) {
            let Some(slot) = self.slots.get_mut(&id) else {
                continue;
            };
            slot.timer.dirty = false;
            slot.timer.deadline = slot.deadline();
            enqueue(&mut self.queue, id, &mut slot.timer);
        }
    }
}

#[inline]
fn mark(dirty: &mut Vec<SessionId>, id: &SessionId, slot: &mut Slot) {
    if !slot.timer.dirty {
        slot.timer.dirty = true;
        dirty.push(id.clone());
    }
}

/// Queues the session's deadline unless an entry at or before it is queued already.
fn enqueue(queue: &mut BinaryHeap<Reverse<Due>>, id: SessionId, timer: &mut TimerState) {
    if let Some(at) = timer.deadline
        && timer.queued.is_none_or(|queued| at < queued)
    {
        timer.queued = Some(at);
        queue.push(Reverse(Due { at, id }));
    }
}
