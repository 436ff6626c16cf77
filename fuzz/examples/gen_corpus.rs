//! Writes the seed corpus: `cargo run --example gen_corpus [DIR]` (default: `corpus/` beside
//! `Cargo.toml`). Each target's directory is replaced by exactly the generated seeds, after
//! every seed has been run through its target once.

use std::path::PathBuf;

use kaiwa_fuzz::{TARGETS, seeds};

fn main() -> std::io::Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"), PathBuf::from);
    let seeds = seeds();
    for target in TARGETS {
        let dir = root.join(target.name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let mut count = 0usize;
        let mut bytes = 0usize;
        for seed in seeds.iter().filter(|s| s.target == target.name) {
            (target.run)(&seed.bytes);
            std::fs::write(dir.join(&seed.name), &seed.bytes)?;
            count += 1;
            bytes += seed.bytes.len();
        }
        println!("{:<26} {count:>3} seeds {bytes:>6} bytes", target.name);
    }
    Ok(())
}
