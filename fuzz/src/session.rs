//! kaiwa-session targets: the envelope, the prekey bundle, the contact code, the persisted
//! records, and the session manager as a state machine.
//!
//! ```text
//! session_envelope      Envelope::decode(input)          (one installation's copy of a message)
//!                       checks: encode → decode gives the same envelope; the X3DH header names
//!                       the ratchet header's bundle id; the payload holds at least a tag
//! session_bundle        Bundle::decode(input), then verify(now, MAX_INSTALLATIONS)
//!                       checks: a verified bundle keeps its identity, survives encode → decode →
//!                       verify and its contact code, and fails under a lower installation bound
//! session_contact_code  decode_contact_code(input as UTF-8), and decode_contact_code of
//!                       "kaiwa:" ‖ base32(input) (the binary form, so the fuzzer need not learn
//!                       base32)
//!                       checks: an accepted code is exactly encode_contact_code of its bundle
//!                       (one text form per bundle)
//! session_record        input as each record type:
//!                         SessionRecord       Session::from_record
//!                         PeerRecord          stored as bob's record of alice, then read through
//!                                             SessionManager::{installations, session,
//!                                             negotiated_secret}; if it loads, bob receives
//!                                             alice's next message with it (as session_receive)
//!                         AccountRecord       Account::from_records(input, bob's prekeys)
//!                         SignedPreKeyRecord  Account::from_records(bob's account, [input])
//!                       checks: a loaded record → to_record → from_record → to_record is
//!                       byte-identical; a peer record that lists installations restores their
//!                       sessions
//! session_receive       frames (frames.rs layout) received by a fixed established pair:
//!                         receiver = [bob, alice][frame.sender mod 2]   (each in its own store)
//!                         now      = FIXTURE_NOW_MS + 1000 × (sum of delay_s up to this frame)
//!                       checks, per frame (DECISIONS.md "1:1 sessions": a failed decrypt changes
//!                       nothing, a replay is a duplicate):
//!                         Err(_)                          the store is unchanged
//!                         Undecryptable, no recovery      the store is exactly what the same
//!                                                         message without our envelope makes
//!                                                         of it (its verified bundles only)
//!                         Undecryptable with recovery     the recovery goes to the sender only
//!                         Message or SessionReset         it came from the claimed identity;
//!                                                         received again it is Duplicate and
//!                                                         changes nothing
//!                         Duplicate                       the store is unchanged
//! ```
//!
//! The fixture is built once per process. Every account comes from its own generator, so the
//! crate's replay test can rebuild it from the seed alone:
//!
//! ```text
//! bob      Account::generate("bob-laptop",  ChaCha20Rng::seed_from_u64(SESSION_SEED ^ 1), t)
//! alice    Account::generate("alice-phone", ChaCha20Rng::seed_from_u64(SESSION_SEED ^ 2), t)
//! mallory  Account::generate("mallory",     ChaCha20Rng::seed_from_u64(SESSION_SEED ^ 3), t)
//! t = FIXTURE_NOW_MS; managers with SessionConfig::default(), signing their bundles at t
//!
//! alice processes bob's bundle; alice → bob "hello bob" (X3DH); bob → alice "hi alice"
//! (with rng = ChaCha20Rng::seed_from_u64(SESSION_SEED))  ← the established pair
//! ```
//!
//! Bob's and alice's stores after this exchange are committed as the `session_record` seeds
//! `bob-peer-alice` and `alice-peer-bob`. Each input gets fresh managers (rebuilt from the
//! account records: a manager holds secrets and is not `Clone`) and fresh copies of the stores,
//! and draws its randomness from `ChaCha20Rng::seed_from_u64(SESSION_SEED ^ 0xff)`.

use std::sync::OnceLock;

use kaiwa_session::limits::MAX_INSTALLATIONS;
use kaiwa_session::{
    Account, AccountRecord, Bundle, CONTACT_CODE_PREFIX, Envelope, IdentityPublicKey,
    InMemorySessionStore, InstallationId, PeerAddress, PeerRecord, Received, Session,
    SessionConfig, SessionManager, SessionRecord, SessionStore, SignedPreKeyRecord, Timestamp,
    decode_contact_code, encode_contact_code,
};
use kaiwa_wire::net::{HrHeader, ProtocolMessage};
use kaiwa_wire::prost::Message as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::frames::{Frame, encode_frames, frames};
use crate::group::FIXTURE_NOW_MS;

/// Seed of the session fixture; each account's generator is seeded with it XOR the account's
/// number (module doc).
pub(crate) const SESSION_SEED: u64 = 0x6b61_6977_6173_6573; // "kaiwases"

