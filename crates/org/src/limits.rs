//! Every bound and default of the crate, in one place (libsignal's `consts.rs`).
//!
//! Bounds on decoded input exist so that a peer (or the holder of an organization key) cannot
//! make a receiver allocate or compute without limit; each says why it has its value and which
//! spec value it relates to. Seed 004 itself fixes no number except the 150 KiB Waku message
//! (14/WAKU2-MESSAGE); DECISIONS.md adds "10,000 members must work", 56 bytes per re-key entry,
//! a 7-day grant lifetime, and 24 h / 48 h republish and re-key periods.

/// Largest WakuMessage payload kaiwa produces: 150 KiB (14/WAKU2-MESSAGE's cap) minus 5 KiB for
/// the WakuMessage framing (content topic, timestamp, meta, version) and the facade's wrapping.
/// Every signed message this crate emits (description, segment, re-key part, channel message)
/// stays at or below it.
pub const MAX_SIGNED_MESSAGE_BYTES: usize = 145 * 1024;

/// Members per organization accepted when decoding a description. DECISIONS.md requires
/// 10,000 to work; ten times that leaves room to grow while bounding a description to about
/// 20 MB of member entries.
pub const MAX_MEMBERS: usize = 100_000;

/// Banned keys per organization (the ban list can outgrow the member list over time, but not
/// beyond the same order of magnitude).
pub const MAX_BANNED: usize = 100_000;

/// Channels per organization. status-go has no hard bound; 500 is far above real use and keeps
/// per-channel epoch state small.
pub const MAX_CHANNELS: usize = 500;

/// Categories per organization.
pub const MAX_CATEGORIES: usize = 100;

/// Tags per organization (status-go whitelists a few dozen).
pub const MAX_TAGS: usize = 32;

/// Bytes of one tag.
pub const MAX_TAG_BYTES: usize = 64;

/// Bytes of a channel or category id (`[A-Za-z0-9_-]`, 1 to 64 characters; status-go uses
/// UUIDs, 36 characters).
pub const MAX_ID_BYTES: usize = 64;

/// Bytes of a display name, category name, colour, emoji or ENS name.
pub const MAX_NAME_BYTES: usize = 256;

/// Bytes of a free-text description (organization or channel identity).
pub const MAX_TEXT_BYTES: usize = 4096;

/// Images per identity (status-go uses "thumbnail" and "large").
pub const MAX_IMAGES: usize = 4;

/// Bytes of one image payload; the description must still fit [`MAX_DESCRIPTION_BYTES`].
pub const MAX_IMAGE_BYTES: usize = 128 * 1024;

/// Encryption keys carried by one image (seed field `encryption_keys`; carried, not used).
pub const MAX_IMAGE_KEYS: usize = 16;

/// Roles per member: the seed defines three, so a longer list is malformed.
pub const MAX_ROLES: usize = 3;

/// Size of a whole signed description (all segments reassembled). 100,000 members at about
/// 190 bytes each (member entry plus X25519 key entry) is 19 MB; 32 MiB leaves room for
/// channel member lists and the identity.
pub const MAX_DESCRIPTION_BYTES: usize = 32 * 1024 * 1024;

/// Chunk bytes per description segment, so that a signed segment fits
/// [`MAX_SIGNED_MESSAGE_BYTES`] with room for its header and signature.
pub const MAX_SEGMENT_CHUNK_BYTES: usize = MAX_SIGNED_MESSAGE_BYTES - 1024;

/// Segments per description: enough for [`MAX_DESCRIPTION_BYTES`].
pub const MAX_DESCRIPTION_SEGMENTS: u32 = 256;

/// Descriptions being reassembled at once per organization. Segments are signed by the org
/// key, so only the owner can start one; two covers a newer description arriving while an
/// older one is incomplete. The lowest clock is evicted first.
pub const MAX_PENDING_REASSEMBLIES: usize = 2;

/// Past key epochs a member keeps per group, besides the current one, to read history
/// (messages sent just before a re-key, or fetched from a Store node). An evicted epoch's key
/// and every chain derived from it are wiped: that is the forward-secrecy horizon.
pub const MAX_PAST_EPOCHS: usize = 4;

/// Skipped channel message keys a member keeps in total, across senders and epochs; the oldest
/// is evicted (vodozemac-style bounded store). Same order as the 1:1 bound (2,000).
pub const MAX_SKIPPED_CHANNEL_KEYS: usize = 2_000;

/// Skipped message keys cached by one forward jump of a sender's chain (the indices right
/// below the received one, most likely to arrive late). Keys further back in a larger gap are
/// not cached; such messages are read with `decrypt_history`, which derives from the epoch key.
/// Bounds the work of one jump to 128 key derivations.
pub const MAX_SKIPPED_KEYS_PER_JUMP: u32 = 128;

/// Largest forward jump of a sender's chain in one message. The four-part ratchet reaches any
/// index in at most 4 × 255 hashes, so the jump needs no bound beyond the index range itself
/// (DECISIONS.md: "catching up any gap costs a bounded number of hashes").
pub const MAX_RATCHET_JUMP: u32 = u32::MAX;

/// Parsed sender keys a member view caches (saves one point decompression per received
/// message); cleared when full. Not a protocol bound: a cache of a pure function.
pub const MAX_CACHED_SENDER_KEYS: usize = 4_096;

/// Plaintext bytes of one channel message, so that the signed message fits
/// [`MAX_SIGNED_MESSAGE_BYTES`].
pub const MAX_CHANNEL_PLAINTEXT_BYTES: usize = MAX_SIGNED_MESSAGE_BYTES - 1024;

/// Re-key entries per re-key message (part), so that a signed part fits
/// [`MAX_SIGNED_MESSAGE_BYTES`] with 1 KiB for its header and signature: 2,633 entries of
/// 56 bytes. 10,000 members take 4 parts.
pub const MAX_REKEY_ENTRIES_PER_PART: usize = (MAX_SIGNED_MESSAGE_BYTES - 1024) / 56;

/// Parts of one re-key: enough for [`MAX_MEMBERS`].
pub const MAX_REKEY_PARTS: u32 = 40;

/// Join requests the owner keeps waiting (ON_REQUEST organizations); the oldest is dropped.
pub const MAX_PENDING_REQUESTS: usize = 1_000;

/// Invitation grants the owner keeps on record (a grant is honoured only while on record, so
/// kicking or banning revokes it); the oldest is dropped.
pub const MAX_OUTSTANDING_GRANTS: usize = 10_000;

/// Lifetime of a grant: 7 days (DECISIONS.md "Organizations"; status-go `GrantExpirationTime`).
pub const GRANT_VALIDITY_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Periodic re-key interval: 48 h (DECISIONS.md; status-go `RekeyInterval`).
pub const REKEY_INTERVAL_MS: u64 = 48 * 60 * 60 * 1000;

/// Periodic republication of the description: 24 h (DECISIONS.md; organisation-channels
/// draft "at least every 24 h").
pub const REPUBLISH_INTERVAL_MS: u64 = 24 * 60 * 60 * 1000;
