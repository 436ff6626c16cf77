//! `cargo xtask layers`: the crate layering rule (STYLE.md §3.2) as a check.
//!
//! Every workspace crate must appear in [`ALLOWED`], and each of its normal and build
//! dependencies on another workspace crate must be listed there. Dev-dependencies are free,
//! except that `kaiwa-test-support` may only ever be a dev-dependency.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, ensure};
use serde_json::Value;

/// Workspace crates each crate may depend on (normal and build dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("kaiwa-wire", &[]),
    ("kaiwa-crypto", &[]),
    ("kaiwa-transport", &["kaiwa-wire"]),
    ("kaiwa-relay", &["kaiwa-wire", "kaiwa-transport"]),
    ("kaiwa-session", &["kaiwa-crypto", "kaiwa-wire"]),
    ("kaiwa-group", &["kaiwa-crypto", "kaiwa-wire"]),
    ("kaiwa-org", &["kaiwa-crypto", "kaiwa-wire"]),
    ("kaiwa-store", &["kaiwa-wire", "kaiwa-session", "kaiwa-group", "kaiwa-org"]),
    (
        "kaiwa",
        &[
            "kaiwa-wire",
            "kaiwa-crypto",
            "kaiwa-transport",
            "kaiwa-relay",
            "kaiwa-session",
            "kaiwa-group",
            "kaiwa-org",
            "kaiwa-store",
        ],
    ),
    ("kaiwa-cli", &["kaiwa"]),
    ("kaiwa-test-support", &[]),
    ("kaiwa-tests", &[]),
    ("xtask", &[]),
];

/// The crate that may only be a dev-dependency.
const DEV_ONLY: &str = "kaiwa-test-support";

/// Runs `cargo metadata` for the workspace at `root` and checks it.
pub(crate) fn check(root: &Path) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("running cargo metadata")?;
    ensure!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).context("parsing cargo metadata")?;
    let violations = violations(&metadata);
    ensure!(violations.is_empty(), "layering violations:\n  {}", violations.join("\n  "));
    println!("layers: ok ({} workspace crates checked)", workspace_crates(&metadata).len());
    Ok(())
}

fn workspace_crates(metadata: &Value) -> Vec<&str> {
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect()
}

/// Every edge of `metadata` (cargo metadata JSON) that the table does not allow.
fn violations(metadata: &Value) -> Vec<String> {
    let members = workspace_crates(metadata);
    let mut found = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default();
        let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            found.push(format!("{name} is not in the layering table (xtask/src/layers.rs)"));
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            if !members.contains(&dep_name) {
                continue;
            }
            let dev = dep["kind"].as_str() == Some("dev");
            if dep_name == DEV_ONLY && !dev {
                found.push(format!("{name} -> {dep_name} (only allowed as a dev-dependency)"));
            } else if !dev && !allowed.contains(&dep_name) {
                found.push(format!("{name} -> {dep_name}"));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn package(name: &str, deps: &[(&str, Option<&str>)]) -> Value {
        let deps: Vec<Value> =
            deps.iter().map(|(d, kind)| json!({ "name": d, "kind": kind })).collect();
        json!({ "name": name, "dependencies": deps })
    }

    fn metadata(packages: Vec<Value>) -> Value {
        json!({ "packages": packages })
    }

    #[test]
    fn the_real_workspace_passes() {
        check(&crate::workspace_root().expect("root")).expect("the workspace obeys the table");
    }

    #[test]
    fn an_allowed_graph_passes() {
        let m = metadata(vec![
            package("kaiwa-wire", &[("prost", None)]),
            package("kaiwa-crypto", &[]),
            package("kaiwa-session", &[("kaiwa-wire", None), ("kaiwa-crypto", None)]),
        ]);
        assert_eq!(violations(&m), Vec::<String>::new());
    }

    #[test]
    fn a_forbidden_edge_fails() {
        let m = metadata(vec![
            package("kaiwa-wire", &[]),
            package("kaiwa-crypto", &[("kaiwa-wire", None)]),
        ]);
        assert_eq!(violations(&m), vec!["kaiwa-crypto -> kaiwa-wire".to_owned()]);
    }

    #[test]
    fn a_build_dependency_counts_like_a_normal_one() {
        let m = metadata(vec![
            package("kaiwa-session", &[]),
            package("kaiwa-group", &[("kaiwa-session", Some("build"))]),
        ]);
        assert_eq!(violations(&m), vec!["kaiwa-group -> kaiwa-session".to_owned()]);
    }

    #[test]
    fn dev_dependencies_are_free_but_test_support_is_dev_only() {
        let m = metadata(vec![
            package("kaiwa-crypto", &[]),
            package("kaiwa-test-support", &[]),
            package(
                "kaiwa-wire",
                &[("kaiwa-crypto", Some("dev")), ("kaiwa-test-support", Some("dev"))],
            ),
            package("kaiwa-session", &[("kaiwa-test-support", None)]),
        ]);
        assert_eq!(
            violations(&m),
            vec![
                "kaiwa-session -> kaiwa-test-support (only allowed as a dev-dependency)".to_owned()
            ]
        );
    }

    #[test]
    fn an_unknown_crate_fails() {
        let m = metadata(vec![package("kaiwa-extra", &[])]);
        assert_eq!(violations(&m).len(), 1);
    }
}
