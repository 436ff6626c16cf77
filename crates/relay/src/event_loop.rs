//! The node's task: owns the swarm, serves handle commands, validates relayed messages,
//! answers metadata and Store requests, keeps static peers connected.
//!
//! Relay validation (11/WAKU2-RELAY, nwaku `generateOrderedValidator`): every message gossipsub
//! hands up is decoded with kaiwa-transport's [`WakuMessage::decode`] (at most 150 KiB, valid
//! protobuf, valid content topic, `meta` ≤ 64 bytes). Valid messages are reported `Accept` (and
//! only then forwarded by gossipsub, delivered locally and archived); invalid ones `Reject`:
//! gossipsub drops them, never forwards them, and applies the P₄ penalty to the peer that sent
//! them. Logs name the peer and the rule broken, never payload bytes.
//!
//! Static peers (nwaku `staticnodes`): dialled at start; when the last connection to one closes
//! or a dial fails, redialled after `backoff`, which starts at `reconnect_initial`, doubles after
//! each failure up to `reconnect_max`, and resets once the peer passes the metadata handshake.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt as _;
use kaiwa_transport::{
    ContentFilter, Health, PeerId as TransportPeerId, PeerInfo, PubsubTopic, ReceivedMessage,
    StorePage, StoreQuery, WakuMessage,
};
use kaiwa_wire::prost::Message as _;
use libp2p::core::ConnectedPoint;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::archive::{MessageArchive, archivable};
use crate::behaviour::{
    self, GRAYLIST_THRESHOLD, NodeBehaviour, NodeBehaviourEvent, STORE_PROTOCOL,
};
use crate::config::RelayConfig;
use crate::error::{DialError, PublishError, StartError, StoreQueryError};
use crate::metadata::{Mismatch, ShardInfo};
use crate::metrics::{Counters, bump};
use crate::node::topic_hash;
use crate::store::{self, Answered};
use crate::subscription::{Published, RelayMessageId, RelayedMessage};

/// Longest graceful shutdown: connections still open after it are dropped with the swarm.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How often the archive's age bound is applied.
const PRUNE_INTERVAL: Duration = Duration::from_secs(10);
/// How often peer scores are checked against the graylist threshold (gossipsub's heartbeat).
const SCORE_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait for every listen address to be bound at start.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Requests from [`RelayNode`](crate::RelayNode) handles.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        pubsub_topic: PubsubTopic,
        message: WakuMessage,
        reply: oneshot::Sender<Result<Published, PublishError>>,
    },
    PublishRaw {
        pubsub_topic: PubsubTopic,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<RelayMessageId, PublishError>>,
    },
    Subscribe {
        filter: ContentFilter,
        sender: mpsc::Sender<RelayedMessage>,
        reply: oneshot::Sender<()>,
    },
    StoreQuery {
        peer: Option<PeerId>,
        query: StoreQuery,
        reply: oneshot::Sender<Result<StorePage, StoreQueryError>>,
    },
    Dial {
        address: Multiaddr,
        reply: oneshot::Sender<Result<PeerId, DialError>>,
    },
    Health {
        reply: oneshot::Sender<Health>,
    },
    LocalAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// [`MessageArchive`] with its error type erased, so the loop can hold any archive.
pub(crate) trait DynArchive: Send {
    fn insert(&mut self, message: ReceivedMessage, received_at: i64) -> Result<bool, ()>;
    fn prune(&mut self, now: i64) -> Result<usize, ()>;
    fn answer(&self, request: &[u8]) -> (Vec<u8>, Answered);
}

impl<A: MessageArchive> DynArchive for A {
    fn insert(&mut self, message: ReceivedMessage, received_at: i64) -> Result<bool, ()> {
        MessageArchive::insert(self, message, received_at).map_err(|error| {
            tracing::warn!(%error, "archive insert failed");
        })
    }

    fn prune(&mut self, now: i64) -> Result<usize, ()> {
        MessageArchive::prune(self, now).map_err(|error| {
            tracing::warn!(%error, "archive prune failed");
        })
    }

    fn answer(&self, request: &[u8]) -> (Vec<u8>, Answered) {
        store::answer(request, Some(self))
    }
}

impl std::fmt::Debug for dyn DynArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DynArchive")
    }
}

