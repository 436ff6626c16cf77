//! The group and organization scenarios over relay nodes on loopback: a Store node and one
//! node per client dialling it, each client with a SQLite store. (A node does not query its
//! own archive, so no client sits on the Store node itself.)

use kaiwa::{Client, Environment, Profile};

use crate::relay::{address, config, connect, node};

/// Three clients, each on its own relay node dialling a Store node.
async fn three_clients(
    dirs: &[tempfile::TempDir],
) -> (std::sync::Arc<kaiwa::relay::RelayNode>, Client, Client, Client) {
    let hub = node(true).await;
    let hub_address = address(&hub).await;
    let mut clients = Vec::new();
    for dir in dirs {
        let relay = node(false).await;
        connect(&relay, hub_address.clone()).await;
        let profile = Profile::open_dir(dir.path()).unwrap();
        let environment = Environment::system().unwrap();
        clients.push(Client::create(profile, relay, config(), environment).await.unwrap());
    }
    let carol = clients.pop().unwrap();
    let bob = clients.pop().unwrap();
    let alice = clients.pop().unwrap();
    (hub, alice, bob, carol)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_scenario_over_relay_nodes() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (_hub, alice, bob, carol) = three_clients(&dirs).await;
    crate::group::scenario(alice, bob, carol).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organization_scenario_over_relay_nodes() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (_hub, alice, bob, carol) = three_clients(&dirs).await;
    crate::org::scenario(alice, bob, carol).await;
}
