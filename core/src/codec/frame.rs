//! The streaming decoder: finds frames in a byte stream the way QuickFIX's reader does.
//!
//! A frame runs from `8=` to the first `<SOH>10=…<SOH>` that ends at or after the end its
//! `BodyLength <9>` declares. A BodyLength that is too short therefore still finds its own
//! CheckSum (and the frame is garbled by the length check); one that is too long swallows the next
//! message too, and both are ignored (conformance script 2m). Bytes that cannot start a frame are
//! skipped up to the next `<SOH>8=`: not up to any `8=`, which also occurs inside `58=` and `108=`.

use bytes::{Bytes, BytesMut};
use memchr::memmem;

use super::SOH;
use super::error::DecodeError;
use super::message::{Checks, Message};
use super::template::ParseCache;

/// The default for `MaxMessageSize`: the largest `BodyLength <9>` accepted (1 MiB).
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 20;

/// `BeginString <8>` values are at most 8 bytes (`FIXT.1.1`); anything much longer is not a header.
const MAX_BEGIN_STRING: usize = 16;
/// Digits allowed in `BodyLength <9>`, zero padding included.
const MAX_BODY_LENGTH_DIGITS: usize = 20;
/// Room for `10=nnn<SOH>` and a few stray bytes past the largest body.
const TRAILER_ROOM: usize = 16;

/// One result of [`Decoder::decode`].
// Messages are the common case and boxing them would allocate per message; garbled frames are rare.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Decoded {
    /// A well-framed message with a correct CheckSum.
    Message(Message),
    /// Bytes that were dropped: a garbled frame, or garbage that was not a frame at all.
    Garbled {
        /// Why.
        error: DecodeError,
        /// The dropped bytes, for logging.
        bytes: Bytes,
    },
}

/// One result of [`Decoder::decode_into`]: what the caller's [`Message`] now holds, or the
/// bytes dropped instead.
#[derive(Clone, Debug)]
pub enum Filled {
    /// A well-framed message with a correct CheckSum, now in the caller's [`Message`].
    Message,
    /// Bytes that were dropped, as [`Decoded::Garbled`]; the caller's [`Message`] is unchanged.
    Garbled {
        /// Why.
        error: DecodeError,
        /// The dropped bytes, for logging.
        bytes: Bytes,
    },
}

/// A streaming FIX decoder.
///
/// Feed it bytes in any chunking with [`feed`](Self::feed), then call [`decode`](Self::decode)
/// until it returns `Ok(None)`. The same bytes give the same results however they are split.
///
/// Its buffer starts empty and grows only with the bytes received: a huge `BodyLength <9>` is
/// never allocated for in advance. Frames are split off the buffer without copying, so the
/// messages share its memory. A declared length above the maximum is a fatal error, after which
/// the decoder stays failed and drops its buffer.
///
/// ```
/// use fixgate_core::codec::{Decoded, Decoder};
///
/// let wire = b"8=FIX.4.4|9=5|35=0|10=163|".map(|b| if b == b'|' { 0x01 } else { b });
/// let mut decoder = Decoder::new();
/// decoder.feed(&wire[..7]);
/// assert!(decoder.decode().unwrap().is_none());
/// decoder.feed(&wire[7..]);
/// let Some(Decoded::Message(msg)) = decoder.decode().unwrap() else { panic!() };
/// assert_eq!(msg.msg_type(), b"0");
/// ```
#[derive(Debug)]
pub struct Decoder {
    buf: BytesMut,
    frame: Option<PendingFrame>,
    max_message_size: usize,
    failed: Option<DecodeError>,
    /// Whether the buffer starts where a frame may start: at the stream's start, after a frame, or
    /// after garbage that ended with `<SOH>` before `8=`. Elsewhere `8=` is just bytes.
    at_boundary: bool,
    /// Whether BodyLength and CheckSum must be right (`ValidateLengthAndChecksum`,
    /// `ValidateChecksum`).
    verify: Checks,
    /// The counterparty's message layouts, for indexing the next messages faster.
    layouts: ParseCache,
}

/// A frame whose header has been read, waiting for its end. Offsets are from the buffer start,
/// where the frame starts; remembering them keeps the work per byte constant however the bytes
/// are chunked.
#[derive(Clone, Copy, Debug)]
struct PendingFrame {
    body_start: usize,
    /// Where to look next for `<SOH>10=`.
    search_from: usize,
    /// The position of `<SOH>10=` once found, and where to look next for the SOH that ends it.
    checksum: Option<(usize, usize)>,
}

