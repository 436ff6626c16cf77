-- kaiwa-store schema version 1: protocol state and processed messages.
-- Applied migrations are never edited: a change is a new script (see src/schema.rs).

-- The local account (kaiwa.store.v1.AccountRecord); at most one row.
CREATE TABLE account (
    id     INTEGER PRIMARY KEY CHECK (id = 0),
    record BLOB NOT NULL
) STRICT;

-- The held signed prekeys (kaiwa.store.v1.SignedPreKeyRecord), replaced as a set, in order.
CREATE TABLE signed_pre_keys (
    position INTEGER PRIMARY KEY,
    record   BLOB NOT NULL
) STRICT;

-- One kaiwa.store.v1.PeerRecord per peer identity (Ed25519 public key).
CREATE TABLE peers (
    identity BLOB PRIMARY KEY CHECK (length(identity) = 32),
    record   BLOB NOT NULL
) STRICT;

-- One kaiwa.store.v1.GroupRecord per private group chat id.
CREATE TABLE group_chats (
    chat_id TEXT PRIMARY KEY,
    record  BLOB NOT NULL
) STRICT;

-- One owner record (kaiwa.store.v1.OrganizationRecord) per organization id.
CREATE TABLE organizations (
    org_id BLOB PRIMARY KEY CHECK (length(org_id) = 32),
    record BLOB NOT NULL
) STRICT;

-- One member view (kaiwa.store.v1.OrganizationViewRecord) per (organization, member).
CREATE TABLE org_views (
    org_id    BLOB NOT NULL CHECK (length(org_id) = 32),
    member_id BLOB NOT NULL CHECK (length(member_id) = 32),
    record    BLOB NOT NULL,
    PRIMARY KEY (org_id, member_id)
) STRICT;

-- Hashes of processed WakuMessages (14/WAKU2-MESSAGE deterministic hash).
CREATE TABLE processed (
    hash         BLOB PRIMARY KEY CHECK (length(hash) = 32),
    processed_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX processed_by_time ON processed (processed_at);
