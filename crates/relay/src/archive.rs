//! The message archive behind the Store v3 server: a small storage trait and a bounded
//! in-memory implementation.
//!
//! ```text
//! archive order: (time, message hash) ascending, time = message timestamp (Unix ns)
//!                (the receive time for the rare message without one)
//! insert:        idempotent by message hash; at most `max_messages` kept, oldest evicted first
//! prune(now):    drops every message with time < now - max_age
//! query:         13/WAKU2-STORE v3 semantics (kaiwa_transport::StoreQuery): the next
//!                `page_size` matches strictly after the cursor in the query direction,
//!                returned oldest first; next_cursor = hash of the last message included, set
//!                only when more matches follow
//! ```
//!
//! What is archived at all is decided by the node (see [`archivable`]): nwaku's archive rules
//! (`waku_archive/archive.nim`): ephemeral messages are not stored, and a message whose timestamp
//! is absent or more than [`MAX_ARCHIVE_TIMESTAMP_DRIFT`] away from the node's clock is not stored
//! (it is still relayed).
//!
//! [`MessageArchive`] is the seam for persistent storage: `kaiwa-store` can implement it over
//! SQLite (an index on `(pubsub_topic, content_topic, time, hash)` answers every query shape) and
//! the node takes it through [`RelayNode::start_with_archive`](crate::RelayNode::start_with_archive).
//! [`MemoryArchive`] is the default, and what the tests and benchmarks use.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::ops::Bound;

use kaiwa_transport::{
    Cursor, Direction, MessageHash, QueryCriteria, ReceivedMessage, StorePage, StoreQuery,
};

use crate::config::Retention;
use crate::limits::MAX_ARCHIVE_TIMESTAMP_DRIFT;

/// Why a query could not be answered.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveQueryError<E: std::error::Error + 'static> {
    /// The cursor names no archived message (never stored, or evicted since). Store v3 answers
    /// 400.
    #[error("the cursor names no archived message")]
    UnknownCursor,
    /// The storage backend failed.
    #[error("archive backend failed")]
    Backend {
        /// The backend's error.
        #[source]
        source: E,
    },
}

/// Where the Store server keeps relayed messages: whole messages in, pages out.
///
/// Synchronous and `&mut self` for writes, like the other kaiwa storage traits; the node calls
/// it from its own task.
pub trait MessageArchive: Send + 'static {
    /// Failures of the backend.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Stores `message`, received at `received_at` (Unix ns). Returns `false` if a message with
    /// the same hash is already stored (nothing changes then).
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn insert(&mut self, message: ReceivedMessage, received_at: i64) -> Result<bool, Self::Error>;

    /// Applies the age bound of the retention policy at time `now` (Unix ns); returns how many
    /// messages were dropped.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn prune(&mut self, now: i64) -> Result<usize, Self::Error>;

    /// One page of the messages matching `query`.
    ///
    /// # Errors
    ///
    /// [`ArchiveQueryError::UnknownCursor`] or a backend failure.
    fn query(&self, query: &StoreQuery) -> Result<StorePage, ArchiveQueryError<Self::Error>>;

    /// How many messages are stored.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn count(&self) -> Result<usize, Self::Error>;
}

/// Why a relayed message is not archived (nwaku `waku_archive` rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotArchived {
    /// `ephemeral = true`: "stores SHOULD NOT persist" (14/WAKU2-MESSAGE).
    Ephemeral,
    /// No timestamp: nwaku's archive rejects it as too old.
    NoTimestamp,
    /// Timestamp more than [`MAX_ARCHIVE_TIMESTAMP_DRIFT`] before `now`.
    TooOld,
    /// Timestamp more than [`MAX_ARCHIVE_TIMESTAMP_DRIFT`] after `now`.
    TooNew,
}

