//! The set of processed WakuMessages, by message hash.
//!
//! ```text
//! processed (hash[32] PRIMARY KEY, processed_at ms)
//! mark_processed(h, now)    INSERT OR IGNORE   -> true if h was not there yet
//! is_processed(h)           SELECT 1
//! prune_processed(before)   DELETE WHERE processed_at < before
//! ```
//!
//! Marking a hash in the same transaction as the state change the message caused is what
//! makes redelivery harmless (the issue's "one transaction per processed inbound message"):
//! either both are on disk or neither is. Waku delivers a message again through relay
//! duplicates, Store queries after being offline, and republishing; all of them carry the
//! same hash. The set grows with traffic, so the application prunes hashes older than the
//! longest window in which a copy can still arrive (the Store nodes' retention).

use kaiwa_session::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::{Context as _, StoreError};
use crate::id::MessageHash;
use crate::value::time_to_sql;

pub(crate) fn is_processed(conn: &Connection, hash: &MessageHash) -> Result<bool, StoreError> {
    let operation = "looking up a processed message";
    conn.prepare_cached("SELECT 1 FROM processed WHERE hash = ?1")
        .and_then(|mut stmt| stmt.query_row([hash.as_bytes()], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .during(operation)
}

pub(crate) fn mark_processed(
    conn: &Connection,
    hash: &MessageHash,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let now = time_to_sql("processed_at", now)?;
    conn.prepare_cached("INSERT OR IGNORE INTO processed (hash, processed_at) VALUES (?1, ?2)")
        .and_then(|mut stmt| stmt.execute(params![hash.as_bytes(), now]))
        .map(|inserted| inserted == 1)
        .during("marking a message processed")
}

pub(crate) fn prune_processed(conn: &Connection, before: Timestamp) -> Result<u64, StoreError> {
    let before = time_to_sql("before", before)?;
    conn.prepare_cached("DELETE FROM processed WHERE processed_at < ?1")
        .and_then(|mut stmt| stmt.execute([before]))
        .map(|n| n as u64)
        .during("pruning processed messages")
}