/// The cast: installation id and generator seed of each account.
const CAST: [(&str, u64); 3] = [
    ("bob-laptop", SESSION_SEED ^ 1),
    ("alice-phone", SESSION_SEED ^ 2),
    ("mallory", SESSION_SEED ^ 3),
];
pub(crate) const BOB: usize = 0;
pub(crate) const ALICE: usize = 1;
pub(crate) const MALLORY: usize = 2;

/// Receivers of `session_receive` frames (bob, alice): a frame's sender byte modulo this.
const RECEIVERS: usize = 2;

/// Seed of the generator each `session_receive` input draws from (recovery handshakes).
const RECEIVE_SEED: u64 = SESSION_SEED ^ 0xff;

fn fixture_now() -> Timestamp {
    Timestamp::from_millis(FIXTURE_NOW_MS)
}

/// The account of cast member `who` (module doc).
fn account(who: usize) -> Account {
    let (id, seed) = *CAST.get(who).expect("cast index");
    let id = InstallationId::new(id).expect("the cast's installation ids are valid");
    Account::generate(id, &mut ChaCha20Rng::seed_from_u64(seed), fixture_now())
}

/// One side of a conversation: a manager and its store.
pub(crate) struct Party {
    pub(crate) manager: SessionManager,
    pub(crate) store: InMemorySessionStore,
}

impl Party {
    /// The identity key of this party.
    fn identity(&self) -> IdentityPublicKey {
        self.manager.account().identity_key()
    }

    /// Encrypts `text` to `to`'s identity (whose bundle this party knows).
    fn send(&mut self, to: IdentityPublicKey, text: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
        self.manager
            .encrypt(&mut self.store, &to, text, rng, fixture_now())
            .expect("the fixture's peers know each other")
            .into_bytes()
    }

    /// Receives `bytes`.
    fn receive(&mut self, bytes: &[u8], rng: &mut ChaCha20Rng) -> Received {
        self.manager
            .receive(&mut self.store, bytes, rng, fixture_now())
            .expect("the fixture's messages are well formed")
    }
}

/// The established pair (module doc), built on first use.
pub(crate) struct SessionFixture {
    /// The cast's account records, in cast order.
    accounts: Vec<(AccountRecord, Vec<SignedPreKeyRecord>)>,
    /// The cast's identities, in cast order.
    identities: [IdentityPublicKey; 3],
    /// Bob's and alice's stores after the exchange (mallory's is empty).
    stores: [InMemorySessionStore; 2],
    /// Alice's first message.
    pub(crate) hello: Vec<u8>,
    /// Bob's reply.
    pub(crate) reply: Vec<u8>,
    /// Alice's next message after the reply (what `session_record` delivers to bob).
    next: Vec<u8>,
    /// Bob's manager, for the read-only calls of `session_record`.
    bob: SessionManager,
}

impl SessionFixture {
    /// The identity of cast member `who`.
    pub(crate) fn identity(&self, who: usize) -> IdentityPublicKey {
        *self.identities.get(who).expect("cast index")
    }

    /// A fresh manager of cast member `who`, restored from its account records.
    fn manager(&self, who: usize) -> SessionManager {
        let (account, pre_keys) = self.accounts.get(who).expect("cast index");
        let account = Account::from_records(account, pre_keys).expect("our own records load");
        SessionManager::new(account, SessionConfig::default(), fixture_now())
    }

    /// Cast member `who` as the fixture left it: its manager and a copy of its store.
    pub(crate) fn party(&self, who: usize) -> Party {
        let store = self.stores.get(who).cloned().unwrap_or_default();
        Party { manager: self.manager(who), store }
    }

    /// A store record, as bytes (`who`'s record of `peer`).
    fn peer_record(&self, who: usize, peer: usize) -> Vec<u8> {
        let store = self.stores.get(who).expect("bob or alice");
        let record = store.load_peer(&self.identity(peer)).expect("in memory");
        record.expect("the pair know each other").as_bytes().to_vec()
    }
}

