-- The grounded assistant: what it knows of a brand and its customers beyond the knowledge
-- base, its conversations with end users, their ratings, and hand-overs to people.
-- Same conventions as 0001 and 0002: times are Unix milliseconds, flags 0/1 integers
-- (BOOLEAN in PostgreSQL), JSON as text on both backends (only this program reads it).
-- Everything hangs off a brand and goes with it: deleting a brand deletes its
-- conversations, messages, ratings, tickets, profile and customer records.

-- One brand's profile for the assistant (voice, facts, rules), a JSON document the
-- application shapes and replaces whole; one per brand, so the brand is the key.
CREATE TABLE brand_profiles (
    brand_id    INTEGER PRIMARY KEY REFERENCES brands(id) ON DELETE CASCADE,
    profile     TEXT NOT NULL,               -- JSON object
    updated_at  INTEGER NOT NULL
);

-- What a brand knows of one of its own customers (plan, orders, preferences), pushed by the
-- brand under its own customer id and replaced whole. The id is the brand's, not ours, so
-- it is only unique within the brand.
CREATE TABLE customer_records (
    brand_id     INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    customer_id  TEXT NOT NULL,
    record       TEXT NOT NULL,              -- JSON object
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (brand_id, customer_id)
);

-- A conversation between a brand's assistant and one end user (an opaque id the brand's
-- site passes in; not one of our users). Long conversations are folded into `summary`:
-- `summarized_through` is the id of the last message it covers (0: none yet), so the
-- prompt carries the summary and only the messages after it.
CREATE TABLE conversations (
    id                  INTEGER PRIMARY KEY,
    brand_id            INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    end_user            TEXT NOT NULL,
    summary             TEXT NOT NULL DEFAULT '',
    summarized_through  INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL     -- the last message's time
);
-- One end user's conversations, newest first; and all of a brand's, newest first.
CREATE INDEX conversations_end_user ON conversations (brand_id, end_user, id);
CREATE INDEX conversations_brand ON conversations (brand_id, id);

-- One message, in id order within its conversation. An answer keeps what it was built
-- from: the passages it cites, how sure it was, whether it handed over to a person, and a
-- trace of its steps (for review; NULL when not kept).
CREATE TABLE conversation_messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'agent')),
    content          TEXT NOT NULL,
    citations        TEXT NOT NULL DEFAULT '[]',   -- JSON array
    confidence       REAL,                         -- NULL: not scored (user, agent)
    escalated        INTEGER NOT NULL DEFAULT 0,
    trace            TEXT,                         -- JSON object
    token_count      INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);
CREATE INDEX conversation_messages_conversation ON conversation_messages (conversation_id, id);

-- The end user's rating of an answer: one per message (rating again replaces it), so the
-- message is the key.
CREATE TABLE message_feedback (
    message_id  INTEGER PRIMARY KEY REFERENCES conversation_messages(id) ON DELETE CASCADE,
    rating      TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment     TEXT,
    created_at  INTEGER NOT NULL
);

-- A hand-over to a person: the question the assistant could not (or must not) answer and
-- why. `brand_id` is kept beside the conversation's so a workspace's queue filters by brand
-- and status without a join through conversations. The message it was raised at may go
-- (NULL) without the ticket; an assignee who leaves is unassigned, not the ticket deleted.
CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY,
    brand_id         INTEGER NOT NULL REFERENCES brands(id) ON DELETE CASCADE,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id       INTEGER REFERENCES conversation_messages(id) ON DELETE SET NULL,
    question         TEXT NOT NULL,
    reason           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'resolved')),
    assignee         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX tickets_brand_status ON tickets (brand_id, status, id);
-- A conversation's tickets (is one still open?), and the foreign keys' lookups when a
-- conversation or message is deleted.
CREATE INDEX tickets_conversation ON tickets (conversation_id, id);
CREATE INDEX tickets_message ON tickets (message_id);
