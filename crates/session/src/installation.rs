//! Installation (device) ids.
//!
//! ```text
//! InstallationId = 1 ..= MAX_INSTALLATION_ID_LEN bytes of printable ASCII (0x21 ..= 0x7e)
//! ```
//!
//! status-go uses UUID strings (digest §2.2); any printable id is accepted, so the id can be
//! placed in text and length-prefixed with one byte in signature material.

use core::fmt;

use crate::limits::MAX_INSTALLATION_ID_LEN;

/// Why a string is not an installation id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstallationIdError {
    /// Empty or longer than [`MAX_INSTALLATION_ID_LEN`].
    #[error("installation id has {actual} bytes, allowed are 1 to {max}")]
    Length {
        /// Length given.
        actual: usize,
        /// Largest allowed length.
        max: usize,
    },
    /// Contains a byte outside printable ASCII (0x21 to 0x7e).
    #[error("installation id contains a character that is not printable ASCII")]
    Character,
}

/// The id of one installation (device) of an account: the key of `Bundle.signed_pre_keys`
/// and of `ProtocolMessage.encrypted_message`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstallationId(String);

impl InstallationId {
    /// Validates an id.
    ///
    /// # Errors
    /// [`InstallationIdError`] if it is empty, too long, or not printable ASCII.
    pub fn new(id: impl Into<String>) -> Result<Self, InstallationIdError> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_INSTALLATION_ID_LEN {
            return Err(InstallationIdError::Length {
                actual: id.len(),
                max: MAX_INSTALLATION_ID_LEN,
            });
        }
        if !id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(InstallationIdError::Character);
        }
        Ok(Self(id))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `u8(len) ‖ id`, the unambiguous form used in signature material and associated data.
    pub(crate) fn write_prefixed(&self, out: &mut Vec<u8>) {
        // `new` bounds the length by MAX_INSTALLATION_ID_LEN (64).
        out.push(u8::try_from(self.0.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(self.0.as_bytes());
    }
}

impl fmt::Debug for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InstallationId({:?})", self.0)
    }
}

impl fmt::Display for InstallationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for InstallationId {
    type Error = InstallationIdError;

    fn try_from(id: &str) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(InstallationId::new("3f2a0c1e-8d4b-4e5f-9a6b-7c8d9e0f1a2b").is_ok());
        assert_eq!(
            InstallationId::new(""),
            Err(InstallationIdError::Length { actual: 0, max: MAX_INSTALLATION_ID_LEN })
        );
        assert_eq!(
            InstallationId::new("a".repeat(65)),
            Err(InstallationIdError::Length { actual: 65, max: MAX_INSTALLATION_ID_LEN })
        );
        assert!(InstallationId::new("a".repeat(64)).is_ok());
        assert_eq!(InstallationId::new("a b"), Err(InstallationIdError::Character));
        assert_eq!(InstallationId::new("é"), Err(InstallationIdError::Character));
        let mut out = Vec::new();
        InstallationId::new("ab").unwrap().write_prefixed(&mut out);
        assert_eq!(out, b"\x02ab");
    }
}
