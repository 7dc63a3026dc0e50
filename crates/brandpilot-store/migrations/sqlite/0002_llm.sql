-- The LLM layer's state: one row per routed call (what was spent, for whom, how it went)
-- and the answer cache. Same conventions as 0001: times are Unix milliseconds (BIGINT in
-- PostgreSQL), hashes are 32 raw bytes (BYTEA), vectors little-endian f32 (BYTEA), flags
-- 0/1 integers (BOOLEAN), JSON as text (JSONB). Nothing below is SQLite-only except those
-- type names, so the PostgreSQL migration is the same statements with its own types.

-- One routed call, with all its retries and fallbacks. No prompt or answer text: counts only.
-- A call made for a brand keeps its spend after the brand is deleted (brand_id becomes NULL,
-- the row stays with its workspace); deleting the workspace deletes its history.
CREATE TABLE llm_calls (
    id                 INTEGER PRIMARY KEY,
    workspace_id       INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    brand_id           INTEGER REFERENCES brands(id) ON DELETE SET NULL,
    route              TEXT NOT NULL,
    provider           TEXT NOT NULL,          -- the provider that answered or was tried last
    model              TEXT NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    tokens_estimated   INTEGER NOT NULL,       -- 1: counted by us, not reported by the provider
    cost_usd           REAL,                   -- NULL: the model has no price
    latency_ms         INTEGER NOT NULL,
    outcome            TEXT NOT NULL
                       CHECK (outcome IN ('success', 'failed', 'interrupted', 'cancelled')),
    fault              TEXT CHECK (fault IN ('user', 'transient', 'bug')),
    fallback_depth     INTEGER NOT NULL,       -- 0: the route's first provider answered
    retries            INTEGER NOT NULL,
    streamed           INTEGER NOT NULL,
    created_at         INTEGER NOT NULL
);
-- Usage reports filter a workspace's calls by time, optionally by brand.
CREATE INDEX llm_calls_by_workspace_time ON llm_calls (workspace_id, created_at);
CREATE INDEX llm_calls_by_brand_time ON llm_calls (brand_id, created_at);

-- Answers kept for reuse, per workspace, brand (NULL: a workspace-level call) and route.
-- `key_hash` identifies the exact request; `context_hash` everything in it but the last user
-- message, so a similar question is only ever served an answer given in the same context.
-- `embedding` is the last user message's vector (NULL when it was not embedded).
-- A brand's cached answers go with the brand: they were written from its knowledge.
CREATE TABLE llm_cache (
    id            INTEGER PRIMARY KEY,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    brand_id      INTEGER REFERENCES brands(id) ON DELETE CASCADE,
    route         TEXT NOT NULL,
    key_hash      BLOB NOT NULL,
    context_hash  BLOB NOT NULL,
    embedding     BLOB,
    response      TEXT NOT NULL,               -- JSON, written and read by the app
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
-- One entry per request and scope. UNIQUE treats NULLs as distinct in both backends, so the
-- workspace-level scope (brand_id NULL) is folded to 0, which no brand id ever is.
CREATE UNIQUE INDEX llm_cache_by_key
    ON llm_cache (workspace_id, COALESCE(brand_id, 0), route, key_hash);
-- Similarity candidates: same scope and context, newest first.
CREATE INDEX llm_cache_by_context
    ON llm_cache (workspace_id, brand_id, route, context_hash, created_at);
-- Eviction of expired entries across all scopes.
CREATE INDEX llm_cache_by_expiry ON llm_cache (expires_at);
