//! [`Client`]: the async face of everything below.
//!
//! ```text
//! Client (cheap to clone) ── Arc<Inner>
//!   core: Mutex<Core>          store + session manager + keys + caches; every operation runs
//!                              on tokio's blocking pool (SQLite and the crypto are blocking)
//!   queue                      operations waiting for a group commit: one drain at a time
//!                              takes everything queued (≤ MAX_GROUP_COMMIT) and commits it
//!                              in one transaction, a savepoint per operation
//!   receive task               subscriptions → batches (≤ MAX_BATCH) → Core::process → events;
//!                              subscribes, catches up from Store, fetches bundles on request
//!   publish task               outbox → Transport::publish → record failure at once, or mark
//!                              published publish_settle later (a crash before then publishes
//!                              again); woken by every operation that queued something (new
//!                              entries), and every outbox_retry_interval (every entry)
//!   maintenance task           prekey rotation, bundle and description republication,
//!                              periodic re-keys, periodic catch-up, processed-set pruning
//! ```
//!
//! Every operation commits before it returns; publication follows. An operation that returns
//! `Ok` has its message in the outbox, so it is never lost: a crash before publication
//! publishes it at the next start (with the same hash, so receivers drop a second copy).
//!
//! Operations called concurrently (from several tasks, or joined futures) share commits:
//! while one group commits, the next queues, so N concurrent sends cost far fewer than N
//! `fsync`s, and each still returns only once its own operation is durable. Operations
//! called one after another from one task each commit alone.

mod tasks;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use kaiwa_group::{GroupId, MemberStatus, ReactionKind};
use kaiwa_org::{Access, ChannelId, OrgId};
use kaiwa_store::{ChatId, ChatSummary, Contact, HistoryCursor, OutboxId, PublicId};
use kaiwa_transport::Transport;
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::ClientConfig;
use crate::content::{Content, Message, MessageRef};
use crate::core::{Core, Effects, GroupAction, MemberAction, Operation, OrgAction, Pending};
use crate::environment::{Clock, Environment};
use crate::error::Error;
use crate::event::Event;
use crate::limits::{MAX_EVENT_BUFFER, MAX_GROUP_COMMIT};
use crate::net::Net;
use crate::profile::Profile;

use self::tasks::Command;

/// A running kaiwa client: one account, one installation. See the crate documentation.
///
/// Cloning gives another handle to the same client. Dropping the last handle stops the
/// background work (as [`shutdown`](Self::shutdown) does, without waiting for it).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    _guard: Arc<ShutdownGuard>,
}

pub(crate) struct Inner {
    core: Mutex<Core>,
    queue: Mutex<CommitQueue>,
    net: Arc<dyn Net>,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
    me: PublicId,
    events: broadcast::Sender<Event>,
    first_events: Mutex<Option<broadcast::Receiver<Event>>>,
    commands: mpsc::UnboundedSender<Command>,
    counters: Counters,
    publish: Notify,
    in_flight: Mutex<BTreeSet<OutboxId>>,
    /// The highest outbox id a publish pass has read: woken passes start after it.
    publish_cursor: Mutex<Option<OutboxId>>,
    /// Publications waiting out `publish_settle` before they are marked.
    settling: Mutex<Vec<JoinHandle<()>>>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// What a client has done since it started ([`Client::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Local operations (sends, group and organization actions, the queries that need the
    /// protocol objects loaded) that committed or failed.
    pub operations: u64,
    /// The transactions they ran in: fewer than `operations` when concurrent operations
    /// shared a commit.
    pub operation_commits: u64,
    /// Received messages processed for the first time (duplicates not counted).
    pub received: u64,
    /// The transactions they were processed in.
    pub receive_commits: u64,
    /// Outbox entries published.
    pub published: u64,
    /// Publication attempts that failed (to be retried, or given up).
    pub publish_failures: u64,
}

/// The counters behind [`Stats`].
#[derive(Default)]
pub(crate) struct Counters {
    operations: AtomicU64,
    operation_commits: AtomicU64,
    received: AtomicU64,
    receive_commits: AtomicU64,
    published: AtomicU64,
    publish_failures: AtomicU64,
}

