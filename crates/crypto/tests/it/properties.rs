//! Property tests: sealed-box and key-wrap round trips, single-byte tampering, and arbitrary
//! bytes through every decode path without a panic. Case counts are kept modest so the whole
//! crate's tests stay well under a minute in a debug build.

use kaiwa_crypto::{
    Aes256GcmKey, BatchItem, ChaCha20Poly1305Key, DhKeyPair, DhPublicKey, IdentityKeyPair,
    IdentityPublicKey, KeyUnwrapper, MultiRecipientSealer, Nonce, SealLabel, SealedBoxError,
    Signature, SignatureContext, SymmetricKey, WrappedKey, open_box, seal_box, verify_batch,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const LABEL: SealLabel = SealLabel::new(b"kaiwa/test/properties/v1");
const CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/test/properties/v1");

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

proptest! {
    // The test root is `tests/it.rs`, which proptest's default (source-relative) persistence
    // cannot find; failures are recorded beside the tests instead, and committed.
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/it/proptest-regressions.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn sealed_box_round_trip(
        seed in any::<u64>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..300),
        aad in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let recipient = DhKeyPair::generate(&mut rng(seed));
        let sealed = seal_box(&recipient.public_key(), &LABEL, &aad, &plaintext, &mut rng(seed ^ 1)).unwrap();
        prop_assert_eq!(sealed.len(), plaintext.len() + 48);
        let opened = open_box(&recipient, &LABEL, &aad, &sealed).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
    }

    /// Flipping any bits of any single byte of the ephemeral key, ciphertext, tag or the
    /// associated data makes opening fail, opaquely.
    #[test]
    fn sealed_box_any_tampered_byte_fails(
        seed in any::<u64>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..64),
        aad in prop::collection::vec(any::<u8>(), 1..16),
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let recipient = DhKeyPair::generate(&mut rng(seed));
        let sealed = seal_box(&recipient.public_key(), &LABEL, &aad, &plaintext, &mut rng(seed ^ 2)).unwrap();
        let (mut sealed, mut aad) = (sealed, aad);
        let at = position.index(sealed.len() + aad.len());
        if at < sealed.len() {
            sealed[at] ^= mask;
        } else {
            aad[at - sealed.len()] ^= mask;
        }
        prop_assert_eq!(open_box(&recipient, &LABEL, &aad, &sealed), Err(SealedBoxError::Unauthenticated));
    }

    #[test]
    fn key_wrap_round_trip_and_tamper(
        seed in any::<u64>(),
        members in 1usize..6,
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
    ) {
        let pairs: Vec<DhKeyPair> = (0..members as u64).map(|i| DhKeyPair::generate(&mut rng(seed.wrapping_add(i)))).collect();
        let key = SymmetricKey::generate(&mut rng(seed ^ 3));
        let mut sealer = MultiRecipientSealer::new(&LABEL, &mut rng(seed ^ 4));
        let entries: Vec<WrappedKey> = pairs.iter().map(|p| sealer.wrap_key(&p.public_key(), b"epoch", &key).unwrap()).collect();
        let ephemeral = sealer.ephemeral_public();
        for (pair, entry) in pairs.iter().zip(&entries) {
            let unwrapper = KeyUnwrapper::new(pair, &ephemeral, &LABEL).unwrap();
            let found = entries.iter().find(|e| e.hint() == unwrapper.hint()).unwrap();
            prop_assert_eq!(found, entry);
            prop_assert_eq!(unwrapper.unwrap_key(b"epoch", entry).unwrap(), SymmetricKey::from_secret_bytes(&mut key.expose_secret().clone()));
            let mut bytes = entry.to_bytes();
            bytes[position.index(WrappedKey::LEN)] ^= mask;
            prop_assert_eq!(unwrapper.unwrap_key(b"epoch", &WrappedKey::from_bytes(bytes)), Err(SealedBoxError::Unauthenticated));
        }
    }

    /// Every decode path of the crate, fed arbitrary bytes: `Ok` or `Err`, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), text in ".{0,70}") {
        let _ = IdentityPublicKey::try_from(&bytes[..]);
        let _ = IdentityPublicKey::from_hex(&text);
        let _ = IdentityPublicKey::from_hex(&format!("0x{}", hex::encode(&bytes)));
        let _ = Signature::try_from(&bytes[..]);
        let _ = DhPublicKey::try_from(&bytes[..]);
        let _ = Nonce::try_from(&bytes[..]);
        let _ = WrappedKey::try_from(&bytes[..]);
        let _ = SymmetricKey::from_secret_slice(&mut bytes.clone());
        let _ = IdentityKeyPair::from_secret_slice(&mut bytes.clone());
        let _ = DhKeyPair::from_secret_slice(&mut bytes.clone());

        let me = DhKeyPair::generate(&mut rng(1));
        let _ = open_box(&me, &LABEL, b"", &bytes);
        let mut secret = [7u8; 32];
        let chacha = ChaCha20Poly1305Key::from_secret_bytes(&mut secret);
        let _ = chacha.open(&Nonce::ZERO, b"", &bytes);
        let mut secret = [7u8; 32];
        let aes = Aes256GcmKey::from_secret_bytes(&mut secret);
        let _ = aes.open(&Nonce::ZERO, b"", &bytes);

        let mut first = [0u8; 32];
        for (d, s) in first.iter_mut().zip(&bytes) { *d = *s; }
        let ephemeral = DhPublicKey::from_bytes(first);
        if let Ok(unwrapper) = KeyUnwrapper::new(&me, &ephemeral, &LABEL) {
            let mut entry = [0u8; 56];
            for (d, s) in entry.iter_mut().zip(bytes.iter().rev()) { *d = *s; }
            let _ = unwrapper.unwrap_key(b"", &WrappedKey::from_bytes(entry));
        }

        let signer = IdentityKeyPair::generate(&mut rng(2));
        let mut sig = [0u8; 64];
        for (d, s) in sig.iter_mut().zip(bytes.iter().cycle()) { *d = *s; }
        let sig = Signature::from_bytes(sig);
        let key = signer.public_key();
        prop_assert!(key.verify(&CONTEXT, &bytes, &sig).is_err());
        let item = BatchItem { key: &key, context: &CONTEXT, message: &bytes, signature: &sig };
        prop_assert!(verify_batch(&[item, item]).is_err());
    }
}
