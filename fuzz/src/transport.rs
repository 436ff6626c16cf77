//! kaiwa-transport targets: the Waku message, Store v3 requests and responses, and the text
//! parsers of topics, hashes, peer ids and application names.
//!
//! ```text
//! transport_message         WakuMessage::decode(input)
//!                           checks: encode → decode gives the same message; encoded_len is
//!                           the length of encode
//! transport_store_request   StoreQuery::try_from(StoreQueryRequest::decode(input))
//!                           checks: query → request → query is the same query
//! transport_store_response  StorePage::try_from(StoreQueryResponse::decode(input))
//!                           checks: page → response → page is the same page
//! transport_topics          input as UTF-8 to ContentTopic::parse, PubsubTopic::parse,
//!                           MessageHash::from_str, PeerId::new, TopicScheme::new
//!                           checks: parsed text is kept exactly; a content topic is its
//!                           segments joined (with `/0` in the full form); autosharding gives a
//!                           static-shard pubsub topic of its cluster; a static-shard pubsub topic
//!                           equals static_shard(cluster, shard); a hash prints as its lowercase
//!                           digits; every topic an accepted application name derives parses
//! ```

use kaiwa_transport::{
    AccountKey, Autosharding, ContentTopic, MessageHash, OrgKey, PeerId, PubsubTopic, StorePage,
    StoreQuery, TopicScheme, WakuMessage,
};
use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::store::{StoreQueryRequest, StoreQueryResponse};

/// `WakuMessage::decode` and its encode round trip (module doc).
pub fn transport_message(data: &[u8]) {
    let Ok(message) = WakuMessage::decode(data) else { return };
    let bytes = message.encode();
    assert_eq!(message.encoded_len(), bytes.len(), "encoded_len is the encoding's length");
    assert_eq!(WakuMessage::decode(&bytes).as_ref(), Ok(&message), "encode/decode round trip");
    let pubsub = Autosharding::THE_WAKU_NETWORK.pubsub_topic(message.content_topic());
    assert_eq!(message.hash(&pubsub), MessageHash::compute(&pubsub, &message));
}

/// A peer's Store v3 request, as a store server reads it (module doc).
pub fn transport_store_request(data: &[u8]) {
    let Ok(request) = StoreQueryRequest::decode(data) else { return };
    let Ok(query) = StoreQuery::try_from(request) else { return };
    let again = StoreQuery::try_from(StoreQueryRequest::from(&query));
    assert_eq!(again.as_ref(), Ok(&query), "query → request → query");
}

/// A store's Store v3 response, as a client reads it (module doc).
pub fn transport_store_response(data: &[u8]) {
    let Ok(response) = StoreQueryResponse::decode(data) else { return };
    let Ok(page) = StorePage::try_from(response) else { return };
    let again = StorePage::try_from(StoreQueryResponse::from(&page));
    assert_eq!(again.as_ref(), Ok(&page), "page → response → page");
}

/// Text parsers of kaiwa-transport (module doc).
pub fn transport_topics(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(topic) = ContentTopic::parse(text) {
        check_content_topic(text, &topic);
    }
    if let Ok(topic) = PubsubTopic::parse(text) {
        assert_eq!(topic.as_str(), text);
        if let Some((cluster, shard)) = topic.shard() {
            assert_eq!(PubsubTopic::static_shard(cluster, shard), topic);
        }
    }
    if let Ok(hash) = text.parse::<MessageHash>() {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        assert_eq!(hash.to_string(), digits.to_ascii_lowercase());
    }
    if let Ok(peer) = PeerId::new(text) {
        assert_eq!(peer.as_str(), text);
    }
    if let Ok(scheme) = TopicScheme::new(text) {
        assert_eq!(scheme.application(), text);
        let (account, org) = (AccountKey::from_bytes([0xa5; 32]), OrgKey::from_bytes([0x5a; 32]));
        for topic in [
            scheme.contact_code(&account),
            scheme.partitioned(&account),
            scheme.group(text),
            scheme.org_description(&org),
            scheme.org_requests(&org),
            scheme.org_channel(&org, text),
        ] {
            assert_eq!(ContentTopic::parse(topic.as_str()).as_ref(), Ok(&topic));
            assert_eq!(topic.application(), text);
        }
    }
    // Untrusted names inside topics derived by the default scheme.
    let scheme = TopicScheme::default();
    for topic in [scheme.group(text), scheme.org_channel(&OrgKey::from_bytes([1; 32]), text)] {
        assert_eq!(ContentTopic::parse(topic.as_str()).as_ref(), Ok(&topic));
    }
}

