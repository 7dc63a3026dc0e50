-- Invitations to join a workspace with a role. The token is a 256-bit random value shown
-- once to the owner who invites (who passes it on); only its SHA-256 is kept. It is good
-- once, until `expires_at`, for a signed-in person whose account has `email`.
CREATE TABLE invitations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    token_hash   BYTEA NOT NULL UNIQUE,
    invited_by   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    accepted_at  BIGINT,
    accepted_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    revoked_at   BIGINT
);

CREATE INDEX invitations_workspace ON invitations (workspace_id, id);
