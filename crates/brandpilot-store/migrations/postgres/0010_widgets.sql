-- A brand's website widget: the public key its script tag names (not a secret: it is in
-- every page that embeds the widget, which is why the web origins that may use it are
-- listed), whether it answers, and how it looks (a JSON document).
CREATE TABLE brand_widgets (
    brand_id         BIGINT PRIMARY KEY REFERENCES brands(id) ON DELETE CASCADE,
    public_key       TEXT NOT NULL UNIQUE,
    allowed_origins  TEXT NOT NULL,
    theme            TEXT NOT NULL,
    enabled          BOOLEAN NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
