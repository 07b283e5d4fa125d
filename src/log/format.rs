//! Byte layout of a journal file: every size and offset lives here, and
//! `docs/format.md` documents the same tables. Pure functions over byte
//! slices; no I/O.
//!
//! File = header (64 bytes) then records. Record = 48-byte frame header then
//! payload. Little-endian everywhere.

/// First 8 bytes of every journal. The high-bit first byte and the CR/LF pair
/// catch transfers that mangle binary files (as PNG's signature does).
pub const MAGIC: [u8; 8] = *b"\x89TLOG\r\n\x1a";
/// Version of this layout. Bumped on any change a v1 reader cannot read.
pub const FORMAT_VERSION: u16 = 1;

pub const HEADER_LEN: usize = 64;
pub const H_MAGIC: usize = 0; // 8 bytes
pub const H_VERSION: usize = 8; // u16
pub const H_FLAGS: usize = 10; // u16, zero in v1
pub const H_JOURNAL_ID: usize = 12; // 16 random bytes
pub const H_CREATED: usize = 28; // i64 microseconds since the epoch, UTC
pub const H_RESERVED: usize = 36; // 24 zero bytes
pub const H_CRC: usize = 60; // CRC32 of bytes 0..60

pub const FRAME_LEN: usize = 48;
pub const F_CRC: usize = 0; // CRC32 of bytes 4..48+len: everything after it
pub const F_LEN: usize = 4; // u32 payload length
pub const F_SEQ: usize = 8; // u64, first record is 1
pub const F_CHAIN: usize = 16; // 32-byte BLAKE3 chain digest
pub const DIGEST_LEN: usize = 32;

/// Largest payload a frame may carry. A length field above it is damage, and
/// it bounds what a reader ever allocates for one record.
pub const MAX_PAYLOAD: u32 = 1 << 20;

/// Domain separation for the chain's starting value.
const CHAIN_DOMAIN: &[u8] = b"trustlog chain v1";

pub type Digest = [u8; DIGEST_LEN];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u16,
    pub journal_id: [u8; 16],
    pub created_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer than `HEADER_LEN` bytes, all a prefix of a header (or zeros):
    /// a creation cut short by a crash.
    Short(usize),
    NotAJournal,
    UnsupportedVersion(u16),
    Checksum,
}

