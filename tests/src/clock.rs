//! Simulated time: the monotonic and wall clocks advance together, under the test's control.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fixgate_core::Now;

/// 2026-11-26 12:00:00 UTC, the wall-clock start of every simulation.
const START_UNIX_SECS: u64 = 1_795_694_400;

/// A clock that moves only when told to.
#[derive(Clone, Copy, Debug)]
pub struct SimClock {
    now: Now,
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}

impl SimClock {
    /// A clock at the simulation's start.
    pub fn new() -> Self {
        // The one real clock read of a simulation: an epoch for `Instant`, which has no other
        // constructor. Nothing depends on its value.
        let mono = Instant::now();
        Self {
            now: Now {
                mono,
                utc: UNIX_EPOCH + Duration::from_secs(START_UNIX_SECS),
            },
        }
    }

    /// The current time.
    pub fn now(&self) -> Now {
        self.now
    }

    /// Moves both clocks forward.
    pub fn advance(&mut self, by: Duration) -> Now {
        self.now = self.now.after(by);
        self.now
    }

    /// The wall-clock time, as the simulation sees it.
    pub fn utc(&self) -> SystemTime {
        self.now.utc
    }
}
