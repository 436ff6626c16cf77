//! History and contacts: paging in clock order, chat separation, statuses, bounds.

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_org::{ChannelId, OrgId};
use kaiwa_store::limits::{MAX_CONTACT_BUNDLE_BYTES, MAX_DISPLAY_NAME_BYTES, MAX_PAGE};
use kaiwa_store::{
    ChatId, ChatSummary, Contact, Direction, MessageId, MessageStatus, NewMessage, PublicId, Store,
    StoreError,
};

use super::common::{alice, at, bob, direct, received, rng};

#[test]
fn pages_walk_back_through_a_chat_in_clock_order() {
    let mut store = Store::open_in_memory().unwrap();
    let chat = direct(bob());
    let other = direct(alice());
    // Clocks arrive out of order, with ties; another chat is interleaved.
    let clocks = [5_u64, 3, 9, 3, 1, 7, 7, 2, 8, 6, 4, 10, 0, 7, 11, 12, 3, 14, 13, 15, 9, 16];
    let mut expected = Vec::new();
    for (i, clock) in clocks.iter().enumerate() {
        let payload = format!("m{i}");
        let id = store
            .insert_message(&received(&chat, *clock, payload.as_bytes()), at(i as u64))
            .unwrap();
        expected.push((*clock, id));
        store.insert_message(&received(&other, *clock, b"elsewhere"), at(0)).unwrap();
    }
    expected.sort();
    let mut walked = Vec::new();
    let mut before = None;
    loop {
        let page = store.history(&chat, before, 5).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 5);
        assert!(page.windows(2).all(|w| w[0].cursor() < w[1].cursor()), "oldest first");
        before = Some(page[0].cursor());
        walked.splice(0..0, page.iter().map(|m| (m.clock, m.id)));
        assert!(page.iter().all(|m| m.chat == chat));
    }
    assert_eq!(walked, expected);
    let latest = store.history(&chat, None, 3).unwrap();
    assert_eq!(latest.iter().map(|m| m.clock).collect::<Vec<_>>(), [14, 15, 16]);
}

#[test]
fn every_kind_of_chat_round_trips_and_is_listed() {
    let mut store = Store::open_in_memory().unwrap();
    let mut r = rng(50);
    let key = IdentityKeyPair::generate(&mut r).public_key();
    let group =
        ChatId::Group(kaiwa_group::GroupId::generate(&kaiwa_group::MemberId::new(key), &mut r));
    let channel =
        ChatId::Channel { org: OrgId::new(key), channel: ChannelId::new("general").unwrap() };
    let dm = direct(bob());
    let mut ids = Vec::new();
    for (chat, clock) in [(&group, 4), (&channel, 9), (&dm, 2), (&group, 6)] {
        let message = NewMessage::outgoing(chat, alice(), clock, at(clock), b"x");
        ids.push(store.insert_message(&message, at(100)).unwrap());
    }
    let stored = store.message(ids[1]).unwrap().unwrap();
    assert_eq!(stored.chat, channel);
    assert_eq!((stored.author, stored.clock, stored.timestamp), (alice(), 9, at(9)));
    assert_eq!(
        (stored.direction, stored.status, stored.stored_at),
        (Direction::Outbound, MessageStatus::Pending, at(100))
    );
    assert_eq!(
        store.chats().unwrap(),
        [
            ChatSummary { chat: channel.clone(), messages: 1, last_clock: 9 },
            ChatSummary { chat: group.clone(), messages: 2, last_clock: 6 },
            ChatSummary { chat: dm, messages: 1, last_clock: 2 },
        ]
    );
    assert_eq!(store.history(&group, None, 10).unwrap().len(), 2);
    assert_eq!(store.message(MessageId::from_raw(999)).unwrap(), None);
    // The last clock is the highest, not the last inserted, and per chat.
    assert_eq!(store.last_clock(&group).unwrap(), Some(6));
    assert_eq!(store.last_clock(&channel).unwrap(), Some(9));
    store
        .insert_message(&NewMessage::outgoing(&group, alice(), 5, at(5), b"late"), at(101))
        .unwrap();
    assert_eq!(store.last_clock(&group).unwrap(), Some(6));
    assert_eq!(store.last_clock(&direct(alice())).unwrap(), None);
}

