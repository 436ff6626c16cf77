//! Receiving group messages: the happy path, and every rejection with its typed reason and no
//! state change (forged signatures, wrong chat id, replay into another group, oversize fields,
//! clocks from the future, strangers, random bytes).

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::limits::{MAX_CLOCK_SKEW_MS, MAX_MESSAGE_BYTES, MAX_TEXT_CHARS};
use kaiwa_group::{
    ActionError, ChatEntity, ChatEntityError, ChatMessageDraft, DecodeError, Event, Group, GroupId,
    IncomingMessage, LamportTime, MemberId, MessageContent, ReactionKind, ReceiveError,
    RejectReason, RejectedEvent, VerifiedEvent,
};
use kaiwa_wire::net as wire;
use proptest::prelude::*;
use prost::Message as _;

use super::support::{Cast, NOW, deliver, id, keypair, rng};

fn decode(bytes: &[u8]) -> IncomingMessage {
    IncomingMessage::decode(bytes).unwrap()
}

/// Re-encodes `bytes` after `f` edits the wire message.
fn edit(bytes: &[u8], f: impl FnOnce(&mut wire::MembershipUpdateMessage)) -> Vec<u8> {
    let mut msg = wire::MembershipUpdateMessage::decode(bytes).unwrap();
    f(&mut msg);
    msg.encode_to_vec()
}

