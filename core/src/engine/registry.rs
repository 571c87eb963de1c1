//! The sessions by id, and when each next needs [`Engine::handle_timeout`](super::Engine): a
//! queue of deadlines, so that finding the next timer does not visit every session.
//!
//! Every mutable access to a session marks it *dirty*; its deadline is computed again (once, however
//! often it was touched) before the queue is next read. The queue is a min-heap kept lazily: a
//! session's entry is replaced only when its deadline moves earlier. An entry left behind by a
//! deadline that moved later (a Heartbeat put off by every message sent) is found when it reaches
//! the top, and pushed back at the session's true deadline then.

use std::cell::Cell;
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

/// A queued deadline of the session at `key`.
struct Due {
    at: Instant,
    key: usize,
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

/// A session and its id, in its place.
struct Entry {
    id: SessionId,
    slot: Slot,
}

/// The sessions, and the queue of their deadlines.
///
/// Sessions live in numbered places (reused after a removal), so that the queue and the list of
/// touched sessions refer to them by number: no hashing and no shared-pointer counts. An entry of
/// a removed session that reaches the top finds another session or none in its place, and at
/// worst has that session's deadline computed again.
#[derive(Default)]
pub(super) struct Registry {
    keys: HashMap<SessionId, usize, FastHash>,
    places: Vec<Option<Entry>>,
    free: Vec<usize>,
    /// Places touched since the queue was last brought up to date.
    dirty: Vec<usize>,
    queue: BinaryHeap<Reverse<Due>>,
    /// The place of the session found last: work on one session comes in bursts (a message
    /// decoded, delivered, answered, its outputs drained), and each lookup after the first
    /// finds it by comparing ids, without hashing or probing the map.
    last: Cell<usize>,
}

impl Registry {
    /// An empty registry whose map of ids hashes with `hash`.
    pub(super) fn with_hasher(hash: FastHash) -> Self {
        Self {
            keys: HashMap::with_hasher(hash),
            ..Self::default()
        }
    }

    pub(super) fn get(&self, id: &SessionId) -> Option<&Slot> {
        let key = self.find(id)?;
        self.places[key].as_ref().map(|entry| &entry.slot)
    }

    /// The session `id`, for a change that may move its deadline.
    #[inline]
    pub(super) fn get_mut(&mut self, id: &SessionId) -> Option<&mut Slot> {
        let key = self.find(id)?;
        let slot = &mut self.places[key].as_mut()?.slot;
        mark(&mut self.dirty, key, slot);
        Some(slot)
    }

    /// The place of session `id`: the last one found if it holds `id` (a place may have been
    /// emptied or reused since, so it is checked), else the map's.
    #[inline]
    fn find(&self, id: &SessionId) -> Option<usize> {
        let last = self.last.get();
        if let Some(Some(entry)) = self.places.get(last)
            && entry.id == *id
        {
            return Some(last);
        }
        let key = *self.keys.get(id)?;
        self.last.set(key);
        Some(key)
    }

    pub(super) fn contains_key(&self, id: &SessionId) -> bool {
        self.keys.contains_key(id)
    }

    /// The ids in the order of their places, not of the map's hashes: the same in every run
    /// with the same history.
    pub(super) fn keys(&self) -> impl Iterator<Item = &SessionId> {
        self.places.iter().flatten().map(|entry| &entry.id)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&SessionId, &Slot)> {
        self.places
            .iter()
            .flatten()
            .map(|entry| (&entry.id, &entry.slot))
    }

    /// Every session, each marked for a change.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (&SessionId, &mut Slot)> {
        let dirty = &mut self.dirty;
        self.places
            .iter_mut()
            .enumerate()
            .filter_map(|(key, place)| place.as_mut().map(|entry| (key, entry)))
            .map(|(key, entry)| {
                mark(dirty, key, &mut entry.slot);
                (&entry.id, &mut entry.slot)
            })
    }

    /// Adds a session (made with `Slot::new`); the caller has checked that `id` is new.
    pub(super) fn insert(&mut self, id: SessionId, mut slot: Slot) {
        let key = self.free.pop().unwrap_or(self.places.len());
        if key == self.places.len() {
            self.places.push(None);
        }
        mark(&mut self.dirty, key, &mut slot);
        self.keys.insert(id.clone(), key);
        self.places[key] = Some(Entry { id, slot });
    }

