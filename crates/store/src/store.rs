//! The store: one SQLite database file, opened and migrated, with autocommit access and
//! transactions.
//!
//! ```text
//! Store::open(path)        create if missing, settings, migrations (schema module)
//! Store::begin()           BEGIN IMMEDIATE -> Transaction (rolls back on drop)
//! Store::begin_unsynced()  the same, committed without an fsync (harmless-to-lose
//!                          bookkeeping; the next synced commit syncs it too)
//! Store::process_once(k)   BEGIN IMMEDIATE; mark_processed(k) or stop as a duplicate;
//!                          apply(tx); COMMIT   — all or nothing
//!                          (Transaction::process_once: the same in a savepoint, for batches)
//! ```
//!
//! Every method of the shared API also exists on [`Store`] directly; there each call is its
//! own transaction (a multi-statement call runs in a savepoint, so it is atomic too).

use core::fmt;
use std::path::Path;

use kaiwa_session::Timestamp;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Context as _, OpenError, StoreError};
use crate::id::ProcessedKey;
use crate::schema::{Durability, StoreConfig, prepare};
use crate::shared::shared_api;
use crate::transaction::Transaction;

/// A kaiwa database: protocol state, processed messages, history, contacts, outbox.
///
/// One `Store` is one SQLite connection; it is `Send`, not `Sync`. Writes through `&mut
/// self` and transactions borrow it mutably, so within a process a read-modify-write of a
/// record can never interleave with another. Two processes on one file are serialized by
/// SQLite's write lock (transactions begin `IMMEDIATE`), but an application should still
/// run one instance per account: two instances advancing the same ratchet from the same
/// state would each derive the same message keys.
pub struct Store {
    conn: Connection,
    /// The connection's configured durability.
    durability: Durability,
    /// Whether the last transaction lowered `synchronous` ([`Store::begin_unsynced`]); the
    /// next [`Store::begin`] restores it.
    relaxed: bool,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.conn.path()).finish_non_exhaustive()
    }
}

fn set_synchronous(conn: &Connection, durability: Durability) -> Result<(), StoreError> {
    let level = match durability {
        Durability::Normal => "NORMAL",
        _ => "FULL",
    };
    conn.pragma_update(None, "synchronous", level).during("setting synchronous")
}

/// What [`Store::process_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed<T> {
    /// The message was new: `apply` ran and everything it wrote is committed together with
    /// the processed mark.
    Applied(T),
    /// The message was processed before; `apply` did not run and nothing changed.
    AlreadyProcessed,
}

