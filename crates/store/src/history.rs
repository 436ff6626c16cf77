//! Message history: what was said in every chat, in Lamport-clock order.
//!
//! ```text
//! messages (id, chat_kind, chat_id, author[32], clock, timestamp, payload, direction,
//!           status, stored_at)
//!
//! chat_kind  chat_id bytes
//! 1 Direct   the peer's PublicId (32 bytes)
//! 2 Group    the GroupId text, UTF-8 (hex(creator) "-" uuid_v4, 101 bytes; seed 000)
//! 3 Channel  OrgId (32 bytes) ‖ ChannelId text, UTF-8 (1..=64 bytes; seed 004)
//!
//! direction  1 Inbound | 2 Outbound
//! status     1 Received (inbound only)
//!            2 Pending  (outbound, some copy still in the outbox)
//!            3 Sent     (outbound, every copy published)
//!            4 Failed   (outbound, a copy was abandoned)
//!
//! page   = the `limit` (<= MAX_PAGE) messages of one chat just before a cursor
//!          (clock, id), newest excluded, returned oldest first
//! index  = messages_by_chat (chat_kind, chat_id, clock, id): a page is one range scan
//! ```
//!
//! `clock` is the message's Lamport time (the protocol's order; status-go's `clock`);
//! `timestamp` is the sender's wall clock, for display only; `stored_at` is when this store
//! learned the message. Ties in `clock` are broken by `id`, which is local insertion order.
//! The payload is the decrypted application message: the history is plaintext at rest,
//! like every chat client's database, and encryption at rest is the application's job.

use core::fmt;

use kaiwa_group::GroupId;
use kaiwa_org::{ChannelId, OrgId};
use kaiwa_session::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::error::{Context as _, StoreError};
use crate::id::{MessageId, PublicId};
use crate::limits::{MAX_PAGE, MAX_PAYLOAD_BYTES};
use crate::value::{check_len, from_sql, time_from_sql, time_to_sql, to_sql};

const TABLE: &str = "messages";

/// A conversation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChatId {
    /// A 1:1 chat with a peer.
    Direct(PublicId),
    /// A private group chat.
    Group(GroupId),
    /// A channel of an organization.
    Channel {
        /// The organization.
        org: OrgId,
        /// The channel.
        channel: ChannelId,
    },
}

impl ChatId {
    /// `(chat_kind, chat_id)` as stored (module docs).
    fn to_sql(&self) -> (i64, Vec<u8>) {
        match self {
            Self::Direct(peer) => (1, peer.as_bytes().to_vec()),
            Self::Group(group) => (2, group.as_str().as_bytes().to_vec()),
            Self::Channel { org, channel } => {
                let mut id = org.as_bytes().to_vec();
                id.extend_from_slice(channel.as_str().as_bytes());
                (3, id)
            }
        }
    }

    /// The inverse of `to_sql`; anything else is corrupt.
    fn from_sql(kind: i64, id: &[u8]) -> Result<Self, StoreError> {
        let corrupt = || StoreError::Corrupt { table: TABLE, column: "chat_id" };
        match kind {
            1 => PublicId::from_slice(id).map(Self::Direct).ok_or_else(corrupt),
            2 => {
                let text = core::str::from_utf8(id).map_err(|_| corrupt())?;
                GroupId::parse(text).map(Self::Group).map_err(|_| corrupt())
            }
            3 => {
                let (org, channel) = id.split_first_chunk::<32>().ok_or_else(corrupt)?;
                let org = OrgId::from_slice("org_id", org).map_err(|_| corrupt())?;
                let channel = core::str::from_utf8(channel).map_err(|_| corrupt())?;
                let channel = ChannelId::new(channel).map_err(|_| corrupt())?;
                Ok(Self::Channel { org, channel })
            }
            _ => Err(StoreError::Corrupt { table: TABLE, column: "chat_kind" }),
        }
    }
}

