//! Batches: many briefs for one brand, written on the durable job queue, one job per brief
//! on the `generate` lane (whose worker count bounds how many generations run at once).
//!
//! Each brief is a batch item. Its job writes the generation exactly as a single request
//! would, then stores it in the same transaction that marks the item done, and only if the
//! item was still pending; so a job run again after its worker died (a crash, a SIGKILL, a
//! lost lease) stores nothing twice. Jobs carry idempotency keys (`studio-batch:{batch}:
//! {position}`), and a server that stopped between creating a batch and queueing its items
//! queues them when it starts again ([`Brandpilot::resume_batches`]). A brief whose failure
//! retrying cannot help (a bad brief, no credits) fails its item at once; a transient one
//! (the model unreachable) is retried by the queue and fails the item only on its last
//! attempt. Either way the other items go on.

use super::records::Brief;
use crate::llm::LazyLlm;
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::{BrandId, Fault, FaultKind, GenerationId, JobId, WorkspaceId};
use brandpilot_jobs::JobFailure;
use brandpilot_store::{BatchItemRecord, BatchRecord, ClaimedJob, JobLane, NewBatch, NewJob};
use serde::{Deserialize, Serialize};

/// The job kind that writes one batch item.
pub const BATCH_ITEM: &str = "studio_batch_item";
/// Briefs one batch may hold.
pub const MAX_BATCH_BRIEFS: usize = 500;
/// Items re-queued per pass when a server starts.
const RESUME_PAGE: u32 = 500;

#[derive(Debug, Serialize, Deserialize)]
struct BatchItemJob {
    item: i64,
}

/// Where one brief of a batch stands.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// Its place in the batch, from 0 (the CSV's first data row is 0).
    pub position: usize,
    pub brief: Brief,
    /// `pending`, `done` or `failed`.
    pub status: String,
    pub generation: Option<GenerationId>,
    /// Why it failed, for people.
    pub error: Option<String>,
    pub job: Option<JobId>,
}

/// A batch and its items, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub id: i64,
    pub brand: BrandId,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub items: Vec<BatchItem>,
}

impl Batch {
    pub fn count(&self, status: &str) -> usize {
        self.items.iter().filter(|i| i.status == status).count()
    }

    /// No item is pending.
    pub fn finished(&self) -> bool {
        self.count("pending") == 0
    }

