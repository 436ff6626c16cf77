//! What the simulated network records: a trace of events and per-node counters.

use core::fmt;
use core::time::Duration;

use crate::hash::MessageHash;

/// A simulated node. Index 0 is the store.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The store node, present in every simulated network.
    pub const STORE: Self = Self(0);

    /// The index (0 is the store, then nodes in creation order).
    pub const fn index(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.0)
    }
}

/// Why a copy of a message did not reach a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// Lost on the link.
    Loss,
    /// Sender and receiver were on different sides of a partition (at send or delivery time).
    Partition,
    /// The store did not admit it (timestamp absent or outside the admission window).
    StoreRejected,
}

/// One event of the simulation, at a virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceEvent {
    /// `from` published the message with this hash.
    Published {
        /// Virtual time.
        at: Duration,
        /// The publisher.
        from: NodeId,
        /// The message.
        hash: MessageHash,
    },
    /// A copy reached `to` (the store included).
    Delivered {
        /// Virtual time.
        at: Duration,
        /// The receiver.
        to: NodeId,
        /// The message.
        hash: MessageHash,
    },
    /// A copy addressed to `to` was dropped.
    Dropped {
        /// Virtual time.
        at: Duration,
        /// The intended receiver.
        to: NodeId,
        /// The message.
        hash: MessageHash,
        /// Why.
        reason: DropReason,
    },
    /// An extra copy addressed to `to` was scheduled.
    Duplicated {
        /// Virtual time.
        at: Duration,
        /// The receiver.
        to: NodeId,
        /// The message.
        hash: MessageHash,
    },
}

/// Counters of one node. Copies addressed to the node count once each in `delivered` or
/// `dropped`; `duplicated` counts the extra copies scheduled for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct NodeStats {
    /// Messages this node published.
    pub published: u64,
    /// Copies that reached this node.
    pub delivered: u64,
    /// Copies addressed to this node that were dropped.
    pub dropped: u64,
    /// Extra copies scheduled for this node by the duplication fault.
    pub duplicated: u64,
}
