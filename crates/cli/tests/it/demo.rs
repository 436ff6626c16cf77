//! `kaiwa demo` exits 0: every expected delivery and every expected refusal happened.

use std::time::Duration;

use super::support::{kaiwa, run};

#[test]
fn the_demo_passes_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = kaiwa(dir.path());
    command.arg("demo");
    let output = run(command, Duration::from_secs(120));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for act in ["act 1/4", "act 2/4", "act 3/4", "act 4/4"] {
        assert!(stdout.contains(&format!("✓ {act} done")), "{act} in:\n{stdout}");
    }
    assert!(stdout.contains("summary") && !stdout.contains('✗'), "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("all ") && last.ends_with(" checks passed"), "{last}");
}
