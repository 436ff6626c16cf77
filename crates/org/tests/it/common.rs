//! Shared helpers: people, a seeded RNG, delivery of updates.

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair};
use kaiwa_org::{
    Access, MemberId, MemberKeys, OrgConfig, OrgId, Organization, OrganizationView, Update,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

pub(crate) const NOW: u64 = 1_700_000_000_000;

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// An account: identity key, X25519 key, member id.
pub(crate) struct Person {
    pub(crate) id: IdentityKeyPair,
    pub(crate) dh: DhKeyPair,
    pub(crate) member: MemberId,
}

impl Person {
    pub(crate) fn new(rng: &mut ChaCha20Rng) -> Self {
        let id = IdentityKeyPair::generate(rng);
        let dh = DhKeyPair::generate(rng);
        let member = MemberId::from_key(&id.public_key());
        Self { id, dh, member }
    }

    pub(crate) fn keys(&self) -> MemberKeys {
        MemberKeys { id: self.member, dh_key: self.dh.public_key() }
    }

    pub(crate) fn view(&self, org: OrgId) -> OrganizationView {
        OrganizationView::new(org, self.member)
    }
}

/// Creates an organization founded by `founder`.
pub(crate) fn create(
    founder: &Person,
    access: Access,
    encrypted: bool,
    rng: &mut ChaCha20Rng,
) -> (Organization, Update) {
    let mut config = OrgConfig::new("kaiwa", access);
    config.encrypted = encrypted;
    Organization::create(
        IdentityKeyPair::generate(rng),
        DhKeyPair::generate(rng),
        founder.keys(),
        config,
        NOW,
        rng,
    )
    .unwrap()
}

/// Applies an update's description messages (whole or segmented), then its re-key parts.
/// Returns how many re-key parts installed a key.
pub(crate) fn deliver(view: &mut OrganizationView, update: &Update, dh: &DhKeyPair) -> usize {
    deliver_description(view, update);
    deliver_rekeys(view, update, dh)
}

pub(crate) fn deliver_description(view: &mut OrganizationView, update: &Update) {
    if update.description.len() == 1 {
        view.apply_description(&update.description[0]).unwrap();
    } else {
        for segment in &update.description {
            view.apply_segment(segment).unwrap();
        }
    }
}

pub(crate) fn deliver_rekeys(
    view: &mut OrganizationView,
    update: &Update,
    dh: &DhKeyPair,
) -> usize {
    update
        .rekeys
        .iter()
        .filter(|part| {
            matches!(view.apply_rekey(part, dh), Ok(kaiwa_org::RekeyOutcome::Installed { .. }))
        })
        .count()
}

/// A view of `person` that has the organization's current description.
pub(crate) fn follow(org: &Organization, person: &Person) -> OrganizationView {
    let mut view = person.view(org.id());
    let messages = org.republish();
    if messages.len() == 1 {
        view.apply_description(&messages[0]).unwrap();
    } else {
        for m in &messages {
            view.apply_segment(m).unwrap();
        }
    }
    view
}
