//! Conversions between the domain query types and 13/WAKU2-STORE v3 messages
//! (`/vac/waku/store-query/3.0.0`), for a libp2p node acting as store client or server.
//!
//! ```text
//! StoreQueryRequest  { request_id=1, include_data=2, pubsub_topic=10, content_topics=11,
//!                      time_start=12 (sint64), time_end=13, message_hashes=20,
//!                      pagination_cursor=51, pagination_forward=52, pagination_limit=53 }
//! StoreQueryResponse { request_id=1, status_code=10, status_desc=11,
//!                      messages=20 { message_hash=1, message=2, pubsub_topic=3 },
//!                      pagination_cursor=51 }
//! ```
//!
//! Client side: `From<&StoreQuery>` builds the request (the caller sets `request_id`; kaiwa
//! always asks for data). `TryFrom<StoreQueryResponse>` accepts a page only if (waku-transport.md
//! §4; nwaku `waku_archive`):
//! - `status_code` is 200;
//! - it holds at most [`MAX_PAGE_SIZE`] messages, each with a 32-byte hash, a valid pubsub topic
//!   and a valid message ([`WakuMessage`] rules);
//! - every hash equals the deterministic hash recomputed from the message and its pubsub topic
//!   (a store cannot make us file a message under another key);
//! - the cursor, if any, is 32 bytes.
//!
//! Server side: `TryFrom<StoreQueryRequest>` reads a peer's request with nwaku's rules: content
//! criteria and hashes are exclusive, at most [`MAX_QUERY_CONTENT_TOPICS`] topics and
//! [`MAX_QUERY_HASHES`] hashes, 32-byte hashes and cursor, `time_start ≤ time_end`; a missing or
//! zero limit means [`DEFAULT_PAGE_SIZE`] and a larger one is clamped to [`MAX_PAGE_SIZE`]
//! (nwaku `findMessages`). kaiwa's domain query always carries data, so `include_data = false`
//! is refused, as is a content query without a pubsub topic. `From<&StorePage>` builds the
//! 200 response.

use kaiwa_wire::waku::store as wire;

use crate::content_topic::{ContentTopic, ContentTopicError};
use crate::hash::MessageHash;
use crate::limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_CONTENT_TOPICS, MAX_QUERY_HASHES};
use crate::message::{InvalidMessage, WakuMessage};
use crate::pubsub_topic::{PubsubTopic, PubsubTopicError};
use crate::query::{Cursor, Direction, QueryCriteria, QueryError, StorePage, StoreQuery};
use crate::subscription::{ContentFilter, FilterError, ReceivedMessage};

/// HTTP-like success code of Store v3.
const STATUS_OK: u32 = 200;

/// Why a store response is not an acceptable page. Never carries the peer's strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreResponseError {
    /// The status code is absent or not 200 (400 bad request, 429 rate limited, 503, ...).
    #[error("store answered with status {code:?}")]
    Status {
        /// The code received.
        code: Option<u32>,
    },
    /// More messages than [`MAX_PAGE_SIZE`].
    #[error("{actual} messages in one page, more than {max}")]
    TooManyMessages {
        /// The bound.
        max: usize,
        /// Messages received.
        actual: usize,
    },
    /// A required field is absent.
    #[error("field `{field}` is missing")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A hash or cursor is not 32 bytes.
    #[error("`{field}` is {actual} bytes long, not 32")]
    HashLength {
        /// The field.
        field: &'static str,
        /// Its length.
        actual: usize,
    },
    /// A pubsub topic is not valid.
    #[error("invalid pubsub topic")]
    PubsubTopic {
        /// The rule it breaks.
        #[from]
        source: PubsubTopicError,
    },
    /// A message is not valid.
    #[error("invalid message")]
    Message {
        /// The rule it breaks.
        #[from]
        source: InvalidMessage,
    },
    /// A message's hash is not the one recomputed from it.
    #[error("message hash does not match the message")]
    HashMismatch,
}

