//! A deterministic simulation of whole engines (issue 19, item 4), FoundationDB- and
//! TigerBeetle-style: the same `FixEngine` handles and the same driver code as in production,
//! over a simulated `Runtime` with virtual time, a seeded scheduler, an in-memory network with
//! faults and a disk that crashes.

pub mod disk;
pub mod executor;
pub mod failover;
pub mod net;
pub mod reconnect;
pub mod rng;
pub mod runtime;
pub mod scenario;
pub mod socket;
pub mod trace;

#[cfg(test)]
mod tests;
