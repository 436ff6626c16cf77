//! [`Peer`]: one installation of an account on the simulated network, with its 1:1 sessions,
//! its subscriptions, and the groups and organizations it takes part in
//! ([`Peer::another_installation`] makes a second device of the same account).
//!
//! ```text
//! identity      Ed25519 identity key + X25519 identity DH key; the session Account holds a
//!               copy (it lends neither key out), the group and org layers sign / unwrap with ours
//! topics        kaiwa-transport's TopicScheme fed with kaiwa-session's inputs, autosharded:
//!   contact-code(IK)     our installation's bundle (publish_bundle); every bundle of an
//!                        identity is read from the store once, when we first send to it, hear
//!                        from it, or share a group with it (learn_bundle_of): a message
//!                        carries only its sender installation's bundle
//!   partitioned(IK)      first contact to us: subscribed from the start
//!   negotiated(secret)   one per peer identity, secret = kaiwa_session::negotiated_secret(
//!                        IKdh_a, IKdh_b): listened to as soon as we know the peer's bundle,
//!                        sent on once SessionManager::negotiated_secret says the session is
//!                        agreed (54/WAKU2-X3DH-SESSIONS), otherwise we send on
//!                        partitioned(peer). The secret is per identity, not per installation:
//!                        an installation that never spoke to a peer must listen too, or it
//!                        misses the peer's messages once the peer's session with our other
//!                        installation is agreed (the group scenario's second device shows it)
//! send_direct   frame (frame.rs, test-only) → SessionManager::encrypt: one ProtocolMessage with
//!               one envelope per installation of the peer → WakuMessage{topic, timestamp = now}
//! pump          drain every subscription → drop hashes already seen (the network duplicates,
//!               and catch-up overlaps) → route by subscription:
//!   1:1          SessionManager::receive → frame → group message | org invitation | org response
//!   org desc.    description | segment | re-key, by envelope type (members)
//!   org requests Organization::handle_request (owner)
//!   org channel  OrganizationView::decrypt, kept and retried while its key may still come
//! catch_up      per subscription, a Store query from the last catch-up minus an overlap:
//!               recovers lost copies and history published before we subscribed
//! now           the simulated network's virtual clock, in ns (Waku) and ms (protocol crates)
//! ```
//!
//! Test harness only; the `kaiwa` facade will replace it (see the module doc of `harness`).

use std::collections::{BTreeMap, BTreeSet};

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair, IdentityPublicKey};
use kaiwa_group::Group;
use kaiwa_org::OrgId;
use kaiwa_session::{
    Account, Bundle, InMemorySessionStore, InstallationId, NegotiatedSecret, PeerRecord, Received,
    SessionConfig, SessionManager, SessionStore as _, Timestamp, VerifiedBundle, negotiated_secret,
};
use kaiwa_transport::sim::{SimNetwork, SimNode};
use kaiwa_transport::{
    AccountKey, Autosharding, ContentFilter, ContentTopic, MessageHash, NegotiatedTopicSecret,
    ReceivedMessage, StoreQuery, Subscription, TopicScheme, WakuMessage,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;

use super::error::{HarnessError, Incident};
use super::frame::{self, Kind};
use super::limits::CATCH_UP_OVERLAP_NS;

mod group;
mod org;

pub(crate) use group::GroupDelivery;
pub(crate) use org::{ChannelDelivery, OwnerEvent, Posted};

/// Content topic → pubsub topic (23/WAKU2-TOPICS autosharding, The Waku Network's cluster).
const SHARDING: Autosharding = Autosharding::THE_WAKU_NETWORK;

/// What a subscription carries, and so which layer its messages go to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// 1:1 `ProtocolMessage`s (partitioned and negotiated topics).
    Direct,
    /// An organization's descriptions, segments and re-keys.
    OrgDescription(OrgId),
    /// Sealed requests to an organization we own.
    OrgRequests(OrgId),
    /// Messages of one of an organization's channels.
    OrgChannel(OrgId),
}

/// One live subscription.
struct Inbound {
    topic: ContentTopic,
    route: Route,
    subscription: Subscription,
    /// Virtual time (Unix ns) of the last catch-up; `None` before the first.
    caught_up_to: Option<i64>,
}

