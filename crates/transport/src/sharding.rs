//! Autosharding: which static shard carries a content topic.
//!
//! ```text
//! shard        = u64_be( SHA-256( utf8(application) ‖ utf8(version) )[24..32] ) mod shard_count
//! pubsub topic = /waku/2/rs/{cluster}/{shard}
//! ```
//!
//! Relay sharding, "Automatic Sharding" (the spec reduces the whole hash modulo the shard
//! count; nwaku and go-waku reduce its last 8 bytes, which agrees for every power of two and is
//! what DECISIONS.md fixes). Only `{application}` and `{version}` are hashed, so every kaiwa
//! topic of one application lands on one shard: filtering is by content topic, routing by
//! application. Spec example: application `myapp`, version `1`, 8 shards → shard 0.

use crate::content_topic::ContentTopic;
use crate::limits::MAX_SHARDS_PER_CLUSTER;
use crate::pubsub_topic::{ClusterId, PubsubTopic, ShardIndex};

use sha2::{Digest as _, Sha256};

/// Why an autosharding configuration is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardingError {
    /// The shard count is 0 or more than [`MAX_SHARDS_PER_CLUSTER`].
    #[error("shard count {actual} is not in 1..={max}")]
    ShardCount {
        /// The bound (inclusive).
        max: u16,
        /// The count given.
        actual: u16,
    },
}

/// An autosharded network: a cluster and its number of shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Autosharding {
    cluster: ClusterId,
    shard_count: u16,
}

impl Autosharding {
    /// The Waku Network: cluster 1, 8 shards (js-waku's default network configuration).
    pub const THE_WAKU_NETWORK: Self =
        Self { cluster: ClusterId::THE_WAKU_NETWORK, shard_count: 8 };

    /// Autosharding over shards `0..shard_count` of `cluster`.
    ///
    /// # Errors
    ///
    /// [`ShardingError::ShardCount`] unless `1 <= shard_count <= 1024`.
    pub const fn new(cluster: ClusterId, shard_count: u16) -> Result<Self, ShardingError> {
        if shard_count == 0 || shard_count > MAX_SHARDS_PER_CLUSTER {
            return Err(ShardingError::ShardCount {
                max: MAX_SHARDS_PER_CLUSTER,
                actual: shard_count,
            });
        }
        Ok(Self { cluster, shard_count })
    }

    /// The cluster.
    pub const fn cluster(&self) -> ClusterId {
        self.cluster
    }

    /// The number of shards.
    pub const fn shard_count(&self) -> u16 {
        self.shard_count
    }

    /// The shard of `content_topic` (see the module documentation for the formula).
    pub fn shard(&self, content_topic: &ContentTopic) -> ShardIndex {
        let digest: [u8; 32] = Sha256::new()
            .chain_update(content_topic.application().as_bytes())
            .chain_update(content_topic.version().as_bytes())
            .finalize()
            .into();
        let [.., b24, b25, b26, b27, b28, b29, b30, b31] = digest;
        let value = u64::from_be_bytes([b24, b25, b26, b27, b28, b29, b30, b31]);
        let index = value % u64::from(self.shard_count);
        // index < shard_count <= 1024, so both conversions succeed.
        u16::try_from(index).ok().and_then(ShardIndex::new).unwrap_or(ShardIndex::ZERO)
    }

    /// The pubsub topic `/waku/2/rs/{cluster}/{shard}` of `content_topic`.
    pub fn pubsub_topic(&self, content_topic: &ContentTopic) -> PubsubTopic {
        PubsubTopic::static_shard(self.cluster, self.shard(content_topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_count_is_bounded() {
        assert_eq!(
            Autosharding::new(ClusterId::new(1), 0),
            Err(ShardingError::ShardCount { max: 1024, actual: 0 })
        );
        assert_eq!(
            Autosharding::new(ClusterId::new(1), 1025),
            Err(ShardingError::ShardCount { max: 1024, actual: 1025 })
        );
        assert!(Autosharding::new(ClusterId::new(1), 1024).is_ok());
    }

    #[test]
    fn only_application_and_version_route() {
        let net = Autosharding::new(ClusterId::STATUS, 1024).unwrap();
        let a = ContentTopic::parse("/kaiwa/1/a/proto").unwrap();
        let b = ContentTopic::parse("/0/kaiwa/1/b/json").unwrap();
        assert_eq!(net.shard(&a), net.shard(&b));
        assert_eq!(net.pubsub_topic(&a).shard(), Some((ClusterId::STATUS, net.shard(&a))));
    }
}
