//! kaiwa-crypto (under construction).
