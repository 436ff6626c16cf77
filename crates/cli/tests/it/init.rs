//! `kaiwa init`.

use std::time::Duration;

use kaiwa_session::AccountStore as _;

use super::support::{field, init, kaiwa, run};

#[test]
fn init_creates_a_profile_and_prints_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = init(dir.path(), "default");
    let profile = dir.path().join("default");
    assert!(profile.join(kaiwa::DATABASE_FILE).is_file());
    // Everything is in the database; no side file.
    assert!(!profile.join(kaiwa::LEGACY_STATE_FILE).exists());

    let id = field(&stdout, "id: ");
    assert!(id.starts_with("0x") && id.len() == 66, "{id}");
    assert!(field(&stdout, "contact code: ").starts_with("KAIWA:"));

    // The secrets, read back from the profile the program wrote.
    let store = kaiwa_store::Store::open(profile.join(kaiwa::DATABASE_FILE)).unwrap();
    assert!(store.load_account().unwrap().is_some());
    let account = kaiwa_session::load_account(&store).unwrap();
    assert_eq!(format!("0x{}", hex::encode(account.identity_key().to_bytes())), id);
    let secrets: [&[u8]; 2] =
        [account.identity().expose_secret(), account.identity_dh().expose_secret()];
    for secret in secrets {
        for form in [hex::encode(secret), hex::encode_upper(secret)] {
            assert!(!stdout.contains(&form), "a secret key is printed");
        }
        assert!(!stdout.as_bytes().windows(secret.len()).any(|w| w == secret));
    }
    // No other 64-hex-digit run than the public id.
    let runs: Vec<&str> =
        stdout.split(|c: char| !c.is_ascii_hexdigit()).filter(|run| run.len() >= 64).collect();
    assert_eq!(runs, [&id[2..]], "unexpected long hex in:\n{stdout}");
}

#[test]
fn a_second_init_is_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), "default");
    let mut again = kaiwa(dir.path());
    again.arg("init");
    let output = run(again, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("kaiwa: error: ") && stderr.contains("already holds an account"));
    assert!(!stderr.contains("panicked"));
}

#[test]
fn profiles_are_separate_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let a = field(&init(dir.path(), "a"), "id: ");
    let b = field(&init(dir.path(), "b"), "id: ");
    assert_ne!(a, b);
    let mut bad = kaiwa(dir.path());
    bad.args(["--profile", "../escape", "init"]);
    let output = run(bad, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(1));
    assert!(!dir.path().parent().unwrap().join("escape").exists());
}
