//! The demo's story: four acts, each a list of steps whose outcomes are checked.
//!
//! ```text
//! act 1  1:1 chat       alice ⇄ bob over X3DH + double ratchet; alice's transport holds (1)
//!                       back so bob gets (2) first, then (1) (a skipped message key); bob's
//!                       history still orders them by Lamport clock; a reaction
//! act 2  private group  alice creates #hikers with bob and carol (signed membership log),
//!                       they join; adds dave; renames to #summit; removes carol, who then
//!                       receives nothing new and whose client refuses to write to the group
//! act 3  organization   oscar founds Lighthouse (on request) with #general and #random;
//!                       alice and dave ask to join and are accepted; bob is invited (a grant
//!                       signed by the organization) and admitted at once; a channel message
//!                       reaches every member
//! act 4  ban, re-key    oscar bans dave (new key epoch): the next channel message reaches
//!                       dave's node as ciphertext he cannot open; his new request is
//!                       refused; oscar re-keys and the members still read each other
//! ```
//! Expected refusals are checked as carefully as deliveries: a message that must not arrive is
//! watched for [`REFUSAL_WINDOW`] after every intended recipient got it.

use std::collections::BTreeMap;
use std::time::Duration;

use kaiwa::transport::OrgKey;
use kaiwa::{
    Access, ChannelId, ChatId, ClientConfig, Content, Event, GroupId, Message, OrgId, OrgInfo,
    PublicId, ReactionKind, Scope,
};

use super::peer::Peer;
use super::report::{Outcome, Report, Stop};
use crate::error::one_line;
use crate::limits::REFUSAL_WINDOW;

/// The number of acts.
pub(crate) const ACTS: usize = 4;

/// Everyone in the story.
#[derive(Debug)]
pub(crate) struct Cast {
    /// Starts the 1:1 chat, creates the group.
    pub(crate) alice: Peer,
    /// Alice's friend; invited to the organization.
    pub(crate) bob: Peer,
    /// Removed from the group.
    pub(crate) carol: Peer,
    /// Added to the group; banned from the organization.
    pub(crate) dave: Peer,
    /// Owns the organization.
    pub(crate) oscar: Peer,
    /// The clients' configuration (for topic names).
    pub(crate) config: ClientConfig,
    /// Patience for one expected delivery.
    pub(crate) timeout: Duration,
}

fn ok<T>(report: &mut Report, label: &str, result: Result<T, kaiwa::Error>) -> Result<T, Stop> {
    result.map_err(|error| report.failed_step(label, &one_line(&error)))
}

async fn send(
    report: &mut Report,
    from: &Peer,
    chat: &ChatId,
    whom: &str,
    text: &str,
) -> Result<Message, Stop> {
    report.sent(from.name, whom, text);
    let sent = from.client.send_text(chat, text).await;
    Ok(ok(report, "send", sent)?.message)
}

/// Picks a text message in `chat` saying `want`.
fn text<'a>(chat: &'a ChatId, want: &'a str) -> impl FnMut(&Event) -> Option<Message> + 'a {
    move |event| match event {
        Event::Message(message)
            if message.chat == *chat
                && matches!(&message.content, Content::Text { text, .. } if text == want) =>
        {
            Some(message.clone())
        }
        _ => None,
    }
}

fn group_change(group: &GroupId) -> impl FnMut(&Event) -> Option<kaiwa::MembershipChange> + '_ {
    move |event| match event {
        Event::Membership(change) if change.scope == Scope::Group(group.clone()) => {
            Some(change.clone())
        }
        _ => None,
    }
}

/// Waits until `peer` has seen every one of `ids` join `group`.
async fn joined(peer: &mut Peer, group: &GroupId, ids: &[PublicId], timeout: Duration) -> bool {
    let mut missing: Vec<PublicId> = ids.to_vec();
    while !missing.is_empty() {
        let Some(change) = peer.expect(timeout, group_change(group)).await else { return false };
        missing.retain(|id| !change.joined.contains(id));
    }
    true
}

