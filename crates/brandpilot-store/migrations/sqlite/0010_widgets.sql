-- A brand's website widget: the public key its script tag names (not a secret: it is in
-- every page that embeds the widget, which is why the web origins that may use it are
-- listed), whether it answers, and how it looks (a JSON document).
CREATE TABLE brand_widgets (
    brand_id         INTEGER PRIMARY KEY REFERENCES brands(id) ON DELETE CASCADE,
    public_key       TEXT NOT NULL UNIQUE,
    allowed_origins  TEXT NOT NULL,
    theme            TEXT NOT NULL,
    enabled          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
