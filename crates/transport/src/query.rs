//! History queries, shaped after 13/WAKU2-STORE v3 (`/vac/waku/store-query/3.0.0`).
//!
//! ```text
//! StoreQuery = criteria:  Content { pubsub topic, ≤ 10 content topics or all,
//!                                   time_start ≤ time_end (Unix ns, both inclusive, optional) }
//!                       | Hashes  { 1..=100 message hashes }
//!              direction: Forward (older → newer) | Backward (newer → older)
//!              page size: 1..=100 (default 20)
//!              cursor:    the hash of the last message of the previous page, exclusive
//!
//! store order: (timestamp, message hash) ascending
//! a page:      the next `page size` matches after the cursor in `direction`, always returned in
//!              chronological order; next_cursor is Some while more matches may follow
//! ```
//!
//! Bounds and semantics follow nwaku's `waku_archive` (`MaxContentTopicsPerQuery` = 10,
//! `MaxPageSize` = 100, `DefaultPageSize` = 20, cursor = last message included, "Messages MUST
//! be returned in chronological order"); the field layout is waku-transport.md §4. Invalid
//! queries cannot be built, so a transport never sends one a store would answer with 400.

use std::collections::BTreeSet;

use crate::hash::MessageHash;
use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_CONTENT_TOPICS, MAX_QUERY_HASHES};
use crate::subscription::{ContentFilter, ReceivedMessage};

/// Why a store query cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// More content topics than [`MAX_QUERY_CONTENT_TOPICS`].
    #[error("{actual} content topics, more than the {max} a store query may name")]
    TooManyContentTopics {
        /// The bound.
        max: usize,
        /// Content topics in the filter.
        actual: usize,
    },
    /// No message hash was given.
    #[error("a hash query needs at least one message hash")]
    NoHashes,
    /// More distinct hashes than [`MAX_QUERY_HASHES`].
    #[error("{actual} message hashes, more than {max}")]
    TooManyHashes {
        /// The bound.
        max: usize,
        /// Distinct hashes counted when the bound was passed (the input may hold more).
        actual: usize,
    },
    /// The time range ends before it starts.
    #[error("time range ends before it starts")]
    EmptyTimeRange,
    /// A time range was given for a hash query; Store v3 keeps the two exclusive.
    #[error("a hash query takes no time range")]
    TimeRangeOnHashQuery,
    /// A page size of 0 or more than [`MAX_PAGE_SIZE`].
    #[error("page size {actual} is not in 1..={max}")]
    PageSize {
        /// The bound.
        max: usize,
        /// The size asked for.
        actual: usize,
    },
}

/// Which way a query walks the store order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Oldest first, towards newer messages.
    #[default]
    Forward,
    /// Newest first, towards older messages.
    Backward,
}

/// Where the previous page ended: the hash of its last message in query direction
/// (Store v3 `pagination_cursor`). Applications treat it as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor(MessageHash);

impl Cursor {
    /// The cursor at `hash` (a transport builds it from the received `pagination_cursor`).
    pub const fn from_hash(hash: MessageHash) -> Self {
        Self(hash)
    }

    /// The message hash it names.
    pub const fn hash(&self) -> &MessageHash {
        &self.0
    }
}

/// What a query selects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryCriteria {
    /// Messages passing `filter` with a timestamp in `[time_start, time_end]`.
    #[non_exhaustive]
    Content {
        /// Pubsub topic and content topics.
        filter: ContentFilter,
        /// Inclusive lower bound, Unix ns.
        time_start: Option<i64>,
        /// Inclusive upper bound, Unix ns.
        time_end: Option<i64>,
    },
    /// The messages with these hashes, on any pubsub topic.
    #[non_exhaustive]
    Hashes {
        /// Distinct hashes, sorted.
        hashes: BTreeSet<MessageHash>,
    },
}

/// A validated store query; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreQuery {
    criteria: QueryCriteria,
    direction: Direction,
    page_size: usize,
    cursor: Option<Cursor>,
}

impl StoreQuery {
    /// Messages passing `filter`, forward, [`DEFAULT_PAGE_SIZE`] per page, from the start.
    ///
    /// # Errors
    ///
    /// [`QueryError::TooManyContentTopics`] if the filter names more than
    /// [`MAX_QUERY_CONTENT_TOPICS`] topics.
    pub fn content(filter: ContentFilter) -> Result<Self, QueryError> {
        let actual = filter.content_topics().map_or(0, BTreeSet::len);
        if actual > MAX_QUERY_CONTENT_TOPICS {
            return Err(QueryError::TooManyContentTopics { max: MAX_QUERY_CONTENT_TOPICS, actual });
        }
        Ok(Self::with_criteria(QueryCriteria::Content { filter, time_start: None, time_end: None }))
    }

    /// The messages with these hashes.
    ///
    /// # Errors
    ///
    /// [`QueryError::NoHashes`] or [`QueryError::TooManyHashes`].
    pub fn hashes(hashes: impl IntoIterator<Item = MessageHash>) -> Result<Self, QueryError> {
        let mut set = BTreeSet::new();
        for hash in hashes {
            set.insert(hash);
            if set.len() > MAX_QUERY_HASHES {
                return Err(QueryError::TooManyHashes { max: MAX_QUERY_HASHES, actual: set.len() });
            }
        }
        if set.is_empty() {
            return Err(QueryError::NoHashes);
        }
        Ok(Self::with_criteria(QueryCriteria::Hashes { hashes: set }))
    }

