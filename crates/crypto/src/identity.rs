//! Ed25519 identity keys and domain-separated signatures (RFC 8032, verified strictly).
//!
//! Every kaiwa signature is over a context-prefixed input, so a signature made for one
//! purpose can never be replayed as another:
//!
//! ```text
//! signing_input = u8(len(context)) ‖ context ‖ message        1 <= len(context) <= 255
//! signature     = Ed25519-Sign(identity_secret, signing_input)  (64 bytes: R ‖ S)
//!
//! sign_parts / verify_parts: message = part_0 ‖ part_1 ‖ ... (plain concatenation; the
//!                            caller's encoding must make the parts unambiguous)
//! ```
//!
//! The length prefix makes the context unambiguous even when one context is a prefix of
//! another. Contexts are constants of the form `b"kaiwa/<protocol>/<purpose>/v1"`, made
//! with [`SignatureContext::new`].
//!
//! Verification is `verify_strict` (ed25519-dalek): `S` must be canonical (`S < ℓ`), `R`
//! and `A` must not have small order, and `R` must be the canonical encoding of
//! `[S]B - [k]A` (cofactorless). In addition, [`IdentityPublicKey`] only holds keys that are
//! canonically encoded and not of small order, so a key has exactly one byte form, one
//! `0x…` text form, and cannot sign "for any message".
//!
//! ```text
//! identity public key text form:  "0x" ‖ 64 lowercase hex digits      (DECISIONS: Suite)
//! ```

use core::fmt;

use ed25519_dalek::ed25519::signature::MultipartSigner as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize as _, ZeroizeOnDrop};

use crate::hex::{decode_lower, write_hex};
use crate::{BatchVerifyError, DecodeError, SignatureError};

/// A domain-separation context for signatures, e.g.
/// `SignatureContext::new(b"kaiwa/group/membership-event/v1")`.
///
/// Use one constant per kind of signed object, and never the same one for two purposes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignatureContext(&'static [u8]);

impl SignatureContext {
    /// Wraps a context label.
    ///
    /// # Panics
    /// If `context` is empty or longer than 255 bytes. Contexts are constants, so declare
    /// them as `const` items: the check then runs at compile time and a bad label is a build
    /// error, never a runtime panic.
    #[must_use]
    pub const fn new(context: &'static [u8]) -> Self {
        assert!(
            !context.is_empty() && context.len() <= 255,
            "a signature context is 1 to 255 bytes"
        );
        Self(context)
    }

    /// The label bytes (without the length prefix).
    #[must_use]
    pub const fn as_bytes(&self) -> &'static [u8] {
        self.0
    }

    /// `u8(len)`; `new` guarantees the length fits.
    fn length_prefix(&self) -> [u8; 1] {
        [u8::try_from(self.0.len()).unwrap_or(u8::MAX)]
    }

    /// `u8(len(context)) ‖ context ‖ part_0 ‖ part_1 ‖ ...`, in one buffer (for
    /// `verify_strict`, which takes a contiguous message).
    fn signing_input(&self, parts: &[&[u8]]) -> Vec<u8> {
        let len = 1 + self.0.len() + parts.iter().map(|p| p.len()).sum::<usize>();
        let mut input = Vec::with_capacity(len);
        input.extend_from_slice(&self.length_prefix());
        input.extend_from_slice(self.0);
        for part in parts {
            input.extend_from_slice(part);
        }
        input
    }
}

impl fmt::Debug for SignatureContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SignatureContext").field(&self.0.escape_ascii().to_string()).finish()
    }
}

/// An account's Ed25519 identity key pair (the secret signing key and its public key).
///
/// A secret: wiped on drop (ed25519-dalek's `SigningKey` zeroizes itself), no `Clone`,
/// redacted `Debug`. Persist it only through [`expose_secret`](Self::expose_secret) and
/// restore it with [`from_secret_bytes`](Self::from_secret_bytes).
pub struct IdentityKeyPair {
    signing: Box<SigningKey>,
    public: IdentityPublicKey,
}

