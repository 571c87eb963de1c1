//! The simulation's executor: one thread, virtual time, and a seeded choice of which ready task
//! runs next. Every poll and every byte moved costs a fixed amount of virtual time, so a task
//! that spins, or a stall, shows up as lateness.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant, UNIX_EPOCH};

use fixgate_core::Now;

use super::net::Net;
use super::rng::Rng;
use super::trace::Trace;

/// A task's future.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The virtual time one poll of a task costs.
pub const POLL_COST: Duration = Duration::from_micros(1);

/// The virtual time one engine step costs (a turn of the drive loop, which reads the clock
/// once): a loop that spins shows up as time passing, and as lateness.
pub const STEP_COST: Duration = Duration::from_micros(1);

/// 2026-11-26 12:00:00 UTC, the wall-clock start of every simulation.
const START_UNIX_SECS: u64 = 1_795_694_400;

/// A simulated process (a host's program): its tasks and sockets end together when it crashes.
pub type ProcessId = u32;

/// The simulated world that tasks reach through the runtime: the clock, timers, network,
/// randomness and the trace. Locked only briefly, never across a poll.
pub struct World {
    /// Virtual time since the start.
    pub elapsed: Duration,
    epoch: Instant,
    timers: BTreeMap<(Duration, u64), Waker>,
    next_timer: u64,
    /// The process whose task is being polled.
    pub current: ProcessId,
    /// Tasks spawned since the executor last looked.
    spawned: Vec<(ProcessId, BoxFuture)>,
    /// The seeded randomness of everything in the world.
    pub rng: Rng,
    /// The in-memory network.
    pub net: Net,
    /// What happened, hashed, for the replay check.
    pub trace: Trace,
    /// Polls made.
    pub polls: u64,
    /// Engine steps made: clock reads through the runtime, one per turn of a drive loop.
    pub steps: u64,
}

impl World {
    /// The time now.
    pub fn now(&self) -> Now {
        Now {
            mono: self.epoch + self.elapsed,
            utc: UNIX_EPOCH + Duration::from_secs(START_UNIX_SECS) + self.elapsed,
        }
    }

    /// The monotonic instant of virtual time `elapsed`.
    pub fn instant(&self, elapsed: Duration) -> Instant {
        self.epoch + elapsed
    }

    /// Virtual time at `at`.
    pub fn elapsed_at(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.epoch)
    }

    /// Wakes `waker` at virtual time `at`; returns a key to cancel it.
    pub fn wake_at(&mut self, at: Duration, waker: Waker) -> (Duration, u64) {
        self.next_timer += 1;
        let key = (at, self.next_timer);
        self.timers.insert(key, waker);
        key
    }

    /// Cancels a wake-up.
    pub fn cancel(&mut self, key: (Duration, u64)) {
        self.timers.remove(&key);
    }

    /// Charges `cost` of virtual time.
    pub fn charge(&mut self, cost: Duration) {
        self.elapsed += cost;
    }

    /// Spawns a task in the current process.
    pub fn spawn(&mut self, future: BoxFuture) {
        self.spawned.push((self.current, future));
    }

    /// Spawns a task in `process`.
    pub fn spawn_in(&mut self, process: ProcessId, future: BoxFuture) {
        self.spawned.push((process, future));
    }
}

/// The tasks ready to run, by id, shared with their wakers.
#[derive(Default)]
struct Ready {
    ids: Vec<usize>,
    queued: Vec<bool>,
}

impl Ready {
    fn push(&mut self, id: usize) {
        if self.queued.len() <= id {
            self.queued.resize(id + 1, false);
        }
        if !self.queued[id] {
            self.queued[id] = true;
            self.ids.push(id);
        }
    }
}

/// What a task's waker reaches.
struct TaskWaker {
    id: usize,
    ready: Arc<Mutex<Ready>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        lock(&self.ready).push(self.id);
    }
}

struct Task {
    future: BoxFuture,
    process: ProcessId,
    waker: Waker,
}

/// The executor and its world.
pub struct Executor {
    world: Arc<Mutex<World>>,
    ready: Arc<Mutex<Ready>>,
    tasks: Vec<Option<Task>>,
}

