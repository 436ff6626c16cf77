//! Wall-clock time as this crate sees it: Unix milliseconds, always passed in by the caller.
//!
//! ```text
//! Timestamp(ms)  = milliseconds since 1970-01-01T00:00:00Z
//! on the wire:   Bundle.timestamp = ms * 1_000_000 (nanoseconds, as status-go; digest §2.2)
//!                SignedPreKey.created_at = ms
//! ```

use core::fmt;

/// A point in time, Unix milliseconds. The crate never reads a clock: every operation that
/// depends on time takes one of these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const ZERO: Self = Self(0);

    /// From Unix milliseconds.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Unix milliseconds.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + ms`, saturating at the far future.
    #[must_use]
    pub const fn saturating_add(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self`, or 0 if `earlier` is later.
    #[must_use]
    pub const fn saturating_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Nanoseconds for `Bundle.timestamp`, saturating at `i64::MAX`.
    pub(crate) fn to_wire_nanos(self) -> i64 {
        i64::try_from(self.0.saturating_mul(1_000_000)).unwrap_or(i64::MAX)
    }

    /// From `Bundle.timestamp` nanoseconds; `None` if negative.
    pub(crate) fn from_wire_nanos(ns: i64) -> Option<Self> {
        u64::try_from(ns).ok().map(|ns| Self(ns / 1_000_000))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_nanos_round_trip_and_saturate() {
        let t = Timestamp::from_millis(1_700_000_000_123);
        assert_eq!(Timestamp::from_wire_nanos(t.to_wire_nanos()), Some(t));
        assert_eq!(Timestamp::from_millis(u64::MAX).to_wire_nanos(), i64::MAX);
        assert_eq!(Timestamp::from_wire_nanos(-1), None);
        assert_eq!(t.saturating_since(t.saturating_add(5)), 0);
        assert_eq!(t.saturating_add(5).saturating_since(t), 5);
    }
}
