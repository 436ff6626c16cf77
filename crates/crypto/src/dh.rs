//! X25519 Diffie-Hellman (RFC 7748) with non-contributory output rejected.
//!
//! ```text
//! shared = X25519(our_secret, their_public)           (32 bytes)
//! reject  if shared == 0^32                           (their_public has small order;
//!                                                      RFC 7748 §6.1, checked in constant time)
//! ```
//!
//! Three key types, by lifetime:
//! - [`DhKeyPair`]: reusable and persistable (identity DH key, signed prekeys, ratchet keys,
//!   organization keys);
//! - [`EphemeralKeyPair`]: one use, enforced by the type: its DH methods consume it, so it
//!   cannot be used again or stored (X3DH's `EK`, a sealed box's ephemeral key);
//! - [`DhPublicKey`]: any 32 bytes, as RFC 7748 defines X25519 public keys; whether a key is
//!   usable is decided where it matters, by the DH output check.

use core::fmt;

use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::hex::write_hex;
use crate::secret::{impl_secret_traits, take_secret_slice};
use crate::{DecodeError, DhError};

/// An X25519 public key (a Montgomery u-coordinate), 32 bytes.
///
/// Every 32-byte string is accepted, as RFC 7748 §5 requires; a key of small order is
/// caught when a DH with it yields the all-zero output ([`DhError::NonContributory`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DhPublicKey([u8; DhPublicKey::LEN]);

impl DhPublicKey {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// Wraps public key bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The 32 key bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The 32 key bytes, copied.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; Self::LEN] {
        self.0
    }
}

impl TryFrom<&[u8]> for DhPublicKey {
    type Error = DecodeError;

    /// Parses a key of unchecked length (a field of a decoded message).
    fn try_from(bytes: &[u8]) -> Result<Self, DecodeError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length {
            field: "dh_public_key",
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }
}

impl AsRef<[u8]> for DhPublicKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for DhPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DhPublicKey(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// The output of an X25519 exchange, known to be contributory (not all zero).
///
/// A secret: wiped on drop, no `Clone`, redacted `Debug`. Feed it to HKDF via
/// [`expose_secret`](Self::expose_secret); never use it as a key directly.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret(Box<[u8; SharedSecret::LEN]>);

impl_secret_traits!(SharedSecret);

impl SharedSecret {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// The shared secret bytes. The only accessor.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

/// X25519 with the all-zero check, in constant time (`was_contributory`).
fn exchange(secret: &StaticSecret, theirs: &DhPublicKey) -> Result<SharedSecret, DhError> {
    let shared = secret.diffie_hellman(&PublicKey::from(theirs.0));
    if !shared.was_contributory() {
        return Err(DhError::NonContributory);
    }
    let mut out = Box::new([0u8; SharedSecret::LEN]);
    out.copy_from_slice(shared.as_bytes());
    // `shared` wipes itself on drop.
    Ok(SharedSecret(out))
}

fn public_of(secret: &StaticSecret) -> DhPublicKey {
    DhPublicKey(PublicKey::from(secret).to_bytes())
}

fn static_from(bytes: &mut [u8; 32]) -> Box<StaticSecret> {
    let secret = Box::new(StaticSecret::from(*bytes));
    bytes.zeroize();
    secret
}

/// A reusable X25519 key pair: identity DH key, signed prekey, ratchet key, organization key.
///
/// A secret: wiped on drop (x25519-dalek's `StaticSecret` zeroizes itself), no `Clone`,
/// redacted `Debug`.
pub struct DhKeyPair {
    secret: Box<StaticSecret>,
    public: DhPublicKey,
}

impl ZeroizeOnDrop for DhKeyPair {}

impl DhKeyPair {
    /// Length of the secret key in bytes.
    pub const SECRET_LEN: usize = 32;

    /// A fresh key pair from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_static(Box::new(StaticSecret::random_from_rng(rng)))
    }

    fn from_static(secret: Box<StaticSecret>) -> Self {
        let public = public_of(&secret);
        Self { secret, public }
    }

    /// Restores a key pair from its 32-byte secret (as returned by
    /// [`expose_secret`](Self::expose_secret); clamping happens inside X25519) and wipes the
    /// caller's copy.
    pub fn from_secret_bytes(bytes: &mut [u8; Self::SECRET_LEN]) -> Self {
        Self::from_static(static_from(bytes))
    }

    /// Like [`from_secret_bytes`](Self::from_secret_bytes) for a slice of unchecked length
    /// (a field of a decoded record). Wiped on success, untouched on error.
    ///
    /// # Errors
    /// [`DecodeError::Length`] if `bytes` is not exactly 32 bytes long.
    pub fn from_secret_slice(bytes: &mut [u8]) -> Result<Self, DecodeError> {
        let mut boxed = take_secret_slice::<32>("dh_secret_key", bytes)?;
        Ok(Self::from_secret_bytes(&mut boxed))
    }

    /// Restores a key pair from its 32-byte secret and the public key persisted beside it,
    /// without recomputing the public key (an X25519 base-point multiplication, the whole
    /// cost of [`from_secret_slice`](Self::from_secret_slice)), and wipes the caller's copy
    /// of the secret. libsignal's session records likewise hold both halves of the ratchet
    /// key pair and read them back as they are.
    ///
    /// Only for the holder's own persisted state, which is trusted like the secret stored in
    /// it: the pair is **not checked**. If `public` is not the public key of the secret, the
    /// key pair announces `public` while its exchanges use the secret, so a peer's DH with
    /// `public` does not match ours and whatever is keyed from it fails to authenticate.
    /// Nothing panics and no secret is exposed; the secret itself is used as is. Key material
    /// from anyone else goes through [`from_secret_slice`](Self::from_secret_slice).
    ///
    /// # Errors
    /// [`DecodeError::Length`] if `secret` is not exactly 32 bytes long (it is left
    /// untouched then).
    pub fn from_secret_slice_and_public(
        secret: &mut [u8],
        public: DhPublicKey,
    ) -> Result<Self, DecodeError> {
        let mut boxed = take_secret_slice::<32>("dh_secret_key", secret)?;
        Ok(Self { secret: static_from(&mut boxed), public })
    }

    /// The 32-byte secret key, for persistence. The only accessor.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; Self::SECRET_LEN] {
        self.secret.as_bytes()
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> DhPublicKey {
        self.public
    }

    /// X25519 with `theirs`.
    ///
    /// # Errors
    /// [`DhError::NonContributory`] if the output is all zero (`theirs` has small order).
    pub fn diffie_hellman(&self, theirs: &DhPublicKey) -> Result<SharedSecret, DhError> {
        exchange(&self.secret, theirs)
    }
}

impl fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { secret: _, public } = self;
        f.debug_struct("DhKeyPair").field("public", public).finish_non_exhaustive()
    }
}