/// The fixture (module doc), built on first use.
pub(crate) fn session_fixture() -> &'static SessionFixture {
    static FIXTURE: OnceLock<SessionFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let accounts: Vec<_> = (0..CAST.len()).map(|who| account(who).to_records()).collect();
        let identities = core::array::from_fn(|who| account(who).identity_key());
        let config = SessionConfig::default();
        let new_party = |who: usize| Party {
            manager: SessionManager::new(account(who), config, fixture_now()),
            store: InMemorySessionStore::new(),
        };
        let (mut bob, mut alice) = (new_party(BOB), new_party(ALICE));
        let mut rng = ChaCha20Rng::seed_from_u64(SESSION_SEED);
        alice
            .manager
            .process_bundle(&mut alice.store, bob.manager.bundle())
            .expect("bob's bundle is valid");
        let hello = alice.send(bob.identity(), b"hello bob", &mut rng);
        assert!(matches!(bob.receive(&hello, &mut rng), Received::Message { .. }));
        let reply = bob.send(alice.identity(), b"hi alice", &mut rng);
        assert!(matches!(alice.receive(&reply, &mut rng), Received::Message { .. }));
        let stores = [bob.store.clone(), alice.store.clone()];
        let next = alice.send(bob.identity(), b"how are you?", &mut rng);
        SessionFixture { accounts, identities, stores, hello, reply, next, bob: bob.manager }
    })
}

/// The records of `who` in `store`, and how many records it holds.
fn snapshot(store: &InMemorySessionStore, who: &[IdentityPublicKey]) -> (usize, Vec<Vec<u8>>) {
    let records = who
        .iter()
        .map(|identity| {
            let record = store.load_peer(identity).expect("in memory");
            record.map(|r| r.as_bytes().to_vec()).unwrap_or_default()
        })
        .collect();
    (store.len(), records)
}

/// The identity a `ProtocolMessage` claims to come from, if it names a valid one.
fn claimed_sender(bytes: &[u8]) -> Option<IdentityPublicKey> {
    let message = ProtocolMessage::decode(bytes).ok()?;
    IdentityPublicKey::try_from(message.sender_identity.as_slice()).ok()
}

/// The same `ProtocolMessage` without the envelope of installation `ours`, if it had one.
fn without_envelope(bytes: &[u8], ours: &InstallationId) -> Option<Vec<u8>> {
    let mut message = ProtocolMessage::decode(bytes).ok()?;
    message.encrypted_message.remove(ours.as_str())?;
    Some(message.encode_to_vec())
}

/// `party` receives `bytes`; the properties of the module doc are asserted.
fn receive_checked(
    party: &mut Party,
    fixture: &SessionFixture,
    bytes: &[u8],
    rng: &mut ChaCha20Rng,
    now: Timestamp,
) {
    let claimed = claimed_sender(bytes);
    let mut watched = fixture.identities.to_vec();
    watched.extend(claimed);
    let before = party.store.clone();
    let outcome = party.manager.receive(&mut party.store, bytes, rng, now);
    match outcome {
        Err(_) => assert_eq!(
            snapshot(&party.store, &watched),
            snapshot(&before, &watched),
            "a rejected message changed the store"
        ),
        Ok(Received::Undecryptable { recovery: None, .. }) => {
            let ours = party.manager.account().installation_id().clone();
            let stripped =
                without_envelope(bytes, &ours).expect("an undecryptable message has our envelope");
            let mut control = before;
            let bundles_only = party.manager.receive(&mut control, &stripped, rng, now);
            assert_eq!(bundles_only, Ok(Received::NotForUs), "the bundles alone are well formed");
            assert_eq!(
                snapshot(&party.store, &watched),
                snapshot(&control, &watched),
                "an undecryptable message changed more than its bundles did"
            );
        }
        Ok(Received::Undecryptable { from, recovery: Some(recovery), .. }) => {
            assert_eq!(
                recovery.recipients(),
                core::slice::from_ref(&from.installation),
                "a recovery handshake goes to the failing installation only"
            );
        }
        Ok(Received::Message { from, plaintext }) => {
            assert_eq!(Some(from.identity), claimed, "a message comes from its claimed identity");
            assert!(plaintext.len() <= bytes.len(), "a plaintext is no longer than its message");
            decrypts_once(party, bytes, from, rng, now);
        }
        Ok(Received::SessionReset { from }) => {
            assert_eq!(Some(from.identity), claimed, "a reset comes from its claimed identity");
            decrypts_once(party, bytes, from, rng, now);
        }
        Ok(Received::Duplicate { .. }) => assert_eq!(
            snapshot(&party.store, &watched),
            snapshot(&before, &watched),
            "a duplicate changed the store"
        ),
        Ok(_) => {}
    }
}

