//! The organization description: the signed, Lamport-clocked state every member follows.
//!
//! ```text
//! published = ApplicationMetadataMessage{type = ORGANIZATION_DESCRIPTION, author = org_id,
//!               payload = OrganizationDescription bytes,
//!               signature = Ed25519(org key, ctx ‖ BE32(25) ‖ payload)}
//!             ctx = "kaiwa/org/description/v1"
//! accept(received) iff  author == org_id  and  signature verifies over the bytes received
//!                       and payload.organization_id == org_id
//!                       and payload passes every check below
//!                       and (stored is none  or  clock > stored.clock
//!                            or (clock == stored.clock and bytes == stored.bytes))  [idempotent]
//! ```
//!
//! Checks on the payload (DECISIONS "Organizations"; status-go `ValidateCommunityDescription`,
//! digest §11.2; the seed's wire, digest §11.1):
//! - `clock > 0`; `organization_id` 32 bytes; `request_dh_key` 32 bytes;
//! - `permissions` present with a known `access`; `NO_MEMBERSHIP ⇒ !private` (organisation
//!   channels draft, digest §16.16);
//! - member map keys are text ids (`0x` + 64 lowercase hex); roles known, at most 3;
//!   `member_dh_keys` has exactly the keys of `members`, each 32 bytes;
//! - every chat: `permissions` and `identity` present, `category_id` empty or a category,
//!   `members ⊆ members` of the organization, `members` empty unless the chat is private
//!   (a private chat has its own member list and key epochs);
//! - every category: map key == `category_id`, non-empty name;
//! - `ban_list ∩ members = ∅`, no duplicate in `ban_list` or `tags`;
//! - every count and string within `limits.rs`.
//!
//! `ens_only`, `ens_name` and `ENS_AVATAR` images are carried and never acted on (no ENS here).

use std::collections::{BTreeMap, BTreeSet};

use kaiwa_crypto::{DhPublicKey, IdentityKeyPair, sha256};
use kaiwa_wire::net as wire;
use kaiwa_wire::net::application_metadata_message::Type;
use kaiwa_wire::net::organization_member::Roles as WireRole;
use kaiwa_wire::net::organization_permissions::Access as WireAccess;
use prost::Message as _;

use crate::envelope::{self, DESCRIPTION_CONTEXT, EnvelopeError, UnverifiedEnvelope};
use crate::error::{DecodeError, DescriptionError};
use crate::id::{CategoryId, ChannelId, LamportTime, MemberId, OrgId};
use crate::limits::{
    MAX_BANNED, MAX_CATEGORIES, MAX_CHANNELS, MAX_DESCRIPTION_BYTES, MAX_ID_BYTES, MAX_IMAGE_BYTES,
    MAX_IMAGE_KEYS, MAX_IMAGES, MAX_MEMBERS, MAX_NAME_BYTES, MAX_ROLES, MAX_TAG_BYTES, MAX_TAGS,
    MAX_TEXT_BYTES,
};

/// A member's role (seed `OrganizationMember.Roles`; powers from DECISIONS "Roles").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Every power a member can be delegated: manage users and moderate content.
    All,
    /// May accept and reject join requests and kick members.
    ManageUsers,
    /// May delete and pin other members' messages.
    ModerateContent,
}

impl Role {
    fn to_wire(self) -> i32 {
        match self {
            Self::All => WireRole::RoleAll as i32,
            Self::ManageUsers => WireRole::RoleManageUsers as i32,
            Self::ModerateContent => WireRole::RoleModerateContent as i32,
        }
    }

    fn from_wire(value: i32) -> Result<Self, DecodeError> {
        match WireRole::try_from(value) {
            Ok(WireRole::RoleAll) => Ok(Self::All),
            Ok(WireRole::RoleManageUsers) => Ok(Self::ManageUsers),
            Ok(WireRole::RoleModerateContent) => Ok(Self::ModerateContent),
            _ => Err(DecodeError::Field { field: "roles" }),
        }
    }
}

