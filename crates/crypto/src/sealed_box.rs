//! Sealing to an X25519 public key (ECDH-ES): single-recipient sealed boxes, and wrapping one
//! key for many recipients under one ephemeral key (organization re-keying).
//!
//! # Sealed box (one recipient, any plaintext)
//!
//! ```text
//! (e, E)  = fresh X25519 key pair from the caller's rng, used once
//! dh      = X25519(e, R)                                  rejected if all zero
//! kek     = HKDF-SHA256(salt = "kaiwa/crypto/sealed-box/v1",
//!                       ikm  = dh,
//!                       info = u8(len(label)) ‖ label ‖ E ‖ R)          32 bytes
//! sealed  = E ‖ ChaCha20-Poly1305(kek, nonce = 0^12, aad, plaintext)
//!
//! byte layout:  | E (32) | ciphertext (len(plaintext)) | tag (16) |      overhead 48
//! ```
//!
//! The nonce is fixed because `kek` encrypts exactly one message: it depends on a fresh `e`.
//! Putting `E` and `R` into `info` binds the key to both public keys, so a box cannot be
//! re-targeted or its ephemeral key swapped for an equivalent encoding. The `label` (a
//! [`SealLabel`] such as `b"kaiwa/org/request/v1"`) separates uses; `aad` binds context the
//! caller does not want to repeat inside the plaintext. The sender is anonymous: anyone can
//! seal to `R`, so authenticate the sender inside the plaintext if it matters.
//!
//! # Key wrap (one ephemeral key, many recipients)
//!
//! ```text
//! (e, E)   = one fresh X25519 key pair per re-key message  (MultiRecipientSealer::new)
//! for each recipient R_i (pairwise distinct, enforced):
//!   dh_i     = X25519(e, R_i)                              rejected if all zero
//!   okm_i    = HKDF-SHA256(salt = "kaiwa/crypto/key-wrap/v1",
//!                          ikm  = dh_i,
//!                          info = u8(len(label)) ‖ label ‖ E ‖ R_i)    40 bytes
//!   kek_i    = okm_i[0..32]
//!   hint_i   = okm_i[32..40]
//!   entry_i  = hint_i ‖ ChaCha20-Poly1305(kek_i, nonce = 0^12, aad, key)
//!
//! entry layout:  | hint (8) | wrapped key (32) | tag (16) |            56 bytes per member
//! message:       E (32) once, then the entries (framing is the caller's)
//! ```
//!
//! Each `kek_i` is unique because `R_i` is in `info` and the sealer refuses a recipient twice
//! ([`SealedBoxError::DuplicateRecipient`]), so the zero nonce is never reused under one key.
//! The hint lets a member find its entry after one DH instead of trying every entry; it is a
//! PRF output only `e`'s and `R_i`'s holders can compute, so entries are not linkable to
//! members or across re-keys by anyone else. A recipient computes `kek_i` and `hint_i` once
//! with [`KeyUnwrapper::new`].

use std::collections::BTreeSet;

use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize as _, ZeroizeOnDrop, Zeroizing};

use crate::hex::write_hex;
use crate::{
    ChaCha20Poly1305Key, DecodeError, DhKeyPair, DhPublicKey, EphemeralKeyPair, Nonce,
    SealedBoxError, SharedSecret, SymmetricKey, TAG_LEN, hkdf_sha256_extract,
};

/// HKDF salt of single-recipient sealed boxes.
pub const SEALED_BOX_SALT: &[u8] = b"kaiwa/crypto/sealed-box/v1";

/// HKDF salt of multi-recipient key wrapping.
pub const KEY_WRAP_SALT: &[u8] = b"kaiwa/crypto/key-wrap/v1";

/// Bytes a sealed box adds to its plaintext: ephemeral public key (32) and tag (16).
pub const SEALED_BOX_OVERHEAD: usize = DhPublicKey::LEN + TAG_LEN;

/// A domain-separation label for sealing, e.g. `SealLabel::new(b"kaiwa/org/request/v1")`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SealLabel(&'static [u8]);