impl Store {
    /// Opens (creating if needed) the database at `path` with the default
    /// [`StoreConfig`], and migrates it to [`SCHEMA_VERSION`](crate::SCHEMA_VERSION).
    ///
    /// # Errors
    /// [`OpenError`]: not a database, a newer schema (left untouched), a failed migration
    /// (rolled back), no WAL support, or another SQLite failure.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, &StoreConfig::default())
    }

    /// [`open`](Self::open) with explicit settings.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(path: impl AsRef<Path>, config: &StoreConfig) -> Result<Self, OpenError> {
        let mut conn = Connection::open(path)
            .map_err(|source| OpenError::Sqlite { operation: "opening the database", source })?;
        prepare(&mut conn, config, true)?;
        Ok(Self { conn, durability: config.durability, relaxed: false })
    }

    /// A fresh database in memory, for tests and ephemeral clients. It has the same schema
    /// and the same semantics except durability (no file, no WAL).
    ///
    /// # Errors
    /// [`OpenError::Sqlite`] if SQLite cannot allocate it.
    pub fn open_in_memory() -> Result<Self, OpenError> {
        let mut conn = Connection::open_in_memory()
            .map_err(|source| OpenError::Sqlite { operation: "opening the database", source })?;
        let config = StoreConfig::default();
        prepare(&mut conn, &config, false)?;
        Ok(Self { conn, durability: config.durability, relaxed: false })
    }

    /// Begins a transaction. It holds SQLite's write lock until it is committed or dropped;
    /// dropping it without [`commit`](Transaction::commit) rolls everything back.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], for example when another process holds the write lock for
    /// longer than the busy timeout.
    pub fn begin(&mut self) -> Result<Transaction<'_>, StoreError> {
        if self.relaxed {
            set_synchronous(&self.conn, self.durability)?;
            self.relaxed = false;
        }
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map(Transaction::new)
            .during("beginning a transaction")
    }

    /// Begins a transaction whose commit does not wait for the disk (`synchronous = NORMAL`
    /// for it alone, whatever the [`Durability`]): atomic like every commit, and kept if
    /// the process is killed, but a power loss may roll it back until the next synced
    /// commit syncs it too (the write-ahead log is synced in order). For bookkeeping whose
    /// loss is harmless, such as which outbox entries were published (a lost mark means a
    /// second publication with the same hash, which receivers drop). Never for a ratchet
    /// step whose ciphertext may leave the process (see [`Durability`]).
    ///
    /// # Errors
    /// As [`begin`](Self::begin).
    pub fn begin_unsynced(&mut self) -> Result<Transaction<'_>, StoreError> {
        if !self.relaxed && self.durability != Durability::Normal {
            set_synchronous(&self.conn, Durability::Normal)?;
            self.relaxed = true;
        }
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map(Transaction::new)
            .during("beginning a transaction")
    }

    /// Processes one received WakuMessage exactly once: in one transaction, marks `key`
    /// processed and runs `apply`, which writes everything the message causes (ratchet,
    /// log or epoch state, history, outbox) through the transaction it is given.
    ///
    /// - `key` already processed: returns [`Processed::AlreadyProcessed`]; `apply` does
    ///   not run.
    /// - `apply` fails: everything is rolled back, the processed mark included, and its
    ///   error is returned; a redelivered copy will be processed again. (A message that can
    ///   never be processed, such as one that does not decrypt, should make `apply` return
    ///   `Ok` so it is marked and not retried forever.)
    /// - `apply` succeeds: its writes and the mark commit together.
    ///
    /// # Errors
    /// `apply`'s error, or a [`StoreError`] (converted with `From`) if beginning, marking or
    /// committing fails.
    pub fn process_once<T, E: From<StoreError>>(
        &mut self,
        key: &ProcessedKey,
        now: Timestamp,
        apply: impl FnOnce(&mut Transaction<'_>) -> Result<T, E>,
    ) -> Result<Processed<T>, E> {
        let mut tx = self.begin()?;
        let outcome = tx.process_once(key, now, apply)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Copies the write-ahead log into the database file and truncates the log to zero
    /// bytes.
    ///
    /// SQLite checkpoints on its own (every 1,000 pages) but keeps the log file at its size,
    /// with the page images it held still in it. Because freed pages are zeroed in the
    /// database file (`secure_delete`), after this call a replaced or deleted record (say,
    /// ratchet state whose message keys were deleted) is in neither file any more. Call it
    /// after deleting key material whose absence matters (a session reset, leaving an
    /// organization) or periodically. It waits for readers of other connections, up to the
    /// busy timeout. (Blocks the file system freed stay as they were; that is what
    /// encryption at rest is for.)
    ///
    /// # Errors
    /// [`StoreError::Sqlite`], or [`StoreError::Busy`] if another connection kept the log
    /// from being fully checkpointed.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .during("checkpointing")?;
        if busy == 0 { Ok(()) } else { Err(StoreError::Busy) }
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

shared_api!(Store);

#[cfg(test)]
mod tests {
    use super::*;

    fn synchronous(store: &Store) -> i64 {
        store.conn.pragma_query_value(None, "synchronous", |row| row.get(0)).unwrap()
    }

    #[test]
    fn an_unsynced_transaction_lowers_synchronous_for_itself_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("db")).unwrap();
        assert_eq!(synchronous(&store), 2); // FULL
        let tx = store.begin_unsynced().unwrap();
        tx.commit().unwrap();
        assert_eq!(synchronous(&store), 1); // NORMAL for that commit
        let mut tx = store.begin().unwrap();
        tx.mark_processed(
            &ProcessedKey::new(crate::MessageHash::new([1; 32]), None),
            Timestamp::from_millis(1),
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(synchronous(&store), 2); // restored before the next transaction
        // A connection configured Normal stays Normal either way.
        let config = StoreConfig { durability: Durability::Normal, ..StoreConfig::default() };
        let mut normal = Store::open_with(dir.path().join("db2"), &config).unwrap();
        drop(normal.begin_unsynced().unwrap());
        assert_eq!(synchronous(&normal), 1);
        drop(normal.begin().unwrap());
        assert_eq!(synchronous(&normal), 1);
    }
}
