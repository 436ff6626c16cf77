//! Pubsub topics: the gossipsub topic a Waku message travels on.
//!
//! ```text
//! static shard:  /waku/2/rs/{cluster}/{shard}     cluster 0..=65535, shard 0..=1023,
//!                                                 canonical decimal (no sign, no leading 0)
//! named:         /waku/2/{name}                   e.g. the legacy /waku/2/default-waku/proto
//! ```
//!
//! Checks (each cites its source):
//! - at most [`MAX_PUBSUB_TOPIC_LEN`] bytes, visible ASCII only (kaiwa bound and rule);
//! - prefix `/waku/2/` and a non-empty name (23/WAKU2-TOPICS "Pubsub topic format");
//! - a name starting with `rs/` is a static shard and must parse exactly, with cluster
//!   `< 2^16` and shard `<` [`MAX_SHARDS_PER_CLUSTER`] (relay sharding, "Static Sharding").
//!   Canonical decimal means one shard has one name, so `/waku/2/rs/016/0` cannot alias
//!   `/waku/2/rs/16/0` in a store or a message hash.

use core::fmt;
use core::str::FromStr;

use crate::content_topic::is_visible_ascii;
use crate::limits::{MAX_PUBSUB_TOPIC_LEN, MAX_SHARDS_PER_CLUSTER};

const PREFIX: &str = "/waku/2/";
const SHARD_PREFIX: &str = "/waku/2/rs/";

/// A shard cluster index (relay sharding: `0..=65535`; `0..=15` are reserved, 1 is The Waku
/// Network, 16 is Status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId(u16);

impl ClusterId {
    /// Cluster 1, The Waku Network (js-waku's default; RLN is enforced there).
    pub const THE_WAKU_NETWORK: Self = Self(1);
    /// Cluster 16, allocated to Status (digest §7).
    pub const STATUS: Self = Self(16);

    /// The cluster with this index. Every `u16` is a valid cluster index.
    pub const fn new(index: u16) -> Self {
        Self(index)
    }

    /// The index.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A shard index within a cluster, below [`MAX_SHARDS_PER_CLUSTER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardIndex(u16);

impl ShardIndex {
    /// Shard 0.
    pub const ZERO: Self = Self(0);

    /// The shard with this index, or `None` if it is `>=` [`MAX_SHARDS_PER_CLUSTER`].
    pub const fn new(index: u16) -> Option<Self> {
        if index < MAX_SHARDS_PER_CLUSTER { Some(Self(index)) } else { None }
    }

    /// The index.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ShardIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Why a string is not a pubsub topic. Never carries the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PubsubTopicError {
    /// Longer than [`MAX_PUBSUB_TOPIC_LEN`].
    #[error("pubsub topic is {actual} bytes long, more than {max}")]
    TooLong {
        /// The bound.
        max: usize,
        /// The length received.
        actual: usize,
    },
    /// A byte outside visible ASCII.
    #[error("pubsub topic byte at offset {offset} is not visible ASCII")]
    InvalidByte {
        /// Offset of the first offending byte.
        offset: usize,
    },
    /// Does not start with `/waku/2/` followed by a name.
    #[error("pubsub topic is not of the form /waku/2/{{name}}")]
    NotWaku2,
    /// Starts with `/waku/2/rs/` but is not `/waku/2/rs/{cluster}/{shard}` in canonical decimal.
    #[error("static shard topic is not /waku/2/rs/{{cluster}}/{{shard}} in canonical decimal")]
    MalformedShard,
    /// The shard index is `>=` [`MAX_SHARDS_PER_CLUSTER`].
    #[error("shard index is not below {max}")]
    ShardOutOfRange {
        /// The bound (exclusive).
        max: u16,
    },
}

/// A validated pubsub topic; see the module documentation for the forms and rules.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PubsubTopic {
    text: String,
    shard: Option<(ClusterId, ShardIndex)>,
}

impl PubsubTopic {
    /// The static-shard topic `/waku/2/rs/{cluster}/{shard}`.
    pub fn static_shard(cluster: ClusterId, shard: ShardIndex) -> Self {
        Self { text: format!("{SHARD_PREFIX}{cluster}/{shard}"), shard: Some((cluster, shard)) }
    }

