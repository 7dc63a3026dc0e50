-- Studio: each brand's content rules (a JSON `BrandRules` document the brand's team edits),
-- and A/B(/n) experiments over the brand's variants.
CREATE TABLE studio_rules (
    brand_id    INTEGER PRIMARY KEY REFERENCES brands(id) ON DELETE CASCADE,
    rules       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- An experiment: its arms (a JSON array of {name, variant}, the first is the control), the
-- traffic weight of each (a JSON array, used by `ab` mode), `ab` (deterministic split by
-- hashing) or `bandit` (Thompson sampling), when a winner may be declared (significance and
-- minimum sample per arm), `running` or `stopped`, and the arm declared the winner when it
-- was stopped, if any.
CREATE TABLE experiments (
    id            INTEGER PRIMARY KEY,
    brand_id      INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    arms          TEXT NOT NULL,
    weights       TEXT NOT NULL,
    mode          TEXT NOT NULL,
    significance  REAL NOT NULL,
    min_sample    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    winner        TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX experiments_brand ON experiments (brand_id, id);

-- What each arm has seen, one row per arm (its position among the experiment's arms),
-- counted by atomic increments. Conversions never exceed impressions.
CREATE TABLE experiment_arm_counts (
    experiment_id  INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    arm            INTEGER NOT NULL,
    impressions    INTEGER NOT NULL DEFAULT 0,
    conversions    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (experiment_id, arm)
);
