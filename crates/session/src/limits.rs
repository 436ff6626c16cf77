//! Every bound this crate enforces, in one place (libsignal's `consts.rs`).
//!
//! Each bound exists so that bytes from a peer (or from disk) can never make a session grow
//! without limit or do unbounded work. Where a spec or DECISIONS.md gives a value it is
//! cited; otherwise the reason for the value is given.

/// Largest forward jump accepted within one receiving chain: at most this many message keys
/// are derived (and stored as skipped) to reach one message.
///
/// DECISIONS.md "1:1 sessions": 1,000 per jump; status-go `MaxSkip = 1000` (digest §2.6).
pub const MAX_SKIP: u32 = 1_000;

/// Skipped message keys kept per session, across all receiving chains. When full, the
/// oldest key is evicted (and wiped) first.
///
/// DECISIONS.md "1:1 sessions": 2,000 stored; status-go `MaxMessageKeysPerSession = 2000`.
pub const MAX_SKIPPED_KEYS: usize = 2_000;

/// Receiving chains kept per session (the current one and its predecessors, for late
/// messages of earlier chains). The oldest is dropped first.
///
/// DECISIONS.md "1:1 sessions": at most 5 receiving chains (as vodozemac).
pub const MAX_RECEIVING_CHAINS: usize = 5;

/// Poly1305 tags of recently decrypted messages kept per session, to report an exact
/// replay as a duplicate rather than an error. A replay older than this window is reported
/// as [`DecryptError::KeyUnavailable`](crate::DecryptError::KeyUnavailable).
///
/// Our choice: Waku relay and store duplicates arrive within minutes; 512 tags are 8 KiB.
pub const MAX_REPLAY_WINDOW: usize = 512;

/// Default number of installations (devices) per identity that are sent to and accepted in
/// a bundle. Configurable up to [`MAX_INSTALLATIONS`].
///
/// 54/WAKU2-X3DH-SESSIONS: "n devices by last activity, default n = 3"; DECISIONS.md.
pub const DEFAULT_MAX_INSTALLATIONS: usize = 3;

/// Hard upper bound on installations in any bundle or contact code, whatever the
/// configuration. Decoding rejects more before any signature work.
///
/// Our choice: bounds a bundle to a few KiB and a fan-out to 16 envelopes.
pub const MAX_INSTALLATIONS: usize = 16;

/// Longest installation id, in bytes.
///
/// status-go uses 36-character UUIDs (digest §2.2); 64 leaves room for other schemes.
pub const MAX_INSTALLATION_ID_LEN: usize = 64;

/// How far in the future (relative to the receiver's clock) a bundle timestamp or a signed
/// prekey's creation time may lie before the bundle is rejected.
///
/// Our choice: phone clocks drift by minutes, not hours; a bundle from further ahead would
/// otherwise look "newest" for a long time.
pub const MAX_BUNDLE_CLOCK_SKEW_MS: u64 = 60 * 60 * 1_000;

/// Default interval after which this installation's signed prekey is rotated.
///
/// DECISIONS.md "1:1 sessions": 24 h; status-go `BundleRefreshInterval`.
pub const DEFAULT_PREKEY_ROTATION_INTERVAL_MS: u64 = 24 * 60 * 60 * 1_000;

/// Default time a retired signed prekey still accepts new X3DH handshakes (for peers that
/// fetched the previous bundle).
///
/// Our choice (DECISIONS.md asks for "a grace period"): 7 days covers a peer that was
/// offline for a week; shorter limits the forward-secrecy window of the retired key.
pub const DEFAULT_PREKEY_GRACE_PERIOD_MS: u64 = 7 * 24 * 60 * 60 * 1_000;

/// Retired signed prekeys kept at most, whatever the grace period; the oldest goes first.
///
/// Our choice: a 7-day grace at a 24 h rotation needs 7.
pub const MAX_RETIRED_PREKEYS: usize = 7;

/// Sessions kept per peer installation besides the active one (superseded, lost a
/// concurrent-initiation tie-break, or replaced by a reset), so messages already in flight
/// on them still decrypt. The oldest is dropped first.
///
/// Our choice: 2 covers a race plus one reset; libsignal keeps 40, which costs far more
/// state per peer.
pub const MAX_ARCHIVED_SESSIONS: usize = 2;

/// Default minimum time between two recovery handshakes (resets) towards the same peer
/// installation.
///
/// DECISIONS.md "1:1 sessions": recovery is rate-limited; one per minute bounds the work a
/// stream of forged or stale messages can cause.
pub const DEFAULT_MIN_RESET_INTERVAL_MS: u64 = 60 * 1_000;

/// Default number of consecutive undecryptable messages from one peer installation, with a
/// session present, after which a recovery handshake is started. (Without any session the
/// first undecryptable message starts it.)
///
/// Our choice: one forged message must not cost a handshake; three in a row from a restored
/// backup recover quickly.
pub const DEFAULT_FAILURES_BEFORE_RESET: u32 = 3;

/// Largest encoded `ProtocolMessage` accepted, in bytes.
///
/// 14/WAKU2-MESSAGE and DECISIONS.md "Waku layer": a Waku message is capped at 150 KiB.
pub const MAX_MESSAGE_LEN: usize = 150 * 1_024;

/// Largest plaintext accepted for encryption, in bytes: what still fits a Waku message with
/// one envelope per installation and the attached bundle.
///
/// Derived from [`MAX_MESSAGE_LEN`] and [`DEFAULT_MAX_INSTALLATIONS`]; our choice.
pub const MAX_PLAINTEXT_LEN: usize = 48 * 1_024;

/// Bundles attached to one `ProtocolMessage` that are looked at; more are rejected.
///
/// Our choice: a sender attaches its own bundle (which lists all its installations); 4
/// leaves room for paired-device bundles.
pub const MAX_BUNDLES_PER_MESSAGE: usize = 4;

/// Envelopes (recipient installations) in one `ProtocolMessage`.
///
/// Our choice: the peer's installations plus the sender's own, each at most
/// [`MAX_INSTALLATIONS`].
pub const MAX_ENVELOPES_PER_MESSAGE: usize = 2 * MAX_INSTALLATIONS;

/// Longest contact code accepted, in characters.
///
/// Seed 000 "Negotiation": the code must fit a QR code. A version-40 QR code holds 4,296
/// alphanumeric characters at level L; a full bundle of [`MAX_INSTALLATIONS`] installations
/// stays below this bound.
pub const MAX_CONTACT_CODE_LEN: usize = 4_096;

/// SHA-256 iterations per identity in a fingerprint (safety number).
///
/// As Signal's numeric fingerprint (5,200 iterations): it multiplies the cost of searching
/// for a key whose displayed half matches, and costs under a millisecond.
pub const FINGERPRINT_ITERATIONS: u32 = 5_200;

/// Peer installations whose undecryptable-message count and last reset time are tracked in
/// memory; beyond this the entry with the oldest reset is forgotten.
///
/// Our choice: the sender of an undecryptable message is unauthenticated, so this map must
/// not grow with forged sender ids; 4,096 entries are a few hundred KiB.
pub const MAX_TRACKED_FAILURES: usize = 4_096;
