//! The Waku metadata handshake, `/vac/waku/metadata/1.0.0` (nwaku `waku_metadata`,
//! waku-transport.md §1.3).
//!
//! Request and response have the same shape, one length-prefixed frame each way
//! ([`crate::framing`]):
//!
//! ```text
//! WakuMetadataRequest = WakuMetadataResponse = { optional uint32 cluster_id = 1;
//!                                                repeated uint32 shards     = 2; }
//! ```
//!
//! Both sides answer every request with their own cluster and shards. After every new
//! connection the node also asks the peer, and disconnects it (nwaku `peer_manager.nim`
//! `onPeerMetadata`) when:
//!
//! 1. the request fails (no such protocol, garbage, timeout);
//! 2. the response has no cluster id;
//! 3. the cluster id differs from ours;
//! 4. the peer's shards and ours have none in common.
//!
//! Decoding rejects a cluster id over 65,535 and shard indices of 1,024 or more (static sharding
//! has clusters 0–65,535 with 1,024 shards each, digest §7), and more than
//! [`MAX_METADATA_SHARDS`] entries.

use kaiwa_transport::{ClusterId, ShardIndex};
use kaiwa_wire::prost::Message as _;
use kaiwa_wire::waku::metadata::WakuMetadataResponse;

use crate::limits::{MAX_METADATA_MESSAGE_SIZE, MAX_METADATA_SHARDS};

/// Why a metadata message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum MetadataDecodeError {
    /// Longer than [`MAX_METADATA_MESSAGE_SIZE`].
    #[error("metadata message of {actual} bytes exceeds {max}")]
    TooLarge {
        /// Bytes received.
        actual: usize,
        /// The bound.
        max: usize,
    },
    /// Not a protobuf of the expected shape.
    #[error("metadata message is not a valid protobuf")]
    Protobuf,
    /// A cluster id or shard index outside static sharding's ranges.
    #[error("{field} out of range")]
    OutOfRange {
        /// Which field.
        field: &'static str,
    },
    /// More shard entries than [`MAX_METADATA_SHARDS`].
    #[error("{actual} shards exceed {max}")]
    TooManyShards {
        /// Entries received.
        actual: usize,
        /// The bound.
        max: usize,
    },
}

/// Why a peer fails the handshake (the four rules of the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// The response carried no cluster id.
    NoClusterId,
    /// The peer is in another cluster.
    Cluster,
    /// Same cluster, no shard in common.
    NoSharedShard,
}

/// One side's cluster and shards, as carried by a metadata message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShardInfo {
    /// `None` when the peer sent no cluster id.
    pub(crate) cluster: Option<ClusterId>,
    /// Sorted, without duplicates.
    pub(crate) shards: Vec<ShardIndex>,
}

impl ShardInfo {
    /// Our own side.
    pub(crate) fn new(cluster: ClusterId, shards: &[ShardIndex]) -> Self {
        let mut shards = shards.to_vec();
        shards.sort_unstable();
        shards.dedup();
        Self { cluster: Some(cluster), shards }
    }

