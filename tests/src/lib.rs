//! kaiwa's workspace-level scenario tests: several parties, whole flows, across crates, over
//! the simulated Waku network of kaiwa-transport.
//!
//! The tests are the `it` test binary (`tests/it.rs`, one module per flow under `tests/it/`):
//! a private group of four with a removal (issue 4), an organization joined by its three paths
//! with a ban (issue 6), and a sealed signed envelope. They run on a scenario harness whose
//! sources sit beside this file (`harness.rs`, `peer.rs`, `peer/`, `frame.rs`, `network.rs`,
//! `limits.rs`, `error.rs`): a `Peer` owns an identity, its 1:1 sessions, a node of the shared
//! simulated network, its subscriptions, its groups and its organizations, and wires the
//! sans-IO crates together as the future `kaiwa` facade will (and will replace it).
//!
//! **This library is empty on purpose.** The layering table (`cargo xtask layers`) allows
//! `kaiwa-tests` no normal dependency on a kaiwa crate, so the harness cannot be compiled here;
//! the test binary, which may use dev-dependencies, loads it with `#[path]`.
//!
//! # Invariants of the scenarios
//!
//! - Deterministic: every random choice (keys, nonces, link faults) comes from seeds the test
//!   names, and time is the simulated network's virtual clock; each scenario also runs over
//!   several seeds.
//! - Assertions are exact: who received what (each exactly once), the full group state and
//!   log, the owner's description, the epochs each member holds, and every refusal a peer
//!   recorded.
//!
//! # Example
//!
//! ```text
//! let network = SimNetwork::with_config(seed, SimConfig::default().with_faults(faults()));
//! let mut peers = vec![Peer::new(&network, "alice", 1)?, Peer::new(&network, "bob", 2)?];
//! let bob = peers[1].id();
//! let chat = peers[0].create_group("friends", &[bob])?;   // fanned out over 1:1 sessions
//! settle(&mut peers)?;                                      // run the network, pump everyone
//! peers[1].join_group(&chat)?;
//! ```
