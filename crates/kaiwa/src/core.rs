//! The synchronous heart of a client: the store, the session manager, the keys, and every
//! protocol step, each run inside one store transaction.
//!
//! ```text
//! inbound batch (≤ MAX_BATCH messages):
//!   BEGIN IMMEDIATE
//!   for each message:  processed(time, hash)? → skip    (relay duplicates, catch-up overlap,
//!                                                         our own publications)
//!                      route → protocol step (session / group / organization), which writes
//!                              its new state, the history row and any reply to the outbox
//!                              through the transaction
//!                      mark processed(time, hash)        (unless kept for a key still to come)
//!   COMMIT                                             all of it, or nothing on a crash
//!   → effects: events, outbox entries to publish, topics to subscribe, bundles to fetch
//!
//! local actions (send, create, invite, ...), grouped (one commit for all queued at once):
//!   BEGIN IMMEDIATE
//!   for each queued action:  SAVEPOINT; state change + history row (Pending) + outbox rows
//!                            + processed marks of our own messages (time, hash);
//!                            RELEASE | ROLLBACK TO (a failed action is undone alone)
//!   COMMIT                                             one fsync for the whole group
//!   → each action's effects and answer, in order; then the publisher sends the outbox rows
//! ```
//!
//! A failed step rolls the transaction back and drops every cached protocol object (groups,
//! organizations, views), which are reloaded from the store: memory never runs ahead of disk.
//! A message the protocol layers refuse (does not decrypt, forged, not for us) is not an
//! error: it is marked processed, logged at `debug` without its content, and skipped.

mod direct;
mod group;
mod org;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kaiwa_crypto::{CryptoRng, IdentityPublicKey};
use kaiwa_group::{Group, GroupId};
use kaiwa_org::{OrgId, Organization, OrganizationView};
use kaiwa_session::{
    Account, AccountStore as _, InstallationId, SessionManager, load_account, save_account,
};
use kaiwa_store::{
    ChatId, MessageId, MessageStatus, OutboxEntry, OutboxId, OutboxMessage, PublicId, Store,
    Transaction,
};
use kaiwa_transport::{
    AccountKey, ContentTopic, NegotiatedTopicSecret, PubsubTopic, ReceivedMessage, WakuMessage,
};

use crate::config::ClientConfig;
use crate::content::Message;
use crate::environment::{Clock, Now};
use crate::error::Error;
use crate::event::Event;
use crate::limits::MAX_TRACKED_PEERS;
use crate::net::Route;

pub(crate) use group::GroupAction;
pub(crate) use org::{Kept, MemberAction, OrgAction};

/// What a committed operation asks the asynchronous side to do.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    /// Events for the application.
    pub(crate) events: Vec<Event>,
    /// Outbox entries to publish now.
    pub(crate) outbox: Vec<OutboxId>,
    /// Topics to subscribe to; `true` if their whole stored history must be read.
    pub(crate) subscribe: Vec<(ContentTopic, Route, bool)>,
    /// Peers whose contact-code topic to read (their other installations).
    pub(crate) fetch_bundles: BTreeSet<PublicId>,
}

impl Effects {
    fn subscribe(&mut self, topic: ContentTopic, route: Route, history: bool) {
        self.subscribe.push((topic, route, history));
    }
}

