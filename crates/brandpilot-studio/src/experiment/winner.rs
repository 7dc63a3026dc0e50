//! Reading an experiment: per-arm rates, each arm against the control, and whether a winner
//! can be declared yet. A winner needs every arm to have reached the minimum sample (peeking
//! at small samples finds winners that are not there), and then significance at the
//! configured level:
//!
//! - z-test method: each arm is tested against the control with the significance divided
//!   by the number of comparisons (Bonferroni), so an A/B/C/D test is not three times as
//!   likely to crown a fluke. The best arm that significantly beats the control wins; if
//!   every arm is significantly worse than the control, the control wins.
//! - chi-square method: the omnibus test must reject "all arms convert alike", and the best
//!   arm must also significantly beat the runner-up, so a winner is never a near tie.
//!
//! Optionally the winner must also beat the control (or the runner-up) with a minimum
//! Bayesian probability.

use super::ArmStats;
use super::bayes::probability_beats;
use super::frequentist::{ChiSquare, ZTest, chi_square_test, two_proportion_z_test};
use crate::error::{Result, invalid_input};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestMethod {
    ZTest,
    ChiSquare,
}

/// When a winner may be declared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WinnerConfig {
    /// The significance level α (the false-positive rate accepted), e.g. 0.05.
    pub significance: f64,
    /// Visitors every arm must have before any decision.
    pub min_sample_per_arm: u64,
    pub method: TestMethod,
    /// If set, the winner must also beat the arm it is compared with with at least this
    /// Bayesian probability (e.g. 0.95).
    pub min_probability_to_beat: Option<f64>,
}

impl Default for WinnerConfig {
    fn default() -> Self {
        WinnerConfig {
            significance: 0.05,
            min_sample_per_arm: 1_000,
            method: TestMethod::ZTest,
            min_probability_to_beat: None,
        }
    }
}

/// One arm's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmAnalysis {
    pub name: String,
    pub visitors: u64,
    pub conversions: u64,
    pub rate: Option<f64>,
    /// This arm against the control (`None` for the control, or without visitors).
    pub vs_control: Option<ZTest>,
    pub probability_beats_control: Option<f64>,
}

/// What the experiment says so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Some arms have fewer visitors than the minimum sample.
    NeedMoreData {
        arms: Vec<String>,
        min_sample_per_arm: u64,
    },
    /// Enough data, no winner at the configured significance.
    NoWinnerYet { reason: String },
    Winner {
        arm: usize,
        name: String,
        p_value: f64,
        probability_to_beat: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub control: usize,
    pub arms: Vec<ArmAnalysis>,
    /// The omnibus test over all arms (when every arm has visitors).
    pub chi_square: Option<ChiSquare>,
    pub decision: Decision,
}

/// Analyses `arms` against the arm at `control`.
pub fn analyse(arms: &[ArmStats], control: usize, config: &WinnerConfig) -> Result<Analysis> {
    if arms.len() < 2 {
        return Err(invalid_input(
            "arms",
            "an experiment needs at least two arms",
        ));
    }
    if control >= arms.len() {
        return Err(invalid_input(
            "control",
            format!("no arm {control} among {}", arms.len()),
        ));
    }
    if !(config.significance > 0.0 && config.significance < 1.0) {
        return Err(invalid_input(
            "significance",
            format!("{} is not between 0 and 1", config.significance),
        ));
    }
    if let Some(p) = config.min_probability_to_beat
        && !(0.0..=1.0).contains(&p)
    {
        return Err(invalid_input(
            "min_probability_to_beat",
            format!("{p} is not a probability"),
        ));
    }
    for arm in arms {
        arm.check()?;
    }
    let control_arm = &arms[control];
    let analysed: Vec<ArmAnalysis> = arms
        .iter()
        .enumerate()
        .map(|(index, arm)| {
            let compared = index != control && arm.visitors > 0 && control_arm.visitors > 0;
            ArmAnalysis {
                name: arm.name.clone(),
                visitors: arm.visitors,
                conversions: arm.conversions,
                rate: arm.rate(),
                vs_control: if compared {
                    two_proportion_z_test(control_arm, arm).ok()
                } else {
                    None
                },
                probability_beats_control: (index != control)
                    .then(|| probability_beats(control_arm, arm).ok())
                    .flatten(),
            }
        })
        .collect();
    let chi_square = if arms.iter().all(|arm| arm.visitors > 0) {
        chi_square_test(arms).ok()
    } else {
        None
    };

    let short: Vec<String> = arms
        .iter()
        .filter(|arm| arm.visitors < config.min_sample_per_arm || arm.visitors == 0)
        .map(|arm| arm.name.clone())
        .collect();
    let decision = if !short.is_empty() {
        Decision::NeedMoreData {
            arms: short,
            min_sample_per_arm: config.min_sample_per_arm,
        }
    } else {
        match config.method {
            TestMethod::ZTest => decide_by_z_tests(arms, control, &analysed, config),
            TestMethod::ChiSquare => decide_by_chi_square(arms, chi_square, config)?,
        }
    };
    Ok(Analysis {
        control,
        arms: analysed,
        chi_square,
        decision,
    })
}

