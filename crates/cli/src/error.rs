//! [`CliError`]: everything a command can fail with, printed as one line by `main`.
//!
//! ```text
//! kaiwa: error: <what failed>: <cause>: <cause of the cause> …
//! ```
//! The facade's errors carry no secrets and no peer input (STYLE §3.6), and neither do these:
//! variants hold static descriptions, local paths and numbers.

use std::path::PathBuf;

/// A failed command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// A facade operation failed.
    #[error("could not {action}")]
    Client {
        /// What the program was doing.
        action: &'static str,
        /// The facade's error.
        #[source]
        source: kaiwa::Error,
    },
    /// The relay node could not start.
    #[error("could not start the relay node")]
    Relay {
        /// The node's error.
        #[source]
        source: kaiwa::relay::StartError,
    },
    /// The relay configuration is not valid.
    #[error("invalid relay configuration")]
    RelayConfig {
        /// The node's error.
        #[source]
        source: kaiwa::relay::ConfigError,
    },
    /// A static peer address does not end in `/p2p/<peer id>`.
    #[error("a --peer address must end in /p2p/<peer id>")]
    PeerWithoutId,
    /// The cluster / shard count pair is not a valid autosharded network.
    #[error("invalid --shards")]
    Sharding {
        /// The transport's error.
        #[source]
        source: kaiwa::transport::ShardingError,
    },
    /// No account in the profile directory.
    #[error("no account in {dir}: run `kaiwa init` first")]
    NoAccount {
        /// The profile directory.
        dir: PathBuf,
    },
    /// `init` on a profile that already has an account.
    #[error("{dir} already holds an account (its id: `kaiwa id`)")]
    AccountExists {
        /// The profile directory.
        dir: PathBuf,
    },
    /// No data directory: neither `--data-dir`, `KAIWA_DATA_DIR`, `XDG_DATA_HOME` nor `HOME`.
    #[error("no data directory: pass --data-dir or set KAIWA_DATA_DIR")]
    NoDataDir,
    /// A profile name that is not `[A-Za-z0-9_-]{1,64}`.
    #[error("a profile name is 1 to 64 letters, digits, `-` or `_`")]
    ProfileName,
    /// A local I/O failure.
    #[error("{operation} failed ({kind})")]
    Io {
        /// What the program was doing.
        operation: &'static str,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
    },
    /// The contact code does not fit a QR code.
    #[error("the contact code does not fit a QR code")]
    QrCode,
    /// The PNG encoder failed.
    #[error("could not write the PNG file")]
    Png {
        /// The encoder's error.
        #[source]
        source: png::EncodingError,
    },
    /// A broken invariant of this program; a bug, reported instead of a panic.
    #[error("internal error: {what}")]
    Internal {
        /// What went wrong.
        what: &'static str,
    },
    /// The demo could not set its peers up.
    #[error("demo setup failed: {what}")]
    DemoSetup {
        /// What did not happen.
        what: &'static str,
    },
    /// A demo check failed (the failed checks are listed above the error).
    #[error("{failed} of {total} demo checks failed")]
    DemoFailed {
        /// Failed checks.
        failed: usize,
        /// All checks.
        total: usize,
    },
}

impl CliError {
    /// A facade error while doing `action`.
    pub(crate) fn client(action: &'static str) -> impl FnOnce(kaiwa::Error) -> Self {
        move |source| Self::Client { action, source }
    }
}

/// `error: cause: cause…` on one line.
pub(crate) fn one_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        line.push_str(": ");
        line.push_str(&next.to_string());
        cause = next.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_the_causes() {
        let error = CliError::Client { action: "send", source: kaiwa::Error::UnknownContact };
        assert_eq!(one_line(&error), "could not send: unknown contact");
        let error = CliError::Io { operation: "reading stdin", kind: std::io::ErrorKind::NotFound };
        assert_eq!(one_line(&error), "reading stdin failed (entity not found)");
        assert!(!one_line(&error).contains('\n'));
    }
}
