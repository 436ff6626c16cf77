//! Channel messages: the wire form, what is signed and what is authenticated.
//!
//! ```text
//! channel_group = SHA-256("kaiwa/org/channel-group/v1" ‖ org_id ‖ channel_id)   (every channel)
//! key group     = channel_group if the channel has its own members, else org_id
//!
//! encrypted (description.encrypted = true):
//!   HRHeader{seq_no = index ≥ 1, group_id = channel_group, key_id, sender, epoch ≥ 1}
//!   chain         = sender's chain of (key group, epoch) for this channel_group
//!                   (chain.rs, with salt = channel_group: channels never share a chain)
//!   mk            = message_key(index)
//!   nonce         = 12 random bytes from the caller's RNG
//!   AD            = group_id(32) ‖ key_id(32) ‖ sender(32) ‖ BE32(index)       (DECISIONS)
//!   ciphertext    = AES-256-GCM(mk, nonce, AD, plaintext)  (‖ tag 16)
//!   signature     = Ed25519(sender, u8(len) ‖ "kaiwa/org/channel-message/v1" ‖ group_id ‖
//!                           key_id ‖ BE32(epoch) ‖ sender ‖ BE32(index) ‖ nonce ‖ ciphertext)
//!
//! public (description.encrypted = false): readable by anyone following the description
//!   HRHeader{seq_no = 0, group_id = channel_group, key_id = empty, sender, epoch = 0}
//!   nonce = empty, ciphertext = the plaintext itself
//!   signature     = Ed25519(sender, u8(len) ‖ "kaiwa/org/public-channel-message/v1" ‖
//!                           group_id ‖ sender ‖ plaintext)
//! ```
//!
//! Every field before the last is fixed-size, so the signed string is unambiguous. The nonce
//! is random rather than derived: each message key is used once, so a derived nonce would do,
//! but a random one keeps AES-GCM safe even if a restored backup makes a device reuse an index.
//!
//! Receiving, in order (authenticate first, DECISIONS "Channel encryption"): parse; find the
//! channel by `group_id`; refuse a mode that differs from the signed description's `encrypted`
//! flag; refuse a banned or non-member sender; verify the signature with `verify_strict`; only
//! then derive the key and open the AEAD; only after that change any state.

use kaiwa_crypto::{
    Aes256GcmKey, IdentityKeyPair, IdentityPublicKey, Nonce, Signature, SymmetricKey, Zeroizing,
};
use kaiwa_wire::net as wire;
use prost::Message as _;

use crate::envelope::{CHANNEL_MESSAGE_CONTEXT, PUBLIC_CHANNEL_MESSAGE_CONTEXT};
use crate::error::DecodeError;
use crate::id::{GroupId, KeyId, MemberId};
use crate::limits::MAX_SIGNED_MESSAGE_BYTES;

/// The header fields of a channel message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) channel_group: GroupId,
    /// `None` for a public message.
    pub(crate) key_id: Option<KeyId>,
    pub(crate) epoch: u32,
    pub(crate) sender: MemberId,
    pub(crate) index: u32,
}

impl Header {
    /// `group_id(32) ‖ key_id(32) ‖ sender(32) ‖ BE32(index)`, by four block copies (a byte-wise
    /// loop over chained iterators cost about 2,000 instructions per message).
    fn ad(&self, key_id: &KeyId) -> [u8; 100] {
        let mut ad = [0u8; 100];
        let (group, rest) = ad.split_at_mut(32);
        let (key, rest) = rest.split_at_mut(32);
        let (sender, index) = rest.split_at_mut(32);
        group.copy_from_slice(self.channel_group.as_bytes());
        key.copy_from_slice(key_id.as_bytes());
        sender.copy_from_slice(self.sender.as_bytes());
        index.copy_from_slice(&self.index.to_be_bytes());
        ad
    }

    fn to_wire(self) -> wire::HrHeader {
        wire::HrHeader {
            seq_no: self.index,
            group_id: self.channel_group.as_bytes().to_vec(),
            key_id: self.key_id.map(|k| k.as_bytes().to_vec()).unwrap_or_default(),
            sender: self.sender.as_bytes().to_vec(),
            epoch: self.epoch,
        }
    }
}

fn verify_encrypted(
    key: &IdentityPublicKey,
    header: &Header,
    key_id: &KeyId,
    nonce: &Nonce,
    ciphertext: &[u8],
    signature: &Signature,
) -> bool {
    key.verify_parts(
        &CHANNEL_MESSAGE_CONTEXT,
        &[
            header.channel_group.as_bytes(),
            key_id.as_bytes(),
            &header.epoch.to_be_bytes(),
            header.sender.as_bytes(),
            &header.index.to_be_bytes(),
            nonce.as_bytes(),
            ciphertext,
        ],
        signature,
    )
    .is_ok()
}

