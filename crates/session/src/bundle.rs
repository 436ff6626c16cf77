//! Prekey bundles (53/WAKU2-X3DH §"Bundle", digest §2.2): parsed [`Bundle`] and
//! signature-checked [`VerifiedBundle`].
//!
//! ```text
//! Bundle { identity = 1: IK (Ed25519, 32), signed_pre_keys = 2: map<installation_id, SignedPreKey>,
//!          signature = 4: Ed25519 (64), timestamp = 5: i64 ns, identity_dh = 6: X25519 (32) }
//! SignedPreKey { signed_pre_key = 1: SPK (32), version = 2 (>= 1), protocol_version = 3,
//!                created_at = 4: u64 ms }
//!
//! material  = u8(count)
//!           ‖ for each installation, in strictly ascending byte order of its id:
//!               u8(len(id)) ‖ id ‖ spk(32) ‖ u32_be(version) ‖ u32_be(protocol_version)
//!               ‖ u64_be(created_at_ms)
//!           ‖ identity_dh(32)
//!           ‖ i64_be(timestamp_ns)
//! signature = Ed25519-Sign(IK, u8(len(ctx)) ‖ ctx ‖ material)    ctx = "kaiwa/x3dh/bundle/v1"
//! ```
//!
//! status-go signs `id ‖ spk ‖ ascii(version)` concatenations without lengths, which is
//! ambiguous; every field here has a fixed length or a length prefix (digest §15). The
//! material is built from the parsed fields, which is a canonical encoding of our own (not a
//! protobuf re-encoding), so the check covers exactly what the receiver will use.
//!
//! Canonical means one encoding per bundle. Contact codes carry the material itself, and
//! [`Bundle::from_material`] refuses installations that are not in strictly ascending id order
//! ([`DecodeError::Order`]; a repeated id is out of order too): otherwise the same signed
//! bundle would have one valid encoding per ordering of its installations (the signature is
//! checked over the material rebuilt in canonical order). The protobuf form is a map whose
//! order protobuf does not define (protobuf encoding is not canonical, which is why the
//! signature never covers its bytes), so there is no order to check there.
//!
//! Checks, in [`Bundle::decode`] (syntax): identity is a valid Ed25519 key, every key and the
//! signature have their fixed length, 1 to [`MAX_INSTALLATIONS`] installations, each id valid,
//! `version >= 1`, `timestamp >= 0`; from material (contact codes) also the id order above.
//! In [`Bundle::verify`] (DECISIONS.md "1:1 sessions"): at
//! most the configured number of installations, no timestamp more than
//! [`MAX_BUNDLE_CLOCK_SKEW_MS`] ahead of the receiver's clock, and the signature
//! (`verify_strict`).

use std::collections::BTreeMap;

use kaiwa_crypto::{
    DhPublicKey, IdentityKeyPair, IdentityPublicKey, Sha256Digest, Signature, SignatureContext,
    sha256_parts,
};
use kaiwa_wire::net as wire;
use prost::Message as _;

use crate::error::{BundleError, DecodeError};
use crate::header::{dh_key, identity_key};
use crate::installation::InstallationId;
use crate::limits::{MAX_BUNDLE_CLOCK_SKEW_MS, MAX_INSTALLATIONS, MAX_MESSAGE_LEN};
use crate::timestamp::Timestamp;

/// Signature context of bundles.
pub const BUNDLE_SIGNATURE_CONTEXT: SignatureContext =
    SignatureContext::new(b"kaiwa/x3dh/bundle/v1");

/// `SignedPreKey.protocol_version` kaiwa advertises: 1 = supports the negotiated topic
/// (digest §2.2).
pub const PROTOCOL_VERSION: u32 = 1;

/// The public part of one installation's signed prekey, as listed in a bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedPreKeyPublic {
    pub(crate) key: DhPublicKey,
    pub(crate) version: u32,
    pub(crate) protocol_version: u32,
    pub(crate) created_at: Timestamp,
}

impl SignedPreKeyPublic {
    /// The X25519 signed prekey `SPK`.
    #[must_use]
    pub fn key(&self) -> DhPublicKey {
        self.key
    }

    /// Rotation counter (starts at 1).
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Protocol version the installation supports (1 = negotiated topic).
    #[must_use]
    pub fn protocol_version(&self) -> u32 {
        self.protocol_version
    }

    /// When the installation created this key.
    #[must_use]
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
}

