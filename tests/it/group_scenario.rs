//! Issue 4, point 5: three members create a private group, add a fourth, rename it, exchange
//! messages over pairwise 1:1 sessions on the simulated network with reordering and
//! duplication, remove one member, who then receives nothing new.
//!
//! Dave has a second installation, his laptop, which never sends: everything addressed to
//! Dave must reach both of his installations (one envelope each in every 1:1 message).
//!
//! Every message is checked to reach exactly the intended members exactly once; the group
//! state (name, members and their status, admins, the event log itself) must be identical on
//! every member after each convergence and equal to what the script implies; the removed
//! member's group, inbox and 1:1 session records must not change after the removal, and
//! reading every later message from the store must give it nothing to decrypt.

use core::time::Duration;

use kaiwa_group::{ActionError, MemberId, MemberStatus};
use kaiwa_transport::sim::{LinkFaults, Probability, SimConfig, SimNetwork, TraceEvent};

use crate::harness::{GroupDelivery, HarnessError, Peer, reordered_deliveries, settle};

/// Each seed drives the network's faults and every peer's keys and nonces.
const SEEDS: [u64; 4] = [1, 2, 3, 4];

const ALICE: usize = 0;
const BOB: usize = 1;
const CAROL: usize = 2;
const DAVE: usize = 3;
/// Dave's second installation: same identity, its own node, sessions and group copy.
const DAVE_LAPTOP: usize = 4;

/// The installations (peer indices) of an account.
fn installations(account: usize) -> &'static [usize] {
    match account {
        DAVE => &[DAVE, DAVE_LAPTOP],
        ALICE => &[ALICE],
        BOB => &[BOB],
        _ => &[CAROL],
    }
}

/// Every copy is delayed by 1–120 ms (messages sent 5 ms apart overtake each other) and 30%
/// of copies arrive twice.
fn faults() -> LinkFaults {
    LinkFaults::RELIABLE
        .with_duplication(Probability::new(0.3).unwrap())
        .with_delay(Duration::from_millis(1), Duration::from_millis(120))
}

struct Scenario {
    network: SimNetwork,
    peers: Vec<Peer>,
    chat: String,
    /// What each peer must have received, in any order, each exactly once.
    expected: Vec<Vec<GroupDelivery>>,
}

impl Scenario {
    fn member(&self, index: usize) -> MemberId {
        MemberId::new(self.peers[index].id())
    }

    /// `from` sends `text`; kaiwa-group must address it to exactly `to`.
    fn say(&mut self, from: usize, to: &[usize], text: &str) {
        let mut recipients = self.peers[from].send_group_text(&self.chat, text).unwrap();
        recipients.sort();
        let mut intended: Vec<MemberId> = to.iter().map(|&i| self.member(i)).collect();
        intended.sort();
        assert_eq!(recipients, intended, "recipients of {text:?}");
        let delivery = GroupDelivery {
            chat_id: self.chat.clone(),
            from: self.member(from),
            text: text.into(),
        };
        for &i in to.iter().flat_map(|&account| installations(account)) {
            self.expected[i].push(delivery.clone());
        }
        // Less than the delay window: the next message can overtake this one.
        self.network.advance(Duration::from_millis(5));
    }

    fn settle(&mut self) {
        settle(&mut self.peers).unwrap();
    }

    /// Every peer in `who` holds the same group (state and log), with this name, these joined
    /// members and these admins.
    fn assert_converged(&self, who: &[usize], name: &str, members: &[usize], admins: &[usize]) {
        let reference = self.peers[who[0]].group(&self.chat).unwrap();
        for &i in who {
            let group = self.peers[i].group(&self.chat).unwrap();
            assert_eq!(group.state(), reference.state(), "{} diverged", self.peers[i].name());
            assert_eq!(group.log(), reference.log(), "{}'s log diverged", self.peers[i].name());
        }
        let state = reference.state();
        assert_eq!(state.name(), name);
        let mut want: Vec<(MemberId, MemberStatus)> =
            members.iter().map(|&i| (self.member(i), MemberStatus::Joined)).collect();
        want.sort();
        assert_eq!(state.members().map(|(m, s)| (*m, s)).collect::<Vec<_>>(), want);
        let mut want_admins: Vec<MemberId> = admins.iter().map(|&i| self.member(i)).collect();
        want_admins.sort();
        assert_eq!(state.admins().copied().collect::<Vec<_>>(), want_admins);
    }

