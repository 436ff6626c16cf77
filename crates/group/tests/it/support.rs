//! Shared helpers: seeded keys, clocks and small group fixtures.

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::{Group, IncomingMessage, MemberId, OutgoingMessage, ReceiveOutcome};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// A fixed "now" for tests (2023-11-14), in Unix milliseconds.
pub(crate) const NOW: u64 = 1_700_000_000_000;

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub(crate) fn keypair(seed: u64) -> IdentityKeyPair {
    IdentityKeyPair::generate(&mut rng(seed))
}

pub(crate) fn id(key: &IdentityKeyPair) -> MemberId {
    MemberId::new(key.public_key())
}

/// Delivers `out` to `group` as if sent by `sender`.
pub(crate) fn deliver(
    group: &mut Group,
    out: &OutgoingMessage,
    sender: &IdentityKeyPair,
    now: u64,
) -> ReceiveOutcome {
    group.receive(IncomingMessage::decode(&out.bytes).unwrap(), &id(sender), now).unwrap()
}

/// Alice (creator, admin), Bob (admin), Carol and Frank (joined members), Dave and Grace
/// (invited), Erin and Heidi (outsiders).
pub(crate) struct Cast {
    pub(crate) alice: IdentityKeyPair,
    pub(crate) bob: IdentityKeyPair,
    pub(crate) carol: IdentityKeyPair,
    pub(crate) dave: IdentityKeyPair,
    pub(crate) erin: IdentityKeyPair,
    pub(crate) frank: IdentityKeyPair,
    pub(crate) grace: IdentityKeyPair,
    pub(crate) heidi: IdentityKeyPair,
}

impl Cast {
    pub(crate) fn new() -> Self {
        Self {
            alice: keypair(1),
            bob: keypair(2),
            carol: keypair(3),
            dave: keypair(4),
            erin: keypair(5),
            frank: keypair(6),
            grace: keypair(7),
            heidi: keypair(8),
        }
    }

    /// Alice's view of a group with every role filled, built through the public API.
    pub(crate) fn group(&self) -> Group {
        let (mut g, _) = Group::create(
            &self.alice,
            "team",
            "#112233",
            &[id(&self.bob), id(&self.carol), id(&self.dave), id(&self.frank), id(&self.grace)],
            &mut rng(100),
            NOW,
        )
        .unwrap();
        let mut t = NOW;
        let mut next = || {
            t += 1;
            t
        };
        // Bob and Carol join by sending their own signed events, which Alice receives.
        for joiner in [&self.bob, &self.carol, &self.frank] {
            let mut theirs = g.clone();
            let out = theirs.join(joiner, next()).unwrap();
            let outcome = deliver(&mut g, &out, joiner, next());
            assert_eq!(outcome.accepted.len(), 1);
        }
        g.add_admins(&self.alice, &[id(&self.bob)], next()).unwrap();
        g
    }
}
