//! Lowercase hex for the `Debug`/`Display` of public values and the `0x…` text form of
//! identity keys. Internal: the crate has no hex dependency.

use core::fmt;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lowercase hex, two digits per byte.
pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for byte in bytes {
        let hi = DIGITS.get(usize::from(byte >> 4)).copied().unwrap_or(b'?');
        let lo = DIGITS.get(usize::from(byte & 0x0f)).copied().unwrap_or(b'?');
        f.write_str(core::str::from_utf8(&[hi, lo]).map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

/// Value of one lowercase hex digit; uppercase is rejected to keep one text form per key.
fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Parses exactly `2 * N` lowercase hex digits into `N` bytes.
pub(crate) fn decode_lower<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    let (pairs, rest) = text.as_chunks::<2>();
    if pairs.len() != N || !rest.is_empty() {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, [hi, lo]) in out.iter_mut().zip(pairs) {
        *byte = (digit(*hi)? << 4) | digit(*lo)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Hex<'a>(&'a [u8]);
    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_hex(f, self.0)
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let bytes = [0x00, 0x01, 0xab, 0xff];
        let text = Hex(&bytes).to_string();
        assert_eq!(text, "0001abff");
        assert_eq!(decode_lower::<4>(text.as_bytes()), Some(bytes));
        assert_eq!(decode_lower::<4>(b"0001ABFF"), None, "uppercase is not canonical");
        assert_eq!(decode_lower::<4>(b"0001abf"), None);
        assert_eq!(decode_lower::<4>(b"0001abff00"), None);
        assert_eq!(decode_lower::<4>(b"0001abfg"), None);
        assert_eq!(decode_lower::<0>(b""), Some([]));
    }
}
