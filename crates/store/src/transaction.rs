//! A transaction: everything written through it commits together or not at all.
//!
//! ```text
//! let mut tx = store.begin()?;          BEGIN IMMEDIATE (takes the write lock)
//! manager.receive(&mut adapter(tx), ..) protocol state through the store traits
//! tx.insert_message(..)?; tx.mark_processed(..)?; tx.enqueue_outbox(..)?;
//! tx.commit()?;                         COMMIT (durable per Durability)
//! drop(tx) without commit               ROLLBACK
//!
//! batch:  BEGIN; for each message { SAVEPOINT; mark; apply; RELEASE | ROLLBACK TO }; COMMIT
//! group:   BEGIN; for each operation { SAVEPOINT; apply; RELEASE | ROLLBACK TO }; COMMIT
//! ```
//!
//! A process killed at any point leaves either the state before `begin` or the state after
//! `commit`: SQLite's write-ahead log makes a commit atomic, and an uncommitted transaction
//! is discarded on the next open. An operation that fails inside a transaction is undone on
//! its own (savepoint), so the transaction stays usable; the caller decides whether to
//! continue or to drop it.

use core::fmt;

use kaiwa_session::Timestamp;
use rusqlite::Connection;

use crate::error::{Context as _, StoreError};
use crate::id::ProcessedKey;
use crate::shared::shared_api;
use crate::store::Processed;

/// A database transaction; it implements every store trait and the whole shared API.
/// Dropping it without [`commit`](Self::commit) rolls it back.
pub struct Transaction<'s> {
    inner: rusqlite::Transaction<'s>,
}

impl fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transaction(..)")
    }
}

impl<'s> Transaction<'s> {
    pub(crate) fn new(inner: rusqlite::Transaction<'s>) -> Self {
        Self { inner }
    }

    /// Commits everything written through the transaction.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`]; the transaction is then rolled back.
    pub fn commit(self) -> Result<(), StoreError> {
        self.inner.commit().during("committing")
    }

    /// Rolls the transaction back (dropping it does the same, silently).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`].
    pub fn rollback(self) -> Result<(), StoreError> {
        self.inner.rollback().during("rolling back")
    }

    /// Runs `apply` in a savepoint: if it fails, everything it wrote through the transaction
    /// is undone and the transaction stays usable for the next step. Nothing is durable
    /// before [`commit`](Self::commit). Savepoints nest.
    ///
    /// This is how several independent operations share one commit (a group commit): each
    /// runs in its own savepoint, the failures are undone alone, and one `fsync` makes the
    /// rest durable together.
    ///
    /// ```
    /// # use kaiwa_store::{MessageHash, ProcessedKey, Store, StoreError};
    /// # use kaiwa_session::Timestamp;
    /// let mut store = Store::open_in_memory()?;
    /// let key = ProcessedKey::new(MessageHash::new([7; 32]), Some(1_700_000_000_000_000_000));
    /// let mut tx = store.begin()?;
    /// let failed: Result<(), StoreError> = tx.savepoint(|tx| {
    ///     tx.mark_processed(&key, Timestamp::from_millis(1))?;
    ///     Err(StoreError::Corrupt { table: "example", column: "none" })
    /// });
    /// assert!(failed.is_err());
    /// assert!(!tx.is_processed(&key)?); // undone
    /// tx.commit()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// `apply`'s error, or a [`StoreError`] (converted with `From`) if the savepoint cannot
    /// be opened or closed; in the latter case the transaction is unusable and must be
    /// dropped (which rolls everything back).
    pub fn savepoint<T, E: From<StoreError>>(
        &mut self,
        apply: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, E> {
        // Cached statements: a savepoint per operation must not cost a parse each.
        self.run_cached("SAVEPOINT kaiwa_step").during("opening a savepoint")?;
        let result = apply(self);
        let end = if result.is_ok() {
            self.run_cached("RELEASE kaiwa_step")
        } else {
            self.run_cached("ROLLBACK TO kaiwa_step")
                .and_then(|()| self.run_cached("RELEASE kaiwa_step"))
        };
        match end.during("closing a savepoint") {
            Ok(()) => result,
            Err(err) => result.and(Err(E::from(err))),
        }
    }

    /// [`Store::process_once`](crate::Store::process_once) inside this transaction, for
    /// processing a batch of received messages with one commit: each message runs in its
    /// own [`savepoint`](Self::savepoint), so one whose `apply` fails is undone alone (its
    /// processed mark included) and the others stay; nothing is durable before
    /// [`commit`](Self::commit). A batch of 100 takes about 15 times less time per message
    /// than 100 transactions of one (crate benches, `Durability::Full`), at the price of
    /// processing the whole batch again after a crash before the commit.
    ///
    /// # Errors
    /// `apply`'s error, or a [`StoreError`] (converted with `From`) if SQLite fails.
    pub fn process_once<T, E: From<StoreError>>(
        &mut self,
        key: &ProcessedKey,
        now: Timestamp,
        apply: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<Processed<T>, E> {
        self.savepoint(|tx| match tx.mark_processed(key, now) {
            Ok(false) => Ok(Processed::AlreadyProcessed),
            Ok(true) => apply(tx).map(Processed::Applied),
            Err(err) => Err(E::from(err)),
        })
    }

    fn run_cached(&self, sql: &str) -> Result<(), rusqlite::Error> {
        crate::value::run_cached(&self.inner, sql)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.inner
    }
}

shared_api!(Transaction<'_>);
