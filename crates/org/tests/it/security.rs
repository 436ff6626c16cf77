//! Security properties: removed members, new members, forgery, tampering.

use kaiwa_org::{Actor, DecryptError, Epoch, LamportTime, RekeyOutcome, RequestOutcome};
use kaiwa_wire::net::ChannelMessage;
use proptest::prelude::*;
use prost::Message as _;

use super::channels::Club;
use super::common::{NOW, deliver};

#[test]
fn kicked_left_and_banned_members_cannot_decrypt_the_next_epoch() {
    for how in ["kick", "leave", "ban"] {
        let mut club = Club::new(20, true);
        let removed = 2;
        let member = club.people[removed].member;
        let update = match how {
            "kick" => club.org.kick(&Actor::Owner, &member, NOW + 1, &mut club.r).unwrap().update,
            "ban" => club.org.ban(&Actor::Owner, &member, NOW + 1, &mut club.r).unwrap(),
            _ => {
                let leave = club.views[removed]
                    .leave_request(&club.people[removed].id, LamportTime(9), &mut club.r)
                    .unwrap();
                let RequestOutcome::Left { update, .. } =
                    club.org.handle_request(&leave, NOW + 1, &mut club.r).unwrap()
                else {
                    panic!("left")
                };
                update
            }
        };
        // The removed member sees the re-key but finds no entry for itself.
        for part in &update.rekeys {
            assert_eq!(
                club.views[removed].apply_rekey(part, &club.people[removed].dh),
                Ok(RekeyOutcome::NotForUs),
                "{how}"
            );
        }
        for i in 0..removed {
            deliver(&mut club.views[i], &update, &club.people[i].dh);
        }
        let m = club.send(1, b"after removal");
        assert_eq!(
            club.views[removed].decrypt(&m).err(),
            Some(DecryptError::UnknownEpoch { epoch: 4 }),
            "{how}"
        );
        assert_eq!(
            club.views[removed].decrypt_history(&m).err(),
            Some(DecryptError::UnknownEpoch { epoch: 4 })
        );
        assert!(club.views[0].decrypt(&m).is_ok());
        // And what the removed member still sends is refused by the others.
        club.views[removed].apply_description(&update.description[0]).unwrap();
        let old_epoch_message = {
            let general = club.general.clone();
            // It still holds epoch 3, which is no longer current for anyone, and is no member.
            club.views[removed].encrypt(
                &general,
                &club.people[removed].id,
                b"still here",
                &mut club.r,
            )
        };
        assert!(old_epoch_message.is_err(), "{how}: a non-member cannot even encrypt");
        assert_eq!(club.views[0].decrypt(&m).err(), Some(DecryptError::KeyUnavailable), "replay");
    }
}

#[test]
fn a_removed_members_old_epoch_messages_are_refused_after_removal() {
    let mut club = Club::new(21, true);
    // Mallory (member 2) prepares a message in epoch 3, then gets banned.
    let prepared = club.send(2, b"prepared");
    let member = club.people[2].member;
    let update = club.org.ban(&Actor::Owner, &member, NOW + 1, &mut club.r).unwrap();
    deliver(&mut club.views[0], &update, &club.people[0].dh);
    assert_eq!(club.views[0].decrypt(&prepared).err(), Some(DecryptError::Banned));
    assert_eq!(club.views[0].decrypt_history(&prepared).err(), Some(DecryptError::Banned));
    let kicked = club.people[1].member;
    let m1 = club.send(1, b"m1");
    let update = club.org.kick(&Actor::Owner, &kicked, NOW + 2, &mut club.r).unwrap().update;
    deliver(&mut club.views[0], &update, &club.people[0].dh);
    assert_eq!(club.views[0].decrypt(&m1).err(), Some(DecryptError::NotMember));
}

#[test]
fn a_new_member_cannot_decrypt_epochs_before_it_joined() {
    let mut club = Club::new(22, true);
    let before = club.send(1, b"before you came");
    let newcomer = club.join();
    let group = club.org.id().group();
    assert_eq!(club.views[newcomer].epochs(&group), vec![Epoch(4)]);
    assert_eq!(
        club.views[newcomer].decrypt(&before).err(),
        Some(DecryptError::UnknownEpoch { epoch: 3 })
    );
    assert_eq!(
        club.views[newcomer].decrypt_history(&before).err(),
        Some(DecryptError::UnknownEpoch { epoch: 3 })
    );
    // Keys re-sent on request are of the current epoch only.
    let member = club.people[newcomer].member;
    let resent = club.org.resend_keys(&member, NOW, &mut club.r).unwrap();
    for part in &resent {
        assert_eq!(
            club.views[newcomer].apply_rekey(part, &club.people[newcomer].dh),
            Ok(RekeyOutcome::AlreadyKnown)
        );
    }
    let after = club.send(1, b"welcome");
    assert!(club.views[newcomer].decrypt(&after).is_ok());
}

#[test]
fn a_member_cannot_forge_another_members_message() {
    let mut club = Club::new(23, true);
    let alice = club.people[1].member;
    // Mallory (2) holds the epoch key, so she can derive Alice's chain, but cannot sign as Alice.
    let mallory_message = club.send(2, b"I am alice");
    let mut msg = ChannelMessage::decode(mallory_message.as_slice()).unwrap();
    msg.header.as_mut().unwrap().sender = alice.as_bytes().to_vec();
    assert_eq!(
        club.views[0].decrypt(&msg.encode_to_vec()).err(),
        Some(DecryptError::Unauthenticated)
    );
    // Nor can she take Alice's message and claim it with her own signature: the AEAD binds the
    // sender (AD) and the chain is Alice's.
    let alice_message = club.send(1, b"from alice");
    let mut msg = ChannelMessage::decode(alice_message.as_slice()).unwrap();
    msg.header.as_mut().unwrap().sender = club.people[2].member.as_bytes().to_vec();
    assert_eq!(
        club.views[0].decrypt(&msg.encode_to_vec()).err(),
        Some(DecryptError::Unauthenticated)
    );
    assert!(club.views[0].decrypt(&alice_message).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Flipping any byte of a channel message makes it fail, and the view stays as it was.
    #[test]
    fn tampering_any_byte_fails_and_changes_nothing(position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut club = Club::new(24, true);
        let m = club.send(1, b"integrity");
        let before = club.views[2].to_record();
        let mut tampered = m.clone();
        let i = position.index(tampered.len());
        tampered[i] ^= 1 << bit;
        if let Ok(got) = club.views[2].decrypt(&tampered) {
            // Only an edit that protobuf decodes to the same fields can succeed.
            prop_assert_eq!(got.plaintext.as_slice(), b"integrity");
        } else {
            let after = club.views[2].to_record();
            prop_assert_eq!(after.expose_secret(), before.expose_secret());
            prop_assert!(club.views[2].decrypt(&m).is_ok());
        }
    }
}
