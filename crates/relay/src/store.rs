//! Waku Store v3, `/vac/waku/store-query/3.0.0` (13/WAKU2-STORE; field layout in
//! waku-transport.md §4): the request and response codecs of the client and the server.
//!
//! One length-prefixed frame each way ([`crate::framing`]):
//!
//! ```text
//! StoreQueryRequest  { request_id = 1, include_data = 2, pubsub_topic = 10, content_topics = 11,
//!                      time_start = 12 (sint64 ns), time_end = 13, message_hashes = 20,
//!                      pagination_cursor = 51, pagination_forward = 52, pagination_limit = 53 }
//! StoreQueryResponse { request_id = 1, status_code = 10, status_desc = 11,
//!                      messages = 20 [{ message_hash = 1, message = 2, pubsub_topic = 3 }],
//!                      pagination_cursor = 51 }
//! ```
//!
//! Server rules (a request breaking one is answered `400`, never dropped silently):
//! - the request id is at most [`MAX_REQUEST_ID_LEN`] bytes;
//! - a lookup by hash names 1..=[`MAX_HASHES_PER_QUERY`] hashes of 32 bytes and no content
//!   filter or time range (Store v3: the two are exclusive);
//! - a content query names a valid pubsub topic (kaiwa requires it; js-waku always sends it) and
//!   at most [`MAX_CONTENT_TOPICS_PER_QUERY`] valid content topics (none = all), with
//!   `time_start ≤ time_end`;
//! - a cursor is 32 bytes, not all zero, and names an archived message (nwaku `findMessages`);
//! - a page limit of 0 or absent means [`DEFAULT_PAGE_SIZE`], more than [`MAX_PAGE_SIZE`] is
//!   clamped to it (nwaku).
//!
//! `pagination_forward` is a plain proto3 `bool`: absent means **backward**, as in nwaku; the
//! client always writes it.
//!
//! Client rules: the answer must echo our request id and carry status 200; it holds at most
//! the page size asked for; every entry has a 32-byte hash, a valid pubsub topic and a valid
//! message whose recomputed deterministic hash equals the hash given and which matches the
//! query (filter and time range, or one of the hashes asked for); entries are in store order
//! `(timestamp, hash)`; a cursor is 32 bytes. Anything else is
//! [`StoreQueryError::InvalidResponse`]: a store cannot slip in messages we did not ask for or
//! claim one message under another's hash.

use kaiwa_transport::{
    ContentFilter, ContentTopic, Cursor, Direction, MessageHash, PubsubTopic, QueryCriteria,
    ReceivedMessage, StorePage, StoreQuery, WakuMessage,
};
use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::message as wire_message;
use kaiwa_wire::waku::store::{StoreQueryRequest, StoreQueryResponse, WakuMessageKeyValue};

use crate::archive::{ArchiveQueryError, MessageArchive};
use crate::error::StoreQueryError;
use crate::limits::{
    DEFAULT_PAGE_SIZE, MAX_CONTENT_TOPICS_PER_QUERY, MAX_HASHES_PER_QUERY, MAX_PAGE_SIZE,
    MAX_REQUEST_ID_LEN, MAX_STORE_REQUEST_SIZE, MAX_STORE_RESPONSE_SIZE,
};

/// Status codes of Store v3 (HTTP-like).
pub(crate) mod status {
    /// The query was answered.
    pub(crate) const OK: u32 = 200;
    /// The request breaks a rule of the module documentation.
    pub(crate) const BAD_REQUEST: u32 = 400;
    /// The archive failed.
    pub(crate) const INTERNAL: u32 = 500;
    /// This node keeps no archive.
    pub(crate) const UNAVAILABLE: u32 = 503;
}

/// A request as the server understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InboundQuery {
    pub(crate) request_id: String,
    pub(crate) include_data: bool,
    pub(crate) query: StoreQuery,
}

/// A request the server answers with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRequest {
    /// Echoed when it was readable and short enough, else empty.
    pub(crate) request_id: String,
    /// A fixed description, sent as `status_desc`.
    pub(crate) reason: &'static str,
}

