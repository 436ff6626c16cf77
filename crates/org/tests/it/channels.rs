//! Channel messages: delivery, order, replays, gaps, history, modes, private channels.

use kaiwa_org::{
    Access, Actor, Channel, ChannelId, DecryptError, EncryptError, Epoch, GroupId, JoinRequest,
    LamportTime, Organization, OrganizationView, RequestOutcome, limits,
};
use rand_chacha::ChaCha20Rng;

use super::common::{NOW, Person, create, deliver, follow, rng};

/// An encrypted organization with a `general` channel and members founder, bob, carol, each
/// with a view that holds the current epoch.
pub(crate) struct Club {
    pub(crate) org: Organization,
    pub(crate) people: Vec<Person>,
    pub(crate) views: Vec<OrganizationView>,
    pub(crate) general: ChannelId,
    pub(crate) r: ChaCha20Rng,
}

impl Club {
    pub(crate) fn new(seed: u64, encrypted: bool) -> Self {
        let mut r = rng(seed);
        let founder = Person::new(&mut r);
        let (mut org, created) = create(&founder, Access::NoMembership, encrypted, &mut r);
        let general = ChannelId::new("general").unwrap();
        org.create_channel(
            &Actor::Owner,
            &general,
            Channel::open("general", Access::NoMembership),
            NOW,
            &mut r,
        )
        .unwrap();
        let mut founder_view = founder.view(org.id());
        deliver(&mut founder_view, &created, &founder.dh);
        let mut club = Self { org, people: vec![founder], views: vec![founder_view], general, r };
        club.join();
        club.join();
        club
    }

    /// A new member joins; every view gets the update.
    pub(crate) fn join(&mut self) -> usize {
        let p = Person::new(&mut self.r);
        let view = follow(&self.org, &p);
        let request = view
            .join_request(&p.id, &p.dh.public_key(), &JoinRequest::new(LamportTime(1)), &mut self.r)
            .unwrap();
        let RequestOutcome::Accepted(admission) =
            self.org.handle_request(&request, NOW, &mut self.r).unwrap()
        else {
            panic!("accepted")
        };
        self.people.push(p);
        self.views.push(view);
        self.broadcast(&admission.update);
        self.people.len() - 1
    }

    pub(crate) fn broadcast(&mut self, update: &kaiwa_org::Update) {
        for (view, p) in self.views.iter_mut().zip(&self.people) {
            deliver(view, update, &p.dh);
        }
    }

    pub(crate) fn send(&mut self, from: usize, text: &[u8]) -> Vec<u8> {
        let general = self.general.clone();
        self.views[from].encrypt(&general, &self.people[from].id, text, &mut self.r).unwrap()
    }
}

#[test]
fn members_exchange_messages_and_replays_are_refused() {
    let mut club = Club::new(1, true);
    let m = club.send(1, b"hello");
    let got = club.views[2].decrypt(&m).unwrap();
    assert_eq!(got.plaintext.as_slice(), b"hello");
    assert_eq!(got.sender, club.people[1].member);
    assert_eq!(got.channel, club.general);
    assert_eq!(got.index, 1);
    assert_eq!(got.epoch, Some(Epoch(3)), "create, join, join: three epochs");
    assert_eq!(club.views[2].decrypt(&m).err(), Some(DecryptError::KeyUnavailable));
    // The sender can read its own message from history, not through its live chains.
    assert_eq!(club.views[1].decrypt_history(&m).unwrap().plaintext.as_slice(), b"hello");
}

#[test]
fn out_of_order_and_dropped_messages_within_the_window() {
    let mut club = Club::new(2, true);
    let messages: Vec<Vec<u8>> = (0..10u8).map(|i| club.send(1, &[i])).collect();
    // Deliver 9, 3, 0, 5 (dropping the rest): all decrypt; replays fail.
    for i in [9usize, 3, 0, 5] {
        let got = club.views[0].decrypt(&messages[i]).unwrap();
        assert_eq!(got.plaintext.as_slice(), &[u8::try_from(i).unwrap()]);
    }
    for i in [9usize, 3] {
        assert_eq!(club.views[0].decrypt(&messages[i]).err(), Some(DecryptError::KeyUnavailable));
    }
}

#[test]
fn a_large_gap_is_caught_up_and_older_messages_come_from_history() {
    let mut club = Club::new(3, true);
    let first = club.send(1, b"first");
    let general = club.general.clone();
    let advance = |club: &mut Club, index: u32| {
        let Club { views, people, .. } = club;
        views[1].advance_sending_chain_for_testing_only(&general, &people[1].id, index).unwrap();
    };
    advance(&mut club, 100_001);
    let far = club.send(1, b"far");
    let got = club.views[2].decrypt(&far).unwrap();
    assert_eq!(got.index, 100_001);
    // Index 1 was skipped far beyond the cache window: not in the live state, but the epoch key
    // still derives it for history.
    assert_eq!(club.views[2].decrypt(&first).err(), Some(DecryptError::KeyUnavailable));
    assert_eq!(club.views[2].decrypt_history(&first).unwrap().plaintext.as_slice(), b"first");
    // Keys just below the jump are cached.
    let window = limits::MAX_SKIPPED_KEYS_PER_JUMP;
    advance(&mut club, 200_000);
    let before = club.send(1, b"before");
    advance(&mut club, 200_000 + window);
    let after = club.send(1, b"after");
    club.views[2].decrypt(&after).unwrap();
    assert_eq!(club.views[2].decrypt(&before).unwrap().plaintext.as_slice(), b"before");
}