    fn with_criteria(criteria: QueryCriteria) -> Self {
        Self { criteria, direction: Direction::Forward, page_size: DEFAULT_PAGE_SIZE, cursor: None }
    }

    /// Restricts a content query to timestamps in `[start, end]` (Unix ns, inclusive; `None`
    /// leaves that side open).
    ///
    /// # Errors
    ///
    /// [`QueryError::EmptyTimeRange`] if `start > end`, [`QueryError::TimeRangeOnHashQuery`]
    /// for a hash query.
    pub fn with_time_range(
        mut self,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Self, QueryError> {
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            return Err(QueryError::EmptyTimeRange);
        }
        match &mut self.criteria {
            QueryCriteria::Content { time_start, time_end, .. } => {
                *time_start = start;
                *time_end = end;
                Ok(self)
            }
            QueryCriteria::Hashes { .. } => Err(QueryError::TimeRangeOnHashQuery),
        }
    }

    /// Sets the direction.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Sets the page size.
    ///
    /// # Errors
    ///
    /// [`QueryError::PageSize`] unless `1 <= size <= MAX_PAGE_SIZE`.
    pub fn with_page_size(mut self, size: usize) -> Result<Self, QueryError> {
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(QueryError::PageSize { max: MAX_PAGE_SIZE, actual: size });
        }
        self.page_size = size;
        Ok(self)
    }

    /// Continues after `cursor`.
    pub fn with_cursor(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// The query for the page after `page`, or `None` if `page` was the last.
    pub fn next_page(&self, page: &StorePage) -> Option<Self> {
        page.next_cursor.map(|cursor| self.clone().with_cursor(cursor))
    }

    /// What the query selects.
    pub fn criteria(&self) -> &QueryCriteria {
        &self.criteria
    }

    /// The direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The page size, `1..=MAX_PAGE_SIZE`.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Where to continue, if this is not the first page.
    pub fn cursor(&self) -> Option<Cursor> {
        self.cursor
    }
}

/// One page of query results.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StorePage {
    /// At most the query's page size, in chronological order whatever the direction.
    pub messages: Vec<ReceivedMessage>,
    /// Where the next page starts; `None` when no more messages match.
    pub next_cursor: Option<Cursor>,
}

impl StorePage {
    /// A page; transports build their results with this.
    pub fn new(messages: Vec<ReceivedMessage>, next_cursor: Option<Cursor>) -> Self {
        Self { messages, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ContentTopic, PubsubTopic};

    fn filter(topics: usize) -> ContentFilter {
        let pubsub = PubsubTopic::parse("/waku/2/rs/1/0").unwrap();
        let topics =
            (0..topics).map(|i| ContentTopic::parse(&format!("/kaiwa/1/t{i}/proto")).unwrap());
        ContentFilter::new(pubsub, topics).unwrap()
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(StoreQuery::content(filter(10)).is_ok());
        assert_eq!(
            StoreQuery::content(filter(11)),
            Err(QueryError::TooManyContentTopics { max: 10, actual: 11 })
        );
        assert_eq!(StoreQuery::hashes([]), Err(QueryError::NoHashes));
        let hashes = (0..=100u8).map(|i| MessageHash::from_bytes([i; 32]));
        assert_eq!(
            StoreQuery::hashes(hashes),
            Err(QueryError::TooManyHashes { max: 100, actual: 101 })
        );
        let query = StoreQuery::content(filter(1)).unwrap();
        assert_eq!(query.page_size(), DEFAULT_PAGE_SIZE);
        assert_eq!(
            query.clone().with_page_size(0),
            Err(QueryError::PageSize { max: 100, actual: 0 })
        );
        assert_eq!(
            query.clone().with_page_size(101),
            Err(QueryError::PageSize { max: 100, actual: 101 })
        );
        assert_eq!(query.clone().with_page_size(100).map(|q| q.page_size()), Ok(100));
    }

    #[test]
    fn time_ranges_are_checked() {
        let query = StoreQuery::content(filter(1)).unwrap();
        assert_eq!(
            query.clone().with_time_range(Some(2), Some(1)),
            Err(QueryError::EmptyTimeRange)
        );
        let ranged = query.with_time_range(Some(1), Some(1)).unwrap();
        assert!(matches!(
            ranged.criteria(),
            QueryCriteria::Content { time_start: Some(1), time_end: Some(1), .. }
        ));
        let by_hash = StoreQuery::hashes([MessageHash::from_bytes([0; 32])]).unwrap();
        assert_eq!(by_hash.with_time_range(None, Some(1)), Err(QueryError::TimeRangeOnHashQuery));
    }

    #[test]
    fn next_page_follows_the_cursor() {
        let query = StoreQuery::content(filter(1)).unwrap();
        let cursor = Cursor::from_hash(MessageHash::from_bytes([9; 32]));
        let next = query.next_page(&StorePage::new(Vec::new(), Some(cursor))).unwrap();
        assert_eq!(next.cursor(), Some(cursor));
        assert_eq!(query.next_page(&StorePage::new(Vec::new(), None)), None);
    }
}
