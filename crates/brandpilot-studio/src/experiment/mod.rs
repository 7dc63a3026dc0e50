//! A/B(/n) experiments over variants: which arm a visitor sees (deterministic, by hashing),
//! how the arms convert, whether the difference is real (a two-proportion z-test or a
//! chi-square test of independence, and the Bayesian probability that each arm beats the
//! control), when to declare a winner, and a Thompson-sampling bandit that moves traffic
//! towards the better arm while the test runs.
//!
//! Everything is deterministic given its inputs: assignment hashes, the statistics are exact
//! formulas and numerical special functions (no sampling), and the bandit draws from a
//! random source the caller seeds. The store records impressions and conversions; this
//! module only does the arithmetic, so it is tested against hand-computed values.

pub mod assign;
pub mod bandit;
pub mod bayes;
pub mod frequentist;
pub mod special;
pub mod winner;

pub use assign::assign_arm;
pub use bandit::{RandomSource, SplitMix64, thompson_allocation, thompson_pick};
pub use bayes::{probability_beats, probability_beats_control};
pub use frequentist::{ChiSquare, ZTest, chi_square_test, two_proportion_z_test};
pub use winner::{Analysis, ArmAnalysis, Decision, TestMethod, WinnerConfig, analyse};

use crate::error::{Result, StudioError, invalid_input};
use serde::{Deserialize, Serialize};

/// What one arm of an experiment has seen so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmStats {
    pub name: String,
    /// Visitors assigned to the arm (impressions).
    pub visitors: u64,
    pub conversions: u64,
}

impl ArmStats {
    pub fn new(name: impl Into<String>, visitors: u64, conversions: u64) -> ArmStats {
        ArmStats {
            name: name.into(),
            visitors,
            conversions,
        }
    }

    /// The conversion rate; `None` before the arm has a visitor.
    pub fn rate(&self) -> Option<f64> {
        (self.visitors > 0).then(|| self.conversions as f64 / self.visitors as f64)
    }

    pub fn non_conversions(&self) -> u64 {
        self.visitors.saturating_sub(self.conversions)
    }

    /// Refuses counts that cannot be (more conversions than visitors).
    pub(crate) fn check(&self) -> Result<()> {
        if self.conversions > self.visitors {
            return Err(invalid_input(
                "arms",
                format!(
                    "arm {:?} has {} conversions from {} visitors",
                    self.name, self.conversions, self.visitors
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn require_visitors(&self) -> Result<()> {
        self.check()?;
        if self.visitors == 0 {
            return Err(StudioError::InsufficientData(format!(
                "arm {:?} has no visitors yet",
                self.name
            )));
        }
        Ok(())
    }
}
