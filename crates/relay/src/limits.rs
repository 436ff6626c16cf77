//! Every bound the node enforces on what peers send it, and on what it keeps.
//!
//! Each constant says why it has the value it has and which spec or implementation it follows.

use std::time::Duration;

/// Largest gossipsub RPC frame read from or written to a relay stream (libp2p-gossipsub's
/// `max_transmit_size`): 1 MiB + 64 KiB.
///
/// A single WakuMessage is capped far lower (150 KiB, 64/WAKU2-NETWORK, checked by
/// kaiwa-transport's validation on every message), but one RPC frame may carry several
/// messages: js-libp2p-gossipsub answers an IWANT with all requested messages in one frame, and
/// js-waku refuses to send a wire message over 1 MiB (`isWireSizeUnderCap`). The 64 KiB margin is
/// for the RPC framing and piggybacked control messages. rust-libp2p's default (65,536) silently
/// drops every message above 64 KiB (waku-transport.md §2.3).
pub const MAX_RPC_FRAME_SIZE: usize = 1024 * 1024 + 64 * 1024;

/// Largest `/vac/waku/metadata/1.0.0` request or response body: 8 KiB.
///
/// A metadata message is one cluster id and at most [`MAX_METADATA_SHARDS`] shard indices, each
/// at most 6 bytes on the wire (tag + 5-byte varint), so an honest message stays below 6.2 KiB.
pub const MAX_METADATA_MESSAGE_SIZE: usize = 8 * 1024;

/// Most shard indices a metadata message may list: 1,024, the number of shards per cluster in
/// static sharding (51/WAKU2-RELAY-SHARDING, digest §7).
pub const MAX_METADATA_SHARDS: usize = 1024;

/// Largest Store v3 request body: 64 KiB.
///
/// A request holds at most [`MAX_CONTENT_TOPICS_PER_QUERY`] content topics and
/// [`MAX_HASHES_PER_QUERY`] 32-byte hashes; both together stay under 8 KiB with generous topic
/// lengths, so 64 KiB only bounds abuse.
pub const MAX_STORE_REQUEST_SIZE: usize = 64 * 1024;

/// Largest Store v3 response body: [`MAX_PAGE_SIZE`] messages of at most 150 KiB
/// (kaiwa-transport's `MAX_MESSAGE_SIZE`) plus 4 KiB of framing, hash and pubsub topic each
/// (about 15.4 MiB).
///
/// This is what a store server honouring [`MAX_PAGE_SIZE`] can legitimately send; a longer frame
/// is refused before it is buffered.
pub const MAX_STORE_RESPONSE_SIZE: usize =
    MAX_PAGE_SIZE * (kaiwa_transport::limits::MAX_MESSAGE_SIZE + 4 * 1024);

/// Default Store v3 page size when a request sets none (or 0): 20, nwaku's `DefaultPageSize`
/// (`waku_archive/archive.nim`). The same constant as kaiwa-transport's query type.
pub const DEFAULT_PAGE_SIZE: usize = kaiwa_transport::limits::DEFAULT_PAGE_SIZE;

/// Largest Store v3 page: 100 messages, nwaku's `MaxPageSize`. Larger requested limits are
/// clamped to it, as nwaku does. The same constant as kaiwa-transport's query type.
pub const MAX_PAGE_SIZE: usize = kaiwa_transport::limits::MAX_PAGE_SIZE;

/// Most content topics in one Store v3 query: 10, nwaku's `MaxContentTopicsPerQuery`. More is a
/// bad request (400). The same constant as kaiwa-transport's query type.
pub const MAX_CONTENT_TOPICS_PER_QUERY: usize = kaiwa_transport::limits::MAX_QUERY_CONTENT_TOPICS;

/// Most message hashes in one Store v3 lookup-by-hash query: 100, one full page. More is a bad
/// request (400). The same constant as kaiwa-transport's query type.
pub const MAX_HASHES_PER_QUERY: usize = kaiwa_transport::limits::MAX_QUERY_HASHES;

const _: () = assert!(MAX_ARCHIVE_TIMESTAMP_DRIFT.as_secs() == 20, "nwaku's ±20 s");

/// Longest `request_id` accepted in a Store v3 request: 128 bytes. nwaku and js-waku use a UUID
/// (36 characters); the bound keeps echoed ids small.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// How far a message timestamp may be from the archiving node's clock for the message to be
/// archived: 20 s either way, nwaku's `MaxMessageTimestampVariance` (digest §6, "archive nodes
/// accept a sender timestamp drift of ±20 s"). Messages outside it are still relayed, only not
/// stored, so a peer cannot plant history in the past.
pub const MAX_ARCHIVE_TIMESTAMP_DRIFT: Duration =
    Duration::from_nanos(kaiwa_transport::limits::MAX_STORE_TIMESTAMP_DRIFT_NS.unsigned_abs());

/// Default retention of the in-memory archive: at most 100,000 messages (oldest evicted first).
///
/// At the 150 KiB cap that is a worst case of about 15 GB, so a node expecting large messages
/// should lower it; at a typical chat message size (1–2 KiB) it is 100–200 MB.
pub const DEFAULT_RETENTION_MESSAGES: usize = 100_000;

/// Default retention of the in-memory archive by age: 30 days, Status's store nodes' retention.
pub const DEFAULT_RETENTION_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Most received messages queued for one local subscription before the newest are dropped (and
/// counted in [`RelayMetrics::subscription_overflows`](crate::RelayMetrics)): 4,096.
///
/// A subscriber that stops reading must not make the node buffer without limit.
pub const MAX_SUBSCRIPTION_BACKLOG: usize = 4096;

/// Most commands queued from handles to the node's task: 1,024. Callers wait when it is full.
pub const MAX_COMMAND_BACKLOG: usize = 1024;

/// Most inbound streams of one request-response protocol (metadata, store) open per connection:
/// 8. A peer opening more gets its extra streams refused.
pub const MAX_CONCURRENT_STREAMS: usize = 8;

/// Longest wait for a metadata or store response: 10 s. After it the request fails with a
/// timeout (and, for metadata, the peer is disconnected, as nwaku does).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// First delay before redialling a lost static peer: 1 s, doubled after every failure.
pub const RECONNECT_BACKOFF_INITIAL: Duration = Duration::from_secs(1);

/// Longest delay between two redials of a static peer: 60 s.
pub const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(60);