/// Who sent a message, seen from this account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A peer sent it to us.
    Inbound,
    /// We sent it.
    Outbound,
}

impl Direction {
    const fn code(self) -> i64 {
        match self {
            Self::Inbound => 1,
            Self::Outbound => 2,
        }
    }

    fn from_code(code: i64) -> Result<Self, StoreError> {
        match code {
            1 => Ok(Self::Inbound),
            2 => Ok(Self::Outbound),
            _ => Err(StoreError::Corrupt { table: TABLE, column: "direction" }),
        }
    }
}

/// Where a message stands (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageStatus {
    /// Received from a peer.
    Received,
    /// Ours, with at least one copy still in the outbox.
    Pending,
    /// Ours, every copy published.
    Sent,
    /// Ours, and a copy was given up ([`abandon_outbox`](crate::Store::abandon_outbox)).
    Failed,
}

impl MessageStatus {
    const fn code(self) -> i64 {
        match self {
            Self::Received => 1,
            Self::Pending => 2,
            Self::Sent => 3,
            Self::Failed => 4,
        }
    }

    fn from_code(code: i64) -> Result<Self, StoreError> {
        match code {
            1 => Ok(Self::Received),
            2 => Ok(Self::Pending),
            3 => Ok(Self::Sent),
            4 => Ok(Self::Failed),
            _ => Err(StoreError::Corrupt { table: TABLE, column: "status" }),
        }
    }

    /// The only direction this status can have.
    const fn direction(self) -> Direction {
        match self {
            Self::Received => Direction::Inbound,
            Self::Pending | Self::Sent | Self::Failed => Direction::Outbound,
        }
    }
}

/// A message to add to the history.
#[derive(Clone, Copy)]
pub struct NewMessage<'a> {
    /// Its chat.
    pub chat: &'a ChatId,
    /// Who wrote it (ourselves for outbound messages).
    pub author: PublicId,
    /// Its Lamport time.
    pub clock: u64,
    /// The author's wall-clock time, for display.
    pub timestamp: Timestamp,
    /// The application payload (decrypted).
    pub payload: &'a [u8],
    /// Received or sent.
    pub direction: Direction,
    /// Its status; must agree with `direction`.
    pub status: MessageStatus,
}

impl<'a> NewMessage<'a> {
    /// A message received from `author`.
    #[must_use]
    pub const fn received(
        chat: &'a ChatId,
        author: PublicId,
        clock: u64,
        timestamp: Timestamp,
        payload: &'a [u8],
    ) -> Self {
        Self {
            chat,
            author,
            clock,
            timestamp,
            payload,
            direction: Direction::Inbound,
            status: MessageStatus::Received,
        }
    }

    /// A message we are sending: [`MessageStatus::Pending`] until every outbox entry
    /// linked to it is published.
    #[must_use]
    pub const fn outgoing(
        chat: &'a ChatId,
        us: PublicId,
        clock: u64,
        timestamp: Timestamp,
        payload: &'a [u8],
    ) -> Self {
        Self {
            chat,
            author: us,
            clock,
            timestamp,
            payload,
            direction: Direction::Outbound,
            status: MessageStatus::Pending,
        }
    }
}

impl fmt::Debug for NewMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { chat, author, clock, timestamp, payload, direction, status } = self;
        f.debug_struct("NewMessage")
            .field("chat", chat)
            .field("author", author)
            .field("clock", clock)
            .field("timestamp", timestamp)
            .field("payload_len", &payload.len())
            .field("direction", direction)
            .field("status", status)
            .finish()
    }
}

/// A message of the history.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its id in this store.
    pub id: MessageId,
    /// Its chat.
    pub chat: ChatId,
    /// Who wrote it.
    pub author: PublicId,
    /// Its Lamport time.
    pub clock: u64,
    /// The author's wall-clock time.
    pub timestamp: Timestamp,
    /// The application payload.
    pub payload: Vec<u8>,
    /// Received or sent.
    pub direction: Direction,
    /// Its status.
    pub status: MessageStatus,
    /// When this store inserted it.
    pub stored_at: Timestamp,
}

