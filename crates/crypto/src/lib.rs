//! kaiwa's cryptographic primitives behind typed keys.
//!
//! Everything the protocol crates (sessions, group membership, organizations) need, and
//! nothing else: Ed25519 identity keys with domain-separated signatures, X25519 with
//! non-contributory output rejected, HKDF-SHA256 and HMAC-SHA256, SHA-256,
//! ChaCha20-Poly1305 and AES-256-GCM, and sealing to a public key (ECDH-ES), for one
//! recipient or, for key rotation, many recipients under one ephemeral key.
//!
//! # Invariants
//!
//! - **No I/O, no clock, no global RNG.** Every function that needs randomness takes
//!   `rng: &mut R` where `R: CryptoRng`; tests pass a seeded RNG and get reproducible output.
//! - **No dalek or RustCrypto type in the public API.** Keys, signatures, nonces and digests
//!   are this crate's own types, so the suite can change without touching the protocol
//!   crates. (The API does use the small utility traits [`CryptoRng`], [`ConstantTimeEq`] and
//!   [`Zeroizing`], re-exported here.)
//! - **Secrets** are boxed, wiped on drop, never `Clone`/`Copy`, print as `Type(..)`, compare
//!   in constant time, enter through `from_secret_bytes(&mut ..)` (which wipes the caller's
//!   copy) and leave only through `expose_secret()`.
//! - **Checks are not optional:** signatures are verified with `verify_strict` under a
//!   mandatory [`SignatureContext`]; an all-zero X25519 output is an error; AEAD failures are
//!   one opaque error and release no plaintext.
//! - **No panics on any input.** Every decoder returns an error; the few `expect`s are on
//!   conditions fixed at compile time and carry their reason.
//!
//! # Example
//!
//! ```
//! use kaiwa_crypto::{
//!     DhKeyPair, IdentityKeyPair, SealLabel, SignatureContext, hkdf_sha256_keys, open_box,
//!     seal_box,
//! };
//! # use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
//! # let mut rng = ChaCha20Rng::seed_from_u64(7);
//!
//! const HELLO_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/example/hello/v1");
//! const REQUEST_LABEL: SealLabel = SealLabel::new(b"kaiwa/example/request/v1");
//!
//! // Signatures are always domain-separated.
//! let alice = IdentityKeyPair::generate(&mut rng);
//! let signature = alice.sign(&HELLO_CONTEXT, b"hello");
//! assert!(alice.public_key().verify(&HELLO_CONTEXT, b"hello", &signature).is_ok());
//!
//! // X25519 + HKDF into typed keys.
//! let bob = DhKeyPair::generate(&mut rng);
//! let carol = DhKeyPair::generate(&mut rng);
//! let shared = bob.diffie_hellman(&carol.public_key())?;
//! let [root_key, chain_key] =
//!     hkdf_sha256_keys::<2>(&[0; 32], shared.expose_secret(), b"kaiwa/example/kdf/v1");
//! assert_ne!(root_key, chain_key);
//!
//! // Seal to a public key; only the holder of the secret key opens it.
//! let sealed = seal_box(&bob.public_key(), &REQUEST_LABEL, b"aad", b"join", &mut rng)?;
//! assert_eq!(open_box(&bob, &REQUEST_LABEL, b"aad", &sealed)?.as_slice(), b"join");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod aead;
mod ct;
mod dh;
mod error;
mod hash;
mod hex;
mod identity;
mod kdf;
mod sealed_box;
mod secret;
#[cfg(test)]
mod test_util;

pub use rand_core::CryptoRng;
pub use subtle::{Choice, ConstantTimeEq};
pub use zeroize::Zeroizing;

pub use crate::aead::{Aes256GcmKey, ChaCha20Poly1305Key, Nonce, TAG_LEN};
pub use crate::ct::ct_eq;
pub use crate::dh::{DhKeyPair, DhPublicKey, EphemeralKeyPair, SharedSecret};
pub use crate::error::{
    AeadError, BatchVerifyError, DecodeError, DhError, KdfError, MacError, SealedBoxError,
    SignatureError,
};
pub use crate::hash::{Sha256Digest, sha256, sha256_parts};
pub use crate::identity::{
    BatchItem, IdentityKeyPair, IdentityPublicKey, Signature, SignatureContext, verify_batch,
};
pub use crate::kdf::{
    HKDF_SHA256_MAX_OUTPUT, Mac, Prk, hkdf_sha256, hkdf_sha256_extract, hkdf_sha256_keys,
    hmac_sha256, hmac_sha256_key, hmac_sha256_verify,
};
pub use crate::sealed_box::{
    KEY_WRAP_SALT, KeyUnwrapper, MultiRecipientSealer, RecipientHint, SEALED_BOX_OVERHEAD,
    SEALED_BOX_SALT, SealLabel, WrappedKey, open_box, seal_box,
};
pub use crate::secret::SymmetricKey;
