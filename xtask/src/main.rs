//! Repository automation for kaiwa, run as `cargo xtask <command>`.
//!
//! - `codegen [--check]`: regenerate `crates/wire/src/gen*` from `proto/` (protox + prost-build,
//!   no `protoc`); with `--check`, fail if the checked-in code differs or a stale file exists.
//! - `layers`: fail on any workspace dependency edge not allowed by the layering table.

mod codegen;
mod layers;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

fn main() -> anyhow::Result<()> {
    let root = workspace_root()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => codegen::codegen(&root, codegen::Mode::Write).map(|_| ()),
        ["codegen", "--check"] => codegen::codegen(&root, codegen::Mode::Check).map(|_| ()),
        ["layers"] => layers::check(&root),
        _ => bail!("usage: cargo xtask (codegen [--check] | layers)"),
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> anyhow::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("xtask lives one level below the workspace root")
}
