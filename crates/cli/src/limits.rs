//! Every bound and patience the program applies, with its reason (STYLE §3.8).

use core::time::Duration;

/// Longest line read from standard input in `chat`: 64 KiB.
///
/// A chat text is at most the facade's `MAX_TEXT_CHARS` (4,096 characters, up to 16 KiB of
/// UTF-8), a contact code is a few hundred bytes; a longer line is refused whole instead of
/// being buffered without bound.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1_024;

/// Most messages the demo's transport tap holds back at once: 16.
///
/// The tap holds messages only to show out-of-order delivery; a bound keeps a mistake in the
/// story from buffering the whole outbox.
pub(crate) const MAX_HELD_MESSAGES: usize = 16;

/// Most relayed message hashes each demo peer remembers having seen on its shard: 4,096.
///
/// The demo publishes a few hundred envelopes; the oldest hashes are forgotten beyond this.
pub(crate) const MAX_SEEN_HASHES: usize = 4_096;

/// Pixels per QR module in the PNG written by `kaiwa id --png`: 8.
///
/// A contact code is a version 10–15 QR code (57–77 modules); at 8 px plus the 4-module quiet
/// zone that is a 520–680 px square, easy for a phone camera.
pub(crate) const QR_PNG_SCALE: u32 = 8;

/// Light modules around a QR code: 4, the quiet zone ISO/IEC 18004 requires.
pub(crate) const QR_QUIET_ZONE: usize = 4;

/// How long `chat` waits for the outbox to be published when it quits: 5 s.
///
/// Messages typed just before `/quit` (or the end of piped input) should leave; anything
/// still unpublished stays in the outbox for the next start.
pub(crate) const QUIT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the demo waits for relay peers to see each other's subscriptions: 10 s.
pub(crate) const MESH_TIMEOUT: Duration = Duration::from_secs(10);

/// Default wait for one expected delivery in the demo: 15 s (`--timeout`).
///
/// On loopback a delivery takes milliseconds; the margin covers a loaded CI machine.
pub(crate) const DEFAULT_DELIVERY_TIMEOUT_SECS: u64 = 15;

/// How long the demo watches for a delivery that must not happen: 1.5 s after every
/// expected recipient of the same message has received it.
///
/// Every peer is one relay hop from every other (a full mesh), so a message that reached the
/// others would reach the excluded peer within milliseconds too.
pub(crate) const REFUSAL_WINDOW: Duration = Duration::from_millis(1_500);

/// How often the demo's clients retry their outbox: 200 ms (the facade's default is 5 s, made
/// for phones, not for a demo).
pub(crate) const DEMO_OUTBOX_RETRY: Duration = Duration::from_millis(200);

/// How long a client's background tasks get to stop: 2 s (see `network::stop_client`).
///
/// Stopping takes milliseconds; the bound only matters when a publication hangs on a slow
/// peer, and then the program ends the tasks by exiting.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
