-- The knowledge base: tenants, brands, their sources and the chunks cut from them.
-- PostgreSQL's text of SQLite's 0001 (same tables, columns and meaning). Times are Unix
-- milliseconds (BIGINT), hashes and vectors raw bytes (BYTEA). Nothing here names a schema:
-- tables go to the first schema of the connection's search_path (tests give each their own).

CREATE TABLE workspaces (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE brands (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

-- One ingested document. `origin` (a canonical path or URL) identifies it within its brand,
-- so ingesting the same path again updates this row instead of adding another.
-- `content_hash` is set only once the source's chunks are stored: a row left in
-- 'processing' by a crash has no hash and is therefore ingested again on the next run.
-- `tags` stays JSON text (not JSONB): only the program writes and reads it, and the
-- ingestion path writes thousands of rows at a time.
CREATE TABLE sources (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    brand_id      BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    origin        TEXT NOT NULL,
    title         TEXT NOT NULL,
    tags          TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings, sorted
    content_hash  BYTEA,
    byte_size     BIGINT NOT NULL DEFAULT 0,
    status        TEXT NOT NULL,
    error         TEXT,
    chunk_count   BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (brand_id, origin)
);

-- Identities are never reused. The search indexes catch up with the store by "every chunk
-- id above my watermark", which is only sound if ids grow in commit order. PostgreSQL hands
-- identities out at insert time, not at commit: the store serialises every transaction that
-- inserts or deletes chunks with one advisory lock (see `CHUNK_WRITERS` in postgres.rs), so
-- the order of ids is the order of commits.
CREATE TABLE chunks (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id     BIGINT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    brand_id      BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    ordinal       BIGINT NOT NULL,
    text          TEXT NOT NULL,
    token_count   BIGINT NOT NULL,
    content_hash  BYTEA NOT NULL,
    locator       TEXT NOT NULL,                -- JSON ChunkLocator
    UNIQUE (source_id, ordinal)
);
CREATE INDEX chunks_by_hash ON chunks (content_hash);
-- The cascades from sources and brands look chunks up by these.
CREATE INDEX chunks_by_brand ON chunks (brand_id);

-- Every deleted chunk, in order, written by the database itself (the trigger below also
-- fires for ON DELETE CASCADE), so no code path can delete a chunk and forget the indexes.
-- Rows are never deleted, so the highest chunk id ever committed is the larger of
-- max(chunks.id) and max(chunk_deletions.chunk_id): the chunk high mark, which must not go
-- backwards when the newest chunks are deleted (SQLite reads it from sqlite_sequence).
CREATE TABLE chunk_deletions (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chunk_id  BIGINT NOT NULL
);
CREATE INDEX chunk_deletions_by_chunk ON chunk_deletions (chunk_id);

CREATE FUNCTION chunks_log_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chunk_deletions (chunk_id) VALUES (OLD.id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER chunks_log_deletion AFTER DELETE ON chunks
    FOR EACH ROW EXECUTE FUNCTION chunks_log_deletion();

-- Embeddings cached by model and chunk content, so unchanged text is never embedded twice,
-- whichever source it comes from. Vectors are little-endian f32.
CREATE TABLE embeddings (
    model         TEXT NOT NULL,
    content_hash  BYTEA NOT NULL,
    vector        BYTEA NOT NULL,
    PRIMARY KEY (model, content_hash)
);

-- Background work: an ingestion run now; the durable queue of the server builds on it (0004).
CREATE TABLE jobs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT REFERENCES workspaces(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    payload         JSONB NOT NULL DEFAULT '{}',
    progress_done   BIGINT NOT NULL DEFAULT 0,
    progress_total  BIGINT NOT NULL DEFAULT 0,
    error           TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
