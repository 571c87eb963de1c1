//! The hasher of the engine task's maps, keyed by [`ConnId`](fixgate_core::ConnId) and
//! [`SessionId`](fixgate_core::SessionId).
//!
//! Both keys hash as one word (a connection's number, a session's hash computed once by core), so
//! this folds each word into the state with a 64 × 64 → 128-bit multiply. It is keyed from the
//! [`Runtime`](crate::Runtime)'s seed, like the engine's own maps (`Engine::with_seed`): a run
//! over a simulated runtime hashes the same way every time.

use std::hash::{BuildHasher, Hasher};

/// Two odd constants (from the digits of pi) that keep a zero seed from zeroing a product.
const MIX: [u64; 2] = [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344];

/// Multiplies and folds the 128-bit product's halves together: every input bit reaches every
/// output bit.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Builds [`WordHasher`]s: the `S` of the driver's `HashMap`s.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeededHash {
    key: u64,
}

impl SeededHash {
    /// A hasher keyed from `seed`, the runtime's.
    pub(crate) fn with_seed(seed: u64) -> Self {
        Self {
            key: fold(seed ^ MIX[1], MIX[0]) | 1,
        }
    }
}

impl Default for SeededHash {
    fn default() -> Self {
        Self::with_seed(0)
    }
}

impl BuildHasher for SeededHash {
    type Hasher = WordHasher;

    #[inline]
    fn build_hasher(&self) -> WordHasher {
        WordHasher {
            state: self.key,
            key: self.key,
        }
    }
}

/// The hasher [`SeededHash`] builds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WordHasher {
    state: u64,
    key: u64,
}

impl WordHasher {
    #[inline]
    fn word(&mut self, word: u64) {
        self.state = fold(self.state ^ word, MIX[0] ^ self.key);
    }
}

impl Hasher for WordHasher {
    /// Any other key: its bytes in 8-byte words, the last one padded, with the length.
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.word(u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
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

    use fixgate_core::{ConnId, SessionId};

    use super::*;

    #[test]
    fn the_same_seed_hashes_the_same_and_keys_spread() {
        let build = SeededHash::with_seed(7);
        assert_eq!(
            build.hash_one(ConnId(3)),
            SeededHash::with_seed(7).hash_one(ConnId(3))
        );
        assert_ne!(
            build.hash_one(ConnId(3)),
            SeededHash::with_seed(8).hash_one(ConnId(3))
        );
        let id = SessionId::new("BANK", "VENUE");
        assert_eq!(build.hash_one(&id), build.hash_one(id.clone()));
        let hashes: Vec<u64> = (0..20_000u64).map(|i| build.hash_one(ConnId(i))).collect();
        assert_eq!(hashes.iter().collect::<HashSet<_>>().len(), hashes.len());
        let buckets: HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
        assert!(buckets.len() > 3_900, "{} of 4,096 buckets", buckets.len());
    }
}
