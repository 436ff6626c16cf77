//! A private group on the simulated network: Alice creates it with Bob and Carol, they join
//! and talk, Alice renames it and removes Carol.
//!
//! Run: `cargo run -p kaiwa --example group`

use kaiwa::transport::sim::SimNetwork;
use kaiwa::{ChatId, Client, ClientConfig, Environment, Event, Events, Profile};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

async fn next(events: &mut Events, who: &str, want: impl Fn(&Event) -> bool) {
    loop {
        let Some(event) = events.next().await else { return };
        if want(&event) {
            println!("{who}: {event:?}");
            return;
        }
    }
}

fn message(event: &Event) -> bool {
    matches!(event, Event::Message(_))
}

fn membership(event: &Event) -> bool {
    matches!(event, Event::Membership(_))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let network = SimNetwork::new(2);
    tokio::spawn(network.driver());
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?, tempfile::tempdir()?];
    let mut clients = Vec::new();
    for (seed, (dir, name)) in dirs.iter().zip(["alice", "bob", "carol"]).enumerate() {
        let environment =
            Environment::new(network.clone(), ChaCha20Rng::seed_from_u64(seed as u64));
        let profile = Profile::open_dir(dir.path())?;
        clients.push(
            Client::create(profile, network.node(name), ClientConfig::default(), environment)
                .await?,
        );
    }
    let [alice, bob, carol]: [Client; 3] = clients.try_into().map_err(|_| "three clients")?;
    let (mut alice_events, mut bob_events, mut carol_events) =
        (alice.events(), bob.events(), carol.events());

    // Alice knows Bob and Carol by id only: their bundles come from Store.
    let (group, unreachable) =
        alice.create_group("hikers", &[bob.public_id(), carol.public_id()]).await?;
    assert!(unreachable.is_empty());
    next(&mut bob_events, "bob", membership).await;
    next(&mut carol_events, "carol", membership).await;
    bob.join_group(&group).await?;
    carol.join_group(&group).await?;
    next(&mut alice_events, "alice", membership).await;
    next(&mut alice_events, "alice", membership).await;

    let chat = ChatId::Group(group.clone());
    alice.send_text(&chat, "trail at 9?").await?;
    next(&mut bob_events, "bob", message).await;
    next(&mut carol_events, "carol", message).await;
    carol.send_text(&chat, "count me in").await?;
    next(&mut bob_events, "bob", message).await;

    alice.rename_group(&group, "summit hikers").await?;
    alice.remove_member(&group, carol.public_id()).await?;
    next(
        &mut carol_events,
        "carol",
        |e| matches!(e, Event::Membership(c) if !c.removed.is_empty()),
    )
    .await;
    println!("group now: {:?}", alice.group(&group).await?);
    for client in [alice, bob, carol] {
        client.shutdown().await;
    }
    Ok(())
}