/// The virtual clock, read once per step.
#[derive(Debug, Clone, Copy)]
struct Now {
    /// Unix nanoseconds, for Waku timestamps.
    ns: i64,
    /// Unix milliseconds, for the protocol crates.
    ms: u64,
}

impl Now {
    fn of(network: &SimNetwork) -> Self {
        let ns = network.now_unix_nanos();
        Self { ns, ms: u64::try_from(ns / 1_000_000).unwrap_or(0) }
    }

    fn session(self) -> Timestamp {
        Timestamp::from_millis(self.ms)
    }
}

/// What an eavesdropper made of the traffic it read from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Eavesdropped {
    /// Messages read (our own publications excluded).
    pub(crate) messages: usize,
    /// 1:1 messages without an envelope for us.
    pub(crate) addressed_to_others: usize,
    /// 1:1 messages that had an envelope for us (decrypted, duplicate or undecryptable).
    pub(crate) addressed_to_us: usize,
    /// Of those, how many decrypted.
    pub(crate) decrypted: usize,
}

/// One installation of an account. See the module documentation.
pub(crate) struct Peer {
    name: String,
    identity: IdentityKeyPair,
    dh: DhKeyPair,
    manager: SessionManager,
    sessions: InMemorySessionStore,
    node: SimNode,
    rng: ChaCha20Rng,
    scheme: TopicScheme,
    inbound: Vec<Inbound>,
    /// Hashes processed or published; a second copy is dropped.
    seen: BTreeSet<MessageHash>,
    /// Hashes we published.
    published: BTreeSet<MessageHash>,
    /// Messages first seen through a store catch-up rather than a live subscription.
    from_store: usize,
    /// Identities whose contact-code topic we read (once each; a product re-reads it
    /// periodically to find new installations).
    fetched: BTreeSet<[u8; 32]>,
    groups: BTreeMap<String, Group>,
    group_inbox: Vec<GroupDelivery>,
    owned: BTreeMap<OrgId, org::OwnedOrg>,
    orgs: BTreeMap<OrgId, org::Membership>,
    channel_inbox: Vec<ChannelDelivery>,
    incidents: Vec<Incident>,
}

fn account_key(identity: &IdentityPublicKey) -> AccountKey {
    AccountKey::from_bytes(identity.to_bytes())
}