/// Decodes and checks a request (server side).
pub(crate) fn decode_request(bytes: &[u8]) -> Result<InboundQuery, BadRequest> {
    let bad = |request_id: &str, reason| BadRequest { request_id: request_id.to_owned(), reason };
    if bytes.len() > MAX_STORE_REQUEST_SIZE {
        return Err(bad("", "request too large"));
    }
    let request = StoreQueryRequest::decode(bytes).map_err(|_| bad("", "undecodable request"))?;
    if request.request_id.len() > MAX_REQUEST_ID_LEN {
        return Err(bad("", "request id too long"));
    }
    let id = request.request_id.as_str();
    let query = if request.message_hashes.is_empty() {
        let pubsub_topic = request
            .pubsub_topic
            .as_deref()
            .ok_or_else(|| bad(id, "a content query needs a pubsub topic"))
            .and_then(|topic| {
                PubsubTopic::parse(topic).map_err(|_| bad(id, "invalid pubsub topic"))
            })?;
        if request.content_topics.len() > MAX_CONTENT_TOPICS_PER_QUERY {
            return Err(bad(id, "too many content topics"));
        }
        let filter = if request.content_topics.is_empty() {
            ContentFilter::whole_pubsub_topic(pubsub_topic)
        } else {
            let topics = request
                .content_topics
                .iter()
                .map(|topic| ContentTopic::parse(topic))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| bad(id, "invalid content topic"))?;
            ContentFilter::new(pubsub_topic, topics)
                .map_err(|_| bad(id, "invalid content filter"))?
        };
        StoreQuery::content(filter)
            .and_then(|query| query.with_time_range(request.time_start, request.time_end))
            .map_err(|_| bad(id, "invalid time range"))?
    } else {
        if request.pubsub_topic.is_some()
            || !request.content_topics.is_empty()
            || request.time_start.is_some()
            || request.time_end.is_some()
        {
            return Err(bad(id, "a hash lookup takes no content filter"));
        }
        if request.message_hashes.len() > MAX_HASHES_PER_QUERY {
            return Err(bad(id, "too many message hashes"));
        }
        let hashes = request
            .message_hashes
            .iter()
            .map(|hash| {
                hash_from_bytes(hash).ok_or_else(|| bad(id, "message hash is not 32 bytes"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        StoreQuery::hashes(hashes).map_err(|_| bad(id, "invalid message hashes"))?
    };
    let page_size = match request.pagination_limit {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(limit) => usize::try_from(limit).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
    };
    let direction =
        if request.pagination_forward { Direction::Forward } else { Direction::Backward };
    let mut query = query
        .with_direction(direction)
        .with_page_size(page_size)
        .map_err(|_| bad(id, "invalid page size"))?;
    if let Some(cursor) = &request.pagination_cursor {
        let hash = hash_from_bytes(cursor).ok_or_else(|| bad(id, "cursor is not 32 bytes"))?;
        if hash.as_bytes() == &[0; 32] {
            return Err(bad(id, "all-zero cursor"));
        }
        query = query.with_cursor(Cursor::from_hash(hash));
    }
    Ok(InboundQuery { request_id: request.request_id, include_data: request.include_data, query })
}

/// What the server did with a request, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answered {
    /// Status 200 with this many messages.
    Page {
        /// Messages in the page.
        messages: usize,
    },
    /// Status 400.
    BadRequest,
    /// Status 500.
    ArchiveFailed,
    /// Status 503.
    Unavailable,
}

/// Answers a request (server side): always returns a response to send.
pub(crate) fn answer<A: MessageArchive + ?Sized>(
    bytes: &[u8],
    archive: Option<&A>,
) -> (Vec<u8>, Answered) {
    let inbound = match decode_request(bytes) {
        Ok(inbound) => inbound,
        Err(BadRequest { request_id, reason }) => {
            return (
                status_response(request_id, status::BAD_REQUEST, reason),
                Answered::BadRequest,
            );
        }
    };
    let Some(archive) = archive else {
        let response = status_response(inbound.request_id, status::UNAVAILABLE, "no archive");
        return (response, Answered::Unavailable);
    };
    match archive.query(&inbound.query) {
        Ok(page) => {
            let messages = page.messages.len();
            let response = StoreQueryResponse {
                request_id: inbound.request_id,
                status_code: Some(status::OK),
                status_desc: Some("OK".to_owned()),
                messages: page
                    .messages
                    .iter()
                    .map(|entry| WakuMessageKeyValue {
                        message_hash: Some(entry.hash.as_bytes().to_vec()),
                        message: inbound
                            .include_data
                            .then(|| wire_message::WakuMessage::from(&entry.message)),
                        pubsub_topic: inbound
                            .include_data
                            .then(|| entry.pubsub_topic.as_str().to_owned()),
                    })
                    .collect(),
                pagination_cursor: page.next_cursor.map(|cursor| cursor.hash().as_bytes().to_vec()),
            };
            (response.encode_to_vec(), Answered::Page { messages })
        }
        Err(ArchiveQueryError::UnknownCursor) => {
            let response =
                status_response(inbound.request_id, status::BAD_REQUEST, "unknown cursor");
            (response, Answered::BadRequest)
        }
        Err(_) => {
            let response = status_response(inbound.request_id, status::INTERNAL, "archive failure");
            (response, Answered::ArchiveFailed)
        }
    }
}

fn status_response(request_id: String, code: u32, description: &str) -> Vec<u8> {
    StoreQueryResponse {
        request_id,
        status_code: Some(code),
        status_desc: Some(description.to_owned()),
        messages: Vec::new(),
        pagination_cursor: None,
    }
    .encode_to_vec()
}

/// Encodes `query` as a request (client side). The client always asks for the data.
pub(crate) fn encode_request(query: &StoreQuery, request_id: &str) -> Vec<u8> {
    let mut request = StoreQueryRequest {
        request_id: request_id.to_owned(),
        include_data: true,
        pagination_forward: query.direction() == Direction::Forward,
        pagination_limit: Some(query.page_size() as u64),
        pagination_cursor: query.cursor().map(|cursor| cursor.hash().as_bytes().to_vec()),
        ..StoreQueryRequest::default()
    };
    match query.criteria() {
        QueryCriteria::Content { filter, time_start, time_end, .. } => {
            request.pubsub_topic = Some(filter.pubsub_topic().as_str().to_owned());
            request.content_topics = filter
                .content_topics()
                .map(|topics| topics.iter().map(|topic| topic.as_str().to_owned()).collect())
                .unwrap_or_default();
            request.time_start = *time_start;
            request.time_end = *time_end;
        }
        QueryCriteria::Hashes { hashes, .. } => {
            request.message_hashes = hashes.iter().map(|hash| hash.as_bytes().to_vec()).collect();
        }
        _ => {}
    }
    request.encode_to_vec()
}

/// Decodes and checks a response to `query` sent with `request_id` (client side).
///
/// # Errors
///
/// [`StoreQueryError::Rejected`] for a non-200 status, [`StoreQueryError::InvalidResponse`] for
/// anything breaking a client rule of the module documentation.
pub(crate) fn decode_response(
    bytes: &[u8],
    request_id: &str,
    query: &StoreQuery,
) -> Result<StorePage, StoreQueryError> {
    let invalid = |reason| StoreQueryError::InvalidResponse { reason };
    if bytes.len() > MAX_STORE_RESPONSE_SIZE {
        return Err(invalid("response too large"));
    }
    let response =
        StoreQueryResponse::decode(bytes).map_err(|_| invalid("undecodable response"))?;
    if response.request_id != request_id {
        return Err(invalid("request id mismatch"));
    }
    match response.status_code {
        Some(status::OK) => {}
        Some(status) => return Err(StoreQueryError::Rejected { status }),
        None => return Err(invalid("no status code")),
    }
    if response.messages.len() > query.page_size() {
        return Err(invalid("more messages than the page size"));
    }
    let mut messages = Vec::with_capacity(response.messages.len());
    for entry in response.messages {
        let hash = entry
            .message_hash
            .as_deref()
            .and_then(hash_from_bytes)
            .ok_or(invalid("message hash is not 32 bytes"))?;
        let pubsub_topic =
            entry.pubsub_topic.as_deref().ok_or(invalid("entry without pubsub topic")).and_then(
                |topic| PubsubTopic::parse(topic).map_err(|_| invalid("invalid pubsub topic")),
            )?;
        let message = entry.message.ok_or(invalid("entry without message"))?;
        let message = WakuMessage::try_from(message).map_err(|_| invalid("invalid message"))?;
        let received = ReceivedMessage::new(pubsub_topic, message);
        if received.hash != hash {
            return Err(invalid("message hash mismatch"));
        }
        if !matches_query(&received, query) {
            return Err(invalid("message outside the query"));
        }
        messages.push(received);
    }
    let in_order = messages.windows(2).all(|pair| match pair {
        [a, b] => store_key(a) < store_key(b),
        _ => true,
    });
    if !in_order {
        return Err(invalid("messages out of store order"));
    }
    let next_cursor = match response.pagination_cursor {
        Some(cursor) => Some(Cursor::from_hash(
            hash_from_bytes(&cursor).ok_or(invalid("cursor is not 32 bytes"))?,
        )),
        None => None,
    };
    Ok(StorePage::new(messages, next_cursor))
}

/// Whether a returned message is one `query` asked for.
fn matches_query(received: &ReceivedMessage, query: &StoreQuery) -> bool {
    match query.criteria() {
        QueryCriteria::Content { filter, time_start, time_end, .. } => {
            let time = received.message.timestamp();
            filter.matches(&received.pubsub_topic, received.message.content_topic())
                && time_start.is_none_or(|start| time.is_some_and(|time| time >= start))
                && time_end.is_none_or(|end| time.is_some_and(|time| time <= end))
        }
        QueryCriteria::Hashes { hashes, .. } => hashes.contains(&received.hash),
        _ => false,
    }
}

/// Store order. A message without timestamp sorts first (the server used its receive time,
/// which the client cannot see; such messages are never archived by kaiwa).
fn store_key(received: &ReceivedMessage) -> (i64, MessageHash) {
    (received.message.timestamp().unwrap_or(i64::MIN), received.hash)
}

fn hash_from_bytes(bytes: &[u8]) -> Option<MessageHash> {
    <[u8; 32]>::try_from(bytes).ok().map(MessageHash::from_bytes)
}

/// The hashes named by a hash query.
#[cfg(test)]
fn hashes_of(query: &StoreQuery) -> std::collections::BTreeSet<MessageHash> {
    match query.criteria() {
        QueryCriteria::Hashes { hashes, .. } => hashes.clone(),
        _ => std::collections::BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::archive::MemoryArchive;
    use crate::config::Retention;

    fn pubsub() -> PubsubTopic {
        PubsubTopic::parse("/waku/2/rs/42/0").unwrap()
    }

    fn topic(name: &str) -> ContentTopic {
        ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()
    }

    fn received(name: &str, time: i64) -> ReceivedMessage {
        let message =
            WakuMessage::new(topic(name), vec![1, 2, 3]).unwrap().with_timestamp(time).unwrap();
        ReceivedMessage::new(pubsub(), message)
    }

    fn archive(messages: &[ReceivedMessage]) -> MemoryArchive {
        let mut archive = MemoryArchive::new(Retention::new(100, Duration::from_secs(60)));
        for message in messages {
            archive.insert(message.clone(), 0).unwrap();
        }
        archive
    }

    fn query() -> StoreQuery {
        StoreQuery::content(ContentFilter::new(pubsub(), [topic("a")]).unwrap())
            .unwrap()
            .with_page_size(2)
            .unwrap()
    }

    fn round_trip(
        query: &StoreQuery,
        archive: &MemoryArchive,
    ) -> Result<StorePage, StoreQueryError> {
        let (response, _) = answer(&encode_request(query, "id-1"), Some(archive));
        decode_response(&response, "id-1", query)
    }

    #[test]
    fn client_and_server_agree_on_every_query_shape() {
        let messages: Vec<_> =
            (1..=5).map(|i| received(if i == 3 { "b" } else { "a" }, i)).collect();
        let archive = archive(&messages);
        let first = round_trip(&query(), &archive).unwrap();
        assert_eq!(first.messages, vec![messages[0].clone(), messages[1].clone()]);
        let second = round_trip(&query().next_page(&first).unwrap(), &archive).unwrap();
        assert_eq!(second.messages, vec![messages[3].clone(), messages[4].clone()]);
        assert_eq!(second.next_cursor, None);

        let backward = round_trip(&query().with_direction(Direction::Backward), &archive).unwrap();
        assert_eq!(backward.messages, vec![messages[3].clone(), messages[4].clone()]);

        let ranged = query().with_time_range(Some(2), Some(4)).unwrap();
        assert_eq!(
            round_trip(&ranged, &archive).unwrap().messages,
            vec![messages[1].clone(), messages[3].clone()]
        );

        let by_hash = StoreQuery::hashes([messages[2].hash]).unwrap();
        assert_eq!(hashes_of(&by_hash).len(), 1);
        assert_eq!(round_trip(&by_hash, &archive).unwrap().messages, vec![messages[2].clone()]);
    }

    #[test]
    fn wire_request_has_upstream_fields() {
        let request = StoreQueryRequest::decode(encode_request(&query(), "x").as_slice()).unwrap();
        assert_eq!(request.request_id, "x");
        assert!(request.include_data);
        assert!(request.pagination_forward);
        assert_eq!(request.pagination_limit, Some(2));
        assert_eq!(request.pubsub_topic.as_deref(), Some("/waku/2/rs/42/0"));
        assert_eq!(request.content_topics, vec!["/kaiwa/1/a/proto".to_owned()]);
    }

    fn answer_status(request: StoreQueryRequest) -> (Option<u32>, String) {
        let archive = archive(&[received("a", 1)]);
        let (bytes, _) = answer(&request.encode_to_vec(), Some(&archive));
        let response = StoreQueryResponse::decode(bytes.as_slice()).unwrap();
        (response.status_code, response.status_desc.unwrap_or_default())
    }

    #[test]
    fn server_answers_bad_requests_with_400() {
        let base = StoreQueryRequest {
            request_id: "r".into(),
            include_data: true,
            pubsub_topic: Some("/waku/2/rs/42/0".into()),
            pagination_forward: true,
            ..Default::default()
        };
        assert_eq!(answer_status(base.clone()).0, Some(200));
        let cases = [
            StoreQueryRequest { pubsub_topic: None, ..base.clone() },
            StoreQueryRequest { pubsub_topic: Some("nope".into()), ..base.clone() },
            StoreQueryRequest {
                content_topics: (0..11).map(|i| format!("/kaiwa/1/t{i}/proto")).collect(),
                ..base.clone()
            },
            StoreQueryRequest { content_topics: vec!["bad topic".into()], ..base.clone() },
            StoreQueryRequest { time_start: Some(5), time_end: Some(4), ..base.clone() },
            StoreQueryRequest { message_hashes: vec![vec![1; 32]], ..base.clone() },
            StoreQueryRequest {
                pubsub_topic: None,
                message_hashes: vec![vec![1; 31]],
                ..base.clone()
            },
            StoreQueryRequest {
                pubsub_topic: None,
                message_hashes: vec![vec![1; 32]; 101],
                ..base.clone()
            },
            StoreQueryRequest { pagination_cursor: Some(vec![0; 32]), ..base.clone() },
            StoreQueryRequest { pagination_cursor: Some(vec![1; 3]), ..base.clone() },
            StoreQueryRequest { pagination_cursor: Some(vec![1; 32]), ..base.clone() },
            StoreQueryRequest { request_id: "x".repeat(MAX_REQUEST_ID_LEN + 1), ..base.clone() },
        ];
        for case in cases {
            assert_eq!(answer_status(case.clone()).0, Some(400), "{case:?}");
        }
        let archive = archive(&[]);
        let (bytes, answered) = answer(&[0xff, 0xff, 0xff], Some(&archive));
        assert_eq!(answered, Answered::BadRequest);
        assert_eq!(StoreQueryResponse::decode(bytes.as_slice()).unwrap().status_code, Some(400));
        let (bytes, answered) = answer::<MemoryArchive>(&base.encode_to_vec(), None);
        assert_eq!(answered, Answered::Unavailable);
        assert_eq!(StoreQueryResponse::decode(bytes.as_slice()).unwrap().status_code, Some(503));
    }

    #[test]
    fn page_limits_default_and_clamp() {
        let request = |limit| StoreQueryRequest {
            pubsub_topic: Some("/waku/2/rs/42/0".into()),
            pagination_limit: limit,
            ..Default::default()
        };
        let size =
            |limit| decode_request(&request(limit).encode_to_vec()).unwrap().query.page_size();
        assert_eq!(size(None), DEFAULT_PAGE_SIZE);
        assert_eq!(size(Some(0)), DEFAULT_PAGE_SIZE);
        assert_eq!(size(Some(7)), 7);
        assert_eq!(size(Some(u64::MAX)), MAX_PAGE_SIZE);
        // proto3 default: absent pagination_forward is backward.
        let inbound = decode_request(&request(None).encode_to_vec()).unwrap();
        assert_eq!(inbound.query.direction(), Direction::Backward);
    }

    fn ok_response(entries: Vec<WakuMessageKeyValue>) -> Vec<u8> {
        StoreQueryResponse {
            request_id: "id".into(),
            status_code: Some(200),
            messages: entries,
            ..Default::default()
        }
        .encode_to_vec()
    }

    fn entry(message: &ReceivedMessage) -> WakuMessageKeyValue {
        WakuMessageKeyValue {
            message_hash: Some(message.hash.as_bytes().to_vec()),
            message: Some(wire_message::WakuMessage::from(&message.message)),
            pubsub_topic: Some(message.pubsub_topic.as_str().to_owned()),
        }
    }

    #[test]
    fn client_refuses_dishonest_answers() {
        let good = received("a", 1);
        let later = received("a", 2);
        assert!(decode_response(&ok_response(vec![entry(&good)]), "id", &query()).is_ok());
        let invalid = |reason| Err(StoreQueryError::InvalidResponse { reason });
        assert_eq!(
            decode_response(&ok_response(vec![entry(&good)]), "other", &query()),
            invalid("request id mismatch")
        );
        let mut wrong_hash = entry(&good);
        wrong_hash.message_hash = Some(later.hash.as_bytes().to_vec());
        assert_eq!(
            decode_response(&ok_response(vec![wrong_hash]), "id", &query()),
            invalid("message hash mismatch")
        );
        let other_topic = received("b", 1);
        assert_eq!(
            decode_response(&ok_response(vec![entry(&other_topic)]), "id", &query()),
            invalid("message outside the query")
        );
        assert_eq!(
            decode_response(&ok_response(vec![entry(&later), entry(&good)]), "id", &query()),
            invalid("messages out of store order")
        );
        assert_eq!(
            decode_response(
                &ok_response(vec![entry(&good), entry(&later), entry(&received("a", 3))]),
                "id",
                &query()
            ),
            invalid("more messages than the page size")
        );
        let mut no_data = entry(&good);
        no_data.message = None;
        assert_eq!(
            decode_response(&ok_response(vec![no_data]), "id", &query()),
            invalid("entry without message")
        );
        let mut long_meta = entry(&good);
        if let Some(message) = long_meta.message.as_mut() {
            message.meta = Some(vec![0; 65]);
        }
        assert_eq!(
            decode_response(&ok_response(vec![long_meta]), "id", &query()),
            invalid("invalid message")
        );
        let rejected = StoreQueryResponse {
            request_id: "id".into(),
            status_code: Some(429),
            ..Default::default()
        };
        assert_eq!(
            decode_response(&rejected.encode_to_vec(), "id", &query()),
            Err(StoreQueryError::Rejected { status: 429 })
        );
        assert_eq!(decode_response(&[0xff, 0xff], "id", &query()), invalid("undecodable response"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic_either_side(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let archive = archive(&[received("a", 1)]);
            let _ = answer(&bytes, Some(&archive));
            let _ = decode_response(&bytes, "", &query());
        }
    }
}
