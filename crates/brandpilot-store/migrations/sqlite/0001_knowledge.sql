-- The knowledge base: tenants, brands, their sources and the chunks cut from them.
-- Times are Unix milliseconds (INTEGER) so that the PostgreSQL schema can use BIGINT and
-- both backends compare them the same way.

CREATE TABLE workspaces (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE brands (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

-- One ingested document. `origin` (a canonical path or URL) identifies it within its brand,
-- so ingesting the same path again updates this row instead of adding another.
-- `content_hash` is set only once the source's chunks are stored: a row left in
-- 'processing' by a crash has no hash and is therefore ingested again on the next run.
CREATE TABLE sources (
    id            INTEGER PRIMARY KEY,
    brand_id      INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    origin        TEXT NOT NULL,
    title         TEXT NOT NULL,
    tags          TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings, sorted
    content_hash  BLOB,
    byte_size     INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL,
    error         TEXT,
    chunk_count   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (brand_id, origin)
);

-- AUTOINCREMENT: chunk ids are never reused, even after the highest is deleted. The search
-- indexes catch up with the store by "every chunk id above my watermark", which is only
-- sound if ids grow monotonically in commit order (SQLite has one writer at a time).
CREATE TABLE chunks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id     INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    brand_id      INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    ordinal       INTEGER NOT NULL,
    text          TEXT NOT NULL,
    token_count   INTEGER NOT NULL,
    content_hash  BLOB NOT NULL,
    locator       TEXT NOT NULL,                -- JSON ChunkLocator
    UNIQUE (source_id, ordinal)
);
CREATE INDEX chunks_by_hash ON chunks (content_hash);

-- Every deleted chunk, in order, written by the database itself (the trigger below also
-- fires for ON DELETE CASCADE), so no code path can delete a chunk and forget the indexes.
CREATE TABLE chunk_deletions (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id  INTEGER NOT NULL
);
CREATE TRIGGER chunks_log_deletion AFTER DELETE ON chunks
BEGIN
    INSERT INTO chunk_deletions (chunk_id) VALUES (old.id);
END;

-- Embeddings cached by model and chunk content, so unchanged text is never embedded twice,
-- whichever source it comes from. Vectors are little-endian f32.
CREATE TABLE embeddings (
    model         TEXT NOT NULL,
    content_hash  BLOB NOT NULL,
    vector        BLOB NOT NULL,
    PRIMARY KEY (model, content_hash)
) WITHOUT ROWID;

-- Background work: an ingestion run now; the durable queue of the server builds on it.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    workspace_id    INTEGER REFERENCES workspaces(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    progress_done   INTEGER NOT NULL DEFAULT 0,
    progress_total  INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
