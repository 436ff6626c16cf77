//! How events and history look in the terminal.
//!
//! ```text
//! [alice] hello                        a 1:1 message
//! [#hikers alice] hello                a group message
//! [Lighthouse/general alice] hello     a channel message
//! [alice] reacted ❤                    a reaction
//! * #hikers: bob joined                membership, requests, invitations, key changes
//! ```
//! Names come from the contacts (the name you gave them), else a short id `0x1234…abcd`.

use kaiwa::{
    ChatId, Client, Content, Direction, Event, KeyChangeKind, Message, PublicId, ReactionKind,
    Scope,
};

/// Prints every event of `client` as it arrives, until the client stops.
pub(crate) async fn print_events(client: Client) {
    let mut events = client.events();
    while let Some(event) = events.next().await {
        if let Some(line) = event_line(&client, &event).await {
            println!("{line}");
        }
    }
}

/// `0x1234…abcd`.
pub(crate) fn short_id(id: &PublicId) -> String {
    let text = id.to_string();
    match (text.get(..6), text.get(text.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) => format!("{head}…{tail}"),
        _ => text,
    }
}

/// The contact name of `id`, else its short id; "you" for ourselves.
pub(crate) async fn name_of(client: &Client, id: &PublicId) -> String {
    if *id == client.public_id() {
        return "you".to_owned();
    }
    let contacts = client.contacts().await.unwrap_or_default();
    contacts
        .into_iter()
        .find(|c| c.id == *id && !c.display_name.is_empty())
        .map_or_else(|| short_id(id), |c| c.display_name)
}

async fn chat_label(client: &Client, chat: &ChatId) -> Option<String> {
    match chat {
        ChatId::Direct(_) => None,
        ChatId::Group(group) => {
            let name = client.group(group).await.ok().flatten().map(|g| g.name);
            Some(format!("#{}", name.unwrap_or_else(|| group.to_string())))
        }
        ChatId::Channel { org, channel } => {
            let name = client.org(org).await.ok().flatten().map(|o| o.name);
            let org_name =
                name.filter(|n| !n.is_empty()).unwrap_or_else(|| kaiwa::org_id_text(org));
            Some(format!("{org_name}/{channel}"))
        }
        _ => Some("?".to_owned()),
    }
}

/// The emoji of a reaction.
pub(crate) fn emoji(kind: ReactionKind) -> &'static str {
    match kind {
        ReactionKind::Love => "❤",
        ReactionKind::ThumbsUp => "👍",
        ReactionKind::ThumbsDown => "👎",
        ReactionKind::Laugh => "😂",
        ReactionKind::Sad => "😢",
        ReactionKind::Angry => "😡",
        _ => "?",
    }
}

/// What a message says, on one line.
pub(crate) fn content_text(content: &Content) -> String {
    match content {
        Content::Text { text, .. } | Content::Emoji { text } => text.replace(['\n', '\r'], " "),
        Content::Reaction { kind, retracted: false, .. } => format!("reacted {}", emoji(*kind)),
        Content::Reaction { kind, retracted: true, .. } => {
            format!("took back {}", emoji(*kind))
        }
        Content::Unsupported { content_type } => format!("(a message of type {content_type})"),
        _ => "(a message this version cannot show)".to_owned(),
    }
}

/// `[<chat> <author>] <text>`.
pub(crate) async fn message_line(client: &Client, message: &Message) -> String {
    let author = name_of(client, &message.author).await;
    let text = content_text(&message.content);
    match chat_label(client, &message.chat).await {
        Some(label) => format!("[{label} {author}] {text}"),
        None => format!("[{author}] {text}"),
    }
}

/// A history line: a message, marked `>` if ours.
pub(crate) async fn history_line(client: &Client, message: &Message) -> String {
    let mark = if message.direction == Direction::Outbound { ">" } else { " " };
    format!("{mark} {}", message_line(client, message).await)
}

async fn names(client: &Client, ids: &[PublicId]) -> String {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(name_of(client, id).await);
    }
    out.join(", ")
}

/// The line an event prints, if any.
pub(crate) async fn event_line(client: &Client, event: &Event) -> Option<String> {
    Some(match event {
        Event::Message(message) => message_line(client, message).await,
        Event::Membership(change) => {
            let scope = match &change.scope {
                Scope::Group(group) => chat_label(client, &ChatId::Group(group.clone())).await?,
                Scope::Org(org) => {
                    let name = client.org(org).await.ok().flatten().map(|o| o.name);
                    name.filter(|n| !n.is_empty()).unwrap_or_else(|| kaiwa::org_id_text(org))
                }
                _ => "?".to_owned(),
            };
            let mut parts = Vec::new();
            if !change.invited.is_empty() {
                parts.push(format!("{} invited", names(client, &change.invited).await));
            }
            if !change.joined.is_empty() {
                parts.push(format!("{} joined", names(client, &change.joined).await));
            }
            if !change.removed.is_empty() {
                parts.push(format!("{} left or removed", names(client, &change.removed).await));
            }
            if let Some(name) = &change.renamed {
                parts.push(format!("renamed to {name:?}"));
            }
            if parts.is_empty() {
                return None;
            }
            format!("* {scope}: {}", parts.join("; "))
        }
        Event::JoinRequest { org, member, display_name } => {
            let org_name = client.org(org).await.ok().flatten().map(|o| o.name).unwrap_or_default();
            format!(
                "* {display_name:?} ({member}) asks to join {org_name}: /org accept {org_name} {member}"
            )
        }
        Event::JoinResponse { org, accepted } => {
            let org_name = client.org(org).await.ok().flatten().map(|o| o.name).unwrap_or_default();
            if *accepted {
                format!("* you are now a member of {org_name}")
            } else {
                format!("* {org_name} refused your request")
            }
        }
        Event::Invitation { org } => {
            format!("* you are invited to {0}: /org join {0}", kaiwa::org_id_text(org))
        }
        Event::KeyChange { peer, kind } => {
            let name = name_of(client, peer).await;
            let what = match kind {
                KeyChangeKind::SessionReset => "reset their session",
                KeyChangeKind::NewInstallation => "has a new installation",
                _ => "changed keys",
            };
            format!("* {name} {what}; compare safety numbers with /verify {name}")
        }
        Event::DeliveryFailed { .. } => {
            "* a message could not be delivered and was given up".to_owned()
        }
        Event::Lagged { missed } => format!("* {missed} events were missed; see /history"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_keep_both_ends() {
        let id = PublicId::new([0xab; 32]);
        assert_eq!(short_id(&id), "0xabab…abab");
    }

    #[test]
    fn content_is_one_line() {
        let text = Content::Text { text: "a\nb\rc".to_owned(), response_to: None };
        assert_eq!(content_text(&text), "a b c");
        assert_eq!(
            content_text(&Content::Unsupported { content_type: 7 }),
            "(a message of type 7)"
        );
    }
}
