//! `kaiwa`: the command-line program of kaiwa, Status-style private messaging over Waku v2.
//!
//! ```text
//! kaiwa init                      create an account (keys + SQLite profile) in the data dir
//! kaiwa id [--png FILE] [--with ID]
//!                                 public id, contact code (+ QR), safety number with a contact
//! kaiwa chat [--listen MA]... [--peer MA]... [--cluster N] [--shards N]
//!                                 an interactive session over a Waku relay node
//! kaiwa demo                      five peers on loopback play a scripted story; exit 0 iff
//!                                 every expected delivery and every expected refusal happened
//! ```
//!
//! What it is: a thin shell over the `kaiwa` facade (the only workspace crate it uses;
//! `cargo xtask layers` enforces that). What it is not: a protocol implementation — every
//! message, key and signature is the facade's business — nor a full-screen UI: `chat` is
//! line-based so it works the same in a terminal and with piped input.
//!
//! Invariants:
//! - Secrets are never printed: the program shows public ids, contact codes (public bundles)
//!   and safety numbers only; logs are off unless `-v` is given, and the facade never logs
//!   payloads.
//! - Errors are one line on stderr (`kaiwa: error: …`, with their causes), never a backtrace;
//!   the exit code is 1 for any error and for a demo with a failed check.
//! - The chat command parser is a pure function ([`chat::command::parse`]), tested apart
//!   from any I/O.

mod args;
mod chat;
mod datadir;
mod demo;
mod error;
mod id;
mod init;
mod limits;
mod network;
mod qr;
mod tap;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    if let Err(error) = run(cli) {
        eprintln!("kaiwa: error: {}", error::one_line(&error));
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn run(cli: args::Cli) -> Result<(), error::CliError> {
    init_logging(cli.verbose);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
            error::CliError::Io { operation: "starting the async runtime", kind: e.kind() }
        })?;
    runtime.block_on(async move {
        match cli.command {
            args::Command::Init(_) => init::run(&datadir::profile_dir(&cli.global)?).await,
            args::Command::Id(id) => id::run(&datadir::profile_dir(&cli.global)?, &id).await,
            args::Command::Chat(chat) => {
                chat::run(&datadir::profile_dir(&cli.global)?, &chat).await
            }
            args::Command::Demo(demo) => demo::run(&demo).await,
        }
    })
}

/// Logs go to stderr, and only with `-v` (info) or `-vv` (debug): off by default.
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::LevelFilter;
    let level = match verbose {
        0 => return,
        1 => LevelFilter::INFO,
        2 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let _ = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).try_init();
}
