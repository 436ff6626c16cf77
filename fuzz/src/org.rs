//! kaiwa-org targets: signed objects and ids, the persisted records, a member's view as a state
//! machine, and the owner's request handling.
//!
//! ```text
//! org_signed   input to SignedDescription::verify (fixture org), SignedGrant::verify and
//!              Invitation::verify (for erin), OrganizationView::verify_kick_notice; as UTF-8 to
//!              MemberId::from_text and ChannelId::new
//!              checks: a verified description keeps the input bytes and does not verify for
//!              another org; a verified grant keeps its bytes, names erin, expires at its
//!              expiry and is for erin only; an invitation's grant verifies alone and the
//!              invitation is for erin only; a kick notice is bound to its org; ids keep their text
//! org_record   Organization::from_record(input), OrganizationView::from_record(input)
//!              checks: a loaded record → to_record → from_record → to_record is byte-identical
//! org_view     frames (frames.rs layout) applied to bob's view, one operation per frame:
//!                op     = frame.sender mod 5:
//!                         0 apply_description   1 apply_segment   2 apply_rekey (bob's X25519)
//!                         3 decrypt (and decrypt_history)          4 open_response (bob's X25519)
//!                now_ms = FIXTURE_NOW_MS + 1000 × (sum of delay_s up to this frame)
//!              checks (DECISIONS.md "Organizations"; the crate's authenticate-then-apply rule):
//!                every rejected input, and every accepted one that reports no change
//!                (Unchanged, Pending, NotForUs, AlreadyKnown, TooOld), leaves the view's record
//!                byte-identical; an applied description is the view's, with the bytes received,
//!                and applying it again changes nothing; an installed epoch is held, and
//!                installing it again is AlreadyKnown and changes nothing; a decrypted message
//!                decrypts the same through decrypt_history, and a second decrypt is refused
//!                without a change; after every operation the view survives its record
//! org_request  frames (frames.rs layout; the sender byte is not used) handled by the owner's
//!              Organization::handle_request, now_ms as for org_view
//!              checks: a rejected request leaves the organization's record byte-identical;
//!              Pending → pending, the same request again is refused (stale) without a change;
//!              Accepted → a member, not pending, again refused; Cancelled → not pending, again
//!              refused; Left → not a member, again refused; the organization survives its record
//! ```
//!
//! The fixture is built once per process. Every key comes from its own generator, so the
//! crate's replay test can rebuild it from the seed alone:
//!
//! ```text
//! person n   IdentityKeyPair then DhKeyPair from ChaCha20Rng::seed_from_u64(ORG_SEED ^ (n + 1))
//!            n = 0 alice, 1 bob, 2 carol, 3 dave, 4 erin, 5 mallory
//! org keys   IdentityKeyPair then DhKeyPair from ChaCha20Rng::seed_from_u64(ORG_SEED ^ 0x10)
//! other org  the same from ChaCha20Rng::seed_from_u64(ORG_SEED ^ 0x20), founded by dave
//! flows      rng = ChaCha20Rng::seed_from_u64(ORG_SEED), t = FIXTURE_NOW_MS
//!
//! t      alice creates "fuzz" (ON_REQUEST, encrypted): org epoch 1 {alice}
//! t      open channel "general"
//! t + 1  bob asks to join (pending), the owner accepts: org epoch 2 {alice, bob}
//! t + 2  private channel "staff" {alice, bob}: staff epoch 1
//! t + 3  mallory is banned (pre-emptively)
//! t + 4  erin is invited (a grant on record)
//! t + 5  carol asks to join: pending
//! ```
//!
//! Bob's view (`org_view`) opened his admission response and applied every description and
//! re-key; alice's view (which makes the channel-message seeds) did the same. Both views and the
//! owner's organization are committed as the `org_record` seeds `bob-view`, `alice-view` and
//! `owner`. Each input restores a fresh copy from these records and draws its randomness from
//! `ChaCha20Rng::seed_from_u64(ORG_SEED ^ 0xff)`.

use std::sync::OnceLock;

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair};
use kaiwa_org::{
    Access, Actor, Channel, ChannelId, DescriptionOutcome, GrantError, Invitation, JoinRequest,
    LamportTime, MemberId, MemberKeys, OrgConfig, OrgId, Organization, OrganizationRecord,
    OrganizationView, OrganizationViewRecord, RekeyOutcome, RequestOutcome, SEGMENT_CONTEXT,
    SegmentOutcome, SignedDescription, SignedGrant, Update,
};
use kaiwa_wire::net::application_metadata_message::Type;
use kaiwa_wire::net::{ApplicationMetadataMessage, OrganizationDescriptionSegment};
use kaiwa_wire::prost::Message as _;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::frames::{Frame, encode_frames, frames};
use crate::group::FIXTURE_NOW_MS;

/// Seed of the organization fixture (module doc).
pub(crate) const ORG_SEED: u64 = 0x6b61_6977_616f_7267; // "kaiwaorg"

pub(crate) const ALICE: usize = 0;
pub(crate) const BOB: usize = 1;
pub(crate) const CAROL: usize = 2;
pub(crate) const DAVE: usize = 3;
pub(crate) const ERIN: usize = 4;
pub(crate) const MALLORY: usize = 5;
const CAST: usize = 6;

/// View operations, selected by a frame's sender byte modulo this.
const VIEW_OPS: u8 = 5;
pub(crate) const OP_DESCRIPTION: u8 = 0;
pub(crate) const OP_SEGMENT: u8 = 1;
pub(crate) const OP_REKEY: u8 = 2;
pub(crate) const OP_DECRYPT: u8 = 3;
pub(crate) const OP_RESPONSE: u8 = 4;

