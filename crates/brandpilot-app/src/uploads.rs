//! Uploaded files, ingested through the job queue: [`Brandpilot::queue_upload`] keeps the
//! bytes in the store and queues one `ingest_uploads` job on the long lane; [`AppJobs`]
//! is the queue's handler that runs it on whichever worker claims it, reporting progress,
//! and drops the bytes once the job has an outcome that will not be retried.

use crate::{AppError, Brandpilot, FileOutcome, IngestObserver, Result};
use brandpilot_core::{BrandId, Fault, FaultKind, WorkspaceId};
use brandpilot_jobs::{JobContext, JobFailure, JobFuture, JobHandler, JobOutcome};
use brandpilot_store::{Brand, ClaimedJob, Enqueued, JobLane, NewJob};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The job kind of an upload's ingestion.
pub const INGEST_UPLOADS: &str = "ingest_uploads";

#[derive(Debug, Serialize, Deserialize)]
struct UploadJob {
    brand: i64,
    uploads: Vec<i64>,
    tags: Vec<String>,
}

impl Brandpilot {
    /// Keeps the files and queues their ingestion; with an idempotency key, a repeated
    /// request returns the first job and stores nothing.
    pub async fn queue_upload(
        &self,
        brand: &Brand,
        files: Vec<(String, Vec<u8>)>,
        tags: &[String],
        idempotency_key: Option<String>,
    ) -> Result<Enqueued> {
        if files.is_empty() {
            return Err(AppError::InvalidInput("no file was uploaded".into()));
        }
        self.check_credits(brand.workspace).await?;
        let mut uploads = Vec::with_capacity(files.len());
        for (name, bytes) in &files {
            let hash: [u8; 32] = Sha256::digest(bytes).into();
            uploads.push(self.store.put_upload(brand.id, name, &hash, bytes).await?);
        }
        let payload = UploadJob {
            brand: brand.id.0,
            uploads: uploads.clone(),
            tags: tags.to_vec(),
        };
        let enqueued = self
            .enqueue_long_job(brand, INGEST_UPLOADS, &payload, idempotency_key)
            .await?;
        if let Enqueued::Existing(_) = enqueued {
            // The first request's job carries its own copies.
            self.store.delete_uploads(&uploads).await?;
        }
        Ok(enqueued)
    }
}

impl Brandpilot {
    /// Queues a job of the brand's workspace on the long lane, due now.
    pub(crate) async fn enqueue_long_job(
        &self,
        brand: &Brand,
        kind: &str,
        payload: &impl Serialize,
        idempotency_key: Option<String>,
    ) -> Result<Enqueued> {
        let job = NewJob {
            workspace: Some(brand.workspace),
            lane: JobLane::Long,
            kind: kind.into(),
            payload: serde_json::to_value(payload).map_err(|e| AppError::Task(e.to_string()))?,
            idempotency_key,
            max_attempts: self.settings.jobs.max_attempts,
            run_at_ms: crate::llm_calls::now_ms(),
        };
        Ok(self.store.enqueue_job(&job).await?)
    }

    /// Every hour until `stopped` says so, deletes upload bytes older than a week: a job
    /// drops its own bytes when it ends, but one whose every worker died, or an upload
    /// whose server stopped before queueing its job, leaves them behind. A week is far
    /// longer than any job's retries take.
    pub async fn sweep_uploads(&self, mut stopped: tokio::sync::watch::Receiver<bool>) {
        const RETENTION_MS: i64 = 7 * 86_400_000;
        const EVERY: std::time::Duration = std::time::Duration::from_secs(3_600);
        loop {
            let before = crate::llm_calls::now_ms() - RETENTION_MS;
            match self.store.delete_uploads_before(before).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "swept upload bytes left by ended jobs"),
                Err(error) => tracing::warn!(%error, "could not sweep old uploads"),
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stopped.changed() => return,
            }
        }
    }

    /// A job of this workspace (another workspace's job ids are not found).
    pub async fn job_by_id(
        &self,
        workspace: WorkspaceId,
        job: brandpilot_core::JobId,
    ) -> Result<brandpilot_store::JobRecord> {
        self.store
            .get_job(job)
            .await?
            .filter(|record| record.workspace == Some(workspace))
            .ok_or(AppError::JobNotFound(job.0))
    }
}

/// The job handler for every job the app queues: ingestion (uploads, URLs) on the long
/// lane, webhook deliveries on the fast one, Studio batch items on the generate lane (with
/// the language model it shares with the server, so a model is loaded once).
pub struct AppJobs {
    pub app: Arc<Brandpilot>,
    pub llm: Arc<crate::llm::LazyLlm>,
}

