//! One installation's copy of a message: the optional X3DH header, the double-ratchet
//! header and the ciphertext (`EncryptedMessageProtocol` of 53/WAKU2-X3DH, digest §2.4).
//!
//! ```text
//! EncryptedMessageProtocol {
//!   x3dh_header = 1 { key = 1: EK_A (32), id = 4: SPK_B (32), identity = 5: IK_A (Ed25519, 32) }
//!                   present on every message of the initiator until the first reply arrives
//!   dr_header   = 2 { key = 1: sender ratchet key (32), n = 2, pn = 3, id = 4: SPK_B (32) }
//!   payload     = 3: ciphertext ‖ tag (ChaCha20-Poly1305, at least 16 bytes)
//!   hr_header   = 102: must be absent (organization channels only)
//! }
//!
//! header_ad = key(32) ‖ u32_be(n) ‖ u32_be(pn) ‖ id(32)        (72 bytes, in the AEAD's AD)
//! ```
//!
//! Checks on decode: every key is exactly 32 bytes, X25519 keys are canonically encoded
//! (bit 255 clear, `u < 2^255 - 19`), the identity is a valid Ed25519 key,
//! the X3DH header's `id` equals the ratchet header's `id` (both name SPK_B), the payload
//! holds at least a tag and at most [`MAX_MESSAGE_LEN`] bytes. The header is authenticated by
//! the AEAD (as the AD), never by re-encoding the protobuf.

use kaiwa_crypto::{DhPublicKey, IdentityPublicKey, TAG_LEN};
use kaiwa_wire::net as wire;
use prost::Message as _;

use crate::error::DecodeError;
use crate::limits::MAX_MESSAGE_LEN;

/// Length of [`RatchetHeader`]'s associated-data encoding.
pub(crate) const HEADER_AD_LEN: usize = 72;

/// The X3DH header of a session's first messages: what the responder needs to run X3DH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X3dhHeader {
    pub(crate) ephemeral: DhPublicKey,
    pub(crate) signed_pre_key: DhPublicKey,
    pub(crate) identity: IdentityPublicKey,
}

impl X3dhHeader {
    /// The initiator's ephemeral key `EK_A`.
    #[must_use]
    pub fn ephemeral_key(&self) -> DhPublicKey {
        self.ephemeral
    }

    /// The responder's signed prekey `SPK_B` the handshake used (the bundle id).
    #[must_use]
    pub fn signed_pre_key(&self) -> DhPublicKey {
        self.signed_pre_key
    }

    /// The initiator's Ed25519 identity `IK_A`.
    #[must_use]
    pub fn identity(&self) -> IdentityPublicKey {
        self.identity
    }
}

/// The double-ratchet header (Signal §3.5 `HEADER(dh_pair, pn, n)`, plus the bundle id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatchetHeader {
    pub(crate) ratchet_key: DhPublicKey,
    pub(crate) index: u32,
    pub(crate) previous_chain_length: u32,
    pub(crate) bundle_id: DhPublicKey,
}

impl RatchetHeader {
    /// The sender's current ratchet public key.
    #[must_use]
    pub fn ratchet_key(&self) -> DhPublicKey {
        self.ratchet_key
    }

    /// `n`: the message's index in the sending chain.
    #[must_use]
    pub fn index(&self) -> u32 {
        self.index
    }

    /// `pn`: the length of the sender's previous sending chain.
    #[must_use]
    pub fn previous_chain_length(&self) -> u32 {
        self.previous_chain_length
    }

    /// The responder's signed prekey the session was built on; selects the session.
    #[must_use]
    pub fn bundle_id(&self) -> DhPublicKey {
        self.bundle_id
    }

    /// `key(32) ‖ u32_be(n) ‖ u32_be(pn) ‖ id(32)`.
    pub(crate) fn write_ad(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.ratchet_key.as_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.previous_chain_length.to_be_bytes());
        out.extend_from_slice(self.bundle_id.as_bytes());
    }
}

/// One installation's copy of an encrypted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub(crate) x3dh: Option<X3dhHeader>,
    pub(crate) header: RatchetHeader,
    pub(crate) ciphertext: Vec<u8>,
}

impl Envelope {
    /// The X3DH header, on messages of a session that has not seen a reply yet.
    #[must_use]
    pub fn x3dh_header(&self) -> Option<&X3dhHeader> {
        self.x3dh.as_ref()
    }

