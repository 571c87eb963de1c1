//! The log's on-disk format: a header, then checksummed records.
//!
//! ```text
//! header:  "FIXGSTOR" | version u32 | reserved u32 | created secs i64 | created nanos u32 | crc u32
//! record:  length u32 | !length u32 | crc u32 | kind u8 | seq u64 | answers u64 | payload[length]
//! ```
//! All integers are little-endian. A record's CRC-32 covers kind, seq, answers and payload.
//! `answers` is the inbound MsgSeqNum a reply answers plus one, or 0. The length is written twice
//! (the second time inverted), so that a damaged length is told apart from a record cut short by
//! a crash: only the latter may be truncated.

use fixgate_core::{SeqNum, UtcTimestamp};

/// The file's magic bytes.
pub(crate) const MAGIC: &[u8; 8] = b"FIXGSTOR";
/// The format version this code writes and reads.
pub(crate) const VERSION: u32 = 1;
/// The header's length.
pub(crate) const HEADER_LEN: usize = 32;
/// A record's fixed part: length, inverted length, CRC, kind, seq, answers.
pub(crate) const RECORD_HEADER_LEN: usize = 29;
/// Where a record's kind byte is. It is never 0 in a record written whole: 0 there marks the end
/// of the log (room reserved ahead, or a record whose writing a crash interrupted).
pub(crate) const KIND_AT: usize = 12;

/// What a record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An outbound message (payload: the frame).
    Message = 1,
    /// The next outbound MsgSeqNum was set.
    NextSender = 2,
    /// The next inbound MsgSeqNum was set.
    NextTarget = 3,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Message),
            2 => Some(Self::NextSender),
            3 => Some(Self::NextTarget),
            _ => None,
        }
    }
}

/// A record read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) kind: Kind,
    pub(crate) seq: SeqNum,
    pub(crate) answers: Option<SeqNum>,
    pub(crate) payload_len: usize,
}

/// Why the bytes at some offset are not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Damage {
    /// The file ends inside the record.
    Incomplete,
    /// The record is complete but its CRC or kind is wrong.
    Corrupt,
}

/// Encodes the header.
pub(crate) fn header(created: UtcTimestamp) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&VERSION.to_le_bytes());
    out[16..24].copy_from_slice(&created.unix_secs().to_le_bytes());
    out[24..28].copy_from_slice(&created.subsec_nanos().to_le_bytes());
    let crc = crc32fast::hash(&out[..28]);
    out[28..32].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes the header: the creation time, or `None` when it is not a valid header of our version.
pub(crate) fn parse_header(bytes: &[u8]) -> Option<UtcTimestamp> {
    let bytes: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
    if &bytes[..8] != MAGIC || u32::from_le_bytes(bytes[8..12].try_into().ok()?) != VERSION {
        return None;
    }
    if crc32fast::hash(&bytes[..28]) != u32::from_le_bytes(bytes[28..32].try_into().ok()?) {
        return None;
    }
    let secs = i64::from_le_bytes(bytes[16..24].try_into().ok()?);
    let nanos = u32::from_le_bytes(bytes[24..28].try_into().ok()?);
    UtcTimestamp::from_unix(secs, nanos)
}

/// Appends one record to `out`.
pub(crate) fn encode(
    out: &mut Vec<u8>,
    kind: Kind,
    seq: SeqNum,
    answers: Option<SeqNum>,
    payload: &[u8],
) {
    let start = out.len();
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(kind as u8);
    out.extend_from_slice(&seq.get().to_le_bytes());
    let answers = answers.map_or(0, |a| a.get().saturating_add(1));
    out.extend_from_slice(&answers.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start + 12..]);
    out[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
}

/// The payload length a record at the start of `bytes` declares: `Err(Incomplete)` when its
/// first eight bytes are not all there, `Err(Corrupt)` when the two copies disagree.
pub(crate) fn declared_len(bytes: &[u8]) -> Result<usize, Damage> {
    let le32 = |at: usize| -> Result<u32, Damage> {
        let word = bytes.get(at..at + 4).ok_or(Damage::Incomplete)?;
        Ok(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
    };
    let len = le32(0)?;
    if le32(4)? != !len {
        return Err(Damage::Corrupt);
    }
    Ok(len as usize)
}

/// Decodes the record at the start of `bytes` (which may hold more after it).
pub(crate) fn decode(bytes: &[u8]) -> Result<Record, Damage> {
    let payload_len = declared_len(bytes)?;
    let fixed = bytes.get(..RECORD_HEADER_LEN).ok_or(Damage::Incomplete)?;
    let le64 = |at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&fixed[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let whole = bytes
        .get(..RECORD_HEADER_LEN + payload_len)
        .ok_or(Damage::Incomplete)?;
    let crc = u32::from_le_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]);
    if crc32fast::hash(&whole[12..]) != crc {
        return Err(Damage::Corrupt);
    }
    let kind = Kind::from_byte(fixed[KIND_AT]).ok_or(Damage::Corrupt)?;
    let answers = le64(21).checked_sub(1).map(SeqNum::new);
    Ok(Record {
        kind,
        seq: SeqNum::new(le64(13)),
        answers,
        payload_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_detected() {
        let mut out = Vec::new();
        encode(
            &mut out,
            Kind::Message,
            SeqNum::new(7),
            Some(SeqNum::new(3)),
            b"frame",
        );
        let record = decode(&out).unwrap();
        assert_eq!(
            record,
            Record {
                kind: Kind::Message,
                seq: SeqNum::new(7),
                answers: Some(SeqNum::new(3)),
                payload_len: 5
            }
        );
        assert_eq!(decode(&out[..out.len() - 1]), Err(Damage::Incomplete));
        let mut flipped = out.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(decode(&flipped), Err(Damage::Corrupt));
    }

    #[test]
    fn header_round_trips() {
        let created = UtcTimestamp::from_unix(1_795_694_400, 5).unwrap();
        assert_eq!(parse_header(&header(created)), Some(created));
        let mut bad = header(created);
        bad[20] ^= 1;
        assert_eq!(parse_header(&bad), None);
    }
}
