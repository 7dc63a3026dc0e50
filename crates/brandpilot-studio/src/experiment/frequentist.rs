//! Significance tests on conversion counts. The two-proportion z-test compares one arm with
//! the control (pooled standard error, two-sided p-value); the chi-square test of
//! independence asks whether any of n arms converts differently (a 2 × n table of converted
//! and not converted, n − 1 degrees of freedom). With two arms the chi-square statistic is
//! the square of z and the p-values agree.

use super::ArmStats;
use super::special::{chi_square_sf, erfc};
use crate::error::{Result, invalid_input};
use serde::{Deserialize, Serialize};

/// An arm against the control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZTest {
    pub z: f64,
    /// Two-sided.
    pub p_value: f64,
    pub control_rate: f64,
    pub variant_rate: f64,
    /// variant rate − control rate.
    pub absolute_lift: f64,
    /// (variant − control) / control; `None` when the control never converted.
    pub relative_lift: Option<f64>,
}

/// Two-proportion z-test of `variant` against `control`:
/// z = (p₂ − p₁) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)) with the pooled rate p̂ = (c₁ + c₂)/(n₁ + n₂),
/// p = 2(1 − Φ(|z|)). When nobody or everybody converted there is no variance and no
/// evidence: z = 0, p = 1.
pub fn two_proportion_z_test(control: &ArmStats, variant: &ArmStats) -> Result<ZTest> {
    control.require_visitors()?;
    variant.require_visitors()?;
    let (n1, n2) = (control.visitors as f64, variant.visitors as f64);
    let (p1, p2) = (
        control.conversions as f64 / n1,
        variant.conversions as f64 / n2,
    );
    let pooled = (control.conversions + variant.conversions) as f64 / (n1 + n2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    let (z, p_value) = if variance > 0.0 {
        let z = (p2 - p1) / variance.sqrt();
        (z, erfc(z.abs() / std::f64::consts::SQRT_2))
    } else {
        (0.0, 1.0)
    };
    Ok(ZTest {
        z,
        p_value,
        control_rate: p1,
        variant_rate: p2,
        absolute_lift: p2 - p1,
        relative_lift: (p1 > 0.0).then(|| (p2 - p1) / p1),
    })
}

/// The chi-square test of independence over all arms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    pub statistic: f64,
    pub degrees_of_freedom: usize,
    pub p_value: f64,
}