impl ZeroizeOnDrop for IdentityKeyPair {}

impl IdentityKeyPair {
    /// Length of the secret key (the RFC 8032 seed) in bytes.
    pub const SECRET_LEN: usize = 32;

    /// A fresh key pair from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_signing_key(Box::new(SigningKey::generate(rng)))
    }

    /// Restores a key pair from its 32-byte secret (the RFC 8032 private key, as returned by
    /// [`expose_secret`](Self::expose_secret)) and wipes the caller's copy.
    pub fn from_secret_bytes(bytes: &mut [u8; Self::SECRET_LEN]) -> Self {
        let signing = Box::new(SigningKey::from_bytes(bytes));
        bytes.zeroize();
        Self::from_signing_key(signing)
    }

    /// Like [`from_secret_bytes`](Self::from_secret_bytes) for a slice of unchecked length
    /// (a field of a decoded record). Wiped on success, untouched on error.
    ///
    /// # Errors
    /// [`DecodeError::Length`] if `bytes` is not exactly 32 bytes long.
    pub fn from_secret_slice(bytes: &mut [u8]) -> Result<Self, DecodeError> {
        let actual = bytes.len();
        let secret: &mut [u8; Self::SECRET_LEN] = bytes.try_into().map_err(|_| {
            DecodeError::Length { field: "identity_secret_key", expected: 32, actual }
        })?;
        Ok(Self::from_secret_bytes(secret))
    }

    fn from_signing_key(signing: Box<SigningKey>) -> Self {
        // An honestly generated key is never weak or non-canonical.
        let public = IdentityPublicKey(signing.verifying_key());
        Self { signing, public }
    }

    /// The 32-byte secret key, for persistence. The only accessor.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; Self::SECRET_LEN] {
        self.signing.as_bytes()
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> IdentityPublicKey {
        self.public
    }

    /// Signs `u8(len(context)) ‖ context ‖ message`.
    #[must_use]
    pub fn sign(&self, context: &SignatureContext, message: &[u8]) -> Signature {
        self.sign_parts(context, &[message])
    }

    /// Signs `u8(len(context)) ‖ context ‖ parts[0] ‖ parts[1] ‖ ...` without building the
    /// concatenation. Equivalent to [`sign`](Self::sign) over the concatenated parts.
    #[must_use]
    pub fn sign_parts(&self, context: &SignatureContext, parts: &[&[u8]]) -> Signature {
        let prefix = context.length_prefix();
        let mut input: Vec<&[u8]> = Vec::with_capacity(parts.len() + 2);
        input.push(&prefix);
        input.push(context.0);
        input.extend_from_slice(parts);
        Signature(self.signing.multipart_sign(&input).to_bytes())
    }
}

impl fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { signing: _, public } = self;
        f.debug_struct("IdentityKeyPair").field("public", public).finish_non_exhaustive()
    }
}

impl ConstantTimeEq for IdentityKeyPair {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.expose_secret().ct_eq(other.expose_secret())
    }
}

impl PartialEq for IdentityKeyPair {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for IdentityKeyPair {}

/// An Ed25519 public identity key: a canonically encoded curve point that is not of small
/// order. 32 bytes; text form `0x` + 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentityPublicKey(VerifyingKey);

/// Whether the 255-bit `y` of a compressed Edwards point is below `p = 2^255 - 19`.
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let [first, middle @ .., last] = bytes;
    let y_at_least_p = (last & 0x7f) == 0x7f && middle.iter().all(|&b| b == 0xff) && *first >= 0xed;
    !y_at_least_p
}

/// Decodes a compressed Edwards point under the rules `verify_strict` applies to `A` and
/// `R`, plus canonical encoding. `None` if it is not on the curve, not canonical, or of
/// small order.
fn decode_strict_point(bytes: &[u8; 32]) -> Option<VerifyingKey> {
    // The point with x = 0 and the sign bit set is the other non-canonical encoding; both
    // x = 0 points (y = ±1) have small order and are rejected by `is_weak`.
    if !is_canonical_y(bytes) {
        return None;
    }
    let key = VerifyingKey::from_bytes(bytes).ok()?;
    (!key.is_weak()).then_some(key)
}