/// Who may join (seed `OrganizationPermissions.Access`; rules from DECISIONS "Access").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Requests are accepted automatically.
    NoMembership,
    /// Requests need an invitation grant.
    InvitationOnly,
    /// Requests wait for the owner (or a member with `ManageUsers`).
    OnRequest,
}

/// Permissions of the organization or of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permissions {
    /// Carried, never enforced: there is no ENS here.
    pub ens_only: bool,
    /// The seed's `private` flag (not listed publicly).
    pub private: bool,
    /// Who may join.
    pub access: Access,
}

impl Permissions {
    /// Permissions with the given access, not private, not ENS-only.
    #[must_use]
    pub const fn new(access: Access) -> Self {
        Self { ens_only: false, private: false, access }
    }
}

/// An image of an identity (seed `IdentityImage`). Enum fields keep their wire values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// Image bytes (or nothing for `ENS_AVATAR`).
    pub payload: Vec<u8>,
    /// `IdentityImage.SourceType` value (0..=2).
    pub source_type: i32,
    /// `ImageType` value (0..=4).
    pub image_type: i32,
    /// Carried as received.
    pub encryption_keys: Vec<Vec<u8>>,
    /// Carried as received.
    pub encrypted: bool,
}

/// Display metadata of the organization or a channel (seed `ChatIdentity` + 56's colour and
/// emoji).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Lamport clock of the identity itself.
    pub clock: u64,
    /// Carried, never resolved.
    pub ens_name: String,
    /// Images by name.
    pub images: BTreeMap<String, Image>,
    /// Display name.
    pub display_name: String,
    /// Free text.
    pub description: String,
    /// Colour (e.g. `#4360df`).
    pub color: String,
    /// Emoji.
    pub emoji: String,
}

impl Identity {
    /// An identity with just a display name.
    #[must_use]
    pub fn named(display_name: &str) -> Self {
        Self { display_name: display_name.to_owned(), ..Self::default() }
    }
}

/// A member of the organization: roles and the X25519 key epoch keys are wrapped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Roles (empty for a plain member).
    pub roles: BTreeSet<Role>,
    /// The member's X25519 identity key.
    pub dh_key: DhPublicKey,
}

/// A channel (seed `OrganizationChat`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    /// The channel's own member list and roles, used only by private channels
    /// (`permissions.private`); a public channel is open to every member and has none.
    pub members: BTreeMap<MemberId, BTreeSet<Role>>,
    /// Permissions of the channel; `private` gives it its own member list and key epochs.
    pub permissions: Permissions,
    /// Display metadata.
    pub identity: Identity,
    /// Category, if any.
    pub category: Option<CategoryId>,
    /// Sort position (56).
    pub position: i32,
}

impl Channel {
    /// A channel open to every member, with the given name.
    #[must_use]
    pub fn open(name: &str, access: Access) -> Self {
        Self {
            members: BTreeMap::new(),
            permissions: Permissions::new(access),
            identity: Identity::named(name),
            category: None,
            position: 0,
        }
    }

    /// A private channel with its own member list (and so its own key epochs).
    #[must_use]
    pub fn private(
        name: &str,
        access: Access,
        members: impl IntoIterator<Item = MemberId>,
    ) -> Self {
        Self {
            members: members.into_iter().map(|m| (m, BTreeSet::new())).collect(),
            permissions: Permissions { ens_only: false, private: true, access },
            identity: Identity::named(name),
            category: None,
            position: 0,
        }
    }

    /// Whether the channel is private: it has its own member list (possibly empty) and its own
    /// key epochs. Decided by the signed `permissions.private` flag, not by whether the list is
    /// empty, so removing a private channel's last member never opens it to everyone.
    #[must_use]
    pub fn has_own_members(&self) -> bool {
        self.permissions.private
    }
}

/// A category of channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    /// Display name (non-empty).
    pub name: String,
    /// Sort position (56).
    pub position: i32,
}