fn seeded(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Identity and X25519 key pairs from one generator (module doc).
fn key_pairs(seed: u64) -> (IdentityKeyPair, DhKeyPair) {
    let mut rng = seeded(seed);
    let identity = IdentityKeyPair::generate(&mut rng);
    (identity, DhKeyPair::generate(&mut rng))
}

/// A member of the cast.
pub(crate) struct Person {
    pub(crate) id: IdentityKeyPair,
    pub(crate) dh: DhKeyPair,
    pub(crate) member: MemberId,
}

impl Person {
    fn new(n: usize) -> Self {
        let n = u64::try_from(n).expect("small");
        let (id, dh) = key_pairs(ORG_SEED ^ (n + 1));
        let member = MemberId::from_key(&id.public_key());
        Self { id, dh, member }
    }

    fn keys(&self) -> MemberKeys {
        MemberKeys { id: self.member, dh_key: self.dh.public_key() }
    }
}

/// The fixture (module doc), kept as records: an organization and a view hold secrets and are
/// not `Clone`, so each input restores its own copy.
pub(crate) struct OrgFixture {
    people: [Person; CAST],
    org: OrgId,
    other_org: OrgId,
    owner: Vec<u8>,
    bob_view: Vec<u8>,
    alice_view: Vec<u8>,
    /// The organization's first description.
    first_description: Vec<u8>,
    /// The first re-key part (org epoch 1, alice only).
    first_rekey: Vec<u8>,
    /// Bob's admission: response and update.
    admission_response: Vec<u8>,
    admission_rekey: Vec<u8>,
    /// Erin's invitation.
    invitation: Vec<u8>,
    /// Carol's pending join request.
    carol_request: Vec<u8>,
    /// The other organization's description.
    other_description: Vec<u8>,
    /// Dave's view of the other organization (for requests sent to the wrong org).
    other_view: Vec<u8>,
}

impl OrgFixture {
    /// Cast member `who`.
    pub(crate) fn person(&self, who: usize) -> &Person {
        self.people.get(who).expect("cast index")
    }

    /// A fresh copy of the owner's organization.
    pub(crate) fn owner(&self) -> Organization {
        Organization::from_record(&OrganizationRecord::from_bytes(self.owner.clone()))
            .expect("our own record loads")
    }

    /// A fresh copy of bob's view.
    pub(crate) fn bob_view(&self) -> OrganizationView {
        view_from(&self.bob_view)
    }

    /// A fresh copy of alice's view.
    fn alice_view(&self) -> OrganizationView {
        view_from(&self.alice_view)
    }
}

fn view_from(bytes: &[u8]) -> OrganizationView {
    OrganizationView::from_record(&OrganizationViewRecord::from_bytes(bytes.to_vec()))
        .expect("our own record loads")
}

fn view_bytes(view: &OrganizationView) -> Vec<u8> {
    view.to_record().expose_secret().to_vec()
}

fn org_bytes(org: &Organization) -> Vec<u8> {
    org.to_record().expose_secret().to_vec()
}

/// The single message of an update's description (the fixture's descriptions are small).
fn description_of(update: &Update) -> Vec<u8> {
    match update.description.as_slice() {
        [one] => one.clone(),
        other => panic!("one description message, not {}", other.len()),
    }
}

/// Applies an update to a view, as a member's client does.
fn deliver(view: &mut OrganizationView, update: &Update, dh: &DhKeyPair) {
    for message in &update.description {
        view.apply_description(message).expect("the owner's descriptions apply");
    }
    for part in &update.rekeys {
        view.apply_rekey(part, dh).expect("the owner's re-keys verify");
    }
}

/// A view of `org` for `person` that has its current description.
fn follower(org: &Organization, person: &Person) -> OrganizationView {
    let mut view = OrganizationView::new(org.id(), person.member);
    for message in org.republish() {
        view.apply_description(&message).expect("the owner's description applies");
    }
    view
}

fn channel(name: &str) -> ChannelId {
    ChannelId::new(name).expect("a valid channel id")
}

/// The fixture (module doc), built on first use.
pub(crate) fn org_fixture() -> &'static OrgFixture {
    static FIXTURE: OnceLock<OrgFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let people: [Person; CAST] = core::array::from_fn(Person::new);
        let [alice, bob, carol, dave, erin, mallory] = &people;
        let mut rng = seeded(ORG_SEED);
        let t = FIXTURE_NOW_MS;
        let (org_key, request_key) = key_pairs(ORG_SEED ^ 0x10);
        let config = OrgConfig::new("fuzz", Access::OnRequest);
        let (mut org, created) =
            Organization::create(org_key, request_key, alice.keys(), config, t, &mut rng)
                .expect("a valid organization");
        let mut alice_view = OrganizationView::new(org.id(), alice.member);
        deliver(&mut alice_view, &created, &alice.dh);
        let general = org
            .create_channel(&Actor::Owner, &channel("general"), open("general"), t, &mut rng)
            .expect("a new channel");
        deliver(&mut alice_view, &general, &alice.dh);

        let mut bob_view = follower(&org, bob);
        let request = bob_view
            .join_request(
                &bob.id,
                &bob.dh.public_key(),
                &JoinRequest::new(LamportTime(1)),
                &mut rng,
            )
            .expect("the org has a request key");
        let pending = org.handle_request(&request, t + 1, &mut rng).expect("a valid request");
        assert!(matches!(pending, RequestOutcome::Pending { .. }), "ON_REQUEST keeps it pending");
        let admission =
            org.accept(&Actor::Owner, &bob.member, t + 1, &mut rng).expect("bob is pending");
        bob_view.open_response(&admission.response, &bob.dh, t + 1).expect("sealed to bob");
        deliver(&mut bob_view, &admission.update, &bob.dh);
        deliver(&mut alice_view, &admission.update, &alice.dh);

        let staff = Channel::private("staff", Access::OnRequest, [alice.member, bob.member]);
        let staff = org
            .create_channel(&Actor::Owner, &channel("staff"), staff, t + 2, &mut rng)
            .expect("a new channel");
        let ban = org.ban(&Actor::Owner, &mallory.member, t + 3, &mut rng).expect("not banned");
        for update in [&staff, &ban] {
            deliver(&mut bob_view, update, &bob.dh);
            deliver(&mut alice_view, update, &alice.dh);
        }
        let invitation =
            org.invite(&Actor::Owner, &erin.member, None, t + 4).expect("erin may be invited");
        let carol_request = follower(&org, carol)
            .join_request(
                &carol.id,
                &carol.dh.public_key(),
                &JoinRequest::new(LamportTime(1)),
                &mut rng,
            )
            .expect("the org has a request key");
        org.handle_request(&carol_request, t + 5, &mut rng).expect("a valid request");

        let (other_key, other_request_key) = key_pairs(ORG_SEED ^ 0x20);
        let other_config = OrgConfig::new("other", Access::NoMembership);
        let (other, _) = Organization::create(
            other_key,
            other_request_key,
            dave.keys(),
            other_config,
            t,
            &mut rng,
        )
        .expect("a valid organization");

        OrgFixture {
            org: org.id(),
            other_org: other.id(),
            owner: org_bytes(&org),
            bob_view: view_bytes(&bob_view),
            alice_view: view_bytes(&alice_view),
            first_description: description_of(&created),
            first_rekey: created.rekeys.first().cloned().expect("an encrypted org re-keys"),
            admission_response: admission.response.clone(),
            admission_rekey: admission.update.rekeys.first().cloned().expect("a new member"),
            invitation,
            carol_request,
            other_description: other.republish().into_iter().next().expect("one message"),
            other_view: view_bytes(&follower(&other, dave)),
            people,
        }
    })
}