/// Whether the node archives `message` at time `now` (Unix ns); see the module documentation.
pub(crate) fn archivable(message: &ReceivedMessage, now: i64) -> Result<(), NotArchived> {
    if message.message.is_ephemeral() {
        return Err(NotArchived::Ephemeral);
    }
    let timestamp = message.message.timestamp().ok_or(NotArchived::NoTimestamp)?;
    let drift = i64::try_from(MAX_ARCHIVE_TIMESTAMP_DRIFT.as_nanos()).unwrap_or(i64::MAX);
    if timestamp < now.saturating_sub(drift) {
        return Err(NotArchived::TooOld);
    }
    if timestamp > now.saturating_add(drift) {
        return Err(NotArchived::TooNew);
    }
    Ok(())
}

/// A bounded in-memory [`MessageArchive`]: at most `retention.max_messages` messages (the
/// oldest evicted first), none older than `retention.max_age` after [`prune`](Self::prune).
#[derive(Debug)]
pub struct MemoryArchive {
    retention: Retention,
    by_time: BTreeMap<(i64, MessageHash), ReceivedMessage>,
    times: HashMap<MessageHash, i64>,
}

impl MemoryArchive {
    /// An empty archive with this retention.
    #[must_use]
    pub fn new(retention: Retention) -> Self {
        Self { retention, by_time: BTreeMap::new(), times: HashMap::new() }
    }

    fn key_of(&self, cursor: &Cursor) -> Option<(i64, MessageHash)> {
        self.times.get(cursor.hash()).map(|&time| (time, *cursor.hash()))
    }
}

impl MessageArchive for MemoryArchive {
    type Error = Infallible;

    fn insert(&mut self, message: ReceivedMessage, received_at: i64) -> Result<bool, Infallible> {
        if self.times.contains_key(&message.hash) || self.retention.max_messages == 0 {
            return Ok(false);
        }
        let time = message.message.timestamp().unwrap_or(received_at);
        while self.by_time.len() >= self.retention.max_messages {
            match self.by_time.pop_first() {
                Some(((_, hash), _)) => {
                    self.times.remove(&hash);
                }
                None => break,
            }
        }
        self.times.insert(message.hash, time);
        self.by_time.insert((time, message.hash), message);
        Ok(true)
    }

    fn prune(&mut self, now: i64) -> Result<usize, Infallible> {
        let max_age = i64::try_from(self.retention.max_age.as_nanos()).unwrap_or(i64::MAX);
        let oldest_kept = now.saturating_sub(max_age);
        let mut dropped = 0_usize;
        while let Some(entry) = self.by_time.first_entry() {
            if entry.key().0 >= oldest_kept {
                break;
            }
            let (_, hash) = *entry.key();
            entry.remove();
            self.times.remove(&hash);
            dropped = dropped.saturating_add(1);
        }
        Ok(dropped)
    }

    fn query(&self, query: &StoreQuery) -> Result<StorePage, ArchiveQueryError<Infallible>> {
        let cursor = match query.cursor() {
            Some(cursor) => Some(self.key_of(&cursor).ok_or(ArchiveQueryError::UnknownCursor)?),
            None => None,
        };
        let forward = query.direction() == Direction::Forward;
        // The window of keys strictly after the cursor in query direction.
        let (lower, upper) = match (cursor, forward) {
            (Some(key), true) => (Bound::Excluded(key), Bound::Unbounded),
            (Some(key), false) => (Bound::Unbounded, Bound::Excluded(key)),
            (None, _) => (Bound::Unbounded, Bound::Unbounded),
        };
        let wanted = query.page_size().saturating_add(1);
        let mut matches: Vec<&ReceivedMessage> = match query.criteria() {
            QueryCriteria::Content { filter, time_start, time_end, .. } => {
                // Narrow the window by the time range as well.
                let lower =
                    tighter_lower(lower, time_start.map(|t| (t, MessageHash::from_bytes([0; 32]))));
                let upper = tighter_upper(
                    upper,
                    time_end.map(|t| (t, MessageHash::from_bytes([0xff; 32]))),
                );
                if range_is_empty(&lower, &upper) {
                    Vec::new()
                } else {
                    let range = self.by_time.range((lower, upper)).map(|(_, message)| message);
                    let keep = |message: &&ReceivedMessage| {
                        filter.matches(&message.pubsub_topic, message.message.content_topic())
                    };
                    if forward {
                        range.filter(keep).take(wanted).collect()
                    } else {
                        range.rev().filter(keep).take(wanted).collect()
                    }
                }
            }
            QueryCriteria::Hashes { hashes, .. } => {
                let mut keys: Vec<(i64, MessageHash)> = hashes
                    .iter()
                    .filter_map(|hash| self.times.get(hash).map(|&time| (time, *hash)))
                    .filter(|key| in_window(key, &lower, &upper))
                    .collect();
                keys.sort_unstable();
                if !forward {
                    keys.reverse();
                }
                keys.iter().take(wanted).filter_map(|key| self.by_time.get(key)).collect()
            }
            _ => Vec::new(),
        };
        let next_cursor = if matches.len() > query.page_size() {
            matches.truncate(query.page_size());
            matches.last().map(|message| Cursor::from_hash(message.hash))
        } else {
            None
        };
        if !forward {
            matches.reverse();
        }
        Ok(StorePage::new(matches.into_iter().cloned().collect(), next_cursor))
    }