/// Why a peer's store request cannot be served. Never carries the peer's strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreRequestError {
    /// `include_data = false`: hash-only answers are not supported.
    #[error("hash-only queries are not supported")]
    HashesOnly,
    /// Both hashes and content criteria were given.
    #[error("message hashes and content criteria are exclusive")]
    MixedCriteria,
    /// A content query without a pubsub topic.
    #[error("field `{field}` is missing")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A hash or the cursor is not 32 bytes.
    #[error("`{field}` is {actual} bytes long, not 32")]
    HashLength {
        /// The field.
        field: &'static str,
        /// Its length.
        actual: usize,
    },
    /// The pubsub topic is not valid.
    #[error("invalid pubsub topic")]
    PubsubTopic {
        /// The rule it breaks.
        #[from]
        source: PubsubTopicError,
    },
    /// A content topic is not valid.
    #[error("invalid content topic")]
    ContentTopic {
        /// The rule it breaks.
        #[from]
        source: ContentTopicError,
    },
    /// The content topics break a filter rule.
    #[error("invalid content filter")]
    Filter {
        /// The rule broken.
        #[from]
        source: FilterError,
    },
    /// The query breaks a query rule (too many topics or hashes, empty time range).
    #[error("invalid query")]
    Query {
        /// The rule broken.
        #[from]
        source: QueryError,
    },
}

fn hash_of(field: &'static str, bytes: &[u8]) -> Result<MessageHash, (&'static str, usize)> {
    <[u8; 32]>::try_from(bytes).map(MessageHash::from_bytes).map_err(|_| (field, bytes.len()))
}

impl From<&StoreQuery> for wire::StoreQueryRequest {
    fn from(query: &StoreQuery) -> Self {
        let mut request = Self {
            include_data: true,
            pagination_cursor: query.cursor().map(|c| c.hash().as_bytes().to_vec()),
            pagination_forward: query.direction() == Direction::Forward,
            pagination_limit: u64::try_from(query.page_size()).ok(),
            ..Self::default()
        };
        match query.criteria() {
            QueryCriteria::Content { filter, time_start, time_end, .. } => {
                request.pubsub_topic = Some(filter.pubsub_topic().as_str().to_owned());
                request.content_topics = filter
                    .content_topics()
                    .into_iter()
                    .flatten()
                    .map(|t| t.as_str().to_owned())
                    .collect();
                request.time_start = *time_start;
                request.time_end = *time_end;
            }
            QueryCriteria::Hashes { hashes, .. } => {
                request.message_hashes = hashes.iter().map(|h| h.as_bytes().to_vec()).collect();
            }
        }
        request
    }
}

impl TryFrom<wire::StoreQueryRequest> for StoreQuery {
    type Error = StoreRequestError;

    fn try_from(request: wire::StoreQueryRequest) -> Result<Self, Self::Error> {
        if !request.include_data {
            return Err(StoreRequestError::HashesOnly);
        }
        let length = |(field, actual)| StoreRequestError::HashLength { field, actual };
        let query = if request.message_hashes.is_empty() {
            let pubsub_topic = request
                .pubsub_topic
                .as_deref()
                .ok_or(StoreRequestError::Missing { field: "pubsub_topic" })?;
            let pubsub_topic = PubsubTopic::parse(pubsub_topic)?;
            if request.content_topics.len() > MAX_QUERY_CONTENT_TOPICS {
                return Err(QueryError::TooManyContentTopics {
                    max: MAX_QUERY_CONTENT_TOPICS,
                    actual: request.content_topics.len(),
                }
                .into());
            }
            let filter = if request.content_topics.is_empty() {
                ContentFilter::whole_pubsub_topic(pubsub_topic)
            } else {
                let topics = request
                    .content_topics
                    .iter()
                    .map(|t| ContentTopic::parse(t))
                    .collect::<Result<Vec<_>, _>>()?;
                ContentFilter::new(pubsub_topic, topics)?
            };
            StoreQuery::content(filter)?.with_time_range(request.time_start, request.time_end)?
        } else {
            let content = request.pubsub_topic.is_some()
                || !request.content_topics.is_empty()
                || request.time_start.is_some()
                || request.time_end.is_some();
            if content {
                return Err(StoreRequestError::MixedCriteria);
            }
            if request.message_hashes.len() > MAX_QUERY_HASHES {
                return Err(QueryError::TooManyHashes {
                    max: MAX_QUERY_HASHES,
                    actual: request.message_hashes.len(),
                }
                .into());
            }
            let hashes = request
                .message_hashes
                .iter()
                .map(|h| hash_of("message_hashes", h))
                .collect::<Result<Vec<_>, _>>()
                .map_err(length)?;
            StoreQuery::hashes(hashes)?
        };
        let page_size = match request.pagination_limit {
            None | Some(0) => DEFAULT_PAGE_SIZE,
            Some(limit) => usize::try_from(limit).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
        };
        let direction =
            if request.pagination_forward { Direction::Forward } else { Direction::Backward };
        let mut query = query.with_page_size(page_size)?.with_direction(direction);
        if let Some(cursor) = &request.pagination_cursor {
            let hash = hash_of("pagination_cursor", cursor).map_err(length)?;
            query = query.with_cursor(Cursor::from_hash(hash));
        }
        Ok(query)
    }
}

