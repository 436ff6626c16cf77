//! Where time and randomness enter: the protocol crates below take both as parameters, and
//! this is the one place that reads the system clock and the operating system's RNG. Tests
//! pass their own ([`Environment::new`]): a simulated network's virtual clock and a seeded RNG.
//!
//! ```text
//! Clock::now_unix_nanos()   Waku timestamps (ns); protocol time = ns / 1_000_000 (ms)
//! rng                       every key, nonce, chat id and padding draw of every layer
//! ```

use core::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use kaiwa_crypto::CryptoRng;
use rand_core::UnwrapErr;

use crate::error::Error;

/// A source of wall-clock time.
pub trait Clock: Send + Sync + 'static {
    /// Nanoseconds since the Unix epoch.
    fn now_unix_nanos(&self) -> i64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_nanos(&self) -> i64 {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
    }
}

/// The simulated network's virtual clock, so that messages of a simulated client carry times
/// the simulated Store admits.
impl Clock for kaiwa_transport::sim::SimNetwork {
    fn now_unix_nanos(&self) -> i64 {
        Self::now_unix_nanos(self)
    }
}

/// A clock and an RNG for a [`Client`](crate::Client).
pub struct Environment {
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) rng: Box<dyn CryptoRng + Send>,
}

impl Environment {
    /// The system clock and the operating system's RNG.
    ///
    /// # Errors
    /// [`Error::Entropy`] if the operating system's RNG does not answer (checked once here, so
    /// that a broken RNG fails at start rather than in the middle of an operation).
    pub fn system() -> Result<Self, Error> {
        let mut probe = [0u8; 32];
        getrandom::fill(&mut probe).map_err(|_| Error::Entropy)?;
        Ok(Self::new(SystemClock, UnwrapErr(getrandom::SysRng)))
    }

    /// A given clock and RNG (tests: a simulated clock, a seeded RNG).
    pub fn new(clock: impl Clock, rng: impl CryptoRng + Send + 'static) -> Self {
        Self { clock: Box::new(clock), rng: Box::new(rng) }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment").finish_non_exhaustive()
    }
}

/// One reading of the clock, in the units each layer wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Now {
    /// Unix nanoseconds (Waku timestamps).
    pub(crate) ns: i64,
    /// Unix milliseconds (protocol crates).
    pub(crate) ms: u64,
}

impl Now {
    pub(crate) fn of(clock: &dyn Clock) -> Self {
        let ns = clock.now_unix_nanos().max(0);
        Self { ns, ms: u64::try_from(ns / 1_000_000).unwrap_or(0) }
    }

    pub(crate) fn session(self) -> kaiwa_session::Timestamp {
        kaiwa_session::Timestamp::from_millis(self.ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2023_and_units_agree() {
        let now = Now::of(&SystemClock);
        assert!(now.ms > 1_700_000_000_000);
        assert_eq!(now.ms, u64::try_from(now.ns / 1_000_000).unwrap());
        assert!(Environment::system().is_ok());
    }
}
