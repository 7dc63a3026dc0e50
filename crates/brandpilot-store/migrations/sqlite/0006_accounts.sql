-- People who sign in, the workspaces they belong to, their sessions, and the audit trail.
--
-- `email` is stored normalised (trimmed, lower case) so that one address is one account.
-- `password_hash` is an argon2id PHC string (algorithm, parameters and salt travel with it,
-- so the parameters can be raised later without invalidating old hashes).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);

CREATE INDEX memberships_user ON memberships (user_id, workspace_id);

-- A sign-in session: every refresh token handed out since one login belongs to its family.
-- Revoking the family (logout, or a rotated token presented again: a sign that it was
-- stolen) ends every token in it at once.
CREATE TABLE refresh_families (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Only the SHA-256 of a refresh token is kept (they are 256-bit random values). A token is
-- good once: refreshing sets `rotated_at` and issues the next token of the family.
CREATE TABLE refresh_tokens (
    id         INTEGER PRIMARY KEY,
    family_id  INTEGER NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- The security audit trail. No foreign keys: an entry outlives the workspace, user or key
-- it names. Append-only: the triggers refuse every UPDATE and DELETE, so neither an API
-- nor a bug in this program can rewrite history (only someone with the database file can).
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER,
    actor        TEXT NOT NULL,          -- `user:<id>`, `key:<prefix>`, `cli`, `anonymous`
    action       TEXT NOT NULL,          -- e.g. `login`, `login_failed`, `brand.delete`
    target       TEXT,                   -- what it acted on, e.g. `brand:12`
    detail       TEXT NOT NULL,          -- JSON object
    ip           TEXT,
    request_id   TEXT,
    created_at   INTEGER NOT NULL
);

CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Secrets the server makes for itself (the access-token signing key unless configured), so
-- every replica on this database signs and checks with the same one.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
