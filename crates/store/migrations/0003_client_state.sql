-- kaiwa-store schema version 3: the client's own state, so that it commits in the same
-- transaction as the protocol state it describes.
-- Applied migrations are never edited: a change is a new script (see src/schema.rs).

-- The last invitation (signed OrganizationInvitation bytes, as received) per organization.
CREATE TABLE org_invitations (
    org_id      BLOB PRIMARY KEY CHECK (length(org_id) = 32),
    invitation  BLOB NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

-- The catch-up watermark: Unix ns of the last complete catch-up (NULL: never); at most
-- one row.
CREATE TABLE sync_state (
    id           INTEGER PRIMARY KEY CHECK (id = 0),
    caught_up_ns INTEGER
) STRICT;