impl AppJobs {
    /// The handler with a language model of its own (built on first use); share it with
    /// the server through [`AppJobs::llm`].
    pub fn new(app: Arc<Brandpilot>) -> Self {
        Self {
            app,
            llm: Arc::default(),
        }
    }
}

impl JobHandler for AppJobs {
    fn run(&self, job: ClaimedJob, context: JobContext) -> JobFuture {
        let app = self.app.clone();
        let llm = self.llm.clone();
        Box::pin(async move {
            if job.kind == crate::studio::BATCH_ITEM {
                return app.run_batch_item(&llm, job).await;
            }
            if job.kind == crate::webhooks::DELIVER {
                return crate::webhooks::deliver(&app, job).await;
            }
            if job.kind == crate::assistant::summary::SUMMARIZE {
                return crate::assistant::summary::run_summary(&app, &llm, job).await;
            }
            if job.kind == crate::web_sources::INGEST_URL {
                return run_url(&app, job, &context).await;
            }
            if job.kind != INGEST_UPLOADS {
                return Err(JobFailure {
                    message: format!("this server cannot run {:?} jobs", job.kind),
                    fault: FaultKind::User,
                });
            }
            let payload: UploadJob =
                serde_json::from_value(job.payload).map_err(|error| JobFailure {
                    message: format!("the job's payload is malformed: {error}"),
                    fault: FaultKind::User,
                })?;
            let outcome = run_upload(&app, job.workspace, &payload, &context).await;
            let retried = matches!(&outcome, Err(e) if e.fault() != FaultKind::User)
                && job.attempt < job.max_attempts;
            if !retried && let Err(error) = app.store.delete_uploads(&payload.uploads).await {
                tracing::warn!(%error, "cannot drop the uploaded bytes of a finished job");
            }
            job_outcome(outcome)
        })
    }

    fn finished(&self, lane: brandpilot_store::JobLane, kind: &str, outcome: JobOutcome) {
        self.app
            .metrics
            .jobs_finished
            .get_or_create(&crate::telemetry::JobLabels {
                lane: lane.as_str(),
                kind: kind.to_owned(),
                outcome: outcome.as_str(),
            })
            .inc();
    }
}

async fn run_url(
    app: &Brandpilot,
    job: ClaimedJob,
    context: &JobContext,
) -> Result<serde_json::Value, JobFailure> {
    let payload: crate::web_sources::UrlJob =
        serde_json::from_value(job.payload).map_err(|error| JobFailure {
            message: format!("the job's payload is malformed: {error}"),
            fault: FaultKind::User,
        })?;
    let observer = JobProgress {
        context: context.clone(),
        total: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    };
    job_outcome(app.run_url_job(job.workspace, &payload, &observer).await)
}

/// An ingestion's outcome as the queue records it: the report, or a failure whose message
/// is the person's to read when it was their input's fault.
fn job_outcome(outcome: Result<crate::IngestReport>) -> Result<serde_json::Value, JobFailure> {
    match outcome {
        Ok(report) => serde_json::to_value(report).map_err(|e| JobFailure {
            message: e.to_string(),
            fault: FaultKind::Bug,
        }),
        Err(error) => Err(JobFailure {
            message: match (&error, error.fault()) {
                (_, FaultKind::User) => error.to_string(),
                // Written for the person who gave the URL, never naming internal addresses.
                (AppError::Fetch(fetch), _) => format!("{fetch}; it will be retried"),
                _ => "ingestion failed on the server; it will be retried".into(),
            },
            fault: error.fault(),
        }),
    }
}

async fn run_upload(
    app: &Brandpilot,
    workspace: Option<WorkspaceId>,
    payload: &UploadJob,
    context: &JobContext,
) -> Result<crate::IngestReport> {
    let workspace = workspace.ok_or_else(|| AppError::InvalidInput("no workspace".into()))?;
    let brand = app.brand_by_id(workspace, BrandId(payload.brand)).await?;
    let files = app
        .store
        .uploads(brand.id, &payload.uploads)
        .await?
        .into_iter()
        .map(|upload| (upload.filename, upload.bytes))
        .collect();
    let observer = JobProgress {
        context: context.clone(),
        total: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    };
    app.ingest_bytes(&brand, files, &payload.tags, &observer)
        .await
}

struct JobProgress {
    context: JobContext,
    total: AtomicUsize,
    done: AtomicUsize,
}

impl IngestObserver for JobProgress {
    fn started(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.context.progress(0, total as u64);
    }

    fn finished_one(&self, _origin: &str, _outcome: &FileOutcome) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.context
            .progress(done as u64, self.total.load(Ordering::Relaxed) as u64);
    }
}