#[test]
fn the_last_index_of_a_chain_is_read_once_and_the_chain_then_ends() {
    let mut club = Club::new(11, true);
    let general = club.general.clone();
    {
        let Club { views, people, .. } = &mut club;
        views[1]
            .advance_sending_chain_for_testing_only(&general, &people[1].id, u32::MAX - 1)
            .unwrap();
    }
    let second_last = club.send(1, b"second last");
    let last = club.send(1, b"last");
    assert_eq!(
        club.views[1].encrypt(&general, &club.people[1].id, b"more", &mut club.r).err(),
        Some(EncryptError::ChainExhausted)
    );
    // A jump to the second-last index, then the last one in order (stepped in place: the chain
    // ends there).
    assert_eq!(club.views[2].decrypt(&second_last).unwrap().index, u32::MAX - 1);
    let got = club.views[2].decrypt(&last).unwrap();
    assert_eq!((got.index, got.plaintext.as_slice()), (u32::MAX, &b"last"[..]));
    for replay in [&second_last, &last] {
        assert_eq!(club.views[2].decrypt(replay).err(), Some(DecryptError::KeyUnavailable));
    }
    // The same two messages in the other order: the last one moves a copy of the chain, the
    // second-last one comes from the skipped keys.
    assert_eq!(club.views[0].decrypt(&last).unwrap().index, u32::MAX);
    assert_eq!(club.views[0].decrypt(&second_last).unwrap().index, u32::MAX - 1);
    assert_eq!(club.views[0].decrypt(&last).err(), Some(DecryptError::KeyUnavailable));
}

#[test]
fn failed_decryption_leaves_the_view_unchanged() {
    let mut club = Club::new(4, true);
    let m = club.send(1, b"payload");
    let before = club.views[2].to_record();
    let mut tampered = m.clone();
    let n = tampered.len();
    tampered[n - 70] ^= 0x01; // inside the ciphertext or signature
    assert!(club.views[2].decrypt(&tampered).is_err());
    assert_eq!(club.views[2].to_record().expose_secret(), before.expose_secret());
    assert!(club.views[2].decrypt(&m).is_ok());
}

#[test]
fn messages_before_the_key_arrives_name_the_unknown_epoch() {
    let mut club = Club::new(5, true);
    let update = club.org.rekey_all(NOW + 1, &mut club.r).unwrap();
    // Only the sender installs the new epoch.
    super::common::deliver_rekeys(&mut club.views[1], &update, &club.people[1].dh);
    let m = club.send(1, b"new epoch");
    assert_eq!(club.views[2].decrypt(&m).err(), Some(DecryptError::UnknownEpoch { epoch: 4 }));
    super::common::deliver_rekeys(&mut club.views[2], &update, &club.people[2].dh);
    assert!(club.views[2].decrypt(&m).is_ok());
}

#[test]
fn the_history_window_is_bounded() {
    let mut club = Club::new(6, true);
    let old = club.send(1, b"old");
    for i in 0..=limits::MAX_PAST_EPOCHS as u64 {
        let update = club.org.rekey_all(NOW + 10 + i, &mut club.r).unwrap();
        club.broadcast(&update);
    }
    let group = club.org.id().group();
    assert_eq!(club.views[2].epochs(&group).len(), limits::MAX_PAST_EPOCHS + 1);
    assert_eq!(
        club.views[2].decrypt_history(&old).err(),
        Some(DecryptError::UnknownEpoch { epoch: 3 })
    );
}

#[test]
fn public_organizations_sign_without_encrypting_and_modes_cannot_be_mixed() {
    let mut club = Club::new(7, false);
    let m = club.send(1, b"public");
    // Anyone following the description reads it, member or not.
    let mut r = rng(70);
    let stranger = Person::new(&mut r);
    let mut follower = follow(&club.org, &stranger);
    let got = follower.decrypt(&m).unwrap();
    assert_eq!(got.plaintext.as_slice(), b"public");
    assert_eq!(got.epoch, None);
    // A stranger cannot post.
    let general = club.general.clone();
    assert_eq!(
        follower.encrypt(&general, &stranger.id, b"spam", &mut r).err(),
        Some(EncryptError::NotMember)
    );
    // Once the organization turns encryption on, plaintext is refused.
    let update = club.org.set_encrypted(&Actor::Owner, true, NOW + 1, &mut club.r).unwrap();
    club.broadcast(&update);
    assert_eq!(club.views[2].decrypt(&m).err(), Some(DecryptError::WrongMode));
    let sealed = club.send(1, b"secret");
    assert_eq!(club.views[2].decrypt(&sealed).unwrap().plaintext.as_slice(), b"secret");
}

