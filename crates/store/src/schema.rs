//! The database schema, its migrations, and the settings every connection runs with.
//!
//! ```text
//! version 1  migrations/0001_protocol_state.sql
//!   account          (id = 0, record)                        AccountRecord
//!   signed_pre_keys  (position, record)                      SignedPreKeyRecord, in order
//!   peers            (identity[32], record)                  PeerRecord
//!   group_chats      (chat_id text, record)                  GroupRecord
//!   organizations    (org_id[32], record)                    OrganizationRecord
//!   org_views        (org_id[32], member_id[32], record)     OrganizationViewRecord
//!   processed        (hash[32], processed_at)                + index on processed_at
//!                                                            (processed_legacy since 4)
//! version 2  migrations/0002_history_contacts_outbox.sql
//!   contacts         (identity[32], display_name, verified, bundle?, added_at)
//!   messages         (id, chat_kind, chat_id, author[32], clock, timestamp, payload,
//!                     direction, status, stored_at)          + index (chat_kind, chat_id, clock, id)
//!   outbox           (id, pubsub_topic, content_topic, payload, meta, timestamp_ns?,
//!                     message_id? -> messages.id, created_at, attempts, last_error?,
//!                     last_attempt_at?)                      + index on message_id
//! version 3  migrations/0003_client_state.sql
//!   org_invitations  (org_id[32], invitation, received_at)   last invitation per organization
//!   sync_state       (id = 0, caught_up_ns?)                 catch-up watermark, Unix ns
//! version 4  migrations/0004_processed_by_time_plain_checks.sql
//!   processed        (timestamp_ns, hash[32], processed_at)  key (timestamp_ns, hash)
//!   processed_legacy the version-1 table, renamed; read until pruning empties it
//!   messages         rebuilt with the same columns, ids and AUTOINCREMENT counter; its
//!                    CHECKs use BETWEEN instead of IN lists (SQLite built a temporary
//!                    table per insert for those)
//! ```
//!
//! Every table is `STRICT` (SQLite checks column types on write). Records are the protocol
//! crates' opaque `kaiwa.store.v1` encodings, kept as BLOBs; times are Unix milliseconds,
//! except in the `_ns` columns (a WakuMessage timestamp, the catch-up watermark): Unix
//! nanoseconds, Waku's unit.
//!
//! # Migrations
//!
//! `PRAGMA user_version` is the number of scripts applied. Opening a database applies the
//! missing ones in order, each in its own `BEGIN IMMEDIATE` transaction together with the new
//! `user_version`, so a crash mid-migration leaves the previous version intact. Scripts run
//! with foreign keys off, as SQLite's procedure for rebuilding a table requires (dropping a
//! parent table would otherwise run its `ON DELETE` actions); `PRAGMA foreign_key_check`
//! must find nothing before each commit, and foreign keys are on again afterwards. The version
//! is read again inside that transaction, so two processes opening the same file at once
//! apply each script once. A version newer than [`SCHEMA_VERSION`] (or negative) is refused
//! with [`OpenError::UnsupportedSchema`] before anything is written: not even the journal
//! mode changes. Applied scripts are never edited (tests open a committed database of each
//! earlier version, `test-vectors/schema-v*.sqlite`); a change is a new script at the end of
//! the list, with a fixture of the version before it.
//!
//! # Connection settings
//!
//! ```text
//! busy_timeout   = StoreConfig::busy_timeout (default 5 s)   wait for another writer
//! foreign_keys   = ON                                         outbox.message_id checked
//! trusted_schema = OFF                                        no functions run from schema
//! journal_mode   = WAL                                        file databases; refused otherwise
//! synchronous    = FULL (default) | NORMAL                    see Durability
//! secure_delete  = ON                                         freed pages are zeroed
//! temp_store     = MEMORY                                     savepoint journals in memory
//! ```
//!
//! `secure_delete` matters for forward secrecy: replacing a peer record frees the pages of
//! the old one, which held message keys that the ratchet has since deleted; SQLite zeroes
//! them instead of leaving them in the file. Old page images still sit in the WAL file until
//! [`Store::checkpoint`](crate::Store::checkpoint) truncates it (a test shows a replaced
//! record gone from both files afterwards), and in the file system's free blocks, which is
//! why encryption at rest (the application's job) matters.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior};

use crate::error::{Context as _, OpenError, StoreError};

