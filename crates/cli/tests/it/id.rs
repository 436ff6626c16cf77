//! `kaiwa id`.

use std::time::Duration;

use super::support::{field, init, kaiwa, run};

fn id(data_dir: &std::path::Path, profile: &str, args: &[&str]) -> String {
    let mut command = kaiwa(data_dir);
    command.args(["--profile", profile, "id"]).args(args);
    let output = run(command, Duration::from_secs(30));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn id_prints_the_id_the_code_its_qr_and_writes_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let created = init(dir.path(), "default");
    let png = dir.path().join("me.png");
    let stdout = id(dir.path(), "default", &["--png", png.to_str().unwrap()]);
    assert_eq!(field(&stdout, "id: "), field(&created, "id: "));
    // The code is re-signed at each start (its bundle carries a timestamp); both verify and
    // name the same identity.
    for code in [field(&stdout, "contact code: "), field(&created, "contact code: ")] {
        let now = kaiwa_session::Timestamp::from_millis(
            u64::try_from(std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap().as_millis())
                .unwrap(),
        );
        let bundle = kaiwa_session::decode_contact_code(&code, now, 3).unwrap();
        assert_eq!(
            format!("0x{}", hex::encode(bundle.identity().to_bytes())),
            field(&stdout, "id: ")
        );
    }

    // The QR code: a square of half blocks, as wide as it is tall in modules.
    let qr: Vec<&str> =
        stdout.lines().filter(|l| !l.is_empty() && l.chars().all(|c| " ▀▄█".contains(c))).collect();
    let side = qr[0].chars().count();
    assert!(side >= 21 + 8, "{side}");
    assert!(qr.iter().all(|l| l.chars().count() == side));
    assert_eq!(qr.len(), side.div_ceil(2));

    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!(width, height);
    assert_eq!(width as usize, side * 8, "8 px per module, same modules as the terminal");
    assert_eq!(bytes[24], 8, "bit depth");
    assert_eq!(bytes[25], 0, "greyscale");
}

#[test]
fn safety_numbers_agree_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let a = field(&init(dir.path(), "a"), "id: ");
    let b = field(&init(dir.path(), "b"), "id: ");
    let from_a = id(dir.path(), "a", &["--no-qr", "--with", &b]);
    let from_b = id(dir.path(), "b", &["--no-qr", "--with", &a]);
    let number = |stdout: &str| {
        let line = stdout
            .lines()
            .skip_while(|l| !l.starts_with("safety number with"))
            .nth(1)
            .unwrap()
            .trim()
            .to_owned();
        assert_eq!(line.split(' ').count(), 12, "{line}");
        assert!(line.split(' ').all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
        line
    };
    assert_eq!(number(&from_a), number(&from_b));
    assert!(!from_a.contains('█'), "--no-qr");
}

#[test]
fn id_without_an_account_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = kaiwa(dir.path());
    command.arg("id");
    let output = run(command, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("run `kaiwa init` first"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
}
