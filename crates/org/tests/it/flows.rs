//! Every owner-side flow, including the refusals.

use std::collections::BTreeSet;

use kaiwa_org::{
    Access, Actor, AdminSettings, Category, CategoryId, Channel, ChannelId, FlowError, GrantError,
    Identity, Invitation, JoinRequest, LamportTime, ModerationError, Permissions, RequestError,
    RequestOutcome, ResponseError, Role,
};

use super::common::{NOW, Person, create, deliver, follow, rng};

fn join_request(
    view: &kaiwa_org::OrganizationView,
    p: &Person,
    clock: u64,
    r: &mut rand_chacha::ChaCha20Rng,
) -> Vec<u8> {
    view.join_request(&p.id, &p.dh.public_key(), &JoinRequest::new(LamportTime(clock)), r).unwrap()
}

#[test]
fn no_membership_accepts_at_once_and_the_member_opens_the_response() {
    let mut r = rng(1);
    let founder = Person::new(&mut r);
    let bob = Person::new(&mut r);
    let (mut org, _) = create(&founder, Access::NoMembership, true, &mut r);
    let mut view = follow(&org, &bob);
    let request = join_request(&view, &bob, 1, &mut r);
    let RequestOutcome::Accepted(admission) =
        org.handle_request(&request, NOW + 1, &mut r).unwrap()
    else {
        panic!("NO_MEMBERSHIP must accept")
    };
    assert_eq!(admission.member, bob.member);
    assert!(org.description().is_member(&bob.member));
    let response = view.open_response(&admission.response, &bob.dh, NOW + 2).unwrap();
    assert!(response.accepted);
    let grant = response.grant.unwrap();
    assert_eq!(grant.grant().member, bob.member);
    assert_eq!(grant.grant().org, org.id());
    // The embedded description was applied.
    assert!(view.description().unwrap().is_member(&bob.member));
    // The re-key reaches Bob.
    assert_eq!(deliver(&mut view, &admission.update, &bob.dh), 1);
    // A second request from a member is refused.
    let again = join_request(&view, &bob, 2, &mut r);
    assert_eq!(org.handle_request(&again, NOW + 3, &mut r), Err(RequestError::AlreadyMember));
}

#[test]
fn on_request_waits_then_accept_reject_and_cancel() {
    let mut r = rng(2);
    let founder = Person::new(&mut r);
    let (bob, carol, dave) = (Person::new(&mut r), Person::new(&mut r), Person::new(&mut r));
    let (mut org, _) = create(&founder, Access::OnRequest, true, &mut r);
    let clock_before = org.description().clock();

    let bob_view = follow(&org, &bob);
    let outcome =
        org.handle_request(&join_request(&bob_view, &bob, 1, &mut r), NOW, &mut r).unwrap();
    assert_eq!(outcome, RequestOutcome::Pending { member: bob.member });
    assert_eq!(org.description().clock(), clock_before, "a pending request changes no description");
    // A replayed (same clock) request is stale.
    assert_eq!(
        org.handle_request(&join_request(&bob_view, &bob, 1, &mut r), NOW, &mut r),
        Err(RequestError::Stale { stored: 1, received: 1 })
    );

    // A plain member may not accept; the owner may.
    let admission_err = org.accept(&Actor::Member(bob.member), &bob.member, NOW, &mut r);
    assert_eq!(admission_err.err(), Some(FlowError::NotAuthorized { action: "accept requests" }));
    let admission = org.accept(&Actor::Owner, &bob.member, NOW + 10, &mut r).unwrap();
    assert!(org.description().is_member(&bob.member));
    assert!(org.pending().is_empty());
    assert!(!admission.update.rekeys.is_empty(), "adding a member re-keys");

    // Carol is rejected by a manager (founder has ROLE_ALL).
    let carol_view = follow(&org, &carol);
    org.handle_request(&join_request(&carol_view, &carol, 1, &mut r), NOW, &mut r).unwrap();
    let refusal = org.reject(&Actor::Member(founder.member), &carol.member, &mut r).unwrap();
    let mut carol_view = carol_view;
    let response = carol_view.open_response(&refusal, &carol.dh, NOW).unwrap();
    assert!(!response.accepted);
    assert!(response.grant.is_none());
    assert!(!org.description().is_member(&carol.member));

    // Dave cancels; an older cancel is stale, then nothing is pending.
    let dave_view = follow(&org, &dave);
    org.handle_request(&join_request(&dave_view, &dave, 5, &mut r), NOW, &mut r).unwrap();
    let stale_cancel = dave_view.cancel_request(&dave.id, LamportTime(4), &mut r).unwrap();
    assert_eq!(
        org.handle_request(&stale_cancel, NOW, &mut r),
        Err(RequestError::Stale { stored: 5, received: 4 })
    );
    let cancel = dave_view.cancel_request(&dave.id, LamportTime(6), &mut r).unwrap();
    assert_eq!(
        org.handle_request(&cancel, NOW, &mut r),
        Ok(RequestOutcome::Cancelled { member: dave.member })
    );
    assert_eq!(
        org.accept(&Actor::Owner, &dave.member, NOW, &mut r).err(),
        Some(FlowError::NotPending)
    );
}