/// χ² = Σ (observed − expected)² / expected over the 2 × n table of conversions and
/// non-conversions, where an arm's expected conversions are its visitors × the overall
/// rate; p = Q((n − 1)/2, χ²/2). No conversions at all (or only conversions) is no evidence:
/// χ² = 0, p = 1.
pub fn chi_square_test(arms: &[ArmStats]) -> Result<ChiSquare> {
    if arms.len() < 2 {
        return Err(invalid_input("arms", "a test needs at least two arms"));
    }
    for arm in arms {
        arm.require_visitors()?;
    }
    let visitors: f64 = arms.iter().map(|a| a.visitors as f64).sum();
    let conversions: f64 = arms.iter().map(|a| a.conversions as f64).sum();
    let degrees_of_freedom = arms.len() - 1;
    if conversions == 0.0 || conversions == visitors {
        return Ok(ChiSquare {
            statistic: 0.0,
            degrees_of_freedom,
            p_value: 1.0,
        });
    }
    let rate = conversions / visitors;
    let statistic: f64 = arms
        .iter()
        .map(|arm| {
            let n = arm.visitors as f64;
            let expected_yes = n * rate;
            let expected_no = n - expected_yes;
            let yes = arm.conversions as f64;
            let no = n - yes;
            (yes - expected_yes).powi(2) / expected_yes + (no - expected_no).powi(2) / expected_no
        })
        .sum();
    Ok(ChiSquare {
        statistic,
        degrees_of_freedom,
        p_value: chi_square_sf(statistic, degrees_of_freedom as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance
    }

    #[test]
    fn z_test_matches_the_hand_computation() {
        // Control 200/1000 = 0.20, variant 250/1000 = 0.25.
        // pooled p̂ = 450/2000 = 0.225; p̂(1 − p̂) = 0.225 × 0.775 = 0.174375
        // variance = 0.174375 × (1/1000 + 1/1000) = 0.00034875; SE = √0.00034875 = 0.0186748…
        // z = 0.05 / 0.0186748 = 2.677398; p = 2 (1 − Φ(2.677398)) = 0.0074196
        // (scipy: 2.677397763008329 and 0.007419649261025687).
        let test = two_proportion_z_test(
            &ArmStats::new("A", 1000, 200),
            &ArmStats::new("B", 1000, 250),
        )
        .unwrap();
        assert!(close(test.z, 2.677_397_763_008_329, 1e-12), "{test:?}");
        assert!(
            close(test.p_value, 0.007_419_649_261_025_687, 1e-14),
            "{test:?}"
        );
        assert!(close(test.absolute_lift, 0.05, 1e-15));
        assert!(close(test.relative_lift.unwrap(), 0.25, 1e-12));
    }

    #[test]
    fn z_is_antisymmetric_and_the_p_value_symmetric() {
        let a = ArmStats::new("A", 1000, 200);
        let b = ArmStats::new("B", 1000, 250);
        let forward = two_proportion_z_test(&a, &b).unwrap();
        let backward = two_proportion_z_test(&b, &a).unwrap();
        assert!(close(forward.z, -backward.z, 1e-15));
        assert!(close(forward.p_value, backward.p_value, 1e-15));
    }

    #[test]
    fn equal_arms_show_no_difference() {
        let test =
            two_proportion_z_test(&ArmStats::new("A", 500, 40), &ArmStats::new("B", 500, 40))
                .unwrap();
        assert_eq!(test.z, 0.0);
        assert!(close(test.p_value, 1.0, 1e-15));
    }

    #[test]
    fn zero_conversions_everywhere_is_no_evidence() {
        let test = two_proportion_z_test(&ArmStats::new("A", 300, 0), &ArmStats::new("B", 300, 0))
            .unwrap();
        assert_eq!((test.z, test.p_value), (0.0, 1.0));
        assert_eq!(test.relative_lift, None);
        let all = two_proportion_z_test(&ArmStats::new("A", 10, 10), &ArmStats::new("B", 10, 10))
            .unwrap();
        assert_eq!((all.z, all.p_value), (0.0, 1.0));
    }

    #[test]
    fn a_zero_conversion_control_still_tests() {
        // Control 0/100, variant 5/100: p̂ = 5/200 = 0.025, variance = 0.025 × 0.975 × 0.02
        // = 0.0004875, SE = 0.0220794, z = 0.05 / 0.0220794 = 2.264554.
        let test = two_proportion_z_test(&ArmStats::new("A", 100, 0), &ArmStats::new("B", 100, 5))
            .unwrap();
        assert!(close(test.z, 0.05 / 0.0004875f64.sqrt(), 1e-12), "{test:?}");
        assert_eq!(test.relative_lift, None);
        assert!(test.p_value < 0.05 && test.p_value > 0.01, "{test:?}");
    }

    #[test]
    fn tiny_samples_are_never_significant_by_accident() {
        // 1/2 against 0/2: one conversion proves nothing.
        let test =
            two_proportion_z_test(&ArmStats::new("A", 2, 0), &ArmStats::new("B", 2, 1)).unwrap();
        assert!(test.p_value > 0.2, "{test:?}");
    }

    #[test]
    fn arms_without_visitors_or_with_impossible_counts_are_refused() {
        let error = two_proportion_z_test(&ArmStats::new("A", 0, 0), &ArmStats::new("B", 10, 1))
            .unwrap_err();
        assert_eq!(error.code(), "insufficient_data");
        let error = two_proportion_z_test(&ArmStats::new("A", 10, 11), &ArmStats::new("B", 10, 1))
            .unwrap_err();
        assert_eq!(error.code(), "invalid_input");
    }

    #[test]
    fn chi_square_of_three_arms_matches_the_hand_computation() {
        // Arms 100/1000, 120/1000, 150/1000: overall 370/3000, so each arm expects
        // 123.333… conversions and 876.666… non-conversions.
        // χ² = (23.333²/123.333 + 23.333²/876.667) + (3.333²/123.333 + 3.333²/876.667)
        //    + (26.667²/123.333 + 26.667²/876.667)
        //    = 4.41441 + 0.62104 + 0.09009 + 0.01267 + 5.76577 + 0.81115 = 11.71514
        // With 2 degrees of freedom p = e^(−χ²/2) = e^(−5.85757) = 0.0028582
        // (scipy chi2_contingency: 11.715137190422361, 0.0028581846449488193).
        let arms = [
            ArmStats::new("A", 1000, 100),
            ArmStats::new("B", 1000, 120),
            ArmStats::new("C", 1000, 150),
        ];
        let test = chi_square_test(&arms).unwrap();
        assert_eq!(test.degrees_of_freedom, 2);
        assert!(
            close(test.statistic, 11.715_137_190_422_361, 1e-10),
            "{test:?}"
        );
        assert!(
            close(test.p_value, (-test.statistic / 2.0).exp(), 1e-15),
            "{test:?}"
        );
        assert!(
            close(test.p_value, 0.002_858_184_644_948_819_3, 1e-13),
            "{test:?}"
        );
    }

    #[test]
    fn with_two_arms_chi_square_is_z_squared() {
        let a = ArmStats::new("A", 1000, 200);
        let b = ArmStats::new("B", 1000, 250);
        let z = two_proportion_z_test(&a, &b).unwrap();
        let chi = chi_square_test(&[a, b]).unwrap();
        assert!(close(chi.statistic, z.z * z.z, 1e-10));
        assert!(close(chi.p_value, z.p_value, 1e-13));
        // 7.168458781362005 is (2.677397763008329)².
        assert!(close(chi.statistic, 7.168_458_781_362_005, 1e-10));
    }

    #[test]
    fn chi_square_needs_two_arms_with_visitors() {
        assert!(chi_square_test(&[ArmStats::new("A", 10, 1)]).is_err());
        assert!(chi_square_test(&[ArmStats::new("A", 10, 1), ArmStats::new("B", 0, 0)]).is_err());
        let none =
            chi_square_test(&[ArmStats::new("A", 10, 0), ArmStats::new("B", 10, 0)]).unwrap();
        assert_eq!((none.statistic, none.p_value), (0.0, 1.0));
    }
}