    /// Removes a session; its queued entries are dropped when they reach the top.
    pub(super) fn remove(&mut self, id: &SessionId) {
        if let Some(key) = self.keys.remove(id) {
            self.places[key] = None;
            self.free.push(key);
        }
    }

    /// The earliest deadline of any session.
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        self.update();
        // Entries above the true deadlines go back in at those.
        while let Some(Reverse(top)) = self.queue.peek() {
            let (at, key) = (top.at, top.key);
            let slot = self.places[key].as_mut().map(|entry| &mut entry.slot);
            if slot
                .as_ref()
                .is_some_and(|slot| slot.timer.deadline == Some(at))
            {
                return Some(at);
            }
            self.queue.pop();
            if let Some(slot) = slot {
                if slot.timer.queued == Some(at) {
                    slot.timer.queued = None;
                }
                enqueue(&mut self.queue, key, &mut slot.timer);
            }
        }
        None
    }

    /// Takes the sessions with an entry due at `now` out of the queue, into `due`. Each is marked
    /// for a change, so that it is queued again at its next deadline.
    pub(super) fn take_due(&mut self, now: Instant, due: &mut Vec<SessionId>) {
        self.update();
        while let Some(Reverse(top)) = self.queue.peek()
            && top.at <= now
        {
            let (at, key) = (top.at, top.key);
            self.queue.pop();
            let Some(entry) = self.places[key].as_mut() else {
                continue;
            };
            if entry.slot.timer.queued == Some(at) {
                entry.slot.timer.queued = None;
            }
            mark(&mut self.dirty, key, &mut entry.slot);
            due.push(entry.id.clone());
        }
    }

    /// Computes the deadline of every session touched since the last time, and queues those that
    /// moved earlier than their entry.
    fn update(&mut self) {
        for key in self.dirty.drain(..) {
            let Some(entry) = self.places[key].as_mut() else {
                continue;
            };
            let slot = &mut entry.slot;
            slot.timer.dirty = false;
            slot.timer.deadline = slot.deadline();
            enqueue(&mut self.queue, key, &mut slot.timer);
        }
    }
}

#[inline]
fn mark(dirty: &mut Vec<usize>, key: usize, slot: &mut Slot) {
    if !slot.timer.dirty {
        slot.timer.dirty = true;
        dirty.push(key);
    }
}

/// Queues the session's deadline unless an entry at or before it is queued already.
fn enqueue(queue: &mut BinaryHeap<Reverse<Due>>, key: usize, timer: &mut TimerState) {
    if let Some(at) = timer.deadline
        && timer.queued.is_none_or(|queued| at < queued)
    {
        timer.queued = Some(at);
        queue.push(Reverse(Due { at, key }));
    }
}

#[cfg(test)]
// Unit tests need an epoch: the clock is read here, never in the engine.
#[allow(clippy::disallowed_methods)]
mod tests {
    use std::time::{Instant, SystemTime};

    use crate::{BeginString, Engine, EngineConfig, MemoryStore, Now, Role, SessionConfig};
    use crate::{SessionId, UtcTimestamp};

    fn create(engine: &mut Engine, id: &SessionId, now: Now) {
        let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
        let store = MemoryStore::new(UtcTimestamp::from_system_time(now.utc));
        engine
            .create_session(id.clone(), config, Box::new(store))
            .unwrap();
    }

    #[test]
    fn the_last_place_found_is_checked_against_the_id_it_holds_now() {
        let now = Now {
            mono: Instant::now(),
            utc: SystemTime::now(),
        };
        let mut engine = Engine::new(EngineConfig::default(), now);
        let (a, b) = (SessionId::new("ISLD", "TW"), SessionId::new("ISLD", "TX"));
        create(&mut engine, &a, now);
        assert!(engine.session(&a).is_some());
        // `a`'s place is the last found; it is emptied, then `b` takes it.
        engine.finalize(now, &a).unwrap();
        assert!(engine.session(&a).is_none());
        create(&mut engine, &b, now);
        assert!(engine.session(&b).is_some());
        assert!(engine.session(&a).is_none());
        assert!(engine.reset_seq_num_local(now, &a).is_err());
        // An equal id that is another allocation finds the session too.
        let b_again = SessionId::new("ISLD", "TX");
        assert_eq!(
            engine.session(&b_again).unwrap().config().target_comp_id,
            "TX"
        );
    }
}