#[test]
fn invitation_only_requires_a_valid_invitation_for_the_requester() {
    let mut r = rng(3);
    let founder = Person::new(&mut r);
    let (bob, eve) = (Person::new(&mut r), Person::new(&mut r));
    let (mut org, _) = create(&founder, Access::InvitationOnly, true, &mut r);

    // No invitation: refused.
    let bob_view = follow(&org, &bob);
    assert_eq!(
        org.handle_request(&join_request(&bob_view, &bob, 1, &mut r), NOW, &mut r),
        Err(RequestError::InvitationRequired)
    );

    // Only the owner invites.
    assert_eq!(
        org.invite(&Actor::Member(founder.member), &bob.member, None, NOW).err(),
        Some(FlowError::NotAuthorized { action: "invite" })
    );
    let invitation_bytes = org.invite(&Actor::Owner, &bob.member, None, NOW).unwrap();

    // Eve cannot use Bob's invitation: neither to open it nor to present it.
    assert!(matches!(
        Invitation::verify(&invitation_bytes, &eve.member, NOW),
        Err(ResponseError::Grant(GrantError::WrongMember))
    ));
    let invitation = Invitation::verify(&invitation_bytes, &bob.member, NOW).unwrap();
    assert_eq!(invitation.org(), &org.id());
    let eve_view = follow(&org, &eve);
    let mut stolen = JoinRequest::new(LamportTime(1));
    stolen.invitation_grant = Some(invitation.grant().bytes().to_vec());
    let eve_request =
        eve_view.join_request(&eve.id, &eve.dh.public_key(), &stolen, &mut r).unwrap();
    assert_eq!(
        org.handle_request(&eve_request, NOW, &mut r),
        Err(RequestError::Grant(GrantError::WrongMember))
    );

    // Expired invitation: refused.
    let mut with_grant = JoinRequest::new(LamportTime(2));
    with_grant.invitation_grant = Some(invitation.grant().bytes().to_vec());
    let late = bob_view.join_request(&bob.id, &bob.dh.public_key(), &with_grant, &mut r).unwrap();
    let expiry = invitation.grant().grant().expires_ms;
    assert!(matches!(
        org.handle_request(&late, expiry, &mut r),
        Err(RequestError::Grant(GrantError::Expired { .. }))
    ));

    // Forged invitation (signed by another key): refused.
    let mut forger_rng = rng(33);
    let forger = Person::new(&mut forger_rng);
    let (mut other_org, _) = create(&forger, Access::InvitationOnly, true, &mut forger_rng);
    let foreign = other_org.invite(&Actor::Owner, &bob.member, None, NOW).unwrap();
    let foreign = Invitation::verify(&foreign, &bob.member, NOW).unwrap();
    let mut forged = JoinRequest::new(LamportTime(3));
    forged.invitation_grant = Some(foreign.grant().bytes().to_vec());
    let forged = bob_view.join_request(&bob.id, &bob.dh.public_key(), &forged, &mut r).unwrap();
    assert_eq!(
        org.handle_request(&forged, NOW, &mut r),
        Err(RequestError::Grant(GrantError::Unauthenticated))
    );
    assert!(!org.description().is_member(&bob.member));

    // The genuine invitation in time: accepted.
    let ok = bob_view.join_request(&bob.id, &bob.dh.public_key(), &with_grant, &mut r).unwrap();
    assert!(matches!(org.handle_request(&ok, NOW + 1, &mut r), Ok(RequestOutcome::Accepted(_))));
}

