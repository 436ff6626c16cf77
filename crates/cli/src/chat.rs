//! `kaiwa chat`: an interactive session over a Waku relay node.
//!
//! ```text
//! start    open the profile → start a RelayNode (listen, static peers, cluster/shard)
//!          → print id, contact code, "listening on <multiaddr>/p2p/<peer id>" per address
//!          → Client::open over the node
//! loop     stdin line (≤ MAX_LINE_BYTES) → command::parse → Session::execute → output lines
//!          events task: Event → one line each ("[alice] hello", "* #hikers: bob joined")
//! end      /quit or end of input → flush the outbox (≤ QUIT_FLUSH_TIMEOUT) → shut down
//! ```
//! Input is read line by line, so a terminal and a pipe behave the same (the tests drive two
//! processes through pipes).

pub(crate) mod command;
mod session;
mod show;

use std::path::Path;
use std::sync::Arc;

use kaiwa::{Client, Environment, Profile};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};

use crate::args::ChatArgs;
use crate::error::CliError;
use crate::limits::{MAX_LINE_BYTES, QUIT_FLUSH_TIMEOUT};
use crate::network::{NetworkChoice, client_config, start_node};

use self::command::Command;
use self::session::Session;

/// Runs `kaiwa chat` on the profile in `dir`.
pub(crate) async fn run(dir: &Path, args: &ChatArgs) -> Result<(), CliError> {
    let profile = Profile::open_dir(dir).map_err(CliError::client("open the profile"))?;
    if !profile.has_account().map_err(CliError::client("read the profile"))? {
        return Err(CliError::NoAccount { dir: dir.to_owned() });
    }
    let network = NetworkChoice {
        application: args.network.application.clone(),
        cluster: args.network.cluster,
        shards: args.network.shards,
    };
    let config = client_config(&network, None)?;
    let node =
        start_node(&config, &args.network.listen, &args.network.peer, !args.network.no_store)
            .await?;
    let environment = Environment::system().map_err(CliError::client("read the system RNG"))?;
    let client = Client::open(profile, Arc::clone(&node), config, environment)
        .await
        .map_err(CliError::client("start the client"))?;
    let code = client.contact_code().await.map_err(CliError::client("read the contact code"))?;
    println!("kaiwa chat (type /help)");
    println!("id: {}", client.public_id());
    println!("contact code: {code}");
    for address in node.local_addrs().await {
        println!("listening on {address}");
    }
    let printer = tokio::spawn(show::print_events(client.clone()));
    let result = read_commands(&client, tokio::io::stdin()).await;
    if tokio::time::timeout(QUIT_FLUSH_TIMEOUT, client.flush()).await.is_err() {
        println!("* some messages are still queued; they are sent at the next start");
    }
    crate::network::stop_client(&client).await;
    printer.abort();
    node.shutdown().await;
    result
}

/// One line of input, bounded.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A line (without its newline).
    Text(String),
    /// A line longer than [`MAX_LINE_BYTES`] (dropped) or not UTF-8.
    Refused,
    /// End of input.
    End,
}

/// Reads one line of at most `max` bytes; a longer one is read to its end and refused.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> Result<Line, CliError> {
    let mut buffer = Vec::new();
    let mut refused = false;
    loop {
        let chunk = reader
            .fill_buf()
            .await
            .map_err(|e| CliError::Io { operation: "reading standard input", kind: e.kind() })?;
        if chunk.is_empty() {
            return Ok(match (buffer.is_empty(), refused) {
                (true, false) => Line::End,
                (_, true) => Line::Refused,
                (false, false) => text(buffer),
            });
        }
        let (taken, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(at) => (at + 1, true),
            None => (chunk.len(), false),
        };
        if !refused {
            let part = chunk.get(..taken).unwrap_or_default();
            if buffer.len() + part.len() > max + 1 {
                refused = true;
                buffer = Vec::new();
            } else {
                buffer.extend_from_slice(part);
            }
        }
        reader.consume(taken);
        if done {
            return Ok(if refused { Line::Refused } else { text(buffer) });
        }
    }
}

fn text(mut buffer: Vec<u8>) -> Line {
    while matches!(buffer.last(), Some(b'\n' | b'\r')) {
        buffer.pop();
    }
    String::from_utf8(buffer).map_or(Line::Refused, Line::Text)
}

async fn read_commands<R: AsyncRead + Unpin>(client: &Client, input: R) -> Result<(), CliError> {
    let mut reader = BufReader::new(input);
    let mut session = Session::new(client.clone());
    loop {
        let line = match read_line(&mut reader, MAX_LINE_BYTES).await? {
            Line::End => return Ok(()),
            Line::Refused => {
                println!("error: a line must be UTF-8 and at most {MAX_LINE_BYTES} bytes");
                continue;
            }
            Line::Text(line) => line,
        };
        match command::parse(&line) {
            Ok(Command::Quit) => return Ok(()),
            Ok(Command::Nothing) => {}
            Ok(command) => match session.execute(command).await {
                Ok(lines) => lines.iter().for_each(|line| println!("{line}")),
                Err(error) => println!("error: {}", crate::error::one_line(&error)),
            },
            Err(error) => println!("error: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        loop {
            let line = read_line(&mut reader, max).await.unwrap();
            let end = line == Line::End;
            out.push(line);
            if end {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn lines_are_bounded_and_the_stream_recovers_after_a_long_one() {
        let got = lines(b"/help\r\nabcdefghijkl\nok\nlast", 8).await;
        assert_eq!(
            got,
            vec![
                Line::Text("/help".into()),
                Line::Refused,
                Line::Text("ok".into()),
                Line::Text("last".into()),
                Line::End
            ]
        );
        assert_eq!(lines(b"\xff\xfe\n", 8).await, vec![Line::Refused, Line::End]);
        assert_eq!(lines(b"", 8).await, vec![Line::End]);
    }
}
