//! Driving the simulated network: run it and pump every peer until nothing moves, and read the
//! trace to show that the configured faults really happened.
//!
//! ```text
//! settle(peers):
//!   repeat (at most MAX_SETTLE_ROUNDS):
//!     network.run_until_idle()            every copy in flight is delivered (virtual time moves)
//!     each peer: pump(), then catch_up()  live copies, then the store since the last catch-up
//!   until a round processed no new message and published nothing
//! ```
//!
//! A peer left out of `settle_except` keeps receiving copies into its subscriptions but
//! processes none of them: the scenarios use it to act on stale state.

use std::collections::{BTreeMap, BTreeSet};

use kaiwa_transport::MessageHash;
use kaiwa_transport::sim::{NodeId, TraceEvent};

use super::error::HarnessError;
use super::peer::Peer;

/// Rounds after which `settle` gives up; the scenarios settle in a handful.
const MAX_SETTLE_ROUNDS: usize = 64;

/// Runs the network and pumps every peer until a round moves nothing; returns the rounds run.
pub(crate) fn settle(peers: &mut [Peer]) -> Result<usize, HarnessError> {
    settle_except(peers, &[])
}

/// As [`settle`], leaving the peers at the indices `idle` untouched.
pub(crate) fn settle_except(peers: &mut [Peer], idle: &[usize]) -> Result<usize, HarnessError> {
    let Some(network) = peers.first().map(|p| p.network().clone()) else { return Ok(0) };
    for round in 1..=MAX_SETTLE_ROUNDS {
        network.run_until_idle();
        let mut moved = 0;
        for (index, peer) in peers.iter_mut().enumerate() {
            if idle.contains(&index) {
                continue;
            }
            moved += peer.pump()?;
            moved += peer.catch_up()?;
        }
        if moved == 0 && network.pending() == 0 {
            return Ok(round);
        }
    }
    Err(HarnessError::NotSettled { rounds: MAX_SETTLE_ROUNDS })
}

/// First deliveries to a node (the store excluded) of a message published before another
/// message that reached the node earlier: how often the faults reordered traffic.
pub(crate) fn reordered_deliveries(trace: &[TraceEvent]) -> usize {
    let mut order: BTreeMap<MessageHash, usize> = BTreeMap::new();
    let mut latest: BTreeMap<NodeId, usize> = BTreeMap::new();
    let mut delivered: BTreeSet<(NodeId, MessageHash)> = BTreeSet::new();
    let mut reordered = 0;
    for event in trace {
        match event {
            TraceEvent::Published { hash, .. } => {
                let next = order.len();
                order.entry(*hash).or_insert(next);
            }
            TraceEvent::Delivered { to, hash, .. } if *to != NodeId::STORE => {
                let Some(&sequence) = order.get(hash) else { continue };
                if !delivered.insert((*to, *hash)) {
                    continue;
                }
                let newest = latest.entry(*to).or_insert(sequence);
                if sequence < *newest {
                    reordered += 1;
                } else {
                    *newest = sequence;
                }
            }
            _ => {}
        }
    }
    reordered
}
