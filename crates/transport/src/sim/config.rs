//! Configuration of the simulated network: link faults and the store.

use core::time::Duration;

use crate::limits::{MAX_SIM_TRACE_EVENTS, MAX_STORE_TIMESTAMP_DRIFT_NS};

/// A probability in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Probability(f64);

impl Probability {
    /// Never.
    pub const NEVER: Self = Self(0.0);
    /// Always.
    pub const ALWAYS: Self = Self(1.0);

    /// `p`, or `None` if it is not in `[0, 1]` (NaN included).
    pub fn new(p: f64) -> Option<Self> {
        (0.0..=1.0).contains(&p).then_some(Self(p))
    }

    /// The value.
    pub const fn get(self) -> f64 {
        self.0
    }
}

/// What can go wrong on one directed link. Every copy of a message crossing the link draws
/// independently: lost with probability `loss`, otherwise delivered after a delay drawn
/// uniformly from `[min_delay, max_delay]` (a window wider than the gap between two sends
/// reorders them), plus one extra copy with probability `duplicate`, which draws its own delay.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct LinkFaults {
    /// Probability that a copy is lost.
    pub loss: Probability,
    /// Probability that a delivered copy arrives twice.
    pub duplicate: Probability,
    /// Smallest delay.
    pub min_delay: Duration,
    /// Largest delay.
    pub max_delay: Duration,
}

impl LinkFaults {
    /// No loss, no duplicates, no delay.
    pub const RELIABLE: Self = Self {
        loss: Probability::NEVER,
        duplicate: Probability::NEVER,
        min_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
    };

    /// With this loss probability.
    pub const fn with_loss(mut self, loss: Probability) -> Self {
        self.loss = loss;
        self
    }

    /// With this duplication probability.
    pub const fn with_duplication(mut self, duplicate: Probability) -> Self {
        self.duplicate = duplicate;
        self
    }

    /// With delays drawn uniformly from between `a` and `b` (in either order).
    pub fn with_delay(mut self, a: Duration, b: Duration) -> Self {
        self.min_delay = a.min(b);
        self.max_delay = a.max(b);
        self
    }
}

/// The simulated store node: retention and admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreConfig {
    /// Messages kept per pubsub topic; beyond it the oldest (store order) are evicted.
    pub max_messages_per_topic: usize,
    /// Messages whose timestamp is older than `now - max_age` are evicted; `None` keeps them.
    pub max_age: Option<Duration>,
    /// Admission window around the store's clock, as nwaku's archive validator: a message
    /// without a timestamp, or with one farther than this from the store's clock, is not kept.
    /// `None` admits every timestamp and stamps absent ones with the arrival time.
    pub max_timestamp_drift: Option<Duration>,
}

impl Default for StoreConfig {
    /// 100,000 messages per topic, no age limit, nwaku's 20 s admission window.
    fn default() -> Self {
        Self {
            max_messages_per_topic: 100_000,
            max_age: None,
            max_timestamp_drift: Some(Duration::from_nanos(
                MAX_STORE_TIMESTAMP_DRIFT_NS.unsigned_abs(),
            )),
        }
    }
}

impl StoreConfig {
    /// With this count bound per pubsub topic.
    pub const fn with_max_messages_per_topic(mut self, max: usize) -> Self {
        self.max_messages_per_topic = max;
        self
    }

    /// With this age bound.
    pub const fn with_max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// With this admission window (`None`: admit everything).
    pub const fn with_max_timestamp_drift(mut self, drift: Option<Duration>) -> Self {
        self.max_timestamp_drift = drift;
        self
    }
}

/// Configuration of a [`SimNetwork`](super::SimNetwork).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SimConfig {
    /// Faults of every link between two nodes, unless overridden per link.
    pub faults: LinkFaults,
    /// Faults of the links from nodes to the store, unless overridden per link. Reliable by
    /// default, so that tests can lose relay traffic and recover it from the store.
    pub store_faults: LinkFaults,
    /// The store.
    pub store: StoreConfig,
    /// Unix time, in nanoseconds, at virtual time zero.
    pub epoch_unix_nanos: i64,
    /// Trace events kept (oldest evicted), at most [`MAX_SIM_TRACE_EVENTS`].
    pub trace_capacity: usize,
}

impl Default for SimConfig {
    /// Reliable links, the default store, virtual time zero at 2024-01-01T00:00:00Z.
    fn default() -> Self {
        Self {
            faults: LinkFaults::RELIABLE,
            store_faults: LinkFaults::RELIABLE,
            store: StoreConfig::default(),
            epoch_unix_nanos: 1_704_067_200_000_000_000,
            trace_capacity: MAX_SIM_TRACE_EVENTS,
        }
    }
}

impl SimConfig {
    /// With these faults on every node-to-node link.
    pub const fn with_faults(mut self, faults: LinkFaults) -> Self {
        self.faults = faults;
        self
    }

    /// With these faults on every link to the store.
    pub const fn with_store_faults(mut self, faults: LinkFaults) -> Self {
        self.store_faults = faults;
        self
    }

    /// With this store configuration.
    pub const fn with_store(mut self, store: StoreConfig) -> Self {
        self.store = store;
        self
    }

    /// With virtual time zero at this Unix time (ns).
    pub const fn with_epoch_unix_nanos(mut self, epoch: i64) -> Self {
        self.epoch_unix_nanos = epoch;
        self
    }

    /// Keeping at most this many trace events (clamped to [`MAX_SIM_TRACE_EVENTS`]).
    pub const fn with_trace_capacity(mut self, capacity: usize) -> Self {
        self.trace_capacity =
            if capacity < MAX_SIM_TRACE_EVENTS { capacity } else { MAX_SIM_TRACE_EVENTS };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_are_bounded() {
        assert_eq!(Probability::new(0.5).map(Probability::get), Some(0.5));
        assert_eq!(Probability::new(1.0), Some(Probability::ALWAYS));
        assert_eq!(Probability::new(-0.1), None);
        assert_eq!(Probability::new(1.1), None);
        assert_eq!(Probability::new(f64::NAN), None);
    }

    #[test]
    fn delay_bounds_are_sorted() {
        let faults = LinkFaults::RELIABLE.with_delay(Duration::from_millis(9), Duration::ZERO);
        assert_eq!(
            (faults.min_delay, faults.max_delay),
            (Duration::ZERO, Duration::from_millis(9))
        );
    }
}