impl StoredMessage {
    /// The cursor that pages to the messages before this one.
    #[must_use]
    pub const fn cursor(&self) -> HistoryCursor {
        HistoryCursor { clock: self.clock, id: self.id }
    }
}

impl fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { id, chat, author, clock, timestamp, payload, direction, status, stored_at } =
            self;
        f.debug_struct("StoredMessage")
            .field("id", id)
            .field("chat", chat)
            .field("author", author)
            .field("clock", clock)
            .field("timestamp", timestamp)
            .field("payload_len", &payload.len())
            .field("direction", direction)
            .field("status", status)
            .field("stored_at", stored_at)
            .finish()
    }
}

/// A position in a chat's history: pages continue strictly before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HistoryCursor {
    /// The Lamport time of the message at the position.
    pub clock: u64,
    /// Its id (ties in `clock`).
    pub id: MessageId,
}

/// One chat of the history, for a chat list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSummary {
    /// The chat.
    pub chat: ChatId,
    /// How many messages it holds.
    pub messages: u64,
    /// The highest Lamport time among them.
    pub last_clock: u64,
}

pub(crate) fn insert(
    conn: &Connection,
    message: &NewMessage<'_>,
    now: Timestamp,
) -> Result<MessageId, StoreError> {
    let NewMessage { chat, author, clock, timestamp, payload, direction, status } = *message;
    check_len("payload", MAX_PAYLOAD_BYTES, payload.len())?;
    if status.direction() != direction {
        return Err(StoreError::StatusMismatch);
    }
    let (kind, chat_id) = chat.to_sql();
    let params = params![
        kind,
        chat_id,
        author.as_bytes(),
        to_sql("clock", clock)?,
        time_to_sql("timestamp", timestamp)?,
        payload,
        direction.code(),
        status.code(),
        time_to_sql("stored_at", now)?,
    ];
    let sql = "INSERT INTO messages (chat_kind, chat_id, author, clock, timestamp, payload,
                                     direction, status, stored_at)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    let operation = "inserting a message";
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.insert(params))
        .map(MessageId::from_raw)
        .during(operation)
}

/// The columns after the chat, as selected by `columns!()`.
struct RawRow {
    id: i64,
    author: Vec<u8>,
    clock: i64,
    timestamp: i64,
    payload: Vec<u8>,
    direction: i64,
    status: i64,
    stored_at: i64,
}

/// The columns `RawRow::read` expects, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "id, author, clock, timestamp, payload, direction, status, stored_at"
    };
}

impl RawRow {
    /// Reads `columns!()` starting at column `first`.
    fn read(row: &Row<'_>, first: usize) -> rusqlite::Result<Self> {
        let at = |i: usize| first.saturating_add(i);
        Ok(Self {
            id: row.get(at(0))?,
            author: row.get(at(1))?,
            clock: row.get(at(2))?,
            timestamp: row.get(at(3))?,
            payload: row.get(at(4))?,
            direction: row.get(at(5))?,
            status: row.get(at(6))?,
            stored_at: row.get(at(7))?,
        })
    }

    fn into_message(self, chat: ChatId) -> Result<StoredMessage, StoreError> {
        let Self { id, author, clock, timestamp, payload, direction, status, stored_at } = self;
        let direction = Direction::from_code(direction)?;
        let status = MessageStatus::from_code(status)?;
        if status.direction() != direction {
            return Err(StoreError::Corrupt { table: TABLE, column: "status" });
        }
        Ok(StoredMessage {
            id: MessageId::from_raw(id),
            chat,
            author: PublicId::from_slice(&author)
                .ok_or(StoreError::Corrupt { table: TABLE, column: "author" })?,
            clock: from_sql(TABLE, "clock", clock)?,
            timestamp: time_from_sql(TABLE, "timestamp", timestamp)?,
            payload,
            direction,
            status,
            stored_at: time_from_sql(TABLE, "stored_at", stored_at)?,
        })
    }
}

