//! Error types, one per operation family: opening (and migrating) a database, and everything
//! done with an open one.
//!
//! Rules that hold for every type here (STYLE §3.6):
//! - no variant carries a record, a key, a payload or any other stored value; only static
//!   table, column and field names and numbers;
//! - SQLite failures keep rusqlite's error as their `#[source]`. Every statement of this crate
//!   is a constant with `?` parameters, so an error never quotes a value; it may quote the
//!   constant SQL text of a statement, which holds nothing secret;
//! - every enum is `#[non_exhaustive]` and `Debug + PartialEq`.

/// Why a database could not be opened.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// SQLite failed (the file is not a database, cannot be created, is locked, ...).
    #[error("SQLite failed while {operation}")]
    Sqlite {
        /// What the store was doing.
        operation: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer version of kaiwa-store (or is not ours). It was
    /// left exactly as it was: nothing was written to it.
    #[error("schema version {found} is not supported (this build reads versions 0 to {supported})")]
    UnsupportedSchema {
        /// `PRAGMA user_version` of the file.
        found: i32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A migration script failed; it was rolled back, and the database is at the version
    /// before it.
    #[error("migration to schema version {version} failed")]
    Migration {
        /// The version the failed script would have produced.
        version: u32,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A migration script left a row whose foreign key points nowhere; it was rolled back,
    /// and the database is at the version before it.
    #[error("migration to schema version {version} would break a foreign key")]
    MigrationBrokeForeignKeys {
        /// The version the script would have produced.
        version: u32,
    },
    /// SQLite refused write-ahead logging for a file database (for example on a file
    /// system without shared memory), so transactions would not have the guarantees
    /// documented in the crate.
    #[error("the database could not be switched to write-ahead logging")]
    WalUnavailable,
}

/// Why an operation on an open store failed. A failed operation changed nothing.
#[derive(Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed (disk full, I/O error, database locked past the busy timeout, ...).
    #[error("SQLite failed while {operation}")]
    Sqlite {
        /// What the store was doing.
        operation: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored value is not what this version wrote: wrong type or length, an unknown
    /// enum code, invalid UTF-8, an id that does not parse. Records themselves are opaque
    /// here; their contents are checked by the protocol crates' `from_record`.
    #[error("corrupt value in {table}.{column}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A value is longer than its bound in [`limits`](crate::limits).
    #[error("`{field}` has {actual} bytes, the limit is {limit}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its bound.
        limit: usize,
        /// Its length.
        actual: usize,
    },
    /// A listing would return more rows than its bound in [`limits`](crate::limits)
    /// ([`MAX_LISTED_IDS`](crate::limits::MAX_LISTED_IDS)); nothing is returned rather than
    /// a list cut short.
    #[error("`{table}` has more than {limit} rows to list")]
    TooMany {
        /// The table.
        table: &'static str,
        /// The bound.
        limit: usize,
    },
    /// An unsigned value does not fit SQLite's signed 64-bit integers (it is at least
    /// 2^63).
    #[error("`{field}` does not fit a signed 64-bit integer")]
    OutOfRange {
        /// The field.
        field: &'static str,
    },
    /// A direction and a status that contradict each other (a received message that is
    /// "pending", a sent one that is "received").
    #[error("status does not match the message direction")]
    StatusMismatch,
    /// Another connection kept an operation that needs the whole database from completing
    /// (a checkpoint while it reads).
    #[error("another connection is using the database")]
    Busy,
    /// A referenced row does not exist (an outbox entry for an unknown history message).
    #[error("no such {what}")]
    NotFound {
        /// What was referenced.
        what: &'static str,
    },
}

/// Attaches the operation's name to a rusqlite error.
pub(crate) trait Context<T> {
    /// `Err(e)` becomes `StoreError::Sqlite { operation, source: e }`.
    fn during(self, operation: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn during(self, operation: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite { operation, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_errors_name_the_operation_and_keep_the_source() {
        let err: Result<(), _> = Err(rusqlite::Error::QueryReturnedNoRows);
        let err = err.during("loading a peer").unwrap_err();
        assert_eq!(err.to_string(), "SQLite failed while loading a peer");
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.to_string(), rusqlite::Error::QueryReturnedNoRows.to_string());
    }
}
