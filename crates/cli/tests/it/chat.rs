//! Two `kaiwa chat` processes exchanging messages over loopback, through piped stdin.

use std::time::Duration;

use super::support::{Interactive, init, kaiwa};

const PATIENCE: Duration = Duration::from_secs(30);

fn start(dir: &std::path::Path, profile: &str, peer: Option<&str>) -> Interactive {
    let mut command = kaiwa(dir);
    command.args(["--profile", profile, "chat", "--listen", "/ip4/127.0.0.1/tcp/0"]);
    if let Some(peer) = peer {
        command.args(["--peer", peer]);
    }
    Interactive::start(command)
}

fn after<'a>(prefix: &'a str) -> impl FnMut(&str) -> Option<String> + 'a {
    move |line| line.strip_prefix(prefix).map(|rest| rest.trim().to_owned())
}

#[test]
fn two_processes_chat_over_loopback() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path(), "a");
    init(dir.path(), "b");

    let mut alice = start(dir.path(), "a", None);
    let address = alice.wait_for(PATIENCE, after("listening on "));
    assert!(address.starts_with("/ip4/127.0.0.1/tcp/") && address.contains("/p2p/"), "{address}");
    let alice_code = alice.wait_for(PATIENCE, after("contact code: "));

    let mut bob = start(dir.path(), "b", Some(&address));
    let bob_code = bob.wait_for(PATIENCE, after("contact code: "));

    alice.send(&format!("/add {bob_code} bob"));
    alice.wait_for(PATIENCE, |l| l.starts_with("* added bob").then_some(()));
    bob.send(&format!("/add {alice_code} alice"));
    bob.wait_for(PATIENCE, |l| l.starts_with("* added alice").then_some(()));

    bob.send("/msg alice hello from bob");
    alice.wait_for(PATIENCE, |l| (l == "[bob] hello from bob").then_some(()));
    alice.send("/msg bob hi back, bob");
    bob.wait_for(PATIENCE, |l| (l == "[alice] hi back, bob").then_some(()));

    // Errors are one line and the session goes on.
    alice.send("/msg nobody hello");
    alice.wait_for(PATIENCE, |l| l.starts_with("error: no such contact").then_some(()));
    alice.send("/contacts");
    alice.wait_for(PATIENCE, |l| l.contains("  bob").then_some(()));

    alice.send("/quit");
    assert!(alice.finish(PATIENCE).success());
    assert!(bob.finish(PATIENCE).success(), "end of input ends the session");
}
