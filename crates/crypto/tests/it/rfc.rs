//! RFC vectors copied into `test-vectors/` (see `test-vectors/PROVENANCE.md`).
//! (Ed25519's RFC 8032 / SUPERCOP vectors sign messages without a context, which the public
//! API never does; they run as unit tests inside `src/identity.rs`.)

use kaiwa_crypto::{
    AeadError, ChaCha20Poly1305Key, DhKeyPair, DhPublicKey, KdfError, Mac, Nonce, hkdf_sha256,
    hkdf_sha256_extract, hmac_sha256, hmac_sha256_verify,
};
use serde_json::Value;

use crate::{array, kv_blocks, unhex};

const X25519: &str = include_str!("../../test-vectors/x25519_rfc7748.txt");
const HKDF: &str = include_str!("../../test-vectors/hkdf_sha256_rfc5869.txt");
const HMAC: &str = include_str!("../../test-vectors/hmac_sha256_rfc4231.txt");
const CHACHA: &str = include_str!("../../test-vectors/chacha20poly1305_openssl_evpciph.txt");
const EXTRA: &str = include_str!("../../test-vectors/rfc_extra_verified.json");

fn x25519(scalar: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    let mut scalar = scalar;
    let pair = DhKeyPair::from_secret_bytes(&mut scalar);
    *pair.diffie_hellman(&DhPublicKey::from_bytes(u)).expect("contributory").expose_secret()
}

#[test]
fn x25519_rfc7748_section_5_2() {
    let blocks = kv_blocks(X25519);
    assert_eq!(blocks.len(), 3);
    for block in &blocks {
        let out = x25519(array(&unhex(&block["INPUT_SCALAR"])), array(&unhex(&block["INPUT_U"])));
        assert_eq!(out.to_vec(), unhex(&block["OUTPUT_U"]), "COUNT {}", block["COUNT"]);
    }
    println!("RFC 7748 §5.2 X25519: {} of {} passed", blocks.len(), blocks.len());
}

#[test]
fn x25519_rfc7748_section_6_1_and_iterated() {
    let extra: Value = serde_json::from_str(EXTRA).unwrap();
    let v = &extra["x25519_rfc7748_6_1"];
    let hexed = |name: &str| array::<32>(&unhex(v[name].as_str().unwrap()));
    let mut alice_secret = hexed("alice_private");
    let alice = DhKeyPair::from_secret_bytes(&mut alice_secret);
    let mut bob_secret = hexed("bob_private");
    let bob = DhKeyPair::from_secret_bytes(&mut bob_secret);
    assert_eq!(alice.public_key().to_bytes(), hexed("alice_public"));
    assert_eq!(bob.public_key().to_bytes(), hexed("bob_public"));
    let ab = alice.diffie_hellman(&bob.public_key()).unwrap();
    let ba = bob.diffie_hellman(&alice.public_key()).unwrap();
    assert_eq!(ab.expose_secret(), &hexed("shared"));
    assert_eq!(ba.expose_secret(), &hexed("shared"));

    // §5.2 iterated: k = u = 9; (k, u) = (X25519(k, u), k). The 1,000,000-iteration value is
    // left out on purpose (about a minute in a debug build, no coverage beyond 1,000).
    let it = &extra["x25519_rfc7748_5_2_iterated"];
    let mut k = [0u8; 32];
    k[0] = 9;
    let mut u = k;
    for i in 1..=1000 {
        let next = x25519(k, u);
        u = k;
        k = next;
        if i == 1 {
            assert_eq!(k.to_vec(), unhex(it["after_1"].as_str().unwrap()));
        }
    }
    assert_eq!(k.to_vec(), unhex(it["after_1000"].as_str().unwrap()));
    println!("RFC 7748 §6.1 + §5.2 iterated (1, 1000): 3 of 3 passed (1,000,000 not run)");
}

