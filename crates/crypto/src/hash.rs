//! SHA-256 for public data: message hashes, event ordering, topic derivation.
//!
//! ```text
//! sha256(data)                  = SHA-256(data)                    (FIPS 180-4)
//! sha256_parts([p0, p1, .., pn]) = SHA-256(p0 ‖ p1 ‖ .. ‖ pn)
//! ```
//!
//! `sha256_parts` only saves the concatenation buffer; it adds no length prefixes, so the
//! caller is responsible for an unambiguous encoding of the parts.

use core::fmt;

use sha2::{Digest as _, Sha256};

use crate::hex::write_hex;

/// A SHA-256 digest. Public data: `Copy`, ordered, hashable, printed as hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest([u8; Sha256Digest::LEN]);

impl Sha256Digest {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// Wraps digest bytes received or stored elsewhere.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The digest bytes, copied.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; Self::LEN] {
        self.0
    }
}

impl AsRef<[u8]> for Sha256Digest {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Digest(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

impl fmt::Display for Sha256Digest {
    /// Lowercase hex, no prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

/// SHA-256 of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> Sha256Digest {
    Sha256Digest(Sha256::digest(data).into())
}

/// SHA-256 of the concatenation of `parts`, without building it.
#[must_use]
pub fn sha256_parts(parts: &[&[u8]]) -> Sha256Digest {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    Sha256Digest(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fips_180_examples() {
        // FIPS 180-2 appendix B.1 ("abc") and the empty string.
        assert_eq!(
            sha256(b"abc").to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parts_equal_concatenation() {
        assert_eq!(sha256_parts(&[b"a", b"", b"bc"]), sha256(b"abc"));
        assert_eq!(sha256_parts(&[]), sha256(b""));
        let d = sha256(b"abc");
        assert_eq!(Sha256Digest::from_bytes(d.to_bytes()), d);
        assert!(format!("{d:?}").starts_with("Sha256Digest(ba7816bf"));
    }
}
