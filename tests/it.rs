//! Workspace-level tests: whole flows across crates, several parties. One binary, with one
//! module per flow under `it/`.

mod it {
    mod sealed_envelope;
}
