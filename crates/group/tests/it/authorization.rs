//! The authorization table: every event kind × author role × target role, against seed 000's
//! rules as DECISIONS "Private group chats" states them. The expected outcomes are written out
//! here from the spec, not computed by the crate.

use kaiwa_crypto::IdentityKeyPair;
use kaiwa_group::{
    ActionError, Event, EventKind, Group, LamportTime, MemberId, MemberStatus, MembershipLog,
    RejectReason, VerifiedEvent,
};

use super::support::{Cast, NOW, id, keypair, rng};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A joined admin other than the creator (Bob); the creator is covered separately.
    Admin,
    /// A joined non-admin (Carol).
    Member,
    /// Invited, not joined (Dave).
    Invited,
    /// Not a member (Erin).
    Outsider,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Myself,
    Role(Role),
}

const ROLES: [Role; 4] = [Role::Admin, Role::Member, Role::Invited, Role::Outsider];
const TARGETS: [Target; 5] = [
    Target::Myself,
    Target::Role(Role::Admin),
    Target::Role(Role::Member),
    Target::Role(Role::Invited),
    Target::Role(Role::Outsider),
];

const KINDS: [EventKind; 9] = [
    EventKind::ChatCreated,
    EventKind::NameChanged,
    EventKind::MembersAdded,
    EventKind::MemberJoined,
    EventKind::MemberRemoved,
    EventKind::AdminsAdded,
    EventKind::AdminRemoved,
    EventKind::ColorChanged,
    EventKind::ImageChanged,
];

fn has_target(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::MembersAdded
            | EventKind::MemberRemoved
            | EventKind::AdminsAdded
            | EventKind::AdminRemoved
    )
}

/// The spec, written out. `Ok` means the event is accepted.
fn expected(kind: EventKind, author: Role, target: Target) -> Result<(), RejectReason> {
    use RejectReason::*;
    use Role::*;
    let admin = author == Admin;
    let member = author != Outsider;
    match kind {
        // The group exists already: a second CHAT_CREATED never applies.
        EventKind::ChatCreated => Err(AlreadyCreated),
        // "group admins MUST use ..." (name, colour, image, adding members).
        EventKind::NameChanged | EventKind::ColorChanged | EventKind::ImageChanged => {
            if admin {
                Ok(())
            } else {
                Err(NotAdmin)
            }
        }
        EventKind::MembersAdded => {
            if admin {
                Ok(())
            } else {
                Err(NotAdmin)
            }
        }
        // An invited member joins; joined members re-joining is idempotent.
        EventKind::MemberJoined => {
            if member {
                Ok(())
            } else {
                Err(NotMember)
            }
        }
        EventKind::MemberRemoved => match target {
            // Leaving: any member, admins included.
            Target::Myself => {
                if member {
                    Ok(())
                } else {
                    Err(NotMember)
                }
            }
            Target::Role(t) => {
                if !admin {
                    Err(NotAdmin)
                } else if t == Outsider {
                    Err(TargetNotMember)
                } else if t == Admin {
                    // "Group admins MUST NOT be able to remove other group admins."
                    Err(TargetIsAdmin)
                } else {
                    Ok(())
                }
            }
        },
        // Admins only; every target must be a member (invited counts).
        EventKind::AdminsAdded => {
            let target_is_member = match target {
                Target::Myself => member,
                Target::Role(t) => t != Outsider,
            };
            if !admin {
                Err(NotAdmin)
            } else if !target_is_member {
                Err(TargetNotMember)
            } else {
                Ok(())
            }
        }
        // "An admin MAY remove themselves": only oneself, only admins.
        EventKind::AdminRemoved => match target {
            Target::Myself => {
                if admin {
                    Ok(())
                } else {
                    Err(NotAdmin)
                }
            }
            Target::Role(_) => Err(NotSelf),
        },
        _ => unreachable!(),
    }
}

struct Fixture {
    cast: Cast,
    group: Group,
}

impl Fixture {
    fn key(&self, role: Role) -> &IdentityKeyPair {
        match role {
            Role::Admin => &self.cast.bob,
            Role::Member => &self.cast.carol,
            Role::Invited => &self.cast.dave,
            Role::Outsider => &self.cast.erin,
        }
    }

    fn target(&self, author: Role, target: Target) -> MemberId {
        match target {
            Target::Myself => id(self.key(author)),
            // A target of the author's own role is another person with that role.
            Target::Role(role) if role == author => id(match role {
                Role::Admin => &self.cast.alice,
                Role::Member => &self.cast.frank,
                Role::Invited => &self.cast.grace,
                Role::Outsider => &self.cast.heidi,
            }),
            Target::Role(role) => id(self.key(role)),
        }
    }
}