impl SealLabel {
    /// Wraps a label.
    ///
    /// # Panics
    /// If `label` is empty or longer than 255 bytes. Declare labels as `const` items so the
    /// check runs at compile time.
    #[must_use]
    pub const fn new(label: &'static [u8]) -> Self {
        assert!(!label.is_empty() && label.len() <= 255, "a seal label is 1 to 255 bytes");
        Self(label)
    }

    /// The label bytes (without the length prefix).
    #[must_use]
    pub const fn as_bytes(&self) -> &'static [u8] {
        self.0
    }
}

impl fmt::Debug for SealLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SealLabel").field(&self.0.escape_ascii().to_string()).finish()
    }
}

/// The first `N * 32` bytes of `HKDF(salt, dh, u8(len(label)) ‖ label ‖ E ‖ R)`, as keys.
fn derive<const N: usize>(
    salt: &[u8],
    dh: &SharedSecret,
    label: &SealLabel,
    ephemeral: &DhPublicKey,
    recipient: &DhPublicKey,
) -> [SymmetricKey; N] {
    let prefix = [u8::try_from(label.0.len()).unwrap_or(u8::MAX)];
    let info: [&[u8]; 4] = [&prefix, label.0, ephemeral.as_bytes(), recipient.as_bytes()];
    hkdf_sha256_extract(salt, &[dh.expose_secret()]).expand_keys_multi_info(&info)
}

fn sealed_box_kek(
    dh: &SharedSecret,
    label: &SealLabel,
    ephemeral: &DhPublicKey,
    recipient: &DhPublicKey,
) -> ChaCha20Poly1305Key {
    let [kek] = derive(SEALED_BOX_SALT, dh, label, ephemeral, recipient);
    ChaCha20Poly1305Key::from(kek)
}