fn open(name: &str) -> Channel {
    Channel::open(name, Access::NoMembership)
}

/// Signed objects and ids (module doc).
pub fn org_signed(data: &[u8]) {
    let f = org_fixture();
    let now_ms = FIXTURE_NOW_MS + 5_000;
    let (erin, dave) = (f.person(ERIN).member, f.person(DAVE).member);
    if let Ok(signed) = SignedDescription::verify(&f.org, data) {
        assert_eq!(signed.bytes(), data, "a description keeps the bytes received");
        assert_eq!(signed.description().org(), &f.org);
        assert!(SignedDescription::verify(&f.other_org, data).is_err(), "bound to its org");
    }
    if let Ok(grant) = SignedGrant::verify(data, &f.org, &erin, now_ms) {
        assert_eq!(grant.bytes(), data, "a grant keeps the bytes received");
        assert_eq!((grant.grant().org, grant.grant().member), (f.org, erin));
        let expiry = grant.grant().expires_ms;
        assert!(
            matches!(
                SignedGrant::verify(data, &f.org, &erin, expiry),
                Err(GrantError::Expired { .. })
            ),
            "a grant expires at its expiry"
        );
        assert!(SignedGrant::verify(data, &f.org, &dave, now_ms).is_err(), "for one key only");
    }
    if let Ok(invitation) = Invitation::verify(data, &erin, now_ms) {
        let grant =
            SignedGrant::verify(invitation.grant().bytes(), invitation.org(), &erin, now_ms);
        assert_eq!(grant.as_ref(), Ok(invitation.grant()), "an invitation's grant verifies alone");
        assert!(Invitation::verify(data, &dave, now_ms).is_err(), "an invitation is for one key");
    }
    let view = OrganizationView::new(f.org, f.person(BOB).member);
    if view.verify_kick_notice(data).is_ok() {
        let other = OrganizationView::new(f.other_org, f.person(BOB).member);
        assert!(other.verify_kick_notice(data).is_err(), "a kick notice is bound to its org");
    }
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(member) = MemberId::from_text("member", text) {
            assert_eq!(member.to_text(), text, "a member id has one text form");
        }
        if let Ok(id) = ChannelId::new(text) {
            assert_eq!(id.as_str(), text, "a channel id keeps its text");
        }
    }
}

/// Record loaders and their round trips (module doc).
pub fn org_record(data: &[u8]) {
    if let Ok(org) = Organization::from_record(&OrganizationRecord::from_bytes(data.to_vec())) {
        let record = org_bytes(&org);
        let reloaded = Organization::from_record(&OrganizationRecord::from_bytes(record.clone()))
            .expect("our own record loads");
        assert_eq!(org_bytes(&reloaded), record, "an organization survives its record");
    }
    if let Ok(view) =
        OrganizationView::from_record(&OrganizationViewRecord::from_bytes(data.to_vec()))
    {
        let record = view_bytes(&view);
        assert_eq!(view_bytes(&view_from(&record)), record, "a view survives its record");
    }
}