fn event_for(kind: EventKind, target: MemberId) -> Event {
    match kind {
        EventKind::ChatCreated => Event::ChatCreated { name: "again".into(), color: String::new() },
        EventKind::NameChanged => Event::NameChanged { name: "renamed".into() },
        EventKind::MembersAdded => Event::MembersAdded { members: vec![target] },
        EventKind::MemberJoined => Event::MemberJoined,
        EventKind::MemberRemoved => Event::MemberRemoved { member: target },
        EventKind::AdminsAdded => Event::AdminsAdded { admins: vec![target] },
        EventKind::AdminRemoved => Event::AdminRemoved { admin: target },
        EventKind::ColorChanged => Event::ColorChanged { color: "#445566".into() },
        EventKind::ImageChanged => Event::ImageChanged { image: vec![0x89, 0x50] },
        _ => unreachable!(),
    }
}

#[test]
fn fixture_has_every_role() {
    let f = Fixture { cast: Cast::new(), group: Cast::new().group() };
    let s = f.group.state();
    assert!(s.is_admin(&id(&f.cast.alice)) && s.is_joined(&id(&f.cast.alice)));
    assert!(s.is_admin(&id(&f.cast.bob)) && s.is_joined(&id(&f.cast.bob)));
    assert!(!s.is_admin(&id(&f.cast.carol)) && s.is_joined(&id(&f.cast.carol)));
    assert_eq!(s.status(&id(&f.cast.dave)), Some(MemberStatus::Invited));
    assert!(!s.is_member(&id(&f.cast.erin)));
    assert!(f.group.fold().rejected().len() == 0);
}

