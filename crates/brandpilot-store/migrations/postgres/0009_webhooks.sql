-- Where a workspace is told of events (a ticket opened, assigned or resolved): each
-- endpoint gets every event it subscribes to as a signed POST. `secret` is the HMAC key the
-- receiver verifies signatures with; the server must keep it readable to sign, so it is
-- stored as given to the owner once (`whsec_` + base64). `events` is a JSON array of
-- event types.
CREATE TABLE webhook_endpoints (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    events        TEXT NOT NULL,
    description   TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (workspace_id, id);