/// Settings for admins (seed `OrganizationAdminSettings`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdminSettings {
    /// Every member may pin messages (otherwise only moderators).
    pub pin_message_all_members_enabled: bool,
}

/// A validated organization description (see the module doc for every check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    pub(crate) org: OrgId,
    pub(crate) clock: LamportTime,
    pub(crate) members: BTreeMap<MemberId, Member>,
    pub(crate) permissions: Permissions,
    pub(crate) identity: Identity,
    pub(crate) channels: BTreeMap<ChannelId, Channel>,
    pub(crate) banned: BTreeSet<MemberId>,
    pub(crate) categories: BTreeMap<CategoryId, Category>,
    pub(crate) admin_settings: AdminSettings,
    pub(crate) encrypted: bool,
    pub(crate) tags: Vec<String>,
    pub(crate) request_dh_key: DhPublicKey,
}

impl Description {
    /// The organization.
    #[must_use]
    pub fn org(&self) -> &OrgId {
        &self.org
    }
    /// The Lamport clock.
    #[must_use]
    pub fn clock(&self) -> LamportTime {
        self.clock
    }
    /// Members and their roles and keys.
    #[must_use]
    pub fn members(&self) -> &BTreeMap<MemberId, Member> {
        &self.members
    }
    /// The organization's permissions.
    #[must_use]
    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }
    /// Display metadata.
    #[must_use]
    pub fn identity(&self) -> &Identity {
        &self.identity
    }
    /// Channels by id.
    #[must_use]
    pub fn channels(&self) -> &BTreeMap<ChannelId, Channel> {
        &self.channels
    }
    /// Banned keys.
    #[must_use]
    pub fn banned(&self) -> &BTreeSet<MemberId> {
        &self.banned
    }
    /// Categories by id.
    #[must_use]
    pub fn categories(&self) -> &BTreeMap<CategoryId, Category> {
        &self.categories
    }
    /// Admin settings.
    #[must_use]
    pub fn admin_settings(&self) -> &AdminSettings {
        &self.admin_settings
    }
    /// Whether channel messages are encrypted (false: public organization, messages signed only).
    #[must_use]
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }
    /// Tags.
    #[must_use]
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    /// The X25519 key requests are sealed to.
    #[must_use]
    pub fn request_dh_key(&self) -> &DhPublicKey {
        &self.request_dh_key
    }

    /// Whether `member` is a member (and, implied by validation, not banned).
    #[must_use]
    pub fn is_member(&self, member: &MemberId) -> bool {
        self.members.contains_key(member)
    }

    /// Whether `member` has `role` or [`Role::All`].
    #[must_use]
    pub fn has_role(&self, member: &MemberId, role: Role) -> bool {
        self.members
            .get(member)
            .is_some_and(|m| m.roles.contains(&role) || m.roles.contains(&Role::All))
    }

    /// Whether `member` may read and post in `channel`: an organization member, and in the
    /// channel's own member list if it has one.
    #[must_use]
    pub fn is_channel_member(&self, channel: &Channel, member: &MemberId) -> bool {
        self.is_member(member)
            && (!channel.has_own_members() || channel.members.contains_key(member))
    }

    /// Checks every rule of the module doc except those on the wire syntax.
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if self.clock.0 == 0 {
            return Err(DecodeError::Field { field: "clock" });
        }
        bound("members", self.members.len(), MAX_MEMBERS)?;
        bound("ban_list", self.banned.len(), MAX_BANNED)?;
        bound("chats", self.channels.len(), MAX_CHANNELS)?;
        bound("categories", self.categories.len(), MAX_CATEGORIES)?;
        bound("tags", self.tags.len(), MAX_TAGS)?;
        check_permissions(&self.permissions)?;
        check_identity(&self.identity)?;
        let mut tags = BTreeSet::new();
        for tag in &self.tags {
            bound("tag", tag.len(), MAX_TAG_BYTES)?;
            if tag.is_empty() || !tags.insert(tag.as_str()) {
                return Err(DecodeError::Field { field: "tags" });
            }
        }
        for member in self.members.values() {
            bound("roles", member.roles.len(), MAX_ROLES)?;
        }
        if self.banned.iter().any(|b| self.members.contains_key(b)) {
            return Err(DecodeError::Inconsistent { rule: "a banned key is a member" });
        }
        for category in self.categories.values() {
            bound("category name", category.name.len(), MAX_NAME_BYTES)?;
            if category.name.is_empty() {
                return Err(DecodeError::Missing { field: "category.name" });
            }
        }
        for channel in self.channels.values() {
            check_permissions(&channel.permissions)?;
            check_identity(&channel.identity)?;
            bound("chat members", channel.members.len(), MAX_MEMBERS)?;
            if !channel.has_own_members() && !channel.members.is_empty() {
                return Err(DecodeError::Inconsistent { rule: "member list on a public channel" });
            }
            if let Some(category) = &channel.category
                && !self.categories.contains_key(category)
            {
                return Err(DecodeError::Inconsistent { rule: "chat in an unknown category" });
            }
            for (member, roles) in &channel.members {
                bound("roles", roles.len(), MAX_ROLES)?;
                if !self.members.contains_key(member) {
                    return Err(DecodeError::Inconsistent {
                        rule: "chat member is not an organization member",
                    });
                }
            }
        }
        Ok(())
    }

    /// The wire form.
    pub(crate) fn to_wire(&self) -> wire::OrganizationDescription {
        wire::OrganizationDescription::from(self)
    }

    /// Parses and validates a payload (no signature involved).
    pub(crate) fn decode_payload(bytes: &[u8]) -> Result<Self, DecodeError> {
        bound("description bytes", bytes.len(), MAX_DESCRIPTION_BYTES)?;
        let message = wire::OrganizationDescription::decode(bytes)
            .map_err(|_| DecodeError::Protobuf { message: "OrganizationDescription" })?;
        Self::try_from(message)
    }
}

