//! Every bound the facade enforces, with its reason (STYLE §3.8). The protocol crates bound
//! what they parse; these bound what the facade itself buffers, retries and accepts.

/// Most inbound messages processed in one store transaction: 256.
///
/// One commit (one `fsync` with `Durability::Full`) is shared by every message of a batch,
/// which is what makes the receive path fast; a store failure rolls back and redoes at most
/// this many messages, and a batch holds the core lock for a bounded time.
pub const MAX_BATCH: usize = 256;

/// Most local operations (sends, group and organization actions) committed in one group
/// commit: 256.
///
/// Concurrent operations share one transaction and one `fsync`; the bound keeps one group's
/// transaction (and the core lock) short, as [`MAX_BATCH`] does for received messages.
pub const MAX_GROUP_COMMIT: usize = 256;

/// Capacity of the event channel: 4,096 events.
///
/// A receiver that falls this far behind gets [`Event::Lagged`](crate::Event::Lagged) with the
/// number it missed, and should re-read the history, which is the source of truth.
pub const MAX_EVENT_BUFFER: usize = 4_096;

/// Most characters in a chat message text: 4,096 (status-go's `maxChatMessageTextLength`,
/// digest §12), so a text we accept is one every peer accepts.
pub const MAX_TEXT_CHARS: usize = 4_096;

/// Most bytes of a short text field (reply id, message id, display name): 256.
pub const MAX_SHORT_FIELD_BYTES: usize = 256;

/// How far a message's Lamport clock may run ahead of the receiver's clock: 120 s (digest §12;
/// DECISIONS "Private group chats" uses the same bound for membership events). Clocks are
/// `max(now_ms, last + 1)`, so an honest sender is never further ahead than its clock skew.
pub const MAX_CLOCK_SKEW_MS: u64 = 120_000;

/// Undecryptable channel messages and re-key parts kept per organization until a description
/// or a key arrives that opens them: 256, the oldest dropped beyond (a re-key or a message can
/// overtake the description it depends on; the bound keeps a stranger from filling memory).
pub const MAX_KEPT_PER_ORG: usize = 256;

/// Peers whose unaddressed messages we answered with our bundle, remembered for the rate
/// limit, and peers whose negotiated 1:1 topic is cached: 4,096 each (beyond, entries are
/// forgotten; a forgotten topic is derived again). Mirrors kaiwa-session's
/// `MAX_TRACKED_FAILURES`.
pub const MAX_TRACKED_PEERS: usize = 4_096;

/// Messages per Store query page: 100 (13/WAKU2-STORE v3 and nwaku's maximum page size).
pub const STORE_PAGE_SIZE: usize = 100;

/// Most pages read from one topic in one catch-up: 1,000 (100,000 messages). A Store node
/// that keeps answering with a next cursor cannot keep a client busy forever.
pub const MAX_CATCH_UP_PAGES: usize = 1_000;

/// Most outbox entries published in one pass of the publisher: the store's page bound
/// (1,000). A longer backlog is drained over several passes.
pub const MAX_PUBLISH_BATCH: usize = kaiwa_store::limits::MAX_PAGE;

/// Publications the publisher keeps in flight at once: 64.
///
/// A transport publish is a round trip to the node's task; overlapping them lets the node
/// take a burst in one wake-up instead of one message per round trip. They start in outbox
/// order, and the bound keeps a backlog from flooding the node.
pub const PUBLISH_CONCURRENCY: usize = 64;

/// Most entries in the state file of a kaiwa 0.1 profile (organizations, groups,
/// invitations): 65,536, the bound that version wrote under. The file is read whole when
/// imported; a corrupt or hostile file cannot make it allocate without bound.
pub const MAX_STATE_ENTRIES: usize = 65_536;

/// Largest state file of a kaiwa 0.1 profile: 16 MiB (65,536 entries of at most 256 bytes).
pub const MAX_STATE_FILE_BYTES: usize = 16 * 1_024 * 1_024;
