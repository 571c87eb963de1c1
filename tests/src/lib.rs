//! Shared harness for fixgate's integration, property and fuzz-replay tests.
//!
//! The fuzz targets in `fuzz/` call the bodies in [`fuzz`], so that a plain `cargo test` replays
//! the committed corpus without a nightly toolchain.

pub mod alloc;
pub mod bench;
pub mod clock;
pub mod conformance;
pub mod fixtures;
pub mod fuzz;
pub mod order_client;
pub mod pair;
pub mod peer;
pub mod postgres;
pub mod sim;
pub mod wire;

/// The README's examples, compiled (and the runnable ones run) as doc tests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;
