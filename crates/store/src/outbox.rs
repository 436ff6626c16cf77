//! The outbox: WakuMessages that must be published, kept until they are.
//!
//! ```text
//! outbox (id AUTOINCREMENT, pubsub_topic, content_topic, payload, meta, timestamp_ns?,
//!         message_id? -> messages.id, created_at, attempts, last_error?, last_attempt_at?)
//!
//! send:     BEGIN; ratchet/epoch state; insert_message (Pending); enqueue_outbox (one per
//!           WakuMessage, linked to the message); COMMIT          <- nothing published yet
//! publish:  pending_outbox(after, n) in id order; publish each; then
//!           mark_published(id)  -> entry deleted; the message becomes Sent once no entry
//!                                  linked to it is left
//!           record_failure(id)  -> attempts + 1, last_error, last_attempt_at
//!           abandon_outbox(id)  -> entry deleted; a Pending message becomes Failed
//! ```
//!
//! The entry is committed with the state change that produced it, so a crash can neither
//! lose the message (it is queued before anything is published) nor encrypt it twice (the
//! ratchet step that produced the ciphertext is committed with it, and a restart publishes
//! the queued ciphertext instead of encrypting again). A crash between publishing and
//! `mark_published` publishes the entry again; the entry keeps the whole WakuMessage,
//! timestamp included, so the copy has the same message hash and receivers drop it as
//! processed. Entries are never evicted (that would lose messages); the application sees the
//! backlog through [`outbox_len`](crate::Store::outbox_len) and decides when to abandon one.

use core::fmt;

use kaiwa_session::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::error::{Context as _, StoreError};
use crate::history::{self, MessageStatus};
use crate::id::{MessageId, OutboxId};
use crate::limits::{
    MAX_ERROR_TEXT_BYTES, MAX_META_BYTES, MAX_PAGE, MAX_PAYLOAD_BYTES, MAX_TOPIC_BYTES,
};
use crate::value::{atomic, check_len, from_sql, time_from_sql, time_to_sql, truncate_utf8};

const TABLE: &str = "outbox";

/// A WakuMessage to publish (14/WAKU2-MESSAGE fields; `version` is always 0, DECISIONS
/// "Waku layer").
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The pubsub topic (`/waku/2/rs/<cluster>/<shard>`).
    pub pubsub_topic: String,
    /// The content topic (`/kaiwa/1/<name>/proto`).
    pub content_topic: String,
    /// The payload (already encrypted by the protocol layer).
    pub payload: Vec<u8>,
    /// The `meta` field (at most 64 bytes; empty if unused).
    pub meta: Vec<u8>,
    /// The `timestamp` field, Unix nanoseconds, fixed when queued so that every publication
    /// of the entry has the same message hash.
    pub timestamp_ns: Option<i64>,
}

impl fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { pubsub_topic, content_topic, payload, meta, timestamp_ns } = self;
        f.debug_struct("OutboxMessage")
            .field("pubsub_topic", pubsub_topic)
            .field("content_topic", content_topic)
            .field("payload_len", &payload.len())
            .field("meta_len", &meta.len())
            .field("timestamp_ns", timestamp_ns)
            .finish()
    }
}

/// A queued entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The entry's id.
    pub id: OutboxId,
    /// What to publish.
    pub message: OutboxMessage,
    /// The history message this entry carries a copy of, if any.
    pub history: Option<MessageId>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Failed publication attempts so far.
    pub attempts: u32,
    /// The last failure, as recorded by the publisher.
    pub last_error: Option<String>,
    /// When the last failure happened.
    pub last_attempt_at: Option<Timestamp>,
}

pub(crate) fn enqueue(
    conn: &Connection,
    message: &OutboxMessage,
    history: Option<MessageId>,
    now: Timestamp,
) -> Result<OutboxId, StoreError> {
    let OutboxMessage { pubsub_topic, content_topic, payload, meta, timestamp_ns } = message;
    check_len("pubsub_topic", MAX_TOPIC_BYTES, pubsub_topic.len())?;
    check_len("content_topic", MAX_TOPIC_BYTES, content_topic.len())?;
    check_len("payload", MAX_PAYLOAD_BYTES, payload.len())?;
    check_len("meta", MAX_META_BYTES, meta.len())?;
    if let Some(id) = history
        && !history::exists(conn, id)?
    {
        return Err(StoreError::NotFound { what: "message" });
    }
    let sql = "INSERT INTO outbox (pubsub_topic, content_topic, payload, meta, timestamp_ns,
                                   message_id, created_at)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    let params = params![
        pubsub_topic,
        content_topic,
        payload,
        meta,
        timestamp_ns,
        history.map(MessageId::get),
        time_to_sql("created_at", now)?,
    ];
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.insert(params))
        .map(OutboxId::from_raw)
        .during("queueing a message")
}

/// The columns of one row, in `SELECT` order.
struct RawEntry {
    id: i64,
    pubsub_topic: String,
    content_topic: String,
    payload: Vec<u8>,
    meta: Vec<u8>,
    timestamp_ns: Option<i64>,
    message_id: Option<i64>,
    created_at: i64,
    attempts: i64,
    last_error: Option<String>,
    last_attempt_at: Option<i64>,
}

