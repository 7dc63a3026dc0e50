//! The per-turn trace: each step of a turn with how long it took and what it decided, in
//! order, so a person can see why the assistant answered what it did. Stored with the
//! answer and returned by the API when asked for.

use serde::Serialize;
use serde_json::Value;
use std::time::Instant;

#[derive(Debug, Clone, Default, Serialize)]
pub struct TurnTrace {
    pub steps: Vec<TraceStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceStep {
    pub step: &'static str,
    pub micros: u64,
    pub detail: Value,
}

impl TurnTrace {
    /// Records a step that started at `started`.
    pub fn record(&mut self, step: &'static str, started: Instant, detail: Value) {
        self.steps.push(TraceStep {
            step,
            micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            detail,
        });
    }

    /// The total time of the steps whose names satisfy `include`, in microseconds.
    pub fn micros_where(&self, include: impl Fn(&str) -> bool) -> u64 {
        self.steps
            .iter()
            .filter(|s| include(s.step))
            .map(|s| s.micros)
            .sum()
    }
}
