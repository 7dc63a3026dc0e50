//! The parts of [`Store`] that keep Studio's batches: many briefs for one brand, each an
//! item that the job queue writes on its own.
//!
//! An item is done exactly once. [`Store::complete_batch_item`] stores the item's
//! generation in the same transaction that moves the item from `pending` to `done`, and
//! only if it was still pending: a job that is run again after its worker died (the lease
//! ran out after the generation was stored, or the process was killed) finds the item done
//! and stores nothing. This module only dispatches and defines the records; it must never
//! hold SQL.

use crate::{GenerationRecord, NewGeneration, Result, Store};
use brandpilot_core::{BrandId, JobId, WorkspaceId};

/// A batch to create: the requests (briefs as JSON) in order.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBatch {
    pub brand: BrandId,
    /// The same key for the same brand finds the first batch instead of making another.
    pub idempotency_key: Option<String>,
    pub created_by: Option<String>,
    pub requests: Vec<String>,
}

/// A stored batch with its items in order.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    pub id: i64,
    pub brand: BrandId,
    pub idempotency_key: Option<String>,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub items: Vec<BatchItemRecord>,
}

/// One brief of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItemRecord {
    pub id: i64,
    pub batch: i64,
    pub brand: BrandId,
    /// Its place in the batch, from 0.
    pub position: i64,
    pub request_json: String,
    /// `pending`, `done` or `failed`.
    pub status: String,
    /// The job that writes it, once queued.
    pub job: Option<JobId>,
    pub generation: Option<i64>,
    pub error: Option<String>,
    pub updated_at_ms: i64,
    /// Who made its batch.
    pub created_by: Option<String>,
}

impl Store {
    /// Creates a batch and its pending items in one transaction; with an idempotency key
    /// the brand already used, returns that batch instead (`false`: nothing was created).
    pub async fn create_batch(&self, batch: &NewBatch) -> Result<(BatchRecord, bool)> {
        dispatch!(self, s => s.create_batch(batch).await)
    }

    /// A batch by id, whatever its brand: callers check the brand belongs to the caller.
    pub async fn batch(&self, id: i64) -> Result<Option<BatchRecord>> {
        dispatch!(self, s => s.batch(id).await)
    }

    pub async fn batch_item(&self, id: i64) -> Result<Option<BatchItemRecord>> {
        dispatch!(self, s => s.batch_item(id).await)
    }

    /// Records the job that writes an item.
    pub async fn set_batch_item_job(&self, item: i64, job: JobId) -> Result<()> {
        dispatch!(self, s => s.set_batch_item_job(item, job).await)
    }

    /// Stores the item's generation and marks it done, in one transaction, if it is still
    /// pending; `None` (and nothing stored) when it is not.
    pub async fn complete_batch_item(
        &self,
        item: i64,
        generation: &NewGeneration,
    ) -> Result<Option<GenerationRecord>> {
        dispatch!(self, s => s.complete_batch_item(item, generation).await)
    }

    /// Marks a pending item failed with a message for people; `false` when it was not
    /// pending.
    pub async fn fail_batch_item(&self, item: i64, error: &str) -> Result<bool> {
        dispatch!(self, s => s.fail_batch_item(item, error).await)
    }

    /// Pending items no job was recorded for (their server stopped between creating the
    /// batch and queueing them), oldest first, at most `limit`, with their workspace.
    pub async fn unqueued_batch_items(
        &self,
        limit: u32,
    ) -> Result<Vec<(WorkspaceId, BatchItemRecord)>> {
        dispatch!(self, s => s.unqueued_batch_items(limit).await)
    }
}
