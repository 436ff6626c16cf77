//! Persisted records, hand-written in the shape `proto/store/org.proto` will have once the lead
//! moves them there (package `kaiwa.store.v1`). Like the generated store records they hold
//! secrets: no `Debug`, zeroized on drop.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// Current version of both records.
pub(crate) const RECORD_VERSION: u32 = 1;

/// The owner's organization.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct OrganizationRecord {
    #[prost(uint32, tag = "1")]
    pub(crate) version: u32,
    /// 32-byte Ed25519 secret of the organization key.
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) org_secret: Vec<u8>,
    /// 32-byte X25519 secret of the request key.
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) request_dh_secret: Vec<u8>,
    /// The current signed description (ApplicationMetadataMessage bytes).
    #[prost(bytes = "vec", tag = "4")]
    pub(crate) description: Vec<u8>,
    #[prost(message, repeated, tag = "5")]
    pub(crate) epochs: Vec<OwnerEpochRecord>,
    #[prost(message, repeated, tag = "6")]
    pub(crate) pending: Vec<PendingRequestRecord>,
    #[prost(message, repeated, tag = "7")]
    pub(crate) grants: Vec<GrantRecord>,
    /// Arrival counter of pending requests (oldest is evicted first).
    #[prost(uint64, tag = "8")]
    pub(crate) arrivals: u64,
}

/// The current epoch key of one key group (owner side).
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct OwnerEpochRecord {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) group_id: Vec<u8>,
    #[prost(uint32, tag = "2")]
    pub(crate) epoch: u32,
    /// 32-byte epoch key.
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) key: Vec<u8>,
    /// Unix milliseconds.
    #[prost(uint64, tag = "4")]
    pub(crate) created_ms: u64,
}

/// A pending join request.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct PendingRequestRecord {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) member_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) dh_key: Vec<u8>,
    #[prost(uint64, tag = "3")]
    pub(crate) clock: u64,
    #[prost(string, tag = "4")]
    pub(crate) channel_id: String,
    #[prost(string, tag = "5")]
    pub(crate) display_name: String,
    #[prost(uint64, tag = "6")]
    pub(crate) arrival: u64,
}

/// An outstanding invitation grant.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct GrantRecord {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) member_id: Vec<u8>,
    #[prost(uint64, tag = "2")]
    pub(crate) clock: u64,
}

/// A member's view.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct OrganizationViewRecord {
    #[prost(uint32, tag = "1")]
    pub(crate) version: u32,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) organization_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) member_id: Vec<u8>,
    /// The current signed description; empty if none yet.
    #[prost(bytes = "vec", tag = "4")]
    pub(crate) description: Vec<u8>,
    #[prost(message, repeated, tag = "5")]
    pub(crate) epochs: Vec<EpochRecord>,
    /// Skipped message keys, oldest first (the eviction order).
    #[prost(message, repeated, tag = "6")]
    pub(crate) skipped: Vec<SkippedKeyRecord>,
}

/// One epoch held by a member.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct EpochRecord {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) group_id: Vec<u8>,
    #[prost(uint32, tag = "2")]
    pub(crate) epoch: u32,
    /// 32-byte epoch key.
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) key: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    pub(crate) receivers: Vec<ChainRecord>,
    #[prost(message, repeated, tag = "5")]
    pub(crate) senders: Vec<ChainRecord>,
}

/// One chain position.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct ChainRecord {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) channel_group: Vec<u8>,
    /// Sender id (receiving chains only).
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) sender: Vec<u8>,
    /// The chain consumed index 2^32 - 1 and has no state left.
    #[prost(bool, tag = "3")]
    pub(crate) exhausted: bool,
    #[prost(uint32, tag = "4")]
    pub(crate) counter: u32,
    /// 128 bytes: R_0 ‖ R_1 ‖ R_2 ‖ R_3.
    #[prost(bytes = "vec", tag = "5")]
    pub(crate) ratchet: Vec<u8>,
}

/// One skipped message key.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, prost::Message)]
#[prost(skip_debug)]
pub(crate) struct SkippedKeyRecord {
    #[prost(bytes = "vec", tag = "1")]
    pub(crate) key_group: Vec<u8>,
    #[prost(uint32, tag = "2")]
    pub(crate) epoch: u32,
    #[prost(bytes = "vec", tag = "3")]
    pub(crate) channel_group: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub(crate) sender: Vec<u8>,
    #[prost(uint32, tag = "5")]
    pub(crate) index: u32,
    /// 32-byte message key.
    #[prost(bytes = "vec", tag = "6")]
    pub(crate) key: Vec<u8>,
}
