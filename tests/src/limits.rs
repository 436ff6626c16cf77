//! Every bound of the harness, with its reason. None is a protocol bound (those live in each
//! protocol crate's `limits`); these keep a misbehaving scenario from looping or growing
//! without end.

/// Rounds after which `settle` gives up with `HarnessError::NotSettled`. The scenarios settle
/// in two to four rounds (one to deliver, one to see that nothing moved, more when a step
/// triggers replies); a peer that answered every message with another would never settle.
pub(crate) const MAX_SETTLE_ROUNDS: usize = 64;

/// Channel messages, and re-key parts, a member keeps per organization to retry once a
/// description or key arrives; the oldest is dropped beyond it. A product would bound this by
/// the protocol crate's key-history window instead; 256 exceeds any scenario's traffic.
pub(crate) const MAX_KEPT: usize = 256;

/// How far before the previous catch-up a store catch-up query starts, in nanoseconds: more
/// than the largest link delay a scenario configures (120 ms), so a copy in flight at the
/// previous catch-up is not missed. The hash dedup absorbs the overlap.
pub(crate) const CATCH_UP_OVERLAP_NS: i64 = 1_000_000_000;
