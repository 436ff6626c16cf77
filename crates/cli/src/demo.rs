//! `kaiwa demo`: five peers on loopback play a scripted story (story.rs) and the program
//! checks every expected delivery and every expected refusal.
//!
//! ```text
//! setup   tempdir; alice, bob, carol, dave, oscar: each a RelayNode on 127.0.0.1:0 (Store
//!         server on), static peers = every earlier node → a full mesh of 5; wait until each
//!         node sees 4 relay peers on the shard; a client per peer over a SQLite profile;
//!         everyone adds everyone's contact code (20 contacts)
//! acts    story::{direct, group, organization, ban_and_rekey}; a failed check stops its act
//! end     summary table; stop every client and node; exit 0 iff every check passed
//! ```

mod peer;
mod report;
mod story;

use std::time::{Duration, Instant};

use kaiwa::relay::Multiaddr;

use self::peer::{Peer, start_relay};
use self::report::{Outcome, Report};
use self::story::{ACTS, Cast};
use crate::args::DemoArgs;
use crate::error::CliError;
use crate::limits::{DEMO_OUTBOX_RETRY, MESH_TIMEOUT};
use crate::network::{NetworkChoice, client_config, pubsub_topic};

/// The cast, in start order.
const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "oscar"];

/// Runs the demo.
pub(crate) async fn run(args: &DemoArgs) -> Result<(), CliError> {
    let start = Instant::now();
    let dir = tempfile::Builder::new().prefix("kaiwa-demo-").tempdir().map_err(|e| {
        CliError::Io { operation: "creating a temporary directory", kind: e.kind() }
    })?;
    let network = NetworkChoice { application: "kaiwa".to_owned(), cluster: 1, shards: 8 };
    let config = client_config(&network, Some(DEMO_OUTBOX_RETRY))?;
    let topic = pubsub_topic(&config);
    println!(
        "kaiwa demo: {} peers, each a Waku relay node on 127.0.0.1 with its own SQLite",
        NAMES.len()
    );
    println!("profile under {}; relay shard {topic}", dir.path().display());
    let mut report = Report::new(start, ACTS);

    let mut nodes = Vec::with_capacity(NAMES.len());
    let mut addresses: Vec<Multiaddr> = Vec::new();
    for name in NAMES {
        let node = start_relay(&config, &addresses).await?;
        let mine = node.local_addrs().await;
        let shown = mine.first().map(ToString::to_string).unwrap_or_default();
        report.say(&format!("{name:<5} relay node listening on {shown}"));
        addresses.extend(mine);
        nodes.push(node);
    }
    for node in &nodes {
        if !node.wait_for_relay_peers(&topic, NAMES.len() - 1, MESH_TIMEOUT).await {
            return Err(CliError::DemoSetup { what: "the relay nodes did not form a full mesh" });
        }
    }
    report.say("the 5 relay nodes form a full mesh on the shard");

    let mut peers = Vec::with_capacity(NAMES.len());
    for (name, node) in NAMES.into_iter().zip(nodes) {
        peers.push(Peer::create(name, &dir.path().join(name), node, config.clone()).await?);
    }
    let mut codes = Vec::with_capacity(peers.len());
    for peer in &peers {
        codes.push(
            peer.client.contact_code().await.map_err(CliError::client("read a contact code"))?,
        );
    }
    for peer in &peers {
        for (other, code) in peers.iter().zip(&codes) {
            if other.name != peer.name {
                peer.client
                    .add_contact(code, other.name)
                    .await
                    .map_err(CliError::client("add a demo contact"))?;
            }
        }
    }
    report.say("everyone scanned everyone's contact code (20 verified contacts)");

    let mut cast = into_cast(peers, config, Duration::from_secs(args.timeout.max(1)))?;
    report.begin("1:1 chat");
    let _ = story::direct(&mut cast, &mut report).await;
    report.end();
    report.begin("private group");
    let _ = story::group(&mut cast, &mut report).await;
    report.end();
    report.begin("organization");
    let org = story::organization(&mut cast, &mut report).await;
    report.end();
    report.begin("ban and re-key");
    match org {
        Ok(org) => {
            let _ = story::ban_and_rekey(&mut cast, &mut report, &org).await;
        }
        Err(_) => {
            let _ = report.check(false, Outcome::Other, "needs the organization of act 3");
        }
    }
    report.end();

    let relay = relay_line(&cast);
    report.summary(&relay);
    for peer in [cast.alice, cast.bob, cast.carol, cast.dave, cast.oscar] {
        peer.stop().await;
    }
    if args.keep {
        let kept = dir.keep();
        println!("profiles kept in {}", kept.display());
    }
    let (passed, total) = report.totals();
    if passed == total && report.failures().is_empty() {
        println!("all {total} checks passed");
        Ok(())
    } else {
        println!("failed checks:");
        for failure in report.failures() {
            println!("  {failure}");
        }
        Err(CliError::DemoFailed { failed: total - passed, total })
    }
}

fn into_cast(
    peers: Vec<Peer>,
    config: kaiwa::ClientConfig,
    timeout: Duration,
) -> Result<Cast, CliError> {
    let [alice, bob, carol, dave, oscar]: [Peer; 5] = peers
        .try_into()
        .map_err(|_| CliError::Internal { what: "the demo needs exactly five peers" })?;
    Ok(Cast { alice, bob, carol, dave, oscar, config, timeout })
}

/// Relay counters summed over every node.
fn relay_line(cast: &Cast) -> String {
    let (mut published, mut accepted, mut rejected) = (0, 0, 0);
    for peer in [&cast.alice, &cast.bob, &cast.carol, &cast.dave, &cast.oscar] {
        let metrics = peer.node.metrics();
        published += metrics.published;
        accepted += metrics.accepted;
        rejected += metrics.rejected;
    }
    format!(
        "relay: {published} Waku messages published, {accepted} relayed copies accepted, {rejected} rejected as invalid"
    )
}