/// A bundle after syntactic validation. Its signature has not been checked: the only thing
/// to do with it is [`verify`](Self::verify).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    identity: IdentityPublicKey,
    identity_dh: DhPublicKey,
    installations: BTreeMap<InstallationId, SignedPreKeyPublic>,
    timestamp_ns: i64,
    signature: Signature,
}

/// A bundle whose signature, bounds and timestamps have been checked (or that we signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle(Bundle);

impl Bundle {
    /// Parses untrusted bytes (an encoded `Bundle`). Never panics.
    ///
    /// # Errors
    /// [`DecodeError`] for malformed input.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(DecodeError::TooLong { limit: MAX_MESSAGE_LEN, actual: bytes.len() });
        }
        Self::try_from(wire::Bundle::decode(bytes)?)
    }

    /// The identity that claims to have signed it.
    #[must_use]
    pub fn identity(&self) -> IdentityPublicKey {
        self.identity
    }

    /// Checks bounds, timestamps and the signature.
    ///
    /// `max_installations` is the configured bound (default
    /// [`DEFAULT_MAX_INSTALLATIONS`](crate::limits::DEFAULT_MAX_INSTALLATIONS)).
    ///
    /// # Errors
    /// [`BundleError`]; a bad signature is the opaque [`BundleError::Unauthenticated`].
    pub fn verify(
        self,
        now: Timestamp,
        max_installations: usize,
    ) -> Result<VerifiedBundle, BundleError> {
        let count = self.installations.len();
        if count > max_installations {
            return Err(BundleError::TooManyInstallations {
                limit: max_installations,
                actual: count,
            });
        }
        let horizon = now.saturating_add(MAX_BUNDLE_CLOCK_SKEW_MS);
        let from_future = self.timestamp() > horizon
            || self.installations.values().any(|spk| spk.created_at > horizon);
        if from_future {
            return Err(BundleError::FromTheFuture { max_skew_ms: MAX_BUNDLE_CLOCK_SKEW_MS });
        }
        self.identity
            .verify(&BUNDLE_SIGNATURE_CONTEXT, &self.material(), &self.signature)
            .map_err(|_| BundleError::Unauthenticated)?;
        Ok(VerifiedBundle(self))
    }

    fn timestamp(&self) -> Timestamp {
        Timestamp::from_wire_nanos(self.timestamp_ns).unwrap_or(Timestamp::ZERO)
    }

    /// The signed material (module docs): the installations in ascending id order, the
    /// order of the map.
    pub(crate) fn material(&self) -> Vec<u8> {
        write_material(self.installations.iter(), &self.identity_dh, self.timestamp_ns)
    }

    /// Parses `material` (as written by [`material`](Self::material)) back into a bundle;
    /// used by contact codes, which carry the material itself. The installations must be in
    /// strictly ascending id order, the only order `material` writes (module docs).
    pub(crate) fn from_material(
        identity: IdentityPublicKey,
        material: &[u8],
        signature: Signature,
    ) -> Result<Self, DecodeError> {
        let mut reader = Reader(material);
        let count = usize::from(reader.byte("count")?);
        check_count(count)?;
        let mut installations = BTreeMap::new();
        for _ in 0..count {
            let len = usize::from(reader.byte("installation_id")?);
            let id_bytes = reader.take("installation_id", len)?;
            let id = core::str::from_utf8(id_bytes)
                .map_err(|_| DecodeError::Invalid { field: "installation_id" })?;
            let id = InstallationId::new(id)?;
            let spk = SignedPreKeyPublic {
                key: DhPublicKey::from_bytes(reader.array("signed_pre_key")?),
                version: u32::from_be_bytes(reader.array("version")?),
                protocol_version: u32::from_be_bytes(reader.array("protocol_version")?),
                created_at: Timestamp::from_millis(u64::from_be_bytes(reader.array("created_at")?)),
            };
            check_spk(&spk)?;
            // Canonical order: each id above the last one (which also excludes repeats).
            if installations.last_key_value().is_some_and(|(last, _)| *last >= id) {
                return Err(DecodeError::Order { field: "installation_id" });
            }
            installations.insert(id, spk);
        }
        let identity_dh = DhPublicKey::from_bytes(reader.array("identity_dh")?);
        let timestamp_ns = i64::from_be_bytes(reader.array("timestamp")?);
        if timestamp_ns < 0 {
            return Err(DecodeError::Invalid { field: "timestamp" });
        }
        if !reader.0.is_empty() {
            return Err(DecodeError::Invalid { field: "material" });
        }
        Ok(Self { identity, identity_dh, installations, timestamp_ns, signature })
    }

    pub(crate) fn signature(&self) -> &Signature {
        &self.signature
    }

    /// SHA-256 over everything the signature covers and the signature: equal digests mean
    /// an identical bundle, so a bundle already verified need not be verified again.
    pub(crate) fn digest(&self) -> Sha256Digest {
        sha256_parts(&[self.identity.as_bytes(), &self.material(), self.signature.as_bytes()])
    }
}

