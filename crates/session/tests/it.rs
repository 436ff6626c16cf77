//! Integration tests of kaiwa-session, one binary (rustls style).

mod it {
    pub(crate) mod common;
    mod manager;
    mod properties;
    mod session;
    mod vectors;
}
