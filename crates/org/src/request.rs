//! Requests to the owner (join, cancel, leave), the owner's responses and invitations, and kick
//! notices: what is signed, what is sealed, and how each is checked.
//!
//! ```text
//! request  = seal_box(to = description.request_dh_key, label = "kaiwa/org/request-seal/v1",
//!                     aad = org_id,
//!                     plaintext = ApplicationMetadataMessage{type ∈ {27 join, 60 cancel, 57 leave},
//!                                   author = requester identity key, payload,
//!                                   signature = Ed25519(requester,
//!                                     "kaiwa/org/request/v1" ‖ BE32(type) ‖ payload)})
//! response = seal_box(to = requester_dh_key, label = "kaiwa/org/response-seal/v1",
//!                     aad = org_id ‖ requester id,
//!                     plaintext = ApplicationMetadataMessage{type = 48, author = org_id,
//!                                   payload = OrganizationRequestToJoinResponse{clock, accepted,
//!                                     grant = SignedGrant, organization_id,
//!                                     organization_description = signed description bytes
//!                                       (empty if larger than one message)},
//!                                   signature = Ed25519(org, "kaiwa/org/response/v1" ‖ ...)})
//! invite   = ApplicationMetadataMessage{type = 26, author = org_id,
//!              payload = OrganizationInvitation{organization_description, grant, chat_id,
//!                                               public_key = org_id},
//!              signature = Ed25519(org, "kaiwa/org/invitation/v1" ‖ ...)}   (sent 1:1 by the app)
//! kicked   = ApplicationMetadataMessage{type = 81, author = org_id,
//!              payload = OrganizationUserKicked{clock, organization_id},
//!              signature = Ed25519(org, "kaiwa/org/user-kicked/v1" ‖ ...)}
//! ```
//!
//! Requests are sealed so that only the owner reads who asks (DECISIONS: requests travel sealed
//! to the org key), and signed inside the seal so the owner knows the requester holds the key it
//! names (the sealed box alone is anonymous). The org id in the AAD and in the payload keeps a
//! request for one organization from being replayed to another that shares a request key.

use kaiwa_crypto::{
    DhKeyPair, DhPublicKey, IdentityKeyPair, IdentityPublicKey, SealedBoxError, open_box, seal_box,
};
use kaiwa_wire::net as wire;
use kaiwa_wire::net::application_metadata_message::Type;
use prost::Message as _;

use crate::description::SignedDescription;
use crate::envelope::{
    self, EnvelopeError, INVITATION_CONTEXT, KICKED_CONTEXT, REQUEST_CONTEXT, REQUEST_SEAL_LABEL,
    RESPONSE_CONTEXT, RESPONSE_SEAL_LABEL, UnverifiedEnvelope,
};
use crate::error::{DecodeError, FlowError, RequestError, ResponseError};
use crate::grant::SignedGrant;
use crate::id::{ChannelId, LamportTime, MemberId, OrgId};
use crate::limits::{MAX_NAME_BYTES, MAX_SIGNED_MESSAGE_BYTES};

/// What a member puts in a join request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JoinRequest {
    /// Lamport clock of the request (a later request or cancel must be higher).
    pub clock: LamportTime,
    /// The channel asked for, if any (the member is then also added to that channel's own
    /// member list, if it has one).
    pub channel: Option<ChannelId>,
    /// Display name shown to the owner.
    pub display_name: String,
    /// The `SignedGrant` bytes of an invitation (required by INVITATION_ONLY organizations).
    pub invitation_grant: Option<Vec<u8>>,
}

impl JoinRequest {
    /// A request at `clock` with nothing else set.
    #[must_use]
    pub fn new(clock: LamportTime) -> Self {
        Self { clock, ..Self::default() }
    }
}

