//! The signed application envelope (`ApplicationMetadataMessage`) as this crate uses it, and
//! every signature context and seal label of the crate.
//!
//! ```text
//! ApplicationMetadataMessage{signature = 1, payload = 2, type = 3, author = 4}
//! signature = Ed25519(author, u8(len(ctx)) ‖ ctx ‖ BE32(type) ‖ payload)   (PROTOCOL.md §2)
//! ```
//!
//! Each payload type has its own context, so a signature for one kind of message can never be
//! replayed as another even if `type` were ignored. The receiver checks `type`, checks that
//! `author` is the key the protocol expects (the organization key for descriptions, segments,
//! re-keys, responses, invitations; the requester for requests), and verifies over the bytes
//! received; `payload` is decoded only after that.

use kaiwa_crypto::{IdentityKeyPair, IdentityPublicKey, SealLabel, Signature, SignatureContext};
use kaiwa_wire::net::ApplicationMetadataMessage;
use kaiwa_wire::net::application_metadata_message::Type;
use prost::Message as _;

use crate::error::DecodeError;

/// Context of organization descriptions.
pub const DESCRIPTION_CONTEXT: SignatureContext =
    SignatureContext::new(b"kaiwa/org/description/v1");
/// Context of description segments.
pub const SEGMENT_CONTEXT: SignatureContext =
    SignatureContext::new(b"kaiwa/org/description-segment/v1");
/// Context of grants (`SignedGrant.signature` over `ctx ‖ grant bytes`).
pub const GRANT_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/grant/v1");
/// Context of re-key messages.
pub const REKEY_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/rekey/v1");
/// Context of requests (join, cancel, leave), signed by the requester.
pub const REQUEST_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/request/v1");
/// Context of responses to join requests, signed by the organization key.
pub const RESPONSE_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/response/v1");
/// Context of invitations, signed by the organization key.
pub const INVITATION_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/invitation/v1");
/// Context of kick notices, signed by the organization key.
pub const KICKED_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/org/user-kicked/v1");
/// Context of encrypted channel messages, signed by the sender.
pub const CHANNEL_MESSAGE_CONTEXT: SignatureContext =
    SignatureContext::new(b"kaiwa/org/channel-message/v1");
/// Context of plaintext channel messages of public (unencrypted) organizations.
pub const PUBLIC_CHANNEL_MESSAGE_CONTEXT: SignatureContext =
    SignatureContext::new(b"kaiwa/org/public-channel-message/v1");

/// Seal label of requests sealed to the organization's `request_dh_key`.
pub const REQUEST_SEAL_LABEL: SealLabel = SealLabel::new(b"kaiwa/org/request-seal/v1");
/// Seal label of responses sealed to the requester's X25519 key.
pub const RESPONSE_SEAL_LABEL: SealLabel = SealLabel::new(b"kaiwa/org/response-seal/v1");
/// Key-wrap label of re-key entries.
pub const REKEY_WRAP_LABEL: SealLabel = SealLabel::new(b"kaiwa/org/rekey-wrap/v1");

/// The enum value as it enters the signature.
fn type_bytes(kind: Type) -> [u8; 4] {
    (kind as i32).to_be_bytes()
}

/// Builds and signs an envelope; returns its encoding.
pub(crate) fn sign(
    signer: &IdentityKeyPair,
    context: &SignatureContext,
    kind: Type,
    payload: Vec<u8>,
) -> Vec<u8> {
    let signature = signer.sign_parts(context, &[&type_bytes(kind), &payload]);
    ApplicationMetadataMessage {
        signature: signature.as_bytes().to_vec(),
        payload,
        r#type: kind as i32,
        author: signer.public_key().as_bytes().to_vec(),
    }
    .encode_to_vec()
}

/// A decoded envelope whose signature has not been checked yet.
pub(crate) struct UnverifiedEnvelope {
    message: ApplicationMetadataMessage,
}

/// Why an envelope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvelopeError {
    Decode(DecodeError),
    Unauthenticated,
}