impl ConstantTimeEq for DhKeyPair {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.expose_secret().ct_eq(other.expose_secret())
    }
}

impl PartialEq for DhKeyPair {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for DhKeyPair {}

/// A single-use X25519 key pair. Its exchanges consume it, so the compiler enforces that the
/// secret is used for one handshake only and never stored.
///
/// A handshake that needs several DH values from the same ephemeral key (X3DH's
/// `DH(EK, IK)` and `DH(EK, SPK)`) gets them all from one call to
/// [`diffie_hellman_many`](Self::diffie_hellman_many).
pub struct EphemeralKeyPair {
    secret: Box<StaticSecret>,
    public: DhPublicKey,
}

impl ZeroizeOnDrop for EphemeralKeyPair {}

impl EphemeralKeyPair {
    /// A fresh ephemeral key pair from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = Box::new(StaticSecret::random_from_rng(rng));
        let public = public_of(&secret);
        Self { secret, public }
    }

    /// The public key, to send to the peer. Read it before the exchange consumes the pair.
    #[must_use]
    pub fn public_key(&self) -> DhPublicKey {
        self.public
    }

    /// X25519 with `theirs`, consuming the key pair.
    ///
    /// # Errors
    /// [`DhError::NonContributory`] if the output is all zero.
    pub fn diffie_hellman(self, theirs: &DhPublicKey) -> Result<SharedSecret, DhError> {
        exchange(&self.secret, theirs)
    }

    /// X25519 with each of `theirs`, in order, consuming the key pair.
    ///
    /// # Errors
    /// [`DhError::NonContributory`] if any output is all zero; the other outputs are wiped.
    pub fn diffie_hellman_many<const N: usize>(
        self,
        theirs: [&DhPublicKey; N],
    ) -> Result<[SharedSecret; N], DhError> {
        let secrets: Vec<SharedSecret> =
            theirs.iter().map(|key| exchange(&self.secret, key)).collect::<Result<_, _>>()?;
        // Exactly N outputs were computed, so the conversion cannot fail.
        secrets.try_into().map_err(|_| DhError::NonContributory)
    }
}

