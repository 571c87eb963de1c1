//! The session's timers: one stored deadline each (quinn's `TimerTable`). A timer fires at most
//! once per deadline: [`TimerTable::expire`] stops it before its handler runs, and only what the
//! handler (or a later input) does arms it again.

use std::time::{Duration, Instant};

/// What a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// No Logon (or Logon reply) yet on this connection.
    Logon,
    /// Our Logout has not been answered.
    Logout,
    /// Nothing sent for HeartBtInt: send a Heartbeat.
    Heartbeat,
    /// Nothing received for 1.2 × HeartBtInt: send a TestRequest.
    TestRequest,
    /// Nothing received for 2.4 × HeartBtInt despite the TestRequest: close.
    Silence,
    /// A gap still unfilled a while after our ResendRequest: ask again for what is missing.
    GapFill,
}

impl Timer {
    /// Every timer, in the order that breaks ties between equal deadlines.
    const ALL: [Self; 6] = [
        Self::Logon,
        Self::Logout,
        Self::Heartbeat,
        Self::TestRequest,
        Self::Silence,
        Self::GapFill,
    ];
}

/// `HeartBtInt` scaled by `factor` tenths (12 for 1.2×, 24 for 2.4×).
pub(crate) fn scaled(interval: Duration, tenths: u32) -> Duration {
    interval * tenths / 10
}

/// The deadline of each [`Timer`], `None` while it is stopped.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerTable([Option<Instant>; Timer::ALL.len()]);

impl TimerTable {
    /// Arms `timer` for `at`, replacing its deadline.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer as usize] = Some(at);
    }

    /// Stops `timer`.
    pub(crate) fn stop(&mut self, timer: Timer) {
        self.0[timer as usize] = None;
    }

    /// Stops every timer.
    pub(crate) fn stop_all(&mut self) {
        self.0 = Default::default();
    }

    /// The earliest deadline, if any timer is armed.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// The armed timer with the earliest deadline at or before `now`, of those not in `fired`
    /// (a bit per timer); it is stopped and added to `fired`. Of equal deadlines, the first in
    /// [`Timer::ALL`] comes first.
    pub(crate) fn expire(&mut self, now: Instant, fired: &mut u8) -> Option<Timer> {
        let (timer, _) = Timer::ALL
            .into_iter()
            .filter(|&t| *fired & (1 << t as u8) == 0)
            .filter_map(|t| Some((t, self.0[t as usize]?)))
            .filter(|&(_, at)| at <= now)
            .min_by_key(|&(t, at)| (at, t as u8))?;
        self.stop(timer);
        *fired |= 1 << timer as u8;
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)]
    fn expire_hands_out_each_due_timer_once_per_pass_earliest_first() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::TestRequest, t0 + Duration::from_secs(2));
        table.set(Timer::Heartbeat, t0 + Duration::from_secs(1));
        table.set(Timer::Logout, t0 + Duration::from_secs(9));
        let now = t0 + Duration::from_secs(5);
        let mut fired = 0;
        assert_eq!(table.expire(now, &mut fired), Some(Timer::Heartbeat));
        // Armed again in the past by its handler: not handed out again in this pass.
        table.set(Timer::Heartbeat, t0);
        assert_eq!(table.expire(now, &mut fired), Some(Timer::TestRequest));
        assert_eq!(table.expire(now, &mut fired), None);
        assert_eq!(table.next_timeout(), Some(t0));
        // A new pass hands it out again, once.
        let mut fired = 0;
        assert_eq!(table.expire(now, &mut fired), Some(Timer::Heartbeat));
        assert_eq!(table.expire(now, &mut fired), None);
        assert_eq!(table.next_timeout(), Some(t0 + Duration::from_secs(9)));
    }
}
