//! Executing chat commands against the client, and resolving the names people type.
//!
//! ```text
//! contact  0x… public id, else the one contact with that display name
//! group    a group id (hex(creator)-uuid), else the one group with that name
//! org      0x… organization id, else the one organization with that name
//! ```
//! A name that matches nothing or several things is an error asking for the id.

use kaiwa::{
    ChannelId, ChatId, Client, Content, Direction, GroupId, OrgId, PublicId, parse_org_id,
    parse_public_id,
};

use super::command::{ChatRef, Command, GroupCommand, HELP, MemberVerb, OrgCommand};
use super::show;

/// How long `/org join` waits for the organization's description before asking.
const DESCRIPTION_WAIT: core::time::Duration = core::time::Duration::from_secs(10);

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CommandError {
    /// The facade refused or failed.
    #[error("could not {action}")]
    Client {
        /// What the command was doing.
        action: &'static str,
        /// The facade's error.
        #[source]
        source: kaiwa::Error,
    },
    /// No contact by that name.
    #[error("no such contact (see /contacts, or use a public id 0x…)")]
    UnknownContact,
    /// No group by that name.
    #[error("no such group (see /groups)")]
    UnknownGroup,
    /// No organization by that name.
    #[error("no such organization (see /orgs, or use its id 0x…)")]
    UnknownOrg,
    /// Several things have that name.
    #[error("several {what} have that name: use the id")]
    Ambiguous {
        /// Contacts, groups or organizations.
        what: &'static str,
    },
    /// Not a channel id.
    #[error("a channel id is 1 to 64 letters, digits, `-` or `_`")]
    Channel,
    /// The organization's description did not arrive in time.
    #[error("the organization's description has not arrived yet (is a peer connected?)")]
    NoDescription,
    /// Nothing to react to.
    #[error("no message received in that chat yet")]
    NothingToReactTo,
}

fn client(action: &'static str) -> impl FnOnce(kaiwa::Error) -> CommandError {
    move |source| CommandError::Client { action, source }
}

fn unique<T>(mut found: Vec<T>, none: CommandError, what: &'static str) -> Result<T, CommandError> {
    match found.len() {
        1 => found.pop().ok_or(none),
        0 => Err(none),
        _ => Err(CommandError::Ambiguous { what }),
    }
}

/// One chat session's command executor.
#[derive(Debug)]
pub(crate) struct Session {
    client: Client,
}

impl Session {
    /// A session over `client`.
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    async fn contact(&self, name: &str) -> Result<PublicId, CommandError> {
        if name.starts_with("0x") {
            return parse_public_id(name).map_err(client("read the public id"));
        }
        let contacts = self.client.contacts().await.map_err(client("read the contacts"))?;
        let found: Vec<PublicId> =
            contacts.into_iter().filter(|c| c.display_name == name).map(|c| c.id).collect();
        unique(found, CommandError::UnknownContact, "contacts")
    }

    async fn group(&self, name: &str) -> Result<GroupId, CommandError> {
        if let Ok(id) = GroupId::parse(name) {
            return Ok(id);
        }
        let mut found = Vec::new();
        for id in self.client.groups().await.map_err(client("read the groups"))? {
            let info = self.client.group(&id).await.map_err(client("read a group"))?;
            if info.is_some_and(|info| info.name == name) {
                found.push(id);
            }
        }
        unique(found, CommandError::UnknownGroup, "groups")
    }

    async fn org(&self, name: &str) -> Result<OrgId, CommandError> {
        if name.starts_with("0x") {
            return parse_org_id(name).map_err(client("read the organization id"));
        }
        let mut found = Vec::new();
        for id in self.client.orgs().await.map_err(client("read the organizations"))? {
            let info = self.client.org(&id).await.map_err(client("read an organization"))?;
            if info.is_some_and(|info| info.name == name) {
                found.push(id);
            }
        }
        unique(found, CommandError::UnknownOrg, "organizations")
    }

    async fn chat(&self, chat: &ChatRef) -> Result<ChatId, CommandError> {
        Ok(match chat {
            ChatRef::Contact(name) => ChatId::Direct(self.contact(name).await?),
            ChatRef::Group(name) => ChatId::Group(self.group(name).await?),
            ChatRef::Channel { org, channel } => ChatId::Channel {
                org: self.org(org).await?,
                channel: ChannelId::new(channel).map_err(|_| CommandError::Channel)?,
            },
        })
    }

