//! kaiwa-crypto targets: every parser and opener that takes bytes from a peer or a disk.
//!
//! `crypto_decode` gives the whole input to every parser of unchecked-length bytes, to the hex
//! parser of identity keys, and to `verify`:
//!
//! ```text
//! parsers:  IdentityPublicKey, Signature, DhPublicKey, Nonce, WrappedKey      (TryFrom<&[u8]>)
//!           IdentityKeyPair, DhKeyPair, SymmetricKey                          (from_secret_slice)
//!           IdentityPublicKey::from_hex                                      (if UTF-8)
//! verify:   input = key (32) ‖ signature (64) ‖ message, alone and as a batch of two
//! checks:   a parsed value gives back exactly the input bytes; hex text round-trips exactly
//!           (one text form per key); a signature that verifies under FUZZ_CONTEXT does not
//!           verify under any other context (domain separation), and a batch holding it is
//!           accepted; a rejected batch names its first item
//! ```
//!
//! `crypto_open` chooses one opener with its first byte, against fixed recipient keys:
//!
//! ```text
//! input = op (1) ‖ aad_len (1) ‖ aad (aad_len bytes, fewer if the input ends) ‖ body
//! op % 4 = 0  open_box(recipient, SEAL_LABEL, aad, body)       body = E ‖ ciphertext ‖ tag
//!          1  KeyUnwrapper::new(recipient, E, WRAP_LABEL), then unwrap_key(aad, entry) for
//!             every 56-byte entry                              body = E (32) ‖ entry*
//!          2  ChaCha20Poly1305Key::open(nonce, aad, rest)      body = nonce (12) ‖ rest
//!          3  Aes256GcmKey::open(nonce, aad, rest)             body = nonce (12) ‖ rest
//! checks:   an opened box is 48 bytes shorter than its body and does not open under another
//!           label; an opened AEAD message is 16 bytes shorter; an unwrapped entry carries
//!           the recipient's hint
//! ```
//!
//! The fixed keys come from `ChaCha20Rng::seed_from_u64(CRYPTO_SEED)`, in the order recipient,
//! ChaCha20-Poly1305 key, AES-256-GCM key.

use std::sync::OnceLock;

use kaiwa_crypto::{
    Aes256GcmKey, BatchItem, BatchVerifyError, ChaCha20Poly1305Key, DhKeyPair, DhPublicKey,
    IdentityKeyPair, IdentityPublicKey, KeyUnwrapper, MultiRecipientSealer, Nonce,
    SEALED_BOX_OVERHEAD, SealLabel, Signature, SignatureContext, SymmetricKey, TAG_LEN, WrappedKey,
    open_box, seal_box, verify_batch,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// Seed of the fixed crypto keys.
const CRYPTO_SEED: u64 = 0x6b61_6977_6163_7279; // "kaiwacry"

/// The context `crypto_decode` verifies under, and one it must not verify under.
pub(crate) const FUZZ_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/fuzz/signature/v1");
const OTHER_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/fuzz/other-signature/v1");

/// The labels `crypto_open` opens under, and one a box must not open under.
pub(crate) const SEAL_LABEL: SealLabel = SealLabel::new(b"kaiwa/fuzz/sealed-box/v1");
pub(crate) const WRAP_LABEL: SealLabel = SealLabel::new(b"kaiwa/fuzz/key-wrap/v1");
const OTHER_LABEL: SealLabel = SealLabel::new(b"kaiwa/fuzz/other-sealed-box/v1");

/// The opener `crypto_open` runs (its input's first byte, modulo 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenOp {
    /// `open_box`.
    SealedBox = 0,
    /// `KeyUnwrapper::unwrap_key`.
    KeyWrap = 1,
    /// `ChaCha20Poly1305Key::open`.
    ChaCha20Poly1305 = 2,
    /// `Aes256GcmKey::open`.
    Aes256Gcm = 3,
}

/// The fixed keys of `crypto_open`.
pub(crate) struct CryptoFixture {
    pub(crate) recipient: DhKeyPair,
    pub(crate) chacha: ChaCha20Poly1305Key,
    pub(crate) aes: Aes256GcmKey,
}

/// The fixed keys (module doc), built on first use.
pub(crate) fn crypto_fixture() -> &'static CryptoFixture {
    static FIXTURE: OnceLock<CryptoFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(CRYPTO_SEED);
        CryptoFixture {
            recipient: DhKeyPair::generate(&mut rng),
            chacha: ChaCha20Poly1305Key::generate(&mut rng),
            aes: Aes256GcmKey::generate(&mut rng),
        }
    })
}

