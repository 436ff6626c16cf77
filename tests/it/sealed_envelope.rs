//! A signed application envelope, sealed to a recipient's X25519 key, crosses `kaiwa-wire` and
//! `kaiwa-crypto` the way an organization join request will: the recipient opens the box,
//! decodes the envelope and verifies the author's signature over the bytes it received.

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair, IdentityPublicKey, SealLabel, SignatureContext};
use kaiwa_crypto::{Signature, open_box, seal_box};
use kaiwa_wire::net::application_metadata_message::Type;
use kaiwa_wire::net::{ApplicationMetadataMessage, OrganizationRequestToJoin};
use prost::Message as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;

const ENVELOPE_CONTEXT: SignatureContext = SignatureContext::new(b"kaiwa/tests/envelope/v1");
const REQUEST_LABEL: SealLabel = SealLabel::new(b"kaiwa/tests/request/v1");

fn envelope(author: &IdentityKeyPair, kind: Type, payload: Vec<u8>) -> ApplicationMetadataMessage {
    let type_bytes = (kind as i32).to_be_bytes();
    let signature = author.sign_parts(&ENVELOPE_CONTEXT, &[&type_bytes, &payload]);
    ApplicationMetadataMessage {
        signature: signature.as_bytes().to_vec(),
        payload,
        r#type: kind.into(),
        author: author.public_key().as_bytes().to_vec(),
    }
}

/// What a receiver does: check the claimed author's signature over the received payload.
fn verify(msg: &ApplicationMetadataMessage) -> Result<IdentityPublicKey, &'static str> {
    let author: [u8; 32] = msg.author.as_slice().try_into().map_err(|_| "author length")?;
    let author = IdentityPublicKey::from_bytes(&author).map_err(|_| "author key")?;
    let signature: [u8; 64] = msg.signature.as_slice().try_into().map_err(|_| "sig length")?;
    let type_bytes = msg.r#type.to_be_bytes();
    author
        .verify_parts(
            &ENVELOPE_CONTEXT,
            &[&type_bytes, &msg.payload],
            &Signature::from_bytes(signature),
        )
        .map_err(|_| "signature")?;
    Ok(author)
}

#[test]
fn a_sealed_signed_request_reaches_only_its_recipient_intact() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let requester = IdentityKeyPair::generate(&mut rng);
    let owner = DhKeyPair::generate(&mut rng);
    let stranger = DhKeyPair::generate(&mut rng);

    let request = OrganizationRequestToJoin {
        clock: 1,
        display_name: "alice".into(),
        organization_id: vec![7; 32],
        ..Default::default()
    };
    let env = envelope(&requester, Type::OrganizationRequestToJoin, request.encode_to_vec());
    let sealed =
        seal_box(&owner.public_key(), &REQUEST_LABEL, b"", &env.encode_to_vec(), &mut rng).unwrap();

    // The owner opens, decodes and authenticates it.
    let opened = open_box(&owner, &REQUEST_LABEL, b"", &sealed).unwrap();
    let received = ApplicationMetadataMessage::decode(opened.as_slice()).unwrap();
    assert_eq!(verify(&received).unwrap(), requester.public_key());
    assert_eq!(OrganizationRequestToJoin::decode(received.payload.as_slice()).unwrap(), request);

    // Nobody else can open it, and a box for another label does not open either.
    assert!(open_box(&stranger, &REQUEST_LABEL, b"", &sealed).is_err());
    const OTHER: SealLabel = SealLabel::new(b"kaiwa/tests/other/v1");
    assert!(open_box(&owner, &OTHER, b"", &sealed).is_err());
}

#[test]
fn a_changed_type_or_payload_or_author_fails_verification() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let author = IdentityKeyPair::generate(&mut rng);
    let other = IdentityKeyPair::generate(&mut rng);
    let env = envelope(&author, Type::ChatMessage, b"hello".to_vec());
    assert!(verify(&env).is_ok());

    let mut retyped = env.clone();
    retyped.r#type = Type::EmojiReaction.into();
    assert_eq!(verify(&retyped), Err("signature"));

    let mut edited = env.clone();
    edited.payload = b"hellO".to_vec();
    assert_eq!(verify(&edited), Err("signature"));

    let mut reauthored = env;
    reauthored.author = other.public_key().as_bytes().to_vec();
    assert_eq!(verify(&reauthored), Err("signature"));
}