    fn from_record(record: BatchRecord) -> Result<Batch> {
        let items = record
            .items
            .into_iter()
            .map(|item| {
                Ok(BatchItem {
                    position: usize::try_from(item.position).unwrap_or_default(),
                    brief: serde_json::from_str(&item.request_json).map_err(|e| {
                        AppError::Task(format!("stored brief of batch item {}: {e}", item.id))
                    })?,
                    status: item.status,
                    generation: item.generation.map(GenerationId),
                    error: item.error,
                    job: item.job,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Batch {
            id: record.id,
            brand: record.brand,
            created_by: record.created_by,
            created_at_ms: record.created_at_ms,
            items,
        })
    }
}

impl Brandpilot {
    /// Checks every brief (naming the first bad one by position), stores the batch and
    /// queues a job per brief. With an idempotency key the brand already used, returns that
    /// batch (`false`) and queues whatever of it was never queued.
    pub async fn queue_batch(
        &self,
        brand: &brandpilot_store::Brand,
        briefs: Vec<Brief>,
        idempotency_key: Option<String>,
        created_by: Option<String>,
    ) -> Result<(Batch, bool)> {
        if briefs.is_empty() {
            return Err(AppError::InvalidInput("briefs: give at least one".into()));
        }
        if briefs.len() > MAX_BATCH_BRIEFS {
            return Err(AppError::InvalidInput(format!(
                "briefs: at most {MAX_BATCH_BRIEFS} in one batch"
            )));
        }
        if let Some(key) = &idempotency_key
            && (key.is_empty() || key.chars().count() > 200)
        {
            return Err(AppError::InvalidInput(
                "idempotency key: 1 to 200 characters".into(),
            ));
        }
        for (position, brief) in briefs.iter().enumerate() {
            brief.check().map_err(|error| match error {
                AppError::InvalidInput(message) => {
                    AppError::InvalidInput(format!("briefs[{position}]: {message}"))
                }
                other => other,
            })?;
        }
        self.check_credits(brand.workspace).await?;
        let requests = briefs
            .iter()
            .map(super::records::to_json)
            .collect::<Result<Vec<_>>>()?;
        let (mut record, created) = self
            .store
            .create_batch(&NewBatch {
                brand: brand.id,
                idempotency_key,
                created_by,
                requests,
            })
            .await?;
        self.queue_batch_items(brand.workspace, &mut record.items)
            .await?;
        Ok((Batch::from_record(record)?, created))
    }

    /// Queues a job for each pending item that has none recorded, and records it (in the
    /// store and in `items`).
    async fn queue_batch_items(
        &self,
        workspace: WorkspaceId,
        items: &mut [BatchItemRecord],
    ) -> Result<()> {
        for item in items
            .iter_mut()
            .filter(|i| i.status == "pending" && i.job.is_none())
        {
            let job = NewJob {
                workspace: Some(workspace),
                lane: JobLane::Generate,
                kind: BATCH_ITEM.into(),
                payload: serde_json::json!(BatchItemJob { item: item.id }),
                idempotency_key: Some(format!("studio-batch:{}:{}", item.batch, item.position)),
                max_attempts: self.settings.jobs.max_attempts,
                run_at_ms: crate::llm_calls::now_ms(),
            };
            let job = self.store.enqueue_job(&job).await?.id();
            self.store.set_batch_item_job(item.id, job).await?;
            item.job = Some(job);
        }
        Ok(())
    }

    /// Queues the items of batches whose server stopped before queueing them; returns how
    /// many. Run when a server (or a batch command) starts.
    pub async fn resume_batches(&self) -> Result<usize> {
        let mut queued = 0;
        loop {
            let mut items = self.store.unqueued_batch_items(RESUME_PAGE).await?;
            if items.is_empty() {
                return Ok(queued);
            }
            for (workspace, item) in &mut items {
                self.queue_batch_items(*workspace, std::slice::from_mut(item))
                    .await?;
                queued += 1;
            }
        }
    }

    /// A batch of the workspace, with where each brief stands.
    pub async fn batch(&self, workspace: WorkspaceId, id: i64) -> Result<Batch> {
        let record = self
            .store
            .batch(id)
            .await?
            .ok_or(AppError::BatchNotFound(id))?;
        match self.brand_by_id(workspace, record.brand).await {
            Ok(_) => Batch::from_record(record),
            Err(AppError::BrandNotFound(_)) => Err(AppError::BatchNotFound(id)),
            Err(other) => Err(other),
        }
    }

    /// Runs one batch item's job: writes its brief and completes the item, unless it is no
    /// longer pending (done by an earlier run of this job).
    pub async fn run_batch_item(
        &self,
        llm: &LazyLlm,
        job: ClaimedJob,
    ) -> std::result::Result<serde_json::Value, JobFailure> {
        let payload: BatchItemJob =
            serde_json::from_value(job.payload).map_err(|error| JobFailure {
                message: format!("the job's payload is malformed: {error}"),
                fault: FaultKind::User,
            })?;
        let last_attempt = job.attempt >= job.max_attempts;
        let outcome = self
            .write_batch_item(llm, job.workspace, payload.item)
            .await;
        match outcome {
            Ok(value) => Ok(value),
            Err(error) => {
                let fault = error.fault();
                let message = match fault {
                    FaultKind::User => error.to_string(),
                    _ => match &error {
                        AppError::Llm(llm) => format!("the model failed: {llm}"),
                        _ => "the generation failed on the server".into(),
                    },
                };
                if (fault == FaultKind::User || last_attempt)
                    && let Err(store) = self.store.fail_batch_item(payload.item, &message).await
                {
                    tracing::warn!(%store, item = payload.item, "cannot mark a batch item failed");
                }
                Err(JobFailure { message, fault })
            }
        }
    }

    async fn write_batch_item(
        &self,
        llm: &LazyLlm,
        workspace: Option<WorkspaceId>,
        item: i64,
    ) -> Result<serde_json::Value> {
        let Some(record) = self.store.batch_item(item).await? else {
            return Ok(serde_json::json!({ "skipped": "the batch was deleted" }));
        };
        if record.status != "pending" {
            return Ok(serde_json::json!({ "skipped": format!("already {}", record.status) }));
        }
        let workspace = workspace.ok_or_else(|| AppError::InvalidInput("no workspace".into()))?;
        let brand = self.brand_by_id(workspace, record.brand).await?;
        let brief: Brief = serde_json::from_str(&record.request_json)
            .map_err(|e| AppError::InvalidInput(format!("the stored brief is unreadable: {e}")))?;
        let generation = self
            .write_copy(llm, &brand, brief, record.created_by.clone())
            .await?;
        match self.store.complete_batch_item(item, &generation).await? {
            Some(stored) => Ok(serde_json::json!({ "generation": stored.id.0 })),
            None => Ok(serde_json::json!({ "skipped": "completed by another run" })),
        }
    }
}