#[test]
fn banned_keys_cannot_rejoin_and_their_grants_are_revoked() {
    let mut r = rng(4);
    let founder = Person::new(&mut r);
    let bob = Person::new(&mut r);
    let (mut org, _) = create(&founder, Access::NoMembership, true, &mut r);
    let view = follow(&org, &bob);
    org.handle_request(&join_request(&view, &bob, 1, &mut r), NOW, &mut r).unwrap();

    // Only the owner bans.
    assert_eq!(
        org.ban(&Actor::Member(founder.member), &bob.member, NOW, &mut r).err(),
        Some(FlowError::NotAuthorized { action: "ban" })
    );
    let update = org.ban(&Actor::Owner, &bob.member, NOW + 5, &mut r).unwrap();
    assert!(!update.rekeys.is_empty(), "a ban re-keys");
    assert!(org.description().banned().contains(&bob.member));
    assert!(!org.description().is_member(&bob.member));
    assert_eq!(org.ban(&Actor::Owner, &bob.member, NOW + 6, &mut r).err(), Some(FlowError::Banned));

    // Rejoining is refused everywhere: request, invitation.
    assert_eq!(
        org.handle_request(&join_request(&view, &bob, 2, &mut r), NOW + 7, &mut r),
        Err(RequestError::Banned)
    );
    assert_eq!(org.invite(&Actor::Owner, &bob.member, None, NOW).err(), Some(FlowError::Banned));

    // An invitation issued before a ban is revoked by it, even under another access mode.
    let carol = Person::new(&mut r);
    let invitation = org.invite(&Actor::Owner, &carol.member, None, NOW).unwrap();
    let invitation = Invitation::verify(&invitation, &carol.member, NOW).unwrap();
    org.ban(&Actor::Owner, &carol.member, NOW + 8, &mut r).unwrap();
    org.unban(&Actor::Owner, &carol.member, NOW + 9, &mut r).unwrap();
    let carol_view = follow(&org, &carol);
    let mut request = JoinRequest::new(LamportTime(1));
    request.invitation_grant = Some(invitation.grant().bytes().to_vec());
    let request =
        carol_view.join_request(&carol.id, &carol.dh.public_key(), &request, &mut r).unwrap();
    assert_eq!(
        org.handle_request(&request, NOW + 10, &mut r),
        Err(RequestError::Grant(GrantError::Revoked))
    );

    // After an unban, Bob may request again.
    org.unban(&Actor::Owner, &bob.member, NOW + 11, &mut r).unwrap();
    assert!(matches!(
        org.handle_request(&join_request(&view, &bob, 3, &mut r), NOW + 12, &mut r),
        Ok(RequestOutcome::Accepted(_))
    ));
}

#[test]
fn leave_and_kick_remove_the_member_and_rekey() {
    let mut r = rng(5);
    let founder = Person::new(&mut r);
    let (bob, carol, mallory) = (Person::new(&mut r), Person::new(&mut r), Person::new(&mut r));
    let (mut org, _) = create(&founder, Access::NoMembership, true, &mut r);
    for p in [&bob, &carol, &mallory] {
        let v = follow(&org, p);
        org.handle_request(&join_request(&v, p, 1, &mut r), NOW, &mut r).unwrap();
    }
    let epoch_before = org.current_epoch(&org.id().group()).unwrap();

    // Bob leaves.
    let bob_view = follow(&org, &bob);
    let leave = bob_view.leave_request(&bob.id, LamportTime(2), &mut r).unwrap();
    let RequestOutcome::Left { member, update } =
        org.handle_request(&leave, NOW + 1, &mut r).unwrap()
    else {
        panic!("leave")
    };
    assert_eq!(member, bob.member);
    assert!(!update.rekeys.is_empty());
    assert!(org.current_epoch(&org.id().group()).unwrap() > epoch_before);
    assert_eq!(org.handle_request(&leave, NOW + 2, &mut r), Err(RequestError::NotMember));

    // A plain member may not kick; a manager may kick plain members but not role holders.
    assert_eq!(
        org.kick(&Actor::Member(carol.member), &mallory.member, NOW, &mut r).err(),
        Some(FlowError::NotAuthorized { action: "kick" })
    );
    org.set_roles(
        &Actor::Owner,
        &carol.member,
        BTreeSet::from([Role::ManageUsers]),
        NOW + 3,
        &mut r,
    )
    .unwrap();
    assert_eq!(
        org.kick(&Actor::Member(carol.member), &founder.member, NOW, &mut r).err(),
        Some(FlowError::NotAuthorized { action: "kick a member with a role" })
    );
    let kick = org.kick(&Actor::Member(carol.member), &mallory.member, NOW + 4, &mut r).unwrap();
    assert!(!org.description().is_member(&mallory.member));
    let mallory_view = follow(&org, &mallory);
    assert_eq!(mallory_view.verify_kick_notice(&kick.notice), Ok(org.description().clock()));
    assert_eq!(
        org.kick(&Actor::Owner, &mallory.member, NOW, &mut r).err(),
        Some(FlowError::UnknownMember)
    );
}