#[test]
fn invite_join_message_react_leave() {
    let cast = Cast::new();
    let (alice, bob, carol) = (&cast.alice, &cast.bob, &cast.carol);
    let (mut a, invite) =
        Group::create(alice, "g", "#fff", &[id(bob), id(carol)], &mut rng(1), NOW).unwrap();
    assert_eq!(
        invite.recipients,
        vec![id(bob), id(carol)]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );

    let (mut b, outcome) =
        Group::from_first_message(decode(&invite.bytes), &id(alice), &id(bob), NOW).unwrap();
    assert_eq!(outcome.accepted.len(), 2);
    assert!(outcome.rejected.is_empty() && outcome.entity.is_none());
    assert_eq!(b.state(), a.state());

    // Invited but not joined: no chat messages yet.
    assert_eq!(a.recipients(&id(alice)), Vec::<MemberId>::new());
    assert_eq!(
        b.send_message(&id(bob), ChatMessageDraft::text("too early"), NOW + 1).map(|_| ()),
        Err(ActionError::NotJoined)
    );

    let joined = b.join(bob, NOW + 2).unwrap();
    assert_eq!(
        joined.recipients,
        vec![id(alice), id(carol)]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    let outcome = deliver(&mut a, &joined, bob, NOW + 3);
    assert_eq!(outcome.accepted.len(), 1);
    assert_eq!(outcome.duplicates, 2, "the full log came along");
    assert_eq!(a.recipients(&id(alice)), vec![id(bob)]);
    assert_eq!(a.state(), b.state());

    // A chat message, with an image and no text.
    let draft = ChatMessageDraft {
        text: String::new(),
        response_to: String::new(),
        display_name: "Alice".into(),
        content: MessageContent::Image {
            payload: vec![1, 2, 3],
            format: kaiwa_group::ImageFormat::Png,
        },
    };
    let (out, sent) = a.send_message(&id(alice), draft, NOW + 4).unwrap();
    assert_eq!(out.recipients, vec![id(bob)]);
    assert!(sent.clock > LamportTime(NOW + 3));
    let outcome = deliver(&mut b, &out, alice, NOW + 5);
    assert_eq!(outcome.entity, Some(Ok(ChatEntity::Message(sent.clone()))));
    assert!(b.clock() >= sent.clock, "the receiver's clock follows");

    let (out, reaction) =
        b.send_reaction(&id(bob), "0xabcd", ReactionKind::ThumbsUp, false, NOW + 6).unwrap();
    let outcome = deliver(&mut a, &out, bob, NOW + 7);
    assert_eq!(outcome.entity, Some(Ok(ChatEntity::Reaction(reaction))));

    // Bob leaves: no longer a recipient, and his later messages are not delivered.
    let mut b_after = b.clone();
    let left = b_after.leave(bob, NOW + 8).unwrap();
    assert!(!left.recipients.contains(&id(bob)));
    deliver(&mut a, &left, bob, NOW + 9);
    assert!(a.recipients(&id(alice)).is_empty());
    let (stale, _) =
        b.send_message(&id(bob), ChatMessageDraft::text("still here?"), NOW + 10).unwrap();
    let outcome = deliver(&mut a, &stale, bob, NOW + 11);
    assert_eq!(outcome.entity, Some(Err(ChatEntityError::SenderNotJoined)));
}

#[test]
fn removed_member_gets_the_removal_and_nothing_after() {
    let cast = Cast::new();
    let mut g = cast.group();
    let out = g.remove_member(&cast.alice, &id(&cast.carol), NOW + 100).unwrap();
    assert!(out.recipients.contains(&id(&cast.carol)), "the removal notice reaches Carol");
    assert!(!g.recipients(&id(&cast.alice)).contains(&id(&cast.carol)));
    let (msg, _) =
        g.send_message(&id(&cast.alice), ChatMessageDraft::text("bye"), NOW + 101).unwrap();
    assert!(!msg.recipients.contains(&id(&cast.carol)));
    let sync = g.sync_message(&id(&cast.alice)).unwrap();
    assert!(!sync.recipients.contains(&id(&cast.carol)));
}

#[test]
fn forged_signature_rejects_the_whole_message_and_changes_nothing() {
    let cast = Cast::new();
    let mut a = cast.group();
    let mut b = a.clone();
    let out = b.rename(&cast.bob, "new name", NOW + 100).unwrap();
    let original = wire::MembershipUpdateMessage::decode(out.bytes.as_slice()).unwrap();
    let last = original.events.len() - 1;
    for flip in [0usize, 31, 32, 63] {
        let forged = edit(&out.bytes, |m| m.events[last][flip] ^= 0x40);
        let before = a.clone();
        assert_eq!(
            a.receive(decode(&forged), &id(&cast.bob), NOW + 101),
            Err(ReceiveError::Unauthenticated)
        );
        assert_eq!(a, before);
    }
    // Forged by a non-member claiming to be Bob (author field = Bob, signed by Erin).
    let mut body = wire::MembershipUpdateEvent::decode(&original.events[last][64..]).unwrap();
    body.author = cast.bob.public_key().as_bytes().to_vec();
    let body = body.encode_to_vec();
    let mut message = (a.id().as_str().len() as u32).to_be_bytes().to_vec();
    message.extend_from_slice(a.id().as_str().as_bytes());
    message.extend_from_slice(&body);
    let sig = cast.erin.sign(&kaiwa_group::EVENT_SIGNATURE_CONTEXT, &message);
    let impostor =
        edit(&out.bytes, |m| m.events[last] = [sig.as_bytes().as_slice(), &body].concat());
    let before = a.clone();
    assert_eq!(
        a.receive(decode(&impostor), &id(&cast.erin), NOW + 101),
        Err(ReceiveError::Unauthenticated)
    );
    assert_eq!(a, before);
    // The genuine one applies.
    deliver(&mut a, &out, &cast.bob, NOW + 101);
    assert_eq!(a.state().name(), "new name");
}

#[test]
fn wrong_chat_id_and_replay_into_another_group_are_rejected() {
    let cast = Cast::new();
    let mut a = cast.group();
    let mut b = a.clone();
    let out = b.rename(&cast.bob, "x", NOW + 100).unwrap();

    // Another group by the same creator.
    let (mut other, _) =
        Group::create(&cast.alice, "other", "", &[id(&cast.bob)], &mut rng(55), NOW).unwrap();
    let before = other.clone();
    assert_eq!(
        other.receive(decode(&out.bytes), &id(&cast.bob), NOW + 101),
        Err(ReceiveError::WrongGroup)
    );
    // The same events relabelled with the other group's chat id: signatures bind the chat id.
    let replayed = edit(&out.bytes, |m| m.chat_id = other.id().as_str().to_owned());
    assert_eq!(
        other.receive(decode(&replayed), &id(&cast.bob), NOW + 101),
        Err(ReceiveError::Unauthenticated)
    );
    assert_eq!(other, before);

    // A malformed chat id never gets that far.
    let bad = edit(&out.bytes, |m| m.chat_id = a.id().as_str().to_uppercase());
    assert!(matches!(IncomingMessage::decode(&bad), Err(DecodeError::InvalidGroupId { .. })));
    // A chat message claiming another chat id is not delivered.
    let (msg, _) =
        a.send_message(&id(&cast.alice), ChatMessageDraft::text("hi"), NOW + 102).unwrap();
    let relabelled = edit(&msg.bytes, |m| {
        if let Some(wire::membership_update_message::ChatEntity::Message(c)) =
            m.chat_entity.as_mut()
        {
            c.chat_id = other.id().as_str().to_owned();
        }
    });
    let outcome = b.receive(decode(&relabelled), &id(&cast.alice), NOW + 103).unwrap();
    assert_eq!(outcome.entity, Some(Err(ChatEntityError::WrongChatId)));
}

#[test]
fn future_events_are_not_stored_until_their_time() {
    let cast = Cast::new();
    let mut a = cast.group();
    let mut b = a.clone();
    let far = NOW + 10 * MAX_CLOCK_SKEW_MS;
    let out = b.rename(&cast.bob, "from the future", far).unwrap();
    let before = a.clone();
    let outcome = deliver(&mut a, &out, &cast.bob, NOW);
    assert_eq!(outcome.accepted, vec![]);
    assert_eq!(outcome.rejected.len(), 1);
    assert_eq!(outcome.rejected[0].reason, RejectReason::FromTheFuture);
    assert_eq!(a, before, "not stored");
    // Within the skew it is accepted (the same bytes, re-sent later).
    let outcome = deliver(&mut a, &out, &cast.bob, far - MAX_CLOCK_SKEW_MS);
    assert_eq!(outcome.accepted.len(), 1);
    assert_eq!(a.state().name(), "from the future");
    // New local events still order after it: clock = max(now, last + 1).
    let next = a.rename(&cast.alice, "later", NOW).unwrap();
    let _ = next;
    assert!(a.clock() > LamportTime(far));
}

#[test]
fn chat_messages_from_the_future_or_malformed_are_not_delivered() {
    let cast = Cast::new();
    let mut a = cast.group();
    let mut b = a.clone();
    let (out, _) = b
        .send_message(&id(&cast.bob), ChatMessageDraft::text("hi"), NOW + 10 * MAX_CLOCK_SKEW_MS)
        .unwrap();
    let outcome = deliver(&mut a, &out, &cast.bob, NOW);
    assert_eq!(outcome.entity, Some(Err(ChatEntityError::FromTheFuture)));

    let (out, _) = b.send_message(&id(&cast.bob), ChatMessageDraft::text("hi"), NOW + 1).unwrap();
    let long = edit(&out.bytes, |m| {
        if let Some(wire::membership_update_message::ChatEntity::Message(c)) =
            m.chat_entity.as_mut()
        {
            c.text = "x".repeat(MAX_TEXT_CHARS + 1);
        }
    });
    let outcome = deliver_bytes(&mut a, &long, &cast.bob, NOW + 2);
    assert_eq!(
        outcome.entity,
        Some(Err(ChatEntityError::Decode(DecodeError::TooLong {
            field: "text",
            limit: MAX_TEXT_CHARS,
            actual: MAX_TEXT_CHARS + 1
        })))
    );
    // Sending such a message locally fails before anything is sent.
    let before = b.clone();
    assert_eq!(
        b.send_message(
            &id(&cast.bob),
            ChatMessageDraft::text("x".repeat(MAX_TEXT_CHARS + 1)),
            NOW + 3
        )
        .map(|_| ()),
        Err(ActionError::Invalid(DecodeError::TooLong {
            field: "text",
            limit: MAX_TEXT_CHARS,
            actual: MAX_TEXT_CHARS + 1
        }))
    );
    assert_eq!(b, before);
}

fn deliver_bytes(
    g: &mut Group,
    bytes: &[u8],
    sender: &IdentityKeyPair,
    now: u64,
) -> kaiwa_group::ReceiveOutcome {
    g.receive(decode(bytes), &id(sender), now).unwrap()
}

#[test]
fn strangers_and_incomplete_groups_are_not_accepted() {
    let cast = Cast::new();
    let (mut a, invite) =
        Group::create(&cast.alice, "g", "", &[id(&cast.bob)], &mut rng(3), NOW).unwrap();
    // Erin was never invited.
    assert_eq!(
        Group::from_first_message(decode(&invite.bytes), &id(&cast.alice), &id(&cast.erin), NOW)
            .map(|_| ()),
        Err(ReceiveError::NotInvited)
    );
    // A message without CHAT_CREATED cannot create the group.
    let renamed = a.rename(&cast.alice, "r", NOW + 1).unwrap();
    let without_creation = edit(&renamed.bytes, |m| {
        m.events.remove(0);
    });
    assert_eq!(
        Group::from_first_message(
            decode(&without_creation),
            &id(&cast.alice),
            &id(&cast.bob),
            NOW + 2
        )
        .map(|_| ()),
        Err(ReceiveError::NotCreated)
    );
    // A removed member still accepts the group (they were a member once): their client learns
    // of the removal.
    let removed = a.remove_member(&cast.alice, &id(&cast.bob), NOW + 3).unwrap();
    let (b, _) = Group::from_first_message(
        decode(&removed.bytes),
        &id(&cast.alice),
        &id(&cast.bob),
        NOW + 4,
    )
    .unwrap();
    assert!(!b.state().is_member(&id(&cast.bob)));
    // A CHAT_CREATED by someone other than the chat id's creator does not create it.
    let mallory = keypair(66);
    let group = GroupId::generate(&id(&cast.alice), &mut rng(4));
    let fake = VerifiedEvent::sign(
        &mallory,
        &group,
        LamportTime(NOW),
        &Event::ChatCreated { name: "fake".into(), color: String::new() },
    )
    .unwrap();
    let bytes = wire::MembershipUpdateMessage {
        chat_id: group.as_str().to_owned(),
        events: vec![fake.element().to_vec()],
        chat_entity: None,
    }
    .encode_to_vec();
    assert_eq!(
        Group::from_first_message(decode(&bytes), &id(&mallory), &id(&mallory), NOW).map(|_| ()),
        Err(ReceiveError::NotCreated)
    );
}

#[test]
fn oversize_fields_are_rejected_with_their_reason() {
    let cast = Cast::new();
    let mut g = cast.group();
    let before = g.clone();
    let long_name = "n".repeat(kaiwa_group::limits::MAX_NAME_BYTES + 1);
    assert!(matches!(
        g.rename(&cast.alice, &long_name, NOW + 1),
        Err(ActionError::Invalid(DecodeError::TooLong { field: "name", .. }))
    ));
    let big_image = vec![1u8; kaiwa_group::limits::MAX_IMAGE_BYTES + 1];
    assert!(matches!(
        g.change_image(&cast.alice, &big_image, NOW + 1),
        Err(ActionError::Invalid(DecodeError::TooLong { field: "image", .. }))
    ));
    assert!(matches!(
        g.change_color(&cast.alice, &"c".repeat(33), NOW + 1),
        Err(ActionError::Invalid(DecodeError::TooLong { field: "color", .. }))
    ));
    assert_eq!(g, before);

    // Images are limited so that the compacted log still fits a message: the second image
    // change supersedes the first in what is sent.
    let image = vec![2u8; kaiwa_group::limits::MAX_IMAGE_BYTES];
    g.change_image(&cast.alice, &image, NOW + 2).unwrap();
    let out = g.change_image(&cast.alice, &image[1..], NOW + 3).unwrap();
    assert!(out.bytes.len() < MAX_MESSAGE_BYTES);
    assert!(out.bytes.len() < 2 * image.len());

    // An oversized message is refused by the decoder, whatever it holds.
    let huge = wire::MembershipUpdateMessage {
        chat_id: g.id().as_str().to_owned(),
        events: vec![vec![0; MAX_MESSAGE_BYTES]],
        chat_entity: None,
    }
    .encode_to_vec();
    assert!(matches!(
        IncomingMessage::decode(&huge),
        Err(DecodeError::TooLong { field: "message", .. })
    ));
}

#[test]
fn local_action_that_cannot_be_sent_is_rolled_back() {
    // Fill the log with members added and removed until the compacted log no longer fits a
    // message; the failing action must leave the group exactly as it was.
    let cast = Cast::new();
    let (mut g, _) = Group::create(&cast.alice, "g", "", &[], &mut rng(9), NOW).unwrap();
    let image = vec![3u8; kaiwa_group::limits::MAX_IMAGE_BYTES];
    g.change_image(&cast.alice, &image, NOW + 1).unwrap();
    let mut t = NOW + 2;
    let mut last_ok = None;
    for i in 0..2_000u64 {
        let m = MemberId::new(keypair(10_000 + i % 90).public_key());
        let before = g.clone();
        t += 1;
        let result = if g.state().is_member(&m) {
            g.remove_member(&cast.alice, &m, t)
        } else {
            g.add_members(&cast.alice, &[m], t)
        };
        match result {
            Ok(_) => last_ok = Some(i),
            Err(ActionError::MessageTooLarge { limit, actual }) => {
                assert_eq!(limit, MAX_MESSAGE_BYTES);
                assert!(actual > limit);
                assert_eq!(g, before, "rolled back");
                assert!(last_ok.is_some());
                return;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    panic!("the log never outgrew a message");
}

#[test]
fn rejected_events_in_a_message_are_reported_and_kept() {
    let cast = Cast::new();
    let mut a = cast.group();
    // Carol (not an admin) renames: a peer stores the event but it does not apply.
    let event = VerifiedEvent::sign(
        &cast.carol,
        a.id(),
        LamportTime(a.clock().0 + 1),
        &Event::NameChanged { name: "carol's".into() },
    )
    .unwrap();
    let bytes = wire::MembershipUpdateMessage {
        chat_id: a.id().as_str().to_owned(),
        events: vec![event.element().to_vec()],
        chat_entity: None,
    }
    .encode_to_vec();
    let before_state = a.state().clone();
    let outcome = a.receive(decode(&bytes), &id(&cast.carol), NOW + 1).unwrap();
    assert_eq!(
        outcome.rejected,
        vec![RejectedEvent { id: event.id(), reason: RejectReason::NotAdmin }]
    );
    assert_eq!(a.state(), &before_state);
    assert!(a.log().contains(event.clock(), event.id()), "kept: later events may validate it");
    // And it is not forwarded: compacted logs carry accepted events only.
    let sync = a.sync_message(&id(&cast.alice)).unwrap();
    let sent = wire::MembershipUpdateMessage::decode(sync.bytes.as_slice()).unwrap();
    assert!(!sent.events.contains(&event.element().to_vec()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random bytes are a typed error, never a panic, and never change a group.
    #[test]
    fn random_bytes_never_panic_or_change_state(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(msg) = IncomingMessage::decode(&bytes) {
            let cast = Cast::new();
            let mut g = cast.group();
            let before = g.clone();
            if g.receive(msg, &id(&cast.alice), NOW).is_err() {
                prop_assert_eq!(g, before);
            }
        }
    }

    /// Flipping any byte of a valid group message yields an error or a message whose changed
    /// events are rejected as unauthenticated; the group never takes a forged event.
    #[test]
    fn tampering_any_byte_never_forges(index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let cast = Cast::new();
        let base = cast.group();
        let mut b = base.clone();
        let out = b.rename(&cast.bob, "tampered?", NOW + 50).unwrap();
        let mut bytes = out.bytes.clone();
        let i = index.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let mut a = base.clone();
        if let Ok(msg) = IncomingMessage::decode(&bytes) {
            match a.receive(msg, &id(&cast.bob), NOW + 51) {
                Ok(_) => prop_assert!(a.state().name() == "team" || a.state().name() == "tampered?"),
                Err(_) => prop_assert_eq!(a, base),
            }
        }
    }
}
