//! Work in progress: a Waku v2 node on rust-libp2p (Relay, metadata, Store v3).

mod framing;
pub mod limits;