/// A request the owner opened and authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    Join {
        requester: MemberId,
        dh_key: DhPublicKey,
        clock: LamportTime,
        channel: Option<ChannelId>,
        display_name: String,
        invitation_grant: Option<Vec<u8>>,
    },
    Cancel {
        requester: MemberId,
        clock: LamportTime,
    },
    Leave {
        requester: MemberId,
        clock: LamportTime,
    },
}

fn seal_signed(
    me: &IdentityKeyPair,
    org: &OrgId,
    request_key: &DhPublicKey,
    kind: Type,
    payload: Vec<u8>,
    rng: &mut (impl kaiwa_crypto::CryptoRng + ?Sized),
) -> Result<Vec<u8>, FlowError> {
    let signed = envelope::sign(me, &REQUEST_CONTEXT, kind, payload);
    seal_box(request_key, &REQUEST_SEAL_LABEL, org.as_bytes(), &signed, rng).map_err(|e| match e {
        SealedBoxError::InvalidRecipient => FlowError::InvalidDhKey,
        _ => FlowError::Internal("sealing failed"),
    })
}

/// Builds a sealed join request.
pub(crate) fn seal_join(
    me: &IdentityKeyPair,
    my_dh: &DhPublicKey,
    org: &OrgId,
    request_key: &DhPublicKey,
    request: &JoinRequest,
    rng: &mut (impl kaiwa_crypto::CryptoRng + ?Sized),
) -> Result<Vec<u8>, FlowError> {
    if request.display_name.len() > MAX_NAME_BYTES {
        return Err(DecodeError::TooMany {
            what: "display_name",
            limit: MAX_NAME_BYTES,
            actual: request.display_name.len(),
        }
        .into());
    }
    let payload = wire::OrganizationRequestToJoin {
        clock: request.clock.0,
        ens_name: String::new(),
        chat_id: request.channel.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default(),
        organization_id: org.as_bytes().to_vec(),
        display_name: request.display_name.clone(),
        invitation_grant: request.invitation_grant.clone().unwrap_or_default(),
        requester_dh_key: my_dh.as_bytes().to_vec(),
    }
    .encode_to_vec();
    seal_signed(me, org, request_key, Type::OrganizationRequestToJoin, payload, rng)
}

/// Builds a sealed cancel request.
pub(crate) fn seal_cancel(
    me: &IdentityKeyPair,
    org: &OrgId,
    request_key: &DhPublicKey,
    clock: LamportTime,
    rng: &mut (impl kaiwa_crypto::CryptoRng + ?Sized),
) -> Result<Vec<u8>, FlowError> {
    let payload = wire::OrganizationCancelRequestToJoin {
        clock: clock.0,
        organization_id: org.as_bytes().to_vec(),
        ..Default::default()
    }
    .encode_to_vec();
    seal_signed(me, org, request_key, Type::OrganizationCancelRequestToJoin, payload, rng)
}

/// Builds a sealed leave request.
pub(crate) fn seal_leave(
    me: &IdentityKeyPair,
    org: &OrgId,
    request_key: &DhPublicKey,
    clock: LamportTime,
    rng: &mut (impl kaiwa_crypto::CryptoRng + ?Sized),
) -> Result<Vec<u8>, FlowError> {
    let payload = wire::OrganizationRequestToLeave {
        clock: clock.0,
        organization_id: org.as_bytes().to_vec(),
    }
    .encode_to_vec();
    seal_signed(me, org, request_key, Type::OrganizationRequestToLeave, payload, rng)
}

fn check_org(field: &[u8], org: &OrgId) -> Result<(), RequestError> {
    if field == org.as_bytes() { Ok(()) } else { Err(RequestError::WrongOrganization) }
}