    /// Runs `command`; returns the lines to print.
    pub(crate) async fn execute(&mut self, command: Command) -> Result<Vec<String>, CommandError> {
        let c = &self.client;
        Ok(match command {
            Command::Help => HELP.lines().map(str::to_owned).collect(),
            Command::Quit | Command::Nothing => Vec::new(),
            Command::Id => {
                let code = c.contact_code().await.map_err(client("read the contact code"))?;
                vec![format!("id: {}", c.public_id()), format!("contact code: {code}")]
            }
            Command::Add { code, name } => {
                let name = name.unwrap_or_default();
                let id = c.add_contact(&code, &name).await.map_err(client("add the contact"))?;
                vec![format!(
                    "* added {} ({id})",
                    if name.is_empty() { "a contact" } else { &name }
                )]
            }
            Command::Contacts => {
                let contacts = c.contacts().await.map_err(client("read the contacts"))?;
                if contacts.is_empty() {
                    vec!["no contacts yet: /add <contact-code> <name>".to_owned()]
                } else {
                    contacts
                        .iter()
                        .map(|k| {
                            let verified = if k.verified { " (verified)" } else { "" };
                            format!("{}  {}{verified}", k.id, k.display_name)
                        })
                        .collect()
                }
            }
            Command::Verify { contact } => {
                let id = self.contact(&contact).await?;
                let number = kaiwa::safety_number(&c.public_id(), &id)
                    .map_err(client("compute the safety number"))?;
                vec![
                    format!("safety number with {contact}:"),
                    format!("  {number}"),
                    "compare it with the one they see; if it differs, do not trust the contact"
                        .to_owned(),
                ]
            }
            Command::Msg { to, text } => {
                let id = self.contact(&to).await?;
                c.send_text(&ChatId::Direct(id), &text).await.map_err(client("send"))?;
                Vec::new()
            }
            Command::React { chat, kind } => {
                let chat_id = self.chat(&chat).await?;
                let history =
                    c.history(&chat_id, None, 50).await.map_err(client("read the history"))?;
                let last = history
                    .iter()
                    .rev()
                    .find(|m| {
                        m.direction == Direction::Inbound
                            && !matches!(m.content, Content::Reaction { .. })
                    })
                    .ok_or(CommandError::NothingToReactTo)?;
                c.send_reaction(&chat_id, &last.reference, kind, false)
                    .await
                    .map_err(client("react"))?;
                Vec::new()
            }
            Command::History { chat, count } => {
                let chat_id = self.chat(&chat).await?;
                let history =
                    c.history(&chat_id, None, count).await.map_err(client("read the history"))?;
                let mut lines = Vec::with_capacity(history.len());
                for message in &history {
                    lines.push(show::history_line(c, message).await);
                }
                if lines.is_empty() {
                    lines.push(format!("no messages in {chat} yet"));
                }
                lines
            }
            Command::Groups => {
                let mut lines = Vec::new();
                for id in c.groups().await.map_err(client("read the groups"))? {
                    if let Some(info) = c.group(&id).await.map_err(client("read a group"))? {
                        lines.push(format!(
                            "#{}  {} members  ({id})",
                            info.name,
                            info.members.len()
                        ));
                    }
                }
                if lines.is_empty() {
                    lines.push("no groups yet: /group create <name> <contact>...".to_owned());
                }
                lines
            }
            Command::Group(command) => self.group_command(command).await?,
            Command::Orgs => {
                let mut lines = Vec::new();
                for id in c.orgs().await.map_err(client("read the organizations"))? {
                    if let Some(info) = c.org(&id).await.map_err(client("read an organization"))? {
                        let role = match (info.owned, info.member) {
                            (true, _) => "owner",
                            (false, true) => "member",
                            (false, false) => "following",
                        };
                        let name =
                            if info.name.is_empty() { "(no description yet)" } else { &info.name };
                        lines.push(format!("{name}  {role}  {}", kaiwa::org_id_text(&id)));
                    }
                }
                if lines.is_empty() {
                    lines.push("no organizations yet: /org create <name>".to_owned());
                }
                lines
            }
            Command::Org(command) => self.org_command(command).await?,
        })
    }

    async fn members(&self, names: &[String]) -> Result<Vec<PublicId>, CommandError> {
        let mut ids = Vec::with_capacity(names.len());
        for name in names {
            ids.push(self.contact(name).await?);
        }
        Ok(ids)
    }

    async fn group_command(&self, command: GroupCommand) -> Result<Vec<String>, CommandError> {
        let c = &self.client;
        let unreachable = |ids: Vec<PublicId>| -> Vec<String> {
            ids.iter().map(|id| format!("* {id} has no known keys and got nothing")).collect()
        };
        Ok(match command {
            GroupCommand::Create { name, members } => {
                let members = self.members(&members).await?;
                let (id, missed) =
                    c.create_group(&name, &members).await.map_err(client("create the group"))?;
                let mut lines = vec![format!("* created #{name} ({id})")];
                lines.extend(unreachable(missed));
                lines
            }
            GroupCommand::Join { group } => {
                let id = self.group(&group).await?;
                unreachable(c.join_group(&id).await.map_err(client("join the group"))?)
            }
            GroupCommand::Add { group, members } => {
                let id = self.group(&group).await?;
                let members = self.members(&members).await?;
                unreachable(c.add_members(&id, &members).await.map_err(client("add members"))?)
            }
            GroupCommand::Remove { group, member } => {
                let id = self.group(&group).await?;
                let member = self.contact(&member).await?;
                unreachable(
                    c.remove_member(&id, member).await.map_err(client("remove the member"))?,
                )
            }
            GroupCommand::Rename { group, name } => {
                let id = self.group(&group).await?;
                unreachable(c.rename_group(&id, &name).await.map_err(client("rename the group"))?)
            }
            GroupCommand::Leave { group } => {
                let id = self.group(&group).await?;
                unreachable(c.leave_group(&id).await.map_err(client("leave the group"))?)
            }
            GroupCommand::Send { group, text } => {
                let id = self.group(&group).await?;
                let sent = c.send_text(&ChatId::Group(id), &text).await.map_err(client("send"))?;
                unreachable(sent.unreachable)
            }
            GroupCommand::Info { group } => {
                let id = self.group(&group).await?;
                let info = c
                    .group(&id)
                    .await
                    .map_err(client("read the group"))?
                    .ok_or(CommandError::UnknownGroup)?;
                let mut lines = vec![format!("#{} ({id})", info.name)];
                for (member, status) in &info.members {
                    let admin = if info.admins.contains(member) { ", admin" } else { "" };
                    let name = show::name_of(c, member).await;
                    lines.push(format!("  {name}  {status:?}{admin}"));
                }
                lines
            }
        })
    }

