//! A fast keyed hasher for the engine's maps, which are looked up several times per message.
//!
//! std's SipHash-1-3 cost about 260 instructions per lookup of a [`SessionId`](crate::SessionId)
//! (callgrind, the acceptor's hot path). This one folds each 8-byte word into the state with a
//! 64 × 64 → 128-bit multiply, from seeds drawn once per process from std's random keys, so that
//! a counterparty choosing CompIDs cannot aim for collisions it cannot see.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// Multiplies and folds the 128-bit product's halves together: every input bit reaches every
/// output bit.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Two odd constants (from the digits of pi) that keep a zero seed from zeroing a product.
const MIX: [u64; 2] = [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344];

/// The process's seeds, drawn from std's random source on first use.
fn seeds() -> [u64; 2] {
    static SEEDS: OnceLock<[u64; 2]> = OnceLock::new();
    *SEEDS.get_or_init(|| {
        let random = RandomState::new();
        [random.hash_one(1u8) | 1, random.hash_one(2u8) | 1]
    })
}

/// Builds [`FastHasher`]s: the `S` of a `HashMap<K, V, FastHash>`.
#[derive(Clone, Copy, Debug)]
pub struct FastHash {
    seeds: [u64; 2],
}

impl Default for FastHash {
    fn default() -> Self {
        Self { seeds: seeds() }
    }
}

impl FastHash {
    /// A hasher keyed from `seed` rather than from the process's random seeds: for a run that
    /// must be reproducible (a simulated runtime gives its own seed).
    pub fn with_seed(seed: u64) -> Self {
        let first = fold(seed ^ MIX[1], MIX[0]);
        Self {
            seeds: [first | 1, fold(first ^ seed, MIX[1]) | 1],
        }
    }
}

impl BuildHasher for FastHash {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher {
            state: self.seeds[0],
            key: self.seeds[1],
        }
    }
}

/// The hasher [`FastHash`] builds.
#[derive(Clone, Copy, Debug)]
pub struct FastHasher {
    state: u64,
    key: u64,
}

impl FastHasher {
    #[inline]
    fn word(&mut self, word: u64) {
        self.state = fold(self.state ^ word, MIX[0] ^ self.key);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        // The last 0 to 7 bytes as one word, read as two overlapping halves (or three bytes)
        // rather than copied; the length goes in with it, so that "a" and "a\0" differ.
        let rest = chunks.remainder();
        let n = rest.len();
        let last = if n >= 4 {
            let half = |at: usize| {
                u64::from(u32::from_le_bytes(
                    rest[at..at + 4].try_into().expect("4 bytes"),
                ))
            };
            half(0) | (half(n - 4) << 32)
        } else if n > 0 {
            u64::from(rest[0]) | (u64::from(rest[n / 2]) << 8) | (u64::from(rest[n - 1]) << 16)
        } else {
            0
        };
        self.word(last ^ ((bytes.len() as u64) << 56));
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.word(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.word(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.word(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.state, MIX[1] ^ self.key)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_near_keys_spread() {
        let build = FastHash::default();
        assert_eq!(build.hash_one("CLIENT1"), build.hash_one("CLIENT1"));
        assert_ne!(build.hash_one("a"), build.hash_one("a\0"));
        assert_ne!(build.hash_one(("AB", "C")), build.hash_one(("A", "BC")));
        // Keys that differ in one character or one number: every hash distinct, and the low bits
        // (which pick a bucket) spread too.
        let hashes: Vec<u64> = (0..10_000)
            .map(|i| build.hash_one(format!("CLIENT{i}")))
            .chain((0..10_000u64).map(|i| build.hash_one(i)))
            .collect();
        assert_eq!(hashes.iter().collect::<HashSet<_>>().len(), hashes.len());
        let buckets: HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
        assert!(buckets.len() > 3_900, "{} of 4,096 buckets", buckets.len());
    }
}
