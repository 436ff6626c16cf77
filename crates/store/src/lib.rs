//! SQLite persistence for kaiwa (work in progress).