    /// The double-ratchet header.
    #[must_use]
    pub fn header(&self) -> &RatchetHeader {
        &self.header
    }

    /// `ciphertext ‖ tag`.
    #[must_use]
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// The 16-byte Poly1305 tag (the last bytes of the ciphertext; decode guarantees them).
    pub(crate) fn tag(&self) -> [u8; TAG_LEN] {
        self.ciphertext.last_chunk::<TAG_LEN>().copied().unwrap_or([0; TAG_LEN])
    }

    /// Parses untrusted bytes (an encoded `EncryptedMessageProtocol`). Never panics.
    ///
    /// # Errors
    /// [`DecodeError`] for malformed input.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(DecodeError::TooLong { limit: MAX_MESSAGE_LEN, actual: bytes.len() });
        }
        Self::try_from(wire::EncryptedMessageProtocol::decode(bytes)?)
    }

    /// The protobuf encoding.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        wire::EncryptedMessageProtocol::from(self).encode_to_vec()
    }
}

/// Whether `bytes` is the canonical encoding of an X25519 u-coordinate: bit 255 clear and
/// `u < p = 2^255 - 19`. X25519 ignores bit 255 and reduces mod p (RFC 7748 §5), so without
/// this check 2 or 3 byte strings name the same key, and a key that is not covered by a MAC
/// (the X3DH header's ephemeral key) could be re-encoded to replay a first message as new.
pub(crate) fn is_canonical_x25519(bytes: &[u8; 32]) -> bool {
    let [first, middle @ .., last] = bytes;
    let top_bit_clear = last & 0x80 == 0;
    let at_least_p = *last == 0x7f && middle.iter().all(|&b| b == 0xff) && *first >= 0xed;
    top_bit_clear && !at_least_p
}

/// A 32-byte X25519 public key field, canonically encoded.
pub(crate) fn dh_key(field: &'static str, bytes: &[u8]) -> Result<DhPublicKey, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Missing { field });
    }
    let array: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length {
        field,
        expected: DhPublicKey::LEN,
        actual: bytes.len(),
    })?;
    if !is_canonical_x25519(&array) {
        return Err(DecodeError::Invalid { field });
    }
    Ok(DhPublicKey::from_bytes(array))
}

pub(crate) fn identity_key(
    field: &'static str,
    bytes: &[u8],
) -> Result<IdentityPublicKey, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Missing { field });
    }
    let array: &[u8; 32] = bytes.try_into().map_err(|_| DecodeError::Length {
        field,
        expected: IdentityPublicKey::LEN,
        actual: bytes.len(),
    })?;
    IdentityPublicKey::from_bytes(array).map_err(|_| DecodeError::Invalid { field })
}

impl TryFrom<wire::EncryptedMessageProtocol> for Envelope {
    type Error = DecodeError;

    fn try_from(msg: wire::EncryptedMessageProtocol) -> Result<Self, DecodeError> {
        if msg.hr_header.is_some() {
            return Err(DecodeError::Invalid { field: "hr_header" });
        }
        let dr = msg.dr_header.ok_or(DecodeError::Missing { field: "dr_header" })?;
        let header = RatchetHeader {
            ratchet_key: dh_key("dr_header.key", &dr.key)?,
            index: dr.n,
            previous_chain_length: dr.pn,
            bundle_id: dh_key("dr_header.id", &dr.id)?,
        };
        let x3dh = match msg.x3dh_header {
            None => None,
            Some(x) => {
                let x3dh = X3dhHeader {
                    ephemeral: dh_key("x3dh_header.key", &x.key)?,
                    signed_pre_key: dh_key("x3dh_header.id", &x.id)?,
                    identity: identity_key("x3dh_header.identity", &x.identity)?,
                };
                if x3dh.signed_pre_key != header.bundle_id {
                    return Err(DecodeError::Invalid { field: "x3dh_header.id" });
                }
                Some(x3dh)
            }
        };
        if msg.payload.len() < TAG_LEN {
            return Err(DecodeError::Length {
                field: "payload",
                expected: TAG_LEN,
                actual: msg.payload.len(),
            });
        }
        Ok(Self { x3dh, header, ciphertext: msg.payload })
    }
}

