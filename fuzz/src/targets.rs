//! The table of fuzz targets: name and body. `fuzz_targets/<name>.rs` calls the same body.

use crate::convergence::group_convergence;
use crate::crypto::{crypto_decode, crypto_open};
use crate::group::{group_event, group_message, group_receive, group_record};
use crate::org::{org_record, org_request, org_signed, org_view};
use crate::session::{
    session_bundle, session_contact_code, session_envelope, session_receive, session_record,
};
use crate::transport::{
    transport_message, transport_store_request, transport_store_response, transport_topics,
};

/// A fuzz target: its name (the `[[bin]]`, `fuzz_targets/<name>.rs` and `corpus/<name>/`)
/// and its body.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// The body libFuzzer calls with each input.
    pub run: fn(&[u8]),
}

/// Every target, in the order of `Cargo.toml`'s `bin` array.
pub const TARGETS: &[Target] = &[
    Target { name: "crypto_decode", run: crypto_decode },
    Target { name: "crypto_open", run: crypto_open },
    Target { name: "group_convergence", run: group_convergence },
    Target { name: "group_event", run: group_event },
    Target { name: "group_message", run: group_message },
    Target { name: "group_receive", run: group_receive },
    Target { name: "group_record", run: group_record },
    Target { name: "org_record", run: org_record },
    Target { name: "org_request", run: org_request },
    Target { name: "org_signed", run: org_signed },
    Target { name: "org_view", run: org_view },
    Target { name: "session_bundle", run: session_bundle },
    Target { name: "session_contact_code", run: session_contact_code },
    Target { name: "session_envelope", run: session_envelope },
    Target { name: "session_receive", run: session_receive },
    Target { name: "session_record", run: session_record },
    Target { name: "transport_message", run: transport_message },
    Target { name: "transport_store_request", run: transport_store_request },
    Target { name: "transport_store_response", run: transport_store_response },
    Target { name: "transport_topics", run: transport_topics },
];
