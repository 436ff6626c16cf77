//! Crash safety: Alice runs in a child process (this test binary again) exchanging messages
//! with Bob over two relay nodes on loopback, and is killed with SIGKILL at random points and
//! restarted, repeatedly. Afterwards nothing is lost, nothing is duplicated, and the session
//! still works both ways.
//!
//! The run exchanges `DEFAULT_MESSAGES` (5,000) messages each way with `KILLS` kills; Alice
//! sends in windows of `WINDOW` concurrent sends, so kills also land inside group commits.
//! `KAIWA_CRASH_MESSAGES=n` runs another count; `KAIWA_CRASH_SEED=s` replays the kill points
//! of a run (each run prints its seed).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use kaiwa::{ChatId, Client, Direction, Environment, Event, Profile};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng as _, SeedableRng};

use crate::relay::{address, config, connect, node, texts};

const DEFAULT_MESSAGES: usize = 5_000;
const KILLS: usize = 5;
/// Alice's concurrent sends.
const WINDOW: usize = 32;
const CHILD: &str = "KAIWA_CRASH_CHILD_DIR";
const PARENT_ADDRESS: &str = "KAIWA_CRASH_PARENT";
const BOB_CODE: &str = "KAIWA_CRASH_BOB";
const COUNT: &str = "KAIWA_CRASH_MESSAGES";
const SEED: &str = "KAIWA_CRASH_SEED";

fn count() -> usize {
    std::env::var(COUNT).ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MESSAGES)
}

/// The index of a text `prefix-{i}`.
fn index(text: &str, prefix: &str) -> Option<usize> {
    text.strip_prefix(prefix)?.strip_prefix('-')?.parse().ok()
}