    fn count(&self) -> Result<usize, Infallible> {
        Ok(self.by_time.len())
    }
}

type Key = (i64, MessageHash);

fn tighter_lower(bound: Bound<Key>, start: Option<Key>) -> Bound<Key> {
    match (bound, start) {
        (bound, None) => bound,
        (Bound::Unbounded, Some(start)) => Bound::Included(start),
        (Bound::Excluded(key), Some(start)) if key >= start => Bound::Excluded(key),
        (Bound::Included(key), Some(start)) if key >= start => Bound::Included(key),
        (_, Some(start)) => Bound::Included(start),
    }
}

fn tighter_upper(bound: Bound<Key>, end: Option<Key>) -> Bound<Key> {
    match (bound, end) {
        (bound, None) => bound,
        (Bound::Unbounded, Some(end)) => Bound::Included(end),
        (Bound::Excluded(key), Some(end)) if key <= end => Bound::Excluded(key),
        (Bound::Included(key), Some(end)) if key <= end => Bound::Included(key),
        (_, Some(end)) => Bound::Included(end),
    }
}

/// `BTreeMap::range` panics on an inverted or empty-excluded range; this spots them first.
fn range_is_empty(lower: &Bound<Key>, upper: &Bound<Key>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u))
        | (Bound::Excluded(l), Bound::Excluded(u)) => l >= u,
        _ => false,
    }
}

