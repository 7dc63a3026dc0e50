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

/// One server-sent event of a job's stream.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobEvent {
    /// `progress` or, last, `done`.
    pub event: String,
    /// The job as `GET /api/v1/jobs/{id}` returns it, as JSON text.
    pub data: String,
}

/// How often an event stream looks at its job (the row, so jobs run by another replica
/// are followed too), and how long one stream lasts at most (a client reconnects).
const EVENT_POLL: std::time::Duration = std::time::Duration::from_millis(500);
const EVENT_STREAM_MAX: std::time::Duration = std::time::Duration::from_secs(600);

/// A job's progress as server-sent events: `progress` whenever status or progress change
/// (the data is the job, as `GET /jobs/{id}` returns it), then one `done` event when it has
/// an outcome, and the stream ends. Comments keep idle connections alive.
#[utoipa::path(get, path = "/api/v1/jobs/{job_id}/events", tag = "jobs",
    security(("api_key" = ["jobs:read"])),
    params(("job_id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, description = "`progress` events, then `done`; each event's data is \
            the job as JSON", content_type = "text/event-stream", body = JobEvent),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn job_events(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(job_id): ApiPath<i64>,
) -> Result<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ApiError,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    caller.require(Scope::JobsRead)?;
    let first = state.app.job_by_id(caller.workspace, JobId(job_id)).await?;
    let workspace = caller.workspace;
    let deadline = tokio::time::Instant::now() + EVENT_STREAM_MAX;
    struct Follow {
        state: ServerState,
        next: Option<JobRecord>,
        last: Option<(String, u64, u64, u32)>,
        finished: bool,
    }
    let follow = Follow {
        state,
        next: Some(first),
        last: None,
        finished: false,
    };
    let stream = futures_util::stream::unfold(follow, move |mut follow| async move {
        loop {
            if follow.finished {
                return None;
            }
            let job = match follow.next.take() {
                Some(job) => job,
                None => {
                    tokio::select! {
                        () = tokio::time::sleep(EVENT_POLL) => {}
                        () = follow.state.stopping.cancelled() => return None,
                        () = tokio::time::sleep_until(deadline) => return None,
                    }
                    match follow.state.app.job_by_id(workspace, JobId(job_id)).await {
                        Ok(job) => job,
                        // Deleted with its workspace, or the store is failing: end the stream.
                        Err(_) => return None,
                    }
                }
            };
            let seen = (
                job.status.as_str().to_owned(),
                job.progress_done,
                job.progress_total,
                job.attempts,
            );
            let done = job.status.is_final();
            if !done && follow.last.as_ref() == Some(&seen) {
                continue;
            }
            follow.last = Some(seen);
            follow.finished = done;
            let data = serde_json::to_string(&JobView::from(job)).unwrap_or_default();
            let event = Event::default()
                .event(if done { "done" } else { "progress" })
                .data(data);
            return Some((Ok(event), follow));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}