pub(crate) fn get(conn: &Connection, id: MessageId) -> Result<Option<StoredMessage>, StoreError> {
    let operation = "loading a message";
    let sql = concat!("SELECT chat_kind, chat_id, ", columns!(), " FROM messages WHERE id = ?1");
    let row = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_row([id.get()], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?, RawRow::read(row, 2)?))
            })
            .optional()
        })
        .during(operation)?;
    row.map(|(kind, chat, raw)| raw.into_message(ChatId::from_sql(kind, &chat)?)).transpose()
}

pub(crate) fn page(
    conn: &Connection,
    chat: &ChatId,
    before: Option<HistoryCursor>,
    limit: usize,
) -> Result<Vec<StoredMessage>, StoreError> {
    let operation = "loading history";
    let (kind, chat_id) = chat.to_sql();
    let (clock, id) = match before {
        Some(cursor) => (to_sql("cursor.clock", cursor.clock)?, cursor.id.get()),
        None => (i64::MAX, i64::MAX),
    };
    let limit = i64::try_from(limit.min(MAX_PAGE)).unwrap_or(0);
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM messages
         WHERE chat_kind = ?1 AND chat_id = ?2 AND (clock, id) < (?3, ?4)
         ORDER BY clock DESC, id DESC LIMIT ?5"
    );
    let mut stmt = conn.prepare_cached(sql).during(operation)?;
    let rows = stmt
        .query_map(params![kind, chat_id, clock, id, limit], |row| RawRow::read(row, 0))
        .during(operation)?
        .collect::<Result<Vec<_>, _>>()
        .during(operation)?;
    let mut page = rows
        .into_iter()
        .map(|raw| raw.into_message(chat.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    page.reverse();
    Ok(page)
}

pub(crate) fn last_clock(conn: &Connection, chat: &ChatId) -> Result<Option<u64>, StoreError> {
    let operation = "reading a chat's last clock";
    let (kind, chat_id) = chat.to_sql();
    let clock: Option<i64> = conn
        .prepare_cached("SELECT MAX(clock) FROM messages WHERE chat_kind = ?1 AND chat_id = ?2")
        .and_then(|mut stmt| stmt.query_row(params![kind, chat_id], |row| row.get(0)))
        .during(operation)?;
    clock
        .map(|c| {
            u64::try_from(c).map_err(|_| StoreError::Corrupt { table: "messages", column: "clock" })
        })
        .transpose()
}

pub(crate) fn chats(conn: &Connection) -> Result<Vec<ChatSummary>, StoreError> {
    let operation = "listing chats";
    let sql = "SELECT chat_kind, chat_id, COUNT(*), MAX(clock) FROM messages
               GROUP BY chat_kind, chat_id ORDER BY MAX(clock) DESC, chat_kind, chat_id";
    let mut stmt = conn.prepare_cached(sql).during(operation)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })
        .during(operation)?
        .collect::<Result<Vec<_>, _>>()
        .during(operation)?;
    rows.into_iter()
        .map(|(kind, chat, messages, last_clock)| {
            Ok(ChatSummary {
                chat: ChatId::from_sql(kind, &chat)?,
                messages: from_sql(TABLE, "id", messages)?,
                last_clock: from_sql(TABLE, "clock", last_clock)?,
            })
        })
        .collect()
}

