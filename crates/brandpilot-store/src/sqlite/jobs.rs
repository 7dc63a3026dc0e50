//! The SQLite side of the job queue. Each operation is one statement (plus its `job_runs`
//! bookkeeping in the same transaction): SQLite has one writer at a time, so a claim's
//! `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` is atomic across connections and
//! processes, which is what PostgreSQL needs `FOR UPDATE SKIP LOCKED` for. Worker writes
//! are fenced by `attempts`: they match only while the job is running the attempt the
//! worker claimed.

use super::SqliteStore;
use crate::records::{
    ClaimedJob, Enqueued, JobLane, JobRecord, JobRun, JobStatus, NewJob, QueueStats, Upload,
};
use crate::{Result, StoreError, now_ms};
use brandpilot_core::{BrandId, JobId, WorkspaceId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Why a reaped job went back to the queue, as its users see it.
const LEASE_LOST: &str = "the worker running this job stopped responding; it will be retried";

impl SqliteStore {
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
             VALUES (?, 'long', ?, ?, 'running', 1, 1, ?, ?, ?) RETURNING id",
        )
        .bind(workspace.0)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now)
        .bind(now)
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
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET status = ?, progress_done = ?, progress_total = ?, last_error = ?,
                    updated_at = ?, finished_at = CASE WHEN ? THEN ? ELSE finished_at END
             WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(done as i64)
        .bind(total as i64)
        .bind(error)
        .bind(now)
        .bind(status.is_final())
        .bind(now)
        .bind(job.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_job(&self, job: JobId) -> Result<Option<JobRecord>> {
        let row = sqlx::query(
            "SELECT id, workspace_id, lane, kind, status, payload, attempts, max_attempts, run_at,
                    progress_done, progress_total, last_error, result
             FROM jobs WHERE id = ?",
        )
        .bind(job.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Enqueued> {
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO jobs (workspace_id, lane, kind, payload, status, idempotency_key,
                               max_attempts, run_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)
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
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = inserted {
            return Ok(Enqueued::New(JobId(row.try_get("id")?)));
        }
        let existing = sqlx::query(
            "SELECT id FROM jobs WHERE workspace_id IS ? AND kind = ? AND idempotency_key = ?",
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
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = ?,
                    lease_expires_at = ?, updated_at = ?
             WHERE id IN (SELECT id FROM jobs
                          WHERE lane = ? AND status = 'queued' AND run_at <= ?
                          ORDER BY run_at, id LIMIT ?)
             RETURNING id, workspace_id, kind, payload, attempts, max_attempts, run_at",
        )
        .bind(worker)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(lane.as_str())
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let payload: String = row.try_get("payload")?;
            let job = ClaimedJob {
                id: JobId(row.try_get("id")?),
                workspace: row
                    .try_get::<Option<i64>, _>("workspace_id")?
                    .map(WorkspaceId),
                kind: row.try_get("kind")?,
                payload: serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?,
                attempt: row.try_get::<i64, _>("attempts")? as u32,
                max_attempts: row.try_get::<i64, _>("max_attempts")? as u32,
            };
            sqlx::query(
                "INSERT INTO job_runs (job_id, attempt, worker, started_at) VALUES (?, ?, ?, ?)",
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
            "UPDATE jobs SET lease_expires_at = ?, updated_at = ?,
                    progress_done = COALESCE(?, progress_done),
                    progress_total = COALESCE(?, progress_total)
             WHERE id = ? AND attempts = ? AND status = 'running'",
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
            "UPDATE jobs SET status = 'succeeded', result = ?, worker = NULL,
                    lease_expires_at = NULL, updated_at = ?, finished_at = ?,
                    progress_done = MAX(progress_done, progress_total)
             WHERE id = ? AND attempts = ? AND status = 'running'",
        )
        .bind(result.to_string())
        .bind(now_ms)
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
                 status = CASE WHEN ? IS NULL THEN 'failed'
                               WHEN attempts >= max_attempts THEN 'dead'
                               ELSE 'queued' END,
                 run_at = COALESCE(?, run_at), last_error = ?, worker = NULL,
                 lease_expires_at = NULL, updated_at = ?,
                 finished_at = CASE WHEN ? IS NULL OR attempts >= max_attempts THEN ?
                                    ELSE NULL END
             WHERE id = ? AND attempts = ? AND status = 'running'
             RETURNING status",
        )
        .bind(retry_at_ms)
        .bind(retry_at_ms)
        .bind(error)
        .bind(now_ms)
        .bind(retry_at_ms)
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
            "UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_at = ?,
                    worker = NULL, lease_expires_at = NULL, updated_at = ?
             WHERE id = ? AND attempts = ? AND status = 'running'",
        )
        .bind(now_ms)
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
        sqlx::query("DELETE FROM job_runs WHERE job_id = ? AND attempt = ?")
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
        let rows = sqlx::query(
            "UPDATE jobs SET
                 status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                 run_at = ?, last_error = ?, worker = NULL, lease_expires_at = NULL,
                 updated_at = ?,
                 finished_at = CASE WHEN attempts >= max_attempts THEN ? ELSE NULL END
             WHERE lane = ? AND status = 'running' AND lease_expires_at < ?
             RETURNING id, attempts",
        )
        .bind(retry_at_ms)
        .bind(LEASE_LOST)
        .bind(now_ms)
        .bind(now_ms)
        .bind(lane.as_str())
        .bind(now_ms)
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
             SELECT workspace_id, id, ?, ?, ?, ? FROM brands WHERE id = ?
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
        let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = sqlx::query(
            "SELECT id, filename, sha256, bytes FROM uploads
             WHERE brand_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id",
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
        let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let result =
            sqlx::query("DELETE FROM uploads WHERE id IN (SELECT value FROM json_each(?))")
                .bind(ids)
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected())
    }

    pub async fn delete_uploads_before(&self, before_ms: i64) -> Result<u64> {
        let result = sqlx::query("DELETE FROM uploads WHERE created_at < ?")
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
                     (SELECT COUNT(*) FROM jobs WHERE lane = ?1 AND status = 'queued') AS queued,
                     (SELECT COUNT(*) FROM jobs WHERE lane = ?1 AND status = 'running') AS running,
                     (SELECT MIN(run_at) FROM jobs
                      WHERE lane = ?1 AND status = 'queued' AND run_at <= ?2) AS oldest",
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
            "SELECT attempt, worker, outcome, error FROM job_runs WHERE job_id = ?
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
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    job: JobId,
    attempt: u32,
    outcome: &str,
    error: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE job_runs SET finished_at = ?, outcome = ?, error = ?
         WHERE job_id = ? AND attempt = ?",
    )
    .bind(now_ms)
    .bind(outcome)
    .bind(error)
    .bind(job.0)
    .bind(i64::from(attempt))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn job_from_row(row: &SqliteRow) -> Result<JobRecord> {
    let payload: String = row.try_get("payload")?;
    let result: Option<String> = row.try_get("result")?;
    let status: String = row.try_get("status")?;
    let lane: String = row.try_get("lane")?;
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
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?,
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