enum Step {
    Incomplete,
    /// Drop this many bytes; the flag says whether a frame may start right after them.
    Skip(usize, DecodeError, bool),
    Frame(usize),
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder that accepts a `BodyLength <9>` up to 1 MiB, the default `MaxMessageSize`.
    pub fn new() -> Self {
        Self::with_max_message_size(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// A decoder that accepts a `BodyLength <9>` up to `limit` bytes (capped at 1 GiB).
    pub fn with_max_message_size(limit: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            frame: None,
            max_message_size: limit.min(1 << 30),
            failed: None,
            at_boundary: true,
            verify: Checks::ALL,
            layouts: ParseCache::new(),
        }
    }

    /// Whether a frame whose BodyLength or CheckSum is wrong is garbled (the default, and the
    /// spec's rule) or accepted: QuickFIX's `ValidateLengthAndChecksum=N`, for counterparties
    /// known to get them wrong. Frame boundaries are found the same way either way.
    pub fn set_verify_length_and_checksum(&mut self, verify: bool) {
        self.verify = Checks {
            length: verify,
            checksum: verify,
        };
    }

    /// Whether a frame whose CheckSum alone is wrong is garbled (the default): QuickFIX/J's
    /// `ValidateChecksum=N` accepts it, and still checks BodyLength. Call it after
    /// [`set_verify_length_and_checksum`](Self::set_verify_length_and_checksum), which sets both.
    pub fn set_verify_checksum(&mut self, verify: bool) {
        self.verify.checksum = verify;
    }

    /// The largest `BodyLength <9>` accepted.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The bytes received but not yet returned.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// The fatal error the decoder stopped on, if any.
    pub fn failure(&self) -> Option<&DecodeError> {
        self.failed.as_ref()
    }

    /// Appends received bytes. Ignored after a fatal error.
    ///
    /// The caller SHOULD call [`decode`](Self::decode) until `Ok(None)` after each call, which keeps
    /// the buffer within one frame plus one chunk.
    pub fn feed(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(data);
        }
    }

    /// [`feed`](Self::feed) that takes the bytes over: when nothing is buffered and `data` is the
    /// only handle to its memory (as a freshly read buffer is), the frames are cut from it without
    /// a copy.
    pub fn feed_bytes(&mut self, data: Bytes) {
        if self.failed.is_some() {
            return;
        }
        if self.buf.is_empty() {
            match data.try_into_mut() {
                Ok(owned) => self.buf = owned,
                Err(shared) => self.buf.extend_from_slice(&shared),
            }
        } else {
            self.buf.extend_from_slice(&data);
        }
    }

    /// Returns the next message or garbled frame, `Ok(None)` when more bytes are needed, or the
    /// fatal error (again on every later call).
    pub fn decode(&mut self) -> Result<Option<Decoded>, DecodeError> {
        let mut msg = Message::default();
        Ok(self.decode_into(&mut msg)?.map(|filled| match filled {
            Filled::Message => Decoded::Message(msg),
            Filled::Garbled { error, bytes } => Decoded::Garbled { error, bytes },
        }))
    }