impl From<&Envelope> for wire::EncryptedMessageProtocol {
    fn from(envelope: &Envelope) -> Self {
        let Envelope { x3dh, header, ciphertext } = envelope;
        Self {
            x3dh_header: x3dh.map(|x| wire::X3dhHeader {
                key: x.ephemeral.as_bytes().to_vec(),
                id: x.signed_pre_key.as_bytes().to_vec(),
                identity: x.identity.as_bytes().to_vec(),
            }),
            dr_header: Some(wire::DrHeader {
                key: header.ratchet_key.as_bytes().to_vec(),
                n: header.index,
                pn: header.previous_chain_length,
                id: header.bundle_id.as_bytes().to_vec(),
            }),
            payload: ciphertext.clone(),
            hr_header: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn header() -> RatchetHeader {
        RatchetHeader {
            ratchet_key: DhPublicKey::from_bytes([1; 32]),
            index: 0x0102_0304,
            previous_chain_length: 5,
            bundle_id: DhPublicKey::from_bytes([2; 32]),
        }
    }

    #[test]
    fn non_canonical_x25519_keys_are_rejected() {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        let mut top = [1u8; 32];
        top[31] = 0x80;
        let mut below_p = p;
        below_p[0] = 0xec;
        for bad in [p, top, [0xff; 32]] {
            assert_eq!(dh_key("k", &bad), Err(DecodeError::Invalid { field: "k" }));
        }
        assert!(dh_key("k", &below_p).is_ok());
        assert!(dh_key("k", &[0; 32]).is_ok(), "small order is caught by the DH check");
    }

    #[test]
    fn header_ad_layout() {
        let mut ad = Vec::new();
        header().write_ad(&mut ad);
        assert_eq!(ad.len(), HEADER_AD_LEN);
        assert_eq!(&ad[32..40], &[1, 2, 3, 4, 0, 0, 0, 5]);
    }

    #[test]
    fn rejections() {
        let good = Envelope { x3dh: None, header: header(), ciphertext: vec![0; 16] };
        assert_eq!(Envelope::decode(&good.encode()), Ok(good.clone()));
        let mut wire = wire::EncryptedMessageProtocol::from(&good);
        wire.payload.truncate(15);
        assert_eq!(
            Envelope::try_from(wire),
            Err(DecodeError::Length { field: "payload", expected: 16, actual: 15 })
        );
        let mut wire = wire::EncryptedMessageProtocol::from(&good);
        wire.dr_header = None;
        assert_eq!(Envelope::try_from(wire), Err(DecodeError::Missing { field: "dr_header" }));
        let mut wire = wire::EncryptedMessageProtocol::from(&good);
        wire.hr_header = Some(wire::HrHeader::default());
        assert_eq!(Envelope::try_from(wire), Err(DecodeError::Invalid { field: "hr_header" }));
        let mut wire = wire::EncryptedMessageProtocol::from(&good);
        if let Some(dr) = wire.dr_header.as_mut() {
            dr.key.push(0);
        }
        assert_eq!(
            Envelope::try_from(wire),
            Err(DecodeError::Length { field: "dr_header.key", expected: 32, actual: 33 })
        );
        let mut wire = wire::EncryptedMessageProtocol::from(&good);
        wire.x3dh_header =
            Some(wire::X3dhHeader { key: vec![3; 32], id: vec![9; 32], identity: vec![0; 32] });
        assert_eq!(
            Envelope::try_from(wire),
            Err(DecodeError::Invalid { field: "x3dh_header.identity" })
        );
        assert_eq!(
            Envelope::decode(&vec![0; MAX_MESSAGE_LEN + 1]),
            Err(DecodeError::TooLong { limit: MAX_MESSAGE_LEN, actual: MAX_MESSAGE_LEN + 1 })
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = Envelope::decode(&bytes);
        }

        #[test]
        fn round_trip(mut key in any::<[u8; 32]>(), n in any::<u32>(), pn in any::<u32>(),
                      ct in prop::collection::vec(any::<u8>(), 16..64)) {
            key[31] &= 0x3f; // canonical
            let envelope = Envelope {
                x3dh: None,
                header: RatchetHeader {
                    ratchet_key: DhPublicKey::from_bytes(key),
                    index: n,
                    previous_chain_length: pn,
                    bundle_id: DhPublicKey::from_bytes([4; 32]),
                },
                ciphertext: ct,
            };
            prop_assert_eq!(Envelope::decode(&envelope.encode()), Ok(envelope));
        }
    }
}