#[test]
fn channels_categories_roles_and_settings_are_owner_only() {
    let mut r = rng(6);
    let founder = Person::new(&mut r);
    let (mut org, _) = create(&founder, Access::NoMembership, true, &mut r);
    let admin = Actor::Member(founder.member); // has ROLE_ALL, still not the owner
    let before = org.to_record();
    let general = ChannelId::new("general").unwrap();
    let news = CategoryId::new("news").unwrap();
    let channel = Channel::open("general", Access::NoMembership);
    let refused =
        |e: Result<kaiwa_org::Update, FlowError>| matches!(e, Err(FlowError::NotAuthorized { .. }));

    assert!(refused(org.create_channel(&admin, &general, channel.clone(), NOW, &mut r)));
    assert!(refused(org.create_category(
        &admin,
        &news,
        Category { name: "News".into(), position: 0 },
        NOW,
        &mut r
    )));
    assert!(refused(org.set_identity(&admin, Identity::named("x"), NOW, &mut r)));
    assert!(refused(org.set_permissions(&admin, Permissions::new(Access::OnRequest), NOW, &mut r)));
    assert!(refused(org.set_admin_settings(&admin, AdminSettings::default(), NOW, &mut r)));
    assert!(refused(org.set_tags(&admin, vec!["rust".into()], NOW, &mut r)));
    assert!(refused(org.set_encrypted(&admin, false, NOW, &mut r)));
    assert!(refused(org.set_roles(&admin, &founder.member, BTreeSet::new(), NOW, &mut r)));
    assert_eq!(org.to_record().expose_secret(), before.expose_secret(), "refusals change nothing");

    org.create_category(
        &Actor::Owner,
        &news,
        Category { name: "News".into(), position: 1 },
        NOW,
        &mut r,
    )
    .unwrap();
    let mut categorized = channel.clone();
    categorized.category = Some(news.clone());
    org.create_channel(&Actor::Owner, &general, categorized.clone(), NOW, &mut r).unwrap();
    assert_eq!(
        org.create_channel(&Actor::Owner, &general, channel.clone(), NOW, &mut r).err(),
        Some(FlowError::Exists { what: "channel" })
    );
    // A channel in an unknown category, or with a non-member in its list, is invalid.
    let mut dangling = channel.clone();
    dangling.category = Some(CategoryId::new("nope").unwrap());
    assert!(matches!(
        org.create_channel(&Actor::Owner, &ChannelId::new("x").unwrap(), dangling, NOW, &mut r),
        Err(FlowError::Invalid(_))
    ));
    let stranger = Person::new(&mut r);
    let outsider_channel = Channel::private("secret", Access::InvitationOnly, [stranger.member]);
    assert!(matches!(
        org.create_channel(
            &Actor::Owner,
            &ChannelId::new("y").unwrap(),
            outsider_channel,
            NOW,
            &mut r
        ),
        Err(FlowError::Invalid(_))
    ));

    let mut renamed = categorized;
    renamed.identity = Identity::named("lobby");
    org.edit_channel(&Actor::Owner, &general, renamed, NOW, &mut r).unwrap();
    assert_eq!(org.description().channels()[&general].identity.display_name, "lobby");
    org.edit_category(
        &Actor::Owner,
        &news,
        Category { name: "Updates".into(), position: 2 },
        NOW,
        &mut r,
    )
    .unwrap();
    org.delete_category(&Actor::Owner, &news, NOW, &mut r).unwrap();
    assert_eq!(org.description().channels()[&general].category, None);
    org.set_tags(&Actor::Owner, vec!["rust".into(), "waku".into()], NOW, &mut r).unwrap();
    assert!(matches!(
        org.set_tags(&Actor::Owner, vec!["dup".into(), "dup".into()], NOW, &mut r),
        Err(FlowError::Invalid(_))
    ));
    org.set_identity(&Actor::Owner, Identity::named("kaiwa club"), NOW, &mut r).unwrap();
    org.delete_channel(&Actor::Owner, &general, NOW, &mut r).unwrap();
    assert_eq!(
        org.delete_channel(&Actor::Owner, &general, NOW, &mut r).err(),
        Some(FlowError::UnknownChannel)
    );
    // NO_MEMBERSHIP with `private` is refused (organisation-channels draft).
    assert!(matches!(
        org.set_permissions(
            &Actor::Owner,
            Permissions { ens_only: false, private: true, access: Access::NoMembership },
            NOW,
            &mut r
        ),
        Err(FlowError::Invalid(_))
    ));
}