/// A Store query waiting for its answer.
struct PendingQuery {
    request_id: String,
    query: StoreQuery,
    reply: oneshot::Sender<Result<StorePage, StoreQueryError>>,
}

/// Redial state of one static peer.
struct StaticPeerState {
    address: Multiaddr,
    backoff: Duration,
    next_dial: Option<Instant>,
}

/// The task's state.
pub(crate) struct EventLoop {
    swarm: Swarm<NodeBehaviour>,
    commands: mpsc::Receiver<Command>,
    counters: Arc<Counters>,
    ours: ShardInfo,
    topics: HashMap<gossipsub::TopicHash, PubsubTopic>,
    archive: Option<Box<dyn DynArchive>>,
    subscriptions: Vec<(ContentFilter, mpsc::Sender<RelayedMessage>)>,
    pending_queries: HashMap<OutboundRequestId, PendingQuery>,
    pending_metadata: HashMap<OutboundRequestId, PeerId>,
    pending_dials: HashMap<ConnectionId, oneshot::Sender<Result<PeerId, DialError>>>,
    static_peers: HashMap<PeerId, StaticPeerState>,
    static_order: Vec<PeerId>,
    store_peers: HashSet<PeerId>,
    listen_addrs: Vec<Multiaddr>,
    listeners: Vec<libp2p::core::transport::ListenerId>,
    reconnect_initial: Duration,
    reconnect_max: Duration,
    max_message_size: usize,
    next_request: u64,
}

/// Unix time in nanoseconds from the system clock (a node is I/O; the archive takes the time as
/// a parameter).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_nanos()).ok())
        .unwrap_or(0)
}

impl EventLoop {
    /// Builds the swarm; nothing listens or dials yet.
    pub(crate) async fn new(
        config: RelayConfig,
        archive: Option<Box<dyn DynArchive>>,
        commands: mpsc::Receiver<Command>,
        counters: Arc<Counters>,
    ) -> Result<Self, StartError> {
        let pubsub_topics: Vec<PubsubTopic> = config
            .shards
            .iter()
            .map(|&shard| PubsubTopic::static_shard(config.cluster, shard))
            .collect();
        let topics: HashMap<_, _> =
            pubsub_topics.iter().map(|topic| (topic_hash(topic), topic.clone())).collect();
        let hashes: Vec<_> = topics.keys().cloned().collect();
        let store_server = archive.is_some() && config.store_server;
        let transport_error =
            |source: Box<dyn std::error::Error + Send + Sync>| StartError::Transport { source };
        let mut swarm = SwarmBuilder::with_existing_identity(config.key.into_keypair())
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                (yamux::Config::default, libp2p_mplex::Config::default),
            )
            .map_err(|error| transport_error(Box::new(error)))?
            .with_dns()
            .map_err(|error| transport_error(Box::new(error)))?
            .with_websocket(
                noise::Config::new,
                (yamux::Config::default, libp2p_mplex::Config::default),
            )
            .await
            .map_err(|error| transport_error(Box::new(error)))?
            .with_behaviour(|key| behaviour::build(key, &hashes, store_server).map_err(Into::into))
            .map_err(|error| transport_error(Box::new(error)))?
            .with_swarm_config(|swarm| swarm.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        for hash in &hashes {
            swarm
                .behaviour_mut()
                .relay
                .subscribe(&gossipsub::IdentTopic::new(hash.as_str()))
                .map_err(|_| StartError::Internal { what: "gossipsub subscribe" })?;
        }
        let static_order: Vec<PeerId> = config.static_peers.iter().map(|p| p.peer_id()).collect();
        let static_peers = config
            .static_peers
            .iter()
            .map(|peer| {
                let state = StaticPeerState {
                    address: peer.address().clone(),
                    backoff: config.reconnect_initial,
                    next_dial: Some(Instant::now()),
                };
                (peer.peer_id(), state)
            })
            .collect();
        let listen_addrs = config.listen.clone();
        let mut event_loop = Self {
            swarm,
            commands,
            counters,
            ours: ShardInfo::new(config.cluster, &config.shards),
            topics,
            archive: if store_server { archive } else { None },
            subscriptions: Vec::new(),
            pending_queries: HashMap::new(),
            pending_metadata: HashMap::new(),
            pending_dials: HashMap::new(),
            static_peers,
            static_order,
            store_peers: HashSet::new(),
            listen_addrs: Vec::new(),
            listeners: Vec::new(),
            reconnect_initial: config.reconnect_initial,
            reconnect_max: config.reconnect_max,
            max_message_size: config.max_message_size,
            next_request: 0,
        };
        for (index, address) in listen_addrs.into_iter().enumerate() {
            let listener =
                event_loop.swarm.listen_on(address).map_err(|_| StartError::Listen { index })?;
            event_loop.listeners.push(listener);
        }
        Ok(event_loop)
    }