/// Opens and authenticates a sealed request (owner side).
pub(crate) fn open_request(
    request_key: &DhKeyPair,
    org: &OrgId,
    sealed: &[u8],
) -> Result<Request, RequestError> {
    if sealed.len() > MAX_SIGNED_MESSAGE_BYTES {
        return Err(DecodeError::TooMany {
            what: "request bytes",
            limit: MAX_SIGNED_MESSAGE_BYTES,
            actual: sealed.len(),
        }
        .into());
    }
    let plaintext = open_box(request_key, &REQUEST_SEAL_LABEL, org.as_bytes(), sealed)
        .map_err(|_| RequestError::Unauthenticated)?;
    let kind = [
        Type::OrganizationRequestToJoin,
        Type::OrganizationCancelRequestToJoin,
        Type::OrganizationRequestToLeave,
    ]
    .into_iter()
    .find_map(|kind| UnverifiedEnvelope::decode(&plaintext, kind).ok().map(|e| (kind, e)));
    let Some((kind, envelope)) = kind else {
        return Err(UnverifiedEnvelope::decode(&plaintext, Type::OrganizationRequestToJoin)
            .err()
            .map_or(RequestError::Unauthenticated, RequestError::Decode));
    };
    let (author, payload) = envelope.verify_self_signed(&REQUEST_CONTEXT).map_err(|e| match e {
        EnvelopeError::Decode(d) => RequestError::Decode(d),
        EnvelopeError::Unauthenticated => RequestError::Unauthenticated,
    })?;
    let requester = MemberId::from_key(&author);
    match kind {
        Type::OrganizationRequestToJoin => {
            let msg = wire::OrganizationRequestToJoin::decode(payload.as_slice())
                .map_err(|_| DecodeError::Protobuf { message: "OrganizationRequestToJoin" })?;
            check_org(&msg.organization_id, org)?;
            if msg.display_name.len() > MAX_NAME_BYTES {
                return Err(DecodeError::TooMany {
                    what: "display_name",
                    limit: MAX_NAME_BYTES,
                    actual: msg.display_name.len(),
                }
                .into());
            }
            let dh_key = DhPublicKey::try_from(msg.requester_dh_key.as_slice()).map_err(|_| {
                DecodeError::Length {
                    field: "requester_dh_key",
                    expected: 32,
                    actual: msg.requester_dh_key.len(),
                }
            })?;
            let channel =
                if msg.chat_id.is_empty() { None } else { Some(ChannelId::new(&msg.chat_id)?) };
            Ok(Request::Join {
                requester,
                dh_key,
                clock: LamportTime(msg.clock),
                channel,
                display_name: msg.display_name,
                invitation_grant: (!msg.invitation_grant.is_empty())
                    .then_some(msg.invitation_grant),
            })
        }
        Type::OrganizationCancelRequestToJoin => {
            let msg = wire::OrganizationCancelRequestToJoin::decode(payload.as_slice()).map_err(
                |_| DecodeError::Protobuf { message: "OrganizationCancelRequestToJoin" },
            )?;
            check_org(&msg.organization_id, org)?;
            Ok(Request::Cancel { requester, clock: LamportTime(msg.clock) })
        }
        _ => {
            let msg = wire::OrganizationRequestToLeave::decode(payload.as_slice())
                .map_err(|_| DecodeError::Protobuf { message: "OrganizationRequestToLeave" })?;
            check_org(&msg.organization_id, org)?;
            Ok(Request::Leave { requester, clock: LamportTime(msg.clock) })
        }
    }
}

fn response_aad(org: &OrgId, member: &MemberId) -> [u8; 64] {
    let mut aad = [0u8; 64];
    for (dst, src) in aad.iter_mut().zip(org.as_bytes().iter().chain(member.as_bytes())) {
        *dst = *src;
    }
    aad
}

/// The description bytes to embed, if they fit one message.
fn embeddable(description: &SignedDescription) -> Vec<u8> {
    // Leave room for the grant, the envelope and the seal.
    if description.bytes().len() <= MAX_SIGNED_MESSAGE_BYTES.saturating_sub(1024) {
        description.bytes().to_vec()
    } else {
        Vec::new()
    }
}

