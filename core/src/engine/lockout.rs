//! The optional lockout after failed authentications, keyed by (source IP, CompID).

use std::net::IpAddr;
use std::time::Duration;

use super::Engine;

/// How failed authentications lock out a (source IP, CompID) pair (DESIGN.md section 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lockout {
    /// Failures allowed before the first lockout.
    pub max_failures: u32,
    /// The first lockout's length; each further failure doubles it.
    pub base_delay: Duration,
    /// The longest lockout.
    pub max_delay: Duration,
}

/// At most this many (IP, CompID) pairs are remembered; a flood of made-up pairs cannot grow it.
const MAX_LOCKOUT_ENTRIES: usize = 65_536;

impl Engine {
    /// Whether (peer, CompID) is locked out now.
    pub(super) fn locked_out(&self, peer: Option<IpAddr>, comp_id: &str) -> bool {
        let Some(peer) = peer else { return false };
        self.failures
            .get(&(peer, comp_id.to_owned()))
            .is_some_and(|&(_, until)| until > self.now.mono)
    }

    /// Counts a failed authentication, and locks the pair out once it has failed too often.
    pub(super) fn note_failure(&mut self, peer: Option<IpAddr>, comp_id: &str) {
        let (Some(policy), Some(peer)) = (self.config.lockout, peer) else {
            return;
        };
        if self.failures.len() >= MAX_LOCKOUT_ENTRIES {
            let now = self.now.mono;
            self.failures.retain(|_, &mut (_, until)| until > now);
            if self.failures.len() >= MAX_LOCKOUT_ENTRIES {
                self.failures.clear();
            }
        }
        let entry = self
            .failures
            .entry((peer, comp_id.to_owned()))
            .or_insert((0, self.now.mono));
        entry.0 += 1;
        if let Some(excess) = entry.0.checked_sub(policy.max_failures) {
            let delay = policy
                .base_delay
                .saturating_mul(1 << excess.min(20))
                .min(policy.max_delay);
            entry.1 = self.now.mono + delay;
        }
    }
}