pub(crate) fn set_status(
    conn: &Connection,
    id: MessageId,
    status: MessageStatus,
) -> Result<bool, StoreError> {
    let operation = "updating a message status";
    let direction: Option<i64> = conn
        .prepare_cached("SELECT direction FROM messages WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id.get()], |row| row.get(0)).optional())
        .during(operation)?;
    let Some(direction) = direction else { return Ok(false) };
    if Direction::from_code(direction)? != status.direction() {
        return Err(StoreError::StatusMismatch);
    }
    conn.prepare_cached("UPDATE messages SET status = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id.get(), status.code()]))
        .map(|n| n == 1)
        .during(operation)
}

/// Moves an outbound message from `Pending` to `status` (used by the outbox).
pub(crate) fn settle(conn: &Connection, id: i64, status: MessageStatus) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE messages SET status = ?2 WHERE id = ?1 AND status = ?3")
        .and_then(|mut stmt| {
            stmt.execute(params![id, status.code(), MessageStatus::Pending.code()])
        })
        .map(drop)
        .during("updating a message status")
}

pub(crate) fn exists(conn: &Connection, id: MessageId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT 1 FROM messages WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id.get()], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .during("looking up a message")
}

#[cfg(test)]
mod tests {
    use kaiwa_crypto::IdentityKeyPair;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn chat_ids_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let key = IdentityKeyPair::generate(&mut rng).public_key();
        let creator = kaiwa_group::MemberId::new(key);
        let chats = [
            ChatId::Direct(PublicId::new([7; 32])),
            ChatId::Group(GroupId::generate(&creator, &mut rng)),
            ChatId::Channel { org: OrgId::new(key), channel: ChannelId::new("general").unwrap() },
        ];
        for chat in chats {
            let (kind, id) = chat.to_sql();
            assert_eq!(ChatId::from_sql(kind, &id).unwrap(), chat);
        }
        let corrupt = StoreError::Corrupt { table: TABLE, column: "chat_id" };
        assert_eq!(ChatId::from_sql(1, &[0; 31]).unwrap_err(), corrupt);
        assert_eq!(ChatId::from_sql(2, b"not-a-group").unwrap_err(), corrupt);
        assert_eq!(ChatId::from_sql(3, &[0; 10]).unwrap_err(), corrupt);
        assert_eq!(
            ChatId::from_sql(9, &[]).unwrap_err(),
            StoreError::Corrupt { table: TABLE, column: "chat_kind" }
        );
    }

    #[test]
    fn codes_round_trip_and_statuses_imply_directions() {
        for status in [
            MessageStatus::Received,
            MessageStatus::Pending,
            MessageStatus::Sent,
            MessageStatus::Failed,
        ] {
            assert_eq!(MessageStatus::from_code(status.code()).unwrap(), status);
        }
        for direction in [Direction::Inbound, Direction::Outbound] {
            assert_eq!(Direction::from_code(direction.code()).unwrap(), direction);
        }
        assert_eq!(MessageStatus::Received.direction(), Direction::Inbound);
        assert_eq!(MessageStatus::Sent.direction(), Direction::Outbound);
        assert!(MessageStatus::from_code(0).is_err());
        assert!(Direction::from_code(3).is_err());
    }

    #[test]
    fn debug_shows_no_payload() {
        let chat = ChatId::Direct(PublicId::new([1; 32]));
        let message = NewMessage::received(
            &chat,
            PublicId::new([2; 32]),
            1,
            Timestamp::ZERO,
            b"secret words",
        );
        let debug = format!("{message:?}");
        assert!(debug.contains("payload_len: 12"), "{debug}");
        assert!(!debug.contains("secret"), "{debug}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Stored chat columns are untrusted (a corrupted file): never a panic.
        #[test]
        fn arbitrary_chat_columns_never_panic(kind in 0i64..5, id in prop::collection::vec(any::<u8>(), 0..140)) {
            let _ = ChatId::from_sql(kind, &id);
        }

        /// Channel ids: org key bytes followed by arbitrary text.
        #[test]
        fn arbitrary_channel_ids_never_panic(org in any::<[u8; 32]>(), text in "\\PC{0,80}") {
            let mut id = org.to_vec();
            id.extend_from_slice(text.as_bytes());
            let _ = ChatId::from_sql(3, &id);
        }
    }
}