/// Builds a sealed response to a join request (owner side).
pub(crate) fn seal_response(
    org_key: &IdentityKeyPair,
    member: &MemberId,
    member_dh: &DhPublicKey,
    clock: LamportTime,
    accepted: Option<(&SignedGrant, &SignedDescription)>,
    rng: &mut (impl kaiwa_crypto::CryptoRng + ?Sized),
) -> Result<Vec<u8>, FlowError> {
    let org = OrgId::new(org_key.public_key());
    let payload = wire::OrganizationRequestToJoinResponse {
        clock: clock.0,
        organization: None,
        accepted: accepted.is_some(),
        grant: accepted.map(|(g, _)| g.bytes().to_vec()).unwrap_or_default(),
        organization_id: org.as_bytes().to_vec(),
        organization_description: accepted.map(|(_, d)| embeddable(d)).unwrap_or_default(),
    }
    .encode_to_vec();
    let signed = envelope::sign(
        org_key,
        &RESPONSE_CONTEXT,
        Type::OrganizationRequestToJoinResponse,
        payload,
    );
    seal_box(member_dh, &RESPONSE_SEAL_LABEL, &response_aad(&org, member), &signed, rng).map_err(
        |e| match e {
            SealedBoxError::InvalidRecipient => FlowError::InvalidDhKey,
            _ => FlowError::Internal("sealing failed"),
        },
    )
}

/// A response the member opened and authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Whether the request was accepted.
    pub accepted: bool,
    /// Clock of the response.
    pub clock: LamportTime,
    /// The admission grant (accepted responses).
    pub grant: Option<SignedGrant>,
    /// The signed description bytes, if they fitted (apply them with
    /// `OrganizationView::apply_description`).
    pub description: Option<Vec<u8>>,
}

fn envelope_error(e: EnvelopeError) -> ResponseError {
    match e {
        EnvelopeError::Decode(d) => ResponseError::Decode(d),
        EnvelopeError::Unauthenticated => ResponseError::Unauthenticated,
    }
}

/// Opens a sealed response from `org` to `me` (member side).
pub(crate) fn open_response(
    org: &OrgId,
    me: &MemberId,
    my_dh: &DhKeyPair,
    sealed: &[u8],
    now_ms: u64,
) -> Result<Response, ResponseError> {
    if sealed.len() > MAX_SIGNED_MESSAGE_BYTES {
        return Err(DecodeError::TooMany {
            what: "response bytes",
            limit: MAX_SIGNED_MESSAGE_BYTES,
            actual: sealed.len(),
        }
        .into());
    }
    let plaintext = open_box(my_dh, &RESPONSE_SEAL_LABEL, &response_aad(org, me), sealed)
        .map_err(|_| ResponseError::Unauthenticated)?;
    let envelope = UnverifiedEnvelope::decode(&plaintext, Type::OrganizationRequestToJoinResponse)?;
    let payload = envelope.verify(org.public_key(), &RESPONSE_CONTEXT).map_err(envelope_error)?;
    let msg = wire::OrganizationRequestToJoinResponse::decode(payload.as_slice())
        .map_err(|_| DecodeError::Protobuf { message: "OrganizationRequestToJoinResponse" })?;
    if msg.organization_id.as_slice() != org.as_bytes() {
        return Err(ResponseError::Unauthenticated);
    }
    let grant = if msg.accepted {
        Some(SignedGrant::verify(&msg.grant, org, me, now_ms).map_err(ResponseError::Grant)?)
    } else {
        None
    };
    Ok(Response {
        accepted: msg.accepted,
        clock: LamportTime(msg.clock),
        grant,
        description: (!msg.organization_description.is_empty())
            .then_some(msg.organization_description),
    })
}