/// Locks `mutex`; a panic elsewhere already fails the test, so poisoning is ignored.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Executor {
    /// An empty world whose every random choice follows `seed`.
    pub fn new(seed: u64) -> Self {
        // The one real clock read of a simulation: an epoch for `Instant`, which has no other
        // constructor. Nothing depends on its value.
        let epoch = Instant::now();
        let world = World {
            elapsed: Duration::ZERO,
            epoch,
            timers: BTreeMap::new(),
            next_timer: 0,
            current: 0,
            spawned: Vec::new(),
            rng: Rng::new(seed),
            net: Net::default(),
            trace: Trace::default(),
            polls: 0,
            steps: 0,
        };
        Self {
            world: Arc::new(Mutex::new(world)),
            ready: Arc::default(),
            tasks: Vec::new(),
        }
    }

    /// The world, for the runtime handles.
    pub fn world(&self) -> Arc<Mutex<World>> {
        self.world.clone()
    }

    /// Runs until virtual time `until`, or until nothing is left to do; returns whether the
    /// world went idle (no task ready, no timer armed) before `until`.
    pub fn run_until(&mut self, until: Duration) -> bool {
        loop {
            self.adopt_spawned();
            let pick = lock(&self.world).rng.next_u64();
            let next = {
                let mut ready = lock(&self.ready);
                let len = ready.ids.len() as u64;
                (len > 0).then(|| {
                    let id = ready.ids.swap_remove((pick % len) as usize);
                    ready.queued[id] = false;
                    id
                })
            };
            match next {
                Some(id) => self.poll(id),
                None => {
                    // Nothing ready: jump to the next timer.
                    let mut world = lock(&self.world);
                    let Some((&key, _)) = world.timers.iter().next() else {
                        return true;
                    };
                    if key.0 > until {
                        world.elapsed = world.elapsed.max(until);
                        return false;
                    }
                    world.elapsed = world.elapsed.max(key.0);
                }
            }
            let mut world = lock(&self.world);
            if world.elapsed > until {
                return false;
            }
            // Timers that are due now wake their tasks.
            let elapsed = world.elapsed;
            while let Some(entry) = world.timers.first_entry()
                && entry.key().0 <= elapsed
            {
                entry.remove().wake();
            }
        }
    }

    /// Polls task `id` once, charging [`POLL_COST`].
    fn poll(&mut self, id: usize) {
        let Some(task) = self.tasks.get_mut(id).and_then(Option::as_mut) else {
            return;
        };
        {
            let mut world = lock(&self.world);
            world.current = task.process;
            world.polls += 1;
            world.charge(POLL_COST);
        }
        let mut cx = Context::from_waker(&task.waker);
        if task.future.as_mut().poll(&mut cx).is_ready() {
            self.tasks[id] = None;
        }
    }

    /// Moves newly spawned tasks into the task list, ready to run.
    fn adopt_spawned(&mut self) {
        let spawned = std::mem::take(&mut lock(&self.world).spawned);
        for (process, future) in spawned {
            let id = match self.tasks.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    self.tasks.push(None);
                    self.tasks.len() - 1
                }
            };
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                ready: self.ready.clone(),
            }));
            self.tasks[id] = Some(Task {
                future,
                process,
                waker,
            });
            lock(&self.ready).push(id);
        }
    }

    /// Ends every task of `process`: its futures are dropped. After a process crash
    /// (`machine` false) its kernel resets its connections; after a machine's (`machine` true)
    /// its peers hear nothing at all (half-open connections).
    pub fn kill(&mut self, process: ProcessId, machine: bool) {
        self.adopt_spawned();
        if machine {
            lock(&self.world).vanish(process);
        }
        for slot in &mut self.tasks {
            if slot.as_ref().is_some_and(|t| t.process == process) {
                // Dropped outside the world's lock: a future's drop may reach the world.
                let task = slot.take();
                drop(task);
            }
        }
        if !machine {
            lock(&self.world).crash_net(process);
        }
    }

    /// How many tasks of `process` are alive.
    pub fn tasks_of(&self, process: ProcessId) -> usize {
        self.tasks
            .iter()
            .flatten()
            .filter(|t| t.process == process)
            .count()
    }
}