#[test]
fn statuses_follow_directions() {
    let mut store = Store::open_in_memory().unwrap();
    let chat = direct(bob());
    let inbound = store.insert_message(&received(&chat, 1, b"in"), at(1)).unwrap();
    let outbound = store
        .insert_message(&NewMessage::outgoing(&chat, alice(), 2, at(2), b"out"), at(2))
        .unwrap();
    assert!(store.set_message_status(outbound, MessageStatus::Sent).unwrap());
    assert_eq!(store.message(outbound).unwrap().unwrap().status, MessageStatus::Sent);
    assert_eq!(
        store.set_message_status(inbound, MessageStatus::Sent).unwrap_err(),
        StoreError::StatusMismatch
    );
    assert_eq!(
        store.set_message_status(outbound, MessageStatus::Received).unwrap_err(),
        StoreError::StatusMismatch
    );
    assert!(!store.set_message_status(MessageId::from_raw(77), MessageStatus::Sent).unwrap());
    let mut wrong = NewMessage::outgoing(&chat, alice(), 3, at(3), b"x");
    wrong.direction = Direction::Inbound;
    assert_eq!(store.insert_message(&wrong, at(3)).unwrap_err(), StoreError::StatusMismatch);
    let huge = received(&chat, 1 << 63, b"x");
    assert_eq!(
        store.insert_message(&huge, at(3)).unwrap_err(),
        StoreError::OutOfRange { field: "clock" }
    );
    assert_eq!(store.history(&chat, None, 10).unwrap().len(), 2);
}

fn contact(id: PublicId, name: &str, added: u64) -> Contact {
    Contact {
        id,
        display_name: name.to_owned(),
        verified: false,
        bundle: None,
        added_at: at(added),
    }
}

#[test]
fn contacts_are_stored_replaced_listed_and_removed() {
    let mut store = Store::open_in_memory().unwrap();
    let carol = PublicId::new([0xca; 32]);
    store.upsert_contact(&contact(bob(), "Bob", 2)).unwrap();
    store.upsert_contact(&contact(carol, "Carol", 1)).unwrap();
    assert_eq!(store.contacts().unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), [carol, bob()]);
    let verified = Contact {
        verified: true,
        bundle: Some(vec![0xbb; MAX_CONTACT_BUNDLE_BYTES]),
        ..contact(bob(), "Bobby", 2)
    };
    store.upsert_contact(&verified).unwrap();
    assert_eq!(store.contact(&bob()).unwrap().unwrap(), verified);
    let debug = format!("{verified:?}");
    assert!(debug.contains(&format!("bundle_len: Some({MAX_CONTACT_BUNDLE_BYTES})")), "{debug}");
    assert!(!debug.contains("187"), "no bundle bytes in {debug}");
    assert!(store.is_contact(&carol).unwrap());
    assert!(store.remove_contact(&carol).unwrap());
    assert!(!store.remove_contact(&carol).unwrap());
    assert!(!store.is_contact(&carol).unwrap());
    assert!(store.is_contact(&bob()).unwrap());
    assert_eq!(store.contacts().unwrap(), std::slice::from_ref(&verified));

    let long_name = contact(carol, &"n".repeat(MAX_DISPLAY_NAME_BYTES + 1), 3);
    assert!(matches!(
        store.upsert_contact(&long_name),
        Err(StoreError::TooLong { field: "display_name", .. })
    ));
    let big =
        Contact { bundle: Some(vec![0; MAX_CONTACT_BUNDLE_BYTES + 1]), ..contact(carol, "c", 3) };
    assert!(matches!(store.upsert_contact(&big), Err(StoreError::TooLong { field: "bundle", .. })));
    assert_eq!(store.contacts().unwrap(), [verified]);
}

#[test]
fn a_page_never_exceeds_the_bound() {
    let mut store = Store::open_in_memory().unwrap();
    let chat = direct(bob());
    let mut tx = store.begin().unwrap();
    for clock in 0..(MAX_PAGE as u64 + 5) {
        tx.insert_message(&received(&chat, clock, b"x"), at(clock)).unwrap();
    }
    tx.commit().unwrap();
    let page = store.history(&chat, None, usize::MAX).unwrap();
    assert_eq!(page.len(), MAX_PAGE);
    assert_eq!(page.last().unwrap().clock, MAX_PAGE as u64 + 4, "the latest messages");
    assert_eq!(store.history(&chat, Some(page[0].cursor()), usize::MAX).unwrap().len(), 5);
}
