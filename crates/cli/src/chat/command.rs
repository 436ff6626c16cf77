//! The chat session's commands: one line in, one [`Command`] out, no I/O ([`parse`]).
//!
//! ```text
//! chat      @<contact>  |  #<group>  |  <org>/<channel>
//! contact   a contact's display name, or a public id 0x…
//! group     a group's name, or its id
//! org       an organization's name, or its id 0x…
//! words     split on whitespace; the last argument of /msg, /group send, /group rename,
//!           /org send, /org channel and /org join takes the rest of the line
//! ```

use core::fmt;

use kaiwa::{Access, ReactionKind};

/// The text of `/help`.
pub(crate) const HELP: &str = "\
commands:
  /help                                   this text
  /id                                     your public id and contact code
  /add <contact-code> [name]              add a contact (the code verifies their identity)
  /contacts                               your contacts
  /verify <contact>                       the safety number to compare with the contact
  /msg <contact> <text>                   a 1:1 message
  /react <chat> <love|like|dislike|laugh|sad|angry>
                                          react to the last message received in a chat
  /history <chat> [count]                 the last messages of a chat
  /groups                                 your groups
  /group create <name> <contact>...       a private group, inviting contacts
  /group join <group>                     accept an invitation to a group
  /group add <group> <contact>...         invite more members (admins)
  /group remove <group> <contact>         remove a member (admins)
  /group rename <group> <new name>        rename (admins)
  /group leave <group>                    leave
  /group send <group> <text>              write to the group
  /group info <group>                     members and admins
  /orgs                                   organizations you own or follow
  /org create <name> [open|request|invite]
                                          found an organization (default: request)
  /org channel <org> <channel-id> <name>  add a channel (owner)
  /org follow <org-id>                    follow an organization
  /org join <org> [display name]          ask to join (follows it first)
  /org invite|accept|reject|kick|ban|unban <org> <contact or id>
                                          owner actions
  /org rekey <org>                        new channel keys now (owner)
  /org leave <org>                        leave
  /org send <org> <channel> <text>        write to a channel
  /org info <org>                         name, channels, members, pending requests
  /quit                                   leave (messages still queued are sent first)
chats: @contact, #group, org/channel";

/// Which chat a command is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChatRef {
    /// `@contact`.
    Contact(String),
    /// `#group`.
    Group(String),
    /// `org/channel`.
    Channel {
        /// The organization.
        org: String,
        /// The channel id.
        channel: String,
    },
}

/// A group command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GroupCommand {
    /// `/group create <name> <contact>...`
    Create { name: String, members: Vec<String> },
    /// `/group join <group>`
    Join { group: String },
    /// `/group add <group> <contact>...`
    Add { group: String, members: Vec<String> },
    /// `/group remove <group> <contact>`
    Remove { group: String, member: String },
    /// `/group rename <group> <name>`
    Rename { group: String, name: String },
    /// `/group leave <group>`
    Leave { group: String },
    /// `/group send <group> <text>`
    Send { group: String, text: String },
    /// `/group info <group>`
    Info { group: String },
}

/// An owner action on one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemberVerb {
    /// Invite.
    Invite,
    /// Accept a request.
    Accept,
    /// Reject a request.
    Reject,
    /// Remove.
    Kick,
    /// Ban.
    Ban,
    /// Lift a ban.
    Unban,
}

/// An organization command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OrgCommand {
    /// `/org create <name> [open|request|invite]`
    Create { name: String, access: Access },
    /// `/org channel <org> <id> <name>`
    Channel { org: String, id: String, name: String },
    /// `/org follow <org-id>`
    Follow { org: String },
    /// `/org join <org> [display name]`
    Join { org: String, display_name: Option<String> },
    /// `/org <verb> <org> <member>`
    Member { verb: MemberVerb, org: String, member: String },
    /// `/org rekey <org>`
    Rekey { org: String },
    /// `/org leave <org>`
    Leave { org: String },
    /// `/org send <org> <channel> <text>`
    Send { org: String, channel: String, text: String },
    /// `/org info <org>`
    Info { org: String },
}