impl UnverifiedEnvelope {
    /// Parses the envelope and checks its type.
    pub(crate) fn decode(bytes: &[u8], kind: Type) -> Result<Self, DecodeError> {
        let message = ApplicationMetadataMessage::decode(bytes)
            .map_err(|_| DecodeError::Protobuf { message: "ApplicationMetadataMessage" })?;
        if message.r#type != kind as i32 {
            return Err(DecodeError::UnexpectedType { got: message.r#type });
        }
        if message.signature.len() != Signature::LEN {
            return Err(DecodeError::Length {
                field: "signature",
                expected: Signature::LEN,
                actual: message.signature.len(),
            });
        }
        Ok(Self { message })
    }

    /// The claimed author bytes.
    pub(crate) fn author_bytes(&self) -> &[u8] {
        &self.message.author
    }

    /// Verifies the signature against `expected` (which must also be the `author` field) and
    /// returns the payload.
    pub(crate) fn verify(
        self,
        expected: &IdentityPublicKey,
        context: &SignatureContext,
    ) -> Result<Vec<u8>, EnvelopeError> {
        if self.message.author.as_slice() != expected.as_bytes() {
            return Err(EnvelopeError::Unauthenticated);
        }
        let signature = Signature::try_from(self.message.signature.as_slice())
            .map_err(|_| EnvelopeError::Unauthenticated)?;
        let kind = self.message.r#type.to_be_bytes();
        expected
            .verify_parts(context, &[&kind, &self.message.payload], &signature)
            .map_err(|_| EnvelopeError::Unauthenticated)?;
        Ok(self.message.payload)
    }

    /// Verifies against the key named in `author` itself (requests: the requester proves
    /// possession of the key it names) and returns both.
    pub(crate) fn verify_self_signed(
        self,
        context: &SignatureContext,
    ) -> Result<(IdentityPublicKey, Vec<u8>), EnvelopeError> {
        let author = IdentityPublicKey::try_from(self.message.author.as_slice())
            .map_err(|_| EnvelopeError::Decode(DecodeError::Field { field: "author" }))?;
        let payload = self.verify(&author, context)?;
        Ok((author, payload))
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    #[test]
    fn sign_then_verify_and_refusals() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let key = IdentityKeyPair::generate(&mut rng);
        let other = IdentityKeyPair::generate(&mut rng);
        let bytes = sign(&key, &DESCRIPTION_CONTEXT, Type::OrganizationDescription, b"p".to_vec());

        let env = UnverifiedEnvelope::decode(&bytes, Type::OrganizationDescription).unwrap();
        assert_eq!(env.verify(&key.public_key(), &DESCRIPTION_CONTEXT).unwrap(), b"p");

        let env = UnverifiedEnvelope::decode(&bytes, Type::OrganizationDescription).unwrap();
        assert_eq!(
            env.verify(&other.public_key(), &DESCRIPTION_CONTEXT).err(),
            Some(EnvelopeError::Unauthenticated)
        );
        let env = UnverifiedEnvelope::decode(&bytes, Type::OrganizationDescription).unwrap();
        assert_eq!(
            env.verify(&key.public_key(), &REKEY_CONTEXT).err(),
            Some(EnvelopeError::Unauthenticated)
        );
        assert_eq!(
            UnverifiedEnvelope::decode(&bytes, Type::OrganizationRekey).err(),
            Some(DecodeError::UnexpectedType { got: Type::OrganizationDescription as i32 })
        );
        // The type is signed: relabelling the envelope breaks the signature.
        let mut msg = ApplicationMetadataMessage::decode(bytes.as_slice()).unwrap();
        msg.r#type = Type::OrganizationRekey as i32;
        let relabelled = msg.encode_to_vec();
        let env = UnverifiedEnvelope::decode(&relabelled, Type::OrganizationRekey).unwrap();
        assert!(env.verify(&key.public_key(), &DESCRIPTION_CONTEXT).is_err());
    }
}