/// Writes the material of the module docs, listing `installations` in the order given
/// (ascending for every bundle; tests pass other orders to check they are refused).
pub(crate) fn write_material<'a>(
    installations: impl ExactSizeIterator<Item = (&'a InstallationId, &'a SignedPreKeyPublic)>,
    identity_dh: &DhPublicKey,
    timestamp_ns: i64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + installations.len() * 117 + 40);
    // Decoding bounds the count by MAX_INSTALLATIONS (16).
    out.push(u8::try_from(installations.len()).unwrap_or(u8::MAX));
    for (id, spk) in installations {
        id.write_prefixed(&mut out);
        out.extend_from_slice(spk.key.as_bytes());
        out.extend_from_slice(&spk.version.to_be_bytes());
        out.extend_from_slice(&spk.protocol_version.to_be_bytes());
        out.extend_from_slice(&spk.created_at.as_millis().to_be_bytes());
    }
    out.extend_from_slice(identity_dh.as_bytes());
    out.extend_from_slice(&timestamp_ns.to_be_bytes());
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(DecodeError::Missing { field })?;
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let [b] = self.array::<1>(field)?;
        Ok(b)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(DecodeError::Missing { field })?;
        self.0 = rest;
        Ok(*head)
    }
}

fn check_count(count: usize) -> Result<(), DecodeError> {
    if count == 0 {
        return Err(DecodeError::Missing { field: "signed_pre_keys" });
    }
    if count > MAX_INSTALLATIONS {
        return Err(DecodeError::TooMany {
            what: "signed_pre_keys",
            limit: MAX_INSTALLATIONS,
            actual: count,
        });
    }
    Ok(())
}

fn check_spk(spk: &SignedPreKeyPublic) -> Result<(), DecodeError> {
    if spk.version == 0 {
        return Err(DecodeError::Invalid { field: "signed_pre_keys.version" });
    }
    Ok(())
}

impl TryFrom<wire::Bundle> for Bundle {
    type Error = DecodeError;

    fn try_from(msg: wire::Bundle) -> Result<Self, DecodeError> {
        Self::from_wire(msg, None)
    }
}

impl Bundle {
    /// Parses a wire bundle. `known` is an identity key decoded (strictly) from the same
    /// message: an `identity` with the same encoding is that key, and is not decoded twice.
    /// Any other encoding is decoded strictly.
    pub(crate) fn from_wire(
        msg: wire::Bundle,
        known: Option<&IdentityPublicKey>,
    ) -> Result<Self, DecodeError> {
        check_count(msg.signed_pre_keys.len())?;
        let identity = match known {
            Some(known) if msg.identity == known.as_bytes() => *known,
            _ => identity_key("identity", &msg.identity)?,
        };
        let identity_dh = dh_key("identity_dh", &msg.identity_dh)?;
        let signature = Signature::try_from(msg.signature.as_slice()).map_err(|_| {
            DecodeError::Length { field: "signature", expected: 64, actual: msg.signature.len() }
        })?;
        if msg.timestamp < 0 {
            return Err(DecodeError::Invalid { field: "timestamp" });
        }
        let mut installations = BTreeMap::new();
        for (id, spk) in msg.signed_pre_keys {
            let spk = SignedPreKeyPublic {
                key: dh_key("signed_pre_key", &spk.signed_pre_key)?,
                version: spk.version,
                protocol_version: spk.protocol_version,
                created_at: Timestamp::from_millis(spk.created_at),
            };
            check_spk(&spk)?;
            installations.insert(InstallationId::new(id)?, spk);
        }
        Ok(Self { identity, identity_dh, installations, timestamp_ns: msg.timestamp, signature })
    }
}