impl Header {
    pub fn new(journal_id: [u8; 16], created_micros: i64) -> Self {
        Header {
            version: FORMAT_VERSION,
            journal_id,
            created_micros,
        }
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[H_MAGIC..H_MAGIC + 8].copy_from_slice(&MAGIC);
        b[H_VERSION..H_VERSION + 2].copy_from_slice(&self.version.to_le_bytes());
        b[H_JOURNAL_ID..H_JOURNAL_ID + 16].copy_from_slice(&self.journal_id);
        b[H_CREATED..H_CREATED + 8].copy_from_slice(&self.created_micros.to_le_bytes());
        let crc = crc32fast::hash(&b[..H_CRC]);
        b[H_CRC..H_CRC + 4].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Checked in the order `docs/format.md` gives: magic, version, CRC.
    ///
    /// - Magic first, so that a foreign file is told apart from a damaged
    ///   journal. A magic that differs is still *damage* (`Checksum`) when
    ///   the header's CRC matches once the true magic is put back: the
    ///   damage is confined to the magic (a flipped bit), and a foreign file
    ///   passes that 32-bit check by chance once in four billion. (The
    ///   scanner also calls a file with a valid first record damaged, see
    ///   `scan::decode_header`.)
    /// - Version before the CRC, so that a future format (whose header may
    ///   be checksummed differently) gets "upgrade trustlog", not "damaged".
    ///   A version other than 1 is damage only when putting 1 back makes the
    ///   CRC match: a bit flip in a version-1 header.
    /// - Then the CRC.
    pub fn decode(b: &[u8]) -> Result<Header, HeaderError> {
        if b.len() < HEADER_LEN {
            // What a crash during creation can leave: a prefix of a header,
            // or zeros where the file was extended but never written.
            let n = b.len().min(MAGIC.len());
            if b[..n] != MAGIC[..n] && b.iter().any(|&x| x != 0) {
                return Err(HeaderError::NotAJournal);
            }
            return Err(HeaderError::Short(b.len()));
        }
        let stored = u32_at(b, H_CRC);
        // The CRC the header would have with `at..at+with.len()` replaced.
        let crc_with = |at: usize, with: &[u8]| {
            let mut h = crc32fast::Hasher::new();
            h.update(&b[..at]);
            h.update(with);
            h.update(&b[at + with.len()..H_CRC]);
            h.finalize() == stored
        };
        if b[H_MAGIC..H_MAGIC + 8] != MAGIC {
            return Err(if crc_with(H_MAGIC, &MAGIC) {
                HeaderError::Checksum
            } else {
                HeaderError::NotAJournal
            });
        }
        let version = u16::from_le_bytes([b[H_VERSION], b[H_VERSION + 1]]);
        if version != FORMAT_VERSION {
            return Err(if crc_with(H_VERSION, &FORMAT_VERSION.to_le_bytes()) {
                HeaderError::Checksum
            } else {
                HeaderError::UnsupportedVersion(version)
            });
        }
        if crc32fast::hash(&b[..H_CRC]) != stored {
            return Err(HeaderError::Checksum);
        }
        let mut journal_id = [0u8; 16];
        journal_id.copy_from_slice(&b[H_JOURNAL_ID..H_JOURNAL_ID + 16]);
        Ok(Header {
            version,
            journal_id,
            created_micros: i64::from_le_bytes(arr8(b, H_CREATED)),
        })
    }

    /// Reads the fields without checking magic, version or checksum, for
    /// `verify` to go on past a damaged header. `b` must be a whole header.
    pub fn decode_unchecked(b: &[u8; HEADER_LEN]) -> Header {
        let mut journal_id = [0u8; 16];
        journal_id.copy_from_slice(&b[H_JOURNAL_ID..H_JOURNAL_ID + 16]);
        Header {
            version: u16::from_le_bytes([b[H_VERSION], b[H_VERSION + 1]]),
            journal_id,
            created_micros: i64::from_le_bytes(arr8(b, H_CREATED)),
        }
    }

    /// The chain value "before record 1": binds the chain to this file's
    /// random id and creation time (the salt), so records copied from another
    /// journal never verify here.
    pub fn chain_seed(&self) -> Digest {
        let mut h = blake3::Hasher::new();
        h.update(CHAIN_DOMAIN);
        h.update(&self.encode());
        *h.finalize().as_bytes()
    }
}

/// Digest of record `seq` given the digest before it: BLAKE3 keyed with the
/// previous digest, over the length, the sequence number and the payload
/// (the CRC and the digest field itself are derived values). Keying with
/// the previous digest instead of hashing it saves one 64-byte block per
/// typical record, which is most of the cost of `verify`.
pub fn chain_next(prev: &Digest, seq: u64, payload: &[u8]) -> Digest {
    let mut head = [0u8; 12];
    head[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    head[4..].copy_from_slice(&seq.to_le_bytes());
    let mut h = blake3::Hasher::new_keyed(prev);
    h.update(&head);
    h.update(payload);
    *h.finalize().as_bytes()
}

/// Appends one framed record to `out`.
pub fn encode_frame(out: &mut Vec<u8>, seq: u64, chain: &Digest, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_PAYLOAD as usize);
    let start = out.len();
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(chain);
    out.extend_from_slice(payload);
    let crc = frame_crc(&out[start..]);
    out[start + F_CRC..start + F_CRC + 4].copy_from_slice(&crc.to_le_bytes());
}

fn frame_crc(frame: &[u8]) -> u32 {
    crc32fast::hash(&frame[F_LEN..])
}

/// A record frame as found in the bytes; `payload` borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub seq: u64,
    pub chain: Digest,
    pub payload: &'a [u8],
}

impl Frame<'_> {
    pub fn total_len(&self) -> usize {
        FRAME_LEN + self.payload.len()
    }
}

/// Result of trying to read one frame at the start of `b` (fjall's split:
/// `Incomplete` may be a torn tail, `Invalid` never is by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<'a> {
    Ok(Frame<'a>),
    /// The bytes end before the frame does (`need` bytes in all).
    Incomplete {
        need: usize,
    },
    /// The length field is beyond `MAX_PAYLOAD`.
    BadLength(u32),
    /// The CRC does not match.
    BadCrc,
}

pub fn parse_frame(b: &[u8]) -> Parse<'_> {
    if b.len() < FRAME_LEN {
        return Parse::Incomplete { need: FRAME_LEN };
    }
    let len = u32_at(b, F_LEN);
    if len > MAX_PAYLOAD {
        return Parse::BadLength(len);
    }
    let total = FRAME_LEN + len as usize;
    if b.len() < total {
        return Parse::Incomplete { need: total };
    }
    let frame = &b[..total];
    if frame_crc(frame) != u32_at(frame, F_CRC) {
        return Parse::BadCrc;
    }
    let mut chain = [0u8; DIGEST_LEN];
    chain.copy_from_slice(&frame[F_CHAIN..F_CHAIN + DIGEST_LEN]);
    Parse::Ok(Frame {
        seq: u64::from_le_bytes(arr8(frame, F_SEQ)),
        chain,
        payload: &frame[FRAME_LEN..],
    })
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn arr8(b: &[u8], at: usize) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    a
}