impl Peer {
    /// A new account named `name` on `network`, its keys drawn from a ChaCha20 stream seeded
    /// with `seed`, subscribed to its partitioned topic.
    pub(crate) fn new(network: &SimNetwork, name: &str, seed: u64) -> Result<Self, HarnessError> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let identity = IdentityKeyPair::generate(&mut rng);
        let dh = DhKeyPair::generate(&mut rng);
        Self::with_keys(network, name, identity, dh, rng)
    }

    /// A second installation of this account (54/WAKU2-X3DH-SESSIONS: a new device of an
    /// existing identity), named `name`, with its own node, sessions, groups and prekey.
    pub(crate) fn another_installation(
        &self,
        network: &SimNetwork,
        name: &str,
        seed: u64,
    ) -> Result<Self, HarnessError> {
        // `from_secret_bytes` wipes these stack copies.
        let mut identity = *self.identity.expose_secret();
        let mut dh = *self.dh.expose_secret();
        Self::with_keys(
            network,
            name,
            IdentityKeyPair::from_secret_bytes(&mut identity),
            DhKeyPair::from_secret_bytes(&mut dh),
            ChaCha20Rng::seed_from_u64(seed),
        )
    }

    fn with_keys(
        network: &SimNetwork,
        name: &str,
        identity: IdentityKeyPair,
        dh: DhKeyPair,
        mut rng: ChaCha20Rng,
    ) -> Result<Self, HarnessError> {
        let now = Now::of(network);
        // The account gets its own copies: it lends neither key out, and the group and
        // organization layers sign and unwrap with them. `from_secret_bytes` wipes the copies.
        let mut identity_copy = *identity.expose_secret();
        let mut dh_copy = *dh.expose_secret();
        let account = Account::with_identity(
            IdentityKeyPair::from_secret_bytes(&mut identity_copy),
            DhKeyPair::from_secret_bytes(&mut dh_copy),
            InstallationId::new(name)?,
            &mut rng,
            now.session(),
        );
        let mut peer = Self {
            name: name.to_owned(),
            identity,
            dh,
            manager: SessionManager::new(account, SessionConfig::default(), now.session()),
            sessions: InMemorySessionStore::new(),
            node: network.node(name),
            rng,
            scheme: TopicScheme::default(),
            inbound: Vec::new(),
            seen: BTreeSet::new(),
            published: BTreeSet::new(),
            from_store: 0,
            fetched: BTreeSet::new(),
            groups: BTreeMap::new(),
            group_inbox: Vec::new(),
            owned: BTreeMap::new(),
            orgs: BTreeMap::new(),
            channel_inbox: Vec::new(),
            incidents: Vec::new(),
        };
        let partitioned = peer.scheme.partitioned(&account_key(&peer.id()));
        peer.subscribe(partitioned, Route::Direct)?;
        Ok(peer)
    }

    /// The account's name (its sim node's name).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The account's identity key.
    pub(crate) fn id(&self) -> IdentityPublicKey {
        self.identity.public_key()
    }

    /// How many messages this peer first saw through a store catch-up (a lost copy, or one
    /// published before it subscribed) rather than live.
    pub(crate) fn recovered_from_store(&self) -> usize {
        self.from_store
    }

    /// Inbound data this peer refused, in order.
    pub(crate) fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// The stored 1:1 record of `peer` (all sessions with its installations), for before/after
    /// comparisons.
    pub(crate) fn session_record(
        &self,
        peer: &IdentityPublicKey,
    ) -> Result<Option<PeerRecord>, HarnessError> {
        Ok(self.sessions.load_peer(peer)?)
    }

    /// The network this peer's node belongs to.
    pub(crate) fn network(&self) -> &SimNetwork {
        self.node.network()
    }

    fn now(&self) -> Now {
        Now::of(self.node.network())
    }

    fn publish(
        &mut self,
        topic: ContentTopic,
        payload: Vec<u8>,
    ) -> Result<MessageHash, HarnessError> {
        let pubsub = SHARDING.pubsub_topic(&topic);
        let message = WakuMessage::new(topic, payload)?.with_timestamp(self.now().ns)?;
        let hash = self.node.publish_now(pubsub, message)?;
        self.seen.insert(hash);
        self.published.insert(hash);
        Ok(hash)
    }

    /// Subscribes to `topic` unless already subscribed; the next catch-up reads its history.
    fn subscribe(&mut self, topic: ContentTopic, route: Route) -> Result<(), HarnessError> {
        if self.inbound.iter().any(|i| i.topic == topic) {
            return Ok(());
        }
        let filter = ContentFilter::new(SHARDING.pubsub_topic(&topic), [topic.clone()])?;
        let subscription = self.node.subscribe_now(filter);
        self.inbound.push(Inbound { topic, route, subscription, caught_up_to: None });
        Ok(())
    }

    /// Every stored message passing `filter` with a timestamp from `since` on, all pages.
    fn query(
        &self,
        filter: ContentFilter,
        since: Option<i64>,
    ) -> Result<Vec<ReceivedMessage>, HarnessError> {
        let mut query = StoreQuery::content(filter)?.with_time_range(since, None)?;
        let mut messages = Vec::new();
        loop {
            let page = self.node.query_now(&query)?;
            let next = query.next_page(&page);
            messages.extend(page.messages);
            match next {
                Some(next) => query = next,
                None => return Ok(messages),
            }
        }
    }

    fn query_topic(
        &self,
        topic: &ContentTopic,
        since: Option<i64>,
    ) -> Result<Vec<ReceivedMessage>, HarnessError> {
        self.query(ContentFilter::new(SHARDING.pubsub_topic(topic), [topic.clone()])?, since)
    }

    /// Publishes our signed bundle on our contact-code topic.
    pub(crate) fn publish_bundle(&mut self) -> Result<MessageHash, HarnessError> {
        let topic = self.scheme.contact_code(&account_key(&self.id()));
        let bundle = self.manager.bundle().encode();
        self.publish(topic, bundle)
    }

    /// Reads `peer`'s bundles from the store (its contact-code topic; each installation
    /// publishes its own), hands every one that verifies to the session manager, oldest
    /// first (merging installations is its job), and starts listening on our negotiated topic
    /// with `peer`.
    pub(crate) fn learn_bundle_of(&mut self, peer: &IdentityPublicKey) -> Result<(), HarnessError> {
        let topic = self.scheme.contact_code(&account_key(peer));
        let now = self.now().session();
        let max_installations = self.manager.config().max_installations;
        let mut bundles: Vec<VerifiedBundle> = self
            .query_topic(&topic, None)?
            .iter()
            .filter_map(|m| Bundle::decode(m.message.payload()).ok())
            .filter(|b| b.identity() == *peer)
            .filter_map(|b| b.verify(now, max_installations).ok())
            .collect();
        bundles.sort_by_key(VerifiedBundle::timestamp);
        let identity_dh = bundles.first().ok_or(HarnessError::NoBundle)?.identity_dh();
        for bundle in &bundles {
            self.manager.process_bundle(&mut self.sessions, bundle)?;
        }
        self.fetched.insert(peer.to_bytes());
        self.listen_negotiated(&negotiated_secret(&self.dh, &identity_dh)?)
    }

    /// [`learn_bundle_of`](Self::learn_bundle_of) once per identity, for identities we hear
    /// of (a sender, a co-member of a group); one that never published a bundle is skipped.
    fn learn_installations_of(&mut self, peer: &IdentityPublicKey) -> Result<(), HarnessError> {
        if *peer == self.id() || self.fetched.contains(&peer.to_bytes()) {
            return Ok(());
        }
        match self.learn_bundle_of(peer) {
            Ok(()) | Err(HarnessError::NoBundle) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn listen_negotiated(&mut self, secret: &NegotiatedSecret) -> Result<(), HarnessError> {
        let mut bytes = *secret.as_bytes();
        let topic = self.scheme.negotiated(&NegotiatedTopicSecret::from_bytes(&mut bytes));
        self.subscribe(topic, Route::Direct)
    }

    /// Where a 1:1 message to `peer` goes now: the negotiated topic once agreed, else the
    /// peer's partitioned topic.
    fn direct_topic(&self, peer: &IdentityPublicKey) -> Result<ContentTopic, HarnessError> {
        Ok(match self.manager.negotiated_secret(&self.sessions, peer)? {
            Some(secret) => {
                let mut bytes = *secret.as_bytes();
                self.scheme.negotiated(&NegotiatedTopicSecret::from_bytes(&mut bytes))
            }
            None => self.scheme.partitioned(&account_key(peer)),
        })
    }

    /// Sends `payload` of kind `kind` to every installation of `peer` over 1:1 sessions,
    /// fetching the peer's bundle first if we have none.
    pub(crate) fn send_direct(
        &mut self,
        peer: &IdentityPublicKey,
        kind: Kind,
        payload: &[u8],
    ) -> Result<MessageHash, HarnessError> {
        if !self.fetched.contains(&peer.to_bytes()) {
            self.learn_bundle_of(peer)?;
        }
        let now = self.now().session();
        let message = self.manager.encrypt(
            &mut self.sessions,
            peer,
            &frame::encode(kind, payload),
            &mut self.rng,
            now,
        )?;
        let topic = self.direct_topic(peer)?;
        self.publish(topic, message.into_bytes())
    }

    /// Processes every message waiting in our subscriptions; returns how many were new.
    pub(crate) fn pump(&mut self) -> Result<usize, HarnessError> {
        let mut batch = Vec::new();
        for inbound in &mut self.inbound {
            let route = inbound.route.clone();
            batch.extend(inbound.subscription.drain().into_iter().map(|m| (route.clone(), m)));
        }
        let mut processed = 0;
        for (route, message) in &batch {
            if self.accept(route, message)? {
                processed += 1;
            }
        }
        Ok(processed)
    }

    /// Reads every subscription's history since its last catch-up from the store (lost
    /// copies, and what was published before we subscribed); returns how many were new.
    pub(crate) fn catch_up(&mut self) -> Result<usize, HarnessError> {
        let mut processed = 0;
        let mut index = 0;
        // Processing may subscribe to more topics; they are caught up in the same call.
        while let Some(inbound) = self.inbound.get(index) {
            let topic = inbound.topic.clone();
            let route = inbound.route.clone();
            let since = inbound.caught_up_to.map(|t| t.saturating_sub(CATCH_UP_OVERLAP_NS));
            let now = self.now().ns;
            let messages = self.query_topic(&topic, since)?;
            if let Some(inbound) = self.inbound.get_mut(index) {
                inbound.caught_up_to = Some(now);
            }
            for message in &messages {
                if self.accept(&route, message)? {
                    processed += 1;
                    self.from_store += 1;
                }
            }
            index += 1;
        }
        Ok(processed)
    }

    /// Processes one message unless its hash was seen; returns whether it was new.
    fn accept(&mut self, route: &Route, message: &ReceivedMessage) -> Result<bool, HarnessError> {
        if !self.seen.insert(message.hash) {
            return Ok(false);
        }
        let payload = message.message.payload();
        match route {
            Route::Direct => self.on_direct(payload)?,
            Route::OrgDescription(org) => self.on_org_broadcast(org, payload)?,
            Route::OrgRequests(org) => self.on_org_request(org, payload)?,
            Route::OrgChannel(org) => self.on_channel_message(org, message.hash, payload),
        }
        Ok(true)
    }

    fn on_direct(&mut self, bytes: &[u8]) -> Result<(), HarnessError> {
        let now = self.now().session();
        match self.manager.receive(&mut self.sessions, bytes, &mut self.rng, now) {
            Ok(Received::Message { from, plaintext }) => {
                // The message carried the sending installation's bundle only; the sender's
                // other installations are on its contact-code topic.
                self.learn_installations_of(&from.identity)?;
                if let Some(secret) =
                    self.manager.negotiated_secret(&self.sessions, &from.identity)?
                {
                    self.listen_negotiated(&secret)?;
                }
                match frame::decode(&plaintext) {
                    Ok((Kind::GroupMessage, payload)) => {
                        self.on_group_message(&from.identity, payload)?
                    }
                    Ok((Kind::OrgInvitation, payload)) => self.on_invitation(payload)?,
                    Ok((Kind::OrgResponse, payload)) => self.on_response(payload)?,
                    Err(error) => self.incidents.push(Incident::Frame(error)),
                }
            }
            // Another account of our partition, or a bundle advert: nothing for us.
            Ok(Received::NotForUs) => {}
            Ok(Received::Duplicate { .. }) => self.incidents.push(Incident::SessionDuplicate),
            Ok(Received::SessionReset { .. }) => self.incidents.push(Incident::SessionReset),
            Ok(Received::Undecryptable { from, reason, recovery }) => {
                self.incidents.push(Incident::Undecryptable(reason));
                if let Some(recovery) = recovery {
                    let topic = self.scheme.partitioned(&account_key(&from.identity));
                    self.publish(topic, recovery.into_bytes())?;
                }
            }
            Ok(_) => self.incidents.push(Incident::SessionOther),
            Err(error) => self.incidents.push(Incident::SessionMessage(error)),
        }
        Ok(())
    }

    /// Reads everything published on our shard since `since_ns` from the store, as an
    /// eavesdropper would, and feeds every message to our session manager (which stores
    /// nothing for messages without an envelope for us). Nothing is delivered.
    pub(crate) fn eavesdrop(&mut self, since_ns: i64) -> Result<Eavesdropped, HarnessError> {
        let shard = SHARDING.pubsub_topic(&self.scheme.partitioned(&account_key(&self.id())));
        let messages = self.query(ContentFilter::whole_pubsub_topic(shard), Some(since_ns))?;
        let mut seen =
            Eavesdropped { messages: 0, addressed_to_others: 0, addressed_to_us: 0, decrypted: 0 };
        let now = self.now().session();
        for message in messages.iter().filter(|m| !self.published.contains(&m.hash)) {
            seen.messages += 1;
            let payload = message.message.payload();
            match self.manager.receive(&mut self.sessions, payload, &mut self.rng, now) {
                Ok(Received::NotForUs) => seen.addressed_to_others += 1,
                Ok(Received::Message { .. }) => {
                    seen.addressed_to_us += 1;
                    seen.decrypted += 1;
                }
                Ok(_) => seen.addressed_to_us += 1,
                // Not a 1:1 message (organization traffic, bundles).
                Err(_) => {}
            }
        }
        Ok(seen)
    }
}
