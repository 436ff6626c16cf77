//! Self-generated known-answer vectors (`test-vectors/kaiwa-crypto-self.json`, `"source":
//! "self"`): they pin kaiwa's own constructions (signature context framing, sealed-box and
//! key-wrap derivations) so a change to any label, byte order or layout fails loudly, and so
//! another implementation can be checked against them. All inputs, including the ephemeral
//! secrets, are in the file. When first written, every value was recomputed independently
//! (Python `cryptography` 48.0.0 / OpenSSL, from the module-doc formulas alone) and matched.
//!
//! Compared on every run; rewritten only on request:
//! `UPDATE_VECTORS=1 cargo test -p kaiwa-crypto --test it kat`, then review the diff.

use std::convert::Infallible;
use std::path::Path;

use kaiwa_crypto::{
    DhKeyPair, IdentityKeyPair, KeyUnwrapper, MultiRecipientSealer, SealLabel, SignatureContext,
    SymmetricKey, open_box, seal_box,
};
use rand_chacha::rand_core::{TryCryptoRng, TryRng};
use serde_json::{Value, json};

const FILE: &str = "test-vectors/kaiwa-crypto-self.json";
const COMMITTED: &str = include_str!("../../test-vectors/kaiwa-crypto-self.json");

const CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/test/kat/v1");
const LABEL: SealLabel = SealLabel::new(b"kaiwa/test/kat/v1");

/// An "RNG" that hands out the given bytes, so a vector can state its ephemeral secret.
struct FixedBytes(Vec<u8>);

impl TryRng for FixedBytes {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert!(dst.len() <= self.0.len(), "vector supplies too few random bytes");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

impl TryCryptoRng for FixedBytes {}

fn bytes(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(u8::try_from(i).unwrap()))
}

fn generate() -> Value {
    let mut signatures = Vec::new();
    for (seed, message) in [(1u8, &b""[..]), (2, b"hello"), (3, &[0xAB; 300][..])] {
        let secret = bytes(seed);
        let pair = IdentityKeyPair::from_secret_bytes(&mut secret.clone());
        let signature = pair.sign(&CONTEXT, message);
        assert!(pair.public_key().verify(&CONTEXT, message, &signature).is_ok());
        signatures.push(json!({
            "secret": hex::encode(secret),
            "public": pair.public_key().to_hex(),
            "context": String::from_utf8_lossy(CONTEXT.as_bytes()),
            "message": hex::encode(message),
            "signature": hex::encode(signature.as_bytes()),
        }));
    }

    let mut boxes = Vec::new();
    for (seed, aad, plaintext) in [(10u8, &b""[..], &b""[..]), (11, b"aad", b"join request")] {
        let recipient_secret = bytes(seed);
        let recipient = DhKeyPair::from_secret_bytes(&mut recipient_secret.clone());
        let ephemeral_secret = bytes(seed + 100);
        let sealed = seal_box(
            &recipient.public_key(),
            &LABEL,
            aad,
            plaintext,
            &mut FixedBytes(ephemeral_secret.to_vec()),
        )
        .unwrap();
        assert_eq!(open_box(&recipient, &LABEL, aad, &sealed).unwrap().as_slice(), plaintext);
        boxes.push(json!({
            "recipient_secret": hex::encode(recipient_secret),
            "recipient_public": hex::encode(recipient.public_key().as_bytes()),
            "ephemeral_secret": hex::encode(ephemeral_secret),
            "label": String::from_utf8_lossy(LABEL.as_bytes()),
            "aad": hex::encode(aad),
            "plaintext": hex::encode(plaintext),
            "sealed": hex::encode(&sealed),
        }));
    }

    let ephemeral_secret = bytes(50);
    let key_bytes = bytes(51);
    let key = SymmetricKey::from_secret_bytes(&mut key_bytes.clone());
    let mut sealer = MultiRecipientSealer::new(&LABEL, &mut FixedBytes(ephemeral_secret.to_vec()));
    let mut entries = Vec::new();
    for seed in 52..55u8 {
        let member_secret = bytes(seed);
        let member = DhKeyPair::from_secret_bytes(&mut member_secret.clone());
        let entry = sealer.wrap_key(&member.public_key(), b"epoch 1", &key).unwrap();
        let unwrapper = KeyUnwrapper::new(&member, &sealer.ephemeral_public(), &LABEL).unwrap();
        assert_eq!(unwrapper.unwrap_key(b"epoch 1", &entry).unwrap(), key);
        entries.push(json!({
            "member_secret": hex::encode(member_secret),
            "member_public": hex::encode(member.public_key().as_bytes()),
            "entry": hex::encode(entry.as_bytes()),
        }));
    }
    let key_wrap = json!({
        "ephemeral_secret": hex::encode(ephemeral_secret),
        "ephemeral_public": hex::encode(sealer.ephemeral_public().as_bytes()),
        "label": String::from_utf8_lossy(LABEL.as_bytes()),
        "aad": hex::encode(b"epoch 1"),
        "key": hex::encode(key_bytes),
        "entries": entries,
    });

    json!({
        "source": "self",
        "about": "kaiwa-crypto regression vectors: Ed25519 over u8(len(context)) || context || message; sealed box and multi-recipient key wrap as documented in src/sealed_box.rs. Hex unless noted; labels and contexts are ASCII. When first written, every value was recomputed from those formulas alone with Python cryptography 48.0.0 (OpenSSL) and matched.",
        "signatures": signatures,
        "sealed_boxes": boxes,
        "key_wrap": key_wrap,
    })
}

#[test]
fn kat_self_vectors_are_stable() {
    let actual = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE), &actual).unwrap();
        return;
    }
    assert_eq!(COMMITTED, actual, "run with UPDATE_VECTORS=1 and review the diff");
}
