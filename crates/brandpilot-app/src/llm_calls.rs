//! Persists the LLM router's call records: [`StoreCallSink`] is the `CallSink` that turns each
//! `CallRecord` into a row of `llm_calls`, attributed to the workspace and brand the call was
//! made for, so usage reports can say what each brand spent.
//!
//! The router calls the sink on the request path, so recording only puts the record on a
//! bounded queue; a background task writes queued records in batches, one transaction each.
//! When the queue is full the record is dropped with a warning: recording must never slow
//! down or fail a call. This module must never hold prompt or answer text (records carry
//! counts only) and never block in [`CallSink::record`].
//!
//! # Scopes
//! Calls are attributed through the opaque scope the router carries
//! ([`brandpilot_llm::Router::scoped`]); [`call_scope`] makes it and [`parse_call_scope`]
//! reads it: `"<workspace id>/<brand id>"` or `"<workspace id>"`. A record whose scope parses
//! is written to the workspace it names (a sink serves one store, which holds every
//! workspace; spend belongs to whom the call was made for, not to whoever built the sink). A
//! record with no scope (an unscoped call) or a scope that does not parse goes to the sink's
//! default workspace with no brand. The store checks the rest: a brand that is not in the
//! named workspace is recorded as none, and a workspace that does not exist is skipped, so a
//! wrong scope can never put a row in one workspace that points into another.

use crate::telemetry::Metrics;
use crate::{AppError, Result};
use brandpilot_core::{BrandId, Fault, FaultKind, WorkspaceId};
use brandpilot_llm::accounting::{CallOutcome, CallRecord, CallSink};
use brandpilot_store::{LlmCallOutcome, NewLlmCall, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// Records queued at most before new ones are dropped. At one record per LLM call this is
/// minutes of traffic even when the database stalls for its full busy timeout.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4_096;

/// Records written per transaction at most.
const MAX_BATCH: usize = 256;

/// Attempts at writing a batch when the database reports a transient failure (busy).
const WRITE_ATTEMPTS: u32 = 3;

/// The scope label of calls made for `workspace`, and for `brand` in it when there is one.
pub fn call_scope(workspace: WorkspaceId, brand: Option<BrandId>) -> String {
    match brand {
        Some(brand) => format!("{workspace}/{brand}"),
        None => workspace.to_string(),
    }
}

/// Reads a label made by [`call_scope`]; `None` when it is not one (ids are positive).
pub fn parse_call_scope(scope: &str) -> Option<(WorkspaceId, Option<BrandId>)> {
    let id = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse::<i64>().ok())
            .flatten()
            .filter(|id| *id > 0)
    };
    match scope.split_once('/') {
        Some((workspace, brand)) => Some((WorkspaceId(id(workspace)?), Some(BrandId(id(brand)?)))),
        None => Some((WorkspaceId(id(scope)?), None)),
    }
}

enum Command {
    Record(NewLlmCall),
    /// Answered once every record queued before it is written (or given up on).
    Flush(oneshot::Sender<()>),
}

/// Writes the router's call records to the store; see the module documentation.
pub struct StoreCallSink {
    queue: mpsc::Sender<Command>,
    default_workspace: WorkspaceId,
    dropped: AtomicU64,
    metrics: Option<Arc<Metrics>>,
}

impl StoreCallSink {
    /// A sink writing to `store`, with records of unscoped calls going to
    /// `default_workspace`, and its writer task on the current tokio runtime.
    pub fn new(store: Store, default_workspace: WorkspaceId) -> Result<Self> {
        Self::with_capacity(store, default_workspace, DEFAULT_QUEUE_CAPACITY)
    }

