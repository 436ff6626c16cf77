//! Every committed seed of the organization fuzz targets (`fuzz/src/org.rs`; vodozemac's
//! `run_corpus`), through the same decoders and state machines, so `cargo test` covers them.
//!
//! The state-machine seeds run against the harness's fixture, rebuilt from the committed
//! records (`org_record/owner`, `org_record/bob-view`) and the harness's per-person generators
//! (person n: identity key, then X25519 key, from `ChaCha20Rng::seed_from_u64(ORG_SEED ^ (n + 1))`;
//! bob is n = 1, dave 3, erin 4). A frame is `op (1) ‖ delay_s (1) ‖ len (2, little-endian) ‖
//! message`; for `org_view`, `op mod 5` selects description, segment, re-key, channel message
//! or response; `org_request` ignores it. A rejected input must leave the view's (or the
//! organization's) record byte-identical.

use std::path::{Path, PathBuf};

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair};
use kaiwa_org::{
    ChannelId, Invitation, MemberId, Organization, OrganizationRecord, OrganizationView,
    OrganizationViewRecord, RequestOutcome, SignedDescription, SignedGrant,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// The harness's fixture seed (`fuzz/src/org.rs`).
const ORG_SEED: u64 = 0x6b61_6977_616f_7267;
/// The harness's fixture time, `FIXTURE_NOW_MS`.
const NOW: u64 = 1_700_000_000_000;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// The seeds of `target`, by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::fs::read_dir(corpus().join(target)).unwrap();
    let mut seeds: Vec<_> = dir
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            (name, std::fs::read(path).unwrap())
        })
        .collect();
    assert!(!seeds.is_empty(), "{target} has seeds");
    seeds.sort();
    seeds
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    std::fs::read(corpus().join(target).join(name)).unwrap()
}

/// Person `n` of the harness's cast.
fn person(n: u64) -> (IdentityKeyPair, DhKeyPair) {
    let mut rng = ChaCha20Rng::seed_from_u64(ORG_SEED ^ (n + 1));
    let identity = IdentityKeyPair::generate(&mut rng);
    (identity, DhKeyPair::generate(&mut rng))
}

fn member(n: u64) -> MemberId {
    MemberId::from_key(&person(n).0.public_key())
}

/// `(op, delay_s, message)` of each frame (at most 8, as the harness reads them).
fn frames(data: &[u8]) -> Vec<(u8, u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(([op, delay_s, len_lo, len_hi], tail)) = rest.split_first_chunk::<4>() {
        let len = usize::from(u16::from_le_bytes([*len_lo, *len_hi])).min(tail.len());
        let (message, next) = tail.split_at(len);
        out.push((*op, *delay_s, message));
        rest = next;
    }
    out.truncate(8);
    out
}

fn view_bytes(view: &OrganizationView) -> Vec<u8> {
    view.to_record().expose_secret().to_vec()
}

fn org_bytes(org: &Organization) -> Vec<u8> {
    org.to_record().expose_secret().to_vec()
}

#[test]
fn fuzz_seed_corpus_never_panics() {
    let owner = seed("org_record", "owner");
    let org = Organization::from_record(&OrganizationRecord::from_bytes(owner.clone()))
        .expect("the fixture's owner record loads")
        .id();
    let (bob, bob_dh) = person(1);
    let (dave, erin) = (member(3), member(4));
    let now = NOW + 5_000;

    for (_, data) in seeds("org_signed") {
        if let Ok(signed) = SignedDescription::verify(&org, &data) {
            assert_eq!(signed.bytes(), data.as_slice());
        }
        if let Ok(grant) = SignedGrant::verify(&data, &org, &erin, now) {
            assert!(SignedGrant::verify(&data, &org, &dave, now).is_err(), "for erin only");
            assert_eq!(grant.bytes(), data.as_slice());
        }
        if let Ok(invitation) = Invitation::verify(&data, &erin, now) {
            assert_eq!(invitation.org(), &org);
        }
        let _ = OrganizationView::new(org, member(1)).verify_kick_notice(&data);
        if let Ok(text) = core::str::from_utf8(&data) {
            let _ = MemberId::from_text("member", text);
            let _ = ChannelId::new(text);
        }
    }

    for (_, data) in seeds("org_record") {
        if let Ok(o) = Organization::from_record(&OrganizationRecord::from_bytes(data.clone())) {
            let record = org_bytes(&o);
            let again = Organization::from_record(&OrganizationRecord::from_bytes(record.clone()));
            assert_eq!(org_bytes(&again.unwrap()), record, "an organization survives its record");
        }
        if let Ok(v) = OrganizationView::from_record(&OrganizationViewRecord::from_bytes(data)) {
            let record = view_bytes(&v);
            let again =
                OrganizationView::from_record(&OrganizationViewRecord::from_bytes(record.clone()));
            assert_eq!(view_bytes(&again.unwrap()), record, "a view survives its record");
        }
    }

    let bob_view = seed("org_record", "bob-view");
    let mut decrypted = Vec::new();
    for (name, data) in seeds("org_view") {
        let mut view =
            OrganizationView::from_record(&OrganizationViewRecord::from_bytes(bob_view.clone()))
                .expect("the fixture's view record loads");
        assert_eq!(view.me(), &MemberId::from_key(&bob.public_key()), "bob is rebuilt exactly");
        let mut now_ms = NOW;
        for (op, delay_s, message) in frames(&data) {
            now_ms += u64::from(delay_s) * 1_000;
            let before = view_bytes(&view);
            let rejected = match op % 5 {
                0 => view.apply_description(message).is_err(),
                1 => view.apply_segment(message).is_err(),
                2 => view.apply_rekey(message, &bob_dh).is_err(),
                3 => match view.decrypt(message) {
                    Ok(m) => {
                        decrypted.push((name.clone(), m.plaintext.to_vec()));
                        false
                    }
                    Err(_) => true,
                },
                _ => view.open_response(message, &bob_dh, now_ms).is_err(),
            };
            if rejected {
                assert_eq!(view_bytes(&view), before, "{name}: a rejected input changed the view");
            }
        }
    }
    // The fixture is rebuilt exactly: the harness's channel message decrypts here.
    assert!(decrypted.contains(&("general-message".to_owned(), b"general 0".to_vec())));

    let mut outcomes = Vec::new();
    for (name, data) in seeds("org_request") {
        let mut org = Organization::from_record(&OrganizationRecord::from_bytes(owner.clone()))
            .expect("the fixture's owner record loads");
        let mut rng = ChaCha20Rng::seed_from_u64(ORG_SEED ^ 0xff);
        let mut now_ms = NOW;
        for (_, delay_s, message) in frames(&data) {
            now_ms += u64::from(delay_s) * 1_000;
            let before = org_bytes(&org);
            match org.handle_request(message, now_ms, &mut rng) {
                Ok(outcome) => outcomes.push((name.clone(), outcome)),
                Err(_) => assert_eq!(org_bytes(&org), before, "{name}: a rejected request"),
            }
        }
    }
    assert!(
        outcomes.contains(&("dave-joins".to_owned(), RequestOutcome::Pending { member: dave }))
    );
}
