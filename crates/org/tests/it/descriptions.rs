//! Description verification, clock rules, convergence and segmentation.

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair};
use kaiwa_org::{
    Access, Actor, DecodeError, DescriptionError, DescriptionOutcome, MemberId, MemberKeys,
    Organization, OrganizationView, SegmentOutcome, limits,
};
use kaiwa_wire::net::ApplicationMetadataMessage;
use kaiwa_wire::net::application_metadata_message::Type;
use proptest::prelude::*;
use prost::Message as _;

use super::common::{NOW, Person, create, rng};

/// A sequence of descriptions of one organization, with increasing clocks.
fn history(seed: u64, n: usize) -> (Organization, Vec<Vec<u8>>) {
    let mut r = rng(seed);
    let founder = Person::new(&mut r);
    let (mut org, first) = create(&founder, Access::NoMembership, false, &mut r);
    let mut out = vec![first.description[0].clone()];
    for i in 0..n {
        let tags = vec![format!("t{i}")];
        let update = org.set_tags(&Actor::Owner, tags, NOW + 1 + i as u64, &mut r).unwrap();
        out.push(update.description[0].clone());
    }
    (org, out)
}

#[test]
fn only_the_org_key_signs_descriptions() {
    let (org, descriptions) = history(1, 1);
    let mut view =
        OrganizationView::new(org.id(), MemberId::from_key(&org.id().public_key().clone()));
    // Re-sign the genuine payload with another key but keep the org id as author.
    let genuine = ApplicationMetadataMessage::decode(descriptions[1].as_slice()).unwrap();
    let impostor = IdentityKeyPair::generate(&mut rng(99));
    let mut forged = genuine.clone();
    let sig = impostor.sign_parts(
        &kaiwa_org::DESCRIPTION_CONTEXT,
        &[&(Type::OrganizationDescription as i32).to_be_bytes(), &genuine.payload],
    );
    forged.signature = sig.as_bytes().to_vec();
    assert_eq!(
        view.apply_description(&forged.encode_to_vec()),
        Err(DescriptionError::Unauthenticated)
    );
    // The impostor as author: not the org.
    forged.author = impostor.public_key().as_bytes().to_vec();
    assert_eq!(
        view.apply_description(&forged.encode_to_vec()),
        Err(DescriptionError::Unauthenticated)
    );
    // A flipped payload bit.
    let mut tampered = genuine.clone();
    let last = tampered.payload.len() - 1;
    tampered.payload[last] ^= 1;
    assert!(view.apply_description(&tampered.encode_to_vec()).is_err());
    // Another organization's genuine description.
    let (other, other_descriptions) = history(2, 0);
    assert_ne!(other.id(), org.id());
    assert_eq!(
        view.apply_description(&other_descriptions[0]),
        Err(DescriptionError::Unauthenticated)
    );
    assert!(view.description().is_none(), "nothing was applied");
    assert!(matches!(
        view.apply_description(&descriptions[1]),
        Ok(DescriptionOutcome::Applied { .. })
    ));
}

#[test]
fn clock_rules_higher_wins_equal_must_be_identical() {
    let (org, descriptions) = history(3, 2);
    let mut view = OrganizationView::new(org.id(), MemberId::from_key(org.id().public_key()));
    view.apply_description(&descriptions[1]).unwrap();
    let stored = view.description().unwrap().clock().0;
    assert_eq!(
        view.apply_description(&descriptions[0]),
        Err(DescriptionError::Stale { stored, received: stored - 1 })
    );
    assert_eq!(view.apply_description(&descriptions[1]), Ok(DescriptionOutcome::Unchanged));
    view.apply_description(&descriptions[2]).unwrap();
    let clock = view.description().unwrap().clock().0;

    // The same owner state, branched (same seed, same history), signs other content at the
    // same clock: genuinely signed, but a conflict, so it is ignored.
    let (mut branch, h) = history(3, 1);
    assert_eq!(h[1], descriptions[1], "same seed, same history");
    let update = branch.set_tags(&Actor::Owner, vec!["other".into()], 0, &mut rng(5)).unwrap();
    let conflicting = &update.description[0];
    assert_eq!(
        kaiwa_org::SignedDescription::verify(&org.id(), conflicting)
            .unwrap()
            .description()
            .clock()
            .0,
        clock
    );
    assert_eq!(
        view.apply_description(conflicting),
        Err(DescriptionError::ConflictingClock { clock })
    );
    assert_eq!(view.signed_description().unwrap().bytes(), descriptions[2].as_slice());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any delivery order of descriptions (with duplicates and forgeries mixed in) converges on
    /// the one with the highest valid clock.
    #[test]
    fn any_delivery_order_converges_on_the_highest_clock(
        order in Just((0..6usize).collect::<Vec<_>>()).prop_shuffle(),
        duplicates in prop::collection::vec(0..6usize, 0..4),
        forge_at in 0..6usize,
    ) {
        let (org, descriptions) = history(7, 5);
        let mut forged = ApplicationMetadataMessage::decode(descriptions[forge_at].as_slice()).unwrap();
        forged.payload.push(0);
        let forged = forged.encode_to_vec();
        let mut view = OrganizationView::new(org.id(), MemberId::from_key(org.id().public_key()));
        let mut deliveries: Vec<&[u8]> = order.iter().map(|i| descriptions[*i].as_slice()).collect();
        for d in &duplicates {
            deliveries.insert(*d % (deliveries.len() + 1), descriptions[*d].as_slice());
        }
        deliveries.insert(forge_at % deliveries.len(), forged.as_slice());
        for bytes in deliveries {
            let _ = view.apply_description(bytes);
        }
        prop_assert_eq!(view.signed_description().unwrap().bytes(), descriptions[5].as_slice());
        prop_assert_eq!(view.description().unwrap(), org.description());
    }
}

