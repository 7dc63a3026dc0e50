//! The parts of [`Store`] that keep Studio's state: each brand's content rules (one JSON
//! document per brand), the text of a brand's chunks for SEO keyword weighting, and A/B(/n)
//! experiments with their per-arm impression and conversion counts.
//!
//! Every operation takes the brand that owns the row and both backends match on it in SQL,
//! so another brand's experiment id finds and changes nothing. Counts only ever change by
//! one in a single `UPDATE … SET n = n + 1`, so concurrent reports lose nothing, and a
//! conversion is counted only while the arm has more impressions than conversions. This
//! module only dispatches and defines the records; it must never hold SQL.

use crate::{Result, Store};
use brandpilot_core::{BrandId, ExperimentId};

/// An experiment to create; its arms start with no impressions and no conversions.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExperiment {
    pub brand: BrandId,
    pub name: String,
    /// The arms as a JSON array of `{name, variant}` objects, control first.
    pub arms_json: String,
    /// How many arms `arms_json` holds: one count row is made for each.
    pub arm_count: usize,
    /// The traffic weight of each arm, as a JSON array.
    pub weights_json: String,
    /// `ab` or `bandit`.
    pub mode: String,
    pub significance: f64,
    pub min_sample: i64,
}

/// What one arm has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ArmCounts {
    pub impressions: i64,
    pub conversions: i64,
}

/// A stored experiment with its counts, one entry per arm in arm order.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRecord {
    pub id: ExperimentId,
    pub brand: BrandId,
    pub name: String,
    pub arms_json: String,
    pub weights_json: String,
    pub mode: String,
    pub significance: f64,
    pub min_sample: i64,
    /// `running` or `stopped`.
    pub status: String,
    /// The arm declared the winner when the experiment was stopped.
    pub winner: Option<String>,
    pub counts: Vec<ArmCounts>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// What an experiment event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExperimentEvent {
    Impression,
    Conversion,
}

impl Store {
    /// The brand's content rules as stored (a JSON document), if it has saved any.
    pub async fn studio_rules(&self, brand: BrandId) -> Result<Option<String>> {
        dispatch!(self, s => s.studio_rules(brand).await)
    }

    /// Creates or replaces the brand's content rules.
    pub async fn put_studio_rules(&self, brand: BrandId, rules_json: &str) -> Result<()> {
        dispatch!(self, s => s.put_studio_rules(brand, rules_json).await)
    }

    /// The text of at most `limit` of the brand's chunks, oldest first: the corpus SEO
    /// keywords are weighed against.
    pub async fn brand_chunk_texts(&self, brand: BrandId, limit: u32) -> Result<Vec<String>> {
        dispatch!(self, s => s.brand_chunk_texts(brand, limit).await)
    }

    /// Creates an experiment and a zeroed count row for each of its arms, in one
    /// transaction.
    pub async fn create_experiment(&self, experiment: &NewExperiment) -> Result<ExperimentRecord> {
        dispatch!(self, s => s.create_experiment(experiment).await)
    }

    /// The brand's experiments, oldest first.
    pub async fn experiments(&self, brand: BrandId) -> Result<Vec<ExperimentRecord>> {
        dispatch!(self, s => s.experiments(brand).await)
    }

    pub async fn experiment(
        &self,
        brand: BrandId,
        id: ExperimentId,
    ) -> Result<Option<ExperimentRecord>> {
        dispatch!(self, s => s.experiment(brand, id).await)
    }

    /// Counts one event for the arm at `arm` of a running experiment of the brand. False
    /// when nothing was counted: no such running experiment or arm in the brand, or a
    /// conversion for an arm with no unconverted impression left.
    pub async fn record_experiment_event(
        &self,
        brand: BrandId,
        id: ExperimentId,
        arm: usize,
        event: ExperimentEvent,
    ) -> Result<bool> {
        dispatch!(self, s => s.record_experiment_event(brand, id, arm, event).await)
    }

    /// Stops a running experiment of the brand, recording its winner; false when the brand
    /// has no such running experiment.
    pub async fn stop_experiment(
        &self,
        brand: BrandId,
        id: ExperimentId,
        winner: Option<&str>,
    ) -> Result<bool> {
        dispatch!(self, s => s.stop_experiment(brand, id, winner).await)
    }
}
