//! A/B(/n) experiments over a brand's variants: which arm a visitor sees, the impressions
//! and conversions a website reports, and what the numbers say (per-arm conversion rates,
//! each arm against the control, the omnibus chi-square test, the probability to beat the
//! control, and a winner once the configured significance and minimum sample are met).
//!
//! In `ab` mode a visitor is assigned by hashing (experiment id, visitor id) onto the arms'
//! weights: the same visitor always sees the same arm, with nothing stored. In `bandit` mode
//! each assignment is a Thompson-sampling draw from the arms' posteriors, seeded from a hash
//! of (experiment id, visitor id, impressions so far): reproducible for the same state, and
//! moving traffic towards the better arm as evidence comes in. A stopped experiment shows
//! every visitor its winner (the control when none was declared) and counts nothing more.
//!
//! The arithmetic is `brandpilot_studio::experiment`'s; counts live in the store and only
//! grow by atomic increments. Every operation takes the brand, so another brand's
//! experiment id is simply not found.

use crate::access::checked_name;
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::ExperimentId;
use brandpilot_store::{Brand, ExperimentEvent, ExperimentRecord, NewExperiment};
use brandpilot_studio::experiment::assign::assignment_hash;
use brandpilot_studio::experiment::{
    Analysis, ArmStats, SplitMix64, TestMethod, WinnerConfig, analyse, assign_arm, thompson_pick,
};
use serde::{Deserialize, Serialize};

const MIN_ARMS: usize = 2;
const MAX_ARMS: usize = 10;
const MAX_ARM_NAME_CHARS: usize = 100;
const MAX_VARIANT_CHARS: usize = 20_000;
const MAX_WEIGHT: u32 = 10_000;
const MAX_VISITOR_ID_CHARS: usize = 200;

/// How traffic is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExperimentMode {
    /// A fixed split by weights, deterministic per visitor.
    Ab,
    /// Thompson sampling: traffic follows the evidence.
    Bandit,
}

impl ExperimentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentMode::Ab => "ab",
            ExperimentMode::Bandit => "bandit",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "ab" => Ok(ExperimentMode::Ab),
            "bandit" => Ok(ExperimentMode::Bandit),
            other => Err(AppError::Task(format!("unknown experiment mode {other:?}"))),
        }
    }
}

/// One arm: its name and the variant it shows (copy, or a reference to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arm {
    pub name: String,
    #[serde(default)]
    pub variant: String,
}

/// An experiment to start.
#[derive(Debug, Clone)]
pub struct ExperimentRequest {
    pub name: String,
    /// Control first.
    pub arms: Vec<Arm>,
    /// One per arm; an even split when absent.
    pub weights: Option<Vec<u32>>,
    pub mode: ExperimentMode,
    /// α, in (0, 0.5]; 0.05 when absent.
    pub significance: Option<f64>,
    /// Impressions every arm needs before a winner may be declared; 1,000 when absent.
    pub min_sample: Option<u64>,
}

/// An experiment with its counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub id: ExperimentId,
    pub name: String,
    pub mode: ExperimentMode,
    /// Whether it still assigns by evidence and counts events.
    pub running: bool,
    pub arms: Vec<Arm>,
    pub weights: Vec<u32>,
    pub significance: f64,
    pub min_sample: u64,
    /// The arm declared the winner when it was stopped.
    pub winner: Option<String>,
    /// Impressions and conversions per arm, as the statistics read them.
    pub stats: Vec<ArmStats>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Experiment {
    fn from_record(record: ExperimentRecord) -> Result<Self> {
        let corrupt = |what: &str, e: serde_json::Error| {
            AppError::Task(format!("experiment {}: stored {what}: {e}", record.id))
        };
        let arms: Vec<Arm> =
            serde_json::from_str(&record.arms_json).map_err(|e| corrupt("arms", e))?;
        let weights: Vec<u32> =
            serde_json::from_str(&record.weights_json).map_err(|e| corrupt("weights", e))?;
        let stats = arms
            .iter()
            .enumerate()
            .map(|(index, arm)| {
                let counts = record.counts.get(index).copied().unwrap_or_default();
                ArmStats::new(
                    arm.name.clone(),
                    u64::try_from(counts.impressions).unwrap_or(0),
                    u64::try_from(counts.conversions).unwrap_or(0),
                )
            })
            .collect();
        Ok(Self {
            id: record.id,
            name: record.name,
            mode: ExperimentMode::parse(&record.mode)?,
            running: record.status == "running",
            arms,
            weights,
            significance: record.significance,
            min_sample: u64::try_from(record.min_sample).unwrap_or(0),
            winner: record.winner,
            stats,
            created_at_ms: record.created_at_ms,
            updated_at_ms: record.updated_at_ms,
        })
    }

    /// What the numbers say so far, against the first arm as the control.
    pub fn analysis(&self) -> Result<Analysis> {
        let config = WinnerConfig {
            significance: self.significance,
            min_sample_per_arm: self.min_sample,
            method: TestMethod::ZTest,
            min_probability_to_beat: None,
        };
        analyse(&self.stats, 0, &config).map_err(|e| AppError::InvalidInput(e.to_string()))
    }

    fn arm_index(&self, name: &str) -> Result<usize> {
        self.arms
            .iter()
            .position(|arm| arm.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.arms.iter().map(|a| a.name.as_str()).collect();
                AppError::InvalidInput(format!(
                    "experiment {} has no arm {name:?}; its arms are {names:?}",
                    self.id
                ))
            })
    }
}

