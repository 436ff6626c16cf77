//! Issue 6, point 5: over the simulated network, an owner creates an organization with two
//! channels; three peers join by the three paths (a request on ON_REQUEST that the owner
//! accepts, an invitation on INVITATION_ONLY, auto-accept on NO_MEMBERSHIP — one organization
//! whose access the owner changes between joins); they talk; one is banned; the rest keep
//! talking and the banned one reads nothing new.
//!
//! The links reorder, duplicate and lose copies; peers recover lost copies from the store.
//! Every member must decrypt exactly the channel messages of the epochs it belongs to, each
//! once; the banned member must receive no key of the new epoch and fail to decrypt the
//! bytes published after the ban with `UnknownEpoch`; everyone must hold the owner's exact
//! description, ban list included; and a message the banned member sends from its stale view
//! must be refused by everyone as `Banned`.

use std::collections::BTreeSet;

use core::time::Duration;

use kaiwa_org::{
    Access, DecryptError, Epoch, GroupId, MemberId, OrgId, RekeyOutcome, RequestError,
};
use kaiwa_transport::MessageHash;
use kaiwa_transport::sim::{
    DropReason, LinkFaults, Probability, SimConfig, SimNetwork, TraceEvent,
};

use crate::harness::{
    ChannelDelivery, Incident, OwnerEvent, Peer, Posted, reordered_deliveries, settle,
    settle_except,
};

/// Each seed drives the network's faults and every peer's keys and nonces.
const SEEDS: [u64; 4] = [1, 2, 3, 4];

const OWNER: usize = 0;
/// Joins by request, accepted by the owner (ON_REQUEST).
const BOB: usize = 1;
/// Joins by invitation (INVITATION_ONLY); banned later.
const CAT: usize = 2;
/// Joins by auto-accept (NO_MEMBERSHIP).
const DAN: usize = 3;

const CHANNELS: [&str; 2] = ["general", "random"];

/// Copies are delayed by 1–120 ms, 30% arrive twice, 15% are lost (and fetched from the store).
fn faults() -> LinkFaults {
    LinkFaults::RELIABLE
        .with_loss(Probability::new(0.15).unwrap())
        .with_duplication(Probability::new(0.3).unwrap())
        .with_delay(Duration::from_millis(1), Duration::from_millis(120))
}

struct Scenario {
    network: SimNetwork,
    peers: Vec<Peer>,
    org: OrgId,
    /// What each peer must have decrypted, in any order, each exactly once.
    expected: Vec<Vec<ChannelDelivery>>,
}

impl Scenario {
    fn member(&self, index: usize) -> MemberId {
        MemberId::from_key(&self.peers[index].id())
    }

    fn settle(&mut self) {
        settle(&mut self.peers).unwrap();
    }

    /// `from` posts `text` in `channel`; it must be sealed under `epoch` and reach exactly `to`.
    fn say(&mut self, from: usize, channel: &str, text: &str, epoch: u32, to: &[usize]) -> Posted {
        let posted = self.peers[from].post(&self.org, channel, text).unwrap();
        assert_eq!(posted.epoch, Some(Epoch(epoch)), "epoch of {text:?}");
        let delivery = ChannelDelivery {
            org: self.org,
            channel: channel.into(),
            sender: self.member(from),
            epoch: Some(epoch),
            text: text.into(),
        };
        for &i in to {
            self.expected[i].push(delivery.clone());
        }
        self.network.advance(Duration::from_millis(5));
        posted
    }

    fn last_owner_event(&self) -> Option<&OwnerEvent> {
        self.peers[OWNER].owner_log(&self.org).last()
    }

    fn epochs(&self, index: usize) -> Vec<Epoch> {
        self.peers[index].org_view(&self.org).unwrap().epochs(&self.org.group())
    }

    /// Every peer's view holds exactly the owner's current description.
    fn assert_descriptions_agree(&self) {
        let owner = self.peers[OWNER].organization(&self.org).unwrap().description();
        for peer in &self.peers {
            let view = peer.org_view(&self.org).unwrap();
            assert_eq!(view.description(), Some(owner), "{}'s description", peer.name());
        }
    }

    fn assert_inboxes(&self) {
        for (peer, expected) in self.peers.iter().zip(&self.expected) {
            let mut got = peer.channel_inbox().to_vec();
            got.sort();
            let mut want = expected.clone();
            want.sort();
            assert_eq!(got, want, "{}'s channel inbox", peer.name());
        }
    }
}

fn hashes(posts: &[Posted]) -> BTreeSet<MessageHash> {
    posts.iter().map(|p| p.hash).collect()
}

