//! Configuration of session management: the knobs DECISIONS.md calls configurable, with the
//! defaults of [`limits`](crate::limits).

use crate::limits::{
    DEFAULT_FAILURES_BEFORE_RESET, DEFAULT_MAX_INSTALLATIONS, DEFAULT_MIN_RESET_INTERVAL_MS,
    DEFAULT_PREKEY_GRACE_PERIOD_MS, DEFAULT_PREKEY_ROTATION_INTERVAL_MS, MAX_INSTALLATIONS,
};

/// Session-management settings. Construct with [`Default`] and change fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Installations per identity accepted in bundles and sent to (DECISIONS.md: default
    /// 3). Values above [`MAX_INSTALLATIONS`] are treated as [`MAX_INSTALLATIONS`].
    pub max_installations: usize,
    /// Age after which our signed prekey is rotated (default 24 h).
    pub prekey_rotation_interval_ms: u64,
    /// How long a retired signed prekey still accepts handshakes (default 7 days).
    pub prekey_grace_period_ms: u64,
    /// Minimum time between two recovery handshakes towards one installation (default
    /// 60 s).
    pub min_reset_interval_ms: u64,
    /// Consecutive undecryptable messages (with a session present) that start a recovery
    /// handshake (default 3).
    pub failures_before_reset: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            max_installations: DEFAULT_MAX_INSTALLATIONS,
            prekey_rotation_interval_ms: DEFAULT_PREKEY_ROTATION_INTERVAL_MS,
            prekey_grace_period_ms: DEFAULT_PREKEY_GRACE_PERIOD_MS,
            min_reset_interval_ms: DEFAULT_MIN_RESET_INTERVAL_MS,
            failures_before_reset: DEFAULT_FAILURES_BEFORE_RESET,
        }
    }
}

impl SessionConfig {
    /// `max_installations`, clamped to `1 ..= MAX_INSTALLATIONS`.
    pub(crate) fn installations_bound(&self) -> usize {
        self.max_installations.clamp(1, MAX_INSTALLATIONS)
    }
}