impl Counters {
    pub(crate) fn add_received(&self, messages: usize) {
        self.received.fetch_add(u64::try_from(messages).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.receive_commits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn add_published(&self, published: usize, failed: usize) {
        self.published.fetch_add(u64::try_from(published).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.publish_failures
            .fetch_add(u64::try_from(failed).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn snapshot(&self) -> Stats {
        Stats {
            operations: self.operations.load(Ordering::Relaxed),
            operation_commits: self.operation_commits.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            receive_commits: self.receive_commits.load(Ordering::Relaxed),
            published: self.published.load(Ordering::Relaxed),
            publish_failures: self.publish_failures.load(Ordering::Relaxed),
        }
    }
}

/// Operations waiting for a group commit ([`Inner::drain`]).
#[derive(Default)]
struct CommitQueue {
    operations: Vec<Box<dyn Operation>>,
    /// Whether a drain is running (it takes every operation queued before it stops).
    draining: bool,
}

/// Restarts the drain if one unwinds (a bug in a step): the operations queued behind it
/// must not wait forever.
struct DrainGuard(Arc<Inner>);

impl Drop for DrainGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let runtime = tokio::runtime::Handle::try_current().ok();
        let restart = {
            let mut queue = lock(&self.0.queue);
            queue.draining = runtime.is_some() && !queue.operations.is_empty();
            queue.draining
        };
        if let (true, Some(runtime)) = (restart, runtime) {
            let inner = Arc::clone(&self.0);
            runtime.spawn_blocking(move || inner.drain());
        }
    }
}

/// Signals the tasks to stop when the last [`Client`] handle is dropped.
struct ShutdownGuard(watch::Sender<bool>);

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client").field("id", &self.inner.me).finish_non_exhaustive()
    }
}

/// The application's stream of [`Event`]s.
#[derive(Debug)]
pub struct Events {
    receiver: broadcast::Receiver<Event>,
}

impl Events {
    /// The next event; `None` once the client has stopped. A receiver that fell more than
    /// [`MAX_EVENT_BUFFER`] events behind gets [`Event::Lagged`] first.
    pub async fn next(&mut self) -> Option<Event> {
        match self.receiver.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Event::Lagged { missed }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is ready now.
    pub fn try_next(&mut self) -> Option<Event> {
        match self.receiver.try_recv() {
            Ok(event) => Some(event),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => Some(Event::Lagged { missed }),
            Err(_) => None,
        }
    }
}

/// What a send did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sent {
    /// The message as it stands in our history (status `Pending` until published).
    pub message: Message,
    /// Group members we hold no bundle for, who got nothing (empty for 1:1 and channels).
    pub unreachable: Vec<PublicId>,
}

/// A private group as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupInfo {
    /// The chat id.
    pub id: GroupId,
    /// The name.
    pub name: String,
    /// Every member and whether they joined.
    pub members: Vec<(PublicId, MemberStatus)>,
    /// The admins.
    pub admins: Vec<PublicId>,
}

