//! Error types, one per operation family.
//!
//! Rules that hold for every type here:
//! - no variant carries key material, plaintext, or a copy of the input bytes; only static
//!   field names and numbers;
//! - authentication failures are a single opaque variant (`Invalid` / `Unauthenticated`) that
//!   does not say which check failed;
//! - every enum is `#[non_exhaustive]` and `Debug + PartialEq + Eq`, so tests can
//!   `assert_eq!` on exact variants.

/// Bytes (from a peer, from disk, or from text) could not become a key, signature or other
/// value of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input has the wrong length.
    #[error("`{field}` has {actual} bytes, expected {expected}")]
    Length {
        /// Which value was being decoded.
        field: &'static str,
        /// The length this value always has.
        expected: usize,
        /// The length that was given.
        actual: usize,
    },
    /// The bytes have the right length but do not encode a usable public key (not a curve
    /// point, a non-canonical encoding, or a point of small order).
    #[error("`{field}` is not a valid public key")]
    InvalidKey {
        /// Which value was being decoded.
        field: &'static str,
    },
    /// The text form is malformed (missing `0x` prefix, wrong length, or a character other
    /// than `0-9a-f`).
    #[error("`{field}` is not `0x` followed by lowercase hex of the right length")]
    Hex {
        /// Which value was being decoded.
        field: &'static str,
    },
}

/// An Ed25519 signature did not verify.
///
/// Deliberately opaque: it does not say whether the encoding, the key, the context, the
/// message or the signature was at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature is not valid for this key, context and message.
    #[error("signature is invalid")]
    Invalid,
}

/// A batch of Ed25519 signatures did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchVerifyError {
    /// The item at `index` (the first invalid one, in input order) does not verify. Which
    /// check failed inside that item is not revealed.
    #[error("signature {index} of the batch is invalid")]
    Invalid {
        /// Position of the first invalid item in the input slice.
        index: usize,
    },
}

/// An X25519 Diffie-Hellman exchange was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DhError {
    /// The shared secret is all zero: the peer's public key has small order, so the output
    /// does not depend on our secret key (RFC 7748 §6.1).
    #[error("Diffie-Hellman output is all zero (peer key of small order)")]
    NonContributory,
}

/// An AEAD operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AeadError {
    /// The ciphertext, tag, nonce, key or associated data do not match. Deliberately does
    /// not say which.
    #[error("ciphertext could not be authenticated")]
    Unauthenticated,
    /// The plaintext or associated data exceed the cipher's limit (about 64 GiB for
    /// AES-GCM, 256 GiB for ChaCha20-Poly1305); nothing was encrypted.
    #[error("input exceeds the cipher's length limit")]
    TooLong,
}

/// HKDF was asked for more output than it can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KdfError {
    /// HKDF-SHA256 produces at most `255 * 32 = 8160` bytes (RFC 5869 §2.3).
    #[error("requested {requested} bytes of HKDF output, the maximum is {max}")]
    OutputTooLong {
        /// Bytes requested.
        requested: usize,
        /// Largest possible output.
        max: usize,
    },
}

/// An HMAC tag did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MacError {
    /// The tag does not match. Deliberately opaque.
    #[error("MAC could not be authenticated")]
    Unauthenticated,
}

/// Sealing to, or opening from, a public key failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealedBoxError {
    /// The sealed bytes are shorter than the fixed overhead, so they cannot be a sealed box.
    #[error("sealed box has {actual} bytes, at least {min} are needed")]
    TooShort {
        /// Fixed overhead of the format.
        min: usize,
        /// Length that was given.
        actual: usize,
    },
    /// The recipient's public key has small order; sealing to it would give a key every
    /// observer knows. Nothing was sealed.
    #[error("recipient public key has small order")]
    InvalidRecipient,
    /// The same recipient was given twice to one multi-recipient sealer; a second entry would
    /// reuse the first entry's key and nonce.
    #[error("recipient already has an entry under this ephemeral key")]
    DuplicateRecipient,
    /// The plaintext exceeds the cipher's length limit; nothing was sealed.
    #[error("plaintext exceeds the cipher's length limit")]
    TooLong,
    /// The box was not sealed to this key, with this label and associated data, or it was
    /// modified. Deliberately does not say which (a small-order ephemeral key lands here too).
    #[error("sealed box could not be authenticated")]
    Unauthenticated,
}