/// A parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `/help`
    Help,
    /// `/id`
    Id,
    /// `/quit`
    Quit,
    /// An empty line.
    Nothing,
    /// `/add <code> [name]`
    Add { code: String, name: Option<String> },
    /// `/contacts`
    Contacts,
    /// `/verify <contact>`
    Verify { contact: String },
    /// `/msg <contact> <text>`
    Msg { to: String, text: String },
    /// `/react <chat> <kind>`
    React { chat: ChatRef, kind: ReactionKind },
    /// `/history <chat> [count]`
    History { chat: ChatRef, count: usize },
    /// `/groups`
    Groups,
    /// `/group …`
    Group(GroupCommand),
    /// `/orgs`
    Orgs,
    /// `/org …`
    Org(OrgCommand),
}

/// Why a line is not a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ParseError {
    /// The line does not start with `/`.
    #[error("commands start with / (try /help)")]
    NotACommand,
    /// No such command.
    #[error("unknown command (try /help)")]
    Unknown,
    /// Wrong arguments.
    #[error("usage: {usage}")]
    Usage {
        /// The command's usage line.
        usage: &'static str,
    },
    /// Not a reaction name.
    #[error("reactions: love, like, dislike, laugh, sad, angry")]
    Reaction,
    /// Not an access mode.
    #[error("access modes: open, request, invite")]
    Access,
    /// Not a chat reference.
    #[error("a chat is @contact, #group or org/channel")]
    Chat,
}

/// The default number of messages `/history` shows.
pub(crate) const DEFAULT_HISTORY: usize = 10;

/// The largest count `/history` accepts (one page of the store).
pub(crate) const MAX_HISTORY: usize = 100;

/// Splits off the first word; the rest is trimmed.
fn word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (first, rest) = text.split_at(end);
    Some((first, rest.trim()))
}

/// `n` words and the rest of the line (which may be empty).
fn words<'t, const N: usize>(
    text: &'t str,
    usage: &'static str,
) -> Result<([String; N], &'t str), ParseError> {
    let mut out: [String; N] = core::array::from_fn(|_| String::new());
    let mut rest = text;
    for slot in &mut out {
        let (first, tail) = word(rest).ok_or(ParseError::Usage { usage })?;
        *slot = first.to_owned();
        rest = tail;
    }
    Ok((out, rest))
}

/// Exactly `n` words.
fn exactly<const N: usize>(text: &str, usage: &'static str) -> Result<[String; N], ParseError> {
    let (out, rest) = words::<N>(text, usage)?;
    if rest.is_empty() { Ok(out) } else { Err(ParseError::Usage { usage }) }
}

/// `n` words and a non-empty rest.
fn with_text<const N: usize>(
    text: &str,
    usage: &'static str,
) -> Result<([String; N], String), ParseError> {
    let (out, rest) = words::<N>(text, usage)?;
    if rest.is_empty() { Err(ParseError::Usage { usage }) } else { Ok((out, rest.to_owned())) }
}

fn chat_ref(text: &str) -> Result<ChatRef, ParseError> {
    if let Some(contact) = text.strip_prefix('@').filter(|c| !c.is_empty()) {
        return Ok(ChatRef::Contact(contact.to_owned()));
    }
    if let Some(group) = text.strip_prefix('#').filter(|g| !g.is_empty()) {
        return Ok(ChatRef::Group(group.to_owned()));
    }
    match text.split_once('/') {
        Some((org, channel)) if !org.is_empty() && !channel.is_empty() => {
            Ok(ChatRef::Channel { org: org.to_owned(), channel: channel.to_owned() })
        }
        _ => Err(ParseError::Chat),
    }
}

