-- The LLM layer's state: one row per routed call (what was spent, for whom, how it went)
-- and the answer cache. PostgreSQL's text of SQLite's 0002: times are Unix milliseconds
-- (BIGINT), hashes 32 raw bytes (BYTEA), vectors little-endian f32 (BYTEA), flags BOOLEAN.
-- The cached `response` stays TEXT: the app writes it and must read back the same bytes.

-- One routed call, with all its retries and fallbacks. No prompt or answer text: counts only.
-- A call made for a brand keeps its spend after the brand is deleted (brand_id becomes NULL,
-- the row stays with its workspace); deleting the workspace deletes its history.
CREATE TABLE llm_calls (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id       BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    brand_id           BIGINT REFERENCES brands(id) ON DELETE SET NULL,
    route              TEXT NOT NULL,
    provider           TEXT NOT NULL,          -- the provider that answered or was tried last
    model              TEXT NOT NULL,
    prompt_tokens      BIGINT NOT NULL,
    completion_tokens  BIGINT NOT NULL,
    tokens_estimated   BOOLEAN NOT NULL,       -- counted by us, not reported by the provider
    cost_usd           DOUBLE PRECISION,       -- NULL: the model has no price
    latency_ms         BIGINT NOT NULL,
    outcome            TEXT NOT NULL
                       CHECK (outcome IN ('success', 'failed', 'interrupted', 'cancelled')),
    fault              TEXT CHECK (fault IN ('user', 'transient', 'bug')),
    fallback_depth     BIGINT NOT NULL,        -- 0: the route's first provider answered
    retries            BIGINT NOT NULL,
    streamed           BOOLEAN NOT NULL,
    created_at         BIGINT NOT NULL
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
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    brand_id      BIGINT REFERENCES brands(id) ON DELETE CASCADE,
    route         TEXT NOT NULL,
    key_hash      BYTEA NOT NULL,
    context_hash  BYTEA NOT NULL,
    embedding     BYTEA,
    response      TEXT NOT NULL,               -- JSON, written and read by the app
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
-- One entry per request and scope. UNIQUE treats NULLs as distinct (as SQLite does), so the
-- workspace-level scope (brand_id NULL) is folded to 0, which no brand id ever is.
CREATE UNIQUE INDEX llm_cache_by_key
    ON llm_cache (workspace_id, COALESCE(brand_id, 0), route, key_hash);
-- Similarity candidates: same scope and context, newest first.
CREATE INDEX llm_cache_by_context
    ON llm_cache (workspace_id, brand_id, route, context_hash, created_at);
-- Eviction of expired entries across all scopes.
CREATE INDEX llm_cache_by_expiry ON llm_cache (expires_at);