/// One operation of a group commit ([`Core::transact_group`]).
pub(crate) trait Operation: Send {
    /// Runs the operation's step inside the shared transaction, in its own savepoint;
    /// `false` if it failed (and was undone).
    fn run(&mut self, engine: &mut Engine, tx: &mut Transaction<'_>, now: Now) -> bool;

    /// Reports the outcome once the commit's is known: the step's value if both succeeded
    /// (after handing its effects to `apply`), its error, or the commit's.
    fn finish(self: Box<Self>, commit: Result<(), &Error>, apply: &mut dyn FnMut(Effects));
}

/// A step of a group commit and where its answer goes.
pub(crate) struct Pending<T, S> {
    step: Option<S>,
    outcome: Option<Result<(T, Effects), Error>>,
    reply: tokio::sync::oneshot::Sender<Result<T, Error>>,
}

impl<T, S> Pending<T, S> {
    pub(crate) fn new(step: S, reply: tokio::sync::oneshot::Sender<Result<T, Error>>) -> Self {
        Self { step: Some(step), outcome: None, reply }
    }
}

impl<T, S> Operation for Pending<T, S>
where
    T: Send,
    S: FnOnce(&mut Engine, &mut Transaction<'_>, Now, &mut Effects) -> Result<T, Error> + Send,
{
    fn run(&mut self, engine: &mut Engine, tx: &mut Transaction<'_>, now: Now) -> bool {
        let Some(step) = self.step.take() else { return true };
        let mut effects = Effects::default();
        let result = tx.savepoint(|tx| step(engine, tx, now, &mut effects));
        let ok = result.is_ok();
        self.outcome = Some(result.map(|value| (value, effects)));
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), &Error>, apply: &mut dyn FnMut(Effects)) {
        let answer = match (self.outcome, commit) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok((value, effects))), Ok(())) => {
                apply(effects);
                Ok(value)
            }
            (_, Err(error)) => Err(shared_failure(error)),
            (None, Ok(())) => Err(Error::Internal("an operation of a group commit never ran")),
        };
        // The caller may have stopped waiting; the outcome stands either way.
        let _ = self.reply.send(answer);
    }
}

/// The error every operation of a failed group commit reports: the commit's own when it
/// can be rebuilt (SQLite failures carry a code), else a description of it.
fn shared_failure(error: &Error) -> Error {
    match error {
        Error::Store(kaiwa_store::StoreError::Sqlite {
            operation,
            source: rusqlite::Error::SqliteFailure(code, message),
        }) => Error::Store(kaiwa_store::StoreError::Sqlite {
            operation,
            source: rusqlite::Error::SqliteFailure(*code, message.clone()),
        }),
        _ => Error::Internal("the shared commit of a group of operations failed"),
    }
}

/// The store and everything else; split so a transaction can borrow the store while the
/// protocol steps borrow the rest.
pub(crate) struct Core {
    store: Store,
    engine: Engine,
}

/// Everything but the store.
pub(crate) struct Engine {
    pub(crate) config: ClientConfig,
    pub(crate) clock: Arc<dyn Clock>,
    rng: Box<dyn CryptoRng + Send>,
    manager: SessionManager,
    me: PublicId,
    /// Cached groups (reloaded from the store after any rollback).
    groups: BTreeMap<GroupId, Group>,
    /// Cached organizations we own.
    owned: BTreeMap<OrgId, Organization>,
    /// Cached member views.
    views: BTreeMap<OrgId, OrganizationView>,
    /// Messages waiting for a description or a key, per organization (not marked processed).
    kept: BTreeMap<OrgId, Vec<Kept>>,
    /// Installations known per peer, to notice new ones.
    installations: BTreeMap<PublicId, BTreeSet<InstallationId>>,
    /// When we last answered a peer's unaddressed message with our bundle (Unix ms).
    bundle_replies: BTreeMap<PublicId, u64>,
    /// Negotiated 1:1 topics per peer (one X25519 each to derive; forgotten when the peer's
    /// bundles change).
    direct_topics: BTreeMap<PublicId, ContentTopic>,
    /// Memos of values the store or the curve would give again on every message; behind a
    /// lock so that read-only paths (`&self`) fill them too.
    memo: std::sync::Mutex<Memo>,
}

/// See [`Engine::memo`]. Every map is bounded by [`MAX_TRACKED_PEERS`] (beyond, the oldest
/// key is dropped, or all clocks) and holds a pure function of what it caches or of the store
/// as this client wrote it, so a stale entry cannot exist: keys never change; a chat's last
/// clock only grows (after a rollback it may be ahead of the store, which keeps clocks
/// increasing, as they must be); a contact row that holds a bundle keeps one (every later
/// write of it carries a bundle, and the facade removes no contact). A failed operation
/// clears the clocks and the contacts anyway, with the other caches.
#[derive(Default)]
struct Memo {
    /// Decoded identity keys (an Ed25519 point decompression, ~6 µs, per decode).
    keys: BTreeMap<PublicId, IdentityPublicKey>,
    /// The highest Lamport clock of each chat's history.
    clocks: std::collections::HashMap<ChatId, u64>,
    /// Contacts whose row holds a bundle.
    bundled: BTreeSet<PublicId>,
}

