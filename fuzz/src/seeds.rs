//! The seed corpus: small valid (and a few deliberately broken) inputs for every target, made
//! with the crates' own APIs from seeded generators, so the same bytes come out on every run.
//!
//! `cargo run --example gen_corpus` writes them to `corpus/<target>/<name>`; the tests below
//! check that the committed corpus is exactly what [`seeds`] produces and that every seed runs
//! through its target.

use crate::convergence::convergence_seeds;
use crate::crypto::crypto_seeds;
use crate::group::group_seeds;
use crate::org::org_seeds;
use crate::session::session_seeds;
use crate::transport::transport_seeds;

/// One seed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target it belongs to.
    pub target: &'static str,
    /// Its file name in `corpus/<target>/`: what it is, e.g. `forged-signature`.
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
}

/// Every seed of every target, in a fixed order.
pub fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    let mut push = |target: &'static str, name: &str, bytes: Vec<u8>| {
        out.push(Seed { target, name: name.to_owned(), bytes });
    };
    crypto_seeds(&mut push);
    transport_seeds(&mut push);
    group_seeds(&mut push);
    convergence_seeds(&mut push);
    session_seeds(&mut push);
    org_seeds(&mut push);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::targets::TARGETS;

    fn corpus_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
    }

    #[test]
    fn every_target_has_seeds_and_names_are_unique() {
        let seeds = seeds();
        for target in TARGETS {
            let names: Vec<_> =
                seeds.iter().filter(|s| s.target == target.name).map(|s| &s.name).collect();
            assert!(names.len() >= 2, "{} has too few seeds", target.name);
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), names.len(), "{} has duplicate seed names", target.name);
        }
        assert!(seeds.iter().all(|s| TARGETS.iter().any(|t| t.name == s.target)));
        // About 27 KB for kaiwa-crypto, kaiwa-transport and kaiwa-group, 38 KB for
        // kaiwa-session and kaiwa-org: real messages, so that mutations start past the decoders.
        let total: usize = seeds.iter().map(|s| s.bytes.len()).sum();
        assert!(total < 80 * 1024, "the corpus must stay small: {total} bytes");
    }

    #[test]
    fn seeds_are_deterministic() {
        assert_eq!(seeds(), seeds());
    }

    /// The committed corpus is the generator's output (regenerate with
    /// `cargo run --example gen_corpus` and review the diff).
    #[test]
    fn committed_corpus_is_generated() {
        let mut committed = BTreeMap::new();
        for target in TARGETS {
            let dir = corpus_dir().join(target.name);
            for entry in std::fs::read_dir(&dir).expect("every target has a corpus directory") {
                let path = entry.expect("readable directory").path();
                let name = path.file_name().and_then(|n| n.to_str()).expect("UTF-8 name");
                committed.insert(
                    (target.name, name.to_owned()),
                    std::fs::read(&path).expect("readable seed"),
                );
            }
        }
        let generated: BTreeMap<_, _> =
            seeds().into_iter().map(|s| ((s.target, s.name), s.bytes)).collect();
        assert_eq!(
            committed.keys().collect::<Vec<_>>(),
            generated.keys().collect::<Vec<_>>(),
            "run `cargo run --example gen_corpus`"
        );
        for (key, bytes) in &generated {
            assert!(committed.get(key) == Some(bytes), "seed {key:?} differs from the generator");
        }
    }

    /// Every committed seed, and every saved crash input (`tests/regressions/<target>/`),
    /// through the exact body libFuzzer runs.
    #[test]
    fn committed_corpus_runs_through_its_targets() {
        let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
        for target in TARGETS {
            let dir = corpus_dir().join(target.name);
            for entry in std::fs::read_dir(&dir).expect("every target has a corpus directory") {
                (target.run)(&std::fs::read(entry.expect("entry").path()).expect("readable"));
            }
            if let Ok(saved) = std::fs::read_dir(regressions.join(target.name)) {
                for entry in saved {
                    (target.run)(&std::fs::read(entry.expect("entry").path()).expect("readable"));
                }
            }
        }
    }
}