fn bound(what: &'static str, actual: usize, limit: usize) -> Result<(), DecodeError> {
    if actual > limit { Err(DecodeError::TooMany { what, limit, actual }) } else { Ok(()) }
}

fn check_permissions(p: &Permissions) -> Result<(), DecodeError> {
    if p.access == Access::NoMembership && p.private {
        return Err(DecodeError::Inconsistent { rule: "NO_MEMBERSHIP must not be private" });
    }
    Ok(())
}

fn check_identity(identity: &Identity) -> Result<(), DecodeError> {
    bound("display_name", identity.display_name.len(), MAX_NAME_BYTES)?;
    bound("ens_name", identity.ens_name.len(), MAX_NAME_BYTES)?;
    bound("color", identity.color.len(), MAX_NAME_BYTES)?;
    bound("emoji", identity.emoji.len(), MAX_NAME_BYTES)?;
    bound("description", identity.description.len(), MAX_TEXT_BYTES)?;
    bound("images", identity.images.len(), MAX_IMAGES)?;
    for (name, image) in &identity.images {
        bound("image name", name.len(), MAX_ID_BYTES)?;
        bound("image", image.payload.len(), MAX_IMAGE_BYTES)?;
        bound("encryption_keys", image.encryption_keys.len(), MAX_IMAGE_KEYS)?;
        for key in &image.encryption_keys {
            bound("encryption_key", key.len(), MAX_ID_BYTES)?;
        }
        if !(0..=2).contains(&image.source_type) {
            return Err(DecodeError::Field { field: "source_type" });
        }
        if !(0..=4).contains(&image.image_type) {
            return Err(DecodeError::Field { field: "image_type" });
        }
    }
    Ok(())
}

fn access_from_wire(value: i32) -> Result<Access, DecodeError> {
    match WireAccess::try_from(value) {
        Ok(WireAccess::NoMembership) => Ok(Access::NoMembership),
        Ok(WireAccess::InvitationOnly) => Ok(Access::InvitationOnly),
        Ok(WireAccess::OnRequest) => Ok(Access::OnRequest),
        _ => Err(DecodeError::Field { field: "access" }),
    }
}

