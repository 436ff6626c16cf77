//! The general 32-byte secret, and the rules every secret type of this crate follows.
//!
//! [`SymmetricKey`] is the currency of the protocol crates: HKDF and HMAC derive it, the AEAD
//! key types are made from it, and protocol crates wrap it in their own role newtypes
//! (`RootKey`, `ChainKey`, `MessageKey`, `OrgRatchetKey`, ...), so the role is in the type and
//! the handling rules are here, once.
//!
//! ```text
//! every secret type:
//!   - owns its bytes in a Box (a move copies a pointer, not the key)
//!   - Zeroize + ZeroizeOnDrop; no Clone, Copy, Serialize, Default
//!   - Debug prints `TypeName(..)`
//!   - ConstantTimeEq, and PartialEq/Eq only through it
//!   - enters through `from_secret_bytes(&mut [u8; N])`, which wipes the caller's copy
//!   - leaves only through `expose_secret()`, so `grep expose_secret` finds every use
//! ```

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::DecodeError;

/// Implements the redacted `Debug` and the constant-time equality shared by every secret
/// newtype whose only field is `Box<[u8; N]>`.
macro_rules! impl_secret_traits {
    ($ty:ident) => {
        impl ::core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(concat!(stringify!($ty), "(..)"))
            }
        }

        impl ::subtle::ConstantTimeEq for $ty {
            fn ct_eq(&self, other: &Self) -> ::subtle::Choice {
                self.0[..].ct_eq(&other.0[..])
            }
        }

        impl PartialEq for $ty {
            /// Constant time.
            fn eq(&self, other: &Self) -> bool {
                bool::from(::subtle::ConstantTimeEq::ct_eq(self, other))
            }
        }

        impl Eq for $ty {}
    };
}
pub(crate) use impl_secret_traits;

/// Takes `N` bytes out of a slice into a fresh box and wipes the slice. On a length mismatch
/// the slice is left untouched and nothing is allocated.
pub(crate) fn take_secret_slice<const N: usize>(
    field: &'static str,
    bytes: &mut [u8],
) -> Result<Box<[u8; N]>, DecodeError> {
    let actual = bytes.len();
    let source: &mut [u8; N] =
        bytes.try_into().map_err(|_| DecodeError::Length { field, expected: N, actual })?;
    let mut boxed = Box::new([0u8; N]);
    boxed.copy_from_slice(source);
    source.zeroize();
    Ok(boxed)
}

/// Moves `N` bytes into a fresh box and wipes the caller's copy.
pub(crate) fn take_secret<const N: usize>(bytes: &mut [u8; N]) -> Box<[u8; N]> {
    let mut boxed = Box::new([0u8; N]);
    boxed.copy_from_slice(bytes);
    bytes.zeroize();
    boxed
}

/// A 32-byte secret: a symmetric key, a chain key, a KDF output.
///
/// Protocol crates wrap it in a role newtype (`struct ChainKey(SymmetricKey)`) rather than
/// passing it around bare. Wiped on drop; no `Clone` (copy deliberately with
/// `from_secret_bytes(&mut expose_secret().clone())` if a protocol really needs two).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey(Box<[u8; SymmetricKey::LEN]>);

impl_secret_traits!(SymmetricKey);

