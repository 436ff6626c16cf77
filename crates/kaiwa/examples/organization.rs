//! An organization on the simulated network: Alice founds it with a channel, Bob follows it
//! and is admitted, they post; Alice bans Bob, which re-keys the channel.
//!
//! Run: `cargo run -p kaiwa --example organization`

use kaiwa::transport::sim::SimNetwork;
use kaiwa::{Access, ChatId, Client, ClientConfig, Environment, Event, Events, Profile};
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let network = SimNetwork::new(3);
    tokio::spawn(network.driver());
    let environment = |seed| Environment::new(network.clone(), ChaCha20Rng::seed_from_u64(seed));
    let (alice_dir, bob_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let alice = Client::create(
        Profile::open_dir(alice_dir.path())?,
        network.node("alice"),
        ClientConfig::default(),
        environment(1),
    )
    .await?;
    let bob = Client::create(
        Profile::open_dir(bob_dir.path())?,
        network.node("bob"),
        ClientConfig::default(),
        environment(2),
    )
    .await?;
    let (mut alice_events, mut bob_events) = (alice.events(), bob.events());

    let org = alice.create_org("rust meetup", Access::NoMembership).await?;
    let channel = alice.create_channel(&org, "general", "General").await?;
    println!("organization {}", kaiwa::org_id_text(&org));

    bob.follow_org(&org).await?;
    next(&mut bob_events, "bob", |e| matches!(e, Event::Membership(_))).await;
    bob.request_to_join(&org, "Bob").await?;
    next(&mut bob_events, "bob", |e| matches!(e, Event::JoinResponse { .. })).await;

    let chat = ChatId::Channel { org, channel };
    bob.send_text(&chat, "hello meetup").await?;
    next(&mut alice_events, "alice", |e| matches!(e, Event::Message(_))).await;

    alice.ban(&org, bob.public_id()).await?;
    next(&mut bob_events, "bob", |e| matches!(e, Event::Membership(c) if !c.removed.is_empty()))
        .await;
    println!("bob may post after the ban: {}", bob.send_text(&chat, "still here?").await.is_ok());
    println!("organization now: {:?}", alice.org(&org).await?);
    alice.shutdown().await;
    bob.shutdown().await;
    Ok(())
}