#[test]
fn pinning_and_deletion_follow_roles_and_settings() {
    let mut r = rng(7);
    let founder = Person::new(&mut r);
    let (bob, carol) = (Person::new(&mut r), Person::new(&mut r));
    let (mut org, _) = create(&founder, Access::NoMembership, true, &mut r);
    let general = ChannelId::new("general").unwrap();
    org.create_channel(
        &Actor::Owner,
        &general,
        Channel::open("general", Access::NoMembership),
        NOW,
        &mut r,
    )
    .unwrap();
    for p in [&bob, &carol] {
        let v = follow(&org, p);
        org.handle_request(&join_request(&v, p, 1, &mut r), NOW, &mut r).unwrap();
    }
    org.set_roles(
        &Actor::Owner,
        &carol.member,
        BTreeSet::from([Role::ModerateContent]),
        NOW,
        &mut r,
    )
    .unwrap();
    let view = follow(&org, &bob);

    assert_eq!(
        view.check_pin(&bob.member, &general),
        Err(ModerationError::NotAuthorized { action: "pin messages" })
    );
    assert_eq!(view.check_pin(&carol.member, &general), Ok(()));
    assert_eq!(view.check_pin(&founder.member, &general), Ok(()), "ROLE_ALL moderates");
    assert_eq!(view.check_delete(&bob.member, &bob.member, &general), Ok(()));
    assert_eq!(
        view.check_delete(&bob.member, &carol.member, &general),
        Err(ModerationError::NotAuthorized { action: "delete others' messages" })
    );
    assert_eq!(view.check_delete(&carol.member, &bob.member, &general), Ok(()));
    let outsider = Person::new(&mut r);
    assert_eq!(view.check_pin(&outsider.member, &general), Err(ModerationError::NotMember));
    assert_eq!(
        view.check_pin(&bob.member, &ChannelId::new("nope").unwrap()),
        Err(ModerationError::UnknownChannel)
    );

    org.set_admin_settings(
        &Actor::Owner,
        AdminSettings { pin_message_all_members_enabled: true },
        NOW,
        &mut r,
    )
    .unwrap();
    let view = follow(&org, &bob);
    assert_eq!(view.check_pin(&bob.member, &general), Ok(()));
}

#[test]
fn periodic_rekey_and_key_resend() {
    let mut r = rng(8);
    let founder = Person::new(&mut r);
    let (mut org, created) = create(&founder, Access::NoMembership, true, &mut r);
    let mut view = founder.view(org.id());
    assert_eq!(deliver(&mut view, &created, &founder.dh), 1);
    let group = org.id().group();
    assert!(!org.rekey_due(NOW + 1));
    let none = org.rekey_expired(NOW + 1, &mut r).unwrap();
    assert!(none.rekeys.is_empty());
    let later = NOW + kaiwa_org::limits::REKEY_INTERVAL_MS;
    assert!(org.rekey_due(later));
    let update = org.rekey_expired(later, &mut r).unwrap();
    assert!(update.description.is_empty());
    assert_eq!(org.current_epoch(&group), Some(kaiwa_org::Epoch(2)));
    assert_eq!(deliver(&mut view, &update, &founder.dh), 1);
    // Keys re-sent to one member install nothing new but are found.
    let resent = org.resend_keys(&founder.member, later, &mut r).unwrap();
    assert_eq!(resent.len(), 1);
    assert_eq!(
        view.apply_rekey(&resent[0], &founder.dh),
        Ok(kaiwa_org::RekeyOutcome::AlreadyKnown)
    );
    let stranger = Person::new(&mut r);
    assert_eq!(
        org.resend_keys(&stranger.member, later, &mut r).err(),
        Some(FlowError::UnknownMember)
    );
}