fn reaction(text: &str) -> Result<ReactionKind, ParseError> {
    Ok(match text {
        "love" | "heart" => ReactionKind::Love,
        "like" | "+1" => ReactionKind::ThumbsUp,
        "dislike" | "-1" => ReactionKind::ThumbsDown,
        "laugh" => ReactionKind::Laugh,
        "sad" => ReactionKind::Sad,
        "angry" => ReactionKind::Angry,
        _ => return Err(ParseError::Reaction),
    })
}

fn access(text: &str) -> Result<Access, ParseError> {
    Ok(match text {
        "open" => Access::NoMembership,
        "request" => Access::OnRequest,
        "invite" => Access::InvitationOnly,
        _ => return Err(ParseError::Access),
    })
}

/// Parses one line of input.
///
/// # Errors
/// [`ParseError`] saying what is wrong (with the usage line of the command).
pub(crate) fn parse(line: &str) -> Result<Command, ParseError> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(Command::Nothing);
    }
    let Some(body) = line.strip_prefix('/') else { return Err(ParseError::NotACommand) };
    let (name, rest) = word(body).ok_or(ParseError::Unknown)?;
    match name {
        "help" | "h" | "?" => Ok(Command::Help),
        "id" => Ok(Command::Id),
        "quit" | "q" | "exit" => Ok(Command::Quit),
        "contacts" => Ok(Command::Contacts),
        "groups" => Ok(Command::Groups),
        "orgs" => Ok(Command::Orgs),
        "add" => {
            let ([code], name) = words::<1>(rest, "/add <contact-code> [name]")?;
            Ok(Command::Add { code, name: (!name.is_empty()).then(|| name.to_owned()) })
        }
        "verify" => {
            let [contact] = exactly::<1>(rest, "/verify <contact>")?;
            Ok(Command::Verify { contact })
        }
        "msg" | "m" => {
            let ([to], text) = with_text::<1>(rest, "/msg <contact> <text>")?;
            Ok(Command::Msg { to, text })
        }
        "react" => {
            let [chat, kind] = exactly::<2>(rest, "/react <chat> <reaction>")?;
            Ok(Command::React { chat: chat_ref(&chat)?, kind: reaction(&kind)? })
        }
        "history" => {
            const USAGE: &str = "/history <chat> [count 1-100]";
            let ([chat], count) = words::<1>(rest, USAGE)?;
            let count = if count.is_empty() {
                DEFAULT_HISTORY
            } else {
                count
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_HISTORY).contains(n))
                    .ok_or(ParseError::Usage { usage: USAGE })?
            };
            Ok(Command::History { chat: chat_ref(&chat)?, count })
        }
        "group" | "g" => parse_group(rest).map(Command::Group),
        "org" | "o" => parse_org(rest).map(Command::Org),
        _ => Err(ParseError::Unknown),
    }
}

fn parse_group(text: &str) -> Result<GroupCommand, ParseError> {
    const USAGE: &str = "/group create|join|add|remove|rename|leave|send|info …";
    let (verb, rest) = word(text).ok_or(ParseError::Usage { usage: USAGE })?;
    Ok(match verb {
        "create" => {
            const U: &str = "/group create <name> <contact>...";
            let ([name], members) = with_text::<1>(rest, U)?;
            GroupCommand::Create { name, members: split(&members) }
        }
        "join" => GroupCommand::Join { group: one(rest, "/group join <group>")? },
        "add" => {
            let ([group], members) = with_text::<1>(rest, "/group add <group> <contact>...")?;
            GroupCommand::Add { group, members: split(&members) }
        }
        "remove" => {
            let [group, member] = exactly::<2>(rest, "/group remove <group> <contact>")?;
            GroupCommand::Remove { group, member }
        }
        "rename" => {
            let ([group], name) = with_text::<1>(rest, "/group rename <group> <new name>")?;
            GroupCommand::Rename { group, name }
        }
        "leave" => GroupCommand::Leave { group: one(rest, "/group leave <group>")? },
        "send" => {
            let ([group], text) = with_text::<1>(rest, "/group send <group> <text>")?;
            GroupCommand::Send { group, text }
        }
        "info" => GroupCommand::Info { group: one(rest, "/group info <group>")? },
        _ => return Err(ParseError::Usage { usage: USAGE }),
    })
}