/// Parsers of keys, signatures, nonces, wrapped keys and secrets, the hex form of identity
/// keys, and signature verification (module doc). Never panics unless a property breaks.
pub fn crypto_decode(data: &[u8]) {
    if let Ok(key) = IdentityPublicKey::try_from(data) {
        assert_eq!(key.as_bytes().as_slice(), data, "a parsed key keeps its bytes");
        assert_eq!(IdentityPublicKey::from_hex(&key.to_hex()), Ok(key), "hex round trip");
    }
    if let Ok(signature) = Signature::try_from(data) {
        assert_eq!(signature.as_bytes().as_slice(), data);
    }
    if let Ok(key) = DhPublicKey::try_from(data) {
        assert_eq!(key.as_bytes().as_slice(), data);
    }
    if let Ok(nonce) = Nonce::try_from(data) {
        assert_eq!(nonce.as_bytes().as_slice(), data);
    }
    if let Ok(entry) = WrappedKey::try_from(data) {
        assert_eq!(entry.as_bytes().as_slice(), data);
        assert_eq!(entry.hint().as_bytes().as_slice(), data.get(..8).unwrap_or_default());
    }
    // Secrets read from a record: the parsers wipe the caller's copy on success.
    for parse in [secret_identity, secret_dh, secret_symmetric] {
        let mut copy = data.to_vec();
        if parse(&mut copy) {
            assert!(copy.iter().all(|b| *b == 0), "a parsed secret wipes its source");
        } else {
            assert_eq!(copy, data, "a rejected secret is left untouched");
        }
    }
    if let Ok(text) = core::str::from_utf8(data)
        && let Ok(key) = IdentityPublicKey::from_hex(text)
    {
        assert_eq!(key.to_hex(), text, "a key has exactly one text form");
    }
    if let Some((key, rest)) = data.split_first_chunk::<{ IdentityPublicKey::LEN }>()
        && let Ok(key) = IdentityPublicKey::from_bytes(key)
        && let Some((signature, message)) = rest.split_first_chunk::<{ Signature::LEN }>()
    {
        let signature = Signature::from_bytes(*signature);
        let item = BatchItem { key: &key, context: &FUZZ_CONTEXT, message, signature: &signature };
        let batch = verify_batch(&[item, item]);
        if key.verify(&FUZZ_CONTEXT, message, &signature).is_ok() {
            assert!(
                key.verify(&OTHER_CONTEXT, message, &signature).is_err(),
                "a signature verifies under one context only"
            );
            assert_eq!(batch, Ok(()), "a batch never rejects a valid signature");
        } else if let Err(BatchVerifyError::Invalid { index }) = batch {
            assert_eq!(index, 0, "the first invalid item is reported");
        }
    }
}

fn secret_identity(bytes: &mut [u8]) -> bool {
    IdentityKeyPair::from_secret_slice(bytes).is_ok()
}

fn secret_dh(bytes: &mut [u8]) -> bool {
    DhKeyPair::from_secret_slice(bytes).is_ok()
}

fn secret_symmetric(bytes: &mut [u8]) -> bool {
    SymmetricKey::from_secret_slice(bytes).is_ok()
}

/// Splits `op ‖ aad_len ‖ aad ‖ body` (module doc).
fn split_open_input(data: &[u8]) -> Option<(OpenOp, &[u8], &[u8])> {
    let ([op, aad_len], rest) = data.split_first_chunk::<2>()?;
    let op = match op % 4 {
        0 => OpenOp::SealedBox,
        1 => OpenOp::KeyWrap,
        2 => OpenOp::ChaCha20Poly1305,
        _ => OpenOp::Aes256Gcm,
    };
    let (aad, body) = rest.split_at(usize::from(*aad_len).min(rest.len()));
    Some((op, aad, body))
}

/// Encodes an input of `crypto_open` (for seeds).
///
/// # Panics
/// If `aad` is longer than 255 bytes.
pub fn open_input(op: OpenOp, aad: &[u8], body: &[u8]) -> Vec<u8> {
    let aad_len = u8::try_from(aad.len()).expect("seed aad fits the length byte");
    let mut out = vec![op as u8, aad_len];
    out.extend_from_slice(aad);
    out.extend_from_slice(body);
    out
}