#[test]
fn hkdf_sha256_rfc5869() {
    let blocks = kv_blocks(HKDF);
    assert_eq!(blocks.len(), 3);
    for block in &blocks {
        assert_eq!(block["Hash"], "SHA-256");
        let (ikm, salt, info) =
            (unhex(&block["IKM"]), unhex(&block["salt"]), unhex(&block["info"]));
        let len: usize = block["L"].parse().unwrap();
        let prk = hkdf_sha256_extract(&salt, &[&ikm]);
        assert_eq!(prk.expose_secret().to_vec(), unhex(&block["PRK"]), "COUNT {}", block["COUNT"]);
        let mut okm = vec![0u8; len];
        hkdf_sha256(&salt, &ikm, &info, &mut okm).unwrap();
        assert_eq!(okm, unhex(&block["OKM"]), "COUNT {}", block["COUNT"]);
        let mut split = vec![0u8; len];
        prk.expand(&info, &mut split).unwrap();
        assert_eq!(split, okm);
    }
    let mut too_long = vec![0u8; 8161];
    assert_eq!(
        hkdf_sha256(b"", b"", b"", &mut too_long),
        Err(KdfError::OutputTooLong { requested: 8161, max: 8160 })
    );
    println!("RFC 5869 HKDF-SHA256: {} of {} passed", blocks.len(), blocks.len());
}

#[test]
fn hmac_sha256_rfc4231() {
    let blocks = kv_blocks(HMAC);
    assert_eq!(blocks.len(), 6);
    for block in &blocks {
        let (key, msg, md) = (unhex(&block["Key"]), unhex(&block["Msg"]), unhex(&block["MD"]));
        let tag = hmac_sha256(&key, &msg);
        assert_eq!(tag.as_bytes().to_vec(), md);
        assert_eq!(hmac_sha256_verify(&key, &msg, &Mac::from_bytes(array(&md))), Ok(()));
    }
    println!("RFC 4231 HMAC-SHA256: {} of {} passed", blocks.len(), blocks.len());
}

#[test]
fn chacha20_poly1305_openssl_and_rfc8439() {
    let blocks = kv_blocks(CHACHA);
    assert_eq!(blocks.len(), 5);
    let (mut passed, mut rejected) = (0, 0);
    for block in &blocks {
        let mut key_bytes = array::<32>(&unhex(&block["Key"]));
        let key = ChaCha20Poly1305Key::from_secret_bytes(&mut key_bytes);
        let nonce = Nonce::try_from(&unhex(&block["IV"])[..]).unwrap();
        let aad = unhex(&block["AAD"]);
        let plaintext = unhex(&block["Plaintext"]);
        let mut sealed = unhex(&block["Ciphertext"]);
        sealed.extend_from_slice(&unhex(&block["Tag"]));
        match block.get("Result").map(String::as_str) {
            Some("CIPHERFINAL_ERROR") => {
                assert_eq!(key.open(&nonce, &aad, &sealed), Err(AeadError::Unauthenticated));
                rejected += 1;
            }
            None => {
                assert_eq!(key.seal(&nonce, &aad, &plaintext).unwrap(), sealed);
                assert_eq!(key.open(&nonce, &aad, &sealed).unwrap().as_slice(), &plaintext[..]);
                passed += 1;
            }
            Some(other) => panic!("unknown result {other}"),
        }
    }
    assert_eq!((passed, rejected), (4, 1));

    let extra: Value = serde_json::from_str(EXTRA).unwrap();
    let v = &extra["chacha20poly1305_rfc8439_2_8_2"];
    let field = |name: &str| unhex(v[name].as_str().unwrap());
    let mut key_bytes = array::<32>(&field("key"));
    let key = ChaCha20Poly1305Key::from_secret_bytes(&mut key_bytes);
    let nonce = Nonce::from_bytes(array(&field("nonce")));
    let mut expected = field("ciphertext");
    expected.extend_from_slice(&field("tag"));
    assert_eq!(key.seal(&nonce, &field("aad"), &field("plaintext")).unwrap(), expected);
    assert_eq!(
        key.open(&nonce, &field("aad"), &expected).unwrap().as_slice(),
        &field("plaintext")[..]
    );
    println!(
        "OpenSSL evpciph ChaCha20-Poly1305: {passed} passed, {rejected} rejected as expected; \
         RFC 8439 §2.8.2: 1 passed"
    );
}
