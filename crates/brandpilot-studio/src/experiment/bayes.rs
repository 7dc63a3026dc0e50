//! The Bayesian probability that an arm beats the control. Each arm's conversion rate gets
//! a Beta(1 + conversions, 1 + non-conversions) posterior (a uniform prior updated with the
//! counts), and P(rate_B > rate_A) is computed exactly, with no sampling, by the closed form
//! for two Beta variables with an integer first parameter:
//!
//! P(B > A) = Σ_{i=0}^{α_B − 1} B(α_A + i, β_A + β_B) / ((β_B + i) B(1 + i, β_B) B(α_A, β_A))
//!
//! summed in log space. The sum has α_B terms; it is taken over whichever arm has fewer
//! conversions (using P(B > A) = 1 − P(A > B)), and beyond 100,000 conversions on both arms
//! the posteriors are so close to normal that the normal approximation is used instead.

use super::ArmStats;
use super::special::{ln_beta, normal_cdf};
use crate::error::Result;

/// Above this many conversions on both arms the normal approximation replaces the sum.
const EXACT_LIMIT: u64 = 100_000;

/// P(X_B > X_A) for X_A ~ Beta(alpha_a, beta_a) and X_B ~ Beta(alpha_b, beta_b), all
/// parameters positive integers.
pub fn probability_beta_exceeds(alpha_a: u64, beta_a: u64, alpha_b: u64, beta_b: u64) -> f64 {
    if alpha_a.min(alpha_b) > EXACT_LIMIT {
        return normal_approximation(alpha_a, beta_a, alpha_b, beta_b);
    }
    if alpha_b <= alpha_a {
        exact_sum(alpha_a, beta_a, alpha_b, beta_b)
    } else {
        1.0 - exact_sum(alpha_b, beta_b, alpha_a, beta_a)
    }
}

fn exact_sum(alpha_a: u64, beta_a: u64, alpha_b: u64, beta_b: u64) -> f64 {
    let (a_a, b_a, b_b) = (alpha_a as f64, beta_a as f64, beta_b as f64);
    let base = ln_beta(a_a, b_a);
    let total: f64 = (0..alpha_b)
        .map(|i| {
            let i = i as f64;
            (ln_beta(a_a + i, b_a + b_b) - (b_b + i).ln() - ln_beta(1.0 + i, b_b) - base).exp()
        })
        .sum();
    total.clamp(0.0, 1.0)
}

fn normal_approximation(alpha_a: u64, beta_a: u64, alpha_b: u64, beta_b: u64) -> f64 {
    let moments = |alpha: u64, beta: u64| {
        let (a, b) = (alpha as f64, beta as f64);
        let mean = a / (a + b);
        let variance = a * b / ((a + b).powi(2) * (a + b + 1.0));
        (mean, variance)
    };
    let (mean_a, variance_a) = moments(alpha_a, beta_a);
    let (mean_b, variance_b) = moments(alpha_b, beta_b);
    normal_cdf((mean_b - mean_a) / (variance_a + variance_b).sqrt())
}

/// The probability that `variant`'s true conversion rate is above `control`'s, under
/// uniform priors.
pub fn probability_beats(control: &ArmStats, variant: &ArmStats) -> Result<f64> {
    control.check()?;
    variant.check()?;
    Ok(probability_beta_exceeds(
        1 + control.conversions,
        1 + control.non_conversions(),
        1 + variant.conversions,
        1 + variant.non_conversions(),
    ))
}