fn access_to_wire(access: Access) -> i32 {
    match access {
        Access::NoMembership => WireAccess::NoMembership as i32,
        Access::InvitationOnly => WireAccess::InvitationOnly as i32,
        Access::OnRequest => WireAccess::OnRequest as i32,
    }
}

fn permissions_from_wire(
    p: Option<wire::OrganizationPermissions>,
) -> Result<Permissions, DecodeError> {
    let p = p.ok_or(DecodeError::Missing { field: "permissions" })?;
    Ok(Permissions {
        ens_only: p.ens_only,
        private: p.private,
        access: access_from_wire(p.access)?,
    })
}

fn permissions_to_wire(p: &Permissions) -> wire::OrganizationPermissions {
    wire::OrganizationPermissions {
        ens_only: p.ens_only,
        private: p.private,
        access: access_to_wire(p.access),
    }
}

fn roles_from_wire(roles: &[i32]) -> Result<BTreeSet<Role>, DecodeError> {
    bound("roles", roles.len(), MAX_ROLES)?;
    let mut set = BTreeSet::new();
    for role in roles {
        if !set.insert(Role::from_wire(*role)?) {
            return Err(DecodeError::Field { field: "roles" });
        }
    }
    Ok(set)
}

fn roles_to_wire(roles: &BTreeSet<Role>) -> wire::OrganizationMember {
    wire::OrganizationMember { roles: roles.iter().map(|r| r.to_wire()).collect() }
}

fn identity_from_wire(identity: wire::ChatIdentity) -> Result<Identity, DecodeError> {
    bound("images", identity.images.len(), MAX_IMAGES)?;
    let images = identity
        .images
        .into_iter()
        .map(|(name, image)| {
            (
                name,
                Image {
                    payload: image.payload,
                    source_type: image.source_type,
                    image_type: image.image_type,
                    encryption_keys: image.encryption_keys,
                    encrypted: image.encrypted,
                },
            )
        })
        .collect();
    let identity = Identity {
        clock: identity.clock,
        ens_name: identity.ens_name,
        images,
        display_name: identity.display_name,
        description: identity.description,
        color: identity.color,
        emoji: identity.emoji,
    };
    check_identity(&identity)?;
    Ok(identity)
}

fn identity_to_wire(identity: &Identity) -> wire::ChatIdentity {
    wire::ChatIdentity {
        clock: identity.clock,
        ens_name: identity.ens_name.clone(),
        images: identity
            .images
            .iter()
            .map(|(name, image)| {
                (
                    name.clone(),
                    wire::IdentityImage {
                        payload: image.payload.clone(),
                        source_type: image.source_type,
                        image_type: image.image_type,
                        encryption_keys: image.encryption_keys.clone(),
                        encrypted: image.encrypted,
                    },
                )
            })
            .collect(),
        display_name: identity.display_name.clone(),
        description: identity.description.clone(),
        color: identity.color.clone(),
        emoji: identity.emoji.clone(),
    }
}

impl TryFrom<wire::OrganizationDescription> for Description {
    type Error = DecodeError;