fn run(seed: u64) {
    let network = SimNetwork::with_config(seed, SimConfig::default().with_faults(faults()));
    let mut peers: Vec<Peer> = ["owner", "bob", "cat", "dan"]
        .iter()
        .zip(0u64..)
        .map(|(name, i)| Peer::new(&network, name, seed * 100 + i).unwrap())
        .collect();
    for peer in &mut peers {
        peer.publish_bundle().unwrap();
    }
    let org = peers[OWNER].create_org("kaiwa builders", Access::OnRequest, &CHANNELS).unwrap();
    let mut s = Scenario { network, peers, org, expected: vec![Vec::new(); 4] };
    let (bob, cat) = (s.peers[BOB].id(), s.peers[CAT].id());
    // The org id travels out of band (seed 004): the three follow its description topic.
    for i in [BOB, CAT, DAN] {
        s.peers[i].follow_org(org).unwrap();
    }
    s.settle();
    s.assert_descriptions_agree();
    assert_eq!(s.epochs(OWNER), [Epoch(1)]);

    // Path 1, ON_REQUEST: Bob's request waits until the owner accepts it.
    s.peers[BOB].request_join(&org).unwrap();
    s.settle();
    assert_eq!(s.peers[OWNER].owner_log(&org), [OwnerEvent::Pending(s.member(BOB))]);
    assert_eq!((s.peers[BOB].join_accepted(&org), s.epochs(BOB)), (None, vec![]));
    s.peers[OWNER].accept_request(&org, &bob).unwrap();
    s.settle();
    assert_eq!(s.last_owner_event(), Some(&OwnerEvent::Accepted(s.member(BOB))));
    assert_eq!((s.peers[BOB].join_accepted(&org), s.epochs(BOB)), (Some(true), vec![Epoch(2)]));

    // Epoch 2: the owner and Bob; the followers Cat and Dan see bytes they cannot read.
    let epoch_2 = vec![
        s.say(OWNER, "general", "welcome bob", 2, &[BOB]),
        s.say(BOB, "random", "thanks!", 2, &[OWNER]),
    ];
    s.settle();

    // Path 2, INVITATION_ONLY: Cat's bare request is refused; with the invitation it passes.
    s.peers[OWNER].set_org_access(&org, Access::InvitationOnly).unwrap();
    s.settle();
    s.peers[CAT].request_join(&org).unwrap();
    s.settle();
    assert_eq!(s.last_owner_event(), Some(&OwnerEvent::Refused(RequestError::InvitationRequired)));
    assert_eq!(s.peers[CAT].join_accepted(&org), None);
    s.peers[OWNER].invite_to_org(&org, &cat).unwrap();
    s.settle();
    s.peers[CAT].request_join(&org).unwrap();
    s.settle();
    assert_eq!(s.last_owner_event(), Some(&OwnerEvent::Accepted(s.member(CAT))));
    assert_eq!((s.peers[CAT].join_accepted(&org), s.epochs(CAT)), (Some(true), vec![Epoch(3)]));

    // Path 3, NO_MEMBERSHIP: Dan is accepted at once.
    s.peers[OWNER].set_org_access(&org, Access::NoMembership).unwrap();
    s.settle();
    s.peers[DAN].request_join(&org).unwrap();
    s.settle();
    assert_eq!(s.last_owner_event(), Some(&OwnerEvent::Accepted(s.member(DAN))));
    assert_eq!((s.peers[DAN].join_accepted(&org), s.epochs(DAN)), (Some(true), vec![Epoch(4)]));
    s.assert_descriptions_agree();

    // Epoch 4: everyone talks in both channels, interleaved.
    let all = [OWNER, BOB, CAT, DAN];
    for round in 0..2 {
        for from in all {
            for channel in CHANNELS {
                let to: Vec<usize> = all.into_iter().filter(|&i| i != from).collect();
                let text = format!("{} in {channel}, round {round}", s.peers[from].name());
                s.say(from, channel, &text, 4, &to);
            }
        }
    }
    s.settle();
    s.assert_inboxes();
    let cats_inbox = s.peers[CAT].channel_inbox().to_vec();

    // The owner bans Cat. Before Cat has processed anything, she posts from her stale view
    // (epoch 4, which she holds): everyone else already knows the ban and refuses it.
    let ban = s.peers[OWNER].ban_from_org(&org, &cat).unwrap();
    assert!(!ban.rekeys.is_empty(), "a ban re-keys");
    settle_except(&mut s.peers, &[CAT]).unwrap();
    let stale = s.peers[CAT].post(&org, "general", "cat, banned, still posting").unwrap();
    assert_eq!(stale.epoch, Some(Epoch(4)));
    s.settle();
    // She cannot come back either.
    s.peers[CAT].request_join(&org).unwrap();
    s.settle();
    assert_eq!(s.last_owner_event(), Some(&OwnerEvent::Refused(RequestError::Banned)));

    // Epoch 5: the rest keep talking.
    let rest = [OWNER, BOB, DAN];
    let mut epoch_5 = Vec::new();
    for round in 0..2 {
        for from in rest {
            for channel in CHANNELS {
                let to: Vec<usize> = rest.into_iter().filter(|&i| i != from).collect();
                let text =
                    format!("{} in {channel} after the ban, round {round}", s.peers[from].name());
                epoch_5.push(s.say(from, channel, &text, 5, &to));
            }
        }
    }
    s.settle();

    // Exactly the intended members decrypted each message, once.
    s.assert_inboxes();
    assert_eq!(s.peers[CAT].channel_inbox(), cats_inbox.as_slice(), "Cat read nothing new");

    // Everyone holds the owner's description: Cat banned and gone, the others members.
    s.assert_descriptions_agree();
    let description = s.peers[OWNER].organization(&org).unwrap().description();
    assert_eq!(description.banned().iter().collect::<Vec<_>>(), [&s.member(CAT)]);
    let mut members: Vec<MemberId> = rest.iter().map(|&i| s.member(i)).collect();
    members.sort();
    assert_eq!(description.members().keys().copied().collect::<Vec<_>>(), members);

    // Keys of the epochs each belongs to, and no others (the org keeps the current epoch and
    // MAX_PAST_EPOCHS = 4 before it).
    let group: GroupId = org.group();
    assert_eq!(s.peers[OWNER].organization(&org).unwrap().current_epoch(&group), Some(Epoch(5)));
    assert_eq!(s.epochs(OWNER), (1..=5).map(Epoch).collect::<Vec<_>>());
    assert_eq!(s.epochs(BOB), (2..=5).map(Epoch).collect::<Vec<_>>());
    assert_eq!(s.epochs(CAT), [Epoch(3), Epoch(4)]);
    assert_eq!(s.epochs(DAN), [Epoch(4), Epoch(5)]);

    // Cat received no key of epoch 5: no part of the ban's re-key has an entry for her ...
    for part in &ban.rekeys {
        assert_eq!(s.peers[CAT].apply_rekey_part(&org, part).unwrap(), Ok(RekeyOutcome::NotForUs));
    }
    // ... so every message published after the ban fails for her with the typed error,
    for posted in &epoch_5 {
        let result = s.peers[CAT].decrypt_channel(&org, &posted.bytes).unwrap();
        assert_eq!(result.err(), Some(DecryptError::UnknownEpoch { epoch: 5 }));
    }
    // ... and what she holds undecrypted is exactly epoch 2 (before she joined) and epoch 5.
    let undecrypted = |s: &Scenario, i: usize| -> BTreeSet<MessageHash> {
        s.peers[i].undecrypted_channel_messages(&org).into_iter().collect()
    };
    assert_eq!(undecrypted(&s, CAT), &hashes(&epoch_2) | &hashes(&epoch_5));
    // Dan, too, never reads epoch 2; the owner and Bob hold nothing undecrypted.
    assert_eq!(undecrypted(&s, DAN), hashes(&epoch_2));
    let result = s.peers[DAN].decrypt_channel(&org, &epoch_2[0].bytes).unwrap();
    assert_eq!(result.err(), Some(DecryptError::UnknownEpoch { epoch: 2 }));
    assert!(undecrypted(&s, OWNER).is_empty() && undecrypted(&s, BOB).is_empty());

    // The full request history, and the only refusals anyone saw: Cat's stale post.
    assert_eq!(
        s.peers[OWNER].owner_log(&org),
        [
            OwnerEvent::Pending(s.member(BOB)),
            OwnerEvent::Accepted(s.member(BOB)),
            OwnerEvent::Refused(RequestError::InvitationRequired),
            OwnerEvent::Accepted(s.member(CAT)),
            OwnerEvent::Accepted(s.member(DAN)),
            OwnerEvent::Refused(RequestError::Banned),
        ]
    );
    for i in rest {
        let refused = [Incident::Channel(DecryptError::Banned)];
        assert_eq!(s.peers[i].incidents(), refused, "{}", s.peers[i].name());
    }
    assert_eq!(s.peers[CAT].incidents(), []);

    // The faults really happened, and the store made up for the lost copies.
    let recovered: usize = s.peers.iter().map(Peer::recovered_from_store).sum();
    assert!(recovered > 0, "lost copies were fetched from the store");
    let trace = s.network.trace();
    assert!(
        trace.iter().any(|e| matches!(e, TraceEvent::Dropped { reason: DropReason::Loss, .. }))
    );
    assert!(trace.iter().any(|e| matches!(e, TraceEvent::Duplicated { .. })));
    assert!(reordered_deliveries(&trace) > 0, "the delays reordered messages");
}

#[test]
fn organization_with_three_join_paths_and_a_ban_over_a_lossy_network() {
    for seed in SEEDS {
        run(seed);
    }
}
