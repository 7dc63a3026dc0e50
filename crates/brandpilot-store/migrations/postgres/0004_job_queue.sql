-- The durable job queue. It turns the status-only `jobs` table of 0001, whose rows were
-- progress records of command-line ingestions, into the queue; they are kept as finished
-- jobs. (SQLite rebuilds the table to change it; PostgreSQL alters it in place.)
--
-- A job waits as `queued` until `run_at`, is claimed by one worker (`running`, with a lease
-- that the worker renews), and ends `succeeded`, `failed` (not worth retrying), `dead`
-- (retries used up) or `cancelled`. A worker that stops renewing loses the job back to the
-- queue once its lease expires. Every write by a worker is fenced by the attempt number it
-- claimed: a worker whose lease expired and whose job was claimed again cannot complete it.
-- Jobs the command line runs itself are `running` without a lease, so no reaper takes them.
-- Workers claim with `FOR UPDATE SKIP LOCKED`, so two never wait on or take the same job.
ALTER TABLE jobs RENAME COLUMN error TO last_error;       -- user-safe; details go to the log

ALTER TABLE jobs
    ADD COLUMN lane             TEXT NOT NULL DEFAULT 'long',
    ADD COLUMN idempotency_key  TEXT,
    ADD COLUMN attempts         BIGINT NOT NULL DEFAULT 1,
    ADD COLUMN max_attempts     BIGINT NOT NULL DEFAULT 1,
    ADD COLUMN run_at           BIGINT,                   -- ms; not before (backoff)
    ADD COLUMN worker           TEXT,                     -- who holds the lease
    ADD COLUMN lease_expires_at BIGINT,                   -- ms; NULL when not leased
    ADD COLUMN result           JSONB,
    ADD COLUMN finished_at      BIGINT;

-- Earlier records: finished ones as succeeded, unfinished ones as failed with a reason.
UPDATE jobs SET
    status = CASE status WHEN 'done' THEN 'succeeded' ELSE 'failed' END,
    last_error = CASE status WHEN 'done' THEN last_error
                 ELSE COALESCE(last_error, 'interrupted before this version of Brandpilot') END,
    run_at = created_at,
    finished_at = updated_at;

ALTER TABLE jobs
    ALTER COLUMN lane DROP DEFAULT,
    ALTER COLUMN attempts SET DEFAULT 0,
    ALTER COLUMN max_attempts SET DEFAULT 5,
    ALTER COLUMN run_at SET NOT NULL,
    ADD CONSTRAINT jobs_lane CHECK (lane IN ('fast', 'long')),
    ADD CONSTRAINT jobs_status
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'));

CREATE UNIQUE INDEX jobs_idempotency ON jobs (workspace_id, kind, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (lane, run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lane, lease_expires_at) WHERE status = 'running';

-- One row per execution: what ran where, and how it ended (history for people; proof of
-- "ran once" for tests).
CREATE TABLE job_runs (
    job_id      BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    attempt     BIGINT NOT NULL,
    worker      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    outcome     TEXT,       -- succeeded, failed, retry, dead, lost, released
    error       TEXT,
    PRIMARY KEY (job_id, attempt)
);
