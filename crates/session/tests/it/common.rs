//! Shared helpers: devices (an account, a manager, a store and a seeded RNG).

use kaiwa_crypto::{DhKeyPair, IdentityKeyPair, IdentityPublicKey};
use kaiwa_session::{
    Account, InMemorySessionStore, InstallationId, OutgoingMessage, Received, SessionConfig,
    SessionManager, Timestamp,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

pub(crate) const T0: u64 = 1_700_000_000_000;

pub(crate) fn at(ms: u64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub(crate) struct Device {
    pub(crate) manager: SessionManager,
    pub(crate) store: InMemorySessionStore,
    pub(crate) rng: ChaCha20Rng,
}

/// Identity keys that several installations of one account share.
pub(crate) struct Identity {
    signing: [u8; 32],
    dh: [u8; 32],
}

impl Identity {
    pub(crate) fn generate(seed: u64) -> Self {
        let mut rng = rng(seed);
        let signing = *IdentityKeyPair::generate(&mut rng).expose_secret();
        let dh = *DhKeyPair::generate(&mut rng).expose_secret();
        Self { signing, dh }
    }

    pub(crate) fn device(&self, installation: &str, seed: u64, config: SessionConfig) -> Device {
        let mut rng = rng(seed);
        let account = Account::with_identity(
            IdentityKeyPair::from_secret_bytes(&mut self.signing.clone()),
            DhKeyPair::from_secret_bytes(&mut self.dh.clone()),
            InstallationId::new(installation).unwrap(),
            &mut rng,
            at(0),
        );
        Device {
            manager: SessionManager::new(account, config, at(0)),
            store: InMemorySessionStore::new(),
            rng,
        }
    }
}

pub(crate) fn device(seed: u64, installation: &str) -> Device {
    Identity::generate(seed).device(installation, seed + 1000, SessionConfig::default())
}

impl Device {
    pub(crate) fn identity(&self) -> IdentityPublicKey {
        self.manager.account().identity_key()
    }

    pub(crate) fn installation(&self) -> InstallationId {
        self.manager.account().installation_id().clone()
    }

    pub(crate) fn learn(&mut self, other: &Device) {
        let bundle = other.manager.bundle().clone();
        self.manager.process_bundle(&mut self.store, &bundle).unwrap();
    }

    pub(crate) fn send(
        &mut self,
        to: &IdentityPublicKey,
        text: &[u8],
        now: Timestamp,
    ) -> OutgoingMessage {
        self.manager.encrypt(&mut self.store, to, text, &mut self.rng, now).unwrap()
    }

    pub(crate) fn recv(&mut self, msg: &OutgoingMessage, now: Timestamp) -> Received {
        self.manager.receive(&mut self.store, msg.as_bytes(), &mut self.rng, now).unwrap()
    }

    /// Receives and expects a decrypted message with this text; returns the sender's
    /// installation.
    pub(crate) fn expect_text(
        &mut self,
        msg: &OutgoingMessage,
        text: &[u8],
        now: Timestamp,
    ) -> InstallationId {
        match self.recv(msg, now) {
            Received::Message { from, plaintext } => {
                assert_eq!(plaintext.as_slice(), text);
                from.installation
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }

    pub(crate) fn active_session_id(&self, peer: &Device) -> Option<kaiwa_session::SessionId> {
        let address = kaiwa_session::PeerAddress {
            identity: peer.identity(),
            installation: peer.installation(),
        };
        self.manager.session(&self.store, &address).unwrap().map(|s| s.id())
    }
}