impl SymmetricKey {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// A fresh uniformly random key from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = Box::new([0u8; Self::LEN]);
        rng.fill_bytes(&mut key[..]);
        Self(key)
    }

    /// Takes the key bytes and wipes the caller's copy.
    pub fn from_secret_bytes(bytes: &mut [u8; Self::LEN]) -> Self {
        Self(take_secret(bytes))
    }

    /// Like [`from_secret_bytes`](Self::from_secret_bytes) for a slice of unchecked length
    /// (a field of a decoded record). The slice is wiped on success and left as it was on
    /// error.
    ///
    /// # Errors
    /// [`DecodeError::Length`] if `bytes` is not exactly 32 bytes long.
    pub fn from_secret_slice(bytes: &mut [u8]) -> Result<Self, DecodeError> {
        take_secret_slice("symmetric_key", bytes).map(Self)
    }

    /// The key bytes. The only way to read them; every call site is a place where the key
    /// leaves the type's protection, so keep those few and obvious.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// An all-zero key for a derivation to write into (HKDF, HMAC), so the output lands in
    /// its final heap location without a stack copy.
    pub(crate) fn zeroed() -> Self {
        Self(Box::new([0u8; Self::LEN]))
    }

    /// Write access for the derivation that fills a [`zeroed`](Self::zeroed) key.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8; Self::LEN] {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use subtle::ConstantTimeEq;

    use super::*;
    use crate::test_util::assert_debug_redacted;

    #[test]
    fn debug_output_has_no_key_material_and_caller_copy_is_wiped() {
        let mut bytes = [0xAB; 32];
        let key = SymmetricKey::from_secret_bytes(&mut bytes);
        assert_eq!(bytes, [0; 32], "the caller's copy must be wiped");
        assert_eq!(key.expose_secret(), &[0xAB; 32]);
        assert_eq!(assert_debug_redacted(&key, &[0xAB; 32]), "SymmetricKey(..)");
    }

    /// Every secret type wipes itself on drop: derived `ZeroizeOnDrop` for the boxed byte
    /// newtypes, and for the key pairs the dalek secrets inside them (which zeroize in their
    /// own `Drop`). Reading freed memory to show it would need `unsafe`, which the workspace
    /// forbids; this checks the bound for every type, and `zeroize_wipes_the_bytes` checks
    /// what the derived `Drop` runs.
    #[test]
    fn every_secret_type_is_zeroize_on_drop() {
        fn wiped_on_drop<T: ZeroizeOnDrop>() {}
        wiped_on_drop::<SymmetricKey>();
        wiped_on_drop::<crate::Prk>();
        wiped_on_drop::<crate::SharedSecret>();
        wiped_on_drop::<crate::ChaCha20Poly1305Key>();
        wiped_on_drop::<crate::Aes256GcmKey>();
        wiped_on_drop::<crate::IdentityKeyPair>();
        wiped_on_drop::<crate::DhKeyPair>();
        wiped_on_drop::<crate::EphemeralKeyPair>();
        wiped_on_drop::<crate::MultiRecipientSealer>();
        wiped_on_drop::<crate::KeyUnwrapper>();
        wiped_on_drop::<ed25519_dalek::SigningKey>();
        wiped_on_drop::<x25519_dalek::StaticSecret>();
    }

    #[test]
    fn zeroize_wipes_the_bytes() {
        let mut key = SymmetricKey::from_secret_bytes(&mut [0xAB; 32]);
        key.zeroize();
        assert_eq!(key.expose_secret(), &[0; 32]);
        let mut aead = crate::ChaCha20Poly1305Key::from_secret_bytes(&mut [0xCD; 32]);
        aead.zeroize();
        assert_eq!(aead.expose_secret(), &[0; 32]);
    }

    #[test]
    fn from_secret_slice_wipes_on_success_only() {
        let mut bytes = vec![7u8; 32];
        let key = SymmetricKey::from_secret_slice(&mut bytes).unwrap();
        assert_eq!(key.expose_secret(), &[7; 32]);
        assert_eq!(bytes, vec![0; 32]);

        let mut short = vec![7u8; 31];
        assert_eq!(
            SymmetricKey::from_secret_slice(&mut short),
            Err(DecodeError::Length { field: "symmetric_key", expected: 32, actual: 31 })
        );
        assert_eq!(short, vec![7; 31]);
    }

    #[test]
    fn generate_uses_the_rng_and_equality_is_by_value() {
        let a = SymmetricKey::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let b = SymmetricKey::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let c = SymmetricKey::generate(&mut ChaCha20Rng::seed_from_u64(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(bool::from(a.ct_eq(&b)));
        assert_ne!(a.expose_secret(), &[0; 32]);
    }
}