impl RawEntry {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            pubsub_topic: row.get(1)?,
            content_topic: row.get(2)?,
            payload: row.get(3)?,
            meta: row.get(4)?,
            timestamp_ns: row.get(5)?,
            message_id: row.get(6)?,
            created_at: row.get(7)?,
            attempts: row.get(8)?,
            last_error: row.get(9)?,
            last_attempt_at: row.get(10)?,
        })
    }

    fn decode(self) -> Result<OutboxEntry, StoreError> {
        let Self {
            id,
            pubsub_topic,
            content_topic,
            payload,
            meta,
            timestamp_ns,
            message_id,
            created_at,
            attempts,
            last_error,
            last_attempt_at,
        } = self;
        Ok(OutboxEntry {
            id: OutboxId::from_raw(id),
            message: OutboxMessage { pubsub_topic, content_topic, payload, meta, timestamp_ns },
            history: message_id.map(MessageId::from_raw),
            created_at: time_from_sql(TABLE, "created_at", created_at)?,
            attempts: u32::try_from(from_sql(TABLE, "attempts", attempts)?).unwrap_or(u32::MAX),
            last_error,
            last_attempt_at: last_attempt_at
                .map(|t| time_from_sql(TABLE, "last_attempt_at", t))
                .transpose()?,
        })
    }
}

pub(crate) fn pending(
    conn: &Connection,
    after: Option<OutboxId>,
    limit: usize,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let operation = "loading the outbox";
    let sql = "SELECT id, pubsub_topic, content_topic, payload, meta, timestamp_ns, message_id,
                      created_at, attempts, last_error, last_attempt_at
               FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2";
    let after = after.map_or(0, OutboxId::get);
    let limit = i64::try_from(limit.min(MAX_PAGE)).unwrap_or(0);
    let mut stmt = conn.prepare_cached(sql).during(operation)?;
    let rows = stmt
        .query_map(params![after, limit], RawEntry::read)
        .during(operation)?
        .collect::<Result<Vec<_>, _>>()
        .during(operation)?;
    rows.into_iter().map(RawEntry::decode).collect()
}

pub(crate) fn len(conn: &Connection) -> Result<u64, StoreError> {
    let count: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM outbox")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .during("counting the outbox")?;
    from_sql(TABLE, "id", count)
}

/// Deletes entry `id` and, if it carried a copy of a history message that has no other
/// copy left in the outbox, moves that message from `Pending` to `settled`.
fn remove(
    conn: &Connection,
    id: OutboxId,
    settled: MessageStatus,
    operation: &'static str,
) -> Result<bool, StoreError> {
    atomic(conn, |conn| remove_in(conn, id, settled, operation))
}

/// [`remove`] without its own savepoint: the caller's makes it atomic.
fn remove_in(
    conn: &Connection,
    id: OutboxId,
    settled: MessageStatus,
    operation: &'static str,
) -> Result<bool, StoreError> {
    let linked: Option<Option<i64>> = conn
        .prepare_cached("DELETE FROM outbox WHERE id = ?1 RETURNING message_id")
        .and_then(|mut stmt| stmt.query_row([id.get()], |row| row.get(0)).optional())
        .during(operation)?;
    let Some(linked) = linked else { return Ok(false) };
    if let Some(message) = linked {
        let left: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM outbox WHERE message_id = ?1")
            .and_then(|mut stmt| stmt.query_row([message], |row| row.get(0)))
            .during(operation)?;
        if left == 0 || settled == MessageStatus::Failed {
            history::settle(conn, message, settled)?;
        }
    }
    Ok(true)
}

pub(crate) fn mark_published(conn: &Connection, id: OutboxId) -> Result<bool, StoreError> {
    remove(conn, id, MessageStatus::Sent, "marking a message published")
}

/// [`mark_published`] for every id, in one savepoint: the pages the removals share are
/// journalled once, not once per entry.
pub(crate) fn mark_all_published(conn: &Connection, ids: &[OutboxId]) -> Result<u64, StoreError> {
    atomic(conn, |conn| {
        let mut removed = 0_u64;
        for id in ids {
            if remove_in(conn, *id, MessageStatus::Sent, "marking messages published")? {
                removed = removed.saturating_add(1);
            }
        }
        Ok(removed)
    })
}

pub(crate) fn abandon(conn: &Connection, id: OutboxId) -> Result<bool, StoreError> {
    remove(conn, id, MessageStatus::Failed, "abandoning a queued message")
}

pub(crate) fn record_failure(
    conn: &Connection,
    id: OutboxId,
    error: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let sql = "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, last_attempt_at = ?3
               WHERE id = ?1";
    let params =
        params![id.get(), truncate_utf8(error, MAX_ERROR_TEXT_BYTES), time_to_sql("now", now)?];
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map(|n| n == 1)
        .during("recording a publication failure")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_payload() {
        let message = OutboxMessage {
            pubsub_topic: "/waku/2/rs/16/32".into(),
            content_topic: "/kaiwa/1/x/proto".into(),
            payload: vec![0xAB; 40],
            meta: vec![0xCD; 3],
            timestamp_ns: Some(5),
        };
        let debug = format!("{message:?}");
        assert!(debug.contains("payload_len: 40") && debug.contains("meta_len: 3"), "{debug}");
        assert!(!debug.contains("171") && !debug.to_lowercase().contains("ab, "), "{debug}");
    }
}