/// Seals `plaintext` to `recipient` (see the module doc for the construction and layout).
///
/// # Errors
/// [`SealedBoxError::InvalidRecipient`] if `recipient` has small order;
/// [`SealedBoxError::TooLong`] if the plaintext exceeds ChaCha20-Poly1305's limit.
pub fn seal_box<R: CryptoRng + ?Sized>(
    recipient: &DhPublicKey,
    label: &SealLabel,
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>, SealedBoxError> {
    let ephemeral = EphemeralKeyPair::generate(rng);
    let ephemeral_public = ephemeral.public_key();
    let dh = ephemeral.diffie_hellman(recipient).map_err(|_| SealedBoxError::InvalidRecipient)?;
    let kek = sealed_box_kek(&dh, label, &ephemeral_public, recipient);
    let ciphertext = kek.seal(&Nonce::ZERO, aad, plaintext).map_err(|_| SealedBoxError::TooLong)?;
    let mut sealed = Vec::with_capacity(DhPublicKey::LEN + ciphertext.len());
    sealed.extend_from_slice(ephemeral_public.as_bytes());
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens a box sealed to `recipient`'s public key under `label` and `aad`.
///
/// # Errors
/// [`SealedBoxError::TooShort`] if `sealed` is shorter than [`SEALED_BOX_OVERHEAD`];
/// [`SealedBoxError::Unauthenticated`] for every other failure (wrong recipient, label or
/// `aad`, modified bytes, a small-order ephemeral key).
pub fn open_box(
    recipient: &DhKeyPair,
    label: &SealLabel,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealedBoxError> {
    let too_short = SealedBoxError::TooShort { min: SEALED_BOX_OVERHEAD, actual: sealed.len() };
    if sealed.len() < SEALED_BOX_OVERHEAD {
        return Err(too_short);
    }
    let (ephemeral, ciphertext) = sealed.split_first_chunk::<32>().ok_or(too_short)?;
    let ephemeral = DhPublicKey::from_bytes(*ephemeral);
    let dh = recipient.diffie_hellman(&ephemeral).map_err(|_| SealedBoxError::Unauthenticated)?;
    let kek = sealed_box_kek(&dh, label, &ephemeral, &recipient.public_key());
    kek.open(&Nonce::ZERO, aad, ciphertext).map_err(|_| SealedBoxError::Unauthenticated)
}

/// The 8-byte hint at the front of a [`WrappedKey`], telling a recipient which entry is its
/// own. Public.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecipientHint([u8; RecipientHint::LEN]);

impl RecipientHint {
    /// Length in bytes.
    pub const LEN: usize = 8;

    /// The hint bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl fmt::Debug for RecipientHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecipientHint(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// One recipient's entry of a multi-recipient key wrap: `hint(8) ‖ wrapped key(32) ‖
/// tag(16)`, 56 bytes. Public (it travels on the wire).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WrappedKey([u8; WrappedKey::LEN]);

impl WrappedKey {
    /// Length in bytes.
    pub const LEN: usize = RecipientHint::LEN + SymmetricKey::LEN + TAG_LEN;

    /// Wraps entry bytes received from the wire.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The 56 entry bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The 56 entry bytes, copied.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; Self::LEN] {
        self.0
    }

    /// The recipient hint (the first 8 bytes).
    #[must_use]
    pub fn hint(&self) -> RecipientHint {
        RecipientHint(self.0.first_chunk::<8>().copied().unwrap_or_default())
    }

    /// The wrapped key and tag (the last 48 bytes).
    fn ciphertext(&self) -> &[u8] {
        self.0.get(RecipientHint::LEN..).unwrap_or_default()
    }
}

impl TryFrom<&[u8]> for WrappedKey {
    type Error = DecodeError;

    /// Parses an entry of unchecked length (a field of a decoded message).
    fn try_from(bytes: &[u8]) -> Result<Self, DecodeError> {
        let array: [u8; Self::LEN] = bytes.try_into().map_err(|_| DecodeError::Length {
            field: "wrapped_key",
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WrappedKey(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// Per-recipient key-encryption key and hint: `okm_i` of the module doc. HKDF's output is
/// `T(1) ‖ T(2) ‖ ...`, so `okm_i[0..32] = T(1)` and `okm_i[32..40] = T(2)[0..8]`.
fn wrap_kek(
    dh: &SharedSecret,
    label: &SealLabel,
    ephemeral: &DhPublicKey,
    recipient: &DhPublicKey,
) -> (ChaCha20Poly1305Key, RecipientHint) {
    let [kek, second_block] = derive(KEY_WRAP_SALT, dh, label, ephemeral, recipient);
    let hint =
        RecipientHint(second_block.expose_secret().first_chunk::<8>().copied().unwrap_or_default());
    (ChaCha20Poly1305Key::from(kek), hint)
}

/// Wraps one key for many recipients under a single fresh ephemeral X25519 key (the
/// organization re-key; see the module doc).
///
/// Holds the ephemeral secret until dropped (then wiped); it is never exposed. Create one per
/// re-key message and drop it when the message is built.
pub struct MultiRecipientSealer {
    ephemeral: DhKeyPair,
    label: SealLabel,
    recipients: BTreeSet<DhPublicKey>,
}

impl ZeroizeOnDrop for MultiRecipientSealer {}

impl MultiRecipientSealer {
    /// A sealer with a fresh ephemeral key from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(label: &SealLabel, rng: &mut R) -> Self {
        Self { ephemeral: DhKeyPair::generate(rng), label: *label, recipients: BTreeSet::new() }
    }

    /// `E`, to send once with the entries.
    #[must_use]
    pub fn ephemeral_public(&self) -> DhPublicKey {
        self.ephemeral.public_key()
    }

    /// Wraps `key` for `recipient`, authenticating `aad` with it (bind the epoch and the
    /// group there).
    ///
    /// # Errors
    /// [`SealedBoxError::InvalidRecipient`] if `recipient` has small order;
    /// [`SealedBoxError::DuplicateRecipient`] if this sealer already wrapped for `recipient`.
    pub fn wrap_key(
        &mut self,
        recipient: &DhPublicKey,
        aad: &[u8],
        key: &SymmetricKey,
    ) -> Result<WrappedKey, SealedBoxError> {
        if self.recipients.contains(recipient) {
            return Err(SealedBoxError::DuplicateRecipient);
        }
        let dh = self
            .ephemeral
            .diffie_hellman(recipient)
            .map_err(|_| SealedBoxError::InvalidRecipient)?;
        let (kek, hint) = wrap_kek(&dh, &self.label, &self.ephemeral.public_key(), recipient);
        let ciphertext = kek
            .seal(&Nonce::ZERO, aad, key.expose_secret())
            .map_err(|_| SealedBoxError::TooLong)?;
        self.recipients.insert(*recipient);
        let mut entry = [0u8; WrappedKey::LEN];
        for (dst, src) in entry.iter_mut().zip(hint.0.iter().chain(&ciphertext)) {
            *dst = *src;
        }
        Ok(WrappedKey(entry))
    }
}

impl fmt::Debug for MultiRecipientSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { ephemeral, label, recipients } = self;
        f.debug_struct("MultiRecipientSealer")
            .field("ephemeral_public", &ephemeral.public_key())
            .field("label", label)
            .field("recipients", &recipients.len())
            .finish_non_exhaustive()
    }
}

/// A recipient's side of a multi-recipient key wrap: one DH with `E`, then any number of
/// entry checks.
///
/// Holds the recipient's key-encryption key (wiped on drop, never exposed).
pub struct KeyUnwrapper {
    kek: ChaCha20Poly1305Key,
    hint: RecipientHint,
}

impl ZeroizeOnDrop for KeyUnwrapper {}

impl KeyUnwrapper {
    /// Derives this recipient's key-encryption key and hint for the message whose ephemeral
    /// key is `ephemeral`.
    ///
    /// # Errors
    /// [`SealedBoxError::Unauthenticated`] if `ephemeral` has small order.
    pub fn new(
        me: &DhKeyPair,
        ephemeral: &DhPublicKey,
        label: &SealLabel,
    ) -> Result<Self, SealedBoxError> {
        let dh = me.diffie_hellman(ephemeral).map_err(|_| SealedBoxError::Unauthenticated)?;
        let (kek, hint) = wrap_kek(&dh, label, ephemeral, &me.public_key());
        Ok(Self { kek, hint })
    }

    /// The hint of this recipient's entry: find it with
    /// `entries.iter().find(|e| e.hint() == unwrapper.hint())`.
    #[must_use]
    pub fn hint(&self) -> RecipientHint {
        self.hint
    }

    /// Checks and decrypts this recipient's entry.
    ///
    /// # Errors
    /// [`SealedBoxError::Unauthenticated`] if the entry is not for this recipient (hint or
    /// tag mismatch), was modified, or `aad` differs.
    pub fn unwrap_key(
        &self,
        aad: &[u8],
        entry: &WrappedKey,
    ) -> Result<SymmetricKey, SealedBoxError> {
        if entry.hint() != self.hint {
            return Err(SealedBoxError::Unauthenticated);
        }
        let mut plaintext = self
            .kek
            .open(&Nonce::ZERO, aad, entry.ciphertext())
            .map_err(|_| SealedBoxError::Unauthenticated)?;
        let key = SymmetricKey::from_secret_slice(&mut plaintext)
            .map_err(|_| SealedBoxError::Unauthenticated);
        plaintext.zeroize();
        key
    }
}

impl fmt::Debug for KeyUnwrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { kek: _, hint } = self;
        f.debug_struct("KeyUnwrapper").field("hint", hint).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::test_util::assert_debug_redacted;

    const LABEL: SealLabel = SealLabel::new(b"kaiwa/test/sealed-box/v1");
    const OTHER: SealLabel = SealLabel::new(b"kaiwa/test/other/v1");

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn seal_open_round_trip_and_layout() {
        let bob = DhKeyPair::generate(&mut rng(1));
        for len in [0usize, 1, 200, 4096] {
            let plaintext = vec![0x61u8; len];
            let sealed =
                seal_box(&bob.public_key(), &LABEL, b"aad", &plaintext, &mut rng(2)).unwrap();
            assert_eq!(sealed.len(), len + SEALED_BOX_OVERHEAD);
            let eph = EphemeralKeyPair::generate(&mut rng(2)).public_key();
            assert_eq!(&sealed[..32], eph.as_bytes(), "E comes first, from the caller's rng");
            assert_eq!(open_box(&bob, &LABEL, b"aad", &sealed).unwrap().as_slice(), &plaintext[..]);
            let unauth = Err(SealedBoxError::Unauthenticated);
            assert_eq!(open_box(&bob, &OTHER, b"aad", &sealed), unauth);
            assert_eq!(open_box(&bob, &LABEL, b"aaX", &sealed), unauth);
            let eve = DhKeyPair::generate(&mut rng(3));
            assert_eq!(open_box(&eve, &LABEL, b"aad", &sealed), unauth);
        }
    }

    #[test]
    fn short_and_small_order_inputs() {
        let bob = DhKeyPair::generate(&mut rng(4));
        for len in 0..SEALED_BOX_OVERHEAD {
            assert_eq!(
                open_box(&bob, &LABEL, b"", &vec![0u8; len]),
                Err(SealedBoxError::TooShort { min: 48, actual: len })
            );
        }
        // A small-order ephemeral key: all-zero DH, rejected as unauthenticated.
        assert_eq!(open_box(&bob, &LABEL, b"", &[0u8; 48]), Err(SealedBoxError::Unauthenticated));
        let zero = DhPublicKey::from_bytes([0; 32]);
        assert_eq!(
            seal_box(&zero, &LABEL, b"", b"x", &mut rng(5)),
            Err(SealedBoxError::InvalidRecipient)
        );
    }

    #[test]
    fn multi_recipient_wrap_unwrap() {
        let members: Vec<DhKeyPair> = (10..15).map(|s| DhKeyPair::generate(&mut rng(s))).collect();
        let epoch_key = SymmetricKey::generate(&mut rng(20));
        let mut sealer = MultiRecipientSealer::new(&LABEL, &mut rng(21));
        let entries: Vec<WrappedKey> = members
            .iter()
            .map(|m| sealer.wrap_key(&m.public_key(), b"epoch 7", &epoch_key).unwrap())
            .collect();
        assert_eq!(WrappedKey::LEN, 56);
        let e = sealer.ephemeral_public();
        for (i, member) in members.iter().enumerate() {
            let unwrapper = KeyUnwrapper::new(member, &e, &LABEL).unwrap();
            let mine: Vec<usize> =
                (0..entries.len()).filter(|&j| entries[j].hint() == unwrapper.hint()).collect();
            assert_eq!(mine, vec![i], "exactly one entry carries this member's hint");
            assert_eq!(unwrapper.unwrap_key(b"epoch 7", &entries[i]).unwrap(), epoch_key);
            assert_eq!(
                unwrapper.unwrap_key(b"epoch 8", &entries[i]),
                Err(SealedBoxError::Unauthenticated)
            );
            let other = &entries[(i + 1) % entries.len()];
            assert_eq!(
                unwrapper.unwrap_key(b"epoch 7", other),
                Err(SealedBoxError::Unauthenticated)
            );
            let wrong_label = KeyUnwrapper::new(member, &e, &OTHER).unwrap();
            assert_eq!(
                wrong_label.unwrap_key(b"epoch 7", &entries[i]),
                Err(SealedBoxError::Unauthenticated)
            );
        }
        assert_eq!(
            sealer.wrap_key(&members[0].public_key(), b"epoch 7", &epoch_key),
            Err(SealedBoxError::DuplicateRecipient)
        );
        assert_eq!(
            sealer.wrap_key(&DhPublicKey::from_bytes([0; 32]), b"", &epoch_key),
            Err(SealedBoxError::InvalidRecipient)
        );
        assert_eq!(
            KeyUnwrapper::new(&members[0], &DhPublicKey::from_bytes([0; 32]), &LABEL).unwrap_err(),
            SealedBoxError::Unauthenticated
        );
    }

    #[test]
    fn debug_output_has_no_key_material() {
        let sealer = MultiRecipientSealer::new(&LABEL, &mut rng(30));
        let secret = *sealer.ephemeral.expose_secret();
        let debug = assert_debug_redacted(&sealer, &secret);
        assert!(debug.starts_with("MultiRecipientSealer { ephemeral_public: DhPublicKey("));

        let me = DhKeyPair::generate(&mut rng(31));
        let unwrapper = KeyUnwrapper::new(&me, &sealer.ephemeral_public(), &LABEL).unwrap();
        let kek = *unwrapper.kek.expose_secret();
        let debug = assert_debug_redacted(&unwrapper, &kek);
        assert!(debug.starts_with("KeyUnwrapper { hint: RecipientHint("), "{debug}");
        assert_debug_redacted(&unwrapper, me.expose_secret());
    }

    #[test]
    fn wrapped_key_parsing() {
        assert_eq!(
            WrappedKey::try_from(&[0u8; 55][..]),
            Err(DecodeError::Length { field: "wrapped_key", expected: 56, actual: 55 })
        );
        let mut bytes = [0u8; 56];
        bytes[..8].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let entry = WrappedKey::try_from(&bytes[..]).unwrap();
        assert_eq!(entry.hint().as_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(entry.to_bytes(), bytes);
    }

    /// Every committed seed of the `crypto_decode` and `crypto_open` fuzz targets, through the
    /// same parsers and openers, with the harness's input layouts and fixed keys
    /// (`fuzz/src/crypto.rs`; vodozemac's `run_corpus`).
    #[test]
    fn fuzz_seed_corpus_never_panics() {
        use crate::{
            Aes256GcmKey, IdentityKeyPair, IdentityPublicKey, Signature, SignatureContext,
        };

        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let seeds = |target: &str| -> Vec<Vec<u8>> {
            let dir = std::fs::read_dir(corpus.join(target)).expect("seed corpus is committed");
            let seeds: Vec<_> = dir.map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
            assert!(!seeds.is_empty(), "{target} has seeds");
            seeds
        };
        const CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/fuzz/signature/v1");
        for data in seeds("crypto_decode") {
            let _ = IdentityPublicKey::try_from(data.as_slice());
            let _ = Signature::try_from(data.as_slice());
            let _ = DhPublicKey::try_from(data.as_slice());
            let _ = Nonce::try_from(data.as_slice());
            let _ = WrappedKey::try_from(data.as_slice());
            let _ = IdentityKeyPair::from_secret_slice(&mut data.clone());
            let _ = DhKeyPair::from_secret_slice(&mut data.clone());
            let _ = SymmetricKey::from_secret_slice(&mut data.clone());
            if let Ok(text) = core::str::from_utf8(&data) {
                let _ = IdentityPublicKey::from_hex(text);
            }
            if let Some((key, rest)) = data.split_first_chunk::<32>()
                && let Ok(key) = IdentityPublicKey::from_bytes(key)
                && let Some((signature, message)) = rest.split_first_chunk::<64>()
            {
                let _ = key.verify(&CONTEXT, message, &Signature::from_bytes(*signature));
            }
        }
        // Input layout: op (1) ‖ aad_len (1) ‖ aad ‖ body; keys from the harness's seed.
        let mut rng = rng(0x6b61_6977_6163_7279);
        let recipient = DhKeyPair::generate(&mut rng);
        let chacha = ChaCha20Poly1305Key::generate(&mut rng);
        let aes = Aes256GcmKey::generate(&mut rng);
        const SEAL: SealLabel = SealLabel::new(b"kaiwa/fuzz/sealed-box/v1");
        const WRAP: SealLabel = SealLabel::new(b"kaiwa/fuzz/key-wrap/v1");
        for data in seeds("crypto_open") {
            let Some(([op, aad_len], rest)) = data.split_first_chunk::<2>() else { continue };
            let (aad, body) = rest.split_at(usize::from(*aad_len).min(rest.len()));
            match op % 4 {
                0 => drop(open_box(&recipient, &SEAL, aad, body)),
                1 => {
                    let Some((ephemeral, entries)) = body.split_first_chunk::<32>() else {
                        continue;
                    };
                    let ephemeral = DhPublicKey::from_bytes(*ephemeral);
                    let Ok(unwrapper) = KeyUnwrapper::new(&recipient, &ephemeral, &WRAP) else {
                        continue;
                    };
                    for entry in entries.chunks(WrappedKey::LEN) {
                        if let Ok(entry) = WrappedKey::try_from(entry) {
                            let _ = unwrapper.unwrap_key(aad, &entry);
                        }
                    }
                }
                op => {
                    let Some((nonce, ciphertext)) = body.split_first_chunk::<12>() else {
                        continue;
                    };
                    let nonce = Nonce::from_bytes(*nonce);
                    if op == 2 {
                        drop(chacha.open(&nonce, aad, ciphertext));
                    } else {
                        drop(aes.open(&nonce, aad, ciphertext));
                    }
                }
            }
        }
    }
}
