//! Every bound this crate enforces, with its reason (STYLE §3.8).
//!
//! The store bounds what it is asked to keep for the product (history, contacts, outbox);
//! protocol records (peers, groups, organizations) are bounded by the crates that produce and
//! parse them, so the store keeps them whole and does not second-guess their size.

use kaiwa_org::limits::MAX_SIGNED_MESSAGE_BYTES;
use kaiwa_session::limits::MAX_CONTACT_CODE_LEN;

/// Largest message payload kept in history or queued in the outbox: 150 KiB.
///
/// A WakuMessage is at most 150 KiB (14/WAKU2-MESSAGE; DECISIONS "Waku layer"), so no
/// payload that travels in one can be larger, and nothing larger is ever published.
pub const MAX_PAYLOAD_BYTES: usize = 150 * 1_024;

/// Largest `meta` of a queued WakuMessage: 64 bytes (14/WAKU2-MESSAGE; DECISIONS "Waku
/// layer": "`meta` at most 64 bytes"). Relays drop messages with more.
pub const MAX_META_BYTES: usize = 64;

/// Longest pubsub or content topic queued in the outbox: 512 bytes.
///
/// Topics are `/kaiwa/1/<name>/proto` and `/waku/2/rs/<cluster>/<shard>` (23/WAKU2-TOPICS,
/// 51/WAKU2-RELAY-SHARDING); no spec bounds them, so this generous cap only keeps a broken
/// caller from filling rows with garbage.
pub const MAX_TOPIC_BYTES: usize = 512;

/// Longest contact display name: 256 bytes of UTF-8.
///
/// Display names arrive from peers (contact requests, bundles); Status limits them to 24
/// characters in its UI, and 256 bytes holds 24 characters of any script with room to spare.
pub const MAX_DISPLAY_NAME_BYTES: usize = 256;

/// Largest bundle or contact code kept with a contact: 8 KiB.
///
/// A contact code is at most `MAX_CONTACT_CODE_LEN` (4 KiB, kaiwa-session), and an encoded
/// bundle of the hard maximum of 16 installations is about 2.3 KiB; twice the larger of the
/// two leaves room for a future format without letting a peer grow the table.
pub const MAX_CONTACT_BUNDLE_BYTES: usize = 2 * MAX_CONTACT_CODE_LEN;

/// Longest `last_error` text kept for an outbox entry: 512 bytes (longer text is cut at a
/// character boundary). Transport errors are short; this keeps a repeated failure from
/// growing the row.
pub const MAX_ERROR_TEXT_BYTES: usize = 512;

/// Most rows one history or outbox query returns: 1,000.
///
/// A page is loaded into memory at once; a chat screen shows a few dozen messages and a
/// publisher drains the outbox in batches, so larger pages only cost memory.
pub const MAX_PAGE: usize = 1_000;

/// Most ids one listing returns ([`group_ids`](crate::Store::group_ids),
/// [`organization_ids`](crate::Store::organization_ids),
/// [`org_view_ids`](crate::Store::org_view_ids)): 65,536.
///
/// A listing is loaded whole (the facade subscribes to every group and organization it
/// holds when it starts), so it must be bounded. No spec bounds how many groups or
/// organizations an account holds; 65,536 is the bound the facade's state file had for the
/// same lists, and far beyond what a client follows (a group id is 101 bytes, so the
/// longest listing is about 7 MiB). A table with more rows is refused with
/// [`StoreError::TooMany`](crate::StoreError::TooMany) rather than cut, because a cut list
/// would silently stop the client from following what falls past the cut.
pub const MAX_LISTED_IDS: usize = 65_536;

/// Largest organization invitation kept: 145 KiB, kaiwa-org's `MAX_SIGNED_MESSAGE_BYTES`.
///
/// An invitation is a signed `OrganizationInvitation` (seed 004) that arrived from a peer;
/// kaiwa-org refuses to verify a larger one (`Invitation::verify`), so a larger one is
/// never worth keeping.
pub const MAX_INVITATION_BYTES: usize = MAX_SIGNED_MESSAGE_BYTES;
