//! Length-prefixed frames for Waku's request-response protocols, and the libp2p codec that
//! carries them.
//!
//! Every message on `/vac/waku/metadata/1.0.0` and `/vac/waku/store-query/3.0.0` is one protobuf
//! preceded by its length as an unsigned LEB128 varint (digest §7: "stream messages are prefixed
//! with their length as an unsigned varint"; nwaku `writeLp`/`readLp`, js-waku
//! `it-length-prefixed`):
//!
//! ```text
//! frame  = varint(len) ‖ body            len ≤ the protocol's bound (limits.rs)
//! varint = 7 bits per byte, least significant group first, high bit = "more bytes follow";
//!          minimal encoding required (no trailing 0x80 0x00 padding), at most 10 bytes
//! ```
//!
//! The length is checked against the bound before a single body byte is buffered, so a peer
//! announcing a 4 GiB frame costs us nothing. The codec moves raw bodies only: decoding and
//! validation happen in [`crate::metadata`] and [`crate::store`], where they are tested on their
//! own.

use std::io;

use futures::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use libp2p::StreamProtocol;
use libp2p::request_response;

/// Longest LEB128 encoding of a `u64`.
const MAX_VARINT_LEN: usize = 10;

/// Why a length prefix was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum VarintError {
    /// The input ended inside the varint.
    #[error("length prefix truncated")]
    Truncated,
    /// More than ten bytes, or a value over `u64::MAX`.
    #[error("length prefix overflows u64")]
    Overflow,
    /// A non-minimal encoding (a final zero group after the first byte).
    #[error("length prefix is not minimally encoded")]
    NotMinimal,
}

/// Appends the LEB128 encoding of `value` to `out`.
pub(crate) fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let group = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(group);
            return;
        }
        out.push(group | 0x80);
    }
}

/// Decodes a LEB128 varint at the start of `bytes`: the value and the number of bytes it took.
///
/// # Errors
///
/// [`VarintError`] when the prefix is truncated, overlong or not minimal.
pub(crate) fn decode_varint(bytes: &[u8]) -> Result<(u64, usize), VarintError> {
    let mut value: u64 = 0;
    for (index, &byte) in bytes.iter().enumerate().take(MAX_VARINT_LEN) {
        let group = u64::from(byte & 0x7f);
        let shift = 7 * u32::try_from(index).map_err(|_| VarintError::Overflow)?;
        // The tenth byte may only contribute the single top bit of a u64.
        if index == MAX_VARINT_LEN - 1 && group > 1 {
            return Err(VarintError::Overflow);
        }
        value |= group << shift;
        if byte & 0x80 == 0 {
            if group == 0 && index > 0 {
                return Err(VarintError::NotMinimal);
            }
            return Ok((value, index + 1));
        }
    }
    if bytes.len() >= MAX_VARINT_LEN {
        Err(VarintError::Overflow)
    } else {
        Err(VarintError::Truncated)
    }
}

/// `varint(len(body)) ‖ body`.
pub(crate) fn encode_frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + MAX_VARINT_LEN);
    encode_varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// Reads one frame of at most `max` body bytes.
///
/// # Errors
///
/// `InvalidData` for a bad or oversize length prefix (before reading the body), and any I/O
/// error of `io`, including `UnexpectedEof` for a stream that ends early.
pub(crate) async fn read_frame<R>(io: &mut R, max: usize) -> io::Result<Vec<u8>>
where
    R: AsyncRead + Unpin + Send,
{
    let mut prefix = Vec::with_capacity(MAX_VARINT_LEN);
    let len = loop {
        let mut byte = [0_u8; 1];
        io.read_exact(&mut byte).await?;
        prefix.extend_from_slice(&byte);
        match decode_varint(&prefix) {
            Ok((len, _)) => break len,
            Err(VarintError::Truncated) => continue,
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    };
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| len <= max)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "frame exceeds its bound"))?;
    let mut body = vec![0_u8; len];
    io.read_exact(&mut body).await?;
    Ok(body)
}

/// Writes one frame and flushes it.
///
/// # Errors
///
/// Any I/O error of `io`.
pub(crate) async fn write_frame<W>(io: &mut W, body: &[u8]) -> io::Result<()>
where
    W: AsyncWrite + Unpin + Send,
{
    io.write_all(&encode_frame(body)).await?;
    io.flush().await
}

/// A request-response codec moving one bounded frame each way; bodies stay raw bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameCodec {
    /// Largest request body read.
    pub(crate) max_request: usize,
    /// Largest response body read.
    pub(crate) max_response: usize,
}

impl request_response::Codec for FrameCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_request).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &response).await
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use futures::io::Cursor;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn varint_known_answers() {
        for (value, bytes) in [
            (0_u64, vec![0x00]),
            (1, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (16_384, vec![0x80, 0x80, 0x01]),
            (u64::MAX, vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ] {
            let mut out = Vec::new();
            encode_varint(value, &mut out);
            assert_eq!(out, bytes);
            assert_eq!(decode_varint(&bytes), Ok((value, bytes.len())));
        }
    }

    #[test]
    fn varint_rejects_bad_prefixes() {
        assert_eq!(decode_varint(&[]), Err(VarintError::Truncated));
        assert_eq!(decode_varint(&[0x80]), Err(VarintError::Truncated));
        assert_eq!(decode_varint(&[0x80, 0x00]), Err(VarintError::NotMinimal));
        assert_eq!(decode_varint(&[0xff; 10]), Err(VarintError::Overflow));
        let mut too_big = vec![0xff; 9];
        too_big.push(0x02);
        assert_eq!(decode_varint(&too_big), Err(VarintError::Overflow));
    }

    #[test]
    fn frame_round_trips_and_leaves_the_rest() {
        let mut bytes = encode_frame(b"hello");
        bytes.extend_from_slice(b"rest");
        let mut io = Cursor::new(bytes);
        assert_eq!(block_on(read_frame(&mut io, 5)).unwrap(), b"hello");
        assert_eq!(io.position(), 6);
    }

    #[test]
    fn oversize_frame_is_refused_before_its_body_is_read() {
        // Announces 4 GiB but carries nothing: refused on the prefix alone.
        let mut prefix = Vec::new();
        encode_varint(1 << 32, &mut prefix);
        let error = block_on(read_frame(&mut Cursor::new(prefix), 1024)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        let error = block_on(read_frame(&mut Cursor::new(encode_frame(&[0; 11])), 10)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn truncated_frame_is_an_eof() {
        let mut bytes = encode_frame(b"hello");
        bytes.truncate(3);
        let error = block_on(read_frame(&mut Cursor::new(bytes), 64)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn varint_round_trips(value in any::<u64>()) {
            let mut out = Vec::new();
            encode_varint(value, &mut out);
            prop_assert_eq!(decode_varint(&out), Ok((value, out.len())));
        }

        #[test]
        fn random_bytes_never_panic_the_frame_reader(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_varint(&bytes);
            let _ = block_on(read_frame(&mut Cursor::new(bytes), 32));
        }
    }
}