impl VerifiedBundle {
    /// Signs a bundle of `identity` listing `installations`, timestamped `now`.
    pub(crate) fn sign(
        identity: &IdentityKeyPair,
        identity_dh: DhPublicKey,
        installations: BTreeMap<InstallationId, SignedPreKeyPublic>,
        now: Timestamp,
    ) -> Self {
        let mut bundle = Bundle {
            identity: identity.public_key(),
            identity_dh,
            installations,
            timestamp_ns: now.to_wire_nanos(),
            signature: Signature::from_bytes([0; 64]),
        };
        bundle.signature = identity.sign(&BUNDLE_SIGNATURE_CONTEXT, &bundle.material());
        Self(bundle)
    }

    /// The Ed25519 identity key (the account's public id).
    #[must_use]
    pub fn identity(&self) -> IdentityPublicKey {
        self.0.identity
    }

    /// The X25519 identity DH key, bound to the identity by the signature.
    #[must_use]
    pub fn identity_dh(&self) -> DhPublicKey {
        self.0.identity_dh
    }

    /// When the bundle was signed.
    #[must_use]
    pub fn timestamp(&self) -> Timestamp {
        self.0.timestamp()
    }

    /// The installations and their signed prekeys, in ascending id order.
    pub fn installations(
        &self,
    ) -> impl ExactSizeIterator<Item = (&InstallationId, &SignedPreKeyPublic)> {
        self.0.installations.iter()
    }

    /// The signed prekey of one installation.
    #[must_use]
    pub fn signed_pre_key(&self, installation: &InstallationId) -> Option<&SignedPreKeyPublic> {
        self.0.installations.get(installation)
    }

    /// The protobuf encoding, to attach to messages or publish on the contact-code topic.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        wire::Bundle::from(self).encode_to_vec()
    }

    pub(crate) fn inner(&self) -> &Bundle {
        &self.0
    }

    pub(crate) fn digest(&self) -> Sha256Digest {
        self.0.digest()
    }
}

impl From<&VerifiedBundle> for wire::Bundle {
    fn from(bundle: &VerifiedBundle) -> Self {
        let Bundle { identity, identity_dh, installations, timestamp_ns, signature } = &bundle.0;
        Self {
            identity: identity.as_bytes().to_vec(),
            signed_pre_keys: installations
                .iter()
                .map(|(id, spk)| {
                    let value = wire::SignedPreKey {
                        signed_pre_key: spk.key.as_bytes().to_vec(),
                        version: spk.version,
                        protocol_version: spk.protocol_version,
                        created_at: spk.created_at.as_millis(),
                    };
                    (id.as_str().to_owned(), value)
                })
                .collect(),
            signature: signature.as_bytes().to_vec(),
            timestamp: *timestamp_ns,
            identity_dh: identity_dh.as_bytes().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    use super::*;

    fn id(s: &str) -> InstallationId {
        InstallationId::new(s).unwrap()
    }

    fn spk(byte: u8, version: u32) -> SignedPreKeyPublic {
        SignedPreKeyPublic {
            key: DhPublicKey::from_bytes([byte; 32]),
            version,
            protocol_version: 1,
            created_at: Timestamp::from_millis(1_000),
        }
    }

    fn signed(n: usize, now: u64) -> (IdentityKeyPair, VerifiedBundle) {
        let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(1));
        let installations =
            (0..n).map(|i| (id(&format!("dev-{i}")), spk(u8::try_from(i).unwrap(), 1))).collect();
        let bundle = VerifiedBundle::sign(
            &identity,
            DhPublicKey::from_bytes([9; 32]),
            installations,
            Timestamp::from_millis(now),
        );
        (identity, bundle)
    }

    #[test]
    fn sign_encode_decode_verify() {
        let (_, bundle) = signed(3, 5_000);
        let parsed = Bundle::decode(&bundle.encode()).unwrap();
        let verified = parsed.verify(Timestamp::from_millis(5_000), 3).unwrap();
        assert_eq!(verified, bundle);
        assert_eq!(verified.installations().len(), 3);
        assert_eq!(verified.timestamp(), Timestamp::from_millis(5_000));
        assert_eq!(verified.signed_pre_key(&id("dev-1")), Some(&spk(1, 1)));
    }

    #[test]
    fn material_round_trips() {
        let (_, bundle) = signed(2, 5_000);
        let inner = bundle.inner();
        let again =
            Bundle::from_material(inner.identity, &inner.material(), inner.signature).unwrap();
        assert_eq!(&again, inner);
        let mut long = inner.material();
        long.push(0);
        assert_eq!(
            Bundle::from_material(inner.identity, &long, inner.signature),
            Err(DecodeError::Invalid { field: "material" })
        );
    }

    /// The ids of `material`'s installations, in the order listed.
    fn listed_ids(material: &[u8]) -> Vec<Vec<u8>> {
        let (&count, mut rest) = material.split_first().unwrap();
        let mut ids = Vec::new();
        for _ in 0..count {
            let (&len, tail) = rest.split_first().unwrap();
            let (id, tail) = tail.split_at(usize::from(len));
            ids.push(id.to_vec());
            rest = &tail[32 + 4 + 4 + 8..];
        }
        ids
    }

    #[test]
    fn material_lists_installations_in_strictly_ascending_id_order() {
        let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(3));
        // Inserted out of order; "Z" < "a" < "aa" < "b" byte-wise, while a comparison of the
        // length-prefixed entries would put "Z", "a" and "b" (length 1) before "aa".
        let installations = ["b", "aa", "Z", "a", "a~"]
            .into_iter()
            .enumerate()
            .map(|(i, name)| (id(name), spk(u8::try_from(i).unwrap(), 1)))
            .collect();
        let bundle = VerifiedBundle::sign(
            &identity,
            DhPublicKey::from_bytes([9; 32]),
            installations,
            Timestamp::from_millis(5_000),
        );
        let material = bundle.inner().material();
        let expected: Vec<&[u8]> = vec![b"Z", b"a", b"aa", b"a~", b"b"];
        assert_eq!(listed_ids(&material), expected);
        let inner = bundle.inner();
        assert_eq!(
            Bundle::from_material(inner.identity, &material, inner.signature).as_ref(),
            Ok(inner)
        );
    }

