//! Deterministic assignment: a visitor sees the same arm of an experiment on every visit,
//! on every replica, with no state stored, and assignments in one experiment say nothing
//! about another. The arm is chosen by hashing the experiment and visitor ids with SHA-256
//! (stable across Rust versions and machines, unlike std's `DefaultHasher`) and mapping the
//! first 64 bits onto the arms' weights.
//!
//! Changing the weights or the number of arms reshuffles visitors; fix them before the
//! experiment starts (the bandit changes traffic by choosing per request, not by weights).

use crate::error::{Result, invalid_input};
use sha2::{Digest, Sha256};

/// The 64-bit point a visitor hashes to in an experiment: SHA-256 of the experiment id's
/// length (8 bytes, little-endian), the experiment id and the visitor id, first 8 bytes
/// read big-endian. The length prefix keeps ("ab", "c") and ("a", "bc") apart.
pub fn assignment_hash(experiment_id: &str, visitor_id: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update((experiment_id.len() as u64).to_le_bytes());
    hasher.update(experiment_id.as_bytes());
    hasher.update(visitor_id.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The arm (an index into `weights`) `visitor_id` sees in `experiment_id`. Arms get traffic
/// in proportion to their weights (`[1, 1]` is an even split, `[9, 1]` sends 10% to the
/// second arm, a weight of 0 switches an arm off).
pub fn assign_arm(experiment_id: &str, visitor_id: &str, weights: &[u32]) -> Result<usize> {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if total == 0 {
        return Err(invalid_input(
            "weights",
            "an experiment needs at least one arm with a weight above 0",
        ));
    }
    let hash = assignment_hash(experiment_id, visitor_id);
    // Maps the hash onto [0, total) without modulo bias: ⌊hash × total / 2⁶⁴⌋.
    let point = ((u128::from(hash) * u128::from(total)) >> 64) as u64;
    let mut cumulative = 0u64;
    for (arm, &weight) in weights.iter().enumerate() {
        cumulative += u64::from(weight);
        if point < cumulative {
            return Ok(arm);
        }
    }
    unreachable!("point < total by construction")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_matches_an_independent_sha256_computation() {
        // Computed with Python's hashlib over the same bytes (length prefix, experiment id,
        // visitor id), the first 8 bytes read big-endian, then ⌊h × total / 2⁶⁴⌋.
        assert_eq!(
            assignment_hash("exp-spring-subject", "visitor-1"),
            11_818_535_868_178_618_287
        );
        assert_eq!(
            assignment_hash("exp-spring-subject", "alice@example.com"),
            3_811_782_522_013_516_666
        );
        assert_eq!(
            assign_arm("exp-spring-subject", "visitor-1", &[1, 1]).unwrap(),
            1
        );
        assert_eq!(
            assign_arm("exp-spring-subject", "visitor-2", &[1, 1]).unwrap(),
            1
        );
        assert_eq!(
            assign_arm("exp-spring-subject", "visitor-2", &[1, 1, 1]).unwrap(),
            2
        );
        assert_eq!(
            assign_arm("exp-spring-subject", "alice@example.com", &[1, 1]).unwrap(),
            0
        );
    }

    #[test]
    fn a_visitor_always_sees_the_same_arm() {
        for visitor in ["v1", "v2", "", "ünïcødé-visitor"] {
            let first = assign_arm("exp", visitor, &[1, 1, 1]).unwrap();
            for _ in 0..10 {
                assert_eq!(assign_arm("exp", visitor, &[1, 1, 1]).unwrap(), first);
            }
        }
    }

    fn shares(experiment: &str, weights: &[u32], visitors: usize) -> Vec<f64> {
        let mut counts = vec![0usize; weights.len()];
        for visitor in 0..visitors {
            counts[assign_arm(experiment, &format!("visitor-{visitor}"), weights).unwrap()] += 1;
        }
        counts
            .into_iter()
            .map(|count| count as f64 / visitors as f64)
            .collect()
    }

    #[test]
    fn traffic_follows_the_weights() {
        // 100,000 visitors: the standard error of a 50% share is 0.16%, so ±1% is > 6 SE.
        let even = shares("exp-even", &[1, 1], 100_000);
        assert!((even[0] - 0.5).abs() < 0.01, "{even:?}");
        let skewed = shares("exp-skewed", &[9, 1], 100_000);
        assert!((skewed[1] - 0.1).abs() < 0.01, "{skewed:?}");
        let three = shares("exp-three", &[1, 1, 2], 100_000);
        assert!(
            (three[2] - 0.5).abs() < 0.01 && (three[0] - 0.25).abs() < 0.01,
            "{three:?}"
        );
    }

    #[test]
    fn a_switched_off_arm_gets_no_one() {
        assert_eq!(shares("exp-off", &[0, 1, 0], 1_000), [0.0, 1.0, 0.0]);
    }

    #[test]
    fn experiments_assign_independently() {
        let visitors = 20_000;
        let same = (0..visitors)
            .filter(|v| {
                let visitor = format!("visitor-{v}");
                assign_arm("exp-a", &visitor, &[1, 1]).unwrap()
                    == assign_arm("exp-b", &visitor, &[1, 1]).unwrap()
            })
            .count();
        let agreement = same as f64 / visitors as f64;
        assert!((agreement - 0.5).abs() < 0.02, "{agreement}");
    }

    #[test]
    fn an_experiment_without_weight_is_refused() {
        assert!(assign_arm("exp", "v", &[]).is_err());
        assert!(assign_arm("exp", "v", &[0, 0]).is_err());
    }
}
