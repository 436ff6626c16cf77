//! Private groups over the simulated network: create, join, send, rename, remove, leave.

use kaiwa::{ChatId, Event, MemberStatus, Scope};

use crate::support::{PATIENCE, create, network, text, wait_for};

fn membership(event: &Event) -> Option<kaiwa::MembershipChange> {
    match event {
        Event::Membership(change) if matches!(change.scope, Scope::Group(_)) => {
            Some(change.clone())
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_three_with_a_removal() {
    let network = network(3);
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = create(&network, dirs[0].path(), 31).await;
    let bob = create(&network, dirs[1].path(), 32).await;
    let carol = create(&network, dirs[2].path(), 33).await;
    scenario(alice, bob, carol).await;
}

/// The group scenario, on whatever network the clients share.
pub(crate) async fn scenario(alice: kaiwa::Client, bob: kaiwa::Client, carol: kaiwa::Client) {
    let (mut bob_events, mut carol_events) = (bob.events(), carol.events());
    let mut alice_events = alice.events();
    // Alice knows Bob by his code and Carol only by her id (bundle fetched from Store).
    let bob_id = alice.add_contact(&bob.contact_code().await.unwrap(), "bob").await.unwrap();
    // Carol's bundle reaches Store asynchronously (her publisher, then the network and the
    // Store node): until it is there, asking for it is answered `NoBundle`, so ask again.
    let carol_id = carol.public_id();
    carol.flush().await.unwrap();
    tokio::time::timeout(PATIENCE, async {
        loop {
            match alice.add_contact_by_id(carol_id, "carol").await {
                Ok(()) => break,
                Err(kaiwa::Error::NoBundle) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(other) => panic!("adding Carol by id: {other}"),
            }
        }
    })
    .await
    .expect("Carol's bundle reaches Store");

    let (group, unreachable) = alice.create_group("friends", &[bob_id, carol_id]).await.unwrap();
    assert!(unreachable.is_empty());
    let invited = wait_for(&mut bob_events, membership).await;
    assert_eq!(invited.scope, Scope::Group(group.clone()));
    assert_eq!(invited.renamed.as_deref(), Some("friends"));
    assert_eq!(invited.invited.len(), 2);
    wait_for(&mut carol_events, membership).await;

    bob.join_group(&group).await.unwrap();
    carol.join_group(&group).await.unwrap();
    for _ in 0..2 {
        let joined = wait_for(&mut alice_events, membership).await;
        assert_eq!(joined.joined.len(), 1);
    }
    let info = alice.group(&group).await.unwrap().unwrap();
    assert!(info.members.iter().all(|(_, s)| *s == MemberStatus::Joined));

    let chat = ChatId::Group(group.clone());
    alice.send_text(&chat, "welcome").await.unwrap();
    assert_eq!(wait_for(&mut bob_events, text).await, (chat.clone(), "welcome".into()));
    assert_eq!(wait_for(&mut carol_events, text).await, (chat.clone(), "welcome".into()));
    // Bob writes to the group: Carol gets it although Bob never added her (bundle fetched).
    bob.send_text(&chat, "hello all").await.unwrap();
    assert_eq!(wait_for(&mut carol_events, text).await, (chat.clone(), "hello all".into()));
    assert_eq!(wait_for(&mut alice_events, text).await, (chat.clone(), "hello all".into()));

    alice.rename_group(&group, "best friends").await.unwrap();
    let renamed = wait_for(&mut bob_events, membership).await;
    assert_eq!(renamed.renamed.as_deref(), Some("best friends"));

    alice.remove_member(&group, carol_id).await.unwrap();
    let removed =
        wait_for(&mut carol_events, |e| membership(e).filter(|c| !c.removed.is_empty())).await;
    assert_eq!(removed.removed, vec![carol_id]);
    // Carol can no longer send, and no longer receives.
    assert!(carol.send_text(&chat, "am I still here?").await.is_err());
    alice.send_text(&chat, "just us").await.unwrap();
    assert_eq!(wait_for(&mut bob_events, text).await, (chat.clone(), "just us".into()));

    bob.leave_group(&group).await.unwrap();
    let left = wait_for(&mut alice_events, membership).await;
    assert_eq!(left.removed, vec![bob_id]);
    carol.flush().await.unwrap();
    let carol_history = carol.history(&chat, None, 100).await.unwrap();
    assert!(
        carol_history
            .iter()
            .all(|m| !matches!(&m.content, kaiwa::Content::Text { text, .. } if text == "just us"))
    );
    for client in [alice, bob, carol] {
        client.shutdown().await;
    }
}