/// One view operation on `view`, with the checks of the module doc.
fn view_op(view: &mut OrganizationView, op: u8, bytes: &[u8], dh: &DhKeyPair, now_ms: u64) {
    let before = view_bytes(view);
    let unchanged = |view: &OrganizationView, what: &str| {
        assert!(view_bytes(view) == before, "{what} changed the view");
    };
    match op {
        OP_DESCRIPTION => match view.apply_description(bytes) {
            Ok(DescriptionOutcome::Applied { clock }) => applied(view, bytes, clock),
            Ok(_) => unchanged(view, "an unchanged description"),
            Err(_) => unchanged(view, "a rejected description"),
        },
        OP_SEGMENT => match view.apply_segment(bytes) {
            Ok(SegmentOutcome::Complete(DescriptionOutcome::Applied { .. })) => {
                let after = view_bytes(view);
                assert!(
                    view.apply_segment(bytes).is_err(),
                    "a segment of the stored clock is stale"
                );
                assert!(view_bytes(view) == after, "a stale segment changed the view");
            }
            Ok(SegmentOutcome::Pending { received, count }) => {
                assert!(0 < received && received < count, "pending means chunks are missing");
                unchanged(view, "a buffered segment");
            }
            Ok(_) => {}
            Err(_) => unchanged(view, "a rejected segment"),
        },
        OP_REKEY => match view.apply_rekey(bytes, dh) {
            Ok(RekeyOutcome::Installed { group, epoch }) => {
                assert!(view.epochs(&group).contains(&epoch), "an installed epoch is held");
                let after = view_bytes(view);
                assert_eq!(view.apply_rekey(bytes, dh), Ok(RekeyOutcome::AlreadyKnown));
                assert!(view_bytes(view) == after, "a known epoch changed the view");
            }
            Ok(_) => unchanged(view, "a re-key that installed nothing"),
            Err(_) => unchanged(view, "a rejected re-key"),
        },
        OP_DECRYPT => {
            let history = view.decrypt_history(bytes);
            unchanged(view, "decrypt_history");
            match view.decrypt(bytes) {
                Ok(message) => {
                    let history = history.expect("a message that decrypts reads as history");
                    assert_eq!(
                        (&history.channel, history.sender, history.epoch, history.index),
                        (&message.channel, message.sender, message.epoch, message.index)
                    );
                    assert_eq!(history.plaintext, message.plaintext, "history reads the same");
                    if message.epoch.is_some() {
                        let after = view_bytes(view);
                        assert!(view.decrypt(bytes).is_err(), "a channel message decrypts once");
                        assert!(view_bytes(view) == after, "a replay changed the view");
                    }
                }
                Err(_) => unchanged(view, "a rejected channel message"),
            }
        }
        _ => {
            if view.open_response(bytes, dh, now_ms).is_err() {
                unchanged(view, "a rejected response");
            }
        }
    }
    let record = view_bytes(view);
    assert_eq!(view_bytes(&view_from(&record)), record, "a view survives its record");
}

/// An applied description is the view's, with the bytes received; again it changes nothing.
fn applied(view: &mut OrganizationView, bytes: &[u8], clock: LamportTime) {
    let signed = view.signed_description().expect("applied");
    assert_eq!((signed.bytes(), signed.description().clock()), (bytes, clock));
    let after = view_bytes(view);
    assert_eq!(view.apply_description(bytes), Ok(DescriptionOutcome::Unchanged));
    assert!(view_bytes(view) == after, "a description applied twice changed the view");
}

/// The member's view as a state machine (module doc).
pub fn org_view(data: &[u8]) {
    let f = org_fixture();
    let mut view = f.bob_view();
    let dh = &f.person(BOB).dh;
    let mut now_ms = FIXTURE_NOW_MS;
    for frame in frames(data) {
        now_ms += u64::from(frame.delay_s) * 1_000;
        view_op(&mut view, frame.sender % VIEW_OPS, frame.message, dh, now_ms);
    }
}

/// The owner's request handling (module doc).
pub fn org_request(data: &[u8]) {
    let f = org_fixture();
    let mut org = f.owner();
    let mut rng = seeded(ORG_SEED ^ 0xff);
    let mut now_ms = FIXTURE_NOW_MS;
    for frame in frames(data) {
        now_ms += u64::from(frame.delay_s) * 1_000;
        let bytes = frame.message;
        let before = org_bytes(&org);
        let outcome = org.handle_request(bytes, now_ms, &mut rng);
        let accepted = outcome.is_ok();
        match outcome {
            Err(_) => assert!(org_bytes(&org) == before, "a rejected request changed the org"),
            Ok(RequestOutcome::Pending { member }) => {
                assert!(org.pending().contains_key(&member), "a pending request is on record");
            }
            Ok(RequestOutcome::Accepted(admission)) => {
                let member = admission.member;
                assert!(org.description().is_member(&member), "an admitted key is a member");
                assert!(!org.pending().contains_key(&member), "and no longer pending");
            }
            Ok(RequestOutcome::Cancelled { member }) => {
                assert!(!org.pending().contains_key(&member), "a cancelled request is gone");
            }
            Ok(RequestOutcome::Left { member, .. }) => {
                assert!(!org.description().is_member(&member), "a member who left is gone");
            }
            Ok(_) => {}
        }
        if accepted {
            let after = org_bytes(&org);
            assert!(org.handle_request(bytes, now_ms, &mut rng).is_err(), "a request acts once");
            assert!(org_bytes(&org) == after, "a repeated request changed the org");
        }
        let record = org_bytes(&org);
        let reloaded = Organization::from_record(&OrganizationRecord::from_bytes(record.clone()))
            .expect("our own record loads");
        assert!(org_bytes(&reloaded) == record, "an organization survives its record");
    }
}

