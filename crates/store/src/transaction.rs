//! A transaction: everything written through it commits together or not at all.
//!
//! ```text
//! let mut tx = store.begin()?;          BEGIN IMMEDIATE (takes the write lock)
//! manager.receive(&mut adapter(tx), ..) protocol state through the store traits
//! tx.insert_message(..)?; tx.mark_processed(..)?; tx.enqueue_outbox(..)?;
//! tx.commit()?;                         COMMIT (durable per Durability)
//! drop(tx) without commit               ROLLBACK
//! ```
//!
//! A process killed at any point leaves either the state before `begin` or the state after
//! `commit`: SQLite's write-ahead log makes a commit atomic, and an uncommitted transaction
//! is discarded on the next open. An operation that fails inside a transaction is undone on
//! its own (savepoint), so the transaction stays usable; the caller decides whether to
//! continue or to drop it.

use core::fmt;

use rusqlite::Connection;

use crate::error::{Context as _, StoreError};
use crate::shared::shared_api;

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

    pub(crate) fn conn(&self) -> &Connection {
        &self.inner
    }
}

shared_api!(Transaction<'_>);
