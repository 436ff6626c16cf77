#![doc = include_str!("../README.md")]

mod client;
mod config;
mod content;
mod core;
mod environment;
mod error;
mod event;
mod ids;
mod legacy_state;
pub mod limits;
mod net;
mod profile;

pub use crate::client::{Client, Events, GroupInfo, OrgInfo, Sent, Stats};
pub use crate::config::{ClientConfig, ClientConfigBuilder};
pub use crate::content::{Content, MESSAGE_REF_CONTEXT, Message, MessageRef};
pub use crate::environment::{Clock, Environment, SystemClock};
pub use crate::error::{Error, GroupError, OrgError, ProfileError, SessionError, TransportError};
pub use crate::event::{Event, KeyChangeKind, MembershipChange, Scope};
pub use crate::ids::{org_id_text, parse_org_id, parse_public_id, safety_number};
pub use crate::profile::{DATABASE_FILE, LEGACY_STATE_FILE, Profile};
pub use kaiwa_group::{GroupId, MemberStatus, ReactionKind};
pub use kaiwa_org::{Access, ChannelId, OrgId};
pub use kaiwa_session::{SafetyNumber, SessionConfig};
pub use kaiwa_store::{
    ChatId, ChatSummary, Contact, Direction, Durability, HistoryCursor, MessageId, MessageStatus,
    PublicId,
};

/// The generated wire types, for advanced users (STYLE §3.2: only under this module).
pub mod wire {
    pub use kaiwa_wire::*;
}

/// kaiwa-transport: topics, the `Transport` trait and the simulated network.
pub mod transport {
    pub use kaiwa_transport::*;
}

/// kaiwa-relay: the Waku node the client talks through on a real network.
pub mod relay {
    pub use kaiwa_relay::*;
}
