//! The session's timers, computed from the times they depend on rather than stored, so that none
//! can be left armed by mistake.

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

/// `HeartBtInt` scaled by `factor` tenths (12 for 1.2×, 24 for 2.4×).
pub(crate) fn scaled(interval: Duration, tenths: u32) -> Duration {
    interval * tenths / 10
}

/// The earliest of the deadlines offered, with what it is for; of equal ones, the first offered.
#[derive(Default)]
pub(crate) struct Earliest(pub(crate) Option<(Timer, Instant)>);

impl Earliest {
    pub(crate) fn offer(&mut self, timer: Timer, at: Instant) {
        if self.0.is_none_or(|(_, earliest)| at < earliest) {
            self.0 = Some((timer, at));
        }
    }
}