/// The migration scripts, in order: script `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_protocol_state.sql"),
    include_str!("../migrations/0002_history_contacts_outbox.sql"),
    include_str!("../migrations/0003_client_state.sql"),
    include_str!("../migrations/0004_processed_by_time_plain_checks.sql"),
];

/// The schema version this build writes: the number of migration scripts.
pub const SCHEMA_VERSION: u32 = 4;

// `SCHEMA_VERSION` and the script list cannot drift apart.
const _: () = assert!(MIGRATIONS.len() == SCHEMA_VERSION as usize);

/// How much a committed transaction survives.
///
/// Both levels run SQLite in WAL mode, where a transaction is committed once its frames
/// are appended to the WAL file, before `commit` returns. They differ in when that file is
/// synced to the disk:
///
/// ```text
///                 process killed (SIGKILL)   OS crash / power loss        commit cost
/// Full   (default)  committed = kept           committed = kept             one fsync
/// Normal            committed = kept           last commits may roll back   none (fsync at
///                                                                           checkpoints)
/// ```
///
/// A rolled-back commit is never torn (the transaction is atomic either way), but `Full`
/// is the default because of what a lost commit means here: a send advances the ratchet
/// and queues the ciphertext in one transaction, and the ciphertext may be published the
/// moment it commits. If power loss then rolled that transaction back, the next send would
/// derive the same message key again and encrypt a different plaintext under it (AEAD key
/// and nonce reuse). Choose `Normal` only where the whole system (say, a phone's battery
/// backed storage) already makes the OS page cache durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous = FULL`: every commit is synced; survives power loss.
    #[default]
    Full,
    /// `synchronous = NORMAL`: commits survive a process crash, not necessarily power loss.
    Normal,
}

/// How a [`Store`](crate::Store) opens its database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreConfig {
    /// Sync policy of commits.
    pub durability: Durability,
    /// How long to wait for a write lock held by another connection before failing.
    pub busy_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { durability: Durability::Full, busy_timeout: Duration::from_secs(5) }
    }
}

/// Prepared statements kept per connection: more than the crate has, so none is
/// re-prepared.
const STATEMENT_CACHE: usize = 64;

fn sqlite(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> OpenError {
    move |source| OpenError::Sqlite { operation, source }
}

/// The schema version of `conn`'s main database.
fn user_version(conn: &Connection) -> Result<i32, rusqlite::Error> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies the settings and the missing migrations to a freshly opened connection.
pub(crate) fn prepare(
    conn: &mut Connection,
    config: &StoreConfig,
    file: bool,
) -> Result<(), OpenError> {
    conn.busy_timeout(config.busy_timeout).map_err(sqlite("setting the busy timeout"))?;
    // Every statement of the crate stays prepared (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "trusted_schema", false).map_err(sqlite("distrusting the schema"))?;
    // Refuse a newer (or foreign) database before writing anything, even the journal mode.
    check_version(user_version(conn).map_err(sqlite("reading the schema version"))?)?;
    if file {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(sqlite("enabling write-ahead logging"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::WalUnavailable);
        }
    }
    let synchronous = match config.durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous).map_err(sqlite("setting synchronous"))?;
    conn.pragma_update(None, "secure_delete", true).map_err(sqlite("enabling secure delete"))?;
    // Savepoints (one per operation and per received message) journal the pages they touch;
    // in memory that costs a copy, not a write to a temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(sqlite("keeping temporary data in memory"))?;
    // Turns foreign keys on once the schema is current.
    migrate(conn, SCHEMA_VERSION)
}

/// `found` as a version this build can migrate from.
fn check_version(found: i32) -> Result<u32, OpenError> {
    u32::try_from(found)
        .ok()
        .filter(|v| *v <= SCHEMA_VERSION)
        .ok_or(OpenError::UnsupportedSchema { found, supported: SCHEMA_VERSION })
}

/// Brings `conn` to version `target` (at most [`SCHEMA_VERSION`]), one script per
/// transaction.
fn migrate(conn: &mut Connection, target: u32) -> Result<(), OpenError> {
    // Outside any transaction: the pragma is a no-op inside one.
    conn.pragma_update(None, "foreign_keys", false).map_err(sqlite("disabling foreign keys"))?;
    migrate_scripts(conn, target)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(sqlite("enabling foreign keys"))
}

