//! Random bytes into every decoder: `Ok` or `Err`, never a panic, and no state change.

use kaiwa_org::{
    Invitation, MemberId, Organization, OrganizationRecord, OrganizationView,
    OrganizationViewRecord, SignedDescription, SignedGrant,
};
use proptest::prelude::*;

use super::channels::Club;
use super::common::NOW;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..600)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(data in bytes()) {
        let mut club = Club::new(30, true);
        let org = club.org.id();
        let me = club.people[1].member;
        let before = club.views[1].to_record();
        let view = &mut club.views[1];
        let _ = view.apply_description(&data);
        let _ = view.apply_segment(&data);
        let _ = view.apply_rekey(&data, &club.people[1].dh);
        let _ = view.decrypt(&data);
        let _ = view.decrypt_history(&data);
        let _ = view.open_response(&data, &club.people[1].dh, NOW);
        let _ = view.verify_kick_notice(&data);
        let after = view.to_record();
        prop_assert_eq!(after.expose_secret(), before.expose_secret());
        let _ = SignedDescription::verify(&org, &data);
        let _ = SignedGrant::verify(&data, &org, &me, NOW);
        let _ = Invitation::verify(&data, &me, NOW);
        let _ = Organization::from_record(&OrganizationRecord::from_bytes(data.clone()));
        let _ = OrganizationView::from_record(&OrganizationViewRecord::from_bytes(data.clone()));
        let clock = club.org.description().clock();
        let _ = club.org.handle_request(&data, NOW, &mut club.r);
        prop_assert_eq!(club.org.description().clock(), clock);
        let _ = MemberId::from_text("m", &String::from_utf8_lossy(&data));
    }

    /// Valid messages with one byte changed: the structured decoders get past protobuf parsing.
    #[test]
    fn mutated_valid_messages_never_panic(index in any::<prop::sample::Index>(), value in any::<u8>()) {
        let mut club = Club::new(31, true);
        let message = club.send(1, b"x");
        let description = club.org.republish().remove(0);
        let rekey = club.org.rekey_all(NOW + 1, &mut club.r).unwrap().rekeys.remove(0);
        for original in [message, description, rekey] {
            let mut m = original.clone();
            let i = index.index(m.len());
            m[i] = value;
            let view = &mut club.views[2];
            let _ = view.decrypt(&m);
            let _ = view.apply_description(&m);
            let _ = view.apply_rekey(&m, &club.people[2].dh);
            let _ = view.apply_segment(&m);
        }
    }
}
