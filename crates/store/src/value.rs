//! Conversions between Rust values and SQLite columns, and the savepoint that makes a
//! multi-statement operation atomic.
//!
//! ```text
//! u64 (clock, Timestamp ms)  <->  INTEGER  only 0 ..= i64::MAX (2^63 - 1) is stored;
//!                                          larger values are refused, never wrapped, so
//!                                          SQL order is numeric order
//! bool                       <->  INTEGER  0 | 1
//! ```

use kaiwa_session::Timestamp;
use rusqlite::Connection;

use crate::error::{Context as _, StoreError};

/// `value` as an SQLite integer.
pub(crate) fn to_sql(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field })
}

/// A stored integer as `u64`; a negative one is corrupt.
pub(crate) fn from_sql(
    table: &'static str,
    column: &'static str,
    value: i64,
) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt { table, column })
}

/// `time` as an SQLite integer.
pub(crate) fn time_to_sql(field: &'static str, time: Timestamp) -> Result<i64, StoreError> {
    to_sql(field, time.as_millis())
}

/// A stored time.
pub(crate) fn time_from_sql(
    table: &'static str,
    column: &'static str,
    value: i64,
) -> Result<Timestamp, StoreError> {
    from_sql(table, column, value).map(Timestamp::from_millis)
}

/// Checks `actual <= limit`.
pub(crate) fn check_len(
    field: &'static str,
    limit: usize,
    actual: usize,
) -> Result<(), StoreError> {
    if actual > limit { Err(StoreError::TooLong { field, limit, actual }) } else { Ok(()) }
}

/// The longest prefix of `text` that has at most `max` bytes and ends on a character
/// boundary.
pub(crate) fn truncate_utf8(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    text.get(..end).unwrap_or_default()
}

/// Runs `body` inside a savepoint: if it fails, everything it wrote is undone and the
/// connection is as before (inside a transaction, the transaction goes on). Outside a
/// transaction the savepoint is itself the transaction, committed on success.
pub(crate) fn atomic<T>(
    conn: &Connection,
    body: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    run_cached(conn, "SAVEPOINT kaiwa_op").during("opening a savepoint")?;
    let result = body(conn).and_then(|value| {
        run_cached(conn, "RELEASE kaiwa_op").during("releasing a savepoint").map(|()| value)
    });
    if result.is_err() {
        // Undo and close the savepoint. If even this fails, the connection is unusable and
        // the next statement reports it; the error worth returning is the first one.
        let undone = run_cached(conn, "ROLLBACK TO kaiwa_op")
            .and_then(|()| run_cached(conn, "RELEASE kaiwa_op"));
        if undone.is_err() {
            return result;
        }
    }
    result
}

/// Runs a statement without parameters or rows from the statement cache: the savepoint
/// statements run several times per message, and parsing them each time showed in profiles.
pub(crate) fn run_cached(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn integers_outside_the_signed_range_are_refused() {
        assert_eq!(to_sql("clock", 5).unwrap(), 5);
        assert_eq!(to_sql("clock", i64::MAX as u64).unwrap(), i64::MAX);
        assert_eq!(
            to_sql("clock", 1 << 63).unwrap_err(),
            StoreError::OutOfRange { field: "clock" }
        );
        assert_eq!(
            from_sql("t", "c", -1).unwrap_err(),
            StoreError::Corrupt { table: "t", column: "c" }
        );
    }

    #[test]
    fn a_failed_body_leaves_nothing_and_the_transaction_usable() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER); BEGIN; INSERT INTO t VALUES (1);").unwrap();
        let failed: Result<(), _> = atomic(&conn, |c| {
            c.execute("INSERT INTO t VALUES (2)", []).unwrap();
            Err(StoreError::StatusMismatch)
        });
        assert_eq!(failed.unwrap_err(), StoreError::StatusMismatch);
        atomic(&conn, |c| c.execute("INSERT INTO t VALUES (3)", []).during("insert")).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        let rows: Vec<i64> = conn
            .prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [1, 3]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn truncation_keeps_a_valid_prefix(text in "\\PC{0,64}", max in 0usize..80) {
            let cut = truncate_utf8(&text, max);
            prop_assert!(cut.len() <= max);
            prop_assert!(text.starts_with(cut));
            if text.len() <= max {
                prop_assert_eq!(cut, text.as_str());
            }
        }
    }
}