    fn try_from(msg: wire::OrganizationDescription) -> Result<Self, DecodeError> {
        bound("members", msg.members.len(), MAX_MEMBERS)?;
        bound("member_dh_keys", msg.member_dh_keys.len(), MAX_MEMBERS)?;
        bound("ban_list", msg.ban_list.len(), MAX_BANNED)?;
        bound("chats", msg.chats.len(), MAX_CHANNELS)?;
        bound("categories", msg.categories.len(), MAX_CATEGORIES)?;
        bound("tags", msg.tags.len(), MAX_TAGS)?;
        let org = OrgId::from_slice("organization_id", &msg.organization_id)?;
        let request_dh_key =
            DhPublicKey::try_from(msg.request_dh_key.as_slice()).map_err(|_| {
                DecodeError::Length {
                    field: "request_dh_key",
                    expected: 32,
                    actual: msg.request_dh_key.len(),
                }
            })?;
        if msg.member_dh_keys.len() != msg.members.len() {
            return Err(DecodeError::Inconsistent { rule: "member_dh_keys differ from members" });
        }
        let mut dh_keys = msg.member_dh_keys.into_iter();
        let mut members = BTreeMap::new();
        // Both maps are sorted by the same text keys, so equal key sets pair up in order.
        for (text, member) in msg.members {
            let (dh_text, dh) = dh_keys
                .next()
                .ok_or(DecodeError::Inconsistent { rule: "member_dh_keys differ from members" })?;
            if dh_text != text {
                return Err(DecodeError::Inconsistent {
                    rule: "member_dh_keys differ from members",
                });
            }
            let id = MemberId::from_text("members", &text)?;
            let dh_key = DhPublicKey::try_from(dh.as_slice()).map_err(|_| DecodeError::Length {
                field: "member_dh_keys",
                expected: 32,
                actual: dh.len(),
            })?;
            members.insert(id, Member { roles: roles_from_wire(&member.roles)?, dh_key });
        }
        let mut banned = BTreeSet::new();
        for text in &msg.ban_list {
            if !banned.insert(MemberId::from_text("ban_list", text)?) {
                return Err(DecodeError::Field { field: "ban_list" });
            }
        }
        let mut categories = BTreeMap::new();
        for (key, category) in msg.categories {
            let id = CategoryId::new(&key)?;
            if category.category_id != key {
                return Err(DecodeError::Inconsistent { rule: "category key differs from its id" });
            }
            categories.insert(id, Category { name: category.name, position: category.position });
        }
        let mut channels = BTreeMap::new();
        for (key, chat) in msg.chats {
            let id = ChannelId::new(&key)?;
            bound("chat members", chat.members.len(), MAX_MEMBERS)?;
            let mut chat_members = BTreeMap::new();
            for (text, member) in chat.members {
                chat_members.insert(
                    MemberId::from_text("chat.members", &text)?,
                    roles_from_wire(&member.roles)?,
                );
            }
            let category = if chat.category_id.is_empty() {
                None
            } else {
                Some(CategoryId::new(&chat.category_id)?)
            };
            channels.insert(
                id,
                Channel {
                    members: chat_members,
                    permissions: permissions_from_wire(chat.permissions)?,
                    identity: identity_from_wire(
                        chat.identity.ok_or(DecodeError::Missing { field: "chat.identity" })?,
                    )?,
                    category,
                    position: chat.position,
                },
            );
        }
        let description = Self {
            org,
            clock: LamportTime(msg.clock),
            members,
            permissions: permissions_from_wire(msg.permissions)?,
            identity: identity_from_wire(msg.identity.unwrap_or_default())?,
            channels,
            banned,
            categories,
            admin_settings: AdminSettings {
                pin_message_all_members_enabled: msg
                    .admin_settings
                    .is_some_and(|s| s.pin_message_all_members_enabled),
            },
            encrypted: msg.encrypted,
            tags: msg.tags,
            request_dh_key,
        };
        description.validate()?;
        Ok(description)
    }
}