impl TryFrom<wire::StoreQueryResponse> for StorePage {
    type Error = StoreResponseError;

    fn try_from(response: wire::StoreQueryResponse) -> Result<Self, Self::Error> {
        if response.status_code != Some(STATUS_OK) {
            return Err(StoreResponseError::Status { code: response.status_code });
        }
        if response.messages.len() > MAX_PAGE_SIZE {
            return Err(StoreResponseError::TooManyMessages {
                max: MAX_PAGE_SIZE,
                actual: response.messages.len(),
            });
        }
        let length = |(field, actual)| StoreResponseError::HashLength { field, actual };
        let next_cursor = response
            .pagination_cursor
            .as_deref()
            .map(|c| hash_of("pagination_cursor", c).map(Cursor::from_hash))
            .transpose()
            .map_err(length)?;
        let messages = response
            .messages
            .into_iter()
            .map(|entry| {
                let claimed = entry
                    .message_hash
                    .as_deref()
                    .ok_or(StoreResponseError::Missing { field: "message_hash" })
                    .and_then(|h| hash_of("message_hash", h).map_err(length))?;
                let pubsub_topic = entry
                    .pubsub_topic
                    .as_deref()
                    .ok_or(StoreResponseError::Missing { field: "pubsub_topic" })?;
                let pubsub_topic = PubsubTopic::parse(pubsub_topic)?;
                let message =
                    entry.message.ok_or(StoreResponseError::Missing { field: "message" })?;
                let received = ReceivedMessage::new(pubsub_topic, WakuMessage::try_from(message)?);
                if received.hash != claimed {
                    return Err(StoreResponseError::HashMismatch);
                }
                Ok(received)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(messages, next_cursor))
    }
}

impl From<&StorePage> for wire::StoreQueryResponse {
    fn from(page: &StorePage) -> Self {
        Self {
            status_code: Some(STATUS_OK),
            messages: page
                .messages
                .iter()
                .map(|m| wire::WakuMessageKeyValue {
                    message_hash: Some(m.hash.as_bytes().to_vec()),
                    message: Some((&m.message).into()),
                    pubsub_topic: Some(m.pubsub_topic.as_str().to_owned()),
                })
                .collect(),
            pagination_cursor: page.next_cursor.map(|c| c.hash().as_bytes().to_vec()),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_wire::prost::Message as _;
    use proptest::prelude::*;

    use super::*;

    fn pubsub() -> PubsubTopic {
        PubsubTopic::parse("/waku/2/rs/16/64").unwrap()
    }

    fn received(i: u8) -> ReceivedMessage {
        let topic = ContentTopic::parse("/kaiwa/1/s/proto").unwrap();
        let message = WakuMessage::new(topic, vec![i]).and_then(|m| m.with_timestamp(i.into()));
        ReceivedMessage::new(pubsub(), message.unwrap())
    }

    fn response(n: u8) -> wire::StoreQueryResponse {
        let page = StorePage::new(
            (0..n).map(received).collect(),
            Some(Cursor::from_hash(MessageHash::from_bytes([3; 32]))),
        );
        wire::StoreQueryResponse::from(&page)
    }

    #[test]
    fn queries_round_trip_through_requests() {
        let topics =
            ["/kaiwa/1/a/proto", "/kaiwa/1/b/proto"].map(|t| ContentTopic::parse(t).unwrap());
        let content = StoreQuery::content(ContentFilter::new(pubsub(), topics).unwrap())
            .and_then(|q| q.with_time_range(Some(-5), Some(9)))
            .and_then(|q| q.with_page_size(7))
            .unwrap()
            .with_direction(Direction::Backward)
            .with_cursor(Cursor::from_hash(MessageHash::from_bytes([1; 32])));
        let by_hash = StoreQuery::hashes([MessageHash::from_bytes([2; 32])]).unwrap();
        let whole = StoreQuery::content(ContentFilter::whole_pubsub_topic(pubsub())).unwrap();
        for query in [content, by_hash, whole] {
            let request = wire::StoreQueryRequest::from(&query);
            assert!(request.include_data);
            let decoded =
                wire::StoreQueryRequest::decode(request.encode_to_vec().as_slice()).unwrap();
            assert_eq!(StoreQuery::try_from(decoded), Ok(query));
        }
    }

    #[test]
    fn requests_follow_nwaku_rules() {
        let base = wire::StoreQueryRequest {
            include_data: true,
            pubsub_topic: Some(pubsub().to_string()),
            ..Default::default()
        };
        let limit = |limit| {
            StoreQuery::try_from(wire::StoreQueryRequest {
                pagination_limit: limit,
                ..base.clone()
            })
            .map(|q| q.page_size())
        };
        assert_eq!(limit(None), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(limit(Some(0)), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(limit(Some(u64::MAX)), Ok(MAX_PAGE_SIZE));
        let reject = |request: wire::StoreQueryRequest| StoreQuery::try_from(request).unwrap_err();
        assert_eq!(
            reject(wire::StoreQueryRequest { include_data: false, ..base.clone() }),
            StoreRequestError::HashesOnly
        );
        assert_eq!(
            reject(wire::StoreQueryRequest { message_hashes: vec![vec![0; 32]], ..base.clone() }),
            StoreRequestError::MixedCriteria
        );
        assert_eq!(
            reject(wire::StoreQueryRequest { pubsub_topic: None, ..base.clone() }),
            StoreRequestError::Missing { field: "pubsub_topic" }
        );
        assert_eq!(
            reject(wire::StoreQueryRequest {
                pagination_cursor: Some(vec![0; 31]),
                ..base.clone()
            }),
            StoreRequestError::HashLength { field: "pagination_cursor", actual: 31 }
        );
        assert_eq!(
            reject(wire::StoreQueryRequest {
                content_topics: vec!["/a/1/b/c".into(); 11],
                ..base.clone()
            }),
            StoreRequestError::Query {
                source: QueryError::TooManyContentTopics { max: 10, actual: 11 }
            }
        );
        assert_eq!(
            reject(wire::StoreQueryRequest { time_start: Some(2), time_end: Some(1), ..base }),
            StoreRequestError::Query { source: QueryError::EmptyTimeRange }
        );
    }

    #[test]
    fn pages_round_trip_through_responses() {
        let wire = response(3);
        let page = StorePage::try_from(wire.clone()).unwrap();
        assert_eq!(page.messages, (0..3).map(received).collect::<Vec<_>>());
        assert_eq!(wire::StoreQueryResponse::from(&page), wire);
    }

    #[test]
    fn responses_are_checked_before_use() {
        let reject =
            |response: wire::StoreQueryResponse| StorePage::try_from(response).unwrap_err();
        assert_eq!(
            reject(wire::StoreQueryResponse { status_code: Some(429), ..response(1) }),
            StoreResponseError::Status { code: Some(429) }
        );
        assert_eq!(
            reject(wire::StoreQueryResponse { status_code: None, ..response(1) }),
            StoreResponseError::Status { code: None }
        );
        let mut forged = response(2);
        forged.messages[0].message_hash = forged.messages[1].message_hash.clone();
        assert_eq!(reject(forged), StoreResponseError::HashMismatch);
        let mut retopiced = response(1);
        retopiced.messages[0].pubsub_topic = Some("/waku/2/rs/16/65".into());
        assert_eq!(reject(retopiced), StoreResponseError::HashMismatch);
        let mut short = response(1);
        short.messages[0].message_hash = Some(vec![0; 4]);
        assert_eq!(
            reject(short),
            StoreResponseError::HashLength { field: "message_hash", actual: 4 }
        );
        let mut missing = response(1);
        missing.messages[0].message = None;
        assert_eq!(reject(missing), StoreResponseError::Missing { field: "message" });
        let too_many = wire::StoreQueryResponse {
            messages: vec![wire::WakuMessageKeyValue::default(); MAX_PAGE_SIZE + 1],
            ..response(0)
        };
        assert_eq!(
            reject(too_many),
            StoreResponseError::TooManyMessages { max: MAX_PAGE_SIZE, actual: MAX_PAGE_SIZE + 1 }
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_response_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(response) = wire::StoreQueryResponse::decode(bytes.as_slice()) {
                let _ = StorePage::try_from(response);
            }
        }

        #[test]
        fn arbitrary_request_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(request) = wire::StoreQueryRequest::decode(bytes.as_slice()) {
                let _ = StoreQuery::try_from(request);
            }
        }
    }
}
