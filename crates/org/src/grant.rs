//! Grants: the organization's signed, expiring statement that a key may join (an invitation)
//! or has been admitted (a response).
//!
//! ```text
//! Grant        = {organization_id = 1, member_id = 2, chat_id = 3, clock = 4, expires = 5 (ms)}
//! SignedGrant  = {grant = 1 (Grant bytes, kept as received), signature = 2}
//! signature    = Ed25519(org key, u8(len(ctx)) ‖ ctx ‖ grant)    ctx = "kaiwa/org/grant/v1"
//!
//! verify(bytes, org, member, now_ms):                              (DECISIONS "Organizations",
//!   signature by org over the received grant bytes                 status-go grant checks,
//!   organization_id == org;  clock != 0                             digest §11.2)
//!   member_id == member                      else WrongMember
//!   now_ms < expires                         else Expired
//! ```
//!
//! A verified grant is a proof of what the org key signed, nothing more: the owner also keeps
//! the grants it issued on record and honours an invitation only while it is there, so kicking
//! or banning a key revokes its grants even before they expire.

use kaiwa_crypto::{IdentityKeyPair, Signature};
use kaiwa_wire::net as wire;
use prost::Message as _;

use crate::envelope::GRANT_CONTEXT;
use crate::error::{DecodeError, GrantError};
use crate::id::{ChannelId, LamportTime, MemberId, OrgId};

/// What a grant says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The issuing organization.
    pub org: OrgId,
    /// The member it is for.
    pub member: MemberId,
    /// The channel it is for; `None` for the whole organization.
    pub channel: Option<ChannelId>,
    /// Lamport clock of issue.
    pub clock: LamportTime,
    /// Expiry, Unix milliseconds.
    pub expires_ms: u64,
}

/// A grant with its organization signature, verified or freshly issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedGrant {
    grant: Grant,
    bytes: Vec<u8>,
}

impl SignedGrant {
    /// Signs `grant` with the organization key.
    pub(crate) fn issue(org_key: &IdentityKeyPair, grant: Grant) -> Self {
        let body = wire::Grant {
            organization_id: grant.org.as_bytes().to_vec(),
            member_id: grant.member.as_bytes().to_vec(),
            chat_id: grant.channel.as_ref().map(|c| c.as_str().to_owned()).unwrap_or_default(),
            clock: grant.clock.0,
            expires: grant.expires_ms,
        }
        .encode_to_vec();
        let signature = org_key.sign(&GRANT_CONTEXT, &body);
        let bytes = wire::SignedGrant { grant: body, signature: signature.as_bytes().to_vec() }
            .encode_to_vec();
        Self { grant, bytes }
    }

    /// Verifies grant bytes for `member` of `org` at `now_ms` (checks in the module doc).
    ///
    /// # Errors
    /// [`GrantError::Decode`] for malformed bytes, [`GrantError::Unauthenticated`] if the org
    /// did not sign it, [`GrantError::WrongMember`] and [`GrantError::Expired`] as named.
    pub fn verify(
        bytes: &[u8],
        org: &OrgId,
        member: &MemberId,
        now_ms: u64,
    ) -> Result<Self, GrantError> {
        let signed = wire::SignedGrant::decode(bytes)
            .map_err(|_| DecodeError::Protobuf { message: "SignedGrant" })?;
        let signature = Signature::try_from(signed.signature.as_slice()).map_err(|_| {
            DecodeError::Length { field: "signature", expected: 64, actual: signed.signature.len() }
        })?;
        org.public_key()
            .verify(&GRANT_CONTEXT, &signed.grant, &signature)
            .map_err(|_| GrantError::Unauthenticated)?;
        let body = wire::Grant::decode(signed.grant.as_slice())
            .map_err(|_| DecodeError::Protobuf { message: "Grant" })?;
        if body.organization_id.as_slice() != org.as_bytes() {
            return Err(GrantError::Unauthenticated);
        }
        if body.clock == 0 {
            return Err(DecodeError::Field { field: "clock" }.into());
        }
        let granted = MemberId::from_slice("member_id", &body.member_id)?;
        if granted != *member {
            return Err(GrantError::WrongMember);
        }
        if now_ms >= body.expires {
            return Err(GrantError::Expired { expires_ms: body.expires, now_ms });
        }
        let channel =
            if body.chat_id.is_empty() { None } else { Some(ChannelId::new(&body.chat_id)?) };
        Ok(Self {
            grant: Grant {
                org: *org,
                member: granted,
                channel,
                clock: LamportTime(body.clock),
                expires_ms: body.expires,
            },
            bytes: bytes.to_vec(),
        })
    }

    /// What the grant says.
    #[must_use]
    pub fn grant(&self) -> &Grant {
        &self.grant
    }

    /// The `SignedGrant` bytes, as issued or received.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn setup() -> (IdentityKeyPair, OrgId, MemberId) {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let org_key = IdentityKeyPair::generate(&mut rng);
        let org = OrgId::new(org_key.public_key());
        let member = MemberId::from_key(&IdentityKeyPair::generate(&mut rng).public_key());
        (org_key, org, member)
    }

    fn grant(org: OrgId, member: MemberId) -> Grant {
        Grant { org, member, channel: None, clock: LamportTime(5), expires_ms: 1_000 }
    }

    #[test]
    fn issued_grant_verifies_until_expiry() {
        let (key, org, member) = setup();
        let signed = SignedGrant::issue(&key, grant(org, member));
        let verified = SignedGrant::verify(signed.bytes(), &org, &member, 999).unwrap();
        assert_eq!(verified, signed);
        assert_eq!(
            SignedGrant::verify(signed.bytes(), &org, &member, 1_000),
            Err(GrantError::Expired { expires_ms: 1_000, now_ms: 1_000 })
        );
    }

    #[test]
    fn forged_or_misdirected_grants_fail() {
        let (key, org, member) = setup();
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let other_key = IdentityKeyPair::generate(&mut rng);
        let other_org = OrgId::new(other_key.public_key());
        // Signed by another key, claiming to be from `org`.
        let forged = SignedGrant::issue(&other_key, grant(org, member));
        assert_eq!(
            SignedGrant::verify(forged.bytes(), &org, &member, 0),
            Err(GrantError::Unauthenticated)
        );
        // A genuine grant of another organization.
        let foreign = SignedGrant::issue(&other_key, grant(other_org, member));
        assert_eq!(
            SignedGrant::verify(foreign.bytes(), &org, &member, 0),
            Err(GrantError::Unauthenticated)
        );
        // For someone else.
        let stranger = MemberId::from_key(&other_key.public_key());
        let signed = SignedGrant::issue(&key, grant(org, member));
        assert_eq!(
            SignedGrant::verify(signed.bytes(), &org, &stranger, 0),
            Err(GrantError::WrongMember)
        );
        // Tampered bytes.
        let mut bytes = signed.bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(SignedGrant::verify(&bytes, &org, &member, 0).is_err());
    }
}
