//! HKDF-SHA256 (RFC 5869) and HMAC-SHA256 (RFC 2104, FIPS 198-1).
//!
//! ```text
//! PRK            = HMAC-SHA256(key = salt, ikm)                  extract; empty salt = 0^32
//! T(0)           = ""
//! T(i)           = HMAC-SHA256(key = PRK, T(i-1) ‖ info ‖ u8(i))  i = 1 ..= 255
//! OKM            = first L bytes of T(1) ‖ T(2) ‖ ...             expand; L <= 255 * 32 = 8160
//!
//! hkdf_sha256_keys::<N>(salt, ikm, info) = [T(1), .., T(N)] as SymmetricKeys  (N <= 255)
//! hmac_sha256(key, m)                    = HMAC-SHA256(key, m)              (public tag)
//! hmac_sha256_key(key, m)                = HMAC-SHA256(key, m)              (as a SymmetricKey)
//! ```
//!
//! Because SHA-256's output is exactly one key long, `hkdf_sha256_keys::<N>` gives the same
//! bytes as cutting an `N * 32`-byte OKM into 32-byte keys, which is how specifications write
//! KDF_RK (`root_key ‖ chain_key = HKDF(...)`).
//!
//! Output that is key material comes back as [`SymmetricKey`] (or is written into the
//! caller's buffer); intermediate buffers are wiped.

use core::fmt;

use hkdf::{Hkdf, HkdfExtract};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::hex::write_hex;
use crate::secret::{impl_secret_traits, take_secret};
use crate::{KdfError, MacError, SymmetricKey};

/// Largest HKDF-SHA256 output: `255 * 32` bytes (RFC 5869 §2.3).
pub const HKDF_SHA256_MAX_OUTPUT: usize = 255 * 32;

type HmacSha256 = Hmac<Sha256>;

/// HKDF-SHA256, extract and expand in one call, writing `okm.len()` bytes into `okm`.
///
/// # Errors
/// [`KdfError::OutputTooLong`] if `okm` is longer than [`HKDF_SHA256_MAX_OUTPUT`]; `okm` is
/// left untouched.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<(), KdfError> {
    hkdf_sha256_extract(salt, &[ikm]).expand(info, okm)
}

/// HKDF-SHA256 into `N` 32-byte keys: the usual way protocol crates derive keys.
///
/// `N` is checked at compile time (`1 ..= 255`), so this cannot fail.
#[must_use]
pub fn hkdf_sha256_keys<const N: usize>(salt: &[u8], ikm: &[u8], info: &[u8]) -> [SymmetricKey; N] {
    hkdf_sha256_extract(salt, &[ikm]).expand_keys(info)
}

/// HKDF-Extract over the concatenation of `ikm_parts`, without building it (X3DH's
/// `0xFF^32 ‖ DH1 ‖ DH2 ‖ DH3` stays in the callers' zeroizing buffers).
#[must_use]
pub fn hkdf_sha256_extract(salt: &[u8], ikm_parts: &[&[u8]]) -> Prk {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    for part in ikm_parts {
        extract.input_ikm(part);
    }
    let (mut prk, _expander) = extract.finalize();
    let mut bytes = [0u8; Prk::LEN];
    bytes.copy_from_slice(&prk);
    prk.as_mut_slice().zeroize();
    Prk(take_secret(&mut bytes))
}

/// An HKDF pseudorandom key: the output of extract, the key of expand.
///
/// A secret: wiped on drop, no `Clone`, redacted `Debug`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Prk(Box<[u8; Prk::LEN]>);

impl_secret_traits!(Prk);

impl Prk {
    /// Length in bytes (SHA-256 output).
    pub const LEN: usize = 32;

    /// Takes a PRK produced elsewhere and wipes the caller's copy.
    pub fn from_secret_bytes(bytes: &mut [u8; Self::LEN]) -> Self {
        Self(take_secret(bytes))
    }

    /// The PRK bytes. The only accessor.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    fn expander(&self, info: &[&[u8]], okm: &mut [u8]) -> Result<(), KdfError> {
        let too_long =
            KdfError::OutputTooLong { requested: okm.len(), max: HKDF_SHA256_MAX_OUTPUT };
        if okm.len() > HKDF_SHA256_MAX_OUTPUT {
            return Err(too_long);
        }
        #[expect(clippy::expect_used, reason = "a 32-byte PRK is always a valid HKDF-SHA256 PRK")]
        let hkdf = Hkdf::<Sha256>::from_prk(&self.0[..]).expect("PRK is HashLen bytes");
        hkdf.expand_multi_info(info, okm).map_err(|_| too_long)
    }

    /// HKDF-Expand into `okm`.
    ///
    /// # Errors
    /// [`KdfError::OutputTooLong`] if `okm` is longer than [`HKDF_SHA256_MAX_OUTPUT`].
    pub fn expand(&self, info: &[u8], okm: &mut [u8]) -> Result<(), KdfError> {
        self.expander(&[info], okm)
    }

    /// HKDF-Expand into `N` 32-byte keys (`T(1) .. T(N)`); `1 <= N <= 255` is checked at
    /// compile time.
    #[must_use]
    pub fn expand_keys<const N: usize>(&self, info: &[u8]) -> [SymmetricKey; N] {
        self.expand_keys_multi_info(&[info])
    }

    /// [`expand_keys`](Self::expand_keys) with `info` given as parts that are concatenated.
    pub(crate) fn expand_keys_multi_info<const N: usize>(
        &self,
        info: &[&[u8]],
    ) -> [SymmetricKey; N] {
        const { assert!(N >= 1 && N <= 255, "HKDF-SHA256 yields 1 to 255 keys of 32 bytes") };
        let mut okm = Zeroizing::new(vec![0u8; N * SymmetricKey::LEN]);
        #[expect(clippy::expect_used, reason = "N * 32 <= 8160 is checked at compile time")]
        self.expander(info, &mut okm).expect("output length within bounds");
        let mut blocks = okm.chunks_exact(SymmetricKey::LEN);
        core::array::from_fn(|_| {
            let mut key = SymmetricKey::zeroed();
            if let Some(block) = blocks.next() {
                key.bytes_mut().copy_from_slice(block);
            }
            key
        })
    }
}