/// Builds a signed invitation (owner side).
pub(crate) fn sign_invitation(
    org_key: &IdentityKeyPair,
    grant: &SignedGrant,
    description: &SignedDescription,
) -> Vec<u8> {
    let payload = wire::OrganizationInvitation {
        organization_description: embeddable(description),
        grant: grant.bytes().to_vec(),
        chat_id: grant.grant().channel.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default(),
        public_key: org_key.public_key().as_bytes().to_vec(),
    }
    .encode_to_vec();
    envelope::sign(org_key, &INVITATION_CONTEXT, Type::OrganizationInvitation, payload)
}

/// A verified invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    org: OrgId,
    grant: SignedGrant,
    description: Option<Vec<u8>>,
}

impl Invitation {
    /// Verifies an invitation addressed to `me`: signed by the organization key it names,
    /// carrying a valid grant for `me` (seed: "the peer decrypts the OrganizationInvitation
    /// message, and verifies the signature").
    ///
    /// # Errors
    /// [`ResponseError::Unauthenticated`] for a bad signature, [`ResponseError::Grant`] if
    /// the grant is expired, forged or for another key.
    pub fn verify(bytes: &[u8], me: &MemberId, now_ms: u64) -> Result<Self, ResponseError> {
        if bytes.len() > MAX_SIGNED_MESSAGE_BYTES {
            return Err(DecodeError::TooMany {
                what: "invitation bytes",
                limit: MAX_SIGNED_MESSAGE_BYTES,
                actual: bytes.len(),
            }
            .into());
        }
        let envelope = UnverifiedEnvelope::decode(bytes, Type::OrganizationInvitation)?;
        let author = IdentityPublicKey::try_from(envelope.author_bytes())
            .map_err(|_| DecodeError::Field { field: "author" })?;
        let org = OrgId::new(author);
        let payload = envelope.verify(&author, &INVITATION_CONTEXT).map_err(envelope_error)?;
        let msg = wire::OrganizationInvitation::decode(payload.as_slice())
            .map_err(|_| DecodeError::Protobuf { message: "OrganizationInvitation" })?;
        if msg.public_key.as_slice() != org.as_bytes() {
            return Err(ResponseError::Unauthenticated);
        }
        let grant =
            SignedGrant::verify(&msg.grant, &org, me, now_ms).map_err(ResponseError::Grant)?;
        Ok(Self {
            org,
            grant,
            description: (!msg.organization_description.is_empty())
                .then_some(msg.organization_description),
        })
    }

    /// The inviting organization.
    #[must_use]
    pub fn org(&self) -> &OrgId {
        &self.org
    }

    /// The invitation grant; put [`SignedGrant::bytes`] into [`JoinRequest::invitation_grant`].
    #[must_use]
    pub fn grant(&self) -> &SignedGrant {
        &self.grant
    }

    /// The signed description bytes, if they fitted.
    #[must_use]
    pub fn description(&self) -> Option<&[u8]> {
        self.description.as_deref()
    }
}

/// Builds a signed kick notice (owner side).
pub(crate) fn sign_kicked(org_key: &IdentityKeyPair, clock: LamportTime) -> Vec<u8> {
    let payload = wire::OrganizationUserKicked {
        clock: clock.0,
        organization_id: org_key.public_key().as_bytes().to_vec(),
    }
    .encode_to_vec();
    envelope::sign(org_key, &KICKED_CONTEXT, Type::OrganizationUserKicked, payload)
}

/// Verifies a kick notice from `org`; returns its clock.
pub(crate) fn verify_kicked(org: &OrgId, bytes: &[u8]) -> Result<LamportTime, ResponseError> {
    let envelope = UnverifiedEnvelope::decode(bytes, Type::OrganizationUserKicked)?;
    let payload = envelope.verify(org.public_key(), &KICKED_CONTEXT).map_err(envelope_error)?;
    let msg = wire::OrganizationUserKicked::decode(payload.as_slice())
        .map_err(|_| DecodeError::Protobuf { message: "OrganizationUserKicked" })?;
    if msg.organization_id.as_slice() != org.as_bytes() {
        return Err(ResponseError::Unauthenticated);
    }
    Ok(LamportTime(msg.clock))
}