/// Alice: send every `a-{i}` her history lacks (concurrent sends commit in any order, so a
/// kill can leave gaps below the highest sent index), until all are sent and all of Bob's
/// echoes have arrived.
async fn alice(dir: String, parent: String, bob_code: String, n: usize) {
    let relay = node(false).await;
    connect(&relay, parent.parse().unwrap()).await;
    let profile = Profile::open_dir(&dir).unwrap();
    let environment = Environment::system().unwrap();
    let client = if profile.has_account().unwrap() {
        Client::open(profile, relay, config(), environment).await.unwrap()
    } else {
        Client::create(profile, relay, config(), environment).await.unwrap()
    };
    let bob = client.add_contact(&bob_code, "bob").await.unwrap();
    let sent: BTreeSet<usize> = texts(&client, bob)
        .await
        .iter()
        .filter(|(d, _)| *d == Direction::Outbound)
        .filter_map(|(_, t)| index(t, "a"))
        .collect();
    let missing: Vec<usize> = (0..n).filter(|i| !sent.contains(i)).collect();
    for window in missing.chunks(WINDOW) {
        let sends = window.iter().map(|i| {
            let client = client.clone();
            async move { client.send_text(&ChatId::Direct(bob), &format!("a-{i}")).await }
        });
        futures::future::try_join_all(sends).await.unwrap();
    }
    loop {
        let received = client.chats().await.unwrap().first().map_or(0, |c| c.messages);
        if received >= u64::try_from(2 * n).unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.flush().await.unwrap();
    client.shutdown().await;
}

fn spawn_alice(
    dir: &std::path::Path,
    parent: &str,
    bob_code: &str,
    n: usize,
) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["crash::alice_survives_sigkill", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, dir)
        .env(PARENT_ADDRESS, parent)
        .env(BOB_CODE, bob_code)
        .env(COUNT, n.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_survives_sigkill() {
    if let Ok(dir) = std::env::var(CHILD) {
        let parent = std::env::var(PARENT_ADDRESS).unwrap();
        let code = std::env::var(BOB_CODE).unwrap();
        alice(dir, parent, code, count()).await;
        return;
    }
    let n = count();
    let relay = node(true).await;
    let parent = address(&relay).await.to_string();
    let bob_dir = tempfile::tempdir().unwrap();
    let alice_dir = tempfile::tempdir().unwrap();
    let bob = Client::create(
        Profile::open_dir(bob_dir.path()).unwrap(),
        std::sync::Arc::clone(&relay),
        config(),
        Environment::system().unwrap(),
    )
    .await
    .unwrap();
    let bob_code = bob.contact_code().await.unwrap();

    // Bob answers every `a-i` with `b-i`, once. An echo loop that fell behind the event
    // buffer (`Event::Lagged`) answers from his history instead.
    let echo = bob.clone();
    let mut events = bob.events();
    let echoes = tokio::spawn(async move {
        let answered = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
        let answer = |chat: ChatId, i: usize| {
            if !answered.lock().unwrap().insert(i) {
                return;
            }
            let echo = echo.clone();
            tokio::spawn(async move {
                echo.send_text(&chat, &format!("b-{i}")).await.unwrap();
            });
        };
        while let Some(event) = events.next().await {
            match event {
                Event::Message(m) => {
                    if let kaiwa::Content::Text { text, .. } = &m.content
                        && let Some(i) = index(text, "a")
                    {
                        answer(m.chat.clone(), i);
                    }
                }
                Event::Lagged { missed } => {
                    eprintln!("Bob's echo loop missed {missed} events; answering from history");
                    let chat = echo.chats().await.unwrap()[0].chat.clone();
                    let ChatId::Direct(alice) = chat else { panic!("Bob's only chat is Alice") };
                    for (direction, text) in texts(&echo, alice).await {
                        if direction == Direction::Inbound
                            && let Some(i) = index(&text, "a")
                        {
                            answer(chat.clone(), i);
                        }
                    }
                }
                _ => {}
            }
        }
    });

    // Kill points: random message counts between 5 % and 90 % of the exchange (so every kill
    // lands in its middle, however fast the machine), each plus a random 0-50 ms.
    // A new seed every run (so runs cover different kill points), printed to replay a failure.
    let seed = std::env::var(SEED).ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        u64::from(now.subsec_nanos()) ^ now.as_secs()
    });
    eprintln!("kill points from {SEED}={seed}");
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let total = u64::try_from(n).unwrap();
    let mut targets: Vec<u64> =
        (0..KILLS).map(|_| total / 20 + u64::from(rng.next_u32()) % (total * 17 / 20)).collect();
    targets.sort_unstable();
    let mut progress = Vec::new();
    for target in targets {
        let mut child = spawn_alice(alice_dir.path(), &parent, &bob_code, n);
        let reached = tokio::time::timeout(Duration::from_secs(120), async {
            while bob.stats().received < target {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(u64::from(rng.next_u32() % 50))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(reached.is_ok(), "the exchange stalled below {target} messages");
        progress.push(bob.stats().received);
    }
    eprintln!("messages Bob had received at each kill: {progress:?} of {n}");
    assert!(progress.iter().all(|&p| p < total), "a kill came after the exchange: {progress:?}");
    let mut child = spawn_alice(alice_dir.path(), &parent, &bob_code, n);
    let finished = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let status = match finished {
        Ok(status) => Some(status),
        Err(_) => {
            child.kill().unwrap();
            child.wait().unwrap();
            None
        }
    };

    // Open Alice's profile here and check both histories: each message exactly once.
    let alice_relay = node(false).await;
    connect(&alice_relay, parent.parse().unwrap()).await;
    let alice = Client::open(
        Profile::open_dir(alice_dir.path()).unwrap(),
        alice_relay,
        config(),
        Environment::system().unwrap(),
    )
    .await
    .unwrap();
    match status {
        Some(status) => assert!(status.success(), "Alice's last run failed"),
        None => panic!("Alice did not finish in 120 s: {}", gaps(&alice, &bob, n).await),
    }
    let tally = |texts: Vec<(Direction, String)>, direction, prefix| {
        let mut seen = BTreeMap::new();
        for (d, t) in texts {
            if d == direction
                && let Some(i) = index(&t, prefix)
            {
                *seen.entry(i).or_insert(0usize) += 1;
            }
        }
        seen
    };
    let every_once: BTreeMap<usize, usize> = (0..n).map(|i| (i, 1)).collect();
    let alice_history = texts(&alice, bob.public_id()).await;
    assert_eq!(tally(alice_history.clone(), Direction::Outbound, "a"), every_once);
    assert_eq!(tally(alice_history, Direction::Inbound, "b"), every_once);
    let bob_history = texts(&bob, alice.public_id()).await;
    assert_eq!(tally(bob_history.clone(), Direction::Inbound, "a"), every_once);
    assert_eq!(tally(bob_history, Direction::Outbound, "b"), every_once);

    // The session is in sync: one more message each way decrypts.
    let mut alice_events = alice.events();
    echoes.abort();
    let mut bob_events = bob.events();
    bob.send_text(&ChatId::Direct(alice.public_id()), "last from bob").await.unwrap();
    let got = crate::support::wait_for(&mut alice_events, crate::support::text).await;
    assert_eq!(got.1, "last from bob");
    alice.send_text(&ChatId::Direct(bob.public_id()), "last from alice").await.unwrap();
    let got = crate::support::wait_for(&mut bob_events, |e| {
        crate::support::text(e).filter(|(_, t)| t == "last from alice")
    })
    .await;
    assert_eq!(got.1, "last from alice");
    alice.shutdown().await;
    bob.shutdown().await;
}

/// What each side lacks of the other's messages (for a failure message).
async fn gaps(alice: &Client, bob: &Client, n: usize) -> String {
    let indices = |texts: &[(Direction, String)], direction, prefix| -> BTreeSet<usize> {
        texts
            .iter()
            .filter(|(d, _)| *d == direction)
            .filter_map(|(_, t)| index(t, prefix))
            .collect()
    };
    let alice_history = texts(alice, bob.public_id()).await;
    let bob_history = texts(bob, alice.public_id()).await;
    let (a_sent, b_sent) = (
        indices(&alice_history, Direction::Outbound, "a"),
        indices(&bob_history, Direction::Outbound, "b"),
    );
    let (a_got, b_got) = (
        indices(&bob_history, Direction::Inbound, "a"),
        indices(&alice_history, Direction::Inbound, "b"),
    );
    let lost_a: Vec<_> = a_sent.difference(&a_got).take(20).collect();
    let mut statuses = Vec::new();
    let chat = ChatId::Direct(bob.public_id());
    let mut before = None;
    while let Ok(page) = alice.history(&chat, before, 1_000).await {
        let Some(first) = page.first() else { break };
        before = Some(kaiwa::HistoryCursor { clock: first.clock, id: first.id });
        for m in &page {
            if let kaiwa::Content::Text { text, .. } = &m.content
                && index(text, "a").is_some_and(|i| lost_a.contains(&&i))
            {
                statuses.push((text.clone(), m.status));
            }
        }
    }
    let lost_b: Vec<_> = b_sent.difference(&b_got).take(20).collect();
    format!(
        "Alice sent {} of {n}, Bob received {} (Alice's sent but not received: {lost_a:?}, in her history as {statuses:?}); \
         Bob sent {}, Alice received {} (Bob's sent but not received: {lost_b:?}); \
         Alice's client after reopening: {:?}",
        a_sent.len(),
        a_got.len(),
        b_sent.len(),
        b_got.len(),
        alice.stats(),
    )
}