/// A message that decrypted is a duplicate the second time, and changes nothing then.
fn decrypts_once(
    party: &mut Party,
    bytes: &[u8],
    from: PeerAddress,
    rng: &mut ChaCha20Rng,
    now: Timestamp,
) {
    let watched = [from.identity];
    let after = party.store.clone();
    let again = party.manager.receive(&mut party.store, bytes, rng, now);
    assert_eq!(again, Ok(Received::Duplicate { from }), "a message decrypted twice");
    assert_eq!(
        snapshot(&party.store, &watched),
        snapshot(&after, &watched),
        "a duplicate changed the store"
    );
}

/// `Envelope::decode` and its round trip (module doc).
pub fn session_envelope(data: &[u8]) {
    let Ok(envelope) = Envelope::decode(data) else { return };
    assert_eq!(Envelope::decode(&envelope.encode()).as_ref(), Ok(&envelope), "round trip");
    assert!(envelope.ciphertext().len() >= kaiwa_crypto::TAG_LEN, "a payload holds a tag");
    if let Some(x3dh) = envelope.x3dh_header() {
        assert_eq!(x3dh.signed_pre_key(), envelope.header().bundle_id(), "one bundle id");
    }
}

/// `Bundle::decode` and `verify` (module doc).
pub fn session_bundle(data: &[u8]) {
    let Ok(bundle) = Bundle::decode(data) else { return };
    let identity = bundle.identity();
    let now = fixture_now();
    let count = match bundle.clone().verify(now, MAX_INSTALLATIONS) {
        Ok(verified) => {
            assert_eq!(verified.identity(), identity, "a verified bundle keeps its identity");
            let again = Bundle::decode(&verified.encode()).expect("our own encoding decodes");
            assert_eq!(again.verify(now, MAX_INSTALLATIONS).as_ref(), Ok(&verified));
            let code = encode_contact_code(&verified);
            let decoded = decode_contact_code(&code, now, MAX_INSTALLATIONS);
            assert_eq!(decoded.as_ref(), Ok(&verified), "a bundle survives its contact code");
            verified.installations().count()
        }
        Err(_) => return,
    };
    let lower = count.saturating_sub(1);
    assert!(bundle.verify(now, lower).is_err(), "the installation bound is enforced");
}

/// The base32 alphabet of RFC 4648, as contact codes use it (no padding).
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, the trailing bits zero (the form contact codes accept).
pub(crate) fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u16, 0u32);
    let mut push = |value: u16| {
        let digit = BASE32.get(usize::from(value & 31)).copied().unwrap_or(b'A');
        out.push(char::from(digit));
    };
    for &byte in bytes {
        acc = (acc << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            push(acc >> bits);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        push(acc << (5 - bits));
    }
    out
}

/// The binary form inside a contact code (for seeds).
fn unbase32(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u16, 0u32);
    for c in text.bytes() {
        let value = BASE32.iter().position(|d| *d == c).expect("a base32 digit");
        acc = (acc << 5) | u16::try_from(value).expect("below 32");
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(acc >> bits).expect("one byte"));
        }
        acc &= (1 << bits) - 1;
    }
    out
}

/// `decode_contact_code` on the text and on the binary form (module doc).
pub fn session_contact_code(data: &[u8]) {
    let binary = format!("{CONTACT_CODE_PREFIX}{}", base32(data));
    let text = core::str::from_utf8(data).ok();
    for code in text.into_iter().chain([binary.as_str()]) {
        if let Ok(bundle) = decode_contact_code(code, fixture_now(), MAX_INSTALLATIONS) {
            assert_eq!(encode_contact_code(&bundle), code, "a bundle has one contact code");
        }
    }
}

/// Every record loader (module doc).
pub fn session_record(data: &[u8]) {
    let f = session_fixture();
    if let Ok(session) = Session::from_record(&SessionRecord::from_bytes(data.to_vec())) {
        let record = session.to_record();
        let reloaded = Session::from_record(&record).expect("our own record loads");
        assert_eq!(reloaded.to_record(), record, "a session survives its record");
    }

    let alice = f.identity(ALICE);
    let mut store = InMemorySessionStore::new();
    store.store_peer(&alice, &PeerRecord::from_bytes(data.to_vec())).expect("in memory");
    if let Ok(installations) = f.bob.installations(&store, &alice) {
        for installation in installations {
            let address = PeerAddress { identity: alice, installation };
            let session = f.bob.session(&store, &address);
            assert!(session.is_ok(), "a loaded peer record restores its sessions");
        }
        assert!(f.bob.negotiated_secret(&store, &alice).is_ok(), "a loaded record is usable");
        let mut bob = Party { manager: f.manager(BOB), store };
        let mut rng = ChaCha20Rng::seed_from_u64(RECEIVE_SEED);
        receive_checked(&mut bob, f, &f.next, &mut rng, fixture_now());
    }

    let (account, pre_keys) = f.accounts.get(BOB).expect("bob");
    let as_account = AccountRecord::from_bytes(data.to_vec());
    let as_pre_key = [SignedPreKeyRecord::from_bytes(data.to_vec())];
    for (account, pre_keys) in [(&as_account, pre_keys.as_slice()), (account, &as_pre_key)] {
        let Ok(loaded) = Account::from_records(account, pre_keys) else { continue };
        let (record, pre_keys) = loaded.to_records();
        let reloaded = Account::from_records(&record, &pre_keys).expect("our own records load");
        let again = reloaded.to_records();
        assert_eq!(again.0, record, "an account survives its record");
        assert_eq!(again.1, pre_keys, "signed prekeys survive their records");
    }
}