fn rate(arm: &ArmStats) -> f64 {
    arm.rate().unwrap_or(0.0)
}

fn decide_by_z_tests(
    arms: &[ArmStats],
    control: usize,
    analysed: &[ArmAnalysis],
    config: &WinnerConfig,
) -> Decision {
    let comparisons = (arms.len() - 1) as f64;
    let alpha = config.significance / comparisons;
    let enough_probability = |p: f64| config.min_probability_to_beat.is_none_or(|min| p >= min);
    let control_rate = rate(&arms[control]);
    let better = analysed
        .iter()
        .enumerate()
        .filter(|&(index, _)| index != control)
        .filter_map(|(index, arm)| {
            let test = arm.vs_control?;
            let probability = arm.probability_beats_control?;
            (test.p_value < alpha
                && rate(&arms[index]) > control_rate
                && enough_probability(probability))
            .then_some((index, test.p_value, probability))
        })
        .max_by(|a, b| {
            rate(&arms[a.0])
                .total_cmp(&rate(&arms[b.0]))
                .then(b.0.cmp(&a.0))
        });
    if let Some((index, p_value, probability)) = better {
        return Decision::Winner {
            arm: index,
            name: arms[index].name.clone(),
            p_value,
            probability_to_beat: probability,
        };
    }
    let others: Vec<(f64, f64)> = analysed
        .iter()
        .enumerate()
        .filter(|&(index, _)| index != control)
        .filter_map(|(index, arm)| {
            let test = arm.vs_control?;
            let control_wins = 1.0 - arm.probability_beats_control?;
            (test.p_value < alpha && rate(&arms[index]) < control_rate)
                .then_some((test.p_value, control_wins))
        })
        .collect();
    if others.len() == arms.len() - 1 {
        let p_value = others.iter().map(|o| o.0).fold(0.0, f64::max);
        let probability = others.iter().map(|o| o.1).fold(1.0, f64::min);
        if enough_probability(probability) {
            return Decision::Winner {
                arm: control,
                name: arms[control].name.clone(),
                p_value,
                probability_to_beat: probability,
            };
        }
    }
    Decision::NoWinnerYet {
        reason: format!(
            "no arm differs from the control at significance {} ({} after Bonferroni correction for {} comparisons)",
            config.significance,
            alpha,
            arms.len() - 1
        ),
    }
}

