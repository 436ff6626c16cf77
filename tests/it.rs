//! Workspace-level tests: whole flows across crates, several parties. One binary, with one
//! module per flow under `it/`, and the scenario harness from `src/` (see `src/harness.rs` for
//! why it is compiled here rather than into the library).

// The harness is held to the workspace lints like library code: no unwrap, no indexing.
#[path = "src/harness.rs"]
mod harness;

// clippy.toml allows these inside `#[test]` functions only; the scenario helpers are test code
// too.
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "scenario helpers outside #[test] fns: a failed expectation is a test failure"
)]
mod it {
    mod group_scenario;
    mod org_scenario;
    mod sealed_envelope;
}