/// The state machine: the established pair receives the input's frames (module doc).
pub fn session_receive(data: &[u8]) {
    let f = session_fixture();
    let mut parties: [Option<Party>; RECEIVERS] = [None, None];
    let mut rng = ChaCha20Rng::seed_from_u64(RECEIVE_SEED);
    let mut now_ms = FIXTURE_NOW_MS;
    for frame in frames(data) {
        now_ms += u64::from(frame.delay_s) * 1_000;
        let who = usize::from(frame.sender) % RECEIVERS;
        let slot = parties.get_mut(who).expect("receiver index");
        let party = slot.get_or_insert_with(|| f.party(who));
        receive_checked(party, f, frame.message, &mut rng, Timestamp::from_millis(now_ms));
    }
}

/// Edits an encoded `ProtocolMessage` (for seeds the API refuses to make).
fn edit(bytes: &[u8], change: impl FnOnce(&mut ProtocolMessage)) -> Vec<u8> {
    let mut message = ProtocolMessage::decode(bytes).expect("our own messages decode");
    change(&mut message);
    message.encode_to_vec()
}

/// Flips the last payload byte (inside the tag) of every envelope of a message.
fn tamper(bytes: &[u8]) -> Vec<u8> {
    edit(bytes, |m| {
        for envelope in m.encrypted_message.values_mut() {
            if let Some(last) = envelope.payload.last_mut() {
                *last ^= 0x01;
            }
        }
    })
}

/// The envelope of installation `to` in a message, encoded alone.
fn envelope_of(bytes: &[u8], to: &str) -> Vec<u8> {
    let message = ProtocolMessage::decode(bytes).expect("our own messages decode");
    message.encrypted_message.get(to).expect("addressed to it").encode_to_vec()
}

/// A frame of `message` to bob.
fn to_bob(message: &[u8]) -> Frame<'_> {
    Frame { sender: 0, delay_s: 1, message }
}

/// A frame of `message` to alice.
fn to_alice(message: &[u8]) -> Frame<'_> {
    Frame { sender: 1, delay_s: 1, message }
}

