//! Shared set-up: simulated networks, clients in temporary directories, waiting for events.

use std::time::Duration;

use kaiwa::transport::sim::SimNetwork;
use kaiwa::{Client, ClientConfig, Environment, Event, Events, Profile};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// How long a test waits for something that should happen.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// A configuration for tests: quick retries.
pub(crate) fn config() -> ClientConfig {
    ClientConfig::builder().outbox_retry_interval(Duration::from_millis(200)).build()
}

/// A simulated network whose driver runs in the background.
pub(crate) fn network(seed: u64) -> SimNetwork {
    let network = SimNetwork::new(seed);
    tokio::spawn(network.driver());
    network
}

/// The simulated clock and a seeded RNG.
pub(crate) fn environment(network: &SimNetwork, seed: u64) -> Environment {
    Environment::new(network.clone(), ChaCha20Rng::seed_from_u64(seed))
}

/// A new account in `dir` on a new node of `network`.
pub(crate) async fn create(network: &SimNetwork, dir: &std::path::Path, seed: u64) -> Client {
    let profile = Profile::open_dir(dir).unwrap();
    let node = network.node(&format!("{seed}"));
    Client::create(profile, node, config(), environment(network, seed)).await.unwrap()
}

/// The account in `dir`, reopened on a new node of `network`.
pub(crate) async fn reopen(network: &SimNetwork, dir: &std::path::Path, seed: u64) -> Client {
    let profile = Profile::open_dir(dir).unwrap();
    let node = network.node(&format!("{seed}-again"));
    Client::open(profile, node, config(), environment(network, seed)).await.unwrap()
}

/// Waits for the first event that `pick` accepts.
pub(crate) async fn wait_for<T>(
    events: &mut Events,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let event = events.next().await.expect("the client stopped");
            if let Some(found) = pick(&event) {
                return found;
            }
        }
    })
    .await
    .expect("the expected event did not come")
}

/// The text of a message event.
pub(crate) fn text(event: &Event) -> Option<(kaiwa::ChatId, String)> {
    match event {
        Event::Message(kaiwa::Message {
            chat, content: kaiwa::Content::Text { text, .. }, ..
        }) => Some((chat.clone(), text.clone())),
        _ => None,
    }
}
