//! What each routed call cost: a configurable price table per model, token counting when a
//! provider reports no usage, and one [`CallRecord`] per routed call handed to a
//! [`CallSink`].
//!
//! Persistence is the sink's business (the store will implement one); this module must never
//! do IO itself, and a record must never hold prompt or answer text, only counts.

use brandpilot_core::FaultKind;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// USD per million tokens for one model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    pub prompt_per_million_usd: f64,
    pub completion_per_million_usd: f64,
}

/// Prices by model. Keys are either `provider/model` (checked first, for the same model sold
/// at different prices by different hosts) or the bare model name. It deserialises from a
/// map, e.g. `{"gpt-4o-mini": {"prompt_per_million_usd": 0.15, ...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PriceTable {
    models: HashMap<String, ModelPrice>,
}

impl PriceTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, model: impl Into<String>, price: ModelPrice) -> Self {
        self.models.insert(model.into(), price);
        self
    }

    pub fn price(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        self.models
            .get(&format!("{provider}/{model}"))
            .or_else(|| self.models.get(model))
            .copied()
    }

    /// The cost in USD, or `None` when the model has no price.
    pub fn cost(&self, provider: &str, model: &str, prompt: u32, completion: u32) -> Option<f64> {
        let price = self.price(provider, model)?;
        Some(
            f64::from(prompt) * price.prompt_per_million_usd / 1e6
                + f64::from(completion) * price.completion_per_million_usd / 1e6,
        )
    }
}

/// Counts tokens in a text when the provider reports none (e.g. the model's own tokenizer).
pub type TokenCounter = Arc<dyn Fn(&str) -> u32 + Send + Sync>;

/// The default counter: about four characters a token for English. Records made with it
/// say `tokens_estimated: true`.
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(4)).unwrap_or(u32::MAX)
}

/// How a routed call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// An answer was delivered whole.
    Success,
    /// No answer: every attempt failed, or the first failure was not worth retrying.
    Failed(FaultKind),
    /// A stream failed after some of it was delivered; it was not retried elsewhere.
    Interrupted(FaultKind),
    /// The caller dropped the stream before its end.
    Cancelled,
}

/// One routed call (all its retries and fallbacks together).
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// Who the call was made for, as the caller put it through [`crate::Router::scoped`]
    /// (the app uses `"<workspace id>/<brand id>"`); `None` for calls made through the
    /// [`crate::Router`] itself. This crate never interprets it: it only carries it to the
    /// sink, so spending can be attributed without the LLM layer knowing the domain.
    pub scope: Option<String>,
    pub route: String,
    /// The provider that answered, or the last one tried; empty when none was tried.
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// The tokens were counted by the [`TokenCounter`], not reported by the provider.
    pub tokens_estimated: bool,
    /// `None` when the model has no price in the table.
    pub cost_usd: Option<f64>,
    /// From the call to the answer (or the end of the stream, or the failure).
    pub latency: Duration,
    pub outcome: CallOutcome,
    /// Index in the route's chain of the provider in `provider` (0 = first choice).
    pub fallback_depth: usize,
    /// Attempts beyond the first, on any provider.
    pub retries: u32,
    pub streamed: bool,
}

/// Receives one record per routed call. Called on the request path: keep it cheap (queue
/// the write) and never fail the call because recording failed.
pub trait CallSink: Send + Sync {
    fn record(&self, record: CallRecord);
}

/// Keeps records in memory, for tests and for `brandpilot chat` summaries.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<CallRecord>>,
}

impl MemorySink {
    pub fn records(&self) -> Vec<CallRecord> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl CallSink for MemorySink {
    fn record(&self, record: CallRecord) {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
    }
}

/// Writes each record to the `tracing` log at debug level: the default sink.
#[derive(Debug, Default)]
pub struct TracingSink;

impl CallSink for TracingSink {
    fn record(&self, record: CallRecord) {
        tracing::debug!(
            scope = record.scope.as_deref(),
            route = %record.route,
            provider = %record.provider,
            model = %record.model,
            prompt_tokens = record.prompt_tokens,
            completion_tokens = record.completion_tokens,
            tokens_estimated = record.tokens_estimated,
            cost_usd = record.cost_usd,
            latency_ms = record.latency.as_millis() as u64,
            outcome = ?record.outcome,
            fallback_depth = record.fallback_depth,
            retries = record.retries,
            "llm call"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_table_deserialises_and_prefers_provider_specific_prices() {
        let table: PriceTable = serde_json::from_str(
            r#"{
                "llama-3.1-8b": {"prompt_per_million_usd": 0.1, "completion_per_million_usd": 0.2},
                "groq/llama-3.1-8b": {"prompt_per_million_usd": 0.05, "completion_per_million_usd": 0.08}
            }"#,
        )
        .unwrap();
        let together = table
            .cost("together", "llama-3.1-8b", 1_000_000, 500_000)
            .unwrap();
        assert!((together - 0.2).abs() < 1e-12);
        let groq = table
            .cost("groq", "llama-3.1-8b", 1_000_000, 500_000)
            .unwrap();
        assert!((groq - 0.09).abs() < 1e-12);
        assert_eq!(table.cost("x", "unknown", 1, 1), None);
    }

    #[test]
    fn estimate_is_a_quarter_of_the_characters_rounded_up() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("☕☕☕☕"), 1);
    }
}