pub(crate) fn public_id(key: &IdentityPublicKey) -> PublicId {
    PublicId::new(key.to_bytes())
}

pub(crate) fn identity_key(id: &PublicId) -> Result<IdentityPublicKey, Error> {
    IdentityPublicKey::from_bytes(id.as_bytes()).map_err(|_| Error::InvalidId { field: "peer" })
}

/// The processed-set key of a received message.
fn processed_key(received: &ReceivedMessage) -> kaiwa_store::ProcessedKey {
    key_of(&received.hash, received.message.timestamp())
}

/// The processed-set key of a WakuMessage with this hash and `timestamp` field.
fn key_of(
    hash: &kaiwa_transport::MessageHash,
    timestamp: Option<i64>,
) -> kaiwa_store::ProcessedKey {
    kaiwa_store::ProcessedKey::new(kaiwa_store::MessageHash::new(*hash.as_bytes()), timestamp)
}

impl Core {
    /// A new account in `store`, which must hold none.
    pub(crate) fn create(
        mut store: Store,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
        mut rng: Box<dyn CryptoRng + Send>,
    ) -> Result<Self, Error> {
        let account = create_account(&mut store, &*clock, &mut *rng)?;
        Self::with_account(store, account, config, clock, rng)
    }

    /// The account in `store`.
    pub(crate) fn open(
        store: Store,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
        rng: Box<dyn CryptoRng + Send>,
    ) -> Result<Self, Error> {
        let account = load_account(&store)?;
        Self::with_account(store, account, config, clock, rng)
    }