impl IdentityPublicKey {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// Parses a public key.
    ///
    /// # Errors
    /// [`DecodeError::InvalidKey`] if the bytes are not a point on the curve, not its
    /// canonical encoding, or a point of small order (such a key could "sign" any message).
    pub fn from_bytes(bytes: &[u8; Self::LEN]) -> Result<Self, DecodeError> {
        decode_strict_point(bytes)
            .map(Self)
            .ok_or(DecodeError::InvalidKey { field: "identity_public_key" })
    }

    /// The 32 key bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        self.0.as_bytes()
    }

    /// The 32 key bytes, copied.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        self.0.to_bytes()
    }

    /// The text form: `0x` followed by 64 lowercase hex digits.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses the text form produced by [`to_hex`](Self::to_hex). Only that exact form is
    /// accepted (`0x` prefix, 64 lowercase digits), so each key has one text form.
    ///
    /// # Errors
    /// [`DecodeError::Hex`] if the text is malformed, and the errors of
    /// [`from_bytes`](Self::from_bytes) if it does not encode a valid key.
    pub fn from_hex(text: &str) -> Result<Self, DecodeError> {
        let field = "identity_public_key";
        let digits = text.strip_prefix("0x").ok_or(DecodeError::Hex { field })?;
        let bytes = decode_lower::<32>(digits.as_bytes()).ok_or(DecodeError::Hex { field })?;
        Self::from_bytes(&bytes)
    }

    /// Verifies `signature` over `u8(len(context)) ‖ context ‖ message` with
    /// `verify_strict`.
    ///
    /// # Errors
    /// [`SignatureError::Invalid`] if the signature does not verify (opaque).
    pub fn verify(
        &self,
        context: &SignatureContext,
        message: &[u8],
        signature: &Signature,
    ) -> Result<(), SignatureError> {
        self.verify_parts(context, &[message], signature)
    }

    /// Verifies a signature made with [`IdentityKeyPair::sign_parts`] (or with `sign` over
    /// the concatenated parts).
    ///
    /// # Errors
    /// [`SignatureError::Invalid`] if the signature does not verify (opaque).
    pub fn verify_parts(
        &self,
        context: &SignatureContext,
        parts: &[&[u8]],
        signature: &Signature,
    ) -> Result<(), SignatureError> {
        let input = context.signing_input(parts);
        let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0.verify_strict(&input, &signature).map_err(|_| SignatureError::Invalid)
    }
}

impl TryFrom<&[u8]> for IdentityPublicKey {
    type Error = DecodeError;

    /// Parses a key of unchecked length (a field of a decoded message).
    fn try_from(bytes: &[u8]) -> Result<Self, DecodeError> {
        let array: &[u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length {
            field: "identity_public_key",
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Self::from_bytes(array)
    }
}

impl PartialOrd for IdentityPublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdentityPublicKey {
    /// Byte-wise order of the encodings (deterministic tie-breaks in protocols).
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Display for IdentityPublicKey {
    /// The text form, `0x` + 64 lowercase hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        write_hex(f, self.as_bytes())
    }
}

impl fmt::Debug for IdentityPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityPublicKey({self})")
    }
}

/// An Ed25519 signature, `R ‖ S`, 64 bytes. Any 64 bytes parse; validity is decided by
/// [`IdentityPublicKey::verify`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature([u8; Signature::LEN]);

impl Signature {
    /// Length in bytes.
    pub const LEN: usize = 64;

    /// Wraps signature bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The 64 signature bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The 64 signature bytes, copied.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; Self::LEN] {
        self.0
    }

    /// `R`, the first half. (The fallback is unreachable for a 64-byte array and would
    /// be a non-canonical encoding, which is rejected.)
    fn r_bytes(&self) -> [u8; 32] {
        self.0.first_chunk::<32>().copied().unwrap_or([0xff; 32])
    }
}