    pub(crate) fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    pub(crate) fn pubsub_topics(&self) -> Vec<PubsubTopic> {
        let mut topics: Vec<_> = self.topics.values().cloned().collect();
        topics.sort();
        topics
    }

    /// Drives the swarm until every listener has reported an address (or failed).
    pub(crate) async fn listen(mut self) -> Result<Self, StartError> {
        let deadline = Instant::now() + LISTEN_TIMEOUT;
        let mut failed = None;
        let mut pending: HashSet<_> = self.listeners.iter().copied().collect();
        while !pending.is_empty() {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| StartError::Listen { index: 0 })?;
            match event {
                SwarmEvent::NewListenAddr { listener_id, address } => {
                    pending.remove(&listener_id);
                    self.listen_addrs.push(address);
                }
                SwarmEvent::ListenerClosed { listener_id, .. }
                | SwarmEvent::ListenerError { listener_id, .. } => {
                    failed = Some(
                        self.listeners.iter().position(|id| *id == listener_id).unwrap_or_default(),
                    );
                    break;
                }
                other => self.on_swarm_event(other),
            }
        }
        match failed {
            Some(index) => Err(StartError::Listen { index }),
            None => Ok(self),
        }
    }

    /// The task body.
    pub(crate) async fn run(mut self) {
        let mut prune = tokio::time::interval(PRUNE_INTERVAL);
        let mut score_check = tokio::time::interval(SCORE_CHECK_INTERVAL);
        let shutdown_reply = loop {
            let next_redial = self.next_redial();
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown { reply }) => break Some(reply),
                    Some(command) => self.on_command(command),
                    None => break None,
                },
                () = sleep_until(next_redial) => self.redial_due(),
                _ = prune.tick() => self.prune_archive(),
                _ = score_check.tick() => self.disconnect_bad_peers(),
            }
        };
        self.close().await;
        if let Some(reply) = shutdown_reply {
            let _ = reply.send(());
        }
    }

    /// Graceful close: stop listening, disconnect everyone, wait (bounded) for the connections
    /// to close.
    async fn close(&mut self) {
        self.static_peers.clear();
        for listener in self.listeners.drain(..) {
            self.swarm.remove_listener(listener);
        }
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        self.subscriptions.clear();
        let drain = async {
            while self.swarm.network_info().num_peers() > 0 {
                let event = self.swarm.select_next_some().await;
                if let SwarmEvent::ConnectionClosed { .. } = event {
                    continue;
                }
            }
        };
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain).await;
        tracing::debug!(peer = %self.swarm.local_peer_id(), "relay node stopped");
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { pubsub_topic, message, reply } => {
                let _ = reply.send(self.publish(&pubsub_topic, message));
            }
            Command::PublishRaw { pubsub_topic, data, reply } => {
                let _ = reply.send(self.publish_bytes(&pubsub_topic, data));
            }
            Command::Subscribe { filter, sender, reply } => {
                self.subscriptions.retain(|(_, sender)| !sender.is_closed());
                self.subscriptions.push((filter, sender));
                let _ = reply.send(());
            }
            Command::StoreQuery { peer, query, reply } => self.start_query(peer, query, reply),
            Command::Dial { address, reply } => self.dial(address, reply),
            Command::Health { reply } => {
                let _ = reply.send(self.health());
            }
            Command::LocalAddrs { reply } => {
                let peer = *self.swarm.local_peer_id();
                let addrs =
                    self.listen_addrs.iter().map(|a| a.clone().with(Protocol::P2p(peer))).collect();
                let _ = reply.send(addrs);
            }
            Command::Shutdown { reply } => {
                // Handled in `run`; unreachable here, answer anyway.
                let _ = reply.send(());
            }
        }
    }

    /// Publishes `message`. A node without an archive moves the payload into the encoding; a
    /// store node encodes a copy and archives the message itself.
    fn publish(
        &mut self,
        pubsub_topic: &PubsubTopic,
        message: WakuMessage,
    ) -> Result<Published, PublishError> {
        let actual = message.encoded_len();
        if actual > self.max_message_size {
            return Err(PublishError::TooLarge { max: self.max_message_size, actual });
        }
        if self.archive.is_none() {
            let hash = message.hash(pubsub_topic);
            let message_id = self.publish_bytes(pubsub_topic, encode_owned(message))?;
            return Ok(Published { message_id, hash });
        }
        let data = message.encode();
        let message_id = self.publish_bytes(pubsub_topic, data)?;
        let received = ReceivedMessage::new(pubsub_topic.clone(), message);
        let published = Published { message_id, hash: received.hash };
        if let Some(now) = self.archive_time(&received) {
            self.archive_insert(received, now);
        }
        Ok(published)
    }

    /// Hands `data` to gossipsub on `pubsub_topic`.
    fn publish_bytes(
        &mut self,
        pubsub_topic: &PubsubTopic,
        data: Vec<u8>,
    ) -> Result<RelayMessageId, PublishError> {
        let hash = topic_hash(pubsub_topic);
        if !self.topics.contains_key(&hash) {
            return Err(PublishError::TopicNotRelayed);
        }
        let id =
            self.swarm.behaviour_mut().relay.publish(hash, data).map_err(|error| match error {
                gossipsub::PublishError::Duplicate => PublishError::Duplicate,
                gossipsub::PublishError::NoPeersSubscribedToTopic => PublishError::NoPeers,
                gossipsub::PublishError::AllQueuesFull(_) => PublishError::QueuesFull,
                gossipsub::PublishError::MessageTooLarge => {
                    PublishError::Internal { what: "message too large" }
                }
                _ => PublishError::Internal { what: "gossipsub publish" },
            })?;
        let message_id = RelayMessageId::from_gossipsub(&id)
            .ok_or(PublishError::Internal { what: "message id length" })?;
        bump(&self.counters.published);
        Ok(message_id)
    }

    /// The time (Unix ns) at which `received` is archived, or `None` when there is no archive or
    /// the message is not archivable (see [`archivable`]).
    fn archive_time(&self, received: &ReceivedMessage) -> Option<i64> {
        self.archive.as_ref()?;
        let now = unix_now();
        match archivable(received, now) {
            Ok(()) => Some(now),
            Err(reason) => {
                tracing::trace!(hash = %received.hash, ?reason, "not archived");
                None
            }
        }
    }

    fn archive_insert(&mut self, received: ReceivedMessage, now: i64) {
        if let Some(archive) = self.archive.as_mut()
            && let Ok(true) = archive.insert(received, now)
        {
            bump(&self.counters.archived);
        }
    }

    /// nwaku `disconnectBadPeers`: peers scored below the graylist threshold are disconnected.
    fn disconnect_bad_peers(&mut self) {
        let relay = &self.swarm.behaviour().relay;
        let bad: Vec<PeerId> = self
            .swarm
            .connected_peers()
            .filter(|peer| relay.peer_score(peer).is_some_and(|score| score < GRAYLIST_THRESHOLD))
            .copied()
            .collect();
        for peer in bad {
            bump(&self.counters.bad_peer_disconnects);
            tracing::info!(%peer, "disconnecting peer below the gossipsub graylist threshold");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    fn prune_archive(&mut self) {
        if let Some(archive) = self.archive.as_mut() {
            let _ = archive.prune(unix_now());
        }
    }

    fn health(&self) -> Health {
        let relay = &self.swarm.behaviour().relay;
        let mut topics_of: HashMap<PeerId, Vec<PubsubTopic>> = HashMap::new();
        for (peer, hashes) in relay.all_peers() {
            let topics = hashes.iter().filter_map(|hash| self.topics.get(hash).cloned());
            topics_of.entry(*peer).or_default().extend(topics);
        }
        let peers = self
            .swarm
            .connected_peers()
            .filter_map(|peer| {
                let id = TransportPeerId::new(&peer.to_base58()).ok()?;
                let topics = topics_of.remove(peer).unwrap_or_default();
                Some(PeerInfo::new(id, topics, self.store_peers.contains(peer)))
            })
            .collect();
        Health::new(peers)
    }

    fn dial(&mut self, address: Multiaddr, reply: oneshot::Sender<Result<PeerId, DialError>>) {
        let opts = DialOpts::unknown_peer_id().address(address).build();
        let connection = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                self.pending_dials.insert(connection, reply);
            }
            Err(error) => {
                tracing::debug!(%error, "dial refused");
                let _ = reply.send(Err(DialError::Failed));
            }
        }
    }

    fn next_redial(&self) -> Option<Instant> {
        self.static_peers.values().filter_map(|state| state.next_dial).min()
    }

    fn redial_due(&mut self) {
        let now = Instant::now();
        let due: Vec<(PeerId, Multiaddr)> = self
            .static_peers
            .iter_mut()
            .filter(|(_, state)| state.next_dial.is_some_and(|at| at <= now))
            .map(|(peer, state)| {
                state.next_dial = None;
                (*peer, state.address.clone())
            })
            .collect();
        for (peer, address) in due {
            if self.swarm.is_connected(&peer) {
                continue;
            }
            bump(&self.counters.redials);
            tracing::debug!(%peer, "dialling static peer");
            let opts = DialOpts::peer_id(peer).addresses(vec![address]).build();
            if self.swarm.dial(opts).is_err() {
                self.schedule_redial(&peer);
            }
        }
    }

    /// Schedules the next dial of a static peer and doubles its backoff.
    fn schedule_redial(&mut self, peer: &PeerId) {
        let max = self.reconnect_max;
        if let Some(state) = self.static_peers.get_mut(peer)
            && state.next_dial.is_none()
        {
            state.next_dial = Some(Instant::now() + state.backoff);
            tracing::debug!(%peer, backoff = ?state.backoff, "static peer redial scheduled");
            state.backoff = state.backoff.saturating_mul(2).min(max);
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<NodeBehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(NodeBehaviourEvent::Relay(event)) => self.on_relay_event(event),
            SwarmEvent::Behaviour(NodeBehaviourEvent::Metadata(event)) => {
                self.on_metadata_event(event)
            }
            SwarmEvent::Behaviour(NodeBehaviourEvent::Store(event)) => self.on_store_event(event),
            SwarmEvent::Behaviour(NodeBehaviourEvent::Identify(
                libp2p::identify::Event::Received { peer_id, info, .. },
            )) => {
                if info.protocols.contains(&STORE_PROTOCOL) {
                    self.store_peers.insert(peer_id);
                } else {
                    self.store_peers.remove(&peer_id);
                }
            }
            SwarmEvent::Behaviour(NodeBehaviourEvent::Ping(_)) => {}
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                endpoint,
                ..
            } => {
                tracing::debug!(peer = %peer_id, dialer = endpoint.is_dialer(), "connection established");
                if let Some(reply) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Ok(peer_id));
                }
                if num_established.get() == 1 {
                    // nwaku's peer manager asks every new peer for its metadata.
                    let request = self.ours.encode_request();
                    let id = self.swarm.behaviour_mut().metadata.send_request(&peer_id, request);
                    self.pending_metadata.insert(id, peer_id);
                }
                if let ConnectedPoint::Dialer { .. } = endpoint
                    && let Some(state) = self.static_peers.get_mut(&peer_id)
                {
                    state.next_dial = None;
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, cause, .. } => {
                tracing::debug!(peer = %peer_id, ?cause, "connection closed");
                if num_established == 0 {
                    self.store_peers.remove(&peer_id);
                    self.schedule_redial(&peer_id);
                }
            }
            SwarmEvent::OutgoingConnectionError { connection_id, peer_id, error } => {
                tracing::debug!(?peer_id, %error, "outgoing connection failed");
                if let Some(reply) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Err(DialError::Failed));
                }
                if let Some(peer) = peer_id {
                    self.schedule_redial(&peer);
                }
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                tracing::debug!(%error, "incoming connection failed");
            }
            SwarmEvent::NewListenAddr { address, .. } if !self.listen_addrs.contains(&address) => {
                self.listen_addrs.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|known| *known != address);
            }
            _ => {}
        }
    }

    fn on_relay_event(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message { propagation_source, message_id, message } = event else {
            return;
        };
        let acceptance = match self.topics.get(&message.topic) {
            // gossipsub only hands up subscribed topics; ignore anything else without penalty.
            None => MessageAcceptance::Ignore,
            Some(_) if message.data.len() > self.max_message_size => {
                bump(&self.counters.rejected);
                tracing::debug!(peer = %propagation_source, len = message.data.len(), max = self.max_message_size, "oversize relay message rejected");
                MessageAcceptance::Reject
            }
            Some(pubsub_topic) => match WakuMessage::decode(&message.data) {
                Ok(waku) => {
                    bump(&self.counters.accepted);
                    let received = ReceivedMessage::new(pubsub_topic.clone(), waku);
                    if let Some(now) = self.archive_time(&received) {
                        self.archive_insert(received.clone(), now);
                    }
                    if let Some(id) = RelayMessageId::from_gossipsub(&message_id) {
                        let relayed =
                            RelayedMessage { received, message_id: id, propagation_source };
                        deliver(&mut self.subscriptions, relayed, &self.counters);
                    }
                    MessageAcceptance::Accept
                }
                Err(error) => {
                    bump(&self.counters.rejected);
                    tracing::debug!(peer = %propagation_source, %error, len = message.data.len(), "invalid relay message rejected");
                    MessageAcceptance::Reject
                }
            },
        };
        self.swarm.behaviour_mut().relay.report_message_validation_result(
            &message_id,
            &propagation_source,
            acceptance,
        );
    }

    fn on_metadata_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    match ShardInfo::decode(&request) {
                        Ok(theirs) => {
                            tracing::trace!(%peer, cluster = ?theirs.cluster, "metadata request");
                            let response = self.ours.encode_response();
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .metadata
                                .send_response(channel, response);
                        }
                        Err(error) => {
                            // Dropping the channel closes the stream without an answer.
                            bump(&self.counters.metadata_bad_requests);
                            tracing::debug!(%peer, %error, "bad metadata request dropped");
                        }
                    }
                }
                request_response::Message::Response { request_id, response } => {
                    let Some(peer) = self.pending_metadata.remove(&request_id) else { return };
                    let verdict = ShardInfo::decode(&response)
                        .map_err(|_| "undecodable metadata response")
                        .and_then(|theirs| {
                            self.ours.check_peer(&theirs).map_err(|mismatch| match mismatch {
                                Mismatch::NoClusterId => "no cluster id",
                                Mismatch::Cluster => "different cluster",
                                Mismatch::NoSharedShard => "no shard in common",
                            })
                        });
                    match verdict {
                        Ok(()) => {
                            if let Some(state) = self.static_peers.get_mut(&peer) {
                                state.backoff = self.reconnect_initial;
                            }
                        }
                        Err(reason) => self.reject_peer(peer, reason),
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                if self.pending_metadata.remove(&request_id).is_some() {
                    tracing::debug!(%peer, %error, "metadata handshake failed");
                    let reason = "metadata handshake failed";
                    // A peer that went away on its own is not a protocol failure.
                    if !matches!(
                        error,
                        OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure
                    ) {
                        self.reject_peer(peer, reason);
                    }
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                bump(&self.counters.inbound_stream_failures);
                tracing::debug!(%peer, %error, "inbound metadata stream failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    /// Disconnects a peer that failed the metadata handshake (nwaku `onPeerMetadata`).
    fn reject_peer(&mut self, peer: PeerId, reason: &'static str) {
        bump(&self.counters.metadata_disconnects);
        tracing::info!(%peer, reason, "disconnecting peer after metadata handshake");
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    fn start_query(
        &mut self,
        peer: Option<PeerId>,
        query: StoreQuery,
        reply: oneshot::Sender<Result<StorePage, StoreQueryError>>,
    ) {
        let peer = match peer {
            Some(peer) => peer,
            None => {
                let preferred = self
                    .static_order
                    .iter()
                    .find(|peer| self.store_peers.contains(peer) && self.swarm.is_connected(peer))
                    .or_else(|| {
                        self.store_peers.iter().filter(|p| self.swarm.is_connected(p)).min()
                    });
                match preferred {
                    Some(peer) => *peer,
                    None => {
                        let _ = reply.send(self.query_own_archive(&query));
                        return;
                    }
                }
            }
        };
        self.next_request = self.next_request.wrapping_add(1);
        let request_id = request_id(self.next_request);
        let request = store::encode_request(&query, &request_id);
        let id = self.swarm.behaviour_mut().store.send_request(&peer, request);
        self.pending_queries.insert(id, PendingQuery { request_id, query, reply });
    }

    /// Answers `query` from this node's own archive, or [`StoreQueryError::NoStorePeer`] when it
    /// keeps none. The query takes the whole wire path a remote peer's would (encoded request,
    /// [`store::answer`], checked [`store::decode_response`]), so pages, cursors, clamping and
    /// status codes are exactly what another node asking this one would get.
    fn query_own_archive(&mut self, query: &StoreQuery) -> Result<StorePage, StoreQueryError> {
        let Some(archive) = self.archive.as_ref() else {
            return Err(StoreQueryError::NoStorePeer);
        };
        self.next_request = self.next_request.wrapping_add(1);
        let request_id = request_id(self.next_request);
        let request = store::encode_request(query, &request_id);
        let (response, answered) = archive.answer(&request);
        tracing::trace!(?answered, "store query answered from the own archive");
        store::decode_response(&response, &request_id, query)
    }

    fn on_store_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    let (response, answered) = match self.archive.as_ref() {
                        Some(archive) => archive.answer(&request),
                        None => store::answer::<crate::archive::MemoryArchive>(&request, None),
                    };
                    match answered {
                        Answered::Page { messages } => {
                            bump(&self.counters.store_queries_served);
                            tracing::trace!(%peer, messages, "store query answered");
                        }
                        Answered::BadRequest => {
                            bump(&self.counters.store_bad_requests);
                            tracing::debug!(%peer, "bad store request answered 400");
                        }
                        Answered::ArchiveFailed | Answered::Unavailable => {}
                    }
                    let _ = self.swarm.behaviour_mut().store.send_response(channel, response);
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(pending) = self.pending_queries.remove(&request_id) {
                        let page =
                            store::decode_response(&response, &pending.request_id, &pending.query);
                        if let Err(error) = &page {
                            tracing::debug!(%peer, %error, "store response refused");
                        }
                        let _ = pending.reply.send(page);
                    }
                }
            },
            request_response::Event::OutboundFailure { request_id, error, peer, .. } => {
                if let Some(pending) = self.pending_queries.remove(&request_id) {
                    tracing::debug!(%peer, %error, "store query failed");
                    let error = match error {
                        OutboundFailure::DialFailure => StoreQueryError::Unreachable,
                        OutboundFailure::Timeout => StoreQueryError::Timeout,
                        OutboundFailure::UnsupportedProtocols => StoreQueryError::Unsupported,
                        _ => StoreQueryError::Stream,
                    };
                    let _ = pending.reply.send(Err(error));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                bump(&self.counters.inbound_stream_failures);
                tracing::debug!(%peer, %error, "inbound store stream failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

/// Hands a message to every matching local subscription (copies for all but the last, which
/// gets the message itself); a full queue drops it (counted in `subscription_overflows`), a
/// closed subscription is removed.
fn deliver(
    subscriptions: &mut Vec<(ContentFilter, mpsc::Sender<RelayedMessage>)>,
    relayed: RelayedMessage,
    counters: &Counters,
) {
    let matches = |filter: &ContentFilter| {
        filter.matches(&relayed.received.pubsub_topic, relayed.received.message.content_topic())
    };
    let send = |sender: &mpsc::Sender<RelayedMessage>, message: RelayedMessage| {
        if let Err(mpsc::error::TrySendError::Full(_)) = sender.try_send(message) {
            bump(&counters.subscription_overflows);
        }
    };
    if let Some(last) = subscriptions.iter().rposition(|(filter, _)| matches(filter)) {
        let (before, rest) = subscriptions.split_at(last);
        for (_, sender) in before.iter().filter(|(filter, _)| matches(filter)) {
            send(sender, relayed.clone());
        }
        if let Some((_, sender)) = rest.first() {
            send(sender, relayed);
        }
    }
    subscriptions.retain(|(_, sender)| !sender.is_closed());
}

/// [`WakuMessage::encode`] of a message the caller gives up: the payload moves into the protobuf
/// struct instead of being copied.
fn encode_owned(message: WakuMessage) -> Vec<u8> {
    kaiwa_wire::waku::message::WakuMessage::from(message).encode_to_vec()
}

/// The id of our `counter`-th Store request: `kaiwa-` and 16 hex digits.
fn request_id(counter: u64) -> String {
    format!("kaiwa-{counter:016x}")
}

/// Sleeps until `at`, or forever for `None`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_transport::{ContentTopic, WakuMessage};

    use super::*;
    use crate::metrics::RelayMetrics;

    fn relayed(name: &str) -> RelayedMessage {
        let pubsub_topic = PubsubTopic::parse("/waku/2/rs/42/0").unwrap();
        let topic = ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap();
        let message = WakuMessage::new(topic, vec![1]).unwrap();
        RelayedMessage {
            received: ReceivedMessage::new(pubsub_topic, message),
            message_id: RelayMessageId::of_data(name.as_bytes()),
            propagation_source: PeerId::random(),
        }
    }

    fn filter(name: &str) -> ContentFilter {
        let pubsub_topic = PubsubTopic::parse("/waku/2/rs/42/0").unwrap();
        ContentFilter::new(
            pubsub_topic,
            [ContentTopic::parse(&format!("/kaiwa/1/{name}/proto")).unwrap()],
        )
        .unwrap()
    }

    #[test]
    fn a_full_subscription_drops_and_counts_a_closed_one_is_removed() {
        let counters = Counters::default();
        let (full, mut full_rx) = mpsc::channel(1);
        let (closed, closed_rx) = mpsc::channel(1);
        let (other, mut other_rx) = mpsc::channel(1);
        drop(closed_rx);
        let mut subscriptions =
            vec![(filter("a"), full), (filter("a"), closed), (filter("b"), other)];
        deliver(&mut subscriptions, relayed("a"), &counters);
        deliver(&mut subscriptions, relayed("a"), &counters);
        assert_eq!(subscriptions.len(), 2, "the closed subscription is gone");
        assert_eq!(counters.snapshot().subscription_overflows, 1, "the second did not fit");
        assert_eq!(full_rx.try_recv().unwrap().message_id, RelayMessageId::of_data(b"a"));
        assert!(full_rx.try_recv().is_err());
        assert!(other_rx.try_recv().is_err(), "filters are honoured");
    }

    #[test]
    fn every_matching_subscription_gets_the_message() {
        let counters = Counters::default();
        let (first, mut first_rx) = mpsc::channel(4);
        let (other, mut other_rx) = mpsc::channel(4);
        let (last, mut last_rx) = mpsc::channel(4);
        let mut subscriptions =
            vec![(filter("a"), first), (filter("b"), other), (filter("a"), last)];
        let message = relayed("a");
        deliver(&mut subscriptions, message.clone(), &counters);
        assert_eq!(first_rx.try_recv().unwrap(), message);
        assert_eq!(last_rx.try_recv().unwrap(), message);
        assert!(other_rx.try_recv().is_err());
        assert_eq!(subscriptions.len(), 3);
        assert_eq!(counters.snapshot(), RelayMetrics::default());
    }

    #[test]
    fn encode_owned_is_encode() {
        let topic = ContentTopic::parse("/kaiwa/1/chat/proto").unwrap();
        let messages = [
            WakuMessage::new(topic.clone(), vec![]).unwrap(),
            WakuMessage::new(topic, vec![1, 2, 3])
                .unwrap()
                .with_timestamp(-5)
                .unwrap()
                .with_meta(vec![9; 64])
                .unwrap()
                .with_version(1)
                .unwrap()
                .with_rate_limit_proof(vec![7; 3])
                .unwrap()
                .with_ephemeral(true)
                .unwrap(),
        ];
        for message in messages {
            assert_eq!(encode_owned(message.clone()), message.encode());
        }
    }
}