    fn with_account(
        store: Store,
        account: Account,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
        rng: Box<dyn CryptoRng + Send>,
    ) -> Result<Self, Error> {
        let now = Now::of(&*clock);
        let me = public_id(&account.identity_key());
        let manager = SessionManager::new(account, config.session, now.session());
        let engine = Engine {
            config,
            clock,
            rng,
            manager,
            me,
            groups: BTreeMap::new(),
            owned: BTreeMap::new(),
            views: BTreeMap::new(),
            kept: BTreeMap::new(),
            installations: BTreeMap::new(),
            bundle_replies: BTreeMap::new(),
            direct_topics: BTreeMap::new(),
            memo: std::sync::Mutex::new(Memo::default()),
        };
        Ok(Self { store, engine })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Runs `step` in one transaction; commits on success, rolls back and forgets the caches
    /// on failure.
    pub(crate) fn transact<T>(
        &mut self,
        step: impl FnOnce(&mut Engine, &mut Transaction<'_>, Now, &mut Effects) -> Result<T, Error>,
    ) -> Result<(T, Effects), Error> {
        self.transact_in(true, step)
    }

    /// [`transact`](Self::transact), committed with an `fsync` (`synced`) or without one
    /// (bookkeeping whose loss is harmless; kaiwa-store's `begin_unsynced`).
    fn transact_in<T>(
        &mut self,
        synced: bool,
        step: impl FnOnce(&mut Engine, &mut Transaction<'_>, Now, &mut Effects) -> Result<T, Error>,
    ) -> Result<(T, Effects), Error> {
        let now = Now::of(&*self.engine.clock);
        let mut effects = Effects::default();
        let begun = if synced { self.store.begin() } else { self.store.begin_unsynced() };
        let outcome = match begun {
            Ok(mut tx) => match step(&mut self.engine, &mut tx, now, &mut effects) {
                Ok(value) => tx.commit().map(|()| value).map_err(Error::from),
                Err(error) => Err(error),
            },
            Err(error) => Err(error.into()),
        };
        match outcome {
            Ok(value) => Ok((value, effects)),
            Err(error) => {
                self.engine.forget_caches();
                Err(error)
            }
        }
    }

    /// Runs queued operations in one transaction, each in its own savepoint, and commits
    /// once (a group commit: one `fsync` for all of them); then hands every operation the
    /// outcome, in order. `apply` receives the effects of each operation that committed.
    ///
    /// An operation that fails is undone alone (its savepoint) and the caches are dropped,
    /// so the next operation reloads what the earlier ones wrote; a commit that fails fails
    /// them all, and nothing of any of them is kept.
    pub(crate) fn transact_group(
        &mut self,
        mut operations: Vec<Box<dyn Operation>>,
        apply: &mut dyn FnMut(Effects),
    ) {
        let now = Now::of(&*self.engine.clock);
        let outcome = match self.store.begin() {
            Ok(mut tx) => {
                for operation in &mut operations {
                    if !operation.run(&mut self.engine, &mut tx, now) {
                        self.engine.forget_caches();
                    }
                }
                tx.commit().map_err(Error::from)
            }
            Err(error) => Err(error.into()),
        };
        if outcome.is_err() {
            self.engine.forget_caches();
        }
        for operation in operations {
            operation.finish(outcome.as_ref().map(|_| ()), apply);
        }
    }

    /// Processes received messages in one transaction (module documentation).
    pub(crate) fn process(
        &mut self,
        batch: &[(Route, ReceivedMessage)],
    ) -> Result<(usize, Effects), Error> {
        self.transact(|engine, tx, now, fx| {
            let mut new = 0usize;
            for (route, message) in batch {
                let key = processed_key(message);
                if tx.is_processed(&key)? {
                    continue;
                }
                new = new.saturating_add(1);
                if engine.handle(tx, *route, message, now, fx)? {
                    tx.mark_processed(&key, now.session())?;
                }
            }
            Ok(new)
        })
    }

    /// Moves the catch-up watermark.
    pub(crate) fn set_caught_up(&mut self, unix_ns: i64) -> Result<(), Error> {
        self.transact(|_, tx, _, _| Ok(tx.set_caught_up(unix_ns)?)).map(drop)
    }

    /// The catch-up watermark (Unix ns), if a catch-up ever completed.
    pub(crate) fn caught_up(&self) -> Result<Option<i64>, Error> {
        Ok(self.store.caught_up()?)
    }

    /// What to subscribe to and publish when the client starts.
    pub(crate) fn startup(&mut self) -> Result<Effects, Error> {
        self.transact(|engine, tx, now, fx| engine.startup(tx, now, fx)).map(|((), fx)| fx)
    }

    /// Periodic work: prekey rotation, bundle republication, organization republication and
    /// re-keys, pruning the processed set.
    pub(crate) fn maintain(
        &mut self,
        republish_bundle: bool,
        republish_orgs: bool,
    ) -> Result<Effects, Error> {
        self.transact(|engine, tx, now, fx| {
            engine.maintain(tx, now, republish_bundle, republish_orgs, fx)
        })
        .map(|((), fx)| fx)
    }

    /// The outbox entries to publish after `after`, oldest first.
    pub(crate) fn pending_outbox(
        &self,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, Error> {
        Ok(self.store.pending_outbox(after, limit)?)
    }

    /// Records the outcomes of publishing outbox entries, in one transaction; returns an
    /// event for every message given up. The commit does not wait for the disk: losing it to
    /// a power cut only means publishing those entries again, with the same hashes, which
    /// receivers drop; the next synced commit makes it durable.
    pub(crate) fn published(
        &mut self,
        outcomes: &[(OutboxEntry, Result<(), String>)],
    ) -> Result<Vec<Event>, Error> {
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        let max_attempts = self.engine.config.max_publish_attempts;
        self.transact_in(false, |_, tx, now, _| {
            let published: Vec<OutboxId> = outcomes
                .iter()
                .filter(|(_, outcome)| outcome.is_ok())
                .map(|(entry, _)| entry.id)
                .collect();
            tx.mark_all_published(&published)?;
            let mut events = Vec::new();
            for (entry, outcome) in outcomes {
                match outcome {
                    Ok(()) => {}
                    Err(error) if entry.attempts.saturating_add(1) < max_attempts => {
                        tx.record_failure(entry.id, error, now.session())?;
                    }
                    Err(_) => {
                        let chat = match entry.history {
                            Some(id) => tx.message(id)?.map(|m| (id, m.chat)),
                            None => None,
                        };
                        tx.abandon_outbox(entry.id)?;
                        if let Some((message, chat)) = chat {
                            events.push(Event::DeliveryFailed { message, chat });
                        }
                    }
                }
            }
            Ok(events)
        })
        .map(|(events, _)| events)
    }
}

/// A new account (a fresh installation id, identity and prekeys) saved in `store`, which
/// must hold none.
pub(crate) fn create_account(
    store: &mut Store,
    clock: &dyn Clock,
    rng: &mut (dyn CryptoRng + Send),
) -> Result<Account, Error> {
    if store.load_account()?.is_some() {
        return Err(Error::ProfileExists);
    }
    let now = Now::of(clock);
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    let installation = InstallationId::new(hex::encode(id))?;
    let account = Account::generate(installation, rng, now.session());
    let mut tx = store.begin()?;
    save_account(&mut tx, &account)?;
    tx.commit()?;
    Ok(account)
}

/// Builds the WakuMessage of an outbox row (the same bytes, so the same hash, every time).
pub(crate) fn outbox_message(entry: &OutboxMessage) -> Result<(PubsubTopic, WakuMessage), Error> {
    let pubsub = PubsubTopic::parse(&entry.pubsub_topic)?;
    let topic = ContentTopic::parse(&entry.content_topic)?;
    let mut message = WakuMessage::new(topic, entry.payload.clone())?;
    if let Some(ts) = entry.timestamp_ns {
        message = message.with_timestamp(ts)?;
    }
    if !entry.meta.is_empty() {
        message = message.with_meta(entry.meta.clone())?;
    }
    Ok((pubsub, message))
}

impl Engine {
    /// Our public id.
    pub(crate) fn me(&self) -> PublicId {
        self.me
    }

    pub(crate) fn manager(&self) -> &SessionManager {
        &self.manager
    }

    fn forget_caches(&mut self) {
        self.groups.clear();
        self.owned.clear();
        self.views.clear();
        self.installations.clear();
        self.direct_topics.clear();
        let mut memo = self.memo();
        memo.clocks.clear();
        memo.bundled.clear();
    }

    /// Remembers that `peer`'s contact row holds a bundle.
    fn remember_bundled(&self, peer: PublicId) {
        let mut memo = self.memo();
        if memo.bundled.len() >= MAX_TRACKED_PEERS {
            memo.bundled.pop_first();
        }
        memo.bundled.insert(peer);
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        self.memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The identity key of `id` (decoded once per peer, then remembered).
    pub(crate) fn peer_key(&self, id: &PublicId) -> Result<IdentityPublicKey, Error> {
        if let Some(key) = self.memo().keys.get(id) {
            return Ok(*key);
        }
        let key = identity_key(id)?;
        let mut memo = self.memo();
        if memo.keys.len() >= MAX_TRACKED_PEERS {
            memo.keys.pop_first();
        }
        memo.keys.insert(*id, key);
        Ok(key)
    }

    /// Remembers that `chat`'s history holds a message with Lamport clock `clock`.
    fn saw_clock(&self, chat: &ChatId, clock: u64) {
        let mut memo = self.memo();
        if let Some(last) = memo.clocks.get_mut(chat) {
            *last = (*last).max(clock);
            return;
        }
        if memo.clocks.len() >= MAX_TRACKED_PEERS {
            memo.clocks.clear();
        }
        memo.clocks.insert(chat.clone(), clock);
    }

    fn scheme(&self) -> &kaiwa_transport::TopicScheme {
        &self.config.scheme
    }

    /// Queues `payload` on `topic`, stamped `now`; marks its hash processed so that our own
    /// copy, if the transport delivers it back, is dropped.
    fn enqueue(
        &self,
        tx: &mut Transaction<'_>,
        topic: &ContentTopic,
        payload: Vec<u8>,
        history: Option<MessageId>,
        now: Now,
        fx: &mut Effects,
    ) -> Result<OutboxId, Error> {
        let pubsub = self.config.sharding.pubsub_topic(topic);
        let message = WakuMessage::new(topic.clone(), payload)?.with_timestamp(now.ns)?;
        tx.mark_processed(&key_of(&message.hash(&pubsub), message.timestamp()), now.session())?;
        let entry = OutboxMessage {
            pubsub_topic: pubsub.as_str().to_owned(),
            content_topic: topic.as_str().to_owned(),
            payload: message.into_payload(),
            meta: Vec::new(),
            timestamp_ns: Some(now.ns),
        };
        let id = tx.enqueue_outbox(&entry, history, now.session())?;
        fx.outbox.push(id);
        Ok(id)
    }

    /// The history row of an outgoing message and its application view.
    fn insert_outgoing(
        &self,
        tx: &mut Transaction<'_>,
        chat: &ChatId,
        text: &crate::content::ChatText,
        now: Now,
    ) -> Result<Message, Error> {
        let payload = crate::content::encode_history(text, &self.me);
        let new = kaiwa_store::NewMessage::outgoing(
            chat,
            self.me,
            text.clock,
            kaiwa_session::Timestamp::from_millis(text.timestamp_ms),
            &payload,
        );
        let id = tx.insert_message(&new, now.session())?;
        self.saw_clock(chat, text.clock);
        Ok(Message {
            id,
            reference: crate::content::MessageRef::compute(&self.me, chat, &self.me, text.clock),
            chat: chat.clone(),
            author: self.me,
            clock: text.clock,
            timestamp_ms: text.timestamp_ms,
            content: text.content.clone(),
            direction: kaiwa_store::Direction::Outbound,
            status: MessageStatus::Pending,
        })
    }

    /// The history row of a received message; emits [`Event::Message`].
    fn insert_received(
        &self,
        tx: &mut Transaction<'_>,
        chat: ChatId,
        author: PublicId,
        text: crate::content::ChatText,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let payload = crate::content::encode_history(&text, &author);
        let timestamp = kaiwa_session::Timestamp::from_millis(text.timestamp_ms);
        let new = kaiwa_store::NewMessage::received(&chat, author, text.clock, timestamp, &payload);
        let id = tx.insert_message(&new, now.session())?;
        self.saw_clock(&chat, text.clock);
        fx.events.push(Event::Message(Message {
            id,
            reference: crate::content::MessageRef::compute(&self.me, &chat, &author, text.clock),
            chat,
            author,
            clock: text.clock,
            timestamp_ms: text.timestamp_ms,
            content: text.content,
            direction: kaiwa_store::Direction::Inbound,
            status: MessageStatus::Received,
        }));
        Ok(())
    }

    /// The next Lamport time of `chat`: `max(now_ms, last + 1)` (status-go's rule).
    fn next_clock(&self, tx: &Transaction<'_>, chat: &ChatId, now: Now) -> Result<u64, Error> {
        let cached = self.memo().clocks.get(chat).copied();
        let last = match cached {
            Some(last) => last,
            None => {
                let last = tx.last_clock(chat)?.unwrap_or(0);
                self.saw_clock(chat, last);
                last
            }
        };
        Ok(now.ms.max(last.saturating_add(1)))
    }

    /// Handles one received message; `Ok(false)` if it is kept for later (not processed).
    fn handle(
        &mut self,
        tx: &mut Transaction<'_>,
        route: Route,
        message: &ReceivedMessage,
        now: Now,
        fx: &mut Effects,
    ) -> Result<bool, Error> {
        match route {
            Route::Direct => {
                self.on_direct(tx, message, now, fx)?;
                Ok(true)
            }
            Route::OrgDescription(org) => self.on_org_broadcast(tx, &org, message, now, fx),
            Route::OrgRequests(org) => {
                self.on_org_request(tx, &org, message.message.payload(), now, fx)?;
                Ok(true)
            }
            Route::OrgChannel(org) => self.on_channel_message(tx, &org, message, now, fx),
        }
    }

    fn account_key(id: &PublicId) -> AccountKey {
        AccountKey::from_bytes(*id.as_bytes())
    }

    fn startup(
        &mut self,
        tx: &mut Transaction<'_>,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let partitioned = self.scheme().partitioned(&Self::account_key(&self.me));
        fx.subscribe(partitioned, Route::Direct, false);
        for contact in tx.contacts()? {
            if let Some(topic) = self.listen_topic(&contact) {
                fx.subscribe(topic, Route::Direct, false);
            }
        }
        for org in &tx.organization_ids()? {
            if self.owned(tx, org)?.is_some() {
                let topic = self.scheme().org_requests(&org_key(org));
                fx.subscribe(topic, Route::OrgRequests(*org), false);
            }
        }
        for org in &tx.org_view_ids(&self.me_in_orgs())? {
            if self.view(tx, org)?.is_some() {
                let topic = self.scheme().org_description(&org_key(org));
                fx.subscribe(topic, Route::OrgDescription(*org), false);
                self.subscribe_channels(org, fx);
            }
        }
        if self.manager.rotate_if_due(&mut *self.rng, now.session()) {
            save_account(tx, self.manager.account())?;
        }
        self.publish_bundle(tx, now, fx)?;
        Ok(())
    }

    fn maintain(
        &mut self,
        tx: &mut Transaction<'_>,
        now: Now,
        republish_bundle: bool,
        republish_orgs: bool,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let rotated = self.manager.rotate_if_due(&mut *self.rng, now.session());
        if rotated {
            save_account(tx, self.manager.account())?;
        }
        if rotated || republish_bundle {
            self.publish_bundle(tx, now, fx)?;
        }
        self.maintain_orgs(tx, now, republish_orgs, fx)?;
        let retention =
            u64::try_from(self.config.processed_retention.as_millis()).unwrap_or(u64::MAX);
        tx.prune_processed(kaiwa_session::Timestamp::from_millis(
            now.ms.saturating_sub(retention),
        ))?;
        Ok(())
    }

    /// Queues our bundle on our contact-code topic.
    fn publish_bundle(
        &self,
        tx: &mut Transaction<'_>,
        now: Now,
        fx: &mut Effects,
    ) -> Result<(), Error> {
        let topic = self.scheme().contact_code(&Self::account_key(&self.me));
        self.enqueue(tx, &topic, self.manager.bundle().encode(), None, now, fx)?;
        Ok(())
    }

    /// The negotiated topic with `peer` computed from the peer's identity DH key (54: we
    /// listen on it as soon as we know the key, since the peer may switch to it first).
    fn negotiated_topic(&self, identity_dh: &kaiwa_crypto::DhPublicKey) -> Option<ContentTopic> {
        let secret =
            kaiwa_session::negotiated_secret(self.manager.account().identity_dh(), identity_dh)
                .ok()?;
        let mut bytes = *secret.as_bytes();
        Some(self.scheme().negotiated(&NegotiatedTopicSecret::from_bytes(&mut bytes)))
    }

    /// Where a 1:1 message to `peer` goes now: the negotiated topic once the session says it
    /// is agreed (54/WAKU2-X3DH-SESSIONS), otherwise the peer's partitioned topic.
    fn direct_topic(
        &mut self,
        tx: &mut Transaction<'_>,
        peer: &IdentityPublicKey,
    ) -> Result<ContentTopic, Error> {
        let id = public_id(peer);
        if let Some(topic) = self.direct_topics.get(&id) {
            return Ok(topic.clone());
        }
        Ok(match self.manager.negotiated_secret(&*tx, peer)? {
            Some(secret) => {
                let mut bytes = *secret.as_bytes();
                let topic =
                    self.scheme().negotiated(&NegotiatedTopicSecret::from_bytes(&mut bytes));
                if self.direct_topics.len() >= MAX_TRACKED_PEERS {
                    self.direct_topics.pop_first();
                }
                self.direct_topics.insert(id, topic.clone());
                topic
            }
            None => self.scheme().partitioned(&Self::account_key(&id)),
        })
    }
}

pub(crate) fn org_key(org: &OrgId) -> kaiwa_transport::OrgKey {
    kaiwa_transport::OrgKey::from_bytes(*org.as_bytes())
}