    /// Parses and validates `text`.
    ///
    /// # Errors
    ///
    /// [`PubsubTopicError`] names the first rule the text breaks.
    pub fn parse(text: &str) -> Result<Self, PubsubTopicError> {
        if text.len() > MAX_PUBSUB_TOPIC_LEN {
            return Err(PubsubTopicError::TooLong {
                max: MAX_PUBSUB_TOPIC_LEN,
                actual: text.len(),
            });
        }
        if let Some(offset) = text.bytes().position(|b| !is_visible_ascii(b)) {
            return Err(PubsubTopicError::InvalidByte { offset });
        }
        let name = text.strip_prefix(PREFIX).ok_or(PubsubTopicError::NotWaku2)?;
        if name.is_empty() {
            return Err(PubsubTopicError::NotWaku2);
        }
        let shard = match text.strip_prefix(SHARD_PREFIX) {
            None => None,
            Some(rest) => {
                let (cluster, shard) =
                    rest.split_once('/').ok_or(PubsubTopicError::MalformedShard)?;
                let cluster = parse_canonical(cluster).ok_or(PubsubTopicError::MalformedShard)?;
                let shard = parse_canonical(shard).ok_or(PubsubTopicError::MalformedShard)?;
                let shard = ShardIndex::new(shard)
                    .ok_or(PubsubTopicError::ShardOutOfRange { max: MAX_SHARDS_PER_CLUSTER })?;
                Some((ClusterId::new(cluster), shard))
            }
        };
        Ok(Self { text: text.to_owned(), shard })
    }

    /// The whole topic.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Cluster and shard, if this is a static-shard topic.
    pub fn shard(&self) -> Option<(ClusterId, ShardIndex)> {
        self.shard
    }
}

/// Canonical decimal `u16`: digits only, no leading zero unless the number is 0.
fn parse_canonical(digits: &str) -> Option<u16> {
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if canonical { digits.parse().ok() } else { None }
}

impl fmt::Display for PubsubTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for PubsubTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PubsubTopic").field(&self.text).finish()
    }
}

impl FromStr for PubsubTopic {
    type Err = PubsubTopicError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<&str> for PubsubTopic {
    type Error = PubsubTopicError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::parse(text)
    }
}

impl AsRef<str> for PubsubTopic {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn static_shards_parse_and_print() {
        let topic = PubsubTopic::parse("/waku/2/rs/16/64").unwrap();
        assert_eq!(topic.shard(), Some((ClusterId::STATUS, ShardIndex::new(64).unwrap())));
        assert_eq!(
            topic,
            PubsubTopic::static_shard(ClusterId::STATUS, ShardIndex::new(64).unwrap())
        );
        let max = PubsubTopic::parse("/waku/2/rs/65535/1023").unwrap();
        assert_eq!(max.shard().map(|(c, s)| (c.get(), s.get())), Some((65535, 1023)));
    }

    #[test]
    fn named_topics_are_kept_for_legacy_interop() {
        let topic = PubsubTopic::parse("/waku/2/default-waku/proto").unwrap();
        assert_eq!(topic.shard(), None);
        assert_eq!(topic.to_string(), "/waku/2/default-waku/proto");
    }

    #[test]
    fn malformed_topics_are_rejected() {
        use PubsubTopicError as E;
        let cases: &[(&str, E)] = &[
            ("", E::NotWaku2),
            ("/waku/2/", E::NotWaku2),
            ("/waku/1/rs/16/0", E::NotWaku2),
            ("/waku/2/rs/16", E::MalformedShard),
            ("/waku/2/rs/016/0", E::MalformedShard),
            ("/waku/2/rs/16/00", E::MalformedShard),
            ("/waku/2/rs/16/+1", E::MalformedShard),
            ("/waku/2/rs/65536/0", E::MalformedShard),
            ("/waku/2/rs/16/0/x", E::MalformedShard),
            ("/waku/2/rs/16/1024", E::ShardOutOfRange { max: 1024 }),
            ("/waku/2/rs/ 16/0", E::InvalidByte { offset: 11 }),
        ];
        for (text, expected) in cases {
            assert_eq!(PubsubTopic::parse(text).as_ref(), Err(expected), "{text:?}");
        }
        assert_eq!(ShardIndex::new(1024), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_strings_never_panic(text in "(/waku/2/(rs/)?)?.{0,40}") {
            let _ = PubsubTopic::parse(&text);
        }

        #[test]
        fn static_shards_round_trip(cluster in any::<u16>(), shard in 0u16..1024) {
            let topic = PubsubTopic::static_shard(ClusterId::new(cluster), ShardIndex::new(shard).unwrap());
            prop_assert_eq!(PubsubTopic::parse(topic.as_str()).unwrap(), topic);
        }
    }
}