#[test]
fn every_kind_author_and_target() {
    let cast = Cast::new();
    let group = cast.group();
    let f = Fixture { cast, group };
    let clock = LamportTime(f.group.clock().0 + 1);
    let mut cases = 0;
    for kind in KINDS {
        for author in ROLES {
            let targets: &[Target] = if has_target(kind) { &TARGETS } else { &[Target::Myself] };
            for &target in targets {
                let event = event_for(kind, f.target(author, target));
                let signed =
                    VerifiedEvent::sign(f.key(author), f.group.id(), clock, &event).unwrap();
                // Through the log and fold, as a receiver sees it.
                let mut log = f.group.log().clone();
                log.insert(signed.clone()).unwrap();
                let fold = log.fold();
                let got = fold.rejection(&signed.id()).map_or(Ok(()), Err);
                let want = expected(kind, author, target);
                assert_eq!(got, want, "{kind:?} by {author:?} on {target:?}");
                if want.is_err() {
                    assert_eq!(fold.state(), f.group.state(), "a rejected event changes nothing");
                }
                // Through the local API: the same verdict before anything is signed.
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 4 * (5 * 4 + 5));
}

#[test]
fn local_actions_get_the_same_verdict_and_change_nothing_on_rejection() {
    let cast = Cast::new();
    let group = cast.group();
    let t = NOW + 1_000;
    let carol = &cast.carol;
    let checks: Vec<(Result<_, ActionError>, RejectReason)> = {
        let mut g = group.clone();
        vec![
            (g.rename(carol, "x", t), RejectReason::NotAdmin),
            (g.change_color(carol, "#000", t), RejectReason::NotAdmin),
            (g.change_image(carol, &[1], t), RejectReason::NotAdmin),
            (g.add_members(carol, &[id(&cast.erin)], t), RejectReason::NotAdmin),
            (g.add_admins(carol, &[id(carol)], t), RejectReason::NotAdmin),
            (g.remove_member(carol, &id(&cast.dave), t), RejectReason::NotAdmin),
            (g.remove_admin_self(carol, t), RejectReason::NotAdmin),
            (g.remove_member(&cast.bob, &id(&cast.alice), t), RejectReason::TargetIsAdmin),
            (g.remove_member(&cast.alice, &id(&cast.erin), t), RejectReason::TargetNotMember),
            (g.add_admins(&cast.alice, &[id(&cast.erin)], t), RejectReason::TargetNotMember),
            (g.join(&cast.erin, t), RejectReason::NotMember),
            (g.leave(&cast.erin, t), RejectReason::NotMember),
        ]
        .into_iter()
        .map(|(r, reason)| {
            assert_eq!(g, group, "state unchanged after {reason:?}");
            (r.map(|_| ()), reason)
        })
        .collect()
    };
    for (result, reason) in checks {
        assert_eq!(result, Err(ActionError::Rejected { reason }));
    }
}

#[test]
fn effects_of_accepted_events() {
    let cast = Cast::new();
    let mut g = cast.group();
    let mut t = NOW + 10_000;
    let mut tick = || {
        t += 1;
        t
    };
    let (alice, bob, carol, dave, erin) =
        (id(&cast.alice), id(&cast.bob), id(&cast.carol), id(&cast.dave), id(&cast.erin));

    g.rename(&cast.bob, "renamed", tick()).unwrap();
    g.change_color(&cast.bob, "#abcdef", tick()).unwrap();
    g.change_image(&cast.alice, &[7, 7], tick()).unwrap();
    assert_eq!(
        (g.state().name(), g.state().color(), g.state().image()),
        ("renamed", "#abcdef", &[7u8, 7][..])
    );

    g.add_members(&cast.alice, &[erin], tick()).unwrap();
    assert_eq!(g.state().status(&erin), Some(MemberStatus::Invited));
    g.join(&cast.erin, tick()).unwrap();
    assert_eq!(g.state().status(&erin), Some(MemberStatus::Joined));
    // Invited members can be made admins; they stay invited.
    g.add_admins(&cast.alice, &[dave], tick()).unwrap();
    assert!(g.state().is_admin(&dave) && !g.state().is_joined(&dave));
    // An admin leaving loses both roles.
    g.leave(&cast.dave, tick()).unwrap();
    assert!(!g.state().is_member(&dave) && !g.state().is_admin(&dave));
    // Admin steps down, then can be removed by another admin.
    g.remove_admin_self(&cast.bob, tick()).unwrap();
    assert!(!g.state().is_admin(&bob) && g.state().is_joined(&bob));
    g.remove_member(&cast.alice, &bob, tick()).unwrap();
    assert!(!g.state().is_member(&bob));
    // Removed, re-added: invited again, must re-join.
    g.add_members(&cast.alice, &[bob], tick()).unwrap();
    assert_eq!(g.state().status(&bob), Some(MemberStatus::Invited));
    // The last admin may leave; membership is then frozen.
    g.leave(&cast.alice, tick()).unwrap();
    assert_eq!(g.state().admins().count(), 0);
    assert_eq!(
        g.add_members(&cast.carol, &[alice], tick()).map(|_| ()),
        Err(ActionError::Rejected { reason: RejectReason::NotAdmin })
    );
    assert!(g.fold().rejected().len() == 0);
    let _ = carol;
}

#[test]
fn creation_rules() {
    let alice = keypair(1);
    let mallory = keypair(9);
    let (g, _) = Group::create(&alice, "g", "", &[], &mut rng(7), NOW).unwrap();
    let group = g.id().clone();
    let sign = |k: &IdentityKeyPair, clock: u64, e: Event| {
        VerifiedEvent::sign(k, &group, LamportTime(clock), &e).unwrap()
    };
    let created = sign(&alice, 10, Event::ChatCreated { name: "g".into(), color: String::new() });
    let early = sign(&alice, 5, Event::NameChanged { name: "early".into() });
    let forged_creation =
        sign(&mallory, 3, Event::ChatCreated { name: "m".into(), color: String::new() });
    let after = sign(&alice, 11, Event::NameChanged { name: "late".into() });

    let mut log = MembershipLog::new(group.clone());
    for e in [&created, &early, &forged_creation, &after] {
        log.insert(e.clone()).unwrap();
    }
    let fold = log.fold();
    assert_eq!(fold.rejection(&forged_creation.id()), Some(RejectReason::NotCreator));
    assert_eq!(fold.rejection(&early.id()), Some(RejectReason::BeforeCreation));
    assert_eq!(fold.rejection(&created.id()), None);
    assert_eq!(fold.state().name(), "late");

    // An equal clock breaks the tie by event id: exactly one of two creations applies.
    let twin = sign(&alice, 10, Event::ChatCreated { name: "twin".into(), color: String::new() });
    log.insert(twin.clone()).unwrap();
    let fold = log.fold();
    let (first, second) =
        if twin.id() < created.id() { (&twin, &created) } else { (&created, &twin) };
    assert_eq!(fold.rejection(&first.id()), None);
    assert_eq!(fold.rejection(&second.id()), Some(RejectReason::AlreadyCreated));
    let _ = MemberId::new(alice.public_key());
}
