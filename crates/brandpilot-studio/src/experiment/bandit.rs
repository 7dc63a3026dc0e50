//! The Thompson-sampling bandit: for each visitor, draw a plausible conversion rate for
//! every arm from its Beta(1 + conversions, 1 + non-conversions) posterior and show the arm
//! with the highest draw. An arm gets traffic in proportion to the probability that it is
//! the best, so traffic shifts towards the better arm as evidence accumulates while the
//! weaker arms keep being explored a little.
//!
//! Randomness comes from the caller through [`RandomSource`], so a request handler can use
//! a per-request seed and a test a fixed one. [`SplitMix64`] is a small, well-studied
//! generator (Steele, Lea and Flood, 2014) that is enough for choosing arms; it is not for
//! secrets. Beta draws are two Gamma draws (Marsaglia and Tsang's method, with Box–Muller
//! normals).

use super::ArmStats;
use crate::error::{Result, invalid_input};

/// A source of uniformly distributed 64-bit values.
pub trait RandomSource {
    fn next_u64(&mut self) -> u64;

    /// A uniform value in the open interval (0, 1), from the top 53 bits.
    fn next_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// SplitMix64: a 64-bit state advanced by the golden-ratio increment and mixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A standard normal draw (Box–Muller).
pub fn sample_normal<R: RandomSource + ?Sized>(rng: &mut R) -> f64 {
    let u1 = rng.next_f64();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Gamma(shape, 1) draw, shape > 0 (Marsaglia–Tsang; shapes below 1 are boosted by
/// Gamma(a) = Gamma(a + 1) · U^(1/a)).
pub fn sample_gamma<R: RandomSource + ?Sized>(shape: f64, rng: &mut R) -> f64 {
    if shape < 1.0 {
        let boost = rng.next_f64().powf(1.0 / shape);
        return sample_gamma(shape + 1.0, rng) * boost;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = sample_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.next_f64();
        if u < 1.0 - 0.0331 * x.powi(4) || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// A Beta(alpha, beta) draw.
pub fn sample_beta<R: RandomSource + ?Sized>(alpha: f64, beta: f64, rng: &mut R) -> f64 {
    let x = sample_gamma(alpha, rng);
    let y = sample_gamma(beta, rng);
    x / (x + y)
}

fn check_arms(arms: &[ArmStats]) -> Result<()> {
    if arms.is_empty() {
        return Err(invalid_input("arms", "a bandit needs at least one arm"));
    }
    arms.iter().try_for_each(ArmStats::check)
}

/// The arm to show the next visitor, by Thompson sampling.
pub fn thompson_pick<R: RandomSource + ?Sized>(arms: &[ArmStats], rng: &mut R) -> Result<usize> {
    check_arms(arms)?;
    let mut best = (0, f64::NEG_INFINITY);
    for (index, arm) in arms.iter().enumerate() {
        let draw = sample_beta(
            1.0 + arm.conversions as f64,
            1.0 + arm.non_conversions() as f64,
            rng,
        );
        if draw > best.1 {
            best = (index, draw);
        }
    }
    Ok(best.0)
}

/// The share of traffic Thompson sampling would give each arm now, estimated from `draws`
/// picks (for a dashboard: "the bandit sends 83% of visitors to B").
pub fn thompson_allocation<R: RandomSource + ?Sized>(
    arms: &[ArmStats],
    draws: usize,
    rng: &mut R,
) -> Result<Vec<f64>> {
    check_arms(arms)?;
    if draws == 0 {
        return Err(invalid_input("draws", "at least one draw is needed"));
    }
    let mut counts = vec![0usize; arms.len()];
    for _ in 0..draws {
        counts[thompson_pick(arms, rng)?] += 1;
    }
    Ok(counts
        .into_iter()
        .map(|count| count as f64 / draws as f64)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_its_reference_outputs() {
        // The reference implementation's outputs for seeds 0 and 1234567.
        let mut zero = SplitMix64::new(0);
        assert_eq!(zero.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(zero.next_u64(), 7_960_286_522_194_355_700);
        let mut other = SplitMix64::new(1_234_567);
        assert_eq!(other.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(other.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn uniform_draws_stay_inside_the_open_interval() {
        let mut rng = SplitMix64::new(7);
        let draws: Vec<f64> = (0..100_000).map(|_| rng.next_f64()).collect();
        assert!(draws.iter().all(|&u| u > 0.0 && u < 1.0));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
    }

    #[test]
    fn beta_draws_have_the_right_mean_and_variance() {
        // Beta(3, 7): mean 3/10 = 0.3, variance 3·7/(10²·11) = 0.0190909.
        // Over 100,000 draws the mean's standard error is 0.00044.
        let mut rng = SplitMix64::new(42);
        let n = 100_000;
        let draws: Vec<f64> = (0..n).map(|_| sample_beta(3.0, 7.0, &mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let variance = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!((mean - 0.3).abs() < 0.003, "{mean}");
        assert!((variance - 21.0 / 1100.0).abs() < 0.0008, "{variance}");
        // Gamma(0.5) exercises the small-shape path: mean 0.5.
        let gamma_mean = (0..n).map(|_| sample_gamma(0.5, &mut rng)).sum::<f64>() / n as f64;
        assert!((gamma_mean - 0.5).abs() < 0.01, "{gamma_mean}");
    }

    #[test]
    fn a_clearly_better_arm_gets_nearly_all_the_traffic() {
        // 50/1000 against 100/1000: P(B is better) is above 0.9999.
        let arms = [ArmStats::new("A", 1000, 50), ArmStats::new("B", 1000, 100)];
        let shares = thompson_allocation(&arms, 10_000, &mut SplitMix64::new(1)).unwrap();
        assert!(shares[1] > 0.99, "{shares:?}");
    }

    #[test]
    fn equal_arms_and_new_arms_split_traffic_evenly() {
        for arms in [
            vec![ArmStats::new("A", 500, 50), ArmStats::new("B", 500, 50)],
            vec![ArmStats::new("A", 0, 0), ArmStats::new("B", 0, 0)],
        ] {
            let shares = thompson_allocation(&arms, 20_000, &mut SplitMix64::new(3)).unwrap();
            // Standard error of a 50% share over 20,000 draws is 0.35%.
            assert!((shares[0] - 0.5).abs() < 0.02, "{shares:?}");
        }
    }

    #[test]
    fn a_running_bandit_shifts_traffic_to_the_better_arm() {
        // Simulated visitors: arm A converts 4% of the time, arm B 8%. Whatever the seed,
        // B must end up with most of the traffic.
        for seed in [1, 2, 3, 4, 5] {
            let mut rng = SplitMix64::new(seed);
            let mut arms = [ArmStats::new("A", 0, 0), ArmStats::new("B", 0, 0)];
            let true_rates = [0.04, 0.08];
            let mut late_b = 0;
            let rounds = 10_000;
            for round in 0..rounds {
                let arm = thompson_pick(&arms, &mut rng).unwrap();
                arms[arm].visitors += 1;
                if rng.next_f64() < true_rates[arm] {
                    arms[arm].conversions += 1;
                }
                if round >= rounds - 2_000 && arm == 1 {
                    late_b += 1;
                }
            }
            assert!(
                arms[1].visitors > 2 * arms[0].visitors,
                "seed {seed}: {arms:?}"
            );
            assert!(
                late_b as f64 / 2_000.0 > 0.8,
                "seed {seed}: {late_b} of the last 2000"
            );
        }
    }

    #[test]
    fn the_same_seed_picks_the_same_arms() {
        let arms = [
            ArmStats::new("A", 100, 10),
            ArmStats::new("B", 100, 12),
            ArmStats::new("C", 100, 9),
        ];
        let picks = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..50)
                .map(|_| thompson_pick(&arms, &mut rng).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(picks(9), picks(9));
        assert_ne!(picks(9), picks(10));
    }

    #[test]
    fn a_bandit_without_arms_or_with_impossible_counts_is_refused() {
        let mut rng = SplitMix64::new(0);
        assert!(thompson_pick(&[], &mut rng).is_err());
        assert!(thompson_pick(&[ArmStats::new("A", 1, 5)], &mut rng).is_err());
        assert!(thompson_allocation(&[ArmStats::new("A", 1, 0)], 0, &mut rng).is_err());
    }
}
