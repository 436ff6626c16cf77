//! Constant-time comparison.
//!
//! Every secret type of this crate implements [`ConstantTimeEq`] (and `PartialEq` through
//! it). For byte strings that are not wrapped in a type (received MACs, tags, hashes of
//! secrets), use [`ct_eq`].

use subtle::ConstantTimeEq;

/// Compares two byte strings in time that depends only on their lengths, never on their
/// contents.
///
/// Lengths are treated as public: strings of different length compare unequal at once.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_unequal_and_length_mismatch() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!ct_eq(b"", b"a"));
    }
}
