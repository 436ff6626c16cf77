//! Lowercase hex, the text form of hashes and keys in topics and `Display` output.

use core::fmt;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lowercase hex.
pub(crate) fn write(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            f.write_char(char::from(DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0')))?;
        }
    }
    Ok(())
}

/// `bytes` as a lowercase hex string.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().saturating_mul(2));
    // Writing into a `String` cannot fail.
    let _ = write(&mut out, bytes);
    out
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Parses exactly `2 * N` hex digits (either case) into `N` bytes.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != N.checked_mul(2)? {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let [high, low] = pair else { return None };
        *byte = (nibble(*high)? << 4) | nibble(*low)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes() {
        assert_eq!(encode(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(decode_array::<4>("000fA5ff"), Some([0x00, 0x0f, 0xa5, 0xff]));
        assert_eq!(decode_array::<4>("000fa5f"), None);
        assert_eq!(decode_array::<4>("000fa5fg"), None);
        assert_eq!(decode_array::<2>("000fa5ff"), None);
    }
}