/// An organization as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgInfo {
    /// The organization id.
    pub id: OrgId,
    /// Its name (empty until its description arrived).
    pub name: String,
    /// Its members.
    pub members: Vec<PublicId>,
    /// Its channels, with their names.
    pub channels: Vec<(ChannelId, String)>,
    /// Whether we own it.
    pub owned: bool,
    /// Whether we are a member.
    pub member: bool,
    /// Pending join requests (owner only), with the names given.
    pub pending: Vec<(PublicId, String)>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic inside a step cannot leave the store inconsistent (its transaction rolls back);
    // caches are reloaded on the next failure, so the lock is taken over.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Client {
    /// Creates a new account in `profile` and starts the client.
    ///
    /// ```no_run
    /// use kaiwa::{Client, ClientConfig, Environment, Profile};
    /// # async fn run(transport: kaiwa::relay::RelayNode) -> Result<(), kaiwa::Error> {
    /// let profile = Profile::open_dir("/tmp/alice")?;
    /// let client = Client::create(profile, transport, ClientConfig::default(), Environment::system()?).await?;
    /// println!("my id: {}", client.public_id());
    /// println!("my contact code: {}", client.contact_code().await?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ProfileExists`] if the profile already holds an account; store failures.
    pub async fn create(
        profile: Profile,
        transport: impl Transport + 'static,
        config: ClientConfig,
        environment: Environment,
    ) -> Result<Self, Error> {
        Self::start(profile, Arc::new(transport), config, environment, true).await
    }

    /// Opens the account in `profile` and starts the client: it resubscribes, republishes
    /// its bundle, publishes what the outbox still holds, and catches up from Store on every
    /// topic it follows since it last did.
    ///
    /// # Errors
    /// [`Error::NoProfile`] if the profile holds no account; store failures.
    pub async fn open(
        profile: Profile,
        transport: impl Transport + 'static,
        config: ClientConfig,
        environment: Environment,
    ) -> Result<Self, Error> {
        Self::start(profile, Arc::new(transport), config, environment, false).await
    }

    async fn start(
        profile: Profile,
        net: Arc<dyn Net>,
        config: ClientConfig,
        environment: Environment,
        create: bool,
    ) -> Result<Self, Error> {
        let Environment { clock, rng } = environment;
        let clock: Arc<dyn Clock> = Arc::from(clock);
        let Profile { store, .. } = profile;
        let core_config = config.clone();
        let core_clock = Arc::clone(&clock);
        let (core, startup) = tokio::task::spawn_blocking(move || {
            let mut core = if create {
                Core::create(store, core_config, core_clock, rng)?
            } else {
                Core::open(store, core_config, core_clock, rng)?
            };
            let startup = core.startup()?;
            Ok::<_, Error>((core, startup))
        })
        .await
        .map_err(|_| Error::Internal("the start-up task panicked"))??;
        let me = core.engine().me();
        let (events, first) = broadcast::channel(MAX_EVENT_BUFFER);
        let (commands, command_receiver) = mpsc::unbounded_channel();
        let (shutdown, _) = watch::channel(false);
        let inner = Arc::new(Inner {
            core: Mutex::new(core),
            queue: Mutex::new(CommitQueue::default()),
            net,
            config,
            clock,
            me,
            events,
            first_events: Mutex::new(Some(first)),
            commands,
            counters: Counters::default(),
            publish: Notify::new(),
            in_flight: Mutex::new(BTreeSet::new()),
            publish_cursor: Mutex::new(None),
            settling: Mutex::new(Vec::new()),
            shutdown: shutdown.clone(),
            tasks: Mutex::new(Vec::new()),
        });
        tasks::spawn(&inner, command_receiver, startup);
        Ok(Self { inner, _guard: Arc::new(ShutdownGuard(shutdown)) })
    }

    /// Our public id (the Ed25519 identity key); its text form is `0x` + 64 hex digits.
    #[must_use]
    pub fn public_id(&self) -> PublicId {
        self.inner.me
    }

    /// Our contact code (`KAIWA:…`): others add us with it, and scanning it verifies our
    /// identity.
    ///
    /// # Errors
    /// [`Error::Internal`] if the blocking pool fails.
    pub async fn contact_code(&self) -> Result<String, Error> {
        self.inner
            .read(|core| Ok(kaiwa_session::encode_contact_code(core.engine().manager().bundle())))
            .await
    }

    /// The stream of events. The first call gets every event since the client started;
    /// later calls get events from then on.
    #[must_use]
    pub fn events(&self) -> Events {
        let first = lock(&self.inner.first_events).take();
        Events { receiver: first.unwrap_or_else(|| self.inner.events.subscribe()) }
    }

    /// Stops the background work and waits for it. Everything committed stays committed;
    /// unpublished messages stay in the outbox for the next start.
    pub async fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
        let tasks: Vec<_> = lock(&self.inner.tasks).drain(..).collect();
        for task in tasks {
            let _ = task.await;
        }
    }

    /// What this client has done since it started: operations and the commits they shared,
    /// messages received and published.
    ///
    /// ```no_run
    /// # fn run(client: kaiwa::Client) {
    /// let stats = client.stats();
    /// println!("{} operations in {} commits", stats.operations, stats.operation_commits);
    /// # }
    /// ```
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// Publishes everything in the outbox now (the background publisher does so anyway), and
    /// returns once every publication is recorded: after
    /// [`publish_settle`](ClientConfig::publish_settle), unless the client shuts down first.
    ///
    /// # Errors
    /// Store failures. Transport failures are recorded on the entries and retried.
    pub async fn flush(&self) -> Result<(), Error> {
        tasks::publish_pending(&self.inner, tasks::Pass::Every).await?;
        tasks::settled(&self.inner).await;
        Ok(())
    }

    /// Catches up every followed topic from Store now (the client does so at start and every
    /// `catch_up_interval`); returns how many messages were new.
    ///
    /// # Errors
    /// [`Error::ShutDown`] if the client is stopping.
    pub async fn catch_up(&self) -> Result<usize, Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.inner
            .commands
            .send(Command::CatchUp { reply: Some(reply) })
            .map_err(|_| Error::ShutDown)?;
        answer.await.map_err(|_| Error::ShutDown)
    }

    // ----- contacts -----

    /// Adds a contact from its contact code (which verifies its identity and carries its
    /// keys); returns its id.
    ///
    /// # Errors
    /// [`Error::Session`] if the code does not parse or verify; store failures.
    pub async fn add_contact(
        &self,
        contact_code: &str,
        display_name: &str,
    ) -> Result<PublicId, Error> {
        let (code, name) = (contact_code.to_owned(), display_name.to_owned());
        self.inner
            .act(move |engine, tx, now, fx| engine.add_contact_code(tx, &code, &name, now, fx))
            .await
    }

    /// Adds a contact by public id, fetching its bundles from its contact-code topic.
    ///
    /// # Errors
    /// [`Error::NoBundle`] if no valid bundle of `id` is stored on the network; transport and
    /// store failures.
    pub async fn add_contact_by_id(&self, id: PublicId, display_name: &str) -> Result<(), Error> {
        if id == self.inner.me {
            return Err(Error::InvalidId { field: "contact (it is our own id)" });
        }
        let payloads = tasks::fetch_bundles(&self.inner, &id).await?;
        let name = display_name.to_owned();
        let found = self
            .inner
            .act(move |engine, tx, now, fx| {
                engine.take_bundles(tx, &id, &payloads, Some(&name), now, fx)
            })
            .await?;
        if found { Ok(()) } else { Err(Error::NoBundle) }
    }

    /// Every contact, in the order they were added.
    ///
    /// # Errors
    /// Store failures.
    pub async fn contacts(&self) -> Result<Vec<Contact>, Error> {
        self.inner.read(|core| Ok(core.store().contacts()?)).await
    }

    // ----- sending -----

    /// Sends `content` to a chat: a contact, a group we joined, or an organization channel.
    ///
    /// # Errors
    /// [`Error::UnknownContact`], [`Error::UnknownGroup`], [`Error::NotAMember`],
    /// [`Error::UnknownOrg`], [`Error::TooLong`]; the protocol layers' refusals; store
    /// failures. Nothing is sent or stored on error.
    pub async fn send(&self, chat: &ChatId, content: Content) -> Result<Sent, Error> {
        match chat.clone() {
            ChatId::Direct(peer) => {
                // One trip through the commit queue when the peer's bundle is known (the
                // usual case); otherwise fetch it and try again.
                let sent = self
                    .inner
                    .act(move |engine, tx, now, fx| {
                        if !engine.has_bundle(&*tx, &peer)? && tx.is_contact(&peer)? {
                            return Ok(Err(content));
                        }
                        engine.send_direct(tx, &peer, content, now, fx).map(Ok)
                    })
                    .await?;
                let message = match sent {
                    Ok(message) => message,
                    Err(content) => {
                        self.ensure_bundles(&[peer]).await?;
                        self.inner
                            .act(move |engine, tx, now, fx| {
                                engine.send_direct(tx, &peer, content, now, fx)
                            })
                            .await?
                    }
                };
                Ok(Sent { message, unreachable: Vec::new() })
            }
            ChatId::Group(group) => {
                let members = self.group_members(&group).await?;
                self.ensure_bundles(&members).await?;
                let sent = self
                    .inner
                    .act(move |engine, tx, now, fx| engine.send_group(tx, &group, content, now, fx))
                    .await?;
                let message =
                    sent.message.ok_or(Error::Internal("a group send without a message"))?;
                Ok(Sent { message, unreachable: sent.unreachable })
            }
            ChatId::Channel { org, channel } => {
                let message = self
                    .inner
                    .act(move |engine, tx, now, fx| {
                        engine.send_channel(tx, &org, &channel, content, now, fx)
                    })
                    .await?;
                Ok(Sent { message, unreachable: Vec::new() })
            }
            _ => Err(Error::Internal("a chat kind this facade does not know")),
        }
    }

    /// Sends a text message to a chat.
    ///
    /// ```no_run
    /// # async fn run(client: kaiwa::Client, bob: kaiwa::PublicId) -> Result<(), kaiwa::Error> {
    /// let sent = client.send_text(&kaiwa::ChatId::Direct(bob), "hi Bob").await?;
    /// println!("queued as message {}", sent.message.id);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_text(&self, chat: &ChatId, text: &str) -> Result<Sent, Error> {
        self.send(chat, Content::Text { text: text.to_owned(), response_to: None }).await
    }

    /// Reacts to message `to` in a chat (or takes the reaction back).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub async fn send_reaction(
        &self,
        chat: &ChatId,
        to: &MessageRef,
        kind: ReactionKind,
        retracted: bool,
    ) -> Result<Sent, Error> {
        self.send(chat, Content::Reaction { to: to.clone(), kind, retracted }).await
    }

    /// Fetches bundles of the peers we hold none for (best effort: a peer without any stays
    /// without, and sending to it reports it).
    async fn ensure_bundles(&self, peers: &[PublicId]) -> Result<(), Error> {
        for peer in peers.iter().copied() {
            if peer == self.inner.me {
                continue;
            }
            let known =
                self.inner.read(move |core| core.engine().has_bundle(core.store(), &peer)).await?;
            if known {
                continue;
            }
            let payloads = match tasks::fetch_bundles(&self.inner, &peer).await {
                Ok(payloads) => payloads,
                Err(error) => {
                    tracing::debug!(%error, "could not fetch a bundle");
                    continue;
                }
            };
            self.inner
                .act(move |engine, tx, now, fx| {
                    engine.take_bundles(tx, &peer, &payloads, None, now, fx)
                })
                .await?;
        }
        Ok(())
    }

    // ----- history -----

    /// A page of a chat's history: the `limit` messages before `before` (or the latest),
    /// oldest first. Pass the first message's `(clock, id)` as the next `before`.
    ///
    /// # Errors
    /// Store failures.
    pub async fn history(
        &self,
        chat: &ChatId,
        before: Option<HistoryCursor>,
        limit: usize,
    ) -> Result<Vec<Message>, Error> {
        let chat = chat.clone();
        let me = self.inner.me;
        self.inner
            .read(move |core| {
                let stored = core.store().history(&chat, before, limit)?;
                Ok(stored.into_iter().filter_map(|m| Message::from_stored(&me, m)).collect())
            })
            .await
    }

    /// Every chat with at least one message, most recent first.
    ///
    /// # Errors
    /// Store failures.
    pub async fn chats(&self) -> Result<Vec<ChatSummary>, Error> {
        self.inner.read(|core| Ok(core.store().chats()?)).await
    }

    // ----- groups -----

    /// Creates a private group with us as admin, inviting `members`; returns its id and the
    /// members we could not reach (no bundle).
    ///
    /// # Errors
    /// [`Error::Group`] if kaiwa-group refuses (bad name, duplicate members); store failures.
    pub async fn create_group(
        &self,
        name: &str,
        members: &[PublicId],
    ) -> Result<(GroupId, Vec<PublicId>), Error> {
        self.ensure_bundles(members).await?;
        let (name, members) = (name.to_owned(), members.to_vec());
        let (id, sent) = self
            .inner
            .act(move |engine, tx, now, fx| engine.create_group(tx, &name, &members, now, fx))
            .await?;
        Ok((id, sent.unreachable))
    }

    async fn group_members(&self, group: &GroupId) -> Result<Vec<PublicId>, Error> {
        let group = group.clone();
        self.inner.act(move |engine, tx, _, _| engine.group_members(tx, &group)).await
    }

    async fn group_action(
        &self,
        group: &GroupId,
        action: GroupAction,
    ) -> Result<Vec<PublicId>, Error> {
        let mut members = self.group_members(group).await?;
        if let GroupAction::Add(added) = &action {
            members.extend(added.iter().copied());
        }
        self.ensure_bundles(&members).await?;
        let group = group.clone();
        let sent = self
            .inner
            .act(move |engine, tx, now, fx| engine.group_action(tx, &group, action, now, fx))
            .await?;
        Ok(sent.unreachable)
    }

    /// Renames a group (admins only). Returns the members we could not reach.
    ///
    /// # Errors
    /// [`Error::UnknownGroup`], [`Error::Group`] (not an admin, ...), store failures.
    pub async fn rename_group(&self, group: &GroupId, name: &str) -> Result<Vec<PublicId>, Error> {
        self.group_action(group, GroupAction::Rename(name.to_owned())).await
    }

    /// Invites members to a group (admins only).
    ///
    /// # Errors
    /// As [`rename_group`](Self::rename_group).
    pub async fn add_members(
        &self,
        group: &GroupId,
        members: &[PublicId],
    ) -> Result<Vec<PublicId>, Error> {
        self.group_action(group, GroupAction::Add(members.to_vec())).await
    }

    /// Removes a non-admin member (admins only); the member is told.
    ///
    /// # Errors
    /// As [`rename_group`](Self::rename_group).
    pub async fn remove_member(
        &self,
        group: &GroupId,
        member: PublicId,
    ) -> Result<Vec<PublicId>, Error> {
        self.group_action(group, GroupAction::Remove(member)).await
    }

    /// Leaves a group.
    ///
    /// # Errors
    /// As [`rename_group`](Self::rename_group).
    pub async fn leave_group(&self, group: &GroupId) -> Result<Vec<PublicId>, Error> {
        self.group_action(group, GroupAction::Leave).await
    }

    /// Joins a group we were invited to.
    ///
    /// # Errors
    /// As [`rename_group`](Self::rename_group).
    pub async fn join_group(&self, group: &GroupId) -> Result<Vec<PublicId>, Error> {
        self.group_action(group, GroupAction::Join).await
    }

    /// A group we belong (or belonged) to.
    ///
    /// # Errors
    /// Store failures, or an unreadable group record.
    pub async fn group(&self, group: &GroupId) -> Result<Option<GroupInfo>, Error> {
        let id = group.clone();
        self.inner
            .act(move |engine, tx, _, _| {
                let Some(group) = engine.group(tx, &id)? else { return Ok(None) };
                let state = group.state();
                let key = |m: &kaiwa_group::MemberId| PublicId::new(m.key().to_bytes());
                Ok(Some(GroupInfo {
                    id: id.clone(),
                    name: state.name().to_owned(),
                    members: state.members().map(|(m, s)| (key(m), s)).collect(),
                    admins: state.admins().map(key).collect(),
                }))
            })
            .await
    }

    /// Every group we belong or belonged to.
    ///
    /// # Errors
    /// Store failures.
    pub async fn groups(&self) -> Result<Vec<GroupId>, Error> {
        self.inner
            .act(move |engine, tx, _, _| {
                let mut known = Vec::new();
                for id in tx.group_ids()? {
                    if engine.group(tx, &id)?.is_some() {
                        known.push(id);
                    }
                }
                Ok(known)
            })
            .await
    }

    // ----- organizations -----

    /// Founds an encrypted organization with access mode `access`; we own it and are its
    /// first member.
    ///
    /// # Errors
    /// [`Error::Org`] if kaiwa-org refuses the name; store failures.
    pub async fn create_org(&self, name: &str, access: Access) -> Result<OrgId, Error> {
        let name = name.to_owned();
        self.inner
            .act(move |engine, tx, now, fx| engine.create_org(tx, &name, access, now, fx))
            .await
    }

    async fn org_action(&self, org: &OrgId, action: OrgAction) -> Result<(), Error> {
        let org = *org;
        self.inner
            .act(move |engine, tx, now, fx| engine.org_action(tx, &org, action, now, fx))
            .await
    }

    /// Adds an open channel (owner).
    ///
    /// # Errors
    /// [`Error::NotOwner`], [`Error::InvalidId`], [`Error::Org`], store failures.
    pub async fn create_channel(
        &self,
        org: &OrgId,
        channel: &str,
        name: &str,
    ) -> Result<ChannelId, Error> {
        let id = ChannelId::new(channel).map_err(|_| Error::InvalidId { field: "channel" })?;
        self.org_action(org, OrgAction::CreateChannel { id: id.clone(), name: name.to_owned() })
            .await?;
        Ok(id)
    }

    /// Renames a channel (owner).
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn edit_channel(
        &self,
        org: &OrgId,
        channel: &ChannelId,
        name: &str,
    ) -> Result<(), Error> {
        self.org_action(org, OrgAction::EditChannel { id: channel.clone(), name: name.to_owned() })
            .await
    }

    /// Deletes a channel (owner).
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn delete_channel(&self, org: &OrgId, channel: &ChannelId) -> Result<(), Error> {
        self.org_action(org, OrgAction::DeleteChannel(channel.clone())).await
    }

    /// Changes who may join (owner).
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn set_access(&self, org: &OrgId, access: Access) -> Result<(), Error> {
        self.org_action(org, OrgAction::SetAccess(access)).await
    }

    /// Accepts a pending join request (owner); re-keys.
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn accept_request(&self, org: &OrgId, member: PublicId) -> Result<(), Error> {
        self.org_action(org, OrgAction::Accept(member)).await
    }

    /// Rejects a pending join request (owner).
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn reject_request(&self, org: &OrgId, member: PublicId) -> Result<(), Error> {
        self.org_action(org, OrgAction::Reject(member)).await
    }

    /// Removes a member (owner); re-keys.
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn kick(&self, org: &OrgId, member: PublicId) -> Result<(), Error> {
        self.org_action(org, OrgAction::Kick(member)).await
    }

    /// Bans a key (owner): removed, refused everywhere; re-keys.
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn ban(&self, org: &OrgId, member: PublicId) -> Result<(), Error> {
        self.org_action(org, OrgAction::Ban(member)).await
    }

    /// Lifts a ban (owner).
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn unban(&self, org: &OrgId, member: PublicId) -> Result<(), Error> {
        self.org_action(org, OrgAction::Unban(member)).await
    }

    /// Starts a new key epoch for every key group now (owner).
    ///
    /// # Errors
    /// As [`create_channel`](Self::create_channel).
    pub async fn rekey(&self, org: &OrgId) -> Result<(), Error> {
        self.org_action(org, OrgAction::Rekey).await
    }

    /// Invites `member` (owner): a signed grant over a 1:1 session, honoured by
    /// INVITATION_ONLY organizations.
    ///
    /// # Errors
    /// [`Error::NotOwner`], [`Error::NoBundle`], [`Error::Org`], store failures.
    pub async fn invite(&self, org: &OrgId, member: PublicId) -> Result<(), Error> {
        self.ensure_bundles(&[member]).await?;
        let org = *org;
        self.inner.act(move |engine, tx, now, fx| engine.invite(tx, &org, &member, now, fx)).await
    }

    /// Follows an organization whose id we learned out of band: its description, channels
    /// and keys (once admitted) arrive from then on, and its history is read from Store.
    ///
    /// # Errors
    /// Store failures.
    pub async fn follow_org(&self, org: &OrgId) -> Result<(), Error> {
        let org = *org;
        self.inner.act(move |engine, tx, _, fx| engine.follow(tx, &org, fx)).await
    }

    /// Asks to join an organization we follow (with its invitation, if we hold one). The
    /// answer arrives as [`Event::JoinResponse`].
    ///
    /// # Errors
    /// [`Error::UnknownOrg`] if we do not follow it, [`Error::Org`] if its description has not
    /// arrived yet, store failures.
    pub async fn request_to_join(&self, org: &OrgId, display_name: &str) -> Result<(), Error> {
        let (org, name) = (*org, display_name.to_owned());
        self.inner
            .act(move |engine, tx, now, fx| engine.request_to_join(tx, &org, &name, now, fx))
            .await
    }

    /// Withdraws our pending join request.
    ///
    /// # Errors
    /// As [`request_to_join`](Self::request_to_join).
    pub async fn cancel_request(&self, org: &OrgId) -> Result<(), Error> {
        let org = *org;
        self.inner
            .act(move |engine, tx, now, fx| {
                engine.member_action(tx, &org, MemberAction::Cancel, now, fx)
            })
            .await
    }

    /// Leaves an organization.
    ///
    /// # Errors
    /// As [`request_to_join`](Self::request_to_join).
    pub async fn leave_org(&self, org: &OrgId) -> Result<(), Error> {
        let org = *org;
        self.inner
            .act(move |engine, tx, now, fx| {
                engine.member_action(tx, &org, MemberAction::Leave, now, fx)
            })
            .await
    }

    /// An organization we own or follow.
    ///
    /// # Errors
    /// Store failures or unreadable records.
    pub async fn org(&self, org: &OrgId) -> Result<Option<OrgInfo>, Error> {
        let org = *org;
        let me = self.inner.me;
        self.inner
            .act(move |engine, tx, _, _| {
                let pending = engine.owned(tx, &org)?.map(|owner| {
                    owner
                        .pending()
                        .iter()
                        .map(|(m, p)| (PublicId::new(*m.as_bytes()), p.display_name.clone()))
                        .collect::<Vec<_>>()
                });
                let Some(view) = engine.view(tx, &org)? else { return Ok(None) };
                let description = view.description();
                let members: Vec<PublicId> = description
                    .map(|d| d.members().keys().map(|m| PublicId::new(*m.as_bytes())).collect())
                    .unwrap_or_default();
                Ok(Some(OrgInfo {
                    id: org,
                    name: description
                        .map(|d| d.identity().display_name.clone())
                        .unwrap_or_default(),
                    member: members.contains(&me),
                    members,
                    channels: description
                        .map(|d| {
                            d.channels()
                                .iter()
                                .map(|(id, c)| (id.clone(), c.identity.display_name.clone()))
                                .collect()
                        })
                        .unwrap_or_default(),
                    owned: pending.is_some(),
                    pending: pending.unwrap_or_default(),
                }))
            })
            .await
    }

    /// Every organization we own or follow.
    ///
    /// # Errors
    /// Store failures.
    pub async fn orgs(&self) -> Result<Vec<OrgId>, Error> {
        self.inner
            .act(move |engine, tx, _, _| {
                let mut known = Vec::new();
                for id in tx.org_view_ids(&engine.me_in_orgs())? {
                    if engine.view(tx, &id)?.is_some() {
                        known.push(id);
                    }
                }
                Ok(known)
            })
            .await
    }
}