/// Seeds of the session targets: real messages, bundles and records of the fixture's cast.
pub(crate) fn session_seeds(push: &mut dyn FnMut(&'static str, &str, Vec<u8>)) {
    let f = session_fixture();
    let mut rng = ChaCha20Rng::seed_from_u64(SESSION_SEED ^ 0x5eed);
    let bob_id = f.identity(BOB);
    let alice_id = f.identity(ALICE);
    let (bob_inst, alice_inst) = ("bob-laptop", "alice-phone");

    // Alice's next three messages; bob's next one. (Each side of `session_receive` only
    // receives, so a reply to a message sent after the fixture can never decrypt there: bob's
    // message crosses alice's in flight.)
    let mut alice = f.party(ALICE);
    let [a0, a1, a2]: [Vec<u8>; 3] =
        core::array::from_fn(|i| alice.send(bob_id, format!("a{i}").as_bytes(), &mut rng));
    let (a0, a1, a2) = (&a0, &a1, &a2);
    let b0 = f.party(BOB).send(alice_id, b"b0", &mut rng);
    // Bob fails three times in a row and starts a recovery handshake.
    let mut bob = f.party(BOB);
    let broken = tamper(a0);
    let reset = (0..3)
        .find_map(|_| match bob.receive(&broken, &mut rng) {
            Received::Undecryptable { recovery, .. } => recovery,
            other => panic!("a tampered message is undecryptable, not {other:?}"),
        })
        .expect("the third failure starts a recovery")
        .into_bytes();
    // Mallory, whom bob has never heard of, writes to him.
    let mut mallory = f.party(MALLORY);
    mallory
        .manager
        .process_bundle(&mut mallory.store, f.party(BOB).manager.bundle())
        .expect("bob's bundle is valid");
    let m0 = mallory.send(bob_id, b"m0", &mut rng);
    let mallory_bundle = mallory.manager.bundle_message().into_bytes();
    let impostor = edit(&m0, |m| m.sender_identity = alice_id.as_bytes().to_vec());
    let other_device = edit(a0, |m| m.installation_id = "alice-tablet".to_owned());
    let far_ahead = edit(a0, |m| {
        for envelope in m.encrypted_message.values_mut() {
            if let Some(header) = envelope.dr_header.as_mut() {
                header.n = 999;
            }
        }
    });

    for (name, frames) in [
        ("alice-message", vec![to_bob(a0)]),
        ("bob-message", vec![to_alice(&b0)]),
        ("duplicate", vec![to_bob(a0), to_bob(a0)]),
        ("out-of-order", vec![to_bob(a2), to_bob(a0), to_bob(a1)]),
        ("crossing", vec![to_bob(a0), to_alice(&b0), to_bob(a1)]),
        ("tampered", vec![to_bob(&broken)]),
        ("failures-start-recovery", vec![to_bob(&broken), to_bob(&broken), to_bob(&broken)]),
        ("reset", vec![to_alice(&reset)]),
        ("stranger-first-message", vec![to_bob(&m0)]),
        ("stranger-bundle", vec![to_bob(&mallory_bundle)]),
        ("fixture-hello-again", vec![to_bob(&f.hello)]),
        ("x3dh-identity-mismatch", vec![to_bob(&impostor)]),
        ("unknown-installation", vec![to_bob(&other_device)]),
        ("index-999", vec![to_bob(&far_ahead)]),
        ("own-message", vec![to_alice(a0)]),
    ] {
        push("session_receive", name, encode_frames(&frames));
    }

    let x3dh = envelope_of(&f.hello, bob_inst);
    let ratchet = envelope_of(&f.reply, alice_inst);
    let mut hr = kaiwa_wire::net::EncryptedMessageProtocol::decode(x3dh.as_slice())
        .expect("our own envelope decodes");
    hr.hr_header = Some(HrHeader::default());
    let mut short = kaiwa_wire::net::EncryptedMessageProtocol::decode(ratchet.as_slice())
        .expect("our own envelope decodes");
    short.payload.truncate(15);
    push("session_envelope", "x3dh", x3dh);
    push("session_envelope", "ratchet", ratchet);
    push("session_envelope", "hr-header", hr.encode_to_vec());
    push("session_envelope", "short-payload", short.encode_to_vec());

    let alice_bundle = f.party(ALICE).manager.bundle().encode();
    let mut forged =
        kaiwa_wire::net::Bundle::decode(alice_bundle.as_slice()).expect("our own bundle decodes");
    if let Some(byte) = forged.signature.first_mut() {
        *byte ^= 0x01;
    }
    push("session_bundle", "alice", alice_bundle);
    push("session_bundle", "mallory", mallory.manager.bundle().encode());
    push("session_bundle", "forged-signature", forged.encode_to_vec());

    let code = encode_contact_code(f.party(ALICE).manager.bundle());
    let binary = unbase32(code.strip_prefix(CONTACT_CODE_PREFIX).expect("prefixed"));
    let mut tampered = binary.clone();
    if let Some(byte) = tampered.last_mut() {
        *byte ^= 0x01;
    }
    push("session_contact_code", "alice-text", code.clone().into_bytes());
    push("session_contact_code", "alice-binary", binary);
    push("session_contact_code", "tampered-binary", tampered);
    push("session_contact_code", "lowercase", code.to_lowercase().into_bytes());

    let session = f
        .bob
        .session(
            f.stores.get(BOB).expect("bob"),
            &PeerAddress {
                identity: alice_id,
                installation: InstallationId::new(alice_inst).expect("valid"),
            },
        )
        .expect("our own record loads")
        .expect("bob has a session with alice");
    let (account, pre_keys) = f.accounts.get(BOB).expect("bob");
    let mut version_2 = kaiwa_wire::store::PeerRecord::decode(f.peer_record(BOB, ALICE).as_slice())
        .expect("our own record decodes");
    version_2.version = 2;
    push("session_record", "bob-peer-alice", f.peer_record(BOB, ALICE));
    push("session_record", "alice-peer-bob", f.peer_record(ALICE, BOB));
    push("session_record", "bob-session-alice", session.to_record().as_bytes().to_vec());
    push("session_record", "bob-account", account.as_bytes().to_vec());
    let first = pre_keys.first().expect("a current prekey");
    push("session_record", "bob-signed-pre-key", first.as_bytes().to_vec());
    push("session_record", "peer-version-2", version_2.encode_to_vec());
}

#[cfg(test)]
mod tests {
    use kaiwa_session::{
        BundleError, ContactCodeError, DecodeError, DecryptError, InMemoryStoreError, ReceiveError,
        RecordError, UndecryptableReason,
    };

    use super::*;
    use crate::seeds::seeds;

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let seed = seeds().into_iter().find(|s| s.target == target && s.name == name);
        seed.expect("seed exists").bytes
    }

    type Outcome = Result<Received, ReceiveError<InMemoryStoreError>>;

    /// What the pair makes of each frame of the `session_receive` seed `name`, and the
    /// receivers' store sizes afterwards.
    fn outcomes(name: &str) -> (Vec<Outcome>, [usize; 2]) {
        let f = session_fixture();
        let mut parties = [f.party(BOB), f.party(ALICE)];
        let mut rng = ChaCha20Rng::seed_from_u64(RECEIVE_SEED);
        let mut now_ms = FIXTURE_NOW_MS;
        let bytes = seed("session_receive", name);
        let outcomes = frames(&bytes)
            .map(|frame| {
                now_ms += u64::from(frame.delay_s) * 1_000;
                let party = &mut parties[usize::from(frame.sender) % RECEIVERS];
                let now = Timestamp::from_millis(now_ms);
                party.manager.receive(&mut party.store, frame.message, &mut rng, now)
            })
            .collect();
        (outcomes, [parties[0].store.len(), parties[1].store.len()])
    }

    fn texts(name: &str) -> Vec<Vec<u8>> {
        outcomes(name)
            .0
            .into_iter()
            .map(|o| match o {
                Ok(Received::Message { plaintext, .. }) => plaintext.to_vec(),
                other => panic!("{name}: {other:?}"),
            })
            .collect()
    }

    fn undecryptable(outcome: &Outcome) -> (&UndecryptableReason, bool) {
        match outcome {
            Ok(Received::Undecryptable { reason, recovery, .. }) => (reason, recovery.is_some()),
            other => panic!("undecryptable, not {other:?}"),
        }
    }

    #[test]
    fn receive_seeds_reach_the_paths_they_are_named_after() {
        assert_eq!(texts("alice-message"), [b"a0"]);
        assert_eq!(texts("bob-message"), [b"b0"]);
        assert_eq!(texts("out-of-order"), [b"a2", b"a0", b"a1"]);
        assert_eq!(texts("crossing"), [b"a0", b"b0", b"a1"]);
        let (duplicate, _) = outcomes("duplicate");
        assert!(matches!(duplicate[1], Ok(Received::Duplicate { .. })));
        let unauthenticated = UndecryptableReason::Decrypt(DecryptError::Unauthenticated);
        let (tampered, _) = outcomes("tampered");
        assert_eq!(undecryptable(&tampered[0]), (&unauthenticated, false));
        let (failures, _) = outcomes("failures-start-recovery");
        let recoveries: Vec<bool> = failures.iter().map(|o| undecryptable(o).1).collect();
        assert_eq!(recoveries, [false, false, true], "the third failure starts a recovery");
        assert!(matches!(outcomes("reset").0[0], Ok(Received::SessionReset { .. })));
        let (stranger, sizes) = outcomes("stranger-first-message");
        match &stranger[0] {
            Ok(Received::Message { from, plaintext }) => {
                assert_eq!(
                    (from.identity, plaintext.as_slice()),
                    (f().identity(MALLORY), &b"m0"[..])
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sizes[0], 2, "bob now knows mallory");
        let (bundle, sizes) = outcomes("stranger-bundle");
        assert_eq!((bundle, sizes[0]), (vec![Ok(Received::NotForUs)], 2));
        assert!(matches!(outcomes("fixture-hello-again").0[0], Ok(Received::Duplicate { .. })));
        assert_eq!(
            outcomes("x3dh-identity-mismatch").0,
            [Err(ReceiveError::Decode(DecodeError::Invalid { field: "x3dh_header.identity" }))]
        );
        let (unknown, _) = outcomes("unknown-installation");
        assert_eq!(undecryptable(&unknown[0]), (&UndecryptableReason::NoSession, false));
        let (far, _) = outcomes("index-999");
        assert_eq!(undecryptable(&far[0]), (&unauthenticated, false));
        assert_eq!(outcomes("own-message").0, [Ok(Received::NotForUs)]);
    }

    fn f() -> &'static SessionFixture {
        session_fixture()
    }

    #[test]
    fn decoder_seeds_reach_the_paths_they_are_named_after() {
        let envelope = Envelope::decode(&seed("session_envelope", "x3dh")).expect("valid");
        assert_eq!(envelope.x3dh_header().map(|x| x.identity()), Some(f().identity(ALICE)));
        let envelope = Envelope::decode(&seed("session_envelope", "ratchet")).expect("valid");
        assert!(envelope.x3dh_header().is_none());
        assert_eq!(
            Envelope::decode(&seed("session_envelope", "hr-header")),
            Err(DecodeError::Invalid { field: "hr_header" })
        );
        assert_eq!(
            Envelope::decode(&seed("session_envelope", "short-payload")),
            Err(DecodeError::Length { field: "payload", expected: 16, actual: 15 })
        );

        let now = fixture_now();
        for (name, who) in [("alice", ALICE), ("mallory", MALLORY)] {
            let bundle = Bundle::decode(&seed("session_bundle", name)).expect("valid");
            let verified = bundle.verify(now, MAX_INSTALLATIONS).expect("signed");
            assert_eq!(verified.identity(), f().identity(who));
        }
        let forged = Bundle::decode(&seed("session_bundle", "forged-signature")).expect("syntax");
        assert_eq!(forged.verify(now, MAX_INSTALLATIONS), Err(BundleError::Unauthenticated));

        let text = String::from_utf8(seed("session_contact_code", "alice-text")).expect("text");
        let alice = decode_contact_code(&text, now, MAX_INSTALLATIONS).expect("valid");
        let binary = seed("session_contact_code", "alice-binary");
        assert_eq!(format!("{CONTACT_CODE_PREFIX}{}", base32(&binary)), text);
        let tampered = format!(
            "{CONTACT_CODE_PREFIX}{}",
            base32(&seed("session_contact_code", "tampered-binary"))
        );
        assert_eq!(
            decode_contact_code(&tampered, now, MAX_INSTALLATIONS),
            Err(ContactCodeError::Bundle(BundleError::Unauthenticated))
        );
        let lower = String::from_utf8(seed("session_contact_code", "lowercase")).expect("text");
        assert!(decode_contact_code(&lower, now, MAX_INSTALLATIONS).is_err());
        assert_eq!(alice.identity(), f().identity(ALICE));
    }

    #[test]
    fn record_seeds_load() {
        let alice = f().identity(ALICE);
        let load = |name: &str| {
            let mut store = InMemorySessionStore::new();
            let record = PeerRecord::from_bytes(seed("session_record", name));
            store.store_peer(&alice, &record).expect("in memory");
            f().bob.installations(&store, &alice)
        };
        let installations = load("bob-peer-alice").expect("loads");
        assert_eq!(installations, [InstallationId::new("alice-phone").expect("valid")]);
        assert_eq!(
            load("peer-version-2"),
            Err(ReceiveError::Record(RecordError::Decode(DecodeError::Version { got: 2 })))
        );
        let session = SessionRecord::from_bytes(seed("session_record", "bob-session-alice"));
        assert!(!Session::from_record(&session).expect("loads").is_awaiting_reply());
        let account = AccountRecord::from_bytes(seed("session_record", "bob-account"));
        let pre_key = SignedPreKeyRecord::from_bytes(seed("session_record", "bob-signed-pre-key"));
        let bob = Account::from_records(&account, &[pre_key]).expect("loads");
        assert_eq!(bob.identity_key(), f().identity(BOB));
    }

    #[test]
    fn base32_matches_rfc4648_and_inverts() {
        for (input, expected) in [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foobar", "MZXW6YTBOI")] {
            assert_eq!(base32(input.as_bytes()), expected);
            assert_eq!(unbase32(expected), input.as_bytes());
        }
    }

    #[test]
    fn fixture_is_the_documented_exchange() {
        let f = f();
        for (who, id) in [(BOB, "bob-laptop"), (ALICE, "alice-phone"), (MALLORY, "mallory")] {
            assert_eq!(f.identity(who), account(who).identity_key());
            assert_eq!(account(who).installation_id().as_str(), id);
        }
        let mut bob = f.party(BOB);
        let mut rng = ChaCha20Rng::seed_from_u64(RECEIVE_SEED);
        match bob.receive(&f.next, &mut rng) {
            Received::Message { plaintext, .. } => {
                assert_eq!(plaintext.as_slice(), b"how are you?")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(bob.receive(&f.hello, &mut rng), Received::Duplicate { .. }));
    }
}
