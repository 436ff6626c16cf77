//! Crash safety: a child process commits "processed inbound message" transactions in a
//! loop and is killed with SIGKILL at random points, over and over; after every kill the
//! database opens, every transaction the child reported committed is there, and none is
//! there in part.
//!
//! The child is this test binary, re-run with only this test selected and
//! `KAIWA_STORE_CRASH_CHILD` naming the database. Transaction `n` writes, atomically:
//!
//! ```text
//! processed   key(n)
//! messages    payload "inbound n" (chat with bob, clock n)
//! outbox      payload "reply n", linked to a new outbound message "reply n"
//! peers       bob's record = "state n" ‖ 2 KiB of filler (the ratchet state)
//! account     "account n"
//! ```
//!
//! and prints `committed n` once `commit` returned.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kaiwa_session::{AccountRecord, AccountStore, PeerRecord};
use kaiwa_store::{Direction, NewMessage, Store};
use rand_chacha::rand_core::Rng as _;

use super::common::{alice, at, bob, direct, key, rng, temp_db, waku};

const CHILD_ENV: &str = "KAIWA_STORE_CRASH_CHILD";
const ROUNDS: usize = 24;

fn state(n: u64) -> Vec<u8> {
    let mut bytes = format!("state {n}").into_bytes();
    bytes.resize(2_048, (n % 251) as u8);
    bytes
}

/// The child: continues after the last committed transaction, forever.
fn run_child(path: &Path) -> ! {
    let mut store = Store::open(path).unwrap();
    let mut n = store.history(&direct(bob()), None, 1).unwrap().first().map_or(0, |m| m.clock + 1);
    let mut out = std::io::stdout();
    loop {
        let chat = direct(bob());
        let inbound = format!("inbound {n}");
        let reply = format!("reply {n}");
        let mut tx = store.begin().unwrap();
        assert!(tx.mark_processed(&key(n), at(n)).unwrap());
        tx.insert_message(&NewMessage::received(&chat, bob(), n, at(n), inbound.as_bytes()), at(n))
            .unwrap();
        let ours = tx
            .insert_message(
                &NewMessage::outgoing(&chat, alice(), n, at(n), reply.as_bytes()),
                at(n),
            )
            .unwrap();
        tx.enqueue_outbox(&waku(reply.as_bytes()), Some(ours), at(n)).unwrap();
        tx.store_peer_record(&bob(), &PeerRecord::from_bytes(state(n))).unwrap();
        tx.store_account(&AccountRecord::from_bytes(format!("account {n}").into_bytes())).unwrap();
        tx.commit().unwrap();
        writeln!(out, "committed {n}").unwrap();
        out.flush().unwrap();
        n += 1;
    }
}

/// Checks the database after a kill; returns how many transactions it holds.
fn check(path: &Path, reported: Option<u64>) -> u64 {
    let store = Store::open(path).unwrap();
    let chat = direct(bob());
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = store.history(&chat, before, 1_000).unwrap();
        let Some(first) = page.first() else { break };
        before = Some(first.cursor());
        all.splice(0..0, page);
    }
    let count = (all.len() / 2) as u64;
    assert_eq!(all.len() % 2, 0, "an inbound message without its reply, or the reverse");
    for (n, pair) in (0..count).zip(all.chunks(2)) {
        assert_eq!(pair[0].payload, format!("inbound {n}").as_bytes());
        assert_eq!((pair[0].clock, pair[0].direction), (n, Direction::Inbound));
        assert_eq!(pair[1].payload, format!("reply {n}").as_bytes());
        assert_eq!((pair[1].clock, pair[1].direction), (n, Direction::Outbound));
        assert!(store.is_processed(&key(n)).unwrap());
    }
    assert!(!store.is_processed(&key(count)).unwrap(), "a mark without its message");
    assert_eq!(store.outbox_len().unwrap(), count, "one reply queued per transaction");
    let (mut next, mut after) = (0, None);
    loop {
        let page = store.pending_outbox(after, kaiwa_store::limits::MAX_PAGE).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for entry in &page {
            assert_eq!(entry.message.payload, format!("reply {next}").as_bytes());
            let linked = store.message(entry.history.unwrap()).unwrap().unwrap();
            assert_eq!((linked.clock, linked.direction), (next, Direction::Outbound));
            next += 1;
        }
    }
    assert_eq!(next, count);
    if let Some(last) = count.checked_sub(1) {
        assert_eq!(store.load_peer_record(&bob()).unwrap().unwrap().as_bytes(), state(last));
        assert_eq!(
            store.load_account().unwrap().unwrap().as_bytes(),
            format!("account {last}").as_bytes()
        );
    } else {
        assert_eq!(store.load_peer_record(&bob()).unwrap(), None);
    }
    if let Some(reported) = reported {
        assert!(reported < count, "transaction {reported} was reported committed but is lost");
    }
    count
}

#[test]
fn sigkill_at_random_points_loses_nothing_and_tears_nothing() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        run_child(Path::new(&path));
    }
    let (_dir, path) = temp_db();
    let exe = std::env::current_exe().unwrap();
    // This test's name as libtest knows it: the module path without the crate name.
    let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
    let name = format!("{module}::sigkill_at_random_points_loses_nothing_and_tears_nothing");
    let mut r = rng(70);
    let started = Instant::now();
    let mut count = 0;
    let mut kills_mid_stream = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
        let mut reported = None;
        if round < 3 {
            // Early: likely while the child opens (creates, migrates) the file.
            std::thread::sleep(Duration::from_millis(1 + r.next_u64() % 12));
        } else {
            // Later: after a random number of commits, plus up to 4 ms, so the kill lands
            // anywhere inside a transaction or a commit.
            let target = 1 + r.next_u64() % 80;
            for line in lines.by_ref() {
                if let Some(n) = line.strip_prefix("committed ").and_then(|n| n.parse().ok()) {
                    reported = Some(n);
                    if n >= count + target - 1 {
                        break;
                    }
                }
            }
            std::thread::sleep(Duration::from_micros(r.next_u64() % 4_000));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let rest = lines.filter_map(|line| line.strip_prefix("committed ")?.parse::<u64>().ok());
        let reported = rest.max().max(reported);
        let now = check(&path, reported);
        assert!(now >= count, "committed transactions disappeared");
        kills_mid_stream += usize::from(round >= 3 && now > count);
        count = now;
    }
    eprintln!("{count} transactions over {ROUNDS} kills, {kills_mid_stream} of them mid-stream");
    assert_eq!(kills_mid_stream, ROUNDS - 3, "every later round commits before its kill");
    assert!(started.elapsed() < Duration::from_secs(20));
}