/// Polls `peer`'s copy of `org` until `want` holds.
async fn org_state(
    peer: &Peer,
    org: &OrgId,
    timeout: Duration,
    want: impl Fn(&OrgInfo) -> bool,
) -> bool {
    let wait = async {
        loop {
            if let Ok(Some(info)) = peer.client.org(org).await
                && want(&info)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(timeout, wait).await.is_ok()
}

/// Act 1: a 1:1 chat with an out-of-order message.
pub(crate) async fn direct(c: &mut Cast, r: &mut Report) -> Result<(), Stop> {
    let t = c.timeout;
    let (to_bob, to_alice) = (ChatId::Direct(c.bob.id()), ChatId::Direct(c.alice.id()));
    const HELLO: &str = "Hi Bob! Lunch tomorrow?";
    const REPLY: &str = "Sure, 12:30 at the usual place.";
    const ONE: &str = "(1) I booked a table for two";
    const TWO: &str = "(2) and I'll bring the trail map";

    send(r, &c.alice, &to_bob, "bob", HELLO).await?;
    let got = c.bob.expect(t, text(&to_alice, HELLO)).await.is_some();
    r.check(got, Outcome::Delivered, "bob decrypts it (X3DH from alice's contact code)")?;
    send(r, &c.bob, &to_alice, "alice", REPLY).await?;
    let got = c.alice.expect(t, text(&to_bob, REPLY)).await.is_some();
    r.check(got, Outcome::Delivered, "alice decrypts the reply (double ratchet step)")?;

    r.say("alice's transport now holds her next message back");
    c.alice.tap.hold();
    send(r, &c.alice, &to_bob, "bob", ONE).await?;
    let held = async {
        while c.alice.tap.held() == 0 {
            let _ = c.alice.client.flush().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let held = tokio::time::timeout(t, held).await.is_ok();
    c.alice.tap.pass();
    r.check(held, Outcome::Other, "(1) is held: the outbox believes it left")?;
    send(r, &c.alice, &to_bob, "bob", TWO).await?;
    let got = c.bob.expect(t, text(&to_alice, TWO)).await.is_some();
    r.check(got, Outcome::Delivered, "bob decrypts (2) first")?;
    let early = c.bob.expect(Duration::ZERO, text(&to_alice, ONE)).await.is_some();
    r.check(!early, Outcome::Other, "bob has not seen (1) yet")?;
    let released = c.alice.tap.release().await.ok();
    r.say(&format!("alice's transport releases {} held message(s)", released.unwrap_or(0)));
    r.check(released == Some(1), Outcome::Other, "(1) is published late")?;
    let first = c.bob.expect(t, text(&to_alice, ONE)).await;
    r.check(first.is_some(), Outcome::Delivered, "bob decrypts (1) after (2) (a skipped key)")?;
    let history = c.bob.client.history(&to_alice, None, 10).await;
    let history = ok(r, "read bob's history", history)?;
    let position = |want: &str| {
        history
            .iter()
            .position(|m| matches!(&m.content, Content::Text { text, .. } if text == want))
    };
    let ordered = matches!((position(ONE), position(TWO)), (Some(a), Some(b)) if a < b);
    r.check(ordered, Outcome::Other, "bob's history orders (1) before (2) (Lamport clocks)")?;

    let Some(first) = first else { return Err(Stop) };
    r.sent("bob", "alice", "❤ on (1)");
    let reacted =
        c.bob.client.send_reaction(&to_alice, &first.reference, ReactionKind::Love, false);
    ok(r, "react", reacted.await)?;
    let got = c
        .alice
        .expect(t, |event| match event {
            Event::Message(m)
                if m.chat == to_bob
                    && matches!(
                        m.content,
                        Content::Reaction { kind: ReactionKind::Love, retracted: false, .. }
                    ) =>
            {
                Some(())
            }
            _ => None,
        })
        .await
        .is_some();
    r.check(got, Outcome::Delivered, "alice sees bob's ❤")
}

/// Act 2: a private group with add, rename and remove.
pub(crate) async fn group(c: &mut Cast, r: &mut Report) -> Result<(), Stop> {
    let t = c.timeout;
    let (bob, carol, dave) = (c.bob.id(), c.carol.id(), c.dave.id());
    r.say("alice creates #hikers with bob and carol");
    let created = c.alice.client.create_group("hikers", &[bob, carol]).await;
    let (id, unreachable) = ok(r, "create the group", created)?;
    r.check(unreachable.is_empty(), Outcome::Other, "every invitee is reachable")?;
    let chat = ChatId::Group(id.clone());
    for peer in [&mut c.bob, &mut c.carol] {
        let invited = peer.expect(t, group_change(&id)).await.is_some();
        r.check(invited, Outcome::Delivered, &format!("{} gets the signed invitation", peer.name))?;
        r.say(&format!("{} joins", peer.name));
        ok(r, "join", peer.client.join_group(&id).await)?;
    }
    let both = joined(&mut c.alice, &id, &[bob, carol], t).await;
    r.check(both, Outcome::Other, "alice sees bob and carol join")?;
    const WELCOME: &str = "Welcome to the hikers!";
    send(r, &c.alice, &chat, "#hikers", WELCOME).await?;
    for peer in [&mut c.bob, &mut c.carol] {
        let got = peer.expect(t, text(&chat, WELCOME)).await.is_some();
        r.check(got, Outcome::Delivered, &format!("{} receives it", peer.name))?;
    }

    r.say("alice adds dave");
    ok(r, "add dave", c.alice.client.add_members(&id, &[dave]).await)?;
    let invited = c.dave.expect(t, group_change(&id)).await.is_some();
    r.check(invited, Outcome::Delivered, "dave gets the invitation")?;
    ok(r, "join", c.dave.client.join_group(&id).await)?;
    let got = joined(&mut c.alice, &id, &[dave], t).await;
    r.check(got, Outcome::Other, "alice sees dave join")?;

    r.say("alice renames the group to #summit");
    ok(r, "rename", c.alice.client.rename_group(&id, "summit").await)?;
    for peer in [&mut c.bob, &mut c.carol, &mut c.dave] {
        let renamed = async {
            loop {
                let change = peer.expect(t, group_change(&id)).await?;
                if change.renamed.as_deref() == Some("summit") {
                    return Some(());
                }
            }
        };
        let got = renamed.await.is_some();
        r.check(got, Outcome::Delivered, &format!("{} sees the new name", peer.name))?;
    }

    r.say("alice removes carol");
    ok(r, "remove carol", c.alice.client.remove_member(&id, carol).await)?;
    // Everyone learns of the removal, the sender (bob) included: a member who has not yet
    // applied it would still address carol, as any member of a decentralised group would.
    for peer in [&mut c.carol, &mut c.bob, &mut c.dave] {
        let told = async {
            loop {
                let change = peer.expect(t, group_change(&id)).await?;
                if change.removed.contains(&carol) {
                    return Some(());
                }
            }
        };
        let told = told.await.is_some();
        r.check(told, Outcome::Delivered, &format!("{} learns that carol was removed", peer.name))?;
    }
    const AFTER: &str = "Carol has left us; summit on Sunday.";
    send(r, &c.bob, &chat, "#summit", AFTER).await?;
    for peer in [&mut c.alice, &mut c.dave] {
        let got = peer.expect(t, text(&chat, AFTER)).await.is_some();
        r.check(got, Outcome::Delivered, &format!("{} receives it", peer.name))?;
    }
    let nothing = c.carol.expect_none(REFUSAL_WINDOW, text(&chat, AFTER)).await;
    r.check(nothing, Outcome::Refused, "carol receives nothing new (she is not a recipient)")?;
    let refused = c.carol.client.send_text(&chat, "Am I still here?").await;
    let label = match &refused {
        Err(error) => format!("carol's client refuses to write to #summit: {}", one_line(error)),
        Ok(_) => "carol's client refuses to write to #summit".to_owned(),
    };
    r.check(refused.is_err(), Outcome::Refused, &label)
}

/// The organization of acts 3 and 4.
#[derive(Debug)]
pub(crate) struct Lighthouse {
    id: OrgId,
    general: ChannelId,
    random: ChannelId,
}

/// Follows `org`, waits for its description, asks to join.
async fn ask_to_join(peer: &Peer, r: &mut Report, org: &OrgId, t: Duration) -> Result<(), Stop> {
    ok(r, "follow", peer.client.follow_org(org).await)?;
    let described = org_state(peer, org, t, |info| !info.name.is_empty()).await;
    r.check(described, Outcome::Delivered, &format!("{} has the signed description", peer.name))?;
    r.say(&format!("{} asks to join", peer.name));
    ok(r, "ask to join", peer.client.request_to_join(org, peer.name).await)
}

/// The newest key epoch of each key group (organization-wide, or a channel's own) that the
/// owner has made in `org` since this was last asked: the owner's own `KeyEpoch` events,
/// read without waiting (an action's events are out before the action returns).
async fn owner_epochs(owner: &mut Peer, org: OrgId) -> BTreeMap<Option<ChannelId>, u32> {
    let mut newest = BTreeMap::new();
    while let Some((channel, epoch)) = owner
        .expect(Duration::ZERO, |event| match event {
            Event::KeyEpoch { org: o, channel, epoch } if *o == org => {
                Some((channel.clone(), *epoch))
            }
            _ => None,
        })
        .await
    {
        let held = newest.entry(channel).or_insert(0);
        *held = (*held).max(epoch);
    }
    newest
}

/// Checks that each of `members` installs the key epochs the owner just made, before anyone
/// writes under them.
async fn members_hold_new_keys(
    c: &mut Cast,
    r: &mut Report,
    org: OrgId,
    members: &[&str],
) -> Result<(), Stop> {
    let t = c.timeout;
    let epochs = owner_epochs(&mut c.oscar, org).await;
    r.check(!epochs.is_empty(), Outcome::Other, "oscar's action made a new key epoch")?;
    for name in members {
        let peer = match *name {
            "alice" => &mut c.alice,
            "bob" => &mut c.bob,
            "carol" => &mut c.carol,
            _ => &mut c.dave,
        };
        let mut all = true;
        for (channel, epoch) in &epochs {
            let got = peer
                .expect(t, |event| match event {
                    Event::KeyEpoch { org: o, channel: ch, epoch: e }
                        if *o == org && ch == channel && e >= epoch =>
                    {
                        Some(())
                    }
                    _ => None,
                })
                .await;
            all &= got.is_some();
        }
        let epochs: Vec<u32> = epochs.values().copied().collect();
        r.check(all, Outcome::Other, &format!("{name} installs the key epoch {epochs:?}"))?;
    }
    Ok(())
}

fn join_response(org: OrgId) -> impl FnMut(&Event) -> Option<bool> {
    move |event| match event {
        Event::JoinResponse { org: o, accepted } if *o == org => Some(*accepted),
        _ => None,
    }
}

fn join_request(org: OrgId, member: PublicId) -> impl FnMut(&Event) -> Option<()> {
    move |event| match event {
        Event::JoinRequest { org: o, member: m, .. } if *o == org && *m == member => Some(()),
        _ => None,
    }
}

/// Act 3: an organization with two channels, a join request and an invitation.
pub(crate) async fn organization(c: &mut Cast, r: &mut Report) -> Result<Lighthouse, Stop> {
    let t = c.timeout;
    r.say("oscar founds Lighthouse (join on request) with #general and #random");
    let id = ok(r, "found", c.oscar.client.create_org("Lighthouse", Access::OnRequest).await)?;
    let general =
        ok(r, "add #general", c.oscar.client.create_channel(&id, "general", "General").await)?;
    let random =
        ok(r, "add #random", c.oscar.client.create_channel(&id, "random", "Random").await)?;

    for name in ["alice", "dave"] {
        let peer = if name == "alice" { &c.alice } else { &c.dave };
        let member = peer.id();
        ask_to_join(peer, r, &id, t).await?;
        let asked = c.oscar.expect(t, join_request(id, member)).await.is_some();
        r.check(asked, Outcome::Delivered, &format!("oscar gets {name}'s sealed request"))?;
        r.say(&format!("oscar accepts {name}"));
        ok(r, "accept", c.oscar.client.accept_request(&id, member).await)?;
        let peer = if name == "alice" { &mut c.alice } else { &mut c.dave };
        let accepted = peer.expect(t, join_response(id)).await == Some(true);
        r.check(accepted, Outcome::Delivered, &format!("{name} is admitted"))?;
    }

    r.say("oscar invites bob");
    ok(r, "invite", c.oscar.client.invite(&id, c.bob.id()).await)?;
    let invited = c
        .bob
        .expect(t, |event| match event {
            Event::Invitation { org } if *org == id => Some(()),
            _ => None,
        })
        .await
        .is_some();
    r.check(invited, Outcome::Delivered, "bob receives the signed invitation (1:1)")?;
    ask_to_join(&c.bob, r, &id, t).await?;
    let accepted = c.bob.expect(t, join_response(id)).await == Some(true);
    r.check(accepted, Outcome::Delivered, "bob is admitted at once: the grant is honoured")?;
    let unasked = c.oscar.expect(Duration::ZERO, join_request(id, c.bob.id())).await.is_none();
    r.check(unasked, Outcome::Other, "oscar was not asked about bob")?;

    let everyone = [c.oscar.id(), c.alice.id(), c.bob.id(), c.dave.id()];
    for peer in [&c.alice, &c.bob, &c.dave] {
        let listed =
            org_state(peer, &id, t, |info| everyone.iter().all(|m| info.members.contains(m))).await;
        r.check(listed, Outcome::Other, &format!("{}'s copy lists all 4 members", peer.name))?;
    }
    members_hold_new_keys(c, r, id, &["alice", "bob", "dave"]).await?;
    let chat = ChatId::Channel { org: id, channel: general.clone() };
    const HELLO: &str = "Hello Lighthouse!";
    send(r, &c.alice, &chat, "Lighthouse/general", HELLO).await?;
    for peer in [&mut c.bob, &mut c.dave, &mut c.oscar] {
        let got = peer.expect(t, text(&chat, HELLO)).await.is_some();
        r.check(got, Outcome::Delivered, &format!("{} decrypts it", peer.name))?;
    }
    Ok(Lighthouse { id, general, random })
}

/// Act 4: a ban (new key epoch), a refused request, a re-key.
pub(crate) async fn ban_and_rekey(
    c: &mut Cast,
    r: &mut Report,
    org: &Lighthouse,
) -> Result<(), Stop> {
    let t = c.timeout;
    let (id, dave) = (org.id, c.dave.id());
    r.say("oscar bans dave (a new key epoch for the others)");
    ok(r, "ban", c.oscar.client.ban(&id, dave).await)?;
    for peer in [&c.alice, &c.bob] {
        let gone = org_state(peer, &id, t, |info| !info.members.contains(&dave)).await;
        r.check(gone, Outcome::Delivered, &format!("{} sees dave removed", peer.name))?;
    }
    members_hold_new_keys(c, r, id, &["alice", "bob"]).await?;
    let random = ChatId::Channel { org: id, channel: org.random.clone() };
    const SECRET: &str = "Dave, can you read this?";
    send(r, &c.alice, &random, "Lighthouse/random", SECRET).await?;
    for peer in [&mut c.bob, &mut c.oscar] {
        let got = peer.expect(t, text(&random, SECRET)).await.is_some();
        r.check(got, Outcome::Delivered, &format!("{} decrypts it", peer.name))?;
    }
    let topic =
        c.config.scheme.org_channel(&OrgKey::from_bytes(*id.as_bytes()), org.random.as_str());
    let hash = c.alice.tap.published_on(&topic).last().copied();
    let reached = async {
        loop {
            if hash.is_some_and(|h| c.dave.saw(&h)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let reached = tokio::time::timeout(t, reached).await.is_ok();
    r.check(reached, Outcome::Other, "the ciphertext reaches dave's relay node")?;
    let nothing = c.dave.expect_none(REFUSAL_WINDOW, text(&random, SECRET)).await;
    r.check(nothing, Outcome::Refused, "dave cannot decrypt it (he has no key of the new epoch)")?;

    r.say("dave asks to join again");
    ok(r, "ask again", c.dave.client.request_to_join(&id, "dave").await)?;
    let unasked = c.oscar.expect_none(REFUSAL_WINDOW, join_request(id, dave)).await;
    let unanswered = c.dave.expect(Duration::ZERO, join_response(id)).await != Some(true);
    r.check(unasked && unanswered, Outcome::Refused, "oscar's client refuses the banned key")?;

    r.say("oscar re-keys Lighthouse");
    ok(r, "re-key", c.oscar.client.rekey(&id).await)?;
    members_hold_new_keys(c, r, id, &["alice", "bob"]).await?;
    let general = ChatId::Channel { org: id, channel: org.general.clone() };
    const FRESH: &str = "New keys, same conversation.";
    send(r, &c.bob, &general, "Lighthouse/general", FRESH).await?;
    for peer in [&mut c.alice, &mut c.oscar] {
        let got = peer.expect(t, text(&general, FRESH)).await.is_some();
        r.check(got, Outcome::Delivered, &format!("{} decrypts it", peer.name))?;
    }
    let nothing = c.dave.expect_none(REFUSAL_WINDOW, text(&general, FRESH)).await;
    r.check(nothing, Outcome::Refused, "dave still cannot")
}
