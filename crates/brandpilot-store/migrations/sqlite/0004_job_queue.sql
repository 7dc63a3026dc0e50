-- The durable job queue. It replaces the status-only `jobs` table of 0001, whose rows were
-- progress records of command-line ingestions; they are kept as finished jobs.
--
-- A job waits as `queued` until `run_at`, is claimed by one worker (`running`, with a lease
-- that the worker renews), and ends `succeeded`, `failed` (not worth retrying), `dead`
-- (retries used up) or `cancelled`. A worker that stops renewing loses the job back to the
-- queue once its lease expires. Every write by a worker is fenced by the attempt number it
-- claimed: a worker whose lease expired and whose job was claimed again cannot complete it.
-- Jobs the command line runs itself are `running` without a lease, so no reaper takes them.
ALTER TABLE jobs RENAME TO jobs_before_queue;

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    workspace_id     INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
    lane             TEXT NOT NULL CHECK (lane IN ('fast', 'long')),
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
    idempotency_key  TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 5,
    run_at           INTEGER NOT NULL,              -- ms; not before (backoff, scheduling)
    worker           TEXT,                          -- who holds the lease
    lease_expires_at INTEGER,                       -- ms; NULL when not leased
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,                          -- user-safe; details go to the log
    result           TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER
);

INSERT INTO jobs (id, workspace_id, lane, kind, payload, status, attempts, max_attempts, run_at,
                  progress_done, progress_total, last_error, created_at, updated_at, finished_at)
SELECT id, workspace_id, 'long', kind, payload,
       CASE status WHEN 'done' THEN 'succeeded' ELSE 'failed' END,
       1, 1, created_at, progress_done, progress_total,
       CASE status WHEN 'done' THEN error
                   ELSE COALESCE(error, 'interrupted before this version of Brandpilot') END,
       created_at, updated_at, updated_at
FROM jobs_before_queue;

DROP TABLE jobs_before_queue;

CREATE UNIQUE INDEX jobs_idempotency ON jobs (workspace_id, kind, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (lane, run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lane, lease_expires_at) WHERE status = 'running';

-- One row per execution: what ran where, and how it ended (history for people; proof of
-- "ran once" for tests).
CREATE TABLE job_runs (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT,       -- succeeded, failed, retry, dead, lost, released
    error       TEXT,
    PRIMARY KEY (job_id, attempt)
);
