-- What people do with a Studio variant after it is written. Every saved content is a
-- version: 1 is what Studio wrote, each edit a person saves adds the next, with who and when
-- and its own rule report. Feedback is a rating (1-5), a thumb (up/down) and/or a comment.
-- Review events record every move of the review state (draft, in_review, approved,
-- rejected) with who made it and why. Performance holds the latest totals a published
-- variant reached on its platform, as the brand reports them.
ALTER TABLE generation_variants ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE variant_versions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    variant_id  BIGINT NOT NULL REFERENCES generation_variants(id) ON DELETE CASCADE,
    brand_id    BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    content     TEXT NOT NULL,
    report      TEXT NOT NULL,
    passed      BOOLEAN NOT NULL,
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (variant_id, version)
);

INSERT INTO variant_versions (variant_id, brand_id, version, content, report, passed,
                              created_by, created_at)
SELECT v.id, v.brand_id, 1, v.content, v.report, v.passed, g.created_by, v.created_at
FROM generation_variants v JOIN generations g ON g.id = v.generation_id;

CREATE TABLE variant_feedback (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    variant_id  BIGINT NOT NULL REFERENCES generation_variants(id) ON DELETE CASCADE,
    brand_id    BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    rating      BIGINT CHECK (rating BETWEEN 1 AND 5),
    thumb       TEXT CHECK (thumb IN ('up', 'down')),
    comment     TEXT,
    author      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX variant_feedback_variant ON variant_feedback (variant_id, id);

CREATE TABLE variant_review_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    variant_id  BIGINT NOT NULL REFERENCES generation_variants(id) ON DELETE CASCADE,
    brand_id    BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    note        TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX variant_review_events_variant ON variant_review_events (variant_id, id);

CREATE TABLE variant_performance (
    variant_id   BIGINT PRIMARY KEY REFERENCES generation_variants(id) ON DELETE CASCADE,
    brand_id     BIGINT NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    views        BIGINT NOT NULL,
    likes        BIGINT NOT NULL,
    shares       BIGINT NOT NULL,
    clicks       BIGINT NOT NULL,
    conversions  BIGINT NOT NULL,
    recorded_by  TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX variant_performance_brand ON variant_performance (brand_id);
