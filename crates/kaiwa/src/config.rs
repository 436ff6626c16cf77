//! [`ClientConfig`]: the knobs of a client, built with [`ClientConfigBuilder`].
//!
//! ```text
//! knob                        default        why
//! application                 "kaiwa"        content topics /{application}/1/{name}/proto (23/WAKU2-TOPICS)
//! sharding                    cluster 1, 8   autosharding (The Waku Network); DECISIONS "Waku layer"
//! bundle_republish_interval   6 h            peers find new installations and rotated prekeys
//! org_republish_interval      24 h           DECISIONS "Organizations": descriptions republished periodically
//! outbox_retry_interval       5 s            how often unpublished messages are retried
//! publish_settle              1 s            a publication leaves the outbox this long after the
//!                                            transport took it: a crash before the node sent it
//!                                            (its queues die with the process) publishes it again
//! max_publish_attempts        1,000          then the entry is abandoned and DeliveryFailed emitted
//! catch_up_interval           10 min         Store queries recover messages relay lost
//! catch_up_overlap            2 min          > the Store's ±20 s admission window + clock skew
//! processed_retention         31 days        > the Store's retention: older copies cannot come back
//! session                     kaiwa-session  installations, prekey rotation, reset thresholds
//! ```

use core::time::Duration;

use kaiwa_session::SessionConfig;
use kaiwa_transport::{ApplicationNameError, Autosharding, TopicScheme};

/// How a [`Client`](crate::Client) behaves; see the module documentation for the defaults.
/// Build one with [`ClientConfig::builder`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Content-topic naming (the application name).
    pub scheme: TopicScheme,
    /// Content topic → pubsub topic.
    pub sharding: Autosharding,
    /// How often our bundle is published on our contact-code topic.
    pub bundle_republish_interval: Duration,
    /// How often the descriptions of organizations we own are republished.
    pub org_republish_interval: Duration,
    /// How often the outbox is retried.
    pub outbox_retry_interval: Duration,
    /// How long a published entry stays in the outbox after the transport accepted it. A
    /// transport may still hold the message in its own queues when `publish` returns (a
    /// relay node hands it to gossipsub's per-peer queues); if the process dies in that time
    /// the entry is still in the outbox and is published again at the next start.
    pub publish_settle: Duration,
    /// Failed publications of one outbox entry before it is abandoned.
    pub max_publish_attempts: u32,
    /// How often followed topics are caught up from a Store node.
    pub catch_up_interval: Duration,
    /// How far before the previous catch-up the next one starts.
    pub catch_up_overlap: Duration,
    /// How long hashes of processed messages are remembered.
    pub processed_retention: Duration,
    /// The 1:1 session settings.
    pub session: SessionConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            scheme: TopicScheme::default(),
            sharding: Autosharding::THE_WAKU_NETWORK,
            bundle_republish_interval: Duration::from_secs(6 * 3_600),
            org_republish_interval: Duration::from_secs(24 * 3_600),
            outbox_retry_interval: Duration::from_secs(5),
            publish_settle: Duration::from_secs(1),
            max_publish_attempts: 1_000,
            catch_up_interval: Duration::from_secs(600),
            catch_up_overlap: Duration::from_secs(120),
            processed_retention: Duration::from_secs(31 * 24 * 3_600),
            session: SessionConfig::default(),
        }
    }
}

impl ClientConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder { config: Self::default() }
    }
}

/// Builds a [`ClientConfig`].
///
/// ```
/// use std::time::Duration;
/// use kaiwa::ClientConfig;
///
/// let config = ClientConfig::builder()
///     .application("my-chat")?
///     .outbox_retry_interval(Duration::from_secs(1))
///     .build();
/// assert_eq!(config.scheme.application(), "my-chat");
/// # Ok::<(), kaiwa::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ClientConfigBuilder {
    config: ClientConfig,
}

impl ClientConfigBuilder {
    /// The application name of every content topic.
    ///
    /// # Errors
    /// [`Error::Transport`](crate::Error::Transport) if the name is not a valid topic segment
    /// of at most 32 bytes.
    pub fn application(mut self, name: &str) -> Result<Self, crate::Error> {
        self.config.scheme = TopicScheme::new(name).map_err(|e: ApplicationNameError| e)?;
        Ok(self)
    }

    /// The autosharded network (cluster and shard count).
    pub fn sharding(mut self, sharding: Autosharding) -> Self {
        self.config.sharding = sharding;
        self
    }

    /// How often our bundle is republished.
    pub fn bundle_republish_interval(mut self, interval: Duration) -> Self {
        self.config.bundle_republish_interval = interval;
        self
    }

    /// How often owned organizations' descriptions are republished.
    pub fn org_republish_interval(mut self, interval: Duration) -> Self {
        self.config.org_republish_interval = interval;
        self
    }

    /// How often the outbox is retried.
    pub fn outbox_retry_interval(mut self, interval: Duration) -> Self {
        self.config.outbox_retry_interval = interval;
        self
    }

    /// How long a published entry stays in the outbox after the transport accepted it
    /// (zero: removed at once, for transports that deliver before `publish` returns).
    pub fn publish_settle(mut self, settle: Duration) -> Self {
        self.config.publish_settle = settle;
        self
    }

    /// Failed publications before an outbox entry is abandoned (at least 1).
    pub fn max_publish_attempts(mut self, attempts: u32) -> Self {
        self.config.max_publish_attempts = attempts.max(1);
        self
    }

    /// How often followed topics are caught up from a Store node.
    pub fn catch_up_interval(mut self, interval: Duration) -> Self {
        self.config.catch_up_interval = interval;
        self
    }

    /// How far before the previous catch-up the next one starts.
    pub fn catch_up_overlap(mut self, overlap: Duration) -> Self {
        self.config.catch_up_overlap = overlap;
        self
    }

    /// How long processed-message hashes are remembered.
    pub fn processed_retention(mut self, retention: Duration) -> Self {
        self.config.processed_retention = retention;
        self
    }

    /// The 1:1 session settings.
    pub fn session(mut self, session: SessionConfig) -> Self {
        self.config.session = session;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn build(self) -> ClientConfig {
        self.config
    }
}
