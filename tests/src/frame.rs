//! The test-only framing of 1:1 application payloads.
//!
//! ```text
//! frame = i32_be(kind) ‖ payload          (inside the 1:1 session's plaintext)
//!
//! kind (the ApplicationMetadataMessage.Type number of the payload, proto/net/application.proto):
//!    3  MEMBERSHIP_UPDATE_MESSAGE              payload = MembershipUpdateMessage   (kaiwa-group)
//!   26  ORGANIZATION_INVITATION                payload = signed invitation          (kaiwa-org)
//!   48  ORGANIZATION_REQUEST_TO_JOIN_RESPONSE  payload = response sealed to our DH  (kaiwa-org)
//! ```
//!
//! **Test-only.** No crate below the facade defines what a 1:1 plaintext carries, so the harness
//! needs a tag to route it. The 1:1 session already authenticates the sender (its AEAD covers
//! both identities), which is why a bare tag is enough here. The facade will instead carry
//! every payload in a signed `ApplicationMetadataMessage` (docs/PROTOCOL.md §2), whose `type`
//! field plays the role of `kind`.

use kaiwa_wire::net::application_metadata_message::Type;

/// What a 1:1 payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A private-group message (`MembershipUpdateMessage`).
    GroupMessage,
    /// An organization invitation.
    OrgInvitation,
    /// The owner's response to a join request.
    OrgResponse,
}

impl Kind {
    fn wire(self) -> Type {
        match self {
            Self::GroupMessage => Type::MembershipUpdateMessage,
            Self::OrgInvitation => Type::OrganizationInvitation,
            Self::OrgResponse => Type::OrganizationRequestToJoinResponse,
        }
    }
}

/// Why a decrypted payload is not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum FrameError {
    /// Shorter than the 4-byte kind.
    #[error("frame is {actual} bytes, shorter than its kind")]
    Short {
        /// The length.
        actual: usize,
    },
    /// A kind this framing does not carry.
    #[error("unknown frame kind {kind}")]
    UnknownKind {
        /// The value.
        kind: i32,
    },
}

/// `i32_be(kind) ‖ payload`.
pub(crate) fn encode(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len().saturating_add(4));
    frame.extend_from_slice(&(kind.wire() as i32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Splits a frame into its kind and payload.
pub(crate) fn decode(frame: &[u8]) -> Result<(Kind, &[u8]), FrameError> {
    let (kind, payload) =
        frame.split_first_chunk::<4>().ok_or(FrameError::Short { actual: frame.len() })?;
    let value = i32::from_be_bytes(*kind);
    let kind = match Type::try_from(value) {
        Ok(Type::MembershipUpdateMessage) => Kind::GroupMessage,
        Ok(Type::OrganizationInvitation) => Kind::OrgInvitation,
        Ok(Type::OrganizationRequestToJoinResponse) => Kind::OrgResponse,
        _ => return Err(FrameError::UnknownKind { kind: value }),
    };
    Ok((kind, payload))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn kinds_round_trip_and_use_the_envelope_type_numbers() {
        for (kind, number) in
            [(Kind::GroupMessage, 3), (Kind::OrgInvitation, 26), (Kind::OrgResponse, 48)]
        {
            let frame = encode(kind, b"payload");
            assert_eq!(frame[..4], i32::to_be_bytes(number));
            assert_eq!(decode(&frame), Ok((kind, &b"payload"[..])));
        }
        assert_eq!(decode(&[0, 0, 3]), Err(FrameError::Short { actual: 3 }));
        assert_eq!(decode(&1i32.to_be_bytes()), Err(FrameError::UnknownKind { kind: 1 }));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok((kind, payload)) = decode(&bytes) {
                prop_assert_eq!(encode(kind, payload), bytes);
            }
        }
    }
}