fn decide_by_chi_square(
    arms: &[ArmStats],
    chi_square: Option<ChiSquare>,
    config: &WinnerConfig,
) -> Result<Decision> {
    let Some(omnibus) = chi_square else {
        return Ok(Decision::NoWinnerYet {
            reason: "an arm has no visitors".to_owned(),
        });
    };
    if omnibus.p_value >= config.significance {
        return Ok(Decision::NoWinnerYet {
            reason: format!(
                "the arms do not convert differently at significance {} (chi-square p = {:.4})",
                config.significance, omnibus.p_value
            ),
        });
    }
    let mut order: Vec<usize> = (0..arms.len()).collect();
    order.sort_by(|&a, &b| rate(&arms[b]).total_cmp(&rate(&arms[a])).then(a.cmp(&b)));
    let (best, runner_up) = (order[0], order[1]);
    let pairwise = two_proportion_z_test(&arms[runner_up], &arms[best])?;
    let probability = probability_beats(&arms[runner_up], &arms[best])?;
    if pairwise.p_value < config.significance
        && config
            .min_probability_to_beat
            .is_none_or(|min| probability >= min)
    {
        Ok(Decision::Winner {
            arm: best,
            name: arms[best].name.clone(),
            p_value: pairwise.p_value,
            probability_to_beat: probability,
        })
    } else {
        Ok(Decision::NoWinnerYet {
            reason: format!(
                "the arms differ (chi-square p = {:.4}) but {} is not yet separable from {} (p = {:.4})",
                omnibus.p_value, arms[best].name, arms[runner_up].name, pairwise.p_value
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(min_sample: u64) -> WinnerConfig {
        WinnerConfig {
            min_sample_per_arm: min_sample,
            ..WinnerConfig::default()
        }
    }

    #[test]
    fn a_clear_winner_is_declared_with_its_evidence() {
        // 200/1000 vs 250/1000: p = 0.00742 < 0.05, P(B beats A) = 0.99628.
        let arms = [ArmStats::new("A", 1000, 200), ArmStats::new("B", 1000, 250)];
        let analysis = analyse(&arms, 0, &config(1000)).unwrap();
        let Decision::Winner {
            arm,
            name,
            p_value,
            probability_to_beat,
        } = &analysis.decision
        else {
            panic!("{:?}", analysis.decision)
        };
        assert_eq!((*arm, name.as_str()), (1, "B"));
        assert!((p_value - 0.007_419_649_261_025_687).abs() < 1e-12);
        assert!((probability_to_beat - 0.996_283_329_130_440_5).abs() < 1e-9);
        assert_eq!(analysis.arms[0].vs_control, None);
        assert!((analysis.arms[1].rate.unwrap() - 0.25).abs() < 1e-15);
    }

    #[test]
    fn nothing_is_declared_before_every_arm_reaches_the_minimum_sample() {
        let arms = [ArmStats::new("A", 1000, 200), ArmStats::new("B", 999, 250)];
        let analysis = analyse(&arms, 0, &config(1000)).unwrap();
        assert_eq!(
            analysis.decision,
            Decision::NeedMoreData {
                arms: vec!["B".into()],
                min_sample_per_arm: 1000
            }
        );
        // The numbers are still shown.
        assert!(analysis.arms[1].vs_control.unwrap().p_value < 0.01);
    }

    #[test]
    fn equal_arms_have_no_winner() {
        let arms = [ArmStats::new("A", 2000, 100), ArmStats::new("B", 2000, 100)];
        let analysis = analyse(&arms, 0, &config(1000)).unwrap();
        assert!(
            matches!(analysis.decision, Decision::NoWinnerYet { .. }),
            "{:?}",
            analysis.decision
        );
        let p = analysis.arms[1].probability_beats_control.unwrap();
        assert!((p - 0.5).abs() < 1e-10, "{p}");
    }

    #[test]
    fn zero_conversion_arms_have_no_winner_and_no_crash() {
        let arms = [
            ArmStats::new("A", 1500, 0),
            ArmStats::new("B", 1500, 0),
            ArmStats::new("C", 1500, 0),
        ];
        for method in [TestMethod::ZTest, TestMethod::ChiSquare] {
            let analysis = analyse(
                &arms,
                0,
                &WinnerConfig {
                    method,
                    ..config(1000)
                },
            )
            .unwrap();
            assert!(
                matches!(analysis.decision, Decision::NoWinnerYet { .. }),
                "{method:?}"
            );
            assert_eq!(analysis.chi_square.unwrap().p_value, 1.0);
        }
    }

    #[test]
    fn bonferroni_keeps_a_marginal_arm_among_many_from_winning() {
        // B vs A alone: z = 0.024/√(0.112 × 0.888 × 2/2000) = 0.024/0.009973 = 2.4065,
        // p = 0.0161 < 0.05, a winner in a plain A/B test…
        let ab = [ArmStats::new("A", 2000, 200), ArmStats::new("B", 2000, 248)];
        assert!(matches!(
            analyse(&ab, 0, &config(1000)).unwrap().decision,
            Decision::Winner { arm: 1, .. }
        ));
        // …but with four challengers each comparison must reach 0.05 / 4 = 0.0125.
        let many = [
            ArmStats::new("A", 2000, 200),
            ArmStats::new("B", 2000, 248),
            ArmStats::new("C", 2000, 205),
            ArmStats::new("D", 2000, 195),
            ArmStats::new("E", 2000, 210),
        ];
        let analysis = analyse(&many, 0, &config(1000)).unwrap();
        assert!(
            matches!(analysis.decision, Decision::NoWinnerYet { .. }),
            "{:?}",
            analysis.decision
        );
    }

    #[test]
    fn a_control_that_beats_every_challenger_wins() {
        let arms = [
            ArmStats::new("A", 1000, 250),
            ArmStats::new("B", 1000, 180),
            ArmStats::new("C", 1000, 170),
        ];
        let analysis = analyse(&arms, 0, &config(1000)).unwrap();
        assert!(
            matches!(analysis.decision, Decision::Winner { arm: 0, .. }),
            "{:?}",
            analysis.decision
        );
    }

    #[test]
    fn chi_square_needs_the_best_arm_clear_of_the_runner_up() {
        // C (150) vs B (120): pooled 0.135, SE = √(0.135 × 0.865 × 0.002) = 0.015283,
        // z = 0.03/0.015283 = 1.963, p = 0.0497 < 0.05: C wins.
        let arms = [
            ArmStats::new("A", 1000, 100),
            ArmStats::new("B", 1000, 120),
            ArmStats::new("C", 1000, 150),
        ];
        let chi = WinnerConfig {
            method: TestMethod::ChiSquare,
            ..config(1000)
        };
        let analysis = analyse(&arms, 0, &chi).unwrap();
        assert!(
            matches!(analysis.decision, Decision::Winner { arm: 2, .. }),
            "{:?}",
            analysis.decision
        );
        // B at 140 is a near tie with C: the arms differ, but no winner yet.
        let close = [
            ArmStats::new("A", 1000, 100),
            ArmStats::new("B", 1000, 140),
            ArmStats::new("C", 1000, 150),
        ];
        let analysis = analyse(&close, 0, &chi).unwrap();
        let Decision::NoWinnerYet { reason } = &analysis.decision else {
            panic!("{:?}", analysis.decision)
        };
        assert!(reason.contains("not yet separable"), "{reason}");
    }

    #[test]
    fn a_bayesian_threshold_can_hold_a_winner_back() {
        let arms = [ArmStats::new("A", 1000, 200), ArmStats::new("B", 1000, 250)];
        let strict = WinnerConfig {
            min_probability_to_beat: Some(0.999),
            ..config(1000)
        };
        assert!(matches!(
            analyse(&arms, 0, &strict).unwrap().decision,
            Decision::NoWinnerYet { .. }
        ));
        let lenient = WinnerConfig {
            min_probability_to_beat: Some(0.99),
            ..config(1000)
        };
        assert!(matches!(
            analyse(&arms, 0, &lenient).unwrap().decision,
            Decision::Winner { arm: 1, .. }
        ));
    }

    #[test]
    fn malformed_experiments_are_refused() {
        let arms = [ArmStats::new("A", 10, 1), ArmStats::new("B", 10, 2)];
        assert!(analyse(&arms[..1], 0, &config(1)).is_err());
        assert!(analyse(&arms, 2, &config(1)).is_err());
        assert!(
            analyse(
                &arms,
                0,
                &WinnerConfig {
                    significance: 0.0,
                    ..config(1)
                }
            )
            .is_err()
        );
        assert!(
            analyse(
                &[ArmStats::new("A", 1, 2), ArmStats::new("B", 1, 0)],
                0,
                &config(1)
            )
            .is_err()
        );
    }

    #[test]
    fn an_analysis_travels_as_json() {
        let arms = [ArmStats::new("A", 1000, 200), ArmStats::new("B", 1000, 250)];
        let analysis = analyse(&arms, 0, &config(1000)).unwrap();
        let json = serde_json::to_value(&analysis).unwrap();
        assert_eq!(json["decision"]["decision"], "winner");
        assert_eq!(json["decision"]["name"], "B");
        let back: Analysis = serde_json::from_value(json).unwrap();
        assert_eq!(back, analysis);
    }
}