fn in_window(key: &Key, lower: &Bound<Key>, upper: &Bound<Key>) -> bool {
    let above = match lower {
        Bound::Included(l) => key >= l,
        Bound::Excluded(l) => key > l,
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(u) => key <= u,
        Bound::Excluded(u) => key < u,
        Bound::Unbounded => true,
    };
    above && below
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kaiwa_transport::{ContentFilter, ContentTopic, PubsubTopic, WakuMessage};
    use proptest::prelude::*;

    use super::*;

    const SECOND: i64 = 1_000_000_000;

    fn pubsub(shard: u16) -> PubsubTopic {
        PubsubTopic::parse(&format!("/waku/2/rs/42/{shard}")).unwrap()
    }

    fn topic(name: &str) -> ContentTopic {
        ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()
    }

    fn message(name: &str, time: i64, shard: u16) -> ReceivedMessage {
        let message = WakuMessage::new(topic(name), time.to_be_bytes().to_vec())
            .unwrap()
            .with_timestamp(time)
            .unwrap();
        ReceivedMessage::new(pubsub(shard), message)
    }

    fn archive_of(messages: &[ReceivedMessage]) -> MemoryArchive {
        let mut archive = MemoryArchive::new(Retention::new(1000, Duration::from_secs(3600)));
        for message in messages {
            assert!(archive.insert(message.clone(), 0).unwrap());
        }
        archive
    }

    fn all_pages(archive: &MemoryArchive, first: StoreQuery) -> Vec<Vec<ReceivedMessage>> {
        let mut pages = Vec::new();
        let mut query = Some(first);
        while let Some(current) = query {
            let page = archive.query(&current).unwrap();
            assert!(page.messages.len() <= current.page_size());
            query = current.next_page(&page);
            pages.push(page.messages);
        }
        pages
    }

    fn times(messages: &[ReceivedMessage]) -> Vec<i64> {
        messages.iter().map(|m| m.message.timestamp().unwrap()).collect()
    }

    #[test]
    fn forward_and_backward_pages_cover_everything_once_in_order() {
        let messages: Vec<_> = (1..=7).map(|i| message("a", i * SECOND, 0)).collect();
        let archive = archive_of(&messages);
        let query = StoreQuery::content(ContentFilter::new(pubsub(0), [topic("a")]).unwrap())
            .unwrap()
            .with_page_size(3)
            .unwrap();
        let forward = all_pages(&archive, query.clone());
        assert_eq!(
            forward.iter().map(|p| times(p)).collect::<Vec<_>>(),
            vec![
                vec![SECOND, 2 * SECOND, 3 * SECOND],
                vec![4 * SECOND, 5 * SECOND, 6 * SECOND],
                vec![7 * SECOND],
            ]
        );
        let backward = all_pages(&archive, query.with_direction(Direction::Backward));
        // Newest page first, each page oldest first (nwaku: "MUST be chronological").
        assert_eq!(
            backward.iter().map(|p| times(p)).collect::<Vec<_>>(),
            vec![
                vec![5 * SECOND, 6 * SECOND, 7 * SECOND],
                vec![2 * SECOND, 3 * SECOND, 4 * SECOND],
                vec![SECOND],
            ]
        );
    }

    #[test]
    fn an_exact_last_page_has_no_cursor() {
        let messages: Vec<_> = (1..=4).map(|i| message("a", i, 0)).collect();
        let archive = archive_of(&messages);
        let query = StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub(0)))
            .unwrap()
            .with_page_size(2)
            .unwrap();
        let pages = all_pages(&archive, query);
        assert_eq!(pages.len(), 2);
    }

    #[test]
    fn filters_by_topic_time_and_hash() {
        let messages = vec![
            message("a", 10, 0),
            message("b", 20, 0),
            message("a", 30, 1),
            message("a", 40, 0),
            message("a", 50, 0),
        ];
        let archive = archive_of(&messages);
        let filter = ContentFilter::new(pubsub(0), [topic("a")]).unwrap();
        let query =
            StoreQuery::content(filter).unwrap().with_time_range(Some(10), Some(40)).unwrap();
        assert_eq!(times(&archive.query(&query).unwrap().messages), vec![10, 40]);
        let whole = StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub(1))).unwrap();
        assert_eq!(times(&archive.query(&whole).unwrap().messages), vec![30]);
        let by_hash = StoreQuery::hashes([
            messages[4].hash,
            messages[1].hash,
            MessageHash::from_bytes([3; 32]),
        ])
        .unwrap();
        assert_eq!(times(&archive.query(&by_hash).unwrap().messages), vec![20, 50]);
        let inverted_by_cursor = StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub(0)))
            .unwrap()
            .with_time_range(None, Some(15))
            .unwrap()
            .with_cursor(Cursor::from_hash(messages[3].hash));
        assert!(archive.query(&inverted_by_cursor).unwrap().messages.is_empty());
    }

    #[test]
    fn unknown_cursor_is_an_error_and_changes_nothing() {
        let archive = archive_of(&[message("a", 1, 0)]);
        let query = StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub(0)))
            .unwrap()
            .with_cursor(Cursor::from_hash(MessageHash::from_bytes([1; 32])));
        assert_eq!(archive.query(&query), Err(ArchiveQueryError::UnknownCursor));
        assert_eq!(archive.count(), Ok(1));
    }

    #[test]
    fn retention_evicts_the_oldest_by_count_and_by_age() {
        let mut archive = MemoryArchive::new(Retention::new(3, Duration::from_secs(10)));
        for i in [5, 1, 4, 2, 3] {
            archive.insert(message("a", i * SECOND, 0), 0).unwrap();
        }
        let all = StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub(0))).unwrap();
        // Inserted out of order: each insert over the bound evicts the oldest present.
        assert_eq!(
            times(&archive.query(&all).unwrap().messages),
            vec![3 * SECOND, 4 * SECOND, 5 * SECOND]
        );
        assert_eq!(archive.prune(14 * SECOND), Ok(1));
        assert_eq!(times(&archive.query(&all).unwrap().messages), vec![4 * SECOND, 5 * SECOND]);
        assert_eq!(archive.prune(100 * SECOND), Ok(2));
        assert_eq!(archive.count(), Ok(0));
    }

    #[test]
    fn insert_is_idempotent() {
        let mut archive = archive_of(&[message("a", 1, 0)]);
        assert_eq!(archive.insert(message("a", 1, 0), 0), Ok(false));
        assert_eq!(archive.count(), Ok(1));
    }

    #[test]
    fn archive_rules_follow_nwaku() {
        let now = 1_000 * SECOND;
        assert_eq!(archivable(&message("a", now, 0), now), Ok(()));
        assert_eq!(archivable(&message("a", now - 20 * SECOND, 0), now), Ok(()));
        assert_eq!(
            archivable(&message("a", now - 20 * SECOND - 1, 0), now),
            Err(NotArchived::TooOld)
        );
        assert_eq!(
            archivable(&message("a", now + 20 * SECOND + 1, 0), now),
            Err(NotArchived::TooNew)
        );
        let untimed =
            ReceivedMessage::new(pubsub(0), WakuMessage::new(topic("a"), vec![]).unwrap());
        assert_eq!(archivable(&untimed, now), Err(NotArchived::NoTimestamp));
        let ephemeral = ReceivedMessage::new(
            pubsub(0),
            WakuMessage::new(topic("a"), vec![])
                .unwrap()
                .with_timestamp(now)
                .unwrap()
                .with_ephemeral(true)
                .unwrap(),
        );
        assert_eq!(archivable(&ephemeral, now), Err(NotArchived::Ephemeral));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Paging in either direction, with any page size, returns every match exactly once, in
        /// store order.
        #[test]
        fn pagination_returns_every_match_once(
            entries in prop::collection::vec((0_i64..50, 0_u8..3, 0_u16..2), 0..60),
            page_size in 1_usize..12,
            backward in any::<bool>(),
        ) {
            let mut archive = MemoryArchive::new(Retention::new(1000, Duration::from_secs(1)));
            for (i, (time, name, shard)) in entries.iter().enumerate() {
                let message = WakuMessage::new(topic(&format!("t{name}")), i.to_be_bytes().to_vec())
                    .unwrap()
                    .with_timestamp(*time)
                    .unwrap();
                archive.insert(ReceivedMessage::new(pubsub(*shard), message), 0).unwrap();
            }
            let filter = ContentFilter::new(pubsub(0), [topic("t0"), topic("t1")]).unwrap();
            let direction = if backward { Direction::Backward } else { Direction::Forward };
            let query = StoreQuery::content(filter.clone()).unwrap()
                .with_page_size(page_size).unwrap()
                .with_direction(direction);
            let mut pages = all_pages(&archive, query);
            if backward {
                pages.reverse();
            }
            let got: Vec<_> = pages.into_iter().flatten().map(|m| (m.message.timestamp().unwrap(), m.hash)).collect();
            let mut expected: Vec<_> = archive.by_time.values()
                .filter(|m| filter.matches(&m.pubsub_topic, m.message.content_topic()))
                .map(|m| (m.message.timestamp().unwrap(), m.hash))
                .collect();
            expected.sort();
            prop_assert_eq!(got, expected);
        }
    }
}