impl TryFrom<&[u8]> for Signature {
    type Error = DecodeError;

    /// Parses a signature of unchecked length (a field of a decoded message).
    fn try_from(bytes: &[u8]) -> Result<Self, DecodeError> {
        let array: [u8; 64] = bytes.try_into().map_err(|_| DecodeError::Length {
            field: "signature",
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// One signature to check in [`verify_batch`].
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The claimed signer.
    pub key: &'a IdentityPublicKey,
    /// The context the signature was made under.
    pub context: &'a SignatureContext,
    /// The signed message (without the context).
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a Signature,
}

/// Verifies many signatures at once (Ed25519 batch verification), noticeably faster per
/// signature than calling [`IdentityPublicKey::verify`] on each.
///
/// Returns `Ok(())` if the batch equation holds for every item. If it does not, every item
/// is verified on its own with `verify_strict`, and the first invalid one is reported; that
/// per-item verdict is then the answer, so a failed batch never rejects a valid signature.
///
/// Before the batch equation, each item is held to the same encoding rules as `verify_strict`
/// (canonical `S`, `R` a canonical point not of small order; `A` already is by type).
///
/// **Agreement with [`IdentityPublicKey::verify`].** For every signature an honest signer
/// can produce the two agree. They can differ only on inputs crafted by the holder of a
/// key, with a non-zero small-order (torsion) component in `R` or `A`: the cofactorless batch
/// equation may then hold even though `verify_strict` rejects the item alone. That is not a
/// forgery (only the key holder can build it), but two clients that batch differently could
/// disagree about such a signature. Where independent parties must reach the same decision
/// on adversarial input (a membership log, an organization description), use
/// [`IdentityPublicKey::verify`], which is exact.
///
/// # Errors
/// [`BatchVerifyError::Invalid`] with the index of the first invalid item.
pub fn verify_batch(items: &[BatchItem<'_>]) -> Result<(), BatchVerifyError> {
    if batch_equation_holds(items) {
        return Ok(());
    }
    for (index, item) in items.iter().enumerate() {
        item.key
            .verify(item.context, item.message, item.signature)
            .map_err(|_| BatchVerifyError::Invalid { index })?;
    }
    Ok(())
}

fn batch_equation_holds(items: &[BatchItem<'_>]) -> bool {
    if items.iter().any(|item| decode_strict_point(&item.signature.r_bytes()).is_none()) {
        return false;
    }
    let inputs: Vec<Vec<u8>> =
        items.iter().map(|item| item.context.signing_input(&[item.message])).collect();
    let messages: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let signatures: Vec<ed25519_dalek::Signature> =
        items.iter().map(|item| ed25519_dalek::Signature::from_bytes(&item.signature.0)).collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|item| item.key.0).collect();
    // Rejects a non-canonical `S` itself.
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

#[cfg(test)]
mod vectors;

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::test_util::assert_debug_redacted;

    const CTX: SignatureContext = SignatureContext::new(b"kaiwa/test/unit/v1");
    const OTHER: SignatureContext = SignatureContext::new(b"kaiwa/test/other/v1");

    fn keypair(seed: u64) -> IdentityKeyPair {
        IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    #[test]
    fn debug_output_has_no_key_material_and_caller_copy_is_wiped() {
        let mut bytes = [0x5A; 32];
        let pair = IdentityKeyPair::from_secret_bytes(&mut bytes);
        assert_eq!(bytes, [0; 32], "the caller's copy must be wiped");
        let debug = assert_debug_redacted(&pair, &[0x5A; 32]);
        assert!(debug.starts_with("IdentityKeyPair { public: IdentityPublicKey(0x"), "{debug}");
        assert!(debug.ends_with(".. }"), "{debug}");

        let generated = keypair(9);
        let secret = *generated.expose_secret();
        assert_debug_redacted(&generated, &secret);
    }

    #[test]
    fn persistence_round_trip() {
        let pair = keypair(1);
        let mut secret = *pair.expose_secret();
        let restored = IdentityKeyPair::from_secret_bytes(&mut secret);
        assert_eq!(restored, pair);
        assert_eq!(restored.public_key(), pair.public_key());

        let mut record = pair.expose_secret().to_vec();
        let from_slice = IdentityKeyPair::from_secret_slice(&mut record).unwrap();
        assert_eq!(from_slice, pair);
        assert_eq!(record, vec![0; 32]);
        assert_eq!(
            IdentityKeyPair::from_secret_slice(&mut [1u8; 33]).unwrap_err(),
            DecodeError::Length { field: "identity_secret_key", expected: 32, actual: 33 }
        );
    }

    #[test]
    fn sign_verify_with_context_separation() {
        let pair = keypair(2);
        let public = pair.public_key();
        let sig = pair.sign(&CTX, b"hello");
        assert_eq!(public.verify(&CTX, b"hello", &sig), Ok(()));
        assert_eq!(public.verify(&OTHER, b"hello", &sig), Err(SignatureError::Invalid));
        assert_eq!(public.verify(&CTX, b"hellO", &sig), Err(SignatureError::Invalid));
        assert_eq!(
            keypair(3).public_key().verify(&CTX, b"hello", &sig),
            Err(SignatureError::Invalid)
        );

        // The signed bytes are exactly u8(len) ‖ context ‖ message, checked with plain Ed25519.
        let mut raw = vec![u8::try_from(CTX.as_bytes().len()).unwrap()];
        raw.extend_from_slice(CTX.as_bytes());
        raw.extend_from_slice(b"hello");
        let dalek_key = VerifyingKey::from_bytes(public.as_bytes()).unwrap();
        let dalek_sig = ed25519_dalek::Signature::from_bytes(sig.as_bytes());
        assert!(dalek_key.verify_strict(&raw, &dalek_sig).is_ok());
    }

    #[test]
    fn length_prefix_separates_prefix_contexts() {
        // Without the prefix, ("ab", "cX") and ("abc", "X") would sign the same bytes.
        const AB: SignatureContext = SignatureContext::new(b"ab");
        const ABC: SignatureContext = SignatureContext::new(b"abc");
        let pair = keypair(4);
        let sig = pair.sign(&AB, b"cX");
        assert_eq!(pair.public_key().verify(&ABC, b"X", &sig), Err(SignatureError::Invalid));
    }

    #[test]
    fn parts_equal_concatenation() {
        let pair = keypair(5);
        let sig = pair.sign_parts(&CTX, &[b"he", b"", b"llo"]);
        assert_eq!(sig, pair.sign(&CTX, b"hello"), "Ed25519 is deterministic");
        assert_eq!(pair.public_key().verify_parts(&CTX, &[b"hel", b"lo"], &sig), Ok(()));
    }

    #[test]
    fn public_key_text_form() {
        let public = keypair(6).public_key();
        let text = public.to_hex();
        assert_eq!(text.len(), 66);
        assert!(text.starts_with("0x"));
        assert!(text[2..].bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(IdentityPublicKey::from_hex(&text), Ok(public));
        let field = "identity_public_key";
        assert_eq!(IdentityPublicKey::from_hex(&text[2..]), Err(DecodeError::Hex { field }));
        assert_eq!(
            IdentityPublicKey::from_hex(&text.to_uppercase().replacen("0X", "0x", 1)),
            Err(DecodeError::Hex { field })
        );
        assert_eq!(IdentityPublicKey::from_hex(&text[..65]), Err(DecodeError::Hex { field }));
        assert_eq!(format!("{public:?}"), format!("IdentityPublicKey({text})"));
    }

    #[test]
    fn rejects_small_order_and_non_canonical_keys() {
        let field = "identity_public_key";
        // Identity point (0, 1), and its non-canonical twin with the sign bit set.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            IdentityPublicKey::from_bytes(&identity),
            Err(DecodeError::InvalidKey { field })
        );
        identity[31] = 0x80;
        assert_eq!(
            IdentityPublicKey::from_bytes(&identity),
            Err(DecodeError::InvalidKey { field })
        );
        // y = p + 1 ≡ 1 (non-canonical), and y = 2^255 - 1.
        let mut y = [0xff; 32];
        y[31] = 0x7f;
        y[0] = 0xee;
        assert_eq!(IdentityPublicKey::from_bytes(&y), Err(DecodeError::InvalidKey { field }));
        y[0] = 0xff;
        assert_eq!(IdentityPublicKey::from_bytes(&y), Err(DecodeError::InvalidKey { field }));
        // A non-canonical encoding of a valid key: y + p for a key whose y < 19.
        // (y = 2 is not on the curve, but none of 0..19 may be accepted in the p+y form.)
        for small_y in 0u8..19 {
            let mut enc = [0xffu8; 32];
            enc[31] = 0x7f;
            enc[0] = 0xed + small_y;
            assert!(IdentityPublicKey::from_bytes(&enc).is_err());
        }
        assert_eq!(
            IdentityPublicKey::try_from(&[0u8; 31][..]),
            Err(DecodeError::Length { field, expected: 32, actual: 31 })
        );
    }

    #[test]
    fn canonical_y_boundary() {
        let mut p_minus_1 = [0xffu8; 32];
        p_minus_1[31] = 0x7f;
        p_minus_1[0] = 0xec;
        assert!(is_canonical_y(&p_minus_1));
        p_minus_1[0] = 0xed;
        assert!(!is_canonical_y(&p_minus_1));
        // The sign bit is not part of y.
        let mut zero_with_sign = [0u8; 32];
        zero_with_sign[31] = 0x80;
        assert!(is_canonical_y(&zero_with_sign));
    }

    #[test]
    fn batch_verify_reports_first_invalid_index() {
        let pairs: Vec<IdentityKeyPair> = (0..8).map(keypair).collect();
        let keys: Vec<IdentityPublicKey> = pairs.iter().map(IdentityKeyPair::public_key).collect();
        let messages: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; usize::from(i) * 10]).collect();
        let mut sigs: Vec<Signature> =
            pairs.iter().zip(&messages).map(|(p, m)| p.sign(&CTX, m)).collect();
        let items = |sigs: &[Signature]| -> Vec<(usize, Signature)> {
            sigs.iter().copied().enumerate().collect()
        };
        let run = |sigs: &[Signature]| {
            let owned = items(sigs);
            let batch: Vec<BatchItem<'_>> = owned
                .iter()
                .map(|(i, s)| BatchItem {
                    key: &keys[*i],
                    context: &CTX,
                    message: &messages[*i],
                    signature: s,
                })
                .collect();
            verify_batch(&batch)
        };
        assert_eq!(run(&sigs), Ok(()));
        assert_eq!(run(&[]), Ok(()));
        let mut bad = sigs[5].to_bytes();
        bad[40] ^= 1;
        sigs[5] = Signature::from_bytes(bad);
        let mut bad = sigs[6].to_bytes();
        bad[0] ^= 1;
        sigs[6] = Signature::from_bytes(bad);
        assert_eq!(run(&sigs), Err(BatchVerifyError::Invalid { index: 5 }));
    }

    #[test]
    fn batch_rejects_non_canonical_s_like_verify_strict() {
        let pair = keypair(7);
        let sig = pair.sign(&CTX, b"m");
        // S + ℓ is accepted by the group equation but is not canonical.
        let ell: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut bytes = sig.to_bytes();
        let mut carry = 0u16;
        for (s, l) in bytes[32..].iter_mut().zip(ell) {
            let sum = u16::from(*s) + u16::from(l) + carry;
            *s = sum.to_le_bytes()[0];
            carry = sum >> 8;
        }
        let malleated = Signature::from_bytes(bytes);
        let key = pair.public_key();
        assert_eq!(key.verify(&CTX, b"m", &malleated), Err(SignatureError::Invalid));
        let item = BatchItem { key: &key, context: &CTX, message: b"m", signature: &malleated };
        assert_eq!(verify_batch(&[item]), Err(BatchVerifyError::Invalid { index: 0 }));
    }
}
