-- The embedding cache moves to a rowid table with a unique index on its key. Keyed by a
-- random content hash WITHOUT ROWID, every insert of a 1.5 KB vector landed in a random
-- leaf of a large tree, splitting and rewriting big cells; now vectors are appended in
-- insertion order and only the small index entry goes to a random place.
CREATE TABLE embeddings_by_rowid (
    id            INTEGER PRIMARY KEY,
    model         TEXT NOT NULL,
    content_hash  BLOB NOT NULL,
    vector        BLOB NOT NULL
);
INSERT INTO embeddings_by_rowid (model, content_hash, vector)
    SELECT model, content_hash, vector FROM embeddings;
DROP TABLE embeddings;
ALTER TABLE embeddings_by_rowid RENAME TO embeddings;
CREATE UNIQUE INDEX embeddings_by_key ON embeddings (model, content_hash);