/// Encrypts and signs. `header.key_id` must be set.
pub(crate) fn seal_encrypted(
    identity: &IdentityKeyPair,
    header: Header,
    key_id: &KeyId,
    message_key: SymmetricKey,
    nonce: Nonce,
    plaintext: &[u8],
) -> Option<Vec<u8>> {
    let key = Aes256GcmKey::from(message_key);
    let ciphertext = key.seal(&nonce, &header.ad(key_id), plaintext).ok()?;
    let signature = identity.sign_parts(
        &CHANNEL_MESSAGE_CONTEXT,
        &[
            header.channel_group.as_bytes(),
            key_id.as_bytes(),
            &header.epoch.to_be_bytes(),
            header.sender.as_bytes(),
            &header.index.to_be_bytes(),
            nonce.as_bytes(),
            &ciphertext,
        ],
    );
    Some(
        wire::ChannelMessage {
            header: Some(header.to_wire()),
            nonce: nonce.as_bytes().to_vec(),
            ciphertext,
            signature: signature.as_bytes().to_vec(),
        }
        .encode_to_vec(),
    )
}

/// Signs a public message.
pub(crate) fn seal_public(identity: &IdentityKeyPair, header: Header, plaintext: &[u8]) -> Vec<u8> {
    let signature = identity.sign_parts(
        &PUBLIC_CHANNEL_MESSAGE_CONTEXT,
        &[header.channel_group.as_bytes(), header.sender.as_bytes(), plaintext],
    );
    wire::ChannelMessage {
        header: Some(header.to_wire()),
        nonce: Vec::new(),
        ciphertext: plaintext.to_vec(),
        signature: signature.as_bytes().to_vec(),
    }
    .encode_to_vec()
}

/// A parsed channel message, not yet authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    pub(crate) header: Header,
    nonce: Option<Nonce>,
    body: Vec<u8>,
    signature: Signature,
}

impl Received {
    /// Parses untrusted bytes. Never panics.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_SIGNED_MESSAGE_BYTES {
            return Err(DecodeError::TooMany {
                what: "channel message bytes",
                limit: MAX_SIGNED_MESSAGE_BYTES,
                actual: bytes.len(),
            });
        }
        let msg = wire::ChannelMessage::decode(bytes)
            .map_err(|_| DecodeError::Protobuf { message: "ChannelMessage" })?;
        let h = msg.header.ok_or(DecodeError::Missing { field: "header" })?;
        let signature = Signature::try_from(msg.signature.as_slice()).map_err(|_| {
            DecodeError::Length { field: "signature", expected: 64, actual: msg.signature.len() }
        })?;
        let channel_group = GroupId::from_slice(&h.group_id)?;
        let sender = MemberId::from_slice("sender", &h.sender)?;
        let (key_id, nonce) = if h.key_id.is_empty() {
            if h.epoch != 0 || h.seq_no != 0 || !msg.nonce.is_empty() {
                return Err(DecodeError::Inconsistent {
                    rule: "public message with an epoch, index or nonce",
                });
            }
            (None, None)
        } else {
            if h.epoch == 0 {
                return Err(DecodeError::Field { field: "epoch" });
            }
            if h.seq_no == 0 {
                return Err(DecodeError::Field { field: "seq_no" });
            }
            let nonce = Nonce::try_from(msg.nonce.as_slice()).map_err(|_| DecodeError::Length {
                field: "nonce",
                expected: Nonce::LEN,
                actual: msg.nonce.len(),
            })?;
            (Some(KeyId::from_slice(&h.key_id)?), Some(nonce))
        };
        Ok(Self {
            header: Header { channel_group, key_id, epoch: h.epoch, sender, index: h.seq_no },
            nonce,
            body: msg.ciphertext,
            signature,
        })
    }

    /// Whether the message is public (signed plaintext).
    pub(crate) fn is_public(&self) -> bool {
        self.header.key_id.is_none()
    }

    /// Verifies the sender's signature (over the received field values).
    pub(crate) fn verify(&self, sender: &IdentityPublicKey) -> bool {
        match (&self.header.key_id, &self.nonce) {
            (Some(key_id), Some(nonce)) => {
                verify_encrypted(sender, &self.header, key_id, nonce, &self.body, &self.signature)
            }
            (None, None) => sender
                .verify_parts(
                    &PUBLIC_CHANNEL_MESSAGE_CONTEXT,
                    &[
                        self.header.channel_group.as_bytes(),
                        self.header.sender.as_bytes(),
                        &self.body,
                    ],
                    &self.signature,
                )
                .is_ok(),
            _ => false,
        }
    }

    /// The plaintext of a public message.
    pub(crate) fn public_body(&self) -> &[u8] {
        &self.body
    }

    /// Opens the AEAD with `message_key`.
    pub(crate) fn open(&self, message_key: SymmetricKey) -> Option<Zeroizing<Vec<u8>>> {
        let (Some(key_id), Some(nonce)) = (&self.header.key_id, &self.nonce) else { return None };
        Aes256GcmKey::from(message_key).open(nonce, &self.header.ad(key_id), &self.body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_is_group_key_id_sender_and_index() {
        let header = Header {
            channel_group: GroupId::from_slice(&[1; 32]).unwrap(),
            key_id: None,
            epoch: 7,
            sender: MemberId::from_slice("sender", &[3; 32]).unwrap(),
            index: 0x0102_0304,
        };
        let key_id = KeyId::from_slice(&[2; 32]).unwrap();
        let expected = [&[1u8; 32][..], &[2; 32], &[3; 32], &[1, 2, 3, 4]].concat();
        assert_eq!(header.ad(&key_id).as_slice(), expected.as_slice());
    }
}
