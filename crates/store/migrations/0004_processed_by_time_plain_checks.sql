-- kaiwa-store schema version 4: the processed set ordered by the messages' own time, and
-- history CHECK constraints that SQLite evaluates without a temporary table.
-- Applied migrations are never edited: a change is a new script (see src/schema.rs).
-- Runs with foreign keys off (the runner's doing): rebuilding `messages` drops the old table,
-- which would otherwise set every outbox.message_id to NULL.

-- The processed set, keyed by (the WakuMessage's own timestamp, its hash). A hash key alone
-- spread a batch of marks over as many pages as the batch had messages; live traffic now
-- appends at one end. `processed_at` (Unix ms, local) still decides pruning: a mark lives at
-- least as long as before.
CREATE TABLE processed_v4 (
    timestamp_ns INTEGER NOT NULL,
    hash         BLOB NOT NULL CHECK (length(hash) = 32),
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (timestamp_ns, hash)
) STRICT, WITHOUT ROWID;

-- The marks made before this version have no message time: they stay, by hash alone, until
-- pruning empties the table (lookups check it too; empty, it costs one page).
ALTER TABLE processed RENAME TO processed_legacy;
ALTER TABLE processed_v4 RENAME TO processed;

-- The history, rebuilt: `x IN (1, 2, 3)` in a CHECK made SQLite build a temporary table for
-- every inserted row; BETWEEN says the same without one.
CREATE TABLE messages_v4 (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_kind INTEGER NOT NULL CHECK (chat_kind BETWEEN 1 AND 3),
    chat_id   BLOB NOT NULL,
    author    BLOB NOT NULL CHECK (length(author) = 32),
    clock     INTEGER NOT NULL CHECK (clock >= 0),
    timestamp INTEGER NOT NULL CHECK (timestamp >= 0),
    payload   BLOB NOT NULL,
    direction INTEGER NOT NULL CHECK (direction IN (1, 2)),
    status    INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),
    stored_at INTEGER NOT NULL
) STRICT;

INSERT INTO messages_v4 (id, chat_kind, chat_id, author, clock, timestamp, payload, direction,
                         status, stored_at)
    SELECT id, chat_kind, chat_id, author, clock, timestamp, payload, direction, status,
           stored_at
    FROM messages;

-- Ids are never reused: the new table takes over the old one's AUTOINCREMENT counter, which
-- may be past the largest id left.
DELETE FROM sqlite_sequence WHERE name = 'messages_v4';
UPDATE sqlite_sequence SET name = 'messages_v4' WHERE name = 'messages';

DROP TABLE messages;
ALTER TABLE messages_v4 RENAME TO messages;
CREATE INDEX messages_by_chat ON messages (chat_kind, chat_id, clock, id);
