-- Studio's examples library and voice profile. An example is a past post or script of the
-- brand's, tagged by channel (and optionally sector), shown to the model as a few-shot
-- example when it resembles the brief; its embedding is cached under its content hash like
-- a chunk's. Its performance is either what the person recorded with it (all five totals or
-- none) or, for a variant promoted to an example, read live from variant_performance. The
-- same text is in a brand's library once. The voice profile is one JSON document per brand,
-- learned from the examples (`learned`) or saved by a person (`edited`).
CREATE TABLE studio_examples (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    brand_id      BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    channel       TEXT NOT NULL,
    sector        TEXT,
    title         TEXT,
    text          TEXT NOT NULL,
    content_hash  BYTEA NOT NULL,
    variant_id    BIGINT REFERENCES generation_variants(id) ON DELETE SET NULL,
    views         BIGINT,
    likes         BIGINT,
    shares        BIGINT,
    clicks        BIGINT,
    conversions   BIGINT,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (brand_id, content_hash),
    CHECK ((views IS NULL AND likes IS NULL AND shares IS NULL AND clicks IS NULL
            AND conversions IS NULL)
        OR (views IS NOT NULL AND likes IS NOT NULL AND shares IS NOT NULL
            AND clicks IS NOT NULL AND conversions IS NOT NULL))
);
CREATE INDEX studio_examples_brand ON studio_examples (brand_id, id);
CREATE UNIQUE INDEX studio_examples_variant ON studio_examples (variant_id)
    WHERE variant_id IS NOT NULL;

CREATE TABLE studio_voice (
    brand_id       BIGINT PRIMARY KEY REFERENCES brands(id) ON DELETE CASCADE,
    profile        TEXT NOT NULL,
    origin         TEXT NOT NULL CHECK (origin IN ('learned', 'edited')),
    updated_by     TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);
