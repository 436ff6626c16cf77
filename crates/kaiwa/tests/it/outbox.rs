//! The outbox against a faulty transport: a publication the transport accepted but never sent
//! (a relay node's queues die with its process) is published again by the next run, and a
//! failed publication is retried while sends keep coming.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use kaiwa::transport::sim::{SimError, SimNetwork, SimNode};
use kaiwa::transport::{
    BoxFuture, ContentFilter, Health, MessageHash, PubsubTopic, StorePage, StoreQuery,
    Subscription, Transport, WakuMessage,
};
use kaiwa::{ChatId, Client, MessageStatus, Profile};

use crate::support::{PATIENCE, config, create, environment, network, reopen, text, wait_for};

/// What a [`Faulty`] node does to publications.
enum Fault {
    /// Accepts every publication and sends none: what a relay node looks like to a process
    /// killed before the node wrote its queued messages to the network.
    Swallow,
    /// Fails the first publication of every message.
    FailFirst(Mutex<BTreeSet<MessageHash>>),
}

/// A simulated node with a fault on publishing; everything else passes through.
struct Faulty {
    node: SimNode,
    fault: Fault,
}

impl Transport for Faulty {
    type Error = SimError;

    fn publish(
        &self,
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
    ) -> BoxFuture<'_, Result<MessageHash, Self::Error>> {
        let hash = message.hash(&pubsub_topic);
        match &self.fault {
            Fault::Swallow => Box::pin(async move { Ok(hash) }),
            Fault::FailFirst(seen) if seen.lock().unwrap().insert(hash) => {
                Box::pin(async { Err(SimError::NoPeers) })
            }
            Fault::FailFirst(_) => self.node.publish(pubsub_topic, message),
        }
    }

    fn subscribe(&self, filter: ContentFilter) -> BoxFuture<'_, Result<Subscription, Self::Error>> {
        self.node.subscribe(filter)
    }

    fn query(&self, query: StoreQuery) -> BoxFuture<'_, Result<StorePage, Self::Error>> {
        self.node.query(query)
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, Self::Error>> {
        self.node.health()
    }
}

/// A new account in `dir` on a node of `network` with `fault`.
async fn create_faulty(network: &SimNetwork, dir: &std::path::Path, fault: Fault) -> Client {
    let node = Faulty { node: network.node("faulty"), fault };
    let profile = Profile::open_dir(dir).unwrap();
    Client::create(profile, node, config(), environment(network, 1)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publication_lost_with_the_process_is_published_by_the_next_run() {
    let network = network(7);
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let bob = create(&network, dirs.1.path(), 2).await;
    let mut bob_events = bob.events();
    let alice = create_faulty(&network, dirs.0.path(), Fault::Swallow).await;
    let bob_id = alice.add_contact(&bob.contact_code().await.unwrap(), "bob").await.unwrap();
    alice.flush().await.unwrap(); // the bundle, published and settled
    let before = alice.stats().published;
    let sent = alice.send_text(&ChatId::Direct(bob_id), "queued when the process died").await;
    sent.unwrap();
    // The transport took it; the process "dies" before publish_settle (1 s) has passed.
    tokio::time::timeout(PATIENCE, async {
        while alice.stats().published == before {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the message was handed to the transport");
    alice.shutdown().await;
    let history = alice.history(&ChatId::Direct(bob_id), None, 10).await.unwrap();
    assert_eq!(history[0].status, MessageStatus::Pending, "not marked before it settled");
    drop(alice);

    // The next run publishes it again, on a node that sends.
    let alice = reopen(&network, dirs.0.path(), 1).await;
    let got = wait_for(&mut bob_events, text).await;
    assert_eq!(got, (ChatId::Direct(alice.public_id()), "queued when the process died".into()));
    alice.flush().await.unwrap();
    let history = alice.history(&ChatId::Direct(bob_id), None, 10).await.unwrap();
    assert_eq!(history[0].status, MessageStatus::Sent);
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_publications_are_retried_while_sends_keep_coming() {
    let network = network(8);
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let bob = create(&network, dirs.1.path(), 2).await;
    let mut bob_events = bob.events();
    let alice = create_faulty(&network, dirs.0.path(), Fault::FailFirst(Mutex::default())).await;
    let bob_id = alice.add_contact(&bob.contact_code().await.unwrap(), "bob").await.unwrap();
    // Four senders without pause keep waking the publisher; a failed attempt is still
    // retried on the retry interval (200 ms here) rather than when the stream ends.
    let streams: Vec<_> = (0..4)
        .map(|s| {
            let sender = alice.clone();
            tokio::spawn(async move {
                for i in 0.. {
                    let text = format!("more {s}-{i}");
                    sender.send_text(&ChatId::Direct(bob_id), &text).await.unwrap();
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await; // past the first retry tick
    alice.send_text(&ChatId::Direct(bob_id), "first").await.unwrap();
    let got = wait_for(&mut bob_events, |e| text(e).filter(|(_, t)| t == "first")).await;
    assert_eq!(got.0, ChatId::Direct(alice.public_id()));
    assert!(alice.stats().publish_failures > 0);
    for stream in streams {
        stream.abort();
    }
    alice.shutdown().await;
    bob.shutdown().await;
}
