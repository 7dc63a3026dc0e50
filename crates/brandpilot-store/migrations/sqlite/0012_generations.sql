-- Studio generations: what a person asked for (a brief or a reel request, JSON), where the
-- result came from (provenance, JSON: the brand facts and examples used, model, prompt
-- template and version, tokens, cost, latency, repair passes) and who asked; and the
-- variants it produced, each with its content (JSON), its final rule-by-rule report (JSON),
-- whether it passed, and its review state (draft, in_review, approved, rejected).
CREATE TABLE generations (
    id          INTEGER PRIMARY KEY,
    brand_id    INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    request     TEXT NOT NULL,
    provenance  TEXT NOT NULL,
    created_by  TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX generations_brand ON generations (brand_id, id);

CREATE TABLE generation_variants (
    id             INTEGER PRIMARY KEY,
    generation_id  INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    brand_id       INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    label          TEXT NOT NULL,
    content        TEXT NOT NULL,
    report         TEXT NOT NULL,
    passed         INTEGER NOT NULL,
    review_state   TEXT NOT NULL DEFAULT 'draft',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (generation_id, position)
);
CREATE INDEX generation_variants_brand ON generation_variants (brand_id, id);
