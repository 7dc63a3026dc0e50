//! Counters of what the app does, in Prometheus form: ingestion throughput, searches, LLM
//! tokens and cost. One [`Metrics`] per app; the server exposes it (with its own HTTP
//! histogram) at `/metrics`. Labels are bounded sets (route names from settings, model
//! names, fixed outcome words), never ids or user text, so the series count cannot grow
//! with traffic.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub route: String,
    pub model: String,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub lane: &'static str,
    /// A kind the app enqueues (a fixed set in code).
    pub kind: String,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CostLabels {
    pub route: String,
    pub model: String,
}

/// The app's counters and the registry they are encoded from.
pub struct Metrics {
    registry: Registry,
    pub ingested_chunks: Counter,
    pub ingested_sources: Family<OutcomeLabels, Counter>,
    pub searches: Counter,
    pub llm_calls: Family<OutcomeLabels, Counter>,
    pub llm_tokens: Family<TokenLabels, Counter>,
    pub llm_cost_usd: Family<CostLabels, Counter<f64, AtomicU64>>,
    /// Assistant turns by how they ended (answered, escalated).
    pub chat_turns: Family<OutcomeLabels, Counter>,
    pub tickets_opened: Counter,
    /// Job attempts by lane, kind and how they ended (succeeded, retry, failed, dead,
    /// released, lost).
    pub jobs_finished: Family<JobLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("brandpilot");
        let ingested_chunks = Counter::default();
        registry.register(
            "ingest_chunks",
            "Chunks stored by ingestion",
            ingested_chunks.clone(),
        );
        let ingested_sources = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "ingest_sources",
            "Sources seen by ingestion, by outcome (added, updated, unchanged, failed)",
            ingested_sources.clone(),
        );
        let searches = Counter::default();
        registry.register("searches", "Searches answered", searches.clone());
        let llm_calls = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "llm_calls",
            "Routed LLM calls, by outcome",
            llm_calls.clone(),
        );
        let llm_tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "llm_tokens",
            "LLM tokens by route, model and kind (prompt, completion)",
            llm_tokens.clone(),
        );
        let llm_cost_usd = Family::<CostLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "llm_cost_usd",
            "Estimated LLM spend in US dollars by route and model",
            llm_cost_usd.clone(),
        );
        let chat_turns = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "chat_turns",
            "Assistant turns by outcome (answered, escalated)",
            chat_turns.clone(),
        );
        let tickets_opened = Counter::default();
        registry.register(
            "tickets_opened",
            "Tickets opened by the assistant",
            tickets_opened.clone(),
        );
        let jobs_finished = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs_finished",
            "Job attempts by lane, kind and outcome (succeeded, retry, failed, dead, released, lost)",
            jobs_finished.clone(),
        );
        Self {
            registry,
            jobs_finished,
            chat_turns,
            tickets_opened,
            ingested_chunks,
            ingested_sources,
            searches,
            llm_calls,
            llm_tokens,
            llm_cost_usd,
        }
    }
}

impl Metrics {
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn record_ingest(&self, report: &crate::IngestReport) {
        self.ingested_chunks.inc_by(report.chunks as u64);
        for (outcome, count) in [
            ("added", report.added),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("failed", report.failed.len()),
        ] {
            self.ingested_sources
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(count as u64);
        }
    }

    pub(crate) fn record_llm_call(&self, record: &brandpilot_llm::accounting::CallRecord) {
        use brandpilot_llm::accounting::CallOutcome;
        let outcome = match record.outcome {
            CallOutcome::Success => "success",
            CallOutcome::Failed(_) => "failed",
            CallOutcome::Interrupted(_) => "interrupted",
            CallOutcome::Cancelled => "cancelled",
        };
        self.llm_calls
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        for (kind, tokens) in [
            ("prompt", record.prompt_tokens),
            ("completion", record.completion_tokens),
        ] {
            self.llm_tokens
                .get_or_create(&TokenLabels {
                    route: record.route.clone(),
                    model: record.model.clone(),
                    kind,
                })
                .inc_by(u64::from(tokens));
        }
        if let Some(cost) = record.cost_usd {
            self.llm_cost_usd
                .get_or_create(&CostLabels {
                    route: record.route.clone(),
                    model: record.model.clone(),
                })
                .inc_by(cost);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brandpilot_core::FaultKind;
    use brandpilot_llm::accounting::{CallOutcome, CallRecord};
    use std::time::Duration;

    fn call(route: &str, outcome: CallOutcome, cost: Option<f64>) -> CallRecord {
        CallRecord {
            scope: Some("1/2".into()),
            route: route.into(),
            provider: "local".into(),
            model: "smollm2".into(),
            prompt_tokens: 100,
            completion_tokens: 20,
            tokens_estimated: false,
            cost_usd: cost,
            latency: Duration::from_millis(5),
            outcome,
            fallback_depth: 0,
            retries: 0,
            streamed: false,
        }
    }

    #[test]
    fn llm_calls_add_up_by_route_model_and_outcome_without_scopes_in_labels() {
        let metrics = Metrics::default();
        metrics.record_llm_call(&call("answer", CallOutcome::Success, Some(0.25)));
        metrics.record_llm_call(&call("answer", CallOutcome::Success, Some(0.5)));
        metrics.record_llm_call(&call(
            "classify",
            CallOutcome::Failed(FaultKind::Transient),
            None,
        ));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, metrics.registry()).unwrap();
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has(r#"brandpilot_llm_tokens_total{route="answer",model="smollm2",kind="prompt"} 200"#),
            "{text}"
        );
        assert!(
            has(
                r#"brandpilot_llm_tokens_total{route="answer",model="smollm2",kind="completion"} 40"#
            ),
            "{text}"
        );
        assert!(
            has(r#"brandpilot_llm_cost_usd_total{route="answer",model="smollm2"} 0.75"#),
            "{text}"
        );
        assert!(
            has(r#"brandpilot_llm_calls_total{outcome="success"} 2"#),
            "{text}"
        );
        assert!(
            has(r#"brandpilot_llm_calls_total{outcome="failed"} 1"#),
            "{text}"
        );
        assert!(
            !text.contains("1/2"),
            "a scope (workspace/brand ids) became a label"
        );
    }
}