    /// Decodes a request (or response: same shape) from a peer.
    ///
    /// # Errors
    ///
    /// [`MetadataDecodeError`] for oversize input, a bad protobuf or out-of-range values.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, MetadataDecodeError> {
        if bytes.len() > MAX_METADATA_MESSAGE_SIZE {
            return Err(MetadataDecodeError::TooLarge {
                actual: bytes.len(),
                max: MAX_METADATA_MESSAGE_SIZE,
            });
        }
        let wire =
            WakuMetadataResponse::decode(bytes).map_err(|_| MetadataDecodeError::Protobuf)?;
        if wire.shards.len() > MAX_METADATA_SHARDS {
            return Err(MetadataDecodeError::TooManyShards {
                actual: wire.shards.len(),
                max: MAX_METADATA_SHARDS,
            });
        }
        let cluster = wire
            .cluster_id
            .map(|id| {
                u16::try_from(id)
                    .map(ClusterId::new)
                    .map_err(|_| MetadataDecodeError::OutOfRange { field: "cluster_id" })
            })
            .transpose()?;
        let mut shards = wire
            .shards
            .iter()
            .map(|&shard| {
                u16::try_from(shard)
                    .ok()
                    .and_then(ShardIndex::new)
                    .ok_or(MetadataDecodeError::OutOfRange { field: "shards" })
            })
            .collect::<Result<Vec<_>, _>>()?;
        shards.sort_unstable();
        shards.dedup();
        Ok(Self { cluster, shards })
    }

    /// The request we send.
    pub(crate) fn encode_request(&self) -> Vec<u8> {
        self.encode_unpacked()
    }

    /// The response we send.
    pub(crate) fn encode_response(&self) -> Vec<u8> {
        self.encode_unpacked()
    }

    /// `cluster_id` then one `shards` field per shard: the *unpacked* encoding of the repeated
    /// field (`[packed = false]` in `proto/waku/metadata.proto`), which is what nwaku writes and
    /// the only form js-waku's protons decoder reads (the packed proto3 default makes js-waku
    /// fail with "index out of range"). Every protobuf decoder accepts both.
    fn encode_unpacked(&self) -> Vec<u8> {
        WakuMetadataResponse {
            cluster_id: self.cluster.map(|c| u32::from(c.get())),
            shards: self.shards.iter().map(|s| u32::from(s.get())).collect(),
        }
        .encode_to_vec()
    }

    /// Checks a peer's response against our side (`self`), rules 2–4 of the module doc.
    pub(crate) fn check_peer(&self, peer: &Self) -> Result<(), Mismatch> {
        let theirs = peer.cluster.ok_or(Mismatch::NoClusterId)?;
        if Some(theirs) != self.cluster {
            return Err(Mismatch::Cluster);
        }
        if !peer.shards.iter().any(|shard| self.shards.binary_search(shard).is_ok()) {
            return Err(Mismatch::NoSharedShard);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_wire::waku::metadata::WakuMetadataRequest;
    use proptest::prelude::*;

    use super::*;

    fn ours() -> ShardInfo {
        ShardInfo::new(
            ClusterId::new(42),
            &[ShardIndex::new(3).unwrap(), ShardIndex::new(0).unwrap()],
        )
    }

    #[test]
    fn request_and_response_round_trip_sorted() {
        let info = ours();
        assert_eq!(info.shards, vec![ShardIndex::new(0).unwrap(), ShardIndex::new(3).unwrap()]);
        assert_eq!(ShardInfo::decode(&info.encode_request()).unwrap(), info);
        assert_eq!(ShardInfo::decode(&info.encode_response()).unwrap(), info);
    }

    #[test]
    fn known_encoding_matches_the_wire_format() {
        // cluster_id = 42 (field 1, varint), shards = [0, 3] (field 2, unpacked, as nwaku).
        assert_eq!(ours().encode_response(), [0x08, 42, 0x10, 0x00, 0x10, 0x03]);
        assert_eq!(ours().encode_request(), ours().encode_response());
        // The packed form (prost's default) decodes the same.
        assert_eq!(ShardInfo::decode(&[0x08, 42, 0x12, 0x02, 0x00, 0x03]).unwrap(), ours());
        let request = WakuMetadataRequest { cluster_id: Some(42), shards: vec![0, 3] };
        assert_eq!(request.encode_to_vec(), ours().encode_request());
    }

    #[test]
    fn peer_checks_follow_nwaku() {
        let me = ours();
        let same = ShardInfo::new(ClusterId::new(42), &[ShardIndex::new(3).unwrap()]);
        assert_eq!(me.check_peer(&same), Ok(()));
        let other_cluster = ShardInfo::new(ClusterId::new(16), &[ShardIndex::new(0).unwrap()]);
        assert_eq!(me.check_peer(&other_cluster), Err(Mismatch::Cluster));
        let disjoint = ShardInfo::new(ClusterId::new(42), &[ShardIndex::new(7).unwrap()]);
        assert_eq!(me.check_peer(&disjoint), Err(Mismatch::NoSharedShard));
        let anonymous = ShardInfo::decode(&[0x12, 0x01, 0x00]).unwrap();
        assert_eq!(anonymous.cluster, None);
        assert_eq!(me.check_peer(&anonymous), Err(Mismatch::NoClusterId));
    }

    #[test]
    fn out_of_range_and_oversize_input_is_refused() {
        let big_cluster = WakuMetadataResponse { cluster_id: Some(65_536), shards: vec![0] };
        assert_eq!(
            ShardInfo::decode(&big_cluster.encode_to_vec()),
            Err(MetadataDecodeError::OutOfRange { field: "cluster_id" })
        );
        let big_shard = WakuMetadataResponse { cluster_id: Some(1), shards: vec![1024] };
        assert_eq!(
            ShardInfo::decode(&big_shard.encode_to_vec()),
            Err(MetadataDecodeError::OutOfRange { field: "shards" })
        );
        let many = WakuMetadataResponse { cluster_id: Some(1), shards: vec![0; 1025] };
        assert_eq!(
            ShardInfo::decode(&many.encode_to_vec()),
            Err(MetadataDecodeError::TooManyShards { actual: 1025, max: 1024 })
        );
        assert!(matches!(
            ShardInfo::decode(&vec![0; MAX_METADATA_MESSAGE_SIZE + 1]),
            Err(MetadataDecodeError::TooLarge { .. })
        ));
        assert_eq!(ShardInfo::decode(&[0xff, 0xff]), Err(MetadataDecodeError::Protobuf));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = ShardInfo::decode(&bytes);
        }

        #[test]
        fn valid_messages_round_trip(cluster in any::<u16>(), shards in prop::collection::vec(0_u16..1024, 1..32)) {
            let shards: Vec<_> = shards.into_iter().map(|s| ShardIndex::new(s).unwrap()).collect();
            let info = ShardInfo::new(ClusterId::new(cluster), &shards);
            prop_assert_eq!(ShardInfo::decode(&info.encode_request()).unwrap(), info);
        }
    }
}
