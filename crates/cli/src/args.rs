//! The command line (clap derive). Every option is documented here; `kaiwa --help` shows it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use kaiwa::relay::Multiaddr;

/// kaiwa: Status-style private messaging over Waku v2 (1:1 chats, private groups,
/// organizations).
#[derive(Debug, Parser)]
#[command(name = "kaiwa", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    /// Logs on stderr: -v info, -vv debug (off by default; they never contain payloads).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where the profile lives.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The data directory [default: $XDG_DATA_HOME/kaiwa, or ~/.local/share/kaiwa].
    #[arg(long, global = true, env = "KAIWA_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The profile (one account) inside the data directory.
    #[arg(long, global = true, default_value = "default", value_name = "NAME")]
    pub(crate) profile: String,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Creates an account (identity keys and a SQLite profile) in the data directory.
    Init(InitArgs),
    /// Shows your public id, your contact code (and its QR code) and safety numbers.
    Id(IdArgs),
    /// An interactive chat session over a Waku relay node (line-based; type /help).
    Chat(ChatArgs),
    /// Starts several peers on loopback and plays a scripted story; exits 0 only if every
    /// expected delivery and every expected refusal happened.
    Demo(DemoArgs),
}

/// `kaiwa init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {}

/// `kaiwa id`.
#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// Also write the contact code's QR code to this PNG file.
    #[arg(long, value_name = "FILE")]
    pub(crate) png: Option<PathBuf>,
    /// Do not draw the QR code in the terminal.
    #[arg(long)]
    pub(crate) no_qr: bool,
    /// Draw the QR code for a light terminal background (dark modules as blocks).
    #[arg(long)]
    pub(crate) invert: bool,
    /// Show the safety number with this public id (0x…), to compare with the contact's.
    #[arg(long, value_name = "PUBLIC_ID")]
    pub(crate) with: Option<String>,
}

/// `kaiwa chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// The relay node's options.
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
}

/// Where the relay node listens, whom it connects to and which network it joins.
#[derive(Debug, Args)]
pub(crate) struct NetworkArgs {
    /// A listen address (repeatable): /ip4/…/tcp/PORT, optionally followed by /ws.
    #[arg(long, value_name = "MULTIADDR", default_value = "/ip4/127.0.0.1/tcp/0")]
    pub(crate) listen: Vec<Multiaddr>,
    /// A static peer to stay connected to (repeatable), ending in /p2p/PEER_ID.
    #[arg(long, value_name = "MULTIADDR")]
    pub(crate) peer: Vec<Multiaddr>,
    /// The Waku cluster id (1 is The Waku Network).
    #[arg(long, default_value_t = 1)]
    pub(crate) cluster: u16,
    /// The number of autosharded shards in the cluster (8 on The Waku Network).
    #[arg(long, default_value_t = 8)]
    pub(crate) shards: u16,
    /// The application name in content topics (/{application}/1/…/proto).
    #[arg(long, default_value = "kaiwa")]
    pub(crate) application: String,
    /// Do not answer Store queries (by default the node keeps recent messages for peers).
    #[arg(long)]
    pub(crate) no_store: bool,
}

/// `kaiwa demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Seconds to wait for each expected delivery before the check fails.
    #[arg(long, default_value_t = crate::limits::DEFAULT_DELIVERY_TIMEOUT_SECS)]
    pub(crate) timeout: u64,
    /// Keep the temporary profiles (their directory is printed) instead of deleting them.
    #[arg(long)]
    pub(crate) keep: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn chat_takes_repeated_listen_and_peer_addresses() {
        let cli = Cli::try_parse_from([
            "kaiwa",
            "--data-dir",
            "/tmp/x",
            "chat",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--listen",
            "/ip4/127.0.0.1/tcp/0/ws",
            "--peer",
            "/ip4/127.0.0.1/tcp/1/p2p/16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ",
            "--cluster",
            "16",
        ])
        .unwrap();
        let Command::Chat(chat) = cli.command else { panic!("not chat") };
        assert_eq!(chat.network.listen.len(), 2);
        assert_eq!(chat.network.peer.len(), 1);
        assert_eq!(chat.network.cluster, 16);
        assert_eq!(cli.global.data_dir, Some(PathBuf::from("/tmp/x")));
    }

    #[test]
    fn a_bad_multiaddr_is_refused_by_the_parser() {
        assert!(Cli::try_parse_from(["kaiwa", "chat", "--peer", "not-an-address"]).is_err());
    }
}