#[test]
fn private_channels_have_their_own_members_and_epochs() {
    let mut club = Club::new(8, true);
    let secret = ChannelId::new("secret").unwrap();
    let members = [club.people[0].member, club.people[1].member];
    let update = club
        .org
        .create_channel(
            &Actor::Owner,
            &secret,
            Channel::private("secret", Access::InvitationOnly, members),
            NOW + 1,
            &mut club.r,
        )
        .unwrap();
    assert_eq!(update.rekeys.len(), 1, "one re-key, for the new channel group");
    club.broadcast(&update);
    let group = club.views[0].channel_key_group(&secret).unwrap();
    assert_eq!(club.views[1].epochs(&group), vec![Epoch(1)]);
    assert!(club.views[2].epochs(&group).is_empty(), "not a channel member: no key");

    let m = club.views[1].encrypt(&secret, &club.people[1].id, b"psst", &mut club.r).unwrap();
    assert_eq!(club.views[0].decrypt(&m).unwrap().plaintext.as_slice(), b"psst");
    assert_eq!(club.views[2].decrypt(&m).err(), Some(DecryptError::UnknownEpoch { epoch: 1 }));
    assert_eq!(
        club.views[2].encrypt(&secret, &club.people[2].id, b"let me in", &mut club.r).err(),
        Some(EncryptError::NotMember)
    );
    // Removing the last members never opens the channel: it stays private.
    let mut emptied = club.org.description().channels()[&secret].clone();
    emptied.members.clear();
    let update =
        club.org.edit_channel(&Actor::Owner, &secret, emptied, NOW + 2, &mut club.r).unwrap();
    club.broadcast(&update);
    assert_eq!(
        club.views[2].encrypt(&secret, &club.people[2].id, b"now?", &mut club.r).err(),
        Some(EncryptError::NotMember)
    );
}

#[test]
fn channel_groups_cached_by_the_view_follow_the_description() {
    let mut club = Club::new(12, true);
    let org = club.org.id();
    let secret = ChannelId::new("secret").unwrap();
    assert_eq!(club.views[1].channel_key_group(&club.general), Some(org.group()));
    assert_eq!(club.views[1].channel_key_group(&secret), None);
    let members = [club.people[1].member, club.people[2].member];
    let update = club
        .org
        .create_channel(
            &Actor::Owner,
            &secret,
            Channel::private("secret", Access::InvitationOnly, members),
            NOW + 1,
            &mut club.r,
        )
        .unwrap();
    club.broadcast(&update);
    assert_eq!(club.views[1].channel_key_group(&secret), Some(GroupId::channel(&org, &secret)));
    // A restored view derives the same groups and reads and writes the channel.
    let mut restored = OrganizationView::from_record(&club.views[1].to_record()).unwrap();
    assert_eq!(restored.channel_key_group(&secret), Some(GroupId::channel(&org, &secret)));
    let m = restored.encrypt(&secret, &club.people[1].id, b"after restore", &mut club.r).unwrap();
    assert_eq!(club.views[2].decrypt(&m).unwrap().plaintext.as_slice(), b"after restore");
    // Deleting the channel removes it from the cache: unknown to encrypt and decrypt.
    let update = club.org.delete_channel(&Actor::Owner, &secret, NOW + 2, &mut club.r).unwrap();
    club.broadcast(&update);
    assert_eq!(club.views[1].channel_key_group(&secret), None);
    assert_eq!(
        club.views[1].encrypt(&secret, &club.people[1].id, b"x", &mut club.r).err(),
        Some(EncryptError::UnknownChannel)
    );
    let late = restored.encrypt(&secret, &club.people[1].id, b"late", &mut club.r).unwrap();
    assert_eq!(club.views[2].decrypt(&late).err(), Some(DecryptError::UnknownGroup));
}

#[test]
fn unknown_channels_and_oversized_messages() {
    let mut club = Club::new(9, true);
    let nope = ChannelId::new("nope").unwrap();
    assert_eq!(
        club.views[1].encrypt(&nope, &club.people[1].id, b"x", &mut club.r).err(),
        Some(EncryptError::UnknownChannel)
    );
    let big = vec![0u8; limits::MAX_CHANNEL_PLAINTEXT_BYTES + 1];
    let general = club.general.clone();
    assert!(matches!(
        club.views[1].encrypt(&general, &club.people[1].id, &big, &mut club.r),
        Err(EncryptError::TooLong { .. })
    ));
    // A message of a deleted channel names an unknown group.
    let m = club.send(1, b"bye");
    let update = club.org.delete_channel(&Actor::Owner, &general, NOW + 1, &mut club.r).unwrap();
    club.broadcast(&update);
    assert_eq!(club.views[2].decrypt(&m).err(), Some(DecryptError::UnknownGroup));
}