impl fmt::Debug for EphemeralKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { secret: _, public } = self;
        f.debug_struct("EphemeralKeyPair").field("public", public).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::test_util::assert_debug_redacted;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn debug_output_has_no_key_material_and_caller_copy_is_wiped() {
        let mut bytes = [0x3C; 32];
        let pair = DhKeyPair::from_secret_bytes(&mut bytes);
        assert_eq!(bytes, [0; 32], "the caller's copy must be wiped");
        let debug = assert_debug_redacted(&pair, &[0x3C; 32]);
        assert!(debug.starts_with("DhKeyPair { public: DhPublicKey("), "{debug}");

        let eph = EphemeralKeyPair::generate(&mut rng(1));
        let eph_secret = *eph.secret.as_bytes();
        let debug = assert_debug_redacted(&eph, &eph_secret);
        assert!(debug.starts_with("EphemeralKeyPair { public: DhPublicKey("), "{debug}");

        let other = DhKeyPair::generate(&mut rng(2));
        let shared = pair.diffie_hellman(&other.public_key()).unwrap();
        let shared_bytes = *shared.expose_secret();
        assert_eq!(assert_debug_redacted(&shared, &shared_bytes), "SharedSecret(..)");
    }

    #[test]
    fn both_sides_agree_and_persistence_round_trips() {
        let alice = DhKeyPair::generate(&mut rng(3));
        let bob = DhKeyPair::generate(&mut rng(4));
        let ab = alice.diffie_hellman(&bob.public_key()).unwrap();
        let ba = bob.diffie_hellman(&alice.public_key()).unwrap();
        assert_eq!(ab, ba);

        let mut record = alice.expose_secret().to_vec();
        let restored = DhKeyPair::from_secret_slice(&mut record).unwrap();
        assert_eq!(record, vec![0; 32]);
        assert_eq!(restored, alice);
        assert_eq!(restored.public_key(), alice.public_key());
        assert_eq!(
            DhKeyPair::from_secret_slice(&mut [0u8; 5]).unwrap_err(),
            DecodeError::Length { field: "dh_secret_key", expected: 32, actual: 5 }
        );
    }

    #[test]
    fn a_pair_restored_with_its_stored_public_key_is_the_same_pair() {
        let original = DhKeyPair::generate(&mut rng(11));
        let peer = DhKeyPair::generate(&mut rng(12));
        let mut secret = original.expose_secret().to_vec();
        let restored =
            DhKeyPair::from_secret_slice_and_public(&mut secret, original.public_key()).unwrap();
        assert_eq!(secret, vec![0; 32], "the caller's copy must be wiped");
        assert_eq!(restored, original);
        assert_eq!(restored.public_key(), original.public_key());
        assert_eq!(
            restored.diffie_hellman(&peer.public_key()).unwrap(),
            original.diffie_hellman(&peer.public_key()).unwrap()
        );

        let mut short = [7u8; 31];
        assert_eq!(
            DhKeyPair::from_secret_slice_and_public(&mut short, original.public_key()).unwrap_err(),
            DecodeError::Length { field: "dh_secret_key", expected: 32, actual: 31 }
        );
        assert_eq!(short, [7; 31], "untouched on error");
    }

    #[test]
    fn a_mismatched_stored_public_key_is_announced_but_never_agrees() {
        // The at-rest-trust case: the pair is not checked, so the stored public key is what
        // the pair announces, while its exchanges use the secret. A peer keying from the
        // announced key does not reach our shared secret; nothing panics.
        let original = DhKeyPair::generate(&mut rng(13));
        let other = DhKeyPair::generate(&mut rng(14)).public_key();
        let peer = DhKeyPair::generate(&mut rng(15));
        let mut secret = *original.expose_secret();
        let odd = DhKeyPair::from_secret_slice_and_public(&mut secret, other).unwrap();
        assert_eq!(odd.public_key(), other);
        let ours = odd.diffie_hellman(&peer.public_key()).unwrap();
        assert_eq!(ours, original.diffie_hellman(&peer.public_key()).unwrap());
        assert_ne!(ours, peer.diffie_hellman(&odd.public_key()).unwrap());
    }

    #[test]
    fn ephemeral_many_equals_single() {
        let a = DhKeyPair::generate(&mut rng(5));
        let b = DhKeyPair::generate(&mut rng(6));
        let eph = EphemeralKeyPair::generate(&mut rng(7));
        let eph_pub = eph.public_key();
        let [sa, sb] = eph.diffie_hellman_many([&a.public_key(), &b.public_key()]).unwrap();
        assert_eq!(sa, a.diffie_hellman(&eph_pub).unwrap());
        assert_eq!(sb, b.diffie_hellman(&eph_pub).unwrap());
        let single = EphemeralKeyPair::generate(&mut rng(7)).diffie_hellman(&a.public_key());
        assert_eq!(single.unwrap(), sa, "same rng seed, same ephemeral");
    }

    #[test]
    fn small_order_peers_are_rejected() {
        let pair = DhKeyPair::generate(&mut rng(8));
        // u = 0 and u = 1 have small order; so does p (non-canonical 0).
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        let mut one = [0u8; 32];
        one[0] = 1;
        for bad in [[0u8; 32], one, p] {
            let key = DhPublicKey::from_bytes(bad);
            assert_eq!(pair.diffie_hellman(&key).unwrap_err(), DhError::NonContributory);
            let eph = EphemeralKeyPair::generate(&mut rng(9));
            assert_eq!(eph.diffie_hellman(&key).unwrap_err(), DhError::NonContributory);
        }
        let eph = EphemeralKeyPair::generate(&mut rng(10));
        let good = pair.public_key();
        let zero = DhPublicKey::from_bytes([0; 32]);
        assert_eq!(eph.diffie_hellman_many([&good, &zero]).unwrap_err(), DhError::NonContributory);
    }

    #[test]
    fn public_key_parsing() {
        assert_eq!(
            DhPublicKey::try_from(&[0u8; 33][..]),
            Err(DecodeError::Length { field: "dh_public_key", expected: 32, actual: 33 })
        );
        let key = DhPublicKey::try_from(&[7u8; 32][..]).unwrap();
        assert_eq!(key.to_bytes(), [7; 32]);
        assert_eq!(format!("{key:?}"), format!("DhPublicKey({})", "07".repeat(32)));
    }
}
