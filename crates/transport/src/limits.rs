//! Every bound kaiwa-transport enforces, with the reason and the spec value.
//!
//! Checks against these constants happen before any allocation that depends on untrusted
//! input, so a peer cannot make this crate allocate more than the bound.

/// Largest encoded `WakuMessage`, in bytes: 150 KiB.
///
/// RFC 64/WAKU2-NETWORK and nwaku's `DefaultMaxWakuMessageSize`; relays score down and drop
/// anything larger (waku-transport.md §7 item 4), so kaiwa refuses to build or decode it.
/// The bound covers the whole protobuf encoding (payload, topic, meta, proof and framing), so
/// the largest payload is a little smaller; see `WakuMessage::max_payload_len`.
pub const MAX_MESSAGE_SIZE: usize = 150 * 1024;

/// Largest `meta` attribute, in bytes: 64.
///
/// 14/WAKU2-MESSAGE; nwaku rejects longer values (`MaxMetaAttrLength`, waku-transport.md §1.1).
pub const MAX_META_LEN: usize = 64;

/// Longest content topic, in bytes: 255.
///
/// 23/WAKU2-TOPICS sets no bound. kaiwa's own topics stay below 160 bytes (an application name
/// of at most [`MAX_APPLICATION_NAME_LEN`] bytes plus the longest derived name), and a bound
/// keeps store indexes and filters small. A foreign message with a longer topic is rejected.
pub const MAX_CONTENT_TOPIC_LEN: usize = 255;

/// Longest application name in a kaiwa content topic, in bytes: 32.
///
/// Chosen so that every derived kaiwa content topic fits in [`MAX_CONTENT_TOPIC_LEN`] (the
/// longest derived name is 109 bytes). Not a Waku bound.
pub const MAX_APPLICATION_NAME_LEN: usize = 32;

/// Longest pubsub topic, in bytes: 255.
///
/// 23/WAKU2-TOPICS sets no bound; a static-shard name (`/waku/2/rs/65535/1023`) has 21 bytes.
/// Named topics are kept for the 14/WAKU2-MESSAGE hash vectors and legacy interop only.
pub const MAX_PUBSUB_TOPIC_LEN: usize = 255;

/// Shards per cluster: 1024, so a shard index is at most 1023.
///
/// Relay sharding, "Static Sharding": "Static shards are managed in shard clusters of 1024
/// shards per cluster."
pub const MAX_SHARDS_PER_CLUSTER: u16 = 1024;

/// Most content topics in one subscription: 100.
///
/// 12/WAKU2-FILTER; nwaku's `MaxContentTopicsPerRequest`. A node that needs more subscribes to
/// the whole pubsub topic and filters locally.
pub const MAX_FILTER_CONTENT_TOPICS: usize = 100;

/// Most content topics in one store query: 10.
///
/// nwaku `waku_archive` `MaxContentTopicsPerQuery`; a store node answers more with 400.
pub const MAX_QUERY_CONTENT_TOPICS: usize = 10;

/// Most message hashes in one store query: 100.
///
/// A page holds at most [`MAX_PAGE_SIZE`] messages, so asking for more hashes at once gains
/// nothing; nwaku bounds the query the same way through its page size.
pub const MAX_QUERY_HASHES: usize = 100;

/// Largest store page: 100 messages.
///
/// nwaku `waku_archive` `MaxPageSize`; larger requested limits are clamped by the server, so
/// kaiwa refuses to ask for them.
pub const MAX_PAGE_SIZE: usize = 100;

/// Store page size when the caller does not choose one: 20 messages.
///
/// nwaku `waku_archive` `DefaultPageSize`. Not a bound; kept here beside [`MAX_PAGE_SIZE`].
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// Longest peer id, in bytes: 128.
///
/// A libp2p peer id in base58 is at most 53 characters (an inlined Ed25519 key) and 59 in
/// base32 CIDv1; 128 leaves room for any multihash a node reports without unbounded copies.
pub const MAX_PEER_ID_LEN: usize = 128;

/// Largest tolerated distance between a message's timestamp and the store's clock: 20 s.
///
/// nwaku `waku_archive` `MaxMessageTimestampVariance`; the simulated store rejects messages
/// outside this window, as nwaku does, unless its configuration turns the check off.
pub const MAX_STORE_TIMESTAMP_DRIFT_NS: i64 = 20_000_000_000;

/// Most trace events the simulated network keeps: 1,048,576.
///
/// The trace exists for determinism checks in tests; beyond the bound the oldest events are
/// evicted so that a long benchmark does not grow without limit.
pub const MAX_SIM_TRACE_EVENTS: usize = 1 << 20;