impl Inner {
    /// Runs `step` in one transaction on the blocking pool, then applies its effects.
    async fn act<T: Send + 'static>(
        self: &Arc<Self>,
        step: impl FnOnce(
            &mut crate::core::Engine,
            &mut kaiwa_store::Transaction<'_>,
            crate::environment::Now,
            &mut Effects,
        ) -> Result<T, Error>
        + Send
        + 'static,
    ) -> Result<T, Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let start = {
            let mut queue = lock(&self.queue);
            queue.operations.push(Box::new(Pending::new(step, reply)));
            !core::mem::replace(&mut queue.draining, true)
        };
        if start {
            let inner = Arc::clone(self);
            tokio::task::spawn_blocking(move || inner.drain());
        }
        answer.await.map_err(|_| Error::Internal("an operation was dropped unanswered"))?
    }

    /// Commits queued operations in groups until the queue is empty (on the blocking pool;
    /// one drain runs at a time). Operations queued while a group commits form the next
    /// group: that is what shares one `fsync` among concurrent callers.
    fn drain(self: Arc<Self>) {
        let _guard = DrainGuard(Arc::clone(&self));
        loop {
            let operations = {
                let mut queue = lock(&self.queue);
                if queue.operations.is_empty() {
                    queue.draining = false;
                    break;
                }
                let take = queue.operations.len().min(MAX_GROUP_COMMIT);
                queue.operations.drain(..take).collect::<Vec<_>>()
            };
            // Counted before the answers go out, so a caller that got its answer sees its
            // operation in the stats.
            let count = u64::try_from(operations.len()).unwrap_or(u64::MAX);
            self.counters.operations.fetch_add(count, Ordering::Relaxed);
            self.counters.operation_commits.fetch_add(1, Ordering::Relaxed);
            lock(&self.core).transact_group(operations, &mut |effects| self.apply(effects));
        }
    }

    /// Runs a read on the blocking pool.
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&Core) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let inner = Arc::clone(self);
        tokio::task::spawn_blocking(move || read(&lock(&inner.core)))
            .await
            .map_err(|_| Error::Internal("a blocking task panicked"))?
    }

    /// Hands a committed operation's effects to the background tasks.
    fn apply(&self, effects: Effects) {
        let Effects { events, outbox, subscribe, fetch_bundles } = effects;
        for event in events {
            let _ = self.events.send(event);
        }
        if !subscribe.is_empty() {
            let _ = self.commands.send(Command::Subscribe(subscribe));
        }
        if !fetch_bundles.is_empty() {
            let _ = self.commands.send(Command::FetchBundles(fetch_bundles));
        }
        if !outbox.is_empty() {
            self.publish.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use kaiwa_store::{MessageHash, ProcessedKey};
    use kaiwa_transport::sim::SimNetwork;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(
        clippy::await_holding_lock,
        reason = "the core is held on purpose while the operations are polled once"
    )]
    async fn queued_operations_share_one_commit_and_fail_alone() {
        let network = SimNetwork::new(1);
        tokio::spawn(network.driver());
        let environment = Environment::new(network.clone(), ChaCha20Rng::seed_from_u64(1));
        let profile = Profile::in_memory().unwrap();
        let client =
            Client::create(profile, network.node("a"), ClientConfig::default(), environment)
                .await
                .unwrap();
        let keys: Vec<ProcessedKey> =
            (0u8..32).map(|i| ProcessedKey::new(MessageHash::new([i; 32]), Some(1))).collect();
        let failing = 10;
        let before = client.stats();
        // Hold the core while every operation queues (each queues when first polled); the
        // drain started by the first one waits for the core.
        let held = lock(&client.inner.core);
        let mut answers: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(index, key)| {
                let key = *key;
                Box::pin(client.inner.act(move |_, tx, now, _| {
                    tx.mark_processed(&key, now.session())?;
                    if index == failing { Err(Error::UnknownGroup) } else { Ok(index) }
                }))
            })
            .collect();
        for answer in &mut answers {
            assert!(futures::poll!(answer.as_mut()).is_pending());
        }
        drop(held);
        for (index, answer) in answers.into_iter().enumerate() {
            let answer = answer.await;
            if index == failing {
                assert!(matches!(answer, Err(Error::UnknownGroup)), "{answer:?}");
            } else {
                assert_eq!(answer.unwrap(), index);
            }
        }
        let after = client.stats();
        assert!(after.operations - before.operations >= 32);
        // One group, or two if the drain took the first operations before the rest queued;
        // background work may add a commit of its own.
        let commits = after.operation_commits - before.operation_commits;
        assert!((1..=3).contains(&commits), "{commits} commits for 32 operations");
        let processed: Vec<bool> = client
            .inner
            .read(move |core| keys.iter().map(|k| Ok(core.store().is_processed(k)?)).collect())
            .await
            .unwrap();
        for (index, done) in processed.into_iter().enumerate() {
            assert_eq!(done, index != failing, "operation {index}");
        }
        client.shutdown().await;
    }
}
