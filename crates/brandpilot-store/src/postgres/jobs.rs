//! The PostgreSQL side of the job queue. Claims pick due jobs with `FOR UPDATE SKIP LOCKED`:
//! a worker never waits for, nor takes, a job another worker's claim has locked, and a row
//! a committed claim changed is re-checked (no longer `queued`) before it is taken. Worker
//! writes are fenced by `attempts`: they match only while the job is running the attempt
//! the worker claimed.

use super::{PostgresStore, json_from_row};
use crate::records::{
    ClaimedJob, Enqueued, JobLane, JobRecord, JobRun, JobStatus, NewJob, QueueStats, Upload,
};
use crate::{Result, StoreError, now_ms};
use brandpilot_core::{BrandId, JobId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

/// Why a reaped job went back to the queue, as its users see it.
const LEASE_LOST: &str = "the worker running this job stopped responding; it will be retried";

impl PostgresStore {
    pub async fn create_job(
        &self,
        workspace: WorkspaceId,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<JobId> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO jobs (workspace_id, lane, kind, payload, status, attempts, max_attempts,
                               run_at, created_at, updated_at)
             VALUES ($1, 'long', $2, $3::jsonb, 'running', 1, 1, $4, $4, $4) RETURNING id",
        )
        .bind(workspace.0)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(JobId(row.try_get("id")?))
    }

    pub async fn update_job(
        &self,
        job: JobId,
        status: JobStatus,
        done: u64,
        total: u64,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET status = $1, progress_done = $2, progress_total = $3,
                    last_error = $4, updated_at = $5,
                    finished_at = CASE WHEN $6 THEN $5 ELSE finished_at END
             WHERE id = $7",
        )
        .bind(status.as_str())
        .bind(done as i64)
        .bind(total as i64)
        .bind(error)
        .bind(now_ms())
        .bind(status.is_final())
        .bind(job.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_job(&self, job: JobId) -> Result<Option<JobRecord>> {
        let row = sqlx::query(
            "SELECT id, workspace_id, lane, kind, status, payload::text AS payload, attempts,
                    max_attempts, run_at, progress_done, progress_total, last_error,
                    result::text AS result
             FROM jobs WHERE id = $1",
        )
        .bind(job.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Enqueued> {
        let now = now_ms();
        // A concurrent insert with the same key makes this one wait for its commit, then do
        // nothing; the SELECT below (a new snapshot) finds the committed job.
        let inserted = sqlx::query(
            "INSERT INTO jobs (workspace_id, lane, kind, payload, status, idempotency_key,
                               max_attempts, run_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4::jsonb, 'queued', $5, $6, $7, $8, $8)
             ON CONFLICT (workspace_id, kind, idempotency_key)
                 WHERE idempotency_key IS NOT NULL DO NOTHING
             RETURNING id",
        )
        .bind(job.workspace.map(|w| w.0))
        .bind(job.lane.as_str())
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(&job.idempotency_key)
        .bind(i64::from(job.max_attempts.max(1)))
        .bind(job.run_at_ms)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = inserted {
            return Ok(Enqueued::New(JobId(row.try_get("id")?)));
        }
        let existing = sqlx::query(
            "SELECT id FROM jobs
             WHERE workspace_id IS NOT DISTINCT FROM $1 AND kind = $2 AND idempotency_key = $3",
        )
        .bind(job.workspace.map(|w| w.0))
        .bind(&job.kind)
        .bind(&job.idempotency_key)
        .fetch_one(&self.pool)
        .await?;
        Ok(Enqueued::Existing(JobId(existing.try_get("id")?)))
    }

    pub async fn claim_jobs(
        &self,
        lane: JobLane,
        worker: &str,
        limit: u32,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<ClaimedJob>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "WITH due AS (
                 SELECT id FROM jobs
                 WHERE lane = $1 AND status = 'queued' AND run_at <= $2
                 ORDER BY run_at, id LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             UPDATE jobs SET status = 'running', attempts = jobs.attempts + 1, worker = $4,
                    lease_expires_at = $5, updated_at = $2
             FROM due WHERE jobs.id = due.id
             RETURNING jobs.id, jobs.workspace_id, jobs.kind, jobs.payload::text AS payload,
                       jobs.attempts, jobs.max_attempts, jobs.run_at",
        )
        .bind(lane.as_str())
        .bind(now_ms)
        .bind(i64::from(limit))
        .bind(worker)
        .bind(now_ms + lease_ms)
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let job = ClaimedJob {
                id: JobId(row.try_get("id")?),
                workspace: row
                    .try_get::<Option<i64>, _>("workspace_id")?
                    .map(WorkspaceId),
                kind: row.try_get("kind")?,
                payload: json_from_row(row, "payload")?,
                attempt: row.try_get::<i64, _>("attempts")? as u32,
                max_attempts: row.try_get::<i64, _>("max_attempts")? as u32,
            };
            sqlx::query(
                "INSERT INTO job_runs (job_id, attempt, worker, started_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(job.id.0)
            .bind(i64::from(job.attempt))
            .bind(worker)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            claimed.push((row.try_get::<i64, _>("run_at")?, job));
        }
        tx.commit().await?;
        // RETURNING gives no order; hand the jobs out oldest due first.
        claimed.sort_by_key(|(run_at, job)| (*run_at, job.id));
        Ok(claimed.into_iter().map(|(_, job)| job).collect())
    }

    pub async fn heartbeat_job(
        &self,
        job: JobId,
        attempt: u32,
        lease_until_ms: i64,
        progress: Option<(u64, u64)>,
    ) -> Result<bool> {
        let (done, total) =
            progress.map_or((None, None), |(d, t)| (Some(d as i64), Some(t as i64)));
        let result = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $1, updated_at = $2,
                    progress_done = COALESCE($3, progress_done),
                    progress_total = COALESCE($4, progress_total)
             WHERE id = $5 AND attempts = $6 AND status = 'running'",
        )
        .bind(lease_until_ms)
        .bind(now_ms())
        .bind(done)
        .bind(total)
        .bind(job.0)
        .bind(i64::from(attempt))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn complete_job(
        &self,
        job: JobId,
        attempt: u32,
        result: &serde_json::Value,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE jobs SET status = 'succeeded', result = $1::jsonb, worker = NULL,
                    lease_expires_at = NULL, updated_at = $2, finished_at = $2,
                    progress_done = GREATEST(progress_done, progress_total)
             WHERE id = $3 AND attempts = $4 AND status = 'running'",
        )
        .bind(result.to_string())
        .bind(now_ms)
        .bind(job.0)
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        finish_run(&mut tx, job, attempt, "succeeded", None, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn fail_job(
        &self,
        job: JobId,
        attempt: u32,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<Option<JobStatus>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE jobs SET
                 status = CASE WHEN $1::bigint IS NULL THEN 'failed'
                               WHEN attempts >= max_attempts THEN 'dead'
                               ELSE 'queued' END,
                 run_at = COALESCE($1, run_at), last_error = $2, worker = NULL,
                 lease_expires_at = NULL, updated_at = $3,
                 finished_at = CASE WHEN $1::bigint IS NULL OR attempts >= max_attempts
                                    THEN $3 ELSE NULL END
             WHERE id = $4 AND attempts = $5 AND status = 'running'
             RETURNING status",
        )
        .bind(retry_at_ms)
        .bind(error)
        .bind(now_ms)
        .bind(job.0)
        .bind(i64::from(attempt))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get("status")?;
        let (outcome, left) = match status.as_str() {
            "queued" => ("retry", JobStatus::Queued),
            "dead" => ("dead", JobStatus::Dead),
            _ => ("failed", JobStatus::Failed),
        };
        finish_run(&mut tx, job, attempt, outcome, Some(error), now_ms).await?;
        tx.commit().await?;
        Ok(Some(left))
    }

    pub async fn release_job(&self, job: JobId, attempt: u32, now_ms: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_at = $1,
                    worker = NULL, lease_expires_at = NULL, updated_at = $1
             WHERE id = $2 AND attempts = $3 AND status = 'running'",
        )
        .bind(now_ms)
        .bind(job.0)
        .bind(i64::from(attempt))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        // The attempt number will be claimed again: its run row goes, so the next claim
        // can record it.
        sqlx::query("DELETE FROM job_runs WHERE job_id = $1 AND attempt = $2")
            .bind(job.0)
            .bind(i64::from(attempt))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn reap_expired_jobs(
        &self,
        lane: JobLane,
        now_ms: i64,
        retry_at_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        // Each matching row is locked by the UPDATE; a worker's concurrent heartbeat either
        // lands first (the lease is no longer expired when re-checked) or finds the attempt
        // reaped and stops.
        let rows = sqlx::query(
            "UPDATE jobs SET
                 status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                 run_at = $1, last_error = $2, worker = NULL, lease_expires_at = NULL,
                 updated_at = $3,
                 finished_at = CASE WHEN attempts >= max_attempts THEN $3 ELSE NULL END
             WHERE lane = $4 AND status = 'running' AND lease_expires_at < $3
             RETURNING id, attempts",
        )
        .bind(retry_at_ms)
        .bind(LEASE_LOST)
        .bind(now_ms)
        .bind(lane.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let job = JobId(row.try_get("id")?);
            let attempt = row.try_get::<i64, _>("attempts")? as u32;
            finish_run(&mut tx, job, attempt, "lost", Some(LEASE_LOST), now_ms).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    pub async fn put_upload(
        &self,
        brand: BrandId,
        filename: &str,
        sha256: &[u8; 32],
        bytes: &[u8],
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO uploads (workspace_id, brand_id, filename, sha256, bytes, created_at)
             SELECT workspace_id, id, $1, $2, $3, $4 FROM brands WHERE id = $5
             RETURNING id",
        )
        .bind(filename)
        .bind(&sha256[..])
        .bind(bytes)
        .bind(now_ms())
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("upload for a missing brand {brand:?}")))?;
        Ok(row.try_get("id")?)
    }

    pub async fn uploads(&self, brand: BrandId, ids: &[i64]) -> Result<Vec<Upload>> {
        let rows = sqlx::query(
            "SELECT id, filename, sha256, bytes FROM uploads
             WHERE brand_id = $1 AND id = ANY($2) ORDER BY id",
        )
        .bind(brand.0)
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let sha: Vec<u8> = row.try_get("sha256")?;
                Ok(Upload {
                    id: row.try_get("id")?,
                    filename: row.try_get("filename")?,
                    sha256: sha
                        .try_into()
                        .map_err(|_| StoreError::Corrupt("upload hash length".into()))?,
                    bytes: row.try_get("bytes")?,
                })
            })
            .collect()
    }

    pub async fn delete_uploads(&self, ids: &[i64]) -> Result<u64> {
        let result = sqlx::query("DELETE FROM uploads WHERE id = ANY($1)")
            .bind(ids)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    pub async fn delete_uploads_before(&self, before_ms: i64) -> Result<u64> {
        let result = sqlx::query("DELETE FROM uploads WHERE created_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    pub async fn queue_stats(&self, now_ms: i64) -> Result<Vec<QueueStats>> {
        let mut stats = Vec::new();
        for lane in [JobLane::Fast, JobLane::Long, JobLane::Generate] {
            let row = sqlx::query(
                "SELECT
                     (SELECT COUNT(*) FROM jobs WHERE lane = $1 AND status = 'queued') AS queued,
                     (SELECT COUNT(*) FROM jobs WHERE lane = $1 AND status = 'running') AS running,
                     (SELECT MIN(run_at) FROM jobs
                      WHERE lane = $1 AND status = 'queued' AND run_at <= $2) AS oldest",
            )
            .bind(lane.as_str())
            .bind(now_ms)
            .fetch_one(&self.pool)
            .await?;
            stats.push(QueueStats {
                lane,
                queued: row.try_get::<i64, _>("queued")? as u64,
                running: row.try_get::<i64, _>("running")? as u64,
                oldest_due_ms: row.try_get("oldest")?,
            });
        }
        Ok(stats)
    }

    pub async fn job_runs(&self, job: JobId) -> Result<Vec<JobRun>> {
        let rows = sqlx::query(
            "SELECT attempt, worker, outcome, error FROM job_runs WHERE job_id = $1
             ORDER BY attempt",
        )
        .bind(job.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(JobRun {
                    attempt: row.try_get::<i64, _>("attempt")? as u32,
                    worker: row.try_get("worker")?,
                    outcome: row.try_get("outcome")?,
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }
}

async fn finish_run(
    connection: &mut PgConnection,
    job: JobId,
    attempt: u32,
    outcome: &str,
    error: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE job_runs SET finished_at = $1, outcome = $2, error = $3
         WHERE job_id = $4 AND attempt = $5",
    )
    .bind(now_ms)
    .bind(outcome)
    .bind(error)
    .bind(job.0)
    .bind(i64::from(attempt))
    .execute(&mut *connection)
    .await?;
    Ok(())
}

fn job_from_row(row: &PgRow) -> Result<JobRecord> {
    let status: String = row.try_get("status")?;
    let lane: String = row.try_get("lane")?;
    let result: Option<String> = row.try_get("result")?;
    Ok(JobRecord {
        id: JobId(row.try_get("id")?),
        workspace: row
            .try_get::<Option<i64>, _>("workspace_id")?
            .map(WorkspaceId),
        lane: JobLane::parse(&lane)
            .ok_or_else(|| StoreError::Corrupt(format!("job lane {lane:?}")))?,
        kind: row.try_get("kind")?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("job status {status:?}")))?,
        payload: json_from_row(row, "payload")?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        max_attempts: row.try_get::<i64, _>("max_attempts")? as u32,
        run_at_ms: row.try_get("run_at")?,
        progress_done: row.try_get::<i64, _>("progress_done")? as u64,
        progress_total: row.try_get::<i64, _>("progress_total")? as u64,
        error: row.try_get("last_error")?,
        result: result
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("job result: {e}")))?,
    })
}