#[test]
fn ten_thousand_members_round_trip_through_segments() {
    let mut r = rng(10);
    let founder = Person::new(&mut r);
    let (mut org, _) = create(&founder, Access::OnRequest, false, &mut r);
    let members: Vec<MemberKeys> = (0..10_000)
        .map(|_| MemberKeys {
            id: MemberId::from_key(&IdentityKeyPair::generate(&mut r).public_key()),
            dh_key: DhKeyPair::generate(&mut r).public_key(),
        })
        .collect();
    let update = org.add_members(&Actor::Owner, &members, NOW, &mut r).unwrap();
    assert!(update.rekeys.is_empty(), "public organization: no epochs");
    let whole = org.signed_description().bytes().len();
    assert!(whole > limits::MAX_SIGNED_MESSAGE_BYTES, "{whole} bytes must need segments");
    assert!(update.description.len() > 1);
    assert!(update.description.iter().all(|s| s.len() <= limits::MAX_SIGNED_MESSAGE_BYTES));

    let mut view = OrganizationView::new(org.id(), founder.member);
    // Out of order, with a duplicate: still reassembles.
    let mut segments: Vec<&Vec<u8>> = update.description.iter().rev().collect();
    segments.insert(1, update.description.last().unwrap());
    let mut outcome = None;
    for s in segments {
        outcome = Some(view.apply_segment(s).unwrap());
    }
    assert!(matches!(outcome, Some(SegmentOutcome::Complete(DescriptionOutcome::Applied { .. }))));
    assert_eq!(view.description().unwrap(), org.description());
    assert_eq!(view.description().unwrap().members().len(), 10_001);
    // Replaying a segment of the applied description is stale.
    assert!(matches!(
        view.apply_segment(&update.description[0]),
        Err(DescriptionError::Stale { .. })
    ));
}

#[test]
fn segment_refusals_leave_nothing_buffered() {
    let mut r = rng(11);
    let founder = Person::new(&mut r);
    let (mut org, _) = create(&founder, Access::OnRequest, false, &mut r);
    let members: Vec<MemberKeys> = (0..2_000)
        .map(|_| MemberKeys {
            id: MemberId::from_key(&IdentityKeyPair::generate(&mut r).public_key()),
            dh_key: DhKeyPair::generate(&mut r).public_key(),
        })
        .collect();
    let update = org.add_members(&Actor::Owner, &members, NOW, &mut r).unwrap();
    assert!(update.description.len() >= 2);

    let mut view = OrganizationView::new(org.id(), founder.member);
    // A segment re-signed by another key is refused.
    let mut forged = ApplicationMetadataMessage::decode(update.description[0].as_slice()).unwrap();
    let impostor = IdentityKeyPair::generate(&mut r);
    forged.signature = impostor
        .sign_parts(
            &kaiwa_org::SEGMENT_CONTEXT,
            &[&(Type::OrganizationDescriptionSegment as i32).to_be_bytes(), &forged.payload],
        )
        .as_bytes()
        .to_vec();
    assert_eq!(view.apply_segment(&forged.encode_to_vec()), Err(DescriptionError::Unauthenticated));
    // A description is not a segment.
    let (_, small) = history(12, 0);
    assert_eq!(
        view.apply_segment(&small[0]),
        Err(DescriptionError::Decode(DecodeError::UnexpectedType {
            got: Type::OrganizationDescription as i32
        }))
    );
    for s in &update.description {
        view.apply_segment(s).unwrap();
    }
    assert_eq!(view.description().unwrap(), org.description());
}