/// Signs `segment` as the organization (segment.rs layout), for segments of a small
/// description, which the owner itself would publish whole.
fn sign_segment(org_key: &IdentityKeyPair, segment: &OrganizationDescriptionSegment) -> Vec<u8> {
    let kind = Type::OrganizationDescriptionSegment;
    let payload = segment.encode_to_vec();
    let signature = org_key.sign_parts(&SEGMENT_CONTEXT, &[&(kind as i32).to_be_bytes(), &payload]);
    ApplicationMetadataMessage {
        signature: signature.as_bytes().to_vec(),
        payload,
        r#type: kind as i32,
        author: org_key.public_key().as_bytes().to_vec(),
    }
    .encode_to_vec()
}

/// `signed` in two signed segments.
fn segments(signed: &[u8]) -> [Vec<u8>; 2] {
    let (org_key, _) = key_pairs(ORG_SEED ^ 0x10);
    let f = org_fixture();
    let parsed = SignedDescription::verify(&f.org, signed).expect("our own description");
    let (first, second) = signed.split_at(signed.len() / 2);
    let segment = |index: u32, chunk: &[u8]| OrganizationDescriptionSegment {
        organization_id: f.org.as_bytes().to_vec(),
        clock: parsed.description().clock().0,
        index,
        count: 2,
        digest: parsed.digest().to_vec(),
        chunk: chunk.to_vec(),
    };
    [sign_segment(&org_key, &segment(0, first)), sign_segment(&org_key, &segment(1, second))]
}

/// Flips one byte in the middle of `bytes`.
fn flip_middle(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let middle = out.len() / 2;
    if let Some(byte) = out.get_mut(middle) {
        *byte ^= 0x01;
    }
    out
}