    async fn org_command(&self, command: OrgCommand) -> Result<Vec<String>, CommandError> {
        let c = &self.client;
        Ok(match command {
            OrgCommand::Create { name, access } => {
                let id =
                    c.create_org(&name, access).await.map_err(client("create the organization"))?;
                vec![
                    format!("* founded {name}: {}", kaiwa::org_id_text(&id)),
                    "  others join with /org join <that id>; add channels with /org channel"
                        .to_owned(),
                ]
            }
            OrgCommand::Channel { org, id, name } => {
                let org_id = self.org(&org).await?;
                let channel = c
                    .create_channel(&org_id, &id, &name)
                    .await
                    .map_err(client("create the channel"))?;
                vec![format!("* created channel {org}/{channel}")]
            }
            OrgCommand::Follow { org } => {
                let id = self.org(&org).await?;
                c.follow_org(&id).await.map_err(client("follow the organization"))?;
                vec![format!("* following {}", kaiwa::org_id_text(&id))]
            }
            OrgCommand::Join { org, display_name } => {
                let id = self.org(&org).await?;
                c.follow_org(&id).await.map_err(client("follow the organization"))?;
                self.await_description(&id).await?;
                let name = display_name.unwrap_or_default();
                c.request_to_join(&id, &name).await.map_err(client("ask to join"))?;
                vec!["* asked to join; the answer arrives as a message here".to_owned()]
            }
            OrgCommand::Member { verb, org, member } => {
                let id = self.org(&org).await?;
                let member = self.contact(&member).await?;
                let (result, done) = match verb {
                    MemberVerb::Invite => (c.invite(&id, member).await, "invited"),
                    MemberVerb::Accept => (c.accept_request(&id, member).await, "accepted"),
                    MemberVerb::Reject => (c.reject_request(&id, member).await, "rejected"),
                    MemberVerb::Kick => (c.kick(&id, member).await, "removed"),
                    MemberVerb::Ban => (c.ban(&id, member).await, "banned"),
                    MemberVerb::Unban => (c.unban(&id, member).await, "unbanned"),
                };
                result.map_err(client("do that"))?;
                vec![format!("* {done} {}", show::name_of(c, &member).await)]
            }
            OrgCommand::Rekey { org } => {
                let id = self.org(&org).await?;
                c.rekey(&id).await.map_err(client("re-key"))?;
                vec!["* new channel keys sent to every member".to_owned()]
            }
            OrgCommand::Leave { org } => {
                let id = self.org(&org).await?;
                c.leave_org(&id).await.map_err(client("leave the organization"))?;
                vec!["* left".to_owned()]
            }
            OrgCommand::Send { org, channel, text } => {
                let chat = self.chat(&ChatRef::Channel { org, channel }).await?;
                c.send_text(&chat, &text).await.map_err(client("send"))?;
                Vec::new()
            }
            OrgCommand::Info { org } => {
                let id = self.org(&org).await?;
                let info = c
                    .org(&id)
                    .await
                    .map_err(client("read the organization"))?
                    .ok_or(CommandError::UnknownOrg)?;
                let mut lines = vec![format!("{} ({})", info.name, kaiwa::org_id_text(&id))];
                for (channel, name) in &info.channels {
                    lines.push(format!("  channel {channel}: {name}"));
                }
                for member in &info.members {
                    lines.push(format!("  member {}", show::name_of(c, member).await));
                }
                for (member, name) in &info.pending {
                    lines.push(format!("  asks to join: {name} ({member})"));
                }
                lines
            }
        })
    }

    /// Waits until the organization's description has arrived (its name is known).
    async fn await_description(&self, org: &OrgId) -> Result<(), CommandError> {
        let wait = async {
            loop {
                let info = self.client.org(org).await.map_err(client("read the organization"))?;
                if info.is_some_and(|info| !info.name.is_empty()) {
                    return Ok(());
                }
                tokio::time::sleep(core::time::Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(DESCRIPTION_WAIT, wait)
            .await
            .unwrap_or(Err(CommandError::NoDescription))
    }
}
