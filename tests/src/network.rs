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
use super::limits::MAX_SETTLE_ROUNDS;
use super::peer::Peer;

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

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use kaiwa_transport::sim::{LinkFaults, SimNetwork};
    use kaiwa_transport::{Autosharding, ContentFilter, ContentTopic, WakuMessage};

    use super::*;

    #[test]
    fn a_message_overtaken_on_its_link_counts_as_reordered_once() {
        let network = SimNetwork::new(1);
        let (alice, bob) = (network.node("alice"), network.node("bob"));
        let topic = ContentTopic::parse("/kaiwa/1/reorder/proto").unwrap();
        let pubsub = Autosharding::THE_WAKU_NETWORK.pubsub_topic(&topic);
        let _inbox =
            bob.subscribe_now(ContentFilter::new(pubsub.clone(), [topic.clone()]).unwrap());
        let send = |payload: &[u8], delay_ms: u64| {
            let delay = Duration::from_millis(delay_ms);
            let faults = LinkFaults::RELIABLE.with_delay(delay, delay);
            network.set_link_faults(alice.id(), bob.id(), faults);
            let message = WakuMessage::new(topic.clone(), payload.to_vec()).unwrap();
            alice.publish_now(pubsub.clone(), message).unwrap();
        };

        send(b"first", 0);
        send(b"second", 10);
        network.run_until_idle();
        assert_eq!(reordered_deliveries(&network.trace()), 0, "in order");

        send(b"slow", 100);
        send(b"fast", 0);
        network.run_until_idle();
        assert_eq!(reordered_deliveries(&network.trace()), 1, "`slow` arrived after `fast`");
    }
}
