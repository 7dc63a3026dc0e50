//! Hash maps and sets keyed by integers (chunk keys, brand, source and tag ids) with a cheap
//! hasher. The search predicate looks a chunk up for every graph node it visits, so the
//! standard SipHash (built to resist flooding by untrusted keys) would be a large part of a
//! query's cost; our keys are row ids the store assigned, not attacker-chosen.
//!
//! This module must never be used for maps keyed by user text (tags by name use std).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

pub(crate) type KeyMap<K, V> = HashMap<K, V, BuildHasherDefault<IntegerHasher>>;
pub(crate) type KeySet<K> = HashSet<K, BuildHasherDefault<IntegerHasher>>;

/// Mixes integers with the SplitMix64 finaliser, whose avalanche spreads sequential row ids
/// over all bits (hashbrown takes its control bits from the top of the hash).
#[derive(Default, Clone, Copy)]
pub(crate) struct IntegerHasher {
    state: u64,
}

impl Hasher for IntegerHasher {
    fn finish(&self) -> u64 {
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for key types without a dedicated method; fold bytes in FNV style.
        for byte in bytes {
            self.state = (self.state ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.state = self.state.rotate_left(5) ^ value;
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_i64(&mut self, value: i64) {
        self.write_u64(value as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn sequential_keys_spread_over_high_bits() {
        let build = BuildHasherDefault::<IntegerHasher>::default();
        let top_bits: KeySet<u64> = (0..64u64).map(|key| build.hash_one(key) >> 57).collect();
        assert!(
            top_bits.len() > 32,
            "only {} distinct top-7-bit patterns",
            top_bits.len()
        );
    }
}