/// Seeds of the organization targets: real messages and records of the fixture's cast.
pub(crate) fn org_seeds(push: &mut dyn FnMut(&'static str, &str, Vec<u8>)) {
    let f = org_fixture();
    let mut rng = seeded(ORG_SEED ^ 0x5eed);
    let t = FIXTURE_NOW_MS + 10_000;
    let alice = f.person(ALICE);
    let (general, staff) = (channel("general"), channel("staff"));
    let op = |op: u8, message: &[u8]| encode_frames(&[Frame { sender: op, delay_s: 1, message }]);
    let ops = |list: &[(u8, &[u8])]| {
        let frames: Vec<Frame<'_>> =
            list.iter().map(|&(sender, message)| Frame { sender, delay_s: 1, message }).collect();
        encode_frames(&frames)
    };

    // Changes the owner could make next.
    let republished = f.owner().republish().into_iter().next().expect("one message");
    let news = f
        .owner()
        .create_channel(&Actor::Owner, &channel("news"), open("news"), t, &mut rng)
        .expect("a new channel");
    let newer = description_of(&news);
    let board = Channel::private("board", Access::OnRequest, [alice.member]);
    let board = f
        .owner()
        .create_channel(&Actor::Owner, &channel("board"), board, t, &mut rng)
        .expect("a new channel");
    let board_description = description_of(&board);
    let board_rekey = board.rekeys.first().cloned().expect("a private channel re-keys");
    let rekey = f.owner().rekey_all(t, &mut rng).expect("every group re-keys");
    let rejection =
        f.owner().reject(&Actor::Owner, &f.person(CAROL).member, &mut rng).expect("carol pends");
    let kick =
        f.owner().kick(&Actor::Owner, &f.person(BOB).member, t, &mut rng).expect("bob is a member");

    // Alice's channel messages: three in general, one in staff, one far ahead, one in the next
    // epoch.
    let mut sender = f.alice_view();
    let [g0, g1, g2]: [Vec<u8>; 3] = core::array::from_fn(|i| {
        let text = format!("general {i}");
        sender.encrypt(&general, &alice.id, text.as_bytes(), &mut rng).expect("a member")
    });
    let s0 = sender.encrypt(&staff, &alice.id, b"staff 0", &mut rng).expect("a staff member");
    sender.advance_sending_chain_for_testing_only(&general, &alice.id, 1_000).expect("forward");
    let far = sender.encrypt(&general, &alice.id, b"general 1000", &mut rng).expect("a member");
    let mut next_epoch = f.alice_view();
    for part in &rekey.rekeys {
        next_epoch.apply_rekey(part, &alice.dh).expect("alice is in every group");
    }
    let e0 = next_epoch.encrypt(&general, &alice.id, b"epoch 3", &mut rng).expect("a member");
    let [seg0, seg1] = segments(&newer);
    let [stale0, _] = segments(&republished);
    let rekey_then_message: Vec<(u8, &[u8])> = rekey
        .rekeys
        .iter()
        .map(|p| (OP_REKEY, p.as_slice()))
        .chain([(OP_DECRYPT, e0.as_slice())])
        .collect();
    let rekey_all: Vec<(u8, &[u8])> =
        rekey.rekeys.iter().map(|p| (OP_REKEY, p.as_slice())).collect();

    for (name, input) in [
        ("republished-description", op(OP_DESCRIPTION, &republished)),
        ("newer-description", op(OP_DESCRIPTION, &newer)),
        ("older-description", op(OP_DESCRIPTION, &f.first_description)),
        ("other-org-description", op(OP_DESCRIPTION, &f.other_description)),
        ("forged-description", op(OP_DESCRIPTION, &flip_middle(&newer))),
        ("segments", ops(&[(OP_SEGMENT, &seg0), (OP_SEGMENT, &seg1)])),
        ("segments-reversed", ops(&[(OP_SEGMENT, &seg1), (OP_SEGMENT, &seg0)])),
        ("stale-segment", op(OP_SEGMENT, &stale0)),
        ("rekey-all", ops(&rekey_all)),
        ("known-rekey", op(OP_REKEY, &f.admission_rekey)),
        ("rekey-before-bob", op(OP_REKEY, &f.first_rekey)),
        ("rekey-unknown-group", op(OP_REKEY, &board_rekey)),
        (
            "private-channel-of-others",
            ops(&[(OP_DESCRIPTION, &board_description), (OP_REKEY, &board_rekey)]),
        ),
        ("general-message", op(OP_DECRYPT, &g0)),
        ("staff-message", op(OP_DECRYPT, &s0)),
        ("out-of-order", ops(&[(OP_DECRYPT, &g2), (OP_DECRYPT, &g0), (OP_DECRYPT, &g1)])),
        ("replay", ops(&[(OP_DECRYPT, &g0), (OP_DECRYPT, &g0)])),
        ("far-index", op(OP_DECRYPT, &far)),
        ("message-before-rekey", op(OP_DECRYPT, &e0)),
        ("rekey-then-message", ops(&rekey_then_message)),
        ("admission-response", op(OP_RESPONSE, &f.admission_response)),
        ("response-for-carol", op(OP_RESPONSE, &rejection)),
    ] {
        push("org_view", name, input);
    }

    // Requests the owner could receive next.
    let request = |who: usize, join: &JoinRequest, rng: &mut ChaCha20Rng| {
        let person = f.person(who);
        follower(&f.owner(), person)
            .join_request(&person.id, &person.dh.public_key(), join, rng)
            .expect("the org has a request key")
    };
    let join = JoinRequest::new(LamportTime(1));
    let dave_joins = request(DAVE, &join, &mut rng);
    let dave_cancels = follower(&f.owner(), f.person(DAVE))
        .cancel_request(&f.person(DAVE).id, LamportTime(2), &mut rng)
        .expect("the org has a request key");
    let carol_cancels = follower(&f.owner(), f.person(CAROL))
        .cancel_request(&f.person(CAROL).id, LamportTime(2), &mut rng)
        .expect("the org has a request key");
    let leave = |who: usize, rng: &mut ChaCha20Rng| {
        follower(&f.owner(), f.person(who))
            .leave_request(&f.person(who).id, LamportTime(2), rng)
            .expect("the org has a request key")
    };
    let bob_leaves = leave(BOB, &mut rng);
    let erin_leaves = leave(ERIN, &mut rng);
    let grant = Invitation::verify(&f.invitation, &f.person(ERIN).member, FIXTURE_NOW_MS + 5_000)
        .expect("erin's invitation verifies")
        .grant()
        .bytes()
        .to_vec();
    let mut invited = JoinRequest::new(LamportTime(1));
    invited.invitation_grant = Some(grant.clone());
    let erin_joins = request(ERIN, &invited, &mut rng);
    let dave_with_erins_grant = request(DAVE, &invited, &mut rng);
    let mut to_general = JoinRequest::new(LamportTime(1));
    to_general.channel = Some(general.clone());
    let mut to_nowhere = JoinRequest::new(LamportTime(1));
    to_nowhere.channel = Some(channel("nowhere"));
    let elsewhere = view_from(&f.other_view)
        .join_request(&f.person(ERIN).id, &f.person(ERIN).dh.public_key(), &join, &mut rng)
        .expect("the other org has a request key");

    for (name, frames) in [
        ("dave-joins", vec![&dave_joins]),
        ("dave-joins-twice", vec![&dave_joins, &dave_joins]),
        ("dave-joins-then-cancels", vec![&dave_joins, &dave_cancels]),
        ("carol-cancels", vec![&carol_cancels]),
        ("carol-joins-again", vec![&f.carol_request]),
        ("erin-invited", vec![&erin_joins]),
        ("erin-invited-then-leaves", vec![&erin_joins, &erin_leaves]),
        ("bob-leaves", vec![&bob_leaves]),
        ("alice-joins", vec![&request(ALICE, &join, &mut rng)]),
        ("banned-joins", vec![&request(MALLORY, &join, &mut rng)]),
        ("dave-joins-general", vec![&request(DAVE, &to_general, &mut rng)]),
        ("dave-joins-unknown-channel", vec![&request(DAVE, &to_nowhere, &mut rng)]),
        ("dave-with-erins-grant", vec![&dave_with_erins_grant]),
        ("request-for-other-org", vec![&elsewhere]),
        ("tampered", vec![&flip_middle(&dave_joins)]),
    ] {
        let frames: Vec<Frame<'_>> =
            frames.iter().map(|message| Frame { sender: 0, delay_s: 1, message }).collect();
        push("org_request", name, encode_frames(&frames));
    }

    push("org_signed", "description", republished);
    push("org_signed", "invitation", f.invitation.clone());
    push("org_signed", "forged-invitation", flip_middle(&f.invitation));
    push("org_signed", "grant", grant);
    push("org_signed", "kick-notice", kick.notice);
    push("org_signed", "member-id", f.person(BOB).member.to_text().into_bytes());
    push("org_signed", "channel-id", b"general".to_vec());

    let mut owner_2 = kaiwa_wire::store::OrganizationRecord::decode(f.owner.as_slice())
        .expect("our own record decodes");
    owner_2.version = 2;
    push("org_record", "owner", f.owner.clone());
    push("org_record", "bob-view", f.bob_view.clone());
    push("org_record", "alice-view", f.alice_view.clone());
    push("org_record", "owner-version-2", owner_2.encode_to_vec());
    push(
        "org_record",
        "new-view",
        view_bytes(&OrganizationView::new(f.org, f.person(DAVE).member)),
    );
}

#[cfg(test)]
mod tests {
    use kaiwa_org::{
        ChannelPlaintext, DecodeError, DecryptError, DescriptionError, Epoch, FlowError,
        RekeyError, RequestError, ResponseError,
    };

    use super::*;
    use crate::seeds::seeds;

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let seed = seeds().into_iter().find(|s| s.target == target && s.name == name);
        seed.expect("seed exists").bytes
    }

    /// What one view operation returned.
    #[derive(Debug)]
    enum Step {
        Description(Result<DescriptionOutcome, DescriptionError>),
        Segment(Result<SegmentOutcome, DescriptionError>),
        Rekey(Result<RekeyOutcome, RekeyError>),
        Decrypt(Result<ChannelPlaintext, DecryptError>),
        /// Whether the response was an acceptance.
        Response(Result<bool, ResponseError>),
    }

    /// What bob's view makes of each frame of the `org_view` seed `name`.
    fn steps(name: &str) -> Vec<Step> {
        let f = org_fixture();
        let mut view = f.bob_view();
        let dh = &f.person(BOB).dh;
        let bytes = seed("org_view", name);
        frames(&bytes)
            .map(|frame| match frame.sender % VIEW_OPS {
                OP_DESCRIPTION => Step::Description(view.apply_description(frame.message)),
                OP_SEGMENT => Step::Segment(view.apply_segment(frame.message)),
                OP_REKEY => Step::Rekey(view.apply_rekey(frame.message, dh)),
                OP_DECRYPT => Step::Decrypt(view.decrypt(frame.message)),
                _ => Step::Response(
                    view.open_response(frame.message, dh, FIXTURE_NOW_MS + 1_000)
                        .map(|r| r.accepted),
                ),
            })
            .collect()
    }

    /// The (channel, epoch, index) of each message of a seed, which must all decrypt.
    fn decrypted(name: &str) -> Vec<(String, Option<Epoch>, u32)> {
        steps(name)
            .into_iter()
            .filter_map(|step| match step {
                Step::Decrypt(Ok(m)) => Some((m.channel.as_str().to_owned(), m.epoch, m.index)),
                Step::Rekey(Ok(RekeyOutcome::Installed { .. })) => None,
                other => panic!("{name}: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn view_seeds_reach_the_paths_they_are_named_after() {
        use Step::{Decrypt, Description, Rekey, Response, Segment};
        let applied = |name: &str| match steps(name).as_slice() {
            [Description(Ok(DescriptionOutcome::Applied { .. }))] => true,
            other => panic!("{name}: {other:?}"),
        };
        assert!(applied("newer-description"));
        assert!(matches!(
            steps("republished-description").as_slice(),
            [Description(Ok(DescriptionOutcome::Unchanged))]
        ));
        assert!(matches!(
            steps("older-description").as_slice(),
            [Description(Err(DescriptionError::Stale { .. }))]
        ));
        for name in ["other-org-description", "forged-description"] {
            assert!(
                matches!(
                    steps(name).as_slice(),
                    [Description(Err(DescriptionError::Unauthenticated))]
                ),
                "{name}"
            );
        }
        for name in ["segments", "segments-reversed"] {
            assert!(
                matches!(
                    steps(name).as_slice(),
                    [
                        Segment(Ok(SegmentOutcome::Pending { received: 1, count: 2 })),
                        Segment(Ok(SegmentOutcome::Complete(DescriptionOutcome::Applied { .. })))
                    ]
                ),
                "{name}"
            );
        }
        assert!(matches!(
            steps("stale-segment").as_slice(),
            [Segment(Err(DescriptionError::Stale { .. }))]
        ));
        assert!(matches!(
            steps("rekey-all").as_slice(),
            [
                Rekey(Ok(RekeyOutcome::Installed { epoch: Epoch(3), .. })),
                Rekey(Ok(RekeyOutcome::Installed { epoch: Epoch(2), .. }))
            ] | [
                Rekey(Ok(RekeyOutcome::Installed { epoch: Epoch(2), .. })),
                Rekey(Ok(RekeyOutcome::Installed { epoch: Epoch(3), .. }))
            ]
        ));
        assert!(matches!(steps("known-rekey").as_slice(), [Rekey(Ok(RekeyOutcome::AlreadyKnown))]));
        assert!(matches!(
            steps("rekey-before-bob").as_slice(),
            [Rekey(Ok(RekeyOutcome::NotForUs))]
        ));
        assert!(matches!(
            steps("rekey-unknown-group").as_slice(),
            [Rekey(Err(RekeyError::UnknownGroup))]
        ));
        assert!(matches!(
            steps("private-channel-of-others").as_slice(),
            [
                Description(Ok(DescriptionOutcome::Applied { .. })),
                Rekey(Ok(RekeyOutcome::NotForUs))
            ]
        ));
        let general = |epoch: u32, index: u32| ("general".to_owned(), Some(Epoch(epoch)), index);
        // Chain indices start at 1.
        assert_eq!(decrypted("general-message"), [general(2, 1)]);
        assert_eq!(decrypted("staff-message"), [("staff".to_owned(), Some(Epoch(1)), 1)]);
        assert_eq!(decrypted("out-of-order"), [general(2, 3), general(2, 1), general(2, 2)]);
        assert_eq!(decrypted("far-index"), [general(2, 1_000)]);
        assert_eq!(decrypted("rekey-then-message"), [general(3, 1)]);
        assert!(matches!(
            steps("replay").as_slice(),
            [Decrypt(Ok(_)), Decrypt(Err(DecryptError::KeyUnavailable))]
        ));
        assert!(matches!(
            steps("message-before-rekey").as_slice(),
            [Decrypt(Err(DecryptError::UnknownEpoch { epoch: 3 }))]
        ));
        assert!(matches!(steps("admission-response").as_slice(), [Response(Ok(true))]));
        assert!(matches!(steps("response-for-carol").as_slice(), [Response(Err(_))]));
    }

    /// What the owner makes of each frame of the `org_request` seed `name`.
    fn requests(name: &str) -> Vec<Result<RequestOutcome, RequestError>> {
        let f = org_fixture();
        let mut org = f.owner();
        let mut rng = seeded(ORG_SEED ^ 0xff);
        let bytes = seed("org_request", name);
        frames(&bytes)
            .map(|frame| org.handle_request(frame.message, FIXTURE_NOW_MS, &mut rng))
            .collect()
    }

    #[test]
    fn request_seeds_reach_the_paths_they_are_named_after() {
        use RequestOutcome::{Accepted, Cancelled, Left, Pending};
        let f = org_fixture();
        let [alice, bob, carol, dave, erin, _] = f.people.each_ref().map(|p| p.member);
        let _ = alice;
        let one = |name: &str| requests(name).remove(0);
        assert_eq!(one("dave-joins"), Ok(Pending { member: dave }));
        assert_eq!(one("dave-joins-general"), Ok(Pending { member: dave }));
        assert_eq!(
            requests("dave-joins-twice")[1],
            Err(RequestError::Stale { stored: 1, received: 1 })
        );
        assert_eq!(requests("dave-joins-then-cancels")[1], Ok(Cancelled { member: dave }));
        assert_eq!(one("carol-cancels"), Ok(Cancelled { member: carol }));
        assert_eq!(one("carol-joins-again"), Err(RequestError::Stale { stored: 1, received: 1 }));
        assert!(matches!(one("erin-invited"), Ok(Accepted(a)) if a.member == erin));
        assert!(matches!(
            requests("erin-invited-then-leaves").as_slice(),
            [Ok(Accepted(_)), Ok(Left { member, .. })] if *member == erin
        ));
        assert!(matches!(one("bob-leaves"), Ok(Left { member, .. }) if member == bob));
        assert_eq!(one("alice-joins"), Err(RequestError::AlreadyMember));
        assert_eq!(one("banned-joins"), Err(RequestError::Banned));
        assert_eq!(
            one("dave-joins-unknown-channel"),
            Err(RequestError::Flow(FlowError::UnknownChannel))
        );
        assert_eq!(one("dave-with-erins-grant"), Err(RequestError::Grant(GrantError::WrongMember)));
        assert!(one("request-for-other-org").is_err());
        assert!(one("tampered").is_err());
    }

    #[test]
    fn signed_and_record_seeds_reach_the_paths_they_are_named_after() {
        let f = org_fixture();
        let erin = f.person(ERIN).member;
        let now_ms = FIXTURE_NOW_MS + 5_000;
        assert!(SignedDescription::verify(&f.org, &seed("org_signed", "description")).is_ok());
        let invitation = Invitation::verify(&seed("org_signed", "invitation"), &erin, now_ms);
        assert_eq!(invitation.expect("valid").grant().grant().member, erin);
        assert!(
            Invitation::verify(&seed("org_signed", "forged-invitation"), &erin, now_ms).is_err()
        );
        assert!(SignedGrant::verify(&seed("org_signed", "grant"), &f.org, &erin, now_ms).is_ok());
        let view = OrganizationView::new(f.org, f.person(BOB).member);
        assert!(view.verify_kick_notice(&seed("org_signed", "kick-notice")).is_ok());
        let text = String::from_utf8(seed("org_signed", "member-id")).expect("text");
        assert_eq!(MemberId::from_text("member", &text), Ok(f.person(BOB).member));

        let owner = OrganizationRecord::from_bytes(seed("org_record", "owner"));
        assert_eq!(Organization::from_record(&owner).expect("loads").id(), f.org);
        for name in ["bob-view", "alice-view", "new-view"] {
            let record = OrganizationViewRecord::from_bytes(seed("org_record", name));
            assert_eq!(OrganizationView::from_record(&record).expect("loads").org(), &f.org);
        }
        let version_2 = OrganizationRecord::from_bytes(seed("org_record", "owner-version-2"));
        assert!(matches!(
            Organization::from_record(&version_2),
            Err(DecodeError::Version { got: 2 })
        ));
    }

    #[test]
    fn fixture_is_the_documented_history() {
        let f = org_fixture();
        let org = f.owner();
        let d = org.description();
        let [alice, bob, carol, dave, erin, mallory] = f.people.each_ref().map(|p| p.member);
        assert!(d.is_member(&alice) && d.is_member(&bob));
        assert!(!d.is_member(&carol) && !d.is_member(&dave) && !d.is_member(&erin));
        assert!(d.banned().contains(&mallory));
        assert_eq!(org.pending().keys().copied().collect::<Vec<_>>(), [carol]);
        let view = f.bob_view();
        assert_eq!(view.description().map(|d| d.clock()), Some(d.clock()));
        let staff = view.channel_key_group(&channel("staff")).expect("a private channel");
        assert_eq!(view.epochs(&staff), [Epoch(1)]);
        assert_eq!(view.epochs(&f.org.group()), [Epoch(2)]);
        assert_eq!(Person::new(BOB).member, bob, "each person from its own generator");
    }
}
