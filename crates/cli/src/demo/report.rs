//! The demo's transcript, its checks and the final summary.
//!
//! ```text
//! [  1.234s] alice → bob: "Hi Bob!"                     an action, time since start
//! [  1.301s]   ✓ 3/7 bob received "Hi Bob!"              a check: its number in the act
//! ── act 2/4: a private group ──                         an act begins
//! act 2/4 done: 11/11 checks in 2.31 s                   the act's progress line
//! summary table: checks, sent, delivered, refused, time per act; totals
//! ```
//! A failed check stops its act (later steps would only fail for the same reason) and is
//! listed at the end; the demo then exits 1.

use std::time::{Duration, Instant};

/// A failed check: the act stops here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stop;

/// What kind of outcome a check counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A message that had to arrive did.
    Delivered,
    /// Something that had to be refused (or not arrive) was.
    Refused,
    /// Any other property.
    Other,
}

#[derive(Debug)]
struct Act {
    title: &'static str,
    started: Instant,
    elapsed: Duration,
    checks: usize,
    passed: usize,
    sent: usize,
    delivered: usize,
    refused: usize,
}

/// The transcript and the tallies.
#[derive(Debug)]
pub(crate) struct Report {
    start: Instant,
    total_acts: usize,
    acts: Vec<Act>,
    failures: Vec<String>,
}

impl Report {
    /// A report whose times count from `start`, for a story of `total_acts` acts.
    pub(crate) fn new(start: Instant, total_acts: usize) -> Self {
        Self { start, total_acts, acts: Vec::new(), failures: Vec::new() }
    }

    fn stamp(&self) -> String {
        format!("[{:>8.3}s]", self.start.elapsed().as_secs_f64())
    }

    /// Prints a transcript line.
    pub(crate) fn say(&self, line: &str) {
        println!("{} {line}", self.stamp());
    }

    /// Begins an act.
    pub(crate) fn begin(&mut self, title: &'static str) {
        let number = self.acts.len() + 1;
        println!();
        println!("── act {number}/{}: {title} ──", self.total_acts);
        self.acts.push(Act {
            title,
            started: Instant::now(),
            elapsed: Duration::ZERO,
            checks: 0,
            passed: 0,
            sent: 0,
            delivered: 0,
            refused: 0,
        });
    }

    /// Ends the current act and prints its progress line.
    pub(crate) fn end(&mut self) {
        let number = self.acts.len();
        let total = self.total_acts;
        if let Some(act) = self.acts.last_mut() {
            act.elapsed = act.started.elapsed();
            let mark = if act.passed == act.checks { "✓" } else { "✗" };
            println!(
                "{mark} act {number}/{total} done: {}/{} checks in {:.2} s",
                act.passed,
                act.checks,
                act.elapsed.as_secs_f64()
            );
        }
    }

    /// Records and prints a message sent: `who → whom: "text"`.
    pub(crate) fn sent(&mut self, who: &str, whom: &str, text: &str) {
        if let Some(act) = self.acts.last_mut() {
            act.sent += 1;
        }
        self.say(&format!("{who} → {whom}: {text:?}"));
    }

    /// Records a check; `Err(Stop)` if it failed.
    pub(crate) fn check(&mut self, ok: bool, outcome: Outcome, label: &str) -> Result<(), Stop> {
        let stamp = self.stamp();
        let act_number = self.acts.len();
        let Some(act) = self.acts.last_mut() else { return Err(Stop) };
        act.checks += 1;
        let number = act.checks;
        if ok {
            act.passed += 1;
            match outcome {
                Outcome::Delivered => act.delivered += 1,
                Outcome::Refused => act.refused += 1,
                Outcome::Other => {}
            }
            println!("{stamp}   ✓ {number:>2} {label}");
            Ok(())
        } else {
            println!("{stamp}   ✗ {number:>2} {label}");
            self.failures
                .push(format!("act {act_number} ({}), check {number}: {label}", act.title));
            Err(Stop)
        }
    }

    /// Records that an act stopped on an operation error (not a check).
    pub(crate) fn failed_step(&mut self, label: &str, error: &str) -> Stop {
        let stamp = self.stamp();
        let act_number = self.acts.len();
        if let Some(act) = self.acts.last_mut() {
            act.checks += 1;
            println!("{stamp}   ✗ {:>2} {label}: {error}", act.checks);
            self.failures.push(format!("act {act_number} ({}): {label}: {error}", act.title));
        } else {
            println!("{stamp}   ✗ {label}: {error}");
            self.failures.push(format!("setup: {label}: {error}"));
        }
        Stop
    }

    /// Checks passed and checks made.
    pub(crate) fn totals(&self) -> (usize, usize) {
        self.acts.iter().fold((0, 0), |(p, c), act| (p + act.passed, c + act.checks))
    }

    /// The failures, in order.
    pub(crate) fn failures(&self) -> &[String] {
        &self.failures
    }

    /// Prints the summary table.
    pub(crate) fn summary(&self, relay: &str) {
        println!();
        println!("summary");
        println!(
            "  {:<28} {:>7} {:>5} {:>9} {:>7} {:>9}",
            "act", "checks", "sent", "delivered", "refused", "time"
        );
        let (mut sent, mut delivered, mut refused) = (0, 0, 0);
        for (index, act) in self.acts.iter().enumerate() {
            sent += act.sent;
            delivered += act.delivered;
            refused += act.refused;
            println!(
                "  {:<28} {:>7} {:>5} {:>9} {:>7} {:>7.2} s",
                format!("{} {}", index + 1, act.title),
                format!("{}/{}", act.passed, act.checks),
                act.sent,
                act.delivered,
                act.refused,
                act.elapsed.as_secs_f64()
            );
        }
        let (passed, checks) = self.totals();
        println!(
            "  {:<28} {:>7} {:>5} {:>9} {:>7} {:>7.2} s",
            "total (with setup)",
            format!("{passed}/{checks}"),
            sent,
            delivered,
            refused,
            self.start.elapsed().as_secs_f64()
        );
        println!("  {relay}");
        println!("  sent: chat messages the story wrote; delivered: expected deliveries seen;");
        println!("  refused: expected refusals seen (nothing arrived, or the client said no)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_check_stops_the_act_and_is_listed() {
        let mut report = Report::new(Instant::now(), 2);
        report.begin("one");
        assert_eq!(report.check(true, Outcome::Delivered, "a"), Ok(()));
        report.sent("alice", "bob", "hi");
        assert_eq!(report.check(false, Outcome::Refused, "b"), Err(Stop));
        report.end();
        report.begin("two");
        assert_eq!(report.check(true, Outcome::Refused, "c"), Ok(()));
        report.end();
        assert_eq!(report.totals(), (2, 3));
        assert_eq!(report.failures(), ["act 1 (one), check 2: b"]);
        assert_eq!(report.acts[0].delivered, 1);
        assert_eq!(report.acts[0].refused, 0);
        assert_eq!(report.acts[0].sent, 1);
        assert_eq!(report.acts[1].refused, 1);
    }

    #[test]
    fn a_check_outside_an_act_fails() {
        let mut report = Report::new(Instant::now(), 1);
        assert_eq!(report.check(true, Outcome::Other, "x"), Err(Stop));
    }
}
