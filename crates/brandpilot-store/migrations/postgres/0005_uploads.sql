-- Files uploaded through the API, kept until the ingestion job that reads them ends. The
-- store is the one medium every replica shares, so any worker can run the job; the bytes
-- are dropped when the job is done (its chunks stay, not the file).
CREATE TABLE uploads (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    brand_id     BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    filename     TEXT NOT NULL,   -- as the client named it; used for the title and type only
    sha256       BYTEA NOT NULL,
    bytes        BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX uploads_brand ON uploads (brand_id, id);
