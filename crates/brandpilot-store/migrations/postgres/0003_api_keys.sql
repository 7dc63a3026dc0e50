-- API keys: programmatic access to one workspace, limited to named scopes.
--
-- The secret itself is never stored: `secret_hash` is the SHA-256 of the whole key as the
-- caller sends it, so a leaked database does not leak working keys (the keys are 256-bit
-- random values, so a fast hash is enough; a password hash would only slow every request).
-- `prefix` is the visible part a person recognises a key by in lists and logs. A revoked
-- key keeps its row, so lists show who revoked what and when.
CREATE TABLE api_keys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL UNIQUE,
    secret_hash  BYTEA NOT NULL UNIQUE,
    scopes       JSONB NOT NULL,           -- JSON array of scope names
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE INDEX api_keys_workspace ON api_keys (workspace_id, id);
