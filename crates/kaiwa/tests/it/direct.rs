//! 1:1 chats over the simulated network with SQLite stores.

use kaiwa::{ChatId, Content, MessageStatus, ReactionKind};

use crate::support::{PATIENCE, create, network, reopen, text, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_code_starts_a_conversation_both_ways() {
    let network = network(1);
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = create(&network, dirs.0.path(), 1).await;
    let bob = create(&network, dirs.1.path(), 2).await;
    let (mut alice_events, mut bob_events) = (alice.events(), bob.events());

    let bob_id = alice.add_contact(&bob.contact_code().await.unwrap(), "bob").await.unwrap();
    assert_eq!(bob_id, bob.public_id());
    let sent = alice.send_text(&ChatId::Direct(bob_id), "hi bob").await.unwrap();
    let got = wait_for(&mut bob_events, text).await;
    assert_eq!(got, (ChatId::Direct(alice.public_id()), "hi bob".to_owned()));

    // Bob answers (Alice became his contact when her first message arrived).
    bob.send_text(&ChatId::Direct(alice.public_id()), "hi alice").await.unwrap();
    let got = wait_for(&mut alice_events, text).await;
    assert_eq!(got, (ChatId::Direct(bob_id), "hi alice".to_owned()));

    // A reaction names the message by a reference both sides compute.
    bob.send_reaction(
        &ChatId::Direct(alice.public_id()),
        &sent.message.reference,
        ReactionKind::Love,
        false,
    )
    .await
    .unwrap();
    let reaction = wait_for(&mut alice_events, |e| match e {
        kaiwa::Event::Message(m) => match &m.content {
            Content::Reaction { to, kind, .. } => Some((to.clone(), *kind)),
            _ => None,
        },
        _ => None,
    })
    .await;
    assert_eq!(reaction, (sent.message.reference.clone(), ReactionKind::Love));

    alice.flush().await.unwrap();
    let history = alice.history(&ChatId::Direct(bob_id), None, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].status, MessageStatus::Sent);
    alice.shutdown().await;
    bob.shutdown().await;

    // Restart Alice from her directory: the conversation continues.
    let alice = reopen(&network, dirs.0.path(), 11).await;
    let mut alice_events = alice.events();
    let bob = reopen(&network, dirs.1.path(), 12).await;
    bob.send_text(&ChatId::Direct(alice.public_id()), "still there?").await.unwrap();
    let got = wait_for(&mut alice_events, text).await;
    assert_eq!(got.1, "still there?");
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_operations_change_nothing() {
    let network = network(5);
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = create(&network, dirs.0.path(), 51).await;
    let stranger = create(&network, dirs.1.path(), 52).await;
    let before = (alice.chats().await.unwrap(), alice.contacts().await.unwrap());

    // Not a contact: refused before anything is encrypted or stored.
    let to_stranger = ChatId::Direct(stranger.public_id());
    assert!(matches!(alice.send_text(&to_stranger, "hi").await, Err(kaiwa::Error::UnknownContact)));
    // Too long: refused by the content checks.
    let bob_id = alice.add_contact(&stranger.contact_code().await.unwrap(), "s").await.unwrap();
    let contacts = alice.contacts().await.unwrap();
    let long = "x".repeat(kaiwa::limits::MAX_TEXT_CHARS + 1);
    assert!(matches!(
        alice.send_text(&ChatId::Direct(bob_id), &long).await,
        Err(kaiwa::Error::TooLong { field: "text", .. })
    ));
    assert_eq!(alice.chats().await.unwrap(), before.0);
    assert_eq!(alice.contacts().await.unwrap(), contacts);
    assert_eq!(before.1.len() + 1, contacts.len());

    // An organization action kaiwa-org refuses (a second channel with the same id) rolls back:
    // the organization is exactly as it was.
    let org = alice.create_org("club", kaiwa::Access::NoMembership).await.unwrap();
    alice.create_channel(&org, "general", "General").await.unwrap();
    let org_before = alice.org(&org).await.unwrap();
    assert!(matches!(
        alice.create_channel(&org, "general", "Again").await,
        Err(kaiwa::Error::Org(_))
    ));
    assert_eq!(alice.org(&org).await.unwrap(), org_before);
    // A group we do not have.
    let group = kaiwa::GroupId::parse(&format!(
        "{}-{}",
        &alice.public_id().to_string()[2..],
        "0b5e4a86-2b1c-4c3e-9f6d-1a2b3c4d5e6f"
    ))
    .unwrap();
    assert!(matches!(alice.rename_group(&group, "x").await, Err(kaiwa::Error::UnknownGroup)));
    alice.shutdown().await;
    stranger.shutdown().await;
}

/// A client stopped right after it starts still stops. Its background tasks used to subscribe
/// to the shutdown signal only once they first ran, so a signal sent before that was missed and
/// `shutdown()` waited forever; on a current-thread runtime that was every time.
#[tokio::test]
async fn a_client_stopped_at_once_stops() {
    for seed in 0..5 {
        let network = network(600 + seed);
        let dir = tempfile::tempdir().unwrap();
        let client = create(&network, dir.path(), 600 + seed).await;
        tokio::time::timeout(PATIENCE, client.shutdown()).await.expect("shutdown returns");
    }
}
