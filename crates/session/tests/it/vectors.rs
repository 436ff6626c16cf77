//! Self-generated known-answer vectors (placeholder, filled below).
