//! Background jobs of the caller's workspace: status, progress and outcome.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::ApiPath;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use brandpilot_app::Scope;
use brandpilot_core::JobId;
use brandpilot_store::JobRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    /// What the job does, e.g. `ingest_uploads`.
    pub kind: String,
    /// queued, running, succeeded, failed (not retried), dead (retries used up), cancelled.
    pub status: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub progress_done: u64,
    pub progress_total: u64,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// What a finished job produced (for ingestion: files added, updated, unchanged and
    /// failed with their reasons, and chunks).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

impl From<JobRecord> for JobView {
    fn from(job: JobRecord) -> Self {
        Self {
            id: job.id.0,
            kind: job.kind,
            status: job.status.as_str().to_owned(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            progress_done: job.progress_done,
            progress_total: job.progress_total,
            error: job.error,
            result: job.result,
        }
    }
}

/// A job's status, progress and outcome.
#[utoipa::path(get, path = "/api/v1/jobs/{job_id}", tag = "jobs",
    security(("api_key" = ["jobs:read"])),
    params(("job_id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, body = JobView),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_job(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(job_id): ApiPath<i64>,
) -> Result<Json<JobView>, ApiError> {
    caller.require(Scope::JobsRead)?;
    let job = state.app.job_by_id(caller.workspace, JobId(job_id)).await?;
    Ok(Json(job.into()))
}