/// [`migrate`]'s loop, with foreign keys off.
fn migrate_scripts(conn: &mut Connection, target: u32) -> Result<(), OpenError> {
    for (index, script) in MIGRATIONS.iter().enumerate().take(target as usize) {
        let version = u32::try_from(index)
            .ok()
            .and_then(|i| i.checked_add(1))
            .ok_or(OpenError::UnsupportedSchema { found: -1, supported: SCHEMA_VERSION })?;
        let failed = |source| OpenError::Migration { version, source };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
        // Read again under the write lock: another process may have migrated meanwhile.
        let current = check_version(user_version(&tx).map_err(failed)?)?;
        if current >= version {
            continue; // dropping `tx` ends the empty transaction
        }
        tx.execute_batch(script).map_err(failed)?;
        let violation =
            tx.query_row("PRAGMA foreign_key_check", [], |_| Ok(())).optional().map_err(failed)?;
        if violation.is_some() {
            return Err(OpenError::MigrationBrokeForeignKeys { version });
        }
        tx.pragma_update(None, "user_version", version).map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}

/// Creates the schema of version `version` only, for tests of later migrations.
#[cfg(test)]
pub(crate) fn migrate_to(conn: &mut Connection, version: u32) -> Result<(), OpenError> {
    migrate(conn, version)
}

/// The schema version of an open store.
pub(crate) fn stored_version(conn: &Connection) -> Result<u32, StoreError> {
    let found = user_version(conn).during("reading the schema version")?;
    check_version(found)
        .map_err(|_| StoreError::Corrupt { table: "pragma", column: "user_version" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// Every column of every row of `tables`, as SQLite values (compared exactly).
    fn snapshot(conn: &Connection, tables: &[&str]) -> Vec<String> {
        tables
            .iter()
            .map(|table| {
                let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
                let columns = stmt.column_count();
                let rows = stmt
                    .query_map([], |row| {
                        (0..columns)
                            .map(|i| row.get::<_, rusqlite::types::Value>(i))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                format!("{table}: {rows:?}")
            })
            .collect()
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    #[test]
    fn each_migration_adds_its_tables_and_bumps_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        let mut expected = vec![
            "account",
            "group_chats",
            "org_views",
            "organizations",
            "peers",
            "processed",
            "signed_pre_keys",
        ];
        let added: [&[&str]; 4] = [
            &[],
            &["contacts", "messages", "outbox", "sqlite_sequence"],
            &["org_invitations", "sync_state"],
            &["processed_legacy"],
        ];
        assert_eq!(added.len(), SCHEMA_VERSION as usize);
        for (version, added) in (1..=SCHEMA_VERSION).zip(added) {
            migrate_to(&mut conn, version).unwrap();
            assert_eq!(stored_version(&conn).unwrap(), version);
            expected.extend_from_slice(added);
            expected.sort_unstable();
            assert_eq!(tables(&conn), expected, "version {version}");
        }
        // Every table of ours is STRICT.
        let mut strict: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND strict = 1")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        strict.sort_unstable();
        expected.retain(|t| *t != "sqlite_sequence");
        assert_eq!(strict, expected);
        // Running it again is a no-op.
        migrate_to(&mut conn, SCHEMA_VERSION).unwrap();
        assert_eq!(stored_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn version_2_migrates_to_3_with_its_rows_intact() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 2).unwrap();
        conn.execute_batch(
            "INSERT INTO account VALUES (0, x'0a0b');
             INSERT INTO organizations VALUES (zeroblob(32), x'01');
             INSERT INTO contacts VALUES (zeroblob(32), 'Bob', 1, NULL, 5);
             INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                   direction, status, stored_at)
                 VALUES (1, zeroblob(32), zeroblob(32), 7, 7, x'68', 2, 2, 7);
             INSERT INTO outbox (pubsub_topic, content_topic, payload, meta, message_id,
                                 created_at)
                 VALUES ('p', 'c', x'63', x'', 1, 7);",
        )
        .unwrap();
        let tables = ["account", "organizations", "contacts", "messages", "outbox"];
        let before = snapshot(&conn, &tables);
        migrate_to(&mut conn, 3).unwrap();
        assert_eq!(stored_version(&conn).unwrap(), 3);
        assert_eq!(snapshot(&conn, &tables), before);
        let empty: i64 = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM org_invitations) + (SELECT COUNT(*) FROM sync_state)",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(empty, 0);
    }

    /// Version 3 as it was written: three messages (the last deleted again, so the
    /// AUTOINCREMENT counter is past the largest id), an outbox entry of message 2, and two
    /// processed hashes.
    fn version_3() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                   direction, status, stored_at)
                 VALUES (1, zeroblob(32), zeroblob(32), 1, 1, x'61', 1, 1, 1),
                        (3, x'0102', zeroblob(32), 2, 2, x'62', 2, 2, 2),
                        (2, x'67', zeroblob(32), 3, 3, x'63', 2, 4, 3);
             DELETE FROM messages WHERE id = 3;
             INSERT INTO outbox (pubsub_topic, content_topic, payload, meta, message_id,
                                 created_at)
                 VALUES ('p', 'c', x'63', x'', 2, 7);
             INSERT INTO processed VALUES (zeroblob(32), 5), (x'0101010101010101010101010101010101010101010101010101010101010101', 6);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn version_3_migrates_to_4_with_its_rows_ids_and_links_intact() {
        let mut conn = version_3();
        let before = snapshot(&conn, &["messages", "outbox", "processed"]);
        migrate_to(&mut conn, 4).unwrap();
        assert_eq!(stored_version(&conn).unwrap(), 4);
        // The same rows; the outbox still names message 2; the old marks are the legacy table.
        let after = snapshot(&conn, &["messages", "outbox", "processed_legacy"]);
        assert_eq!(after[..2], before[..2]);
        assert_eq!(after[2].replace("processed_legacy", "processed"), before[2]);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM processed"), 0);
        // Ids are not reused: the next message is 4, not 3.
        conn.execute_batch(
            "INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                   direction, status, stored_at)
                 VALUES (1, zeroblob(32), zeroblob(32), 4, 4, x'64', 1, 1, 4)",
        )
        .unwrap();
        assert_eq!(conn.last_insert_rowid(), 4);
        // Foreign keys are on again and the link works: deleting message 2 unlinks its entry.
        assert_eq!(count(&conn, "PRAGMA foreign_keys"), 1);
        conn.execute_batch("DELETE FROM messages WHERE id = 2").unwrap();
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM outbox WHERE message_id IS NULL"), 1);
        // The CHECKs still hold, now without a temporary table per insert.
        for (kind, status) in [(0, 1), (4, 1), (1, 0), (1, 5)] {
            let refused = conn.execute(
                "INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                       direction, status, stored_at)
                     VALUES (?1, zeroblob(32), zeroblob(32), 1, 1, x'', 1, ?2, 1)",
                [kind, status],
            );
            assert!(refused.is_err(), "chat_kind {kind}, status {status} accepted");
        }
        let program: Vec<String> = conn
            .prepare(
                "EXPLAIN INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp,
                                               payload, direction, status, stored_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .unwrap()
            .query_map(rusqlite::params_from_iter([rusqlite::types::Null; 9]), |row| row.get(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!program.iter().any(|op| op == "OpenEphemeral"), "{program:?}");
    }

    #[test]
    fn a_migration_that_would_leave_a_dangling_link_is_refused() {
        let mut conn = version_3();
        // An entry naming a message that does not exist (written with foreign keys off).
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute_batch(
            "INSERT INTO outbox (pubsub_topic, content_topic, payload, meta, message_id,
                                 created_at)
                 VALUES ('p', 'c', x'63', x'', 99, 7)",
        )
        .unwrap();
        let err = migrate_to(&mut conn, 4).unwrap_err();
        assert_eq!(err, OpenError::MigrationBrokeForeignKeys { version: 4 });
        assert_eq!(stored_version(&conn).unwrap(), 3);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM processed"), 2, "rolled back");
    }

    #[test]
    fn a_failing_script_is_rolled_back_with_its_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, 1).unwrap();
        // Make script 2 fail half-way: its second table already exists.
        conn.execute_batch("CREATE TABLE messages (x INTEGER)").unwrap();
        let err = migrate_to(&mut conn, 2).unwrap_err();
        assert!(matches!(err, OpenError::Migration { version: 2, .. }), "{err:?}");
        assert_eq!(stored_version(&conn).unwrap(), 1);
        assert!(!tables(&conn).iter().any(|t| t == "contacts"), "script 2 was not rolled back");
    }

    #[test]
    fn versions_outside_the_known_range_are_refused() {
        assert_eq!(check_version(0).unwrap(), 0);
        assert_eq!(check_version(2).unwrap(), 2);
        let newer = i32::try_from(SCHEMA_VERSION + 1).unwrap();
        for found in [newer, -1, i32::MAX, i32::MIN] {
            assert_eq!(
                check_version(found).unwrap_err(),
                OpenError::UnsupportedSchema { found, supported: SCHEMA_VERSION }
            );
        }
    }
}