/// The arm a visitor is to see.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub index: usize,
    pub arm: Arm,
}

/// What an experiment event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Impression,
    Conversion,
}

fn check_visitor(visitor_id: &str) -> Result<()> {
    if visitor_id.trim().is_empty() || visitor_id.chars().count() > MAX_VISITOR_ID_CHARS {
        return Err(AppError::InvalidInput(format!(
            "visitor_id: 1 to {MAX_VISITOR_ID_CHARS} characters naming the visitor"
        )));
    }
    Ok(())
}

fn checked_request(request: &ExperimentRequest) -> Result<(Vec<Arm>, Vec<u32>, f64, u64)> {
    if !(MIN_ARMS..=MAX_ARMS).contains(&request.arms.len()) {
        return Err(AppError::InvalidInput(format!(
            "an experiment has {MIN_ARMS} to {MAX_ARMS} arms; {} were given",
            request.arms.len()
        )));
    }
    let mut arms: Vec<Arm> = Vec::with_capacity(request.arms.len());
    for arm in &request.arms {
        let name = arm.name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_ARM_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(AppError::InvalidInput(format!(
                "an arm's name has 1 to {MAX_ARM_NAME_CHARS} characters, none of them control \
                 characters"
            )));
        }
        if arms
            .iter()
            .any(|a| a.name.to_lowercase() == name.to_lowercase())
        {
            return Err(AppError::InvalidInput(format!(
                "two arms are named {name:?}; each arm needs its own name"
            )));
        }
        if arm.variant.chars().count() > MAX_VARIANT_CHARS {
            return Err(AppError::InvalidInput(format!(
                "an arm's variant has at most {MAX_VARIANT_CHARS} characters"
            )));
        }
        arms.push(Arm {
            name: name.to_owned(),
            variant: arm.variant.clone(),
        });
    }
    let weights = match &request.weights {
        None => vec![1; arms.len()],
        Some(weights) => {
            if weights.len() != arms.len() {
                return Err(AppError::InvalidInput(format!(
                    "{} weights for {} arms: give one weight per arm",
                    weights.len(),
                    arms.len()
                )));
            }
            if weights.iter().any(|&w| w > MAX_WEIGHT) || weights.iter().all(|&w| w == 0) {
                return Err(AppError::InvalidInput(format!(
                    "weights are 0 to {MAX_WEIGHT}, and at least one is above 0"
                )));
            }
            weights.clone()
        }
    };
    let defaults = WinnerConfig::default();
    let significance = request.significance.unwrap_or(defaults.significance);
    if !(significance > 0.0 && significance <= 0.5) {
        return Err(AppError::InvalidInput(format!(
            "significance is a false-positive rate above 0 and at most 0.5 (0.05 is usual); \
             {significance} was given"
        )));
    }
    let min_sample = request.min_sample.unwrap_or(defaults.min_sample_per_arm);
    if !(1..=100_000_000).contains(&min_sample) {
        return Err(AppError::InvalidInput(
            "min_sample is 1 to 100,000,000 impressions per arm".into(),
        ));
    }
    Ok((arms, weights, significance, min_sample))
}

