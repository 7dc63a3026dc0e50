-- People who sign in, the workspaces they belong to, their sessions, and the audit trail.
--
-- `email` is stored normalised (trimmed, lower case) so that one address is one account.
-- `password_hash` is an argon2id PHC string (algorithm, parameters and salt travel with it,
-- so the parameters can be raised later without invalidating old hashes).
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE memberships (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE INDEX memberships_user ON memberships (user_id, workspace_id);

-- A sign-in session: every refresh token handed out since one login belongs to its family.
-- Revoking the family (logout, or a rotated token presented again: a sign that it was
-- stolen) ends every token in it at once.
CREATE TABLE refresh_families (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Only the SHA-256 of a refresh token is kept (they are 256-bit random values). A token is
-- good once: refreshing sets `rotated_at` and issues the next token of the family.
CREATE TABLE refresh_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family_id  BIGINT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- The security audit trail. No foreign keys: an entry outlives the workspace, user or key
-- it names. Append-only: the triggers refuse every UPDATE, DELETE and TRUNCATE, so neither
-- an API nor a bug in this program can rewrite history (only the table's owner, by
-- dropping the triggers first).
CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT,
    actor        TEXT NOT NULL,          -- `user:<id>`, `key:<prefix>`, `cli`, `anonymous`
    action       TEXT NOT NULL,          -- e.g. `login`, `login_failed`, `brand.delete`
    target       TEXT,                   -- what it acted on, e.g. `brand:12`
    detail       JSONB NOT NULL,         -- JSON object
    ip           TEXT,
    request_id   TEXT,
    created_at   BIGINT NOT NULL
);

CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

-- Row triggers do not see TRUNCATE; a statement trigger does.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Secrets the server makes for itself (the access-token signing key unless configured), so
-- every replica on this database signs and checks with the same one.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
