//! A 1:1 conversation on the simulated network: Alice adds Bob by his contact code, they
//! exchange texts and a reaction, and Alice restarts from her profile directory.
//!
//! Run: `cargo run -p kaiwa --example direct`

use kaiwa::transport::sim::SimNetwork;
use kaiwa::{
    ChatId, Client, ClientConfig, Content, Environment, Event, Events, Profile, ReactionKind,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

async fn next_message(events: &mut Events) -> kaiwa::Message {
    loop {
        if let Some(Event::Message(message)) = events.next().await {
            return message;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let network = SimNetwork::new(1);
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
    println!("alice is {}\nbob   is {}", alice.public_id(), bob.public_id());

    let bob_id = alice.add_contact(&bob.contact_code().await?, "Bob").await?;
    let hello = alice.send_text(&ChatId::Direct(bob_id), "hi Bob").await?;
    let message = next_message(&mut bob_events).await;
    println!("bob got {:?} from {}", message.content, message.author);

    bob.send_reaction(
        &ChatId::Direct(alice.public_id()),
        &hello.message.reference,
        ReactionKind::ThumbsUp,
        false,
    )
    .await?;
    bob.send_text(&ChatId::Direct(alice.public_id()), "hi Alice").await?;
    for _ in 0..2 {
        let message = next_message(&mut alice_events).await;
        println!("alice got {:?}", message.content);
    }

    // Alice stops; Bob writes while she is away; she comes back and catches up from Store.
    alice.shutdown().await;
    bob.send_text(&ChatId::Direct(alice.public_id()), "did you get this?").await?;
    bob.flush().await?;
    let alice = Client::open(
        Profile::open_dir(alice_dir.path())?,
        network.node("alice-again"),
        ClientConfig::default(),
        environment(3),
    )
    .await?;
    let mut alice_events = alice.events();
    let message = next_message(&mut alice_events).await;
    assert_eq!(
        message.content,
        Content::Text { text: "did you get this?".into(), response_to: None }
    );
    println!("after her restart alice got {:?}", message.content);
    for message in alice.history(&ChatId::Direct(bob_id), None, 10).await? {
        println!("  history: {:?} {:?} {:?}", message.direction, message.status, message.content);
    }
    alice.shutdown().await;
    bob.shutdown().await;
    Ok(())
}
