-- A third lane for the job queue: `generate`, where Studio's batch items run with their own
-- workers, so a long batch never holds up ingestion on the `long` lane.
--
-- SQLite cannot change a CHECK constraint in place, so `jobs` is rebuilt. `job_runs`
-- references it and would lose its rows to ON DELETE CASCADE when the old table is
-- dropped, so it is set aside first (as a plain copy) and rebuilt after.
CREATE TABLE job_runs_copy AS SELECT * FROM job_runs;
DROP TABLE job_runs;

ALTER TABLE jobs RENAME TO jobs_before_generate_lane;

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    workspace_id     INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
    lane             TEXT NOT NULL CHECK (lane IN ('fast', 'long', 'generate')),
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

INSERT INTO jobs SELECT * FROM jobs_before_generate_lane;
DROP TABLE jobs_before_generate_lane;

CREATE UNIQUE INDEX jobs_idempotency ON jobs (workspace_id, kind, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_ready ON jobs (lane, run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lane, lease_expires_at) WHERE status = 'running';

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
INSERT INTO job_runs SELECT * FROM job_runs_copy;
DROP TABLE job_runs_copy;