fn parse_org(text: &str) -> Result<OrgCommand, ParseError> {
    const USAGE: &str = "/org create|channel|follow|join|invite|accept|reject|kick|ban|unban|rekey|leave|send|info …";
    let (verb, rest) = word(text).ok_or(ParseError::Usage { usage: USAGE })?;
    let member = |verb| {
        let [org, member] = exactly::<2>(rest, "/org <verb> <org> <contact or id>")?;
        Ok::<_, ParseError>(OrgCommand::Member { verb, org, member })
    };
    Ok(match verb {
        "create" => {
            const U: &str = "/org create <name> [open|request|invite]";
            let (name, mode) = words::<1>(rest, U)?;
            let [name] = name;
            let access = match mode {
                "" => Access::OnRequest,
                mode => access(mode)?,
            };
            OrgCommand::Create { name, access }
        }
        "channel" => {
            let ([org, id], name) = with_text::<2>(rest, "/org channel <org> <channel-id> <name>")?;
            OrgCommand::Channel { org, id, name }
        }
        "follow" => OrgCommand::Follow { org: one(rest, "/org follow <org-id>")? },
        "join" => {
            let ([org], name) = words::<1>(rest, "/org join <org> [display name]")?;
            OrgCommand::Join { org, display_name: (!name.is_empty()).then(|| name.to_owned()) }
        }
        "invite" => member(MemberVerb::Invite)?,
        "accept" => member(MemberVerb::Accept)?,
        "reject" => member(MemberVerb::Reject)?,
        "kick" => member(MemberVerb::Kick)?,
        "ban" => member(MemberVerb::Ban)?,
        "unban" => member(MemberVerb::Unban)?,
        "rekey" => OrgCommand::Rekey { org: one(rest, "/org rekey <org>")? },
        "leave" => OrgCommand::Leave { org: one(rest, "/org leave <org>")? },
        "send" => {
            let ([org, channel], text) = with_text::<2>(rest, "/org send <org> <channel> <text>")?;
            OrgCommand::Send { org, channel, text }
        }
        "info" => OrgCommand::Info { org: one(rest, "/org info <org>")? },
        _ => return Err(ParseError::Usage { usage: USAGE }),
    })
}

fn one(text: &str, usage: &'static str) -> Result<String, ParseError> {
    let [only] = exactly::<1>(text, usage)?;
    Ok(only)
}