    fn assert_inboxes(&self) {
        for (peer, expected) in self.peers.iter().zip(&self.expected) {
            let mut got = peer.group_inbox().to_vec();
            got.sort();
            let mut want = expected.clone();
            want.sort();
            assert_eq!(got, want, "{}'s inbox", peer.name());
        }
    }
}

/// The whole scenario for one seed; returns the network trace and every inbox in arrival order.
fn run(seed: u64) -> (Vec<TraceEvent>, Vec<Vec<GroupDelivery>>) {
    let network = SimNetwork::with_config(seed, SimConfig::default().with_faults(faults()));
    let mut peers: Vec<Peer> = ["alice", "bob", "carol", "dave"]
        .iter()
        .zip(0u64..)
        .map(|(name, i)| Peer::new(&network, name, seed * 100 + i).unwrap())
        .collect();
    peers.push(peers[DAVE].another_installation(&network, "dave-laptop", seed * 100 + 4).unwrap());
    let mut s = Scenario { network, peers, chat: String::new(), expected: vec![Vec::new(); 5] };
    for peer in &mut s.peers {
        peer.publish_bundle().unwrap();
    }
    s.settle();

    // Three members: Alice creates the group with Bob and Carol, who join concurrently.
    let (bob, carol, dave) = (s.peers[BOB].id(), s.peers[CAROL].id(), s.peers[DAVE].id());
    s.chat = s.peers[ALICE].create_group("kaiwa friends", &[bob, carol]).unwrap();
    s.settle();
    let invited = s.peers[BOB].group(&s.chat).unwrap().state().status(&s.member(BOB));
    assert_eq!(invited, Some(MemberStatus::Invited));
    s.peers[BOB].join_group(&s.chat).unwrap();
    s.peers[CAROL].join_group(&s.chat).unwrap();
    s.settle();
    s.assert_converged(&[ALICE, BOB, CAROL], "kaiwa friends", &[ALICE, BOB, CAROL], &[ALICE]);

    s.say(ALICE, &[BOB, CAROL], "hello from alice");
    s.say(BOB, &[ALICE, CAROL], "hi alice");
    s.say(CAROL, &[ALICE, BOB], "hey both");
    s.say(ALICE, &[BOB, CAROL], "alice again");
    s.say(BOB, &[ALICE, CAROL], "bob again");
    s.settle();
    s.assert_inboxes();

    // A fourth: Alice adds Dave, Dave joins; the rename races Dave's first message.
    s.peers[ALICE].add_to_group(&s.chat, &[dave]).unwrap();
    s.settle();
    s.peers[DAVE].join_group(&s.chat).unwrap();
    s.settle();
    s.peers[ALICE].rename_group(&s.chat, "kaiwa friends (4)").unwrap();
    s.say(DAVE, &[ALICE, BOB, CAROL], "dave here");
    s.settle();
    let everyone = [ALICE, BOB, CAROL, DAVE];
    let all_copies = [ALICE, BOB, CAROL, DAVE, DAVE_LAPTOP];
    s.assert_converged(&all_copies, "kaiwa friends (4)", &everyone, &[ALICE]);

    for round in 0..2 {
        s.say(ALICE, &[BOB, CAROL, DAVE], &format!("alice {round}"));
        s.say(BOB, &[ALICE, CAROL, DAVE], &format!("bob {round}"));
        s.say(CAROL, &[ALICE, BOB, DAVE], &format!("carol {round}"));
        s.say(DAVE, &[ALICE, BOB, CAROL], &format!("dave {round}"));
    }
    s.settle();
    s.assert_inboxes();

    // Carol is removed; she learns it, and her copy agrees with everyone's.
    s.peers[ALICE].remove_from_group(&s.chat, &carol).unwrap();
    s.settle();
    s.assert_converged(&all_copies, "kaiwa friends (4)", &[ALICE, BOB, DAVE], &[ALICE]);
    assert_eq!(s.peers[CAROL].group(&s.chat).unwrap().state().status(&s.member(CAROL)), None);

    let removed_at = s.network.now_unix_nanos();
    let carols_group = s.peers[CAROL].group(&s.chat).unwrap().clone();
    let carols_inbox = s.peers[CAROL].group_inbox().to_vec();
    let carols_sessions: Vec<_> =
        [ALICE, BOB, DAVE].map(|i| s.peers[CAROL].session_record(&s.peers[i].id()).unwrap()).into();
    assert!(carols_sessions.iter().all(Option::is_some), "Carol had sessions with everyone");

    // The rest go on: a rename and more messages.
    s.peers[ALICE].rename_group(&s.chat, "kaiwa friends (3)").unwrap();
    for round in 0..2 {
        s.say(ALICE, &[BOB, DAVE], &format!("after carol: alice {round}"));
        s.say(BOB, &[ALICE, DAVE], &format!("after carol: bob {round}"));
        s.say(DAVE, &[ALICE, BOB], &format!("after carol: dave {round}"));
    }
    s.settle();
    let remaining = [ALICE, BOB, DAVE];
    s.assert_converged(&[ALICE, BOB, DAVE, DAVE_LAPTOP], "kaiwa friends (3)", &remaining, &[ALICE]);
    s.assert_inboxes();

    // Carol received nothing new: her group (state, log, clock), her inbox and her sessions
    // with every member are exactly as they were at her removal.
    assert_eq!(s.peers[CAROL].group(&s.chat), Some(&carols_group));
    assert_eq!(s.peers[CAROL].group_inbox(), carols_inbox.as_slice());
    let after: Vec<_> =
        [ALICE, BOB, DAVE].map(|i| s.peers[CAROL].session_record(&s.peers[i].id()).unwrap()).into();
    assert_eq!(after, carols_sessions);
    // She can no longer send, and reading every later message from the store gives her
    // nothing to decrypt: none has an envelope for her.
    assert_eq!(
        s.peers[CAROL].send_group_text(&s.chat, "am I still here?"),
        Err(HarnessError::Group(ActionError::NotJoined))
    );
    let seen = s.peers[CAROL].eavesdrop(removed_at).unwrap();
    assert!(seen.addressed_to_others >= 8, "the others' traffic was readable: {seen:?}");
    assert_eq!((seen.addressed_to_us, seen.decrypted), (0, 0), "{seen:?}");

    // Nobody refused anything; without loss, everything arrived live (the store only served
    // history nobody needed); and the faults really happened.
    for peer in &s.peers {
        assert_eq!(peer.incidents(), &[], "{}", peer.name());
        assert_eq!(peer.recovered_from_store(), 0, "{}", peer.name());
    }
    let trace = s.network.trace();
    assert!(trace.iter().any(|e| matches!(e, TraceEvent::Duplicated { .. })));
    assert!(reordered_deliveries(&trace) > 0, "the delays reordered messages");
    (trace, s.peers.iter().map(|p| p.group_inbox().to_vec()).collect())
}

#[test]
fn group_of_four_with_a_removal_over_reordering_and_duplication() {
    for seed in SEEDS {
        run(seed);
    }
}

#[test]
fn the_group_scenario_is_deterministic_per_seed() {
    let first = run(11);
    assert_eq!(run(11), first);
    assert_ne!(run(12).0, first.0);
}
