//! Query embeddings as usage: every search that embeds its query (vector and hybrid, so
//! every assistant turn and Studio's fact search too) adds the query's tokens to its
//! brand's tally in memory. The tallies are written as one `embed_query` call record per
//! brand when flushed: every few seconds while a server runs, and when the app closes. A
//! row per query would put a database write on the search path (the load test runs it at
//! 1,000 requests a second) and grow the usage table by a row for each; a tally costs one
//! map update. The price is that a process killed without closing loses at most one
//! interval's query tokens.

use crate::Brandpilot;
use brandpilot_core::{BrandId, WorkspaceId};
use brandpilot_store::{Brand, LlmCallOutcome, NewLlmCall};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The route query embeddings are recorded under (ingestion's are `embed`).
pub const QUERY_ROUTE: &str = "embed_query";

/// Query tokens not yet written, per brand.
#[derive(Default)]
pub(crate) struct QueryTally {
    pending: Mutex<HashMap<(WorkspaceId, BrandId), u64>>,
}

impl QueryTally {
    fn add(&self, brand: &Brand, tokens: u64) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *pending.entry((brand.workspace, brand.id)).or_default() += tokens;
    }

    fn take(&self) -> HashMap<(WorkspaceId, BrandId), u64> {
        std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

impl Brandpilot {
    /// Counts an embedded query's tokens toward its brand's usage.
    pub(crate) fn tally_query(&self, brand: &Brand, query: &str) {
        let tokens = self.counter.count(query) as u64;
        if tokens > 0 {
            self.query_tally.add(brand, tokens);
        }
    }

    /// Writes the query tokens tallied since the last flush, one record per brand. A
    /// failed write is logged and its tallies are kept for the next flush.
    pub async fn flush_query_usage(&self) {
        let pending = self.query_tally.take();
        if pending.is_empty() {
            return;
        }
        let now = crate::llm_calls::now_ms();
        let calls: Vec<NewLlmCall> = pending
            .iter()
            .map(|(&(workspace, brand), &tokens)| {
                self.embedding_call(workspace, brand, QUERY_ROUTE, tokens, now)
            })
            .collect();
        if let Err(error) = self.store.record_llm_calls(&calls).await {
            tracing::warn!(%error, "could not record query embedding usage; kept for the next flush");
            for ((workspace, brand), tokens) in pending {
                let brand = Brand {
                    id: brand,
                    workspace,
                    name: String::new(),
                };
                self.query_tally.add(&brand, tokens);
            }
        }
    }

    /// Flushes the query tallies every `every` until `stopped` says so, then once more.
    pub async fn record_query_usage(
        &self,
        every: Duration,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => self.flush_query_usage().await,
                _ = stopped.changed() => break,
            }
        }
        self.flush_query_usage().await;
    }

    /// A call record of `tokens` embedded for a brand with the current embedder.
    pub(crate) fn embedding_call(
        &self,
        workspace: WorkspaceId,
        brand: BrandId,
        route: &str,
        tokens: u64,
        now_ms: i64,
    ) -> NewLlmCall {
        NewLlmCall {
            workspace,
            brand: Some(brand),
            route: route.into(),
            provider: if self.embedder.is_semantic() {
                "embedder"
            } else {
                "hashing"
            }
            .into(),
            model: self.embedder.model_id().to_owned(),
            prompt_tokens: u32::try_from(tokens).unwrap_or(u32::MAX),
            completion_tokens: 0,
            tokens_estimated: false,
            cost_usd: None,
            latency_ms: 0,
            outcome: LlmCallOutcome::Success,
            fault: None,
            fallback_depth: 0,
            retries: 0,
            streamed: false,
            created_at_ms: now_ms,
        }
    }
}
