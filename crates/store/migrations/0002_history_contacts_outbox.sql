-- kaiwa-store schema version 2: what the product keeps besides protocol state.
-- Applied migrations are never edited: a change is a new script (see src/schema.rs).

CREATE TABLE contacts (
    identity     BLOB PRIMARY KEY CHECK (length(identity) = 32),
    display_name TEXT NOT NULL,
    verified     INTEGER NOT NULL CHECK (verified IN (0, 1)),
    bundle       BLOB,
    added_at     INTEGER NOT NULL
) STRICT;

-- Message history. chat_kind: 1 direct, 2 group, 3 channel; direction: 1 inbound,
-- 2 outbound; status: 1 received, 2 pending, 3 sent, 4 failed.
-- AUTOINCREMENT: an id is never reused, so one held by a UI or an outbox entry cannot come
-- to name another message.
CREATE TABLE messages (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_kind INTEGER NOT NULL CHECK (chat_kind IN (1, 2, 3)),
    chat_id   BLOB NOT NULL,
    author    BLOB NOT NULL CHECK (length(author) = 32),
    clock     INTEGER NOT NULL CHECK (clock >= 0),
    timestamp INTEGER NOT NULL CHECK (timestamp >= 0),
    payload   BLOB NOT NULL,
    direction INTEGER NOT NULL CHECK (direction IN (1, 2)),
    status    INTEGER NOT NULL CHECK (status IN (1, 2, 3, 4)),
    stored_at INTEGER NOT NULL
) STRICT;

-- The history of one chat in clock order (ties by id): the query behind every chat screen.
CREATE INDEX messages_by_chat ON messages (chat_kind, chat_id, clock, id);

-- WakuMessages waiting to be published, in the order they were queued.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    pubsub_topic    TEXT NOT NULL,
    content_topic   TEXT NOT NULL,
    payload         BLOB NOT NULL,
    meta            BLOB NOT NULL,
    timestamp_ns    INTEGER,
    message_id      INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_attempt_at INTEGER
) STRICT;

-- "Is any copy of this message still unpublished?" when an entry is published.
CREATE INDEX outbox_by_message ON outbox (message_id) WHERE message_id IS NOT NULL;
