//! Organizations over the simulated network: the three ways in, channels, a ban.

use kaiwa::{Access, ChatId, Event, Scope};

use crate::support::{create, network, text, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_with_open_and_moderated_entry_and_a_ban() {
    let network = network(4);
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = create(&network, dirs[0].path(), 41).await;
    let bob = create(&network, dirs[1].path(), 42).await;
    let carol = create(&network, dirs[2].path(), 43).await;
    scenario(alice, bob, carol).await;
}

/// The organization scenario, on whatever network the clients share.
pub(crate) async fn scenario(alice: kaiwa::Client, bob: kaiwa::Client, carol: kaiwa::Client) {
    let mut alice_events = alice.events();
    let (mut bob_events, mut carol_events) = (bob.events(), carol.events());

    let org = alice.create_org("rustaceans", Access::NoMembership).await.unwrap();
    let general = alice.create_channel(&org, "general", "General").await.unwrap();
    alice.flush().await.unwrap();

    // Bob follows (the id came out of band), asks, is admitted at once.
    bob.follow_org(&org).await.unwrap();
    wait_for(&mut bob_events, |e| {
        matches!(e, Event::Membership(c) if c.scope == Scope::Org(org)).then_some(())
    })
    .await;
    bob.request_to_join(&org, "bob").await.unwrap();
    let accepted = wait_for(&mut bob_events, |e| match e {
        Event::JoinResponse { accepted, .. } => Some(*accepted),
        _ => None,
    })
    .await;
    assert!(accepted);
    let info = bob.org(&org).await.unwrap().unwrap();
    assert!(info.member && info.members.contains(&bob.public_id()));
    assert_eq!(info.channels.len(), 1);

    let chat = ChatId::Channel { org, channel: general.clone() };
    bob.send_text(&chat, "hi from bob").await.unwrap();
    assert_eq!(wait_for(&mut alice_events, text).await, (chat.clone(), "hi from bob".into()));
    alice.send_text(&chat, "welcome bob").await.unwrap();
    assert_eq!(wait_for(&mut bob_events, text).await, (chat.clone(), "welcome bob".into()));

    // Carol asks once requests need the owner's decision.
    alice.set_access(&org, Access::OnRequest).await.unwrap();
    carol.follow_org(&org).await.unwrap();
    wait_for(&mut carol_events, |e| matches!(e, Event::Membership(_)).then_some(())).await;
    carol.request_to_join(&org, "carol").await.unwrap();
    let (member, name) = wait_for(&mut alice_events, |e| match e {
        Event::JoinRequest { member, display_name, .. } => Some((*member, display_name.clone())),
        _ => None,
    })
    .await;
    assert_eq!((member, name.as_str()), (carol.public_id(), "carol"));
    alice.accept_request(&org, member).await.unwrap();
    assert!(
        wait_for(&mut carol_events, |e| match e {
            Event::JoinResponse { accepted, .. } => Some(*accepted),
            _ => None,
        })
        .await
    );
    carol.send_text(&chat, "thanks").await.unwrap();
    assert_eq!(wait_for(&mut bob_events, text).await, (chat.clone(), "thanks".into()));

    // Alice bans Bob: he learns he was removed and cannot post any more. The ban makes a
    // new key epoch, which Carol gets and Bob does not.
    let newest_epoch = |events: &mut kaiwa::Events| {
        let mut newest = None;
        while let Some(event) = events.try_next() {
            if let Event::KeyEpoch { org: o, epoch, .. } = event
                && o == org
            {
                newest = newest.max(Some(epoch));
            }
        }
        newest
    };
    let before = newest_epoch(&mut alice_events).expect("the owner made key epochs");
    alice.ban(&org, bob.public_id()).await.unwrap();
    let after = newest_epoch(&mut alice_events).expect("the ban made a key epoch");
    assert!(after > before, "epoch {after} after the ban, {before} before");
    wait_for(&mut carol_events, |e| {
        matches!(e, Event::KeyEpoch { org: o, epoch, .. } if *o == org && *epoch == after)
            .then_some(())
    })
    .await;
    let removed = wait_for(&mut bob_events, |e| match e {
        Event::Membership(c) if !c.removed.is_empty() => Some(c.removed.clone()),
        _ => None,
    })
    .await;
    assert_eq!(removed, vec![bob.public_id()]);
    assert!(bob.send_text(&chat, "let me in").await.is_err());
    alice.send_text(&chat, "after the ban").await.unwrap();
    assert_eq!(wait_for(&mut carol_events, text).await, (chat.clone(), "after the ban".into()));
    assert!(newest_epoch(&mut bob_events).is_none_or(|e| e < after), "bob got the new epoch");
    for client in [alice, bob, carol] {
        client.shutdown().await;
    }
}