    /// [`decode`](Self::decode) into storage that the caller owns: a message is indexed straight
    /// into `msg` (which is left as it was when anything else is returned), so that it is never
    /// moved on its way out, and an index that outgrew `msg` keeps its memory for the next one.
    pub fn decode_into(&mut self, msg: &mut Message) -> Result<Option<Filled>, DecodeError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        match self.step() {
            Ok(Step::Incomplete) => Ok(None),
            Ok(Step::Skip(len, error, at_boundary)) => {
                self.frame = None;
                self.at_boundary = at_boundary;
                let bytes = self.buf.split_to(len).freeze();
                Ok(Some(Filled::Garbled { error, bytes }))
            }
            Ok(Step::Frame(len)) => {
                self.frame = None;
                self.at_boundary = true;
                let frame = self.buf.split_to(len).freeze();
                Ok(Some(
                    match msg.fill(frame, self.verify, Some(&mut self.layouts)) {
                        Ok(()) => Filled::Message,
                        Err((error, bytes)) => Filled::Garbled { error, bytes },
                    },
                ))
            }
            Err(error) => {
                self.failed = Some(error.clone());
                self.frame = None;
                self.buf = BytesMut::new();
                Err(error)
            }
        }
    }

    fn step(&mut self) -> Result<Step, DecodeError> {
        if self.frame.is_none() {
            match self.read_header()? {
                Ok(frame) => self.frame = Some(frame),
                Err(step) => return Ok(step),
            }
        }
        self.find_end()
    }

    /// Reads `8=…<SOH>9=…<SOH>` at the buffer start. The outer error is fatal; the inner one is
    /// the step to take when there is no frame header (yet).
    fn read_header(&self) -> Result<Result<PendingFrame, Step>, DecodeError> {
        let buf = &self.buf[..];
        if !(self.at_boundary && buf.starts_with(b"8=")) {
            if self.at_boundary && buf == b"8" {
                return Ok(Err(Step::Incomplete));
            }
            return Ok(Err(skip_garbage(buf, 0, DecodeError::NotAFrame)));
        }
        let bad = |error| Ok(Err(skip_garbage(buf, 1, error)));
        let window = &buf[..buf.len().min(2 + MAX_BEGIN_STRING + 1)];
        let Some(begin_string_end) = memchr::memchr(SOH, window) else {
            return if buf.len() > 2 + MAX_BEGIN_STRING {
                bad(DecodeError::MissingBodyLength)
            } else {
                Ok(Err(Step::Incomplete))
            };
        };
        let after = &buf[begin_string_end + 1..];
        if !after.starts_with(b"9=") {
            return if b"9=".starts_with(after) {
                Ok(Err(Step::Incomplete))
            } else {
                bad(DecodeError::MissingBodyLength)
            };
        }
        let digits_start = begin_string_end + 3;
        let limit = self.max_message_size as u64;
        let mut declared: u64 = 0;
        let mut i = digits_start;
        loop {
            match buf.get(i) {
                Some(&SOH) if i > digits_start => break,
                Some(b) if b.is_ascii_digit() && i - digits_start < MAX_BODY_LENGTH_DIGITS => {
                    declared = declared
                        .saturating_mul(10)
                        .saturating_add(u64::from(b - b'0'));
                }
                // Too many digits: fatal if the value is already too large, garbled if not.
                Some(b) if b.is_ascii_digit() => break,
                // The digits are bounded, so waiting for the rest costs nothing, and the verdict
                // does not depend on how the bytes were chunked.
                None => return Ok(Err(Step::Incomplete)),
                Some(_) => return bad(DecodeError::InvalidBodyLength),
            }
            i += 1;
        }
        if declared > limit {
            return Err(DecodeError::BodyLengthTooLarge {
                declared,
                limit: self.max_message_size,
            });
        }
        if buf.get(i) != Some(&SOH) {
            return bad(DecodeError::InvalidBodyLength);
        }
        let body_start = i + 1;
        Ok(Ok(PendingFrame {
            body_start,
            // The SOH ending the last body field is the first byte of `<SOH>10=`.
            search_from: body_start + declared as usize - 1,
            checksum: None,
        }))
    }

    /// Looks for the `<SOH>10=…<SOH>` that ends the pending frame.
    fn find_end(&mut self) -> Result<Step, DecodeError> {
        let buf = &self.buf[..];
        let Some(frame) = self.frame.as_mut() else {
            return Ok(Step::Incomplete);
        };
        if frame.checksum.is_none() && buf.len() >= frame.search_from + 4 {
            // Where BodyLength says it is, in every well-formed frame: no search needed.
            let found = if buf[frame.search_from..].starts_with(b"\x0110=") {
                Some(0)
            } else {
                memmem::find(&buf[frame.search_from..], b"\x0110=")
            };
            match found {
                Some(i) => {
                    let at = frame.search_from + i;
                    frame.checksum = Some((at, at + 4));
                }
                // The last three bytes may begin the pattern.
                None => frame.search_from = buf.len() - 3,
            }
        }
        // Whether the frame is complete or not, it may not run past this: an incomplete frame
        // that already fills it can only end beyond it.
        let bound = frame.body_start + self.max_message_size + TRAILER_ROOM;
        let too_long = Err(DecodeError::FrameTooLong {
            limit: self.max_message_size,
        });
        if let Some((at, scan_from)) = frame.checksum {
            match memchr::memchr(SOH, &buf[scan_from..]) {
                Some(i) if scan_from + i < bound => return Ok(Step::Frame(scan_from + i + 1)),
                Some(_) => return too_long,
                None => frame.checksum = Some((at, buf.len())),
            }
        }
        if buf.len() >= bound {
            return too_long;
        }
        Ok(Step::Incomplete)
    }
}

/// Skips from the buffer start up to the next `<SOH>8=` at or after `from`, keeping a tail that
/// may still begin one. `Incomplete` when nothing can be skipped yet.
fn skip_garbage(buf: &[u8], from: usize, error: DecodeError) -> Step {
    let (len, found) = match memmem::find(&buf[from..], b"\x018=") {
        Some(i) => (from + i + 1, true),
        None if buf.ends_with(b"\x018") => (buf.len() - 2, false),
        None if buf.ends_with(b"\x01") => (buf.len() - 1, false),
        None => (buf.len(), false),
    };
    match len.max(from) {
        0 => Step::Incomplete,
        len => Step::Skip(len, error, found),
    }
}
