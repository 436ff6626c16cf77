//! Counters a node keeps about its traffic, readable at any time through
//! [`RelayNode::metrics`](crate::RelayNode::metrics).

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a node's counters since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RelayMetrics {
    /// Messages this node published.
    pub published: u64,
    /// Relayed messages accepted (valid WakuMessages on a relayed topic).
    pub accepted: u64,
    /// Relayed messages rejected as invalid (malformed protobuf, oversize, `meta` over 64
    /// bytes, invalid content topic). Rejected messages are never forwarded and cost their
    /// sender gossipsub's P₄ penalty.
    pub rejected: u64,
    /// Messages dropped because a local subscription's queue was full.
    pub subscription_overflows: u64,
    /// Messages added to the archive.
    pub archived: u64,
    /// Store queries from peers answered with status 200 (the node's own queries answered from
    /// its archive are not counted).
    pub store_queries_served: u64,
    /// Store requests answered with 400 (undecodable or breaking a rule).
    pub store_bad_requests: u64,
    /// Metadata requests that could not be decoded (the stream is dropped).
    pub metadata_bad_requests: u64,
    /// Peers disconnected by the metadata handshake (other cluster, no shared shard, failed
    /// handshake).
    pub metadata_disconnects: u64,
    /// Inbound metadata or Store requests that failed after they were read: left unanswered
    /// (a bad metadata request), or the stream broke while answering. Frames the codec refuses
    /// outright (bad length prefix, over the bound, truncated) are dropped inside libp2p's
    /// request-response handler before the node sees them, and are not counted.
    pub inbound_stream_failures: u64,
    /// Redials of static peers.
    pub redials: u64,
    /// Peers disconnected because their gossipsub score fell below the graylist threshold
    /// (nwaku `disconnectBadPeers`).
    pub bad_peer_disconnects: u64,
}

/// The live counters behind [`RelayMetrics`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) accepted: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) subscription_overflows: AtomicU64,
    pub(crate) archived: AtomicU64,
    pub(crate) store_queries_served: AtomicU64,
    pub(crate) store_bad_requests: AtomicU64,
    pub(crate) metadata_bad_requests: AtomicU64,
    pub(crate) metadata_disconnects: AtomicU64,
    pub(crate) inbound_stream_failures: AtomicU64,
    pub(crate) redials: AtomicU64,
    pub(crate) bad_peer_disconnects: AtomicU64,
}

/// Adds one.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn snapshot(&self) -> RelayMetrics {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let Self {
            published,
            accepted,
            rejected,
            subscription_overflows,
            archived,
            store_queries_served,
            store_bad_requests,
            metadata_bad_requests,
            metadata_disconnects,
            inbound_stream_failures,
            redials,
            bad_peer_disconnects,
        } = self;
        RelayMetrics {
            published: read(published),
            accepted: read(accepted),
            rejected: read(rejected),
            subscription_overflows: read(subscription_overflows),
            archived: read(archived),
            store_queries_served: read(store_queries_served),
            store_bad_requests: read(store_bad_requests),
            metadata_bad_requests: read(metadata_bad_requests),
            metadata_disconnects: read(metadata_disconnects),
            inbound_stream_failures: read(inbound_stream_failures),
            redials: read(redials),
            bad_peer_disconnects: read(bad_peer_disconnects),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_every_counter() {
        let counters = Counters::default();
        bump(&counters.rejected);
        bump(&counters.rejected);
        bump(&counters.redials);
        let snapshot = counters.snapshot();
        assert_eq!(snapshot, RelayMetrics { rejected: 2, redials: 1, ..RelayMetrics::default() });
    }
}