impl Brandpilot {
    pub async fn create_experiment(
        &self,
        brand: &Brand,
        request: &ExperimentRequest,
    ) -> Result<Experiment> {
        let name = checked_name("experiment", &request.name)?;
        let (arms, weights, significance, min_sample) = checked_request(request)?;
        let record = self
            .store
            .create_experiment(&NewExperiment {
                brand: brand.id,
                name: name.to_owned(),
                arms_json: to_json(&arms)?,
                arm_count: arms.len(),
                weights_json: to_json(&weights)?,
                mode: request.mode.as_str().to_owned(),
                significance,
                min_sample: i64::try_from(min_sample).unwrap_or(i64::MAX),
            })
            .await?;
        Experiment::from_record(record)
    }

    /// The brand's experiments, oldest first.
    pub async fn experiments(&self, brand: &Brand) -> Result<Vec<Experiment>> {
        self.store
            .experiments(brand.id)
            .await?
            .into_iter()
            .map(Experiment::from_record)
            .collect()
    }

    pub async fn experiment(&self, brand: &Brand, id: ExperimentId) -> Result<Experiment> {
        let record = self
            .store
            .experiment(brand.id, id)
            .await?
            .ok_or(AppError::ExperimentNotFound(id.0))?;
        Experiment::from_record(record)
    }

    /// The arm `visitor_id` is to see now.
    pub async fn assign_experiment_arm(
        &self,
        brand: &Brand,
        id: ExperimentId,
        visitor_id: &str,
    ) -> Result<Assignment> {
        check_visitor(visitor_id)?;
        let experiment = self.experiment(brand, id).await?;
        let index = if !experiment.running {
            experiment
                .winner
                .as_deref()
                .and_then(|winner| experiment.arm_index(winner).ok())
                .unwrap_or(0)
        } else {
            match experiment.mode {
                ExperimentMode::Ab => {
                    assign_arm(&id.0.to_string(), visitor_id, &experiment.weights)
                        .map_err(|e| AppError::InvalidInput(e.to_string()))?
                }
                ExperimentMode::Bandit => {
                    let impressions: u64 = experiment.stats.iter().map(|s| s.visitors).sum();
                    let seed = assignment_hash(&format!("bandit/{id}/{impressions}"), visitor_id);
                    thompson_pick(&experiment.stats, &mut SplitMix64::new(seed))
                        .map_err(|e| AppError::InvalidInput(e.to_string()))?
                }
            }
        };
        Ok(Assignment {
            index,
            arm: experiment.arms[index].clone(),
        })
    }

    /// Counts an impression or a conversion for the arm named `arm`; the experiment with
    /// its counts after it.
    pub async fn record_experiment_event(
        &self,
        brand: &Brand,
        id: ExperimentId,
        arm: &str,
        kind: EventKind,
        visitor_id: Option<&str>,
    ) -> Result<Experiment> {
        if let Some(visitor_id) = visitor_id {
            check_visitor(visitor_id)?;
        }
        let experiment = self.experiment(brand, id).await?;
        let index = experiment.arm_index(arm)?;
        if !experiment.running {
            return Err(AppError::Conflict(format!(
                "experiment {id} is stopped; it counts no more events"
            )));
        }
        let event = match kind {
            EventKind::Impression => ExperimentEvent::Impression,
            EventKind::Conversion => ExperimentEvent::Conversion,
        };
        if !self
            .store
            .record_experiment_event(brand.id, id, index, event)
            .await?
        {
            // Found and running a moment ago: either a conversion without an impression
            // left to convert, or the experiment was stopped in between.
            let now = self.experiment(brand, id).await?;
            return Err(if now.running {
                AppError::InvalidInput(format!(
                    "arm {arm:?} has as many conversions as impressions; report the \
                     visitor's impression before their conversion"
                ))
            } else {
                AppError::Conflict(format!(
                    "experiment {id} is stopped; it counts no more events"
                ))
            });
        }
        self.experiment(brand, id).await
    }

    /// Stops a running experiment, declaring the winner its numbers support now (if any).
    /// Stopping a stopped experiment changes nothing.
    pub async fn stop_experiment(&self, brand: &Brand, id: ExperimentId) -> Result<Experiment> {
        let experiment = self.experiment(brand, id).await?;
        if experiment.running {
            let winner = match experiment.analysis()?.decision {
                brandpilot_studio::experiment::Decision::Winner { name, .. } => Some(name),
                brandpilot_studio::experiment::Decision::NeedMoreData { .. }
                | brandpilot_studio::experiment::Decision::NoWinnerYet { .. } => None,
            };
            self.store
                .stop_experiment(brand.id, id, winner.as_deref())
                .await?;
        }
        self.experiment(brand, id).await
    }
}

/// The JSON text of a value stored in a JSON column.
fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| AppError::Task(e.to_string()))
}