    #[test]
    fn material_out_of_order_or_repeated_is_refused() {
        let (_, bundle) = signed(3, 5_000);
        let inner = bundle.inner();
        let entries: Vec<_> = inner.installations.iter().collect();
        let [a, b, c] = entries[..] else { panic!("three installations") };
        for listed in [[b, a, c], [a, c, b], [c, b, a], [a, a, b], [a, b, b]] {
            let material =
                write_material(listed.into_iter(), &inner.identity_dh, inner.timestamp_ns);
            assert_eq!(
                Bundle::from_material(inner.identity, &material, inner.signature),
                Err(DecodeError::Order { field: "installation_id" })
            );
        }
    }

    #[test]
    fn every_signed_field_is_covered() {
        let (_, bundle) = signed(2, 5_000);
        let now = Timestamp::from_millis(5_000);
        let base = wire::Bundle::from(&bundle);
        let mut variants: Vec<wire::Bundle> = Vec::new();
        let mut m = base.clone();
        m.timestamp += 1;
        variants.push(m);
        let mut m = base.clone();
        m.identity_dh[0] ^= 1;
        variants.push(m);
        for field in 0..4 {
            let mut m = base.clone();
            let entry = m.signed_pre_keys.get_mut("dev-0").unwrap();
            match field {
                0 => entry.signed_pre_key[5] ^= 1,
                1 => entry.version += 1,
                2 => entry.protocol_version += 1,
                _ => entry.created_at += 1,
            }
            variants.push(m);
        }
        let mut m = base.clone();
        let entry = m.signed_pre_keys.remove("dev-0").unwrap();
        m.signed_pre_keys.insert("dev-9".into(), entry);
        variants.push(m);
        let mut m = base.clone();
        m.signed_pre_keys.remove("dev-0");
        variants.push(m);
        let mut m = base;
        m.signature[0] ^= 1;
        variants.push(m);
        for m in variants {
            let parsed = Bundle::try_from(m).unwrap();
            assert_eq!(parsed.verify(now, 3), Err(BundleError::Unauthenticated));
        }
    }