impl From<&Description> for wire::OrganizationDescription {
    fn from(d: &Description) -> Self {
        Self {
            clock: d.clock.0,
            members: d
                .members
                .iter()
                .map(|(id, m)| (id.to_text(), roles_to_wire(&m.roles)))
                .collect(),
            permissions: Some(permissions_to_wire(&d.permissions)),
            identity: Some(identity_to_wire(&d.identity)),
            chats: d
                .channels
                .iter()
                .map(|(id, c)| {
                    (
                        id.as_str().to_owned(),
                        wire::OrganizationChat {
                            members: c
                                .members
                                .iter()
                                .map(|(m, roles)| (m.to_text(), roles_to_wire(roles)))
                                .collect(),
                            permissions: Some(permissions_to_wire(&c.permissions)),
                            identity: Some(identity_to_wire(&c.identity)),
                            category_id: c
                                .category
                                .as_ref()
                                .map(|c| c.as_str().to_owned())
                                .unwrap_or_default(),
                            position: c.position,
                        },
                    )
                })
                .collect(),
            ban_list: d.banned.iter().map(MemberId::to_text).collect(),
            categories: d
                .categories
                .iter()
                .map(|(id, c)| {
                    (
                        id.as_str().to_owned(),
                        wire::OrganizationCategory {
                            category_id: id.as_str().to_owned(),
                            name: c.name.clone(),
                            position: c.position,
                        },
                    )
                })
                .collect(),
            admin_settings: Some(wire::OrganizationAdminSettings {
                pin_message_all_members_enabled: d.admin_settings.pin_message_all_members_enabled,
            }),
            encrypted: d.encrypted,
            tags: d.tags.clone(),
            organization_id: d.org.as_bytes().to_vec(),
            request_dh_key: d.request_dh_key.as_bytes().to_vec(),
            member_dh_keys: d
                .members
                .iter()
                .map(|(id, m)| (id.to_text(), m.dh_key.as_bytes().to_vec()))
                .collect(),
        }
    }
}

/// A description whose organization signature has been verified, with the exact bytes that
/// were signed (kept for republishing, storage and the equal-clock rule; never re-encoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDescription {
    description: Description,
    bytes: Vec<u8>,
}

impl SignedDescription {
    /// Signs `description` with the organization key (owner side).
    pub(crate) fn sign(org_key: &IdentityKeyPair, description: Description) -> Self {
        let payload = description.to_wire().encode_to_vec();
        let bytes =
            envelope::sign(org_key, &DESCRIPTION_CONTEXT, Type::OrganizationDescription, payload);
        Self { description, bytes }
    }

    /// Verifies signed description bytes for organization `org` (see the module doc).
    ///
    /// # Errors
    /// [`DescriptionError::Decode`] for malformed input, [`DescriptionError::Unauthenticated`]
    /// if the org key did not sign it or it names another organization.
    pub fn verify(org: &OrgId, bytes: &[u8]) -> Result<Self, DescriptionError> {
        if bytes.len() > MAX_DESCRIPTION_BYTES {
            return Err(DecodeError::TooMany {
                what: "description bytes",
                limit: MAX_DESCRIPTION_BYTES,
                actual: bytes.len(),
            }
            .into());
        }
        let envelope = UnverifiedEnvelope::decode(bytes, Type::OrganizationDescription)?;
        let payload =
            envelope.verify(org.public_key(), &DESCRIPTION_CONTEXT).map_err(|e| match e {
                EnvelopeError::Decode(d) => DescriptionError::Decode(d),
                EnvelopeError::Unauthenticated => DescriptionError::Unauthenticated,
            })?;
        let description = Description::decode_payload(&payload)?;
        if description.org != *org {
            return Err(DescriptionError::Unauthenticated);
        }
        Ok(Self { description, bytes: bytes.to_vec() })
    }

    /// The description.
    #[must_use]
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// The signed bytes (an `ApplicationMetadataMessage`), exactly as signed or received.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of the signed bytes (the `digest` of its segments).
    #[must_use]
    pub fn digest(&self) -> [u8; 32] {
        sha256(&self.bytes).to_bytes()
    }

    /// Whether `incoming` should replace `self` (DECISIONS: higher clock wins; equal clock
    /// accepted only for identical bytes, which changes nothing).
    pub(crate) fn supersedes(
        stored: Option<&Self>,
        incoming: &Self,
    ) -> Result<bool, DescriptionError> {
        let Some(stored) = stored else { return Ok(true) };
        let (old, new) = (stored.description.clock.0, incoming.description.clock.0);
        if new > old {
            Ok(true)
        } else if new == old {
            if stored.bytes == incoming.bytes {
                Ok(false)
            } else {
                Err(DescriptionError::ConflictingClock { clock: new })
            }
        } else {
            Err(DescriptionError::Stale { stored: old, received: new })
        }
    }
}