/// An HMAC-SHA256 tag. Public data (it travels on the wire); compare received tags with
/// [`hmac_sha256_verify`], never with `==` on bytes you then act on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac([u8; Mac::LEN]);

impl Mac {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// Wraps tag bytes received or stored elsewhere.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The tag bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The tag bytes, copied.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; Self::LEN] {
        self.0
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mac(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

fn hmac(key: &[u8], message: &[u8]) -> HmacSha256 {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length (RFC 2104 §2)")]
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts every key length");
    mac.update(message);
    mac
}

/// HMAC-SHA256 of `message` under `key`, as a public tag.
#[must_use]
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Mac {
    Mac(hmac(key, message).finalize().into_bytes().into())
}

/// HMAC-SHA256 of `message` under `key`, as a secret key (KDF_CK of the double ratchet:
/// `message_key = HMAC(chain_key, 0x01)`, `chain_key' = HMAC(chain_key, 0x02)`).
#[must_use]
pub fn hmac_sha256_key(key: &[u8], message: &[u8]) -> SymmetricKey {
    let mut tag = hmac(key, message).finalize().into_bytes();
    let mut out = SymmetricKey::zeroed();
    out.bytes_mut().copy_from_slice(&tag);
    tag.as_mut_slice().zeroize();
    out
}

/// Checks `tag` against HMAC-SHA256 of `message` under `key`, in constant time.
///
/// # Errors
/// [`MacError::Unauthenticated`] if the tag does not match.
pub fn hmac_sha256_verify(key: &[u8], message: &[u8], tag: &Mac) -> Result<(), MacError> {
    hmac(key, message).verify_slice(&tag.0).map_err(|_| MacError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::assert_debug_redacted;

    #[test]
    fn keys_equal_the_cut_okm() {
        let mut okm = [0u8; 96];
        hkdf_sha256(b"salt", b"ikm", b"info", &mut okm).unwrap();
        let [a, b, c] = hkdf_sha256_keys::<3>(b"salt", b"ikm", b"info");
        assert_eq!(&okm[..32], a.expose_secret());
        assert_eq!(&okm[32..64], b.expose_secret());
        assert_eq!(&okm[64..], c.expose_secret());
        let prk = hkdf_sha256_extract(b"salt", &[b"i", b"", b"km"]);
        let [a2] = prk.expand_keys::<1>(b"info");
        assert_eq!(a, a2, "extract over parts equals extract over the concatenation");
    }

    #[test]
    fn output_length_limit() {
        let mut max = vec![0u8; HKDF_SHA256_MAX_OUTPUT];
        assert_eq!(hkdf_sha256(b"", b"ikm", b"", &mut max), Ok(()));
        let mut over = vec![0u8; HKDF_SHA256_MAX_OUTPUT + 1];
        assert_eq!(
            hkdf_sha256(b"", b"ikm", b"", &mut over),
            Err(KdfError::OutputTooLong { requested: 8161, max: 8160 })
        );
        assert!(over.iter().all(|&b| b == 0), "okm untouched on error");
        let mut empty = [];
        assert_eq!(hkdf_sha256(b"", b"ikm", b"", &mut empty), Ok(()));
    }

    #[test]
    fn empty_salt_equals_zero_salt() {
        let [a] = hkdf_sha256_keys::<1>(b"", b"ikm", b"x");
        let [b] = hkdf_sha256_keys::<1>(&[0u8; 32], b"ikm", b"x");
        assert_eq!(a, b, "RFC 5869 §2.2: absent salt is HashLen zeros");
    }

    #[test]
    fn hmac_verify_and_key() {
        let tag = hmac_sha256(b"key", b"message");
        assert_eq!(hmac_sha256_verify(b"key", b"message", &tag), Ok(()));
        assert_eq!(hmac_sha256_verify(b"key", b"messagE", &tag), Err(MacError::Unauthenticated));
        let mut bad = tag.to_bytes();
        bad[31] ^= 1;
        assert_eq!(
            hmac_sha256_verify(b"key", b"message", &Mac::from_bytes(bad)),
            Err(MacError::Unauthenticated)
        );
        assert_eq!(hmac_sha256_key(b"key", b"message").expose_secret(), tag.as_bytes());
        // Keys longer than the block size are hashed first and still work.
        let long = [0x55u8; 200];
        assert_eq!(hmac_sha256_verify(&long, b"m", &hmac_sha256(&long, b"m")), Ok(()));
    }

    #[test]
    fn prk_debug_output_has_no_key_material_and_caller_copy_is_wiped() {
        let mut bytes = [0xC3; 32];
        let prk = Prk::from_secret_bytes(&mut bytes);
        assert_eq!(bytes, [0; 32]);
        assert_eq!(assert_debug_redacted(&prk, &[0xC3; 32]), "Prk(..)");
        let derived = hkdf_sha256_extract(b"s", &[b"k"]);
        let secret = *derived.expose_secret();
        assert_eq!(assert_debug_redacted(&derived, &secret), "Prk(..)");
    }
}
