//! Batches of briefs: accepted at once (202) and written on the job queue, a job per brief
//! with bounded concurrency (`jobs.generate_workers`); read back for progress and per-brief
//! results. A repeated `Idempotency-Key` returns the first batch.

use super::generations::GenerateBody;
use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::routes::uploads::idempotency_key;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use brandpilot_app::Scope;
use brandpilot_app::studio::Batch;
use brandpilot_core::BrandId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Briefs to write for one brand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    pub brand_id: i64,
    /// 1 to 500 briefs, each as `POST …/studio/generations` takes it.
    #[schema(min_items = 1, max_items = 500)]
    pub briefs: Vec<GenerateBody>,
}

/// Where one brief stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemOut {
    /// Its place in the batch, from 0.
    pub position: usize,
    pub channel: String,
    pub goal: String,
    /// `pending`, `done` or `failed`.
    pub status: String,
    /// Read it at `GET /api/v1/brands/{brand_id}/studio/generations/{generation_id}`.
    pub generation_id: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    pub job_id: Option<i64>,
}

/// A batch and where each brief stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    pub id: i64,
    pub brand_id: i64,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub total: usize,
    pub pending: usize,
    pub done: usize,
    pub failed: usize,
    /// No brief is pending.
    pub finished: bool,
    pub items: Vec<BatchItemOut>,
}

impl From<Batch> for BatchOut {
    fn from(batch: Batch) -> Self {
        Self {
            id: batch.id,
            brand_id: batch.brand.0,
            created_by: batch.created_by.clone(),
            created_at_ms: batch.created_at_ms,
            total: batch.items.len(),
            pending: batch.count("pending"),
            done: batch.count("done"),
            failed: batch.count("failed"),
            finished: batch.finished(),
            items: batch
                .items
                .into_iter()
                .map(|item| BatchItemOut {
                    position: item.position,
                    channel: item.brief.channel.code().to_owned(),
                    goal: item.brief.goal,
                    status: item.status,
                    generation_id: item.generation.map(|g| g.0),
                    error: item.error,
                    job_id: item.job.map(|j| j.0),
                })
                .collect(),
        }
    }
}

/// Queues briefs for one brand; each is written like `POST …/studio/generations` on the job
/// queue, a few at a time, and survives a server restart. Every brief is checked first: a
/// bad one refuses the whole batch, naming its position. A repeated `Idempotency-Key`
/// returns the first batch (200) instead of queueing another.
#[utoipa::path(post, path = "/api/v1/studio/batch", tag = "studio",
    security(("api_key" = ["studio:write"])),
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Repeat it to get the first batch back instead of a second one")),
    request_body = BatchBody,
    responses(
        (status = 200, body = BatchOut, description = "The batch this key made before"),
        (status = 202, body = BatchOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 402, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 413, body = ErrorResponse),
        (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn create_batch(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<BatchBody>,
) -> Result<(StatusCode, Json<BatchOut>), ApiError> {
    caller.require(Scope::StudioWrite)?;
    let key = idempotency_key(&headers)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(body.brand_id))
        .await?;
    let briefs = body
        .briefs
        .into_iter()
        .map(GenerateBody::into_brief)
        .collect::<Result<Vec<_>, _>>()?;
    let (batch, created) = state
        .app
        .queue_batch(&brand, briefs, key, Some(caller.actor().label()))
        .await?;
    if let Some(jobs) = &state.jobs {
        jobs.notify();
    }
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(batch.into())))
}

/// A batch of the workspace with where each brief stands.
#[utoipa::path(get, path = "/api/v1/studio/batch/{batch_id}", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("batch_id" = i64, Path, description = "The batch's id")),
    responses(
        (status = 200, body = BatchOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_batch(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(batch_id): ApiPath<i64>,
) -> Result<Json<BatchOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let batch = state.app.batch(caller.workspace, batch_id).await?;
    Ok(Json(batch.into()))
}