    /// As [`StoreCallSink::new`], queueing at most `capacity` records (at least 1).
    pub fn with_capacity(
        store: Store,
        default_workspace: WorkspaceId,
        capacity: usize,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            AppError::Task("the LLM call sink needs a tokio runtime to write from".into())
        })?;
        let (queue, commands) = mpsc::channel(capacity.max(1));
        runtime.spawn(write_records(store, commands));
        Ok(Self {
            queue,
            default_workspace,
            dropped: AtomicU64::new(0),
            metrics: None,
        })
    }

    /// Also counts each call's tokens and cost in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Waits until every record queued before this call is written (or, after a database
    /// failure, given up on and logged). For the command line before it exits, and tests.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Command::Flush(done)).await.is_ok() {
            // An error here means the writer is gone, and with it anything left to wait for.
            let _ = written.await;
        }
    }

    /// Records dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn new_call(&self, record: CallRecord) -> NewLlmCall {
        let (workspace, brand) = match record.scope.as_deref() {
            None => (self.default_workspace, None),
            Some(scope) => parse_call_scope(scope).unwrap_or_else(|| {
                tracing::warn!(
                    scope,
                    "LLM call scope is not \"<workspace>/<brand>\"; recorded in the default workspace"
                );
                (self.default_workspace, None)
            }),
        };
        let (outcome, fault) = match record.outcome {
            CallOutcome::Success => (LlmCallOutcome::Success, None),
            CallOutcome::Failed(fault) => (LlmCallOutcome::Failed, Some(fault)),
            CallOutcome::Interrupted(fault) => (LlmCallOutcome::Interrupted, Some(fault)),
            CallOutcome::Cancelled => (LlmCallOutcome::Cancelled, None),
        };
        NewLlmCall {
            workspace,
            brand,
            route: record.route,
            provider: record.provider,
            model: record.model,
            prompt_tokens: record.prompt_tokens,
            completion_tokens: record.completion_tokens,
            tokens_estimated: record.tokens_estimated,
            cost_usd: record.cost_usd,
            latency_ms: u64::try_from(record.latency.as_millis()).unwrap_or(u64::MAX),
            outcome,
            fault,
            fallback_depth: u32::try_from(record.fallback_depth).unwrap_or(u32::MAX),
            retries: record.retries,
            streamed: record.streamed,
            created_at_ms: now_ms(),
        }
    }
}

impl CallSink for StoreCallSink {
    fn record(&self, record: CallRecord) {
        if let Some(metrics) = &self.metrics {
            metrics.record_llm_call(&record);
        }
        let call = self.new_call(record);
        if let Err(error) = self.queue.try_send(Command::Record(call)) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // One line per dropped record would flood the log exactly when the database is
            // struggling: the first drop and every thousandth are enough to see it.
            if dropped == 1 || dropped.is_multiple_of(1_000) {
                let reason = match error {
                    mpsc::error::TrySendError::Full(_) => "the queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the writer has stopped",
                };
                tracing::warn!(dropped, reason, "LLM call record dropped");
            }
        }
    }
}

/// The writer task: takes whatever is queued (up to a batch), writes it in one transaction,
/// then answers the flushes that were queued with it. Ends when the sink is dropped.
async fn write_records(store: Store, mut commands: mpsc::Receiver<Command>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = commands.recv().await {
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Record(call) => batch.push(call),
                Command::Flush(done) => flushes.push(done),
            }
            if batch.len() < MAX_BATCH {
                next = commands.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            write_batch(&store, &batch).await;
            batch.clear();
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write_batch(store: &Store, batch: &[NewLlmCall]) {
    let mut attempt = 1;
    loop {
        match store.record_llm_calls(batch).await {
            Ok(written) => {
                let skipped = batch.len() as u64 - written.min(batch.len() as u64);
                if skipped > 0 {
                    tracing::warn!(
                        skipped,
                        "LLM call records name a workspace that does not exist; not recorded"
                    );
                }
                return;
            }
            Err(error) if error.fault() == FaultKind::Transient && attempt < WRITE_ATTEMPTS => {
                tracing::debug!(%error, attempt, "retrying LLM call records");
                tokio::time::sleep(Duration::from_millis(200) * attempt).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::warn!(%error, lost = batch.len(), "LLM call records could not be written");
                return;
            }
        }
    }
}

/// Wall-clock time in Unix milliseconds, as the store keeps it.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_anything_else_is_refused() {
        for (workspace, brand) in [(WorkspaceId(1), None), (WorkspaceId(7), Some(BrandId(42)))] {
            assert_eq!(
                parse_call_scope(&call_scope(workspace, brand)),
                Some((workspace, brand))
            );
        }
        for bad in [
            "",
            "/",
            "1/",
            "/2",
            "0",
            "1/0",
            "-1",
            "+1",
            "1/2/3",
            "a/b",
            " 1",
            "1/ 2",
            "99999999999999999999",
        ] {
            assert_eq!(parse_call_scope(bad), None, "{bad:?}");
        }
    }
}
