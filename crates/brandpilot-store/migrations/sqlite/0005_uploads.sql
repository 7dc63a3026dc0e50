-- Files uploaded through the API, kept until the ingestion job that reads them ends. The
-- store is the one medium every replica shares, so any worker can run the job; the bytes
-- are dropped when the job is done (its chunks stay, not the file).
CREATE TABLE uploads (
    id           INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    brand_id     INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    filename     TEXT NOT NULL,   -- as the client named it; used for the title and type only
    sha256       BLOB NOT NULL,
    bytes        BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE INDEX uploads_brand ON uploads (brand_id, id);
