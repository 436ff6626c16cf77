//! One demo peer: a relay node on loopback, a [`Tap`] in front of it, a client over a SQLite
//! profile, its event stream, and an observer of every message its node relays.
//!
//! ```text
//! RelayNode 127.0.0.1:0, Store server on, static peers = every earlier peer (full mesh)
//!   └─ observer: subscribe_relay(whole shard) → hashes seen (≤ MAX_SEEN_HASHES)
//! Tap ── Client::create(Profile::open_dir_with(<tmp>/<name>, Normal), …, Environment::system())
//! Events → backlog: `expect` takes the first matching event (earlier ones stay queued),
//!          `expect_none` watches for a window
//! ```

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kaiwa::relay::{Multiaddr, RelayNode};
use kaiwa::transport::{ContentFilter, MessageHash};
use kaiwa::{Client, ClientConfig, Durability, Environment, Event, Events, Profile, PublicId};
use tokio::task::JoinHandle;

use crate::error::CliError;
use crate::limits::MAX_SEEN_HASHES;
use crate::network::{pubsub_topic, start_node, stop_client};
use crate::tap::Tap;

/// A demo peer (module documentation).
pub(crate) struct Peer {
    /// Its name in the transcript.
    pub(crate) name: &'static str,
    /// Its client.
    pub(crate) client: Client,
    /// Its transport tap.
    pub(crate) tap: Tap,
    /// Its relay node.
    pub(crate) node: Arc<RelayNode>,
    events: Events,
    backlog: VecDeque<Event>,
    seen: Arc<Mutex<VecDeque<MessageHash>>>,
    observer: JoinHandle<()>,
}

impl core::fmt::Debug for Peer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Peer").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Starts a relay node for `config`, connected to `peers`.
pub(crate) async fn start_relay(
    config: &ClientConfig,
    peers: &[Multiaddr],
) -> Result<Arc<RelayNode>, CliError> {
    let listen: Multiaddr = "/ip4/127.0.0.1/tcp/0"
        .parse()
        .map_err(|_| CliError::Internal { what: "the loopback listen address does not parse" })?;
    start_node(config, &[listen], peers, true).await
}

impl Peer {
    /// A new account in `dir` over `node`.
    pub(crate) async fn create(
        name: &'static str,
        dir: &Path,
        node: Arc<RelayNode>,
        config: ClientConfig,
    ) -> Result<Self, CliError> {
        let seen = Arc::new(Mutex::new(VecDeque::new()));
        let filter = ContentFilter::whole_pubsub_topic(pubsub_topic(&config));
        let mut relayed = node
            .subscribe_relay(filter)
            .await
            .map_err(|_| CliError::Internal { what: "the relay node stopped at start" })?;
        let log = Arc::clone(&seen);
        let observer = tokio::spawn(async move {
            while let Some(message) = relayed.next().await {
                let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                if log.len() >= MAX_SEEN_HASHES {
                    log.pop_front();
                }
                log.push_back(message.received.hash);
            }
        });
        let profile = Profile::open_dir_with(dir, Durability::Normal)
            .map_err(CliError::client("open a demo profile"))?;
        let environment = Environment::system().map_err(CliError::client("read the system RNG"))?;
        let tap = Tap::new(Arc::clone(&node));
        let client = Client::create(profile, tap.clone(), config, environment)
            .await
            .map_err(CliError::client("create a demo account"))?;
        let events = client.events();
        Ok(Self { name, client, tap, node, events, backlog: VecDeque::new(), seen, observer })
    }

    /// Its public id.
    pub(crate) fn id(&self) -> PublicId {
        self.client.public_id()
    }

    /// Whether its node relayed a message with this hash.
    pub(crate) fn saw(&self, hash: &MessageHash) -> bool {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).contains(hash)
    }

    /// The first event `pick` accepts, waiting at most `timeout`; other events stay queued.
    pub(crate) async fn expect<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Option<T> {
        if let Some(at) = self.backlog.iter().position(|e| pick(e).is_some()) {
            let event = self.backlog.remove(at)?;
            return pick(&event);
        }
        let events = &mut self.events;
        let backlog = &mut self.backlog;
        let wait = async {
            while let Some(event) = events.next().await {
                if let Some(found) = pick(&event) {
                    return Some(found);
                }
                backlog.push_back(event);
            }
            None
        };
        tokio::time::timeout(timeout, wait).await.ok().flatten()
    }

    /// Whether no event `pick` accepts comes within `window` (queued events count too).
    pub(crate) async fn expect_none<T>(
        &mut self,
        window: Duration,
        pick: impl FnMut(&Event) -> Option<T>,
    ) -> bool {
        self.expect(window, pick).await.is_none()
    }

    /// Stops the client and the node.
    pub(crate) async fn stop(self) {
        stop_client(&self.client).await;
        self.observer.abort();
        self.node.shutdown().await;
    }
}
