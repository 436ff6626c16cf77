//! kaiwa-wire (under construction).