/// Sealed-box, key-wrap and AEAD openers against fixed keys (module doc). Never panics unless a
/// property breaks.
pub fn crypto_open(data: &[u8]) {
    let Some((op, aad, body)) = split_open_input(data) else { return };
    let fixture = crypto_fixture();
    match op {
        OpenOp::SealedBox => {
            if let Ok(plaintext) = open_box(&fixture.recipient, &SEAL_LABEL, aad, body) {
                assert_eq!(plaintext.len() + SEALED_BOX_OVERHEAD, body.len());
                assert!(
                    open_box(&fixture.recipient, &OTHER_LABEL, aad, body).is_err(),
                    "a sealed box opens under its own label only"
                );
            }
        }
        OpenOp::KeyWrap => {
            let Some((ephemeral, entries)) = body.split_first_chunk::<{ DhPublicKey::LEN }>()
            else {
                return;
            };
            let ephemeral = DhPublicKey::from_bytes(*ephemeral);
            let Ok(unwrapper) = KeyUnwrapper::new(&fixture.recipient, &ephemeral, &WRAP_LABEL)
            else {
                return;
            };
            for chunk in entries.chunks(WrappedKey::LEN) {
                let Ok(entry) = WrappedKey::try_from(chunk) else { continue };
                if unwrapper.unwrap_key(aad, &entry).is_ok() {
                    assert_eq!(entry.hint(), unwrapper.hint(), "only our own entry unwraps");
                }
            }
        }
        OpenOp::ChaCha20Poly1305 | OpenOp::Aes256Gcm => {
            let Some((nonce, ciphertext)) = body.split_first_chunk::<{ Nonce::LEN }>() else {
                return;
            };
            let nonce = Nonce::from_bytes(*nonce);
            let opened = if op == OpenOp::ChaCha20Poly1305 {
                fixture.chacha.open(&nonce, aad, ciphertext)
            } else {
                fixture.aes.open(&nonce, aad, ciphertext)
            };
            if let Ok(plaintext) = opened {
                assert_eq!(plaintext.len() + TAG_LEN, ciphertext.len());
            }
        }
    }
}

/// Seeds of both crypto targets, made with the crates' own sealing and signing APIs.
pub(crate) fn crypto_seeds(push: &mut dyn FnMut(&'static str, &str, Vec<u8>)) {
    let mut rng = ChaCha20Rng::seed_from_u64(CRYPTO_SEED ^ 1);
    let signer = IdentityKeyPair::generate(&mut rng);
    let public = signer.public_key();

    push("crypto_decode", "identity-key", public.as_bytes().to_vec());
    push("crypto_decode", "identity-key-hex", public.to_hex().into_bytes());
    let message = b"hello, group";
    let signature = signer.sign(&FUZZ_CONTEXT, message);
    let mut signed = public.as_bytes().to_vec();
    signed.extend_from_slice(signature.as_bytes());
    signed.extend_from_slice(message);
    push("crypto_decode", "signed-message", signed);
    push("crypto_decode", "nonce", Nonce::random(&mut rng).as_bytes().to_vec());
    // An identity key of small order (the identity point): parses as bytes of the right length,
    // rejected as a key.
    let mut small_order = [0u8; 32];
    small_order[0] = 1;
    push("crypto_decode", "small-order-key", small_order.to_vec());

    let fixture = crypto_fixture();
    let recipient = fixture.recipient.public_key();
    let aad = b"org 7, epoch 3";
    let sealed = seal_box(&recipient, &SEAL_LABEL, aad, b"join request", &mut rng)
        .expect("sealing to a fresh key works");
    push("crypto_open", "sealed-box", open_input(OpenOp::SealedBox, aad, &sealed));
    let mut tampered = sealed;
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    push("crypto_open", "sealed-box-tampered", open_input(OpenOp::SealedBox, aad, &tampered));

    let mut sealer = MultiRecipientSealer::new(&WRAP_LABEL, &mut rng);
    let epoch_key = SymmetricKey::generate(&mut rng);
    let mut wrapped = sealer.ephemeral_public().as_bytes().to_vec();
    let others = [DhKeyPair::generate(&mut rng), DhKeyPair::generate(&mut rng)];
    for member in [&others[0], &fixture.recipient, &others[1]] {
        let entry =
            sealer.wrap_key(&member.public_key(), aad, &epoch_key).expect("distinct members");
        wrapped.extend_from_slice(entry.as_bytes());
    }
    push("crypto_decode", "wrapped-key", wrapped.get(32..32 + 56).unwrap_or_default().to_vec());
    push("crypto_open", "key-wrap-3", open_input(OpenOp::KeyWrap, aad, &wrapped));

    let nonce = Nonce::random(&mut rng);
    for (op, name, key_seal) in [
        (OpenOp::ChaCha20Poly1305, "chacha20poly1305", fixture.chacha.seal(&nonce, aad, b"hi")),
        (OpenOp::Aes256Gcm, "aes256gcm", fixture.aes.seal(&nonce, aad, b"hi")),
    ] {
        let mut body = nonce.as_bytes().to_vec();
        body.extend_from_slice(&key_seal.expect("a short message seals"));
        push("crypto_open", name, open_input(op, aad, &body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_input_round_trips_and_truncates() {
        let input = open_input(OpenOp::KeyWrap, b"ad", b"body");
        assert_eq!(split_open_input(&input), Some((OpenOp::KeyWrap, &b"ad"[..], &b"body"[..])));
        assert_eq!(
            split_open_input(&[6, 200, 1]),
            Some((OpenOp::ChaCha20Poly1305, &[1][..], &[][..]))
        );
        assert_eq!(split_open_input(&[3]), None);
    }
}