fn check_content_topic(text: &str, topic: &ContentTopic) {
    assert_eq!(topic.as_str(), text);
    let segments = [topic.application(), topic.version(), topic.name(), topic.encoding()];
    assert!(segments.iter().all(|s| !s.is_empty() && !s.contains('/')), "segments are fields");
    let short = format!("/{}", segments.join("/"));
    assert!(text == short || text == format!("/0{short}"), "a topic is its segments");
    let sharding = Autosharding::THE_WAKU_NETWORK;
    let shard = sharding.shard(topic);
    assert!(shard.get() < sharding.shard_count());
    assert_eq!(sharding.pubsub_topic(topic).shard(), Some((sharding.cluster(), shard)));
}

/// Seeds of the transport targets, made with the crate's own constructors and conversions.
pub(crate) fn transport_seeds(push: &mut dyn FnMut(&'static str, &str, Vec<u8>)) {
    let scheme = TopicScheme::default();
    let account = AccountKey::from_bytes([7; 32]);
    let topic = scheme.partitioned(&account);
    let pubsub = Autosharding::THE_WAKU_NETWORK.pubsub_topic(&topic);
    let plain = WakuMessage::new(topic.clone(), b"hello".to_vec()).expect("small payload");
    let full = plain
        .clone()
        .with_timestamp(1_700_000_000_000_000_000)
        .and_then(|m| m.with_meta(vec![1, 2, 3, 4]))
        .and_then(|m| m.with_ephemeral(true))
        .and_then(|m| m.with_rate_limit_proof(vec![9; 16]))
        .expect("valid fields");
    push("transport_message", "payload-only", plain.encode());
    push("transport_message", "every-field", full.encode());

    let filter =
        kaiwa_transport::ContentFilter::new(pubsub.clone(), [topic.clone()]).expect("one topic");
    let content = StoreQuery::content(filter)
        .and_then(|q| q.with_time_range(Some(1), Some(1_700_000_000_000_000_000)))
        .and_then(|q| q.with_page_size(50))
        .expect("valid query");
    push("transport_store_request", "content", StoreQueryRequest::from(&content).encode_to_vec());
    let hashes = StoreQuery::hashes([plain.hash(&pubsub), full.hash(&pubsub)])
        .map(|q| q.with_cursor(kaiwa_transport::Cursor::from_hash(plain.hash(&pubsub))))
        .expect("two hashes");
    push("transport_store_request", "hashes", StoreQueryRequest::from(&hashes).encode_to_vec());

    let received = [plain.clone(), full.clone()]
        .map(|m| kaiwa_transport::ReceivedMessage::new(pubsub.clone(), m));
    let next = Some(kaiwa_transport::Cursor::from_hash(full.hash(&pubsub)));
    let page = StorePage::new(received.to_vec(), next);
    push("transport_store_response", "page", StoreQueryResponse::from(&page).encode_to_vec());
    let refused = StoreQueryResponse { status_code: Some(429), ..StoreQueryResponse::default() };
    push("transport_store_response", "rate-limited", refused.encode_to_vec());

    for (name, text) in [
        ("content-short", topic.as_str().to_owned()),
        ("content-full", format!("/0{}", topic.as_str())),
        ("pubsub-static", pubsub.as_str().to_owned()),
        ("pubsub-named", "/waku/2/default-waku/proto".to_owned()),
        ("hash", format!("0x{}", plain.hash(&pubsub))),
        ("peer-id", "16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ".to_owned()),
        ("application", "kaiwa".to_owned()),
    ] {
        push("transport_topics", name, text.into_bytes());
    }
}
