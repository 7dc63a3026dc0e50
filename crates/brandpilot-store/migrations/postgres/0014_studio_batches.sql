-- Studio batches: many briefs for one brand, written on the job queue one item per job.
-- An item is done exactly once: its generation is stored in the same transaction that
-- moves it from pending, and only if it was still pending, so a job retried after a crash
-- never stores a second generation. A batch made again with the same idempotency key is
-- the first one (a command line re-run resumes it).
CREATE TABLE studio_batches (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    brand_id         BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    idempotency_key  TEXT,
    created_by       TEXT,
    created_at       BIGINT NOT NULL,
    UNIQUE (brand_id, idempotency_key)
);

CREATE TABLE studio_batch_items (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id       BIGINT NOT NULL REFERENCES studio_batches(id) ON DELETE CASCADE,
    brand_id       BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    position       BIGINT NOT NULL,
    request        TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending',
    job_id         BIGINT,
    generation_id  BIGINT REFERENCES generations(id) ON DELETE SET NULL,
    error          TEXT,
    updated_at     BIGINT NOT NULL,
    UNIQUE (batch_id, position)
);
CREATE INDEX studio_batch_items_unqueued ON studio_batch_items (status, job_id);