/// For each arm, the probability it beats the arm at `control` (`None` for the control).
pub fn probability_beats_control(arms: &[ArmStats], control: usize) -> Result<Vec<Option<f64>>> {
    let Some(control_arm) = arms.get(control) else {
        return Err(crate::error::invalid_input(
            "control",
            format!("no arm {control} among {}", arms.len()),
        ));
    };
    arms.iter()
        .enumerate()
        .map(|(index, arm)| {
            if index == control {
                Ok(None)
            } else {
                probability_beats(control_arm, arm).map(Some)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_conversion_against_none_matches_the_hand_integral() {
        // After 0/1 the control is Beta(1, 2) with density 2(1 − y); after 1/1 the variant is
        // Beta(2, 1) with P(X > y) = 1 − y². P(X > Y) = ∫₀¹ 2(1 − y)(1 − y²) dy
        // = 2 (1 − 1/2 − 1/3 + 1/4) = 5/6.
        let p = probability_beats(&ArmStats::new("A", 1, 0), &ArmStats::new("B", 1, 1)).unwrap();
        assert!((p - 5.0 / 6.0).abs() < 1e-14, "{p}");
        // And the other way round, 1/6.
        let q = probability_beats(&ArmStats::new("B", 1, 1), &ArmStats::new("A", 1, 0)).unwrap();
        assert!((q - 1.0 / 6.0).abs() < 1e-14, "{q}");
    }

    #[test]
    fn equal_arms_are_a_coin_flip() {
        for (visitors, conversions) in [(0, 0), (50, 0), (100, 10), (1000, 500), (30, 30)] {
            let arm = ArmStats::new("A", visitors, conversions);
            let p = probability_beats(&arm, &arm).unwrap();
            assert!((p - 0.5).abs() < 1e-12, "{visitors}/{conversions}: {p}");
        }
    }

    #[test]
    fn larger_samples_match_numerical_integration() {
        // Cross-checked with scipy.integrate.quad of pdf_B(x) · cdf_A(x) over [0, 1].
        let cases = [
            ((1000, 200), (1000, 250), 0.996_283_329_130_440_5),
            ((100, 10), (100, 15), 0.853_283_789_933_966_4),
            ((100, 0), (100, 3), 0.939_360_984_024_600_2),
        ];
        for ((n_a, c_a), (n_b, c_b), expected) in cases {
            let p = probability_beats(&ArmStats::new("A", n_a, c_a), &ArmStats::new("B", n_b, c_b))
                .unwrap();
            assert!(
                (p - expected).abs() < 1e-9,
                "{c_a}/{n_a} vs {c_b}/{n_b}: {p} vs {expected}"
            );
        }
    }

    #[test]
    fn the_two_directions_add_up_to_one() {
        let a = ArmStats::new("A", 321, 17);
        let b = ArmStats::new("B", 287, 23);
        let forward = probability_beats(&a, &b).unwrap();
        let backward = probability_beats(&b, &a).unwrap();
        assert!((forward + backward - 1.0).abs() < 1e-12);
    }

    #[test]
    fn huge_samples_use_the_normal_limit_smoothly() {
        // Just below and above the exact limit the two methods agree closely.
        let exact = probability_beta_exceeds(100_000, 900_001, 100_300, 899_701);
        let approximate = normal_approximation(100_000, 900_001, 100_300, 899_701);
        assert!(
            (exact - approximate).abs() < 1e-3,
            "{exact} vs {approximate}"
        );
        let large = probability_beats(
            &ArmStats::new("A", 2_000_000, 200_000),
            &ArmStats::new("B", 2_000_000, 201_000),
        )
        .unwrap();
        assert!(large > 0.95 && large < 1.0, "{large}");
    }

    #[test]
    fn each_arm_is_compared_with_the_control() {
        let arms = [
            ArmStats::new("A", 1, 0),
            ArmStats::new("B", 1, 1),
            ArmStats::new("C", 1, 0),
        ];
        let p = probability_beats_control(&arms, 0).unwrap();
        assert_eq!(p[0], None);
        assert!((p[1].unwrap() - 5.0 / 6.0).abs() < 1e-14);
        assert!((p[2].unwrap() - 0.5).abs() < 1e-14);
        assert!(probability_beats_control(&arms, 3).is_err());
    }
}