pub fn to_hex(d: &Digest) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(DIGEST_LEN * 2);
    for byte in d {
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// Parses 64 hex digits; `None` for anything else.
pub fn from_hex(s: &str) -> Option<Digest> {
    let s = s.trim();
    if s.len() != DIGEST_LEN * 2 || !s.is_ascii() {
        return None;
    }
    let mut d = [0u8; DIGEST_LEN];
    for (i, byte) in d.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_golden_bytes() {
        let h = Header::new([7u8; 16], 1_700_000_000_000_000);
        let b = h.encode();
        assert_eq!(&b[..8], &MAGIC);
        assert_eq!(&b[8..10], &[1, 0]);
        assert_eq!(&b[12..28], &[7u8; 16]);
        assert_eq!(&b[36..60], &[0u8; 24]);
        assert_eq!(Header::decode(&b), Ok(h));
    }

    #[test]
    fn header_errors_are_distinguished() {
        let h = Header::new([1u8; 16], 5).encode();
        assert_eq!(
            Header::decode(b"hello world, this is text"),
            Err(HeaderError::NotAJournal)
        );
        assert_eq!(Header::decode(&h[..10]), Err(HeaderError::Short(10)));
        let mut bad = h;
        bad[30] ^= 1;
        assert_eq!(Header::decode(&bad), Err(HeaderError::Checksum));
        let mut future = Header::new([1u8; 16], 5);
        future.version = 9;
        assert_eq!(
            Header::decode(&future.encode()),
            Err(HeaderError::UnsupportedVersion(9))
        );
    }

    /// Issue 13: the CRC was checked before the version, so a future
    /// header checksummed some other way (here: its CRC field is whatever
    /// the future format puts there, not CRC-32 of bytes 0..60) was called
    /// damaged instead of asking for an upgrade.
    #[test]
    fn a_future_version_with_another_crc_asks_for_an_upgrade() {
        let mut v2 = Header::new([1u8; 16], 5);
        v2.version = 2;
        let mut b = v2.encode();
        for crc in [0u32, 0xdead_beef, crc32fast::hash(&b[..40])] {
            b[H_CRC..H_CRC + 4].copy_from_slice(&crc.to_le_bytes());
            assert_ne!(
                crc32fast::hash(&b[..H_CRC]),
                crc,
                "the CRC must not be valid"
            );
            assert_eq!(
                Header::decode(&b),
                Err(HeaderError::UnsupportedVersion(2)),
                "crc {crc:#x}"
            );
        }
    }

    /// A bit flip in the version of a version-1 header is damage, not a
    /// future format; a flip in the magic is damage, not a foreign file.
    #[test]
    fn flips_in_the_magic_or_version_of_a_v1_header_are_damage() {
        let h = Header::new([1u8; 16], 5).encode();
        for i in 0..H_FLAGS {
            for bit in 0..8 {
                let mut b = h;
                b[i] ^= 1 << bit;
                assert_eq!(
                    Header::decode(&b),
                    Err(HeaderError::Checksum),
                    "byte {i} bit {bit}"
                );
            }
        }
        // A foreign 64 bytes, even one starting like the magic, is not.
        let mut foreign = [b'x'; HEADER_LEN];
        foreign[..7].copy_from_slice(&MAGIC[..7]);
        assert_eq!(Header::decode(&foreign), Err(HeaderError::NotAJournal));
    }

    #[test]
    fn frame_round_trip_and_damage() {
        let mut out = Vec::new();
        let chain = [3u8; 32];
        encode_frame(&mut out, 42, &chain, b"hello");
        assert_eq!(out.len(), FRAME_LEN + 5);
        assert_eq!(&out[F_LEN..F_LEN + 4], &[5, 0, 0, 0]);
        match parse_frame(&out) {
            Parse::Ok(f) => {
                assert_eq!(f.seq, 42);
                assert_eq!(f.chain, chain);
                assert_eq!(f.payload, b"hello");
            }
            other => panic!("expected a frame, got {other:?}"),
        }
        assert_eq!(
            parse_frame(&out[..out.len() - 1]),
            Parse::Incomplete { need: 53 }
        );
        for i in 0..out.len() {
            for bit in 0..8 {
                let mut d = out.clone();
                d[i] ^= 1 << bit;
                assert!(
                    !matches!(parse_frame(&d), Parse::Ok(_)),
                    "flip at byte {i} bit {bit} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn hex_round_trip() {
        let d = [0xabu8; 32];
        assert_eq!(from_hex(&to_hex(&d)), Some(d));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex(&"zz".repeat(32)), None);
    }
}
