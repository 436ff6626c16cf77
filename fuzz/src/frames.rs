//! The input layout of the state-machine targets: a short sequence of messages, each with who
//! sent it and how much time passed before it arrived.
//!
//! ```text
//! input  = frame*                                   at most MAX_FRAMES; the rest is ignored
//! frame  = sender (1) ‖ delay_s (1) ‖ len (2, little-endian) ‖ message (len bytes)
//!          a last frame whose input ends early takes the bytes that are left;
//!          fewer than 4 bytes left end the sequence
//! ```
//!
//! The target decides what `sender` selects (an index into its cast, modulo the cast's size)
//! and how `delay_s` advances its clock.

/// Frames read from one input; more would only slow each run down without reaching new
/// states (every message may carry a whole log).
const MAX_FRAMES: usize = 8;

/// One message of a state-machine input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Selects the sender (the target reduces it modulo its cast's size).
    pub sender: u8,
    /// Seconds that pass before this message arrives.
    pub delay_s: u8,
    /// The message bytes.
    pub message: &'a [u8],
}

/// Splits `data` into frames (module doc). Never panics.
pub fn frames(data: &[u8]) -> impl Iterator<Item = Frame<'_>> + '_ {
    let mut rest = data;
    core::iter::from_fn(move || {
        let ([sender, delay_s, len_lo, len_hi], tail) = rest.split_first_chunk::<4>()?;
        let len = usize::from(u16::from_le_bytes([*len_lo, *len_hi])).min(tail.len());
        let (message, next) = tail.split_at(len);
        rest = next;
        Some(Frame { sender: *sender, delay_s: *delay_s, message })
    })
    .take(MAX_FRAMES)
}

/// Encodes frames in the layout [`frames`] reads (for seeds).
///
/// # Panics
/// If a message is longer than `u16::MAX` bytes (seeds are small).
pub fn encode_frames(frames: &[Frame<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        let len = u16::try_from(frame.message.len()).expect("a seed message fits in a frame");
        out.extend_from_slice(&[frame.sender, frame.delay_s]);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(frame.message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_truncation_and_bound() {
        let input = [
            Frame { sender: 1, delay_s: 2, message: b"abc" },
            Frame { sender: 3, delay_s: 0, message: b"" },
        ];
        let bytes = encode_frames(&input);
        assert_eq!(frames(&bytes).collect::<Vec<_>>(), input);

        // A frame whose input ends early takes what is left; a short header ends the sequence.
        let read: Vec<_> = frames(&[9, 9, 10, 0, b'x', b'y']).collect();
        assert_eq!(read, [Frame { sender: 9, delay_s: 9, message: b"xy" }]);
        assert_eq!(frames(&[1, 2, 3]).count(), 0);

        assert_eq!(frames(&[0; 4 * 100]).count(), MAX_FRAMES);
    }
}