fn split(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

impl fmt::Display for ChatRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Contact(name) => write!(f, "@{name}"),
            Self::Group(name) => write!(f, "#{name}"),
            Self::Channel { org, channel } => write!(f, "{org}/{channel}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn simple_commands() {
        assert_eq!(parse("/help"), Ok(Command::Help));
        assert_eq!(parse("  /quit  "), Ok(Command::Quit));
        assert_eq!(parse(""), Ok(Command::Nothing));
        assert_eq!(parse("/contacts"), Ok(Command::Contacts));
        assert_eq!(parse("hello"), Err(ParseError::NotACommand));
        assert_eq!(parse("/frobnicate"), Err(ParseError::Unknown));
        assert_eq!(parse("/"), Err(ParseError::Unknown));
    }

    #[test]
    fn messages_keep_the_rest_of_the_line() {
        assert_eq!(
            parse("/msg bob  hello   there "),
            Ok(Command::Msg { to: s("bob"), text: s("hello   there") })
        );
        assert_eq!(parse("/msg bob"), Err(ParseError::Usage { usage: "/msg <contact> <text>" }));
        assert_eq!(
            parse("/add KAIWA:abc Bob Smith"),
            Ok(Command::Add { code: s("KAIWA:abc"), name: Some(s("Bob Smith")) })
        );
        assert_eq!(parse("/add KAIWA:abc"), Ok(Command::Add { code: s("KAIWA:abc"), name: None }));
    }

    #[test]
    fn chats_reactions_and_history() {
        assert_eq!(
            parse("/react @bob love"),
            Ok(Command::React { chat: ChatRef::Contact(s("bob")), kind: ReactionKind::Love })
        );
        assert_eq!(
            parse("/history lighthouse/general 5"),
            Ok(Command::History {
                chat: ChatRef::Channel { org: s("lighthouse"), channel: s("general") },
                count: 5
            })
        );
        assert_eq!(
            parse("/history #hikers"),
            Ok(Command::History { chat: ChatRef::Group(s("hikers")), count: DEFAULT_HISTORY })
        );
        assert_eq!(parse("/react bob love"), Err(ParseError::Chat));
        assert_eq!(parse("/react @bob kiss"), Err(ParseError::Reaction));
        assert!(matches!(parse("/history @bob 0"), Err(ParseError::Usage { .. })));
        assert!(matches!(parse("/history @bob 101"), Err(ParseError::Usage { .. })));
    }

    #[test]
    fn group_commands() {
        assert_eq!(
            parse("/group create hikers bob carol"),
            Ok(Command::Group(GroupCommand::Create {
                name: s("hikers"),
                members: vec![s("bob"), s("carol")]
            }))
        );
        assert_eq!(
            parse("/group rename hikers summit club"),
            Ok(Command::Group(GroupCommand::Rename { group: s("hikers"), name: s("summit club") }))
        );
        assert_eq!(
            parse("/g remove hikers carol"),
            Ok(Command::Group(GroupCommand::Remove { group: s("hikers"), member: s("carol") }))
        );
        assert!(matches!(parse("/group remove hikers"), Err(ParseError::Usage { .. })));
        assert!(matches!(parse("/group create hikers"), Err(ParseError::Usage { .. })));
        assert!(matches!(parse("/group dance"), Err(ParseError::Usage { .. })));
    }

    #[test]
    fn org_commands() {
        assert_eq!(
            parse("/org create Lighthouse invite"),
            Ok(Command::Org(OrgCommand::Create {
                name: s("Lighthouse"),
                access: Access::InvitationOnly
            }))
        );
        assert_eq!(
            parse("/org create Lighthouse"),
            Ok(Command::Org(OrgCommand::Create {
                name: s("Lighthouse"),
                access: Access::OnRequest
            }))
        );
        assert_eq!(parse("/org create L secret"), Err(ParseError::Access));
        assert_eq!(
            parse("/org ban Lighthouse dave"),
            Ok(Command::Org(OrgCommand::Member {
                verb: MemberVerb::Ban,
                org: s("Lighthouse"),
                member: s("dave")
            }))
        );
        assert_eq!(
            parse("/org send Lighthouse general hi all"),
            Ok(Command::Org(OrgCommand::Send {
                org: s("Lighthouse"),
                channel: s("general"),
                text: s("hi all")
            }))
        );
        assert_eq!(
            parse("/org join Lighthouse"),
            Ok(Command::Org(OrgCommand::Join { org: s("Lighthouse"), display_name: None }))
        );
        assert_eq!(
            parse("/org channel L random Random talk"),
            Ok(Command::Org(OrgCommand::Channel {
                org: s("L"),
                id: s("random"),
                name: s("Random talk")
            }))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_lines_never_panic(line in "\\PC{0,120}") {
            let _ = parse(&line);
        }

        #[test]
        fn arbitrary_command_lines_never_panic(
            verb in "(group|org|msg|react|history|add|verify) ",
            rest in "[ a-z@#/0-9]{0,40}",
        ) {
            let _ = parse(&format!("/{verb}{rest}"));
        }

        #[test]
        fn message_text_is_kept_verbatim(text in "[^\\s][^\\n]{0,60}[^\\s]") {
            prop_assert_eq!(
                parse(&format!("/msg bob {text}")),
                Ok(Command::Msg { to: "bob".to_owned(), text: text.clone() })
            );
        }
    }
}