    #[test]
    fn bounds_and_timestamps() {
        let (_, bundle) = signed(3, 5_000);
        let parsed = Bundle::decode(&bundle.encode()).unwrap();
        assert_eq!(
            parsed.clone().verify(Timestamp::from_millis(5_000), 2),
            Err(BundleError::TooManyInstallations { limit: 2, actual: 3 })
        );
        let (_, future) = signed(1, 5_000 + MAX_BUNDLE_CLOCK_SKEW_MS + 1);
        let parsed_future = Bundle::decode(&future.encode()).unwrap();
        assert_eq!(
            parsed_future.clone().verify(Timestamp::from_millis(5_000), 3),
            Err(BundleError::FromTheFuture { max_skew_ms: MAX_BUNDLE_CLOCK_SKEW_MS })
        );
        assert!(parsed_future.verify(Timestamp::from_millis(5_001), 3).is_ok());

        let (_, many) = signed(MAX_INSTALLATIONS + 1, 5_000);
        assert_eq!(
            Bundle::decode(&many.encode()),
            Err(DecodeError::TooMany {
                what: "signed_pre_keys",
                limit: MAX_INSTALLATIONS,
                actual: MAX_INSTALLATIONS + 1
            })
        );
        let mut m = wire::Bundle::from(&bundle);
        m.signed_pre_keys.clear();
        assert_eq!(Bundle::try_from(m), Err(DecodeError::Missing { field: "signed_pre_keys" }));
        let mut m = wire::Bundle::from(&bundle);
        m.signature.pop();
        assert_eq!(
            Bundle::try_from(m),
            Err(DecodeError::Length { field: "signature", expected: 64, actual: 63 })
        );
        let mut m = wire::Bundle::from(&bundle);
        m.signed_pre_keys.get_mut("dev-0").unwrap().signed_pre_key.push(1);
        assert_eq!(
            Bundle::try_from(m),
            Err(DecodeError::Length { field: "signed_pre_key", expected: 32, actual: 33 })
        );
        let mut m = wire::Bundle::from(&bundle);
        m.signed_pre_keys.get_mut("dev-0").unwrap().version = 0;
        assert_eq!(
            Bundle::try_from(m),
            Err(DecodeError::Invalid { field: "signed_pre_keys.version" })
        );
        let mut m = wire::Bundle::from(&bundle);
        m.identity_dh.clear();
        assert_eq!(Bundle::try_from(m), Err(DecodeError::Missing { field: "identity_dh" }));
        let mut m = wire::Bundle::from(&bundle);
        m.timestamp = -1;
        assert_eq!(Bundle::try_from(m), Err(DecodeError::Invalid { field: "timestamp" }));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(bundle) = Bundle::decode(&bytes) {
                let _ = bundle.verify(Timestamp::from_millis(u64::MAX), MAX_INSTALLATIONS);
            }
        }

        #[test]
        fn arbitrary_material_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(2));
            let _ = Bundle::from_material(
                identity.public_key(), &bytes, Signature::from_bytes([0; 64]));
        }

        #[test]
        fn wire_round_trip(n in 1..=MAX_INSTALLATIONS, now in 0..u64::MAX / 2_000_000) {
            let (_, bundle) = signed(n, now);
            let parsed = Bundle::decode(&bundle.encode()).unwrap();
            let verified = parsed.verify(Timestamp::from_millis(now), MAX_INSTALLATIONS).unwrap();
            prop_assert_eq!(wire::Bundle::from(&verified), wire::Bundle::from(&bundle));
        }

        /// Material round-trips for any set of ids, and only its own (ascending) order is
        /// accepted: every other order of the same entries is refused.
        #[test]
        fn material_round_trips_in_one_order_only(
            (names, order) in prop::collection::btree_set("[!-~]{1,12}", 1..=MAX_INSTALLATIONS)
                .prop_flat_map(|names| {
                    let n = names.len();
                    (Just(names), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
                }),
        ) {
            let identity = IdentityKeyPair::generate(&mut ChaCha20Rng::seed_from_u64(4));
            let installations = names
                .iter()
                .enumerate()
                .map(|(i, name)| (id(name), spk(u8::try_from(i).unwrap(), 1)))
                .collect();
            let bundle = VerifiedBundle::sign(
                &identity,
                DhPublicKey::from_bytes([9; 32]),
                installations,
                Timestamp::from_millis(5_000),
            );
            let inner = bundle.inner();
            let material = inner.material();
            let ids: Vec<Vec<u8>> = names.iter().map(|n| n.as_bytes().to_vec()).collect();
            prop_assert_eq!(listed_ids(&material), ids);
            let again = Bundle::from_material(inner.identity, &material, inner.signature);
            prop_assert_eq!(again.as_ref(), Ok(inner));

            let entries: Vec<_> = inner.installations.iter().collect();
            let listed = order.iter().map(|&i| entries[i]);
            let reordered = write_material(listed, &inner.identity_dh, inner.timestamp_ns);
            let sorted = order.windows(2).all(|w| w[0] < w[1]);
            let outcome = Bundle::from_material(inner.identity, &reordered, inner.signature);
            if sorted {
                prop_assert_eq!(outcome.as_ref(), Ok(inner));
            } else {
                prop_assert_eq!(outcome, Err(DecodeError::Order { field: "installation_id" }));
            }
        }
    }
}
