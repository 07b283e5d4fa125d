//! Streaming reads of a journal, record by record, in constant memory.
//!
//! The scanner reports what it finds and leaves policy to its callers, which
//! are named after RocksDB's recovery modes:
//! - tolerate-corrupted-tail (normal reads): a torn tail is the clean end of
//!   the log, damage before it is an error;
//! - absolute-consistency (`verify`): every finding is reported, a torn tail
//!   included;
//! - skip-corrupted (`repair --salvage`): every intact record is kept.
//!
//! What counts as a torn tail (LevelDB's rule, made strict): the first spot
//! that does not parse as a valid frame, when no valid frame starts anywhere
//! after it. Any valid frame after a bad spot means the bad spot is damage
//! inside the log, never silently skipped.

use std::io;

use super::format::{
    chain_next, parse_frame, Digest, Frame, Header, HeaderError, Parse, FRAME_LEN, F_LEN, F_SEQ,
    HEADER_LEN, MAX_PAYLOAD,
};
use super::storage::{read_full, Storage};

const CHUNK: usize = 1 << 20;
/// Bytes a frame can span at most, so a search window never cuts one.
const MAX_FRAME: usize = FRAME_LEN + MAX_PAYLOAD as usize;

/// One intact record; `payload` borrows the scanner's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub offset: u64,
    pub seq: u64,
    pub chain: Digest,
    pub payload: &'a [u8],
}

impl Record<'_> {
    /// A hole stands for a record lost to damage and written by
    /// `repair --salvage` so that sequence numbers stay stable.
    pub fn is_hole(&self) -> bool {
        self.payload.is_empty()
    }

    pub fn end(&self) -> u64 {
        self.offset + (FRAME_LEN + self.payload.len()) as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DamageKind {
    /// The file header's checksum does not match.
    Header,
    /// A frame's CRC does not match its bytes.
    Checksum,
    /// A frame's length field is impossible (too large, or runs past the
    /// end of the file while intact records follow).
    Length,
    /// An intact frame with an unexpected sequence number: a record was
    /// deleted, inserted, duplicated or reordered.
    Sequence,
    /// An intact frame whose chain digest does not follow from the records
    /// before it: history was rewritten.
    Chain,
    /// The end of the file holds an incomplete write (a crash mid-append).
    TornTail,
}

impl DamageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DamageKind::Header => "header",
            DamageKind::Checksum => "checksum",
            DamageKind::Length => "length",
            DamageKind::Sequence => "sequence",
            DamageKind::Chain => "chain",
            DamageKind::TornTail => "torn_tail",
        }
    }
}

/// A finding. `seq` is the sequence number the damaged spot should hold
/// (`None` for the header); `len` the bytes up to the next intact record
/// (or the end of the file); `lost` the range of sequence numbers that
/// cannot be read, when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    pub offset: u64,
    pub seq: Option<u64>,
    pub kind: DamageKind,
    pub len: u64,
    pub lost: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    Record(Record<'a>),
    Damage(Damage),
}

/// Why a scan could not even start.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    Header(HeaderError),
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// Reads and decodes the file header (see `Header::decode`), with one more
/// piece of evidence: a header whose magic is not the signature still
/// belongs to a damaged journal (`HeaderError::Checksum`) when record 1
/// follows it, i.e. the bytes at offset 64 are a whole frame with a valid
/// CRC and sequence number 1. Only a file with no trustlog structure at all
/// is "not a journal". Returns the header bytes too (zero-padded when the
/// file is shorter), for `Header::decode_unchecked`.
pub fn decode_header<S: Storage + ?Sized>(
    storage: &S,
) -> io::Result<(Result<Header, HeaderError>, [u8; HEADER_LEN])> {
    let mut hb = [0u8; HEADER_LEN];
    let n = read_full(storage, 0, &mut hb)?;
    let decoded = match Header::decode(&hb[..n]) {
        Err(HeaderError::NotAJournal) if n == HEADER_LEN && record_one_follows(storage)? => {
            Err(HeaderError::Checksum)
        }
        other => other,
    };
    Ok((decoded, hb))
}

/// True if a valid frame numbered 1 starts right after the header.
fn record_one_follows<S: Storage + ?Sized>(storage: &S) -> io::Result<bool> {
    let mut head = [0u8; FRAME_LEN];
    if read_full(storage, HEADER_LEN as u64, &mut head)? < FRAME_LEN {
        return Ok(false);
    }
    let len = u32::from_le_bytes([
        head[F_LEN],
        head[F_LEN + 1],
        head[F_LEN + 2],
        head[F_LEN + 3],
    ]);
    let seq = u64::from_le_bytes(head[F_SEQ..F_SEQ + 8].try_into().unwrap_or([0; 8]));
    if len > MAX_PAYLOAD || seq != 1 {
        return Ok(false);
    }
    let mut frame = vec![0u8; FRAME_LEN + len as usize];
    if read_full(storage, HEADER_LEN as u64, &mut frame)? < frame.len() {
        return Ok(false);
    }
    Ok(matches!(parse_frame(&frame), Parse::Ok(f) if f.seq == 1))
}

pub struct Scanner<S: Storage> {
    storage: S,
    header: Header,
    file_len: u64,
    /// Read buffer: `buf[..filled]` holds file bytes; the rest is spare
    /// room, kept so that a refill does not zero it again (`resize` would
    /// clear a megabyte per refill).
    buf: Vec<u8>,
    filled: usize,
    /// File offset of `buf[0]`.
    buf_start: u64,
    pos: u64,
    next_seq: u64,
    prev_chain: Digest,
    /// False until the chain can be followed again after damage.
    chain_known: bool,
    check_chain: bool,
    /// Accept the frame at `pos` as-is: its finding was already reported.
    accept_next: bool,
    pending: Option<Damage>,
    finished: bool,
}

impl<S: Storage> Scanner<S> {
    /// Opens a scan of the whole file as it is now. Bytes appended later are
    /// not read: a reader never sees a record being written.
    /// `check_chain` recomputes the hash chain (verify); plain reads rely on
    /// the CRCs and sequence numbers, which is much cheaper.
    /// `lenient_header` lets verify go on past a damaged header checksum.
    pub fn open(storage: S, check_chain: bool, lenient_header: bool) -> Result<Self, OpenError> {
        let file_len = storage.size()?;
        let (decoded, hb) = decode_header(&storage)?;
        let mut pending = None;
        let mut chain_known = true;
        let header = match decoded {
            Ok(h) => h,
            Err(HeaderError::Checksum) if lenient_header => {
                pending = Some(Damage {
                    offset: 0,
                    seq: None,
                    kind: DamageKind::Header,
                    len: HEADER_LEN as u64,
                    lost: None,
                });
                chain_known = false;
                Header::decode_unchecked(&hb)
            }
            Err(e) => return Err(OpenError::Header(e)),
        };
        Ok(Scanner {
            storage,
            prev_chain: header.chain_seed(),
            header,
            file_len,
            buf: Vec::new(),
            filled: 0,
            buf_start: HEADER_LEN as u64,
            pos: HEADER_LEN as u64,
            next_seq: 1,
            chain_known,
            check_chain,
            accept_next: false,
            pending,
            finished: false,
        })
    }

    /// Moves a fresh scan to just after the record at `record_offset`,
    /// which must be intact and hold `seq` and `chain` (what a reader that
    /// stopped there remembers, e.g. a checkpoint). Returns `false`, leaving
    /// the scan where it was, when the file has no such record there: it was
    /// rewritten, salvaged, cut, or is another journal.
    pub fn resume_after(
        &mut self,
        record_offset: u64,
        seq: u64,
        chain: &Digest,
    ) -> io::Result<bool> {
        if self.pos != HEADER_LEN as u64 || record_offset < HEADER_LEN as u64 || seq == 0 {
            return Ok(false);
        }
        if record_offset.saturating_add(FRAME_LEN as u64) > self.file_len {
            return Ok(false);
        }
        let mut head = [0u8; FRAME_LEN];
        if read_full(&self.storage, record_offset, &mut head)? != FRAME_LEN {
            return Ok(false);
        }
        let len = u32::from_le_bytes([
            head[F_LEN],
            head[F_LEN + 1],
            head[F_LEN + 2],
            head[F_LEN + 3],
        ]);
        if len > MAX_PAYLOAD || record_offset + (FRAME_LEN as u64) + u64::from(len) > self.file_len
        {
            return Ok(false);
        }
        let mut frame = vec![0u8; FRAME_LEN + len as usize];
        if read_full(&self.storage, record_offset, &mut frame)? != frame.len() {
            return Ok(false);
        }
        match parse_frame(&frame) {
            Parse::Ok(f) if f.seq == seq && f.chain == *chain => {
                self.pos = record_offset + frame.len() as u64;
                self.filled = 0;
                self.buf_start = self.pos;
                self.next_seq = seq + 1;
                self.prev_chain = *chain;
                self.chain_known = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Reads the file's bytes at `offset`, up to the length the scan
    /// reads (fewer at its end), without moving the scan: for a caller's
    /// own quick look ahead.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.file_len.saturating_sub(offset);
        let n = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        read_full(&self.storage, offset, &mut buf[..n])
    }

    /// Offset of the next unread byte: after the last intact record once the
    /// scan has ended at a torn tail.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The chain digest of the last record returned (the seed if none).
    pub fn last_chain(&self) -> Digest {
        self.prev_chain
    }

    /// Sequence number of the last record returned (0 if none).
    pub fn last_seq(&self) -> u64 {
        self.next_seq.wrapping_sub(1)
    }

    /// Makes bytes `[pos, pos + need)` available (fewer at end of file) and
    /// returns them. Reads in large chunks so that a scan costs one read
    /// per megabyte, not one per record.
    fn window(&mut self, need: usize) -> io::Result<&[u8]> {
        let avail = (self.file_len - self.pos) as usize;
        let need = need.min(avail);
        let in_buf = self.pos >= self.buf_start && self.pos - self.buf_start <= self.filled as u64;
        let start = if in_buf {
            (self.pos - self.buf_start) as usize
        } else {
            self.filled
        };
        if !in_buf || self.filled - start < need {
            // Keep the unread bytes, read more after them.
            let have = if in_buf {
                self.buf.copy_within(start..self.filled, 0);
                self.filled - start
            } else {
                0
            };
            self.filled = have;
            self.buf_start = self.pos;
            let want = need.max(CHUNK).min(avail);
            if want > have {
                if self.buf.len() < want {
                    self.buf.resize(want, 0);
                }
                let got = read_full(
                    &self.storage,
                    self.pos + have as u64,
                    &mut self.buf[have..want],
                )?;
                self.filled = have + got;
            }
        }
        let start = (self.pos - self.buf_start) as usize;
        let end = (start + need).min(self.filled);
        Ok(&self.buf[start..end])
    }

    /// Finds the first offset after `from` where an intact frame starts.
    fn find_next_frame(&self, from: u64) -> io::Result<Option<(u64, u64)>> {
        let mut start = from;
        let mut chunk = Vec::new();
        while start + (FRAME_LEN as u64) <= self.file_len {
            let span = (CHUNK + MAX_FRAME).min((self.file_len - start) as usize);
            chunk.resize(span, 0);
            let got = read_full(&self.storage, start, &mut chunk)?;
            chunk.truncate(got);
            let scan_to = CHUNK.min(chunk.len());
            for i in 0..scan_to {
                // Cheap plausibility checks first: a CRC over a large
                // claimed length at every offset of a big garbage region
                // would make this quadratic in practice.
                let b = &chunk[i..];
                if b.len() < FRAME_LEN {
                    break;
                }
                let len = u32::from_le_bytes([b[F_LEN], b[F_LEN + 1], b[F_LEN + 2], b[F_LEN + 3]]);
                if len > MAX_PAYLOAD || FRAME_LEN + len as usize > b.len() {
                    continue;
                }
                let mut seq = [0u8; 8];
                seq.copy_from_slice(&b[F_SEQ..F_SEQ + 8]);
                let seq = u64::from_le_bytes(seq);
                // Records next_seq..=seq would all lie between the bad spot
                // and the end of the file, each at least a frame long.
                // (Counting from this candidate instead ignored the lost
                // records before it: zeroed sectors followed by a few intact
                // records read as a torn tail and dropped those records.)
                let fit = (self.file_len + 1 - from) / FRAME_LEN as u64;
                if seq == 0 || seq > self.next_seq.saturating_add(fit) {
                    continue;
                }
                if let Parse::Ok(f) = parse_frame(b) {
                    let at = start + i as u64;
                    if self.confirmed(at, &f)? {
                        return Ok(Some((at, f.seq)));
                    }
                }
            }
            start += scan_to as u64;
            if scan_to == 0 {
                break;
            }
        }
        Ok(None)
    }

    /// Whether a frame found by the resync search is a real record and not
    /// bytes inside a payload that happen to form a frame (a payload may
    /// hold anything, e.g. an imported note): it must end exactly at the
    /// end of the file, or be followed by a frame whose chain digest follows
    /// from it. An unconfirmed frame is skipped, so a crash in the middle of
    /// such a payload stays a torn tail. (Residual risk: a crash that cuts
    /// the file exactly at the end of an embedded frame.)
    fn confirmed(&self, at: u64, f: &Frame<'_>) -> io::Result<bool> {
        let end = at + f.total_len() as u64;
        if end == self.file_len {
            return Ok(true);
        }
        let mut head = [0u8; FRAME_LEN];
        if read_full(&self.storage, end, &mut head)? < FRAME_LEN {
            return Ok(false);
        }
        let len = u32::from_le_bytes([
            head[F_LEN],
            head[F_LEN + 1],
            head[F_LEN + 2],
            head[F_LEN + 3],
        ]);
        if len > MAX_PAYLOAD || end + (FRAME_LEN as u64) + u64::from(len) > self.file_len {
            return Ok(false);
        }
        let mut next = vec![0u8; FRAME_LEN + len as usize];
        if read_full(&self.storage, end, &mut next)? < next.len() {
            return Ok(false);
        }
        Ok(match parse_frame(&next) {
            Parse::Ok(n) => {
                n.seq == f.seq.wrapping_add(1) && chain_next(&f.chain, n.seq, n.payload) == n.chain
            }
            _ => false,
        })
    }

    /// The next record or finding; `None` at the end of the file or after a
    /// torn tail.
    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        if let Some(d) = self.pending.take() {
            return Ok(Some(Item::Damage(d)));
        }
        if self.finished || self.pos >= self.file_len {
            self.finished = true;
            return Ok(None);
        }
        let mut need = FRAME_LEN;
        let parsed = loop {
            let pos = self.pos;
            let file_len = self.file_len;
            let w = self.window(need)?;
            match parse_frame(w) {
                Parse::Incomplete { need: n } if n > w.len() && pos + (n as u64) <= file_len => {
                    need = n;
                }
                Parse::Ok(f) => break Ok((f.seq, f.chain, f.payload.len())),
                Parse::Incomplete { .. } => break Err(DamageKind::Length),
                Parse::BadLength(_) => break Err(DamageKind::Length),
                Parse::BadCrc => break Err(DamageKind::Checksum),
            }
        };
        match parsed {
            Ok((seq, chain, len)) => self.on_frame(seq, chain, len),
            Err(kind) => self.on_bad_spot(kind),
        }
    }

    fn on_frame(&mut self, seq: u64, chain: Digest, len: usize) -> io::Result<Option<Item<'_>>> {
        let offset = self.pos;
        let total = FRAME_LEN + len;
        let accept = std::mem::take(&mut self.accept_next);
        if !accept {
            if seq != self.next_seq {
                let expected = self.next_seq;
                if seq < expected {
                    // A stale or duplicated record: report it and step over.
                    self.pos += total as u64;
                } else {
                    self.accept_next = true;
                }
                return Ok(Some(Item::Damage(Damage {
                    offset,
                    seq: Some(seq),
                    kind: DamageKind::Sequence,
                    len: total as u64,
                    lost: (seq > expected).then(|| (expected, seq - 1)),
                })));
            }
            if self.check_chain && self.chain_known {
                let start = (offset - self.buf_start) as usize;
                let payload = &self.buf[start + FRAME_LEN..start + total];
                if chain_next(&self.prev_chain, seq, payload) != chain {
                    self.accept_next = true;
                    return Ok(Some(Item::Damage(Damage {
                        offset,
                        seq: Some(seq),
                        kind: DamageKind::Chain,
                        len: total as u64,
                        lost: None,
                    })));
                }
            }
        }
        self.chain_known = true;
        self.prev_chain = chain;
        // Wrapping: a hostile frame numbered u64::MAX must not panic; the
        // next frame is then out of sequence and reported.
        self.next_seq = seq.wrapping_add(1);
        self.pos += total as u64;
        let start = (offset - self.buf_start) as usize;
        Ok(Some(Item::Record(Record {
            offset,
            seq,
            chain,
            payload: &self.buf[start + FRAME_LEN..start + total],
        })))
    }

    fn on_bad_spot(&mut self, kind: DamageKind) -> io::Result<Option<Item<'_>>> {
        let offset = self.pos;
        let expected = self.next_seq;
        match self.find_next_frame(offset + 1)? {
            None => {
                self.finished = true;
                Ok(Some(Item::Damage(Damage {
                    offset,
                    seq: Some(expected),
                    kind: DamageKind::TornTail,
                    len: self.file_len - offset,
                    lost: None,
                })))
            }
            Some((next, next_seq)) => {
                self.pos = next;
                // The frame at `next` is intact; its sequence number tells
                // what was lost, and the chain resumes from its digest.
                self.accept_next = next_seq >= expected;
                if self.accept_next {
                    self.chain_known = false;
                }
                Ok(Some(Item::Damage(Damage {
                    offset,
                    seq: Some(expected),
                    kind,
                    len: next - offset,
                    lost: (next_seq > expected).then(|| (expected, next_seq - 1)),
                })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::format::encode_frame;
    use crate::log::storage::SimStorage;

    fn journal(payloads: &[&[u8]]) -> Vec<u8> {
        let h = Header::new([9u8; 16], 1);
        let mut out = h.encode().to_vec();
        let mut chain = h.chain_seed();
        for (i, p) in payloads.iter().enumerate() {
            let seq = i as u64 + 1;
            chain = chain_next(&chain, seq, p);
            encode_frame(&mut out, seq, &chain, p);
        }
        out
    }

    fn items(bytes: Vec<u8>, check_chain: bool) -> Vec<Result<(u64, Vec<u8>), Damage>> {
        let mut s = Scanner::open(SimStorage::from_bytes(bytes), check_chain, true).unwrap();
        let mut out = Vec::new();
        while let Some(it) = s.next_item().unwrap() {
            out.push(match it {
                Item::Record(r) => Ok((r.seq, r.payload.to_vec())),
                Item::Damage(d) => Err(d),
            });
        }
        out
    }

    #[test]
    fn resume_after_a_known_record_reads_only_the_rest() {
        let bytes = journal(&[b"one", b"two", b"three"]);
        let mut s = Scanner::open(SimStorage::from_bytes(bytes.clone()), false, false).unwrap();
        let (off, seq, chain) = match s.next_item().unwrap() {
            Some(Item::Record(_)) => match s.next_item().unwrap() {
                Some(Item::Record(r)) => (r.offset, r.seq, r.chain),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        let mut r = Scanner::open(SimStorage::from_bytes(bytes.clone()), false, false).unwrap();
        assert!(r.resume_after(off, seq, &chain).unwrap());
        assert!(
            matches!(r.next_item().unwrap(), Some(Item::Record(x)) if x.seq == 3 && x.payload == b"three")
        );
        assert!(r.next_item().unwrap().is_none());
        // Wrong seq, wrong digest, wrong offset, another journal: refused.
        let mut other = chain;
        other[0] ^= 1;
        for (o, q, c) in [(off, 3, chain), (off, seq, other), (off + 1, seq, chain)] {
            let mut r = Scanner::open(SimStorage::from_bytes(bytes.clone()), false, false).unwrap();
            assert!(!r.resume_after(o, q, &c).unwrap());
            assert!(matches!(r.next_item().unwrap(), Some(Item::Record(x)) if x.seq == 1));
        }
        let h = Header::new([7u8; 16], 1);
        let mut foreign = h.encode().to_vec();
        let mut c = h.chain_seed();
        for (i, p) in [b"one", b"two"].iter().enumerate() {
            c = chain_next(&c, i as u64 + 1, *p);
            encode_frame(&mut foreign, i as u64 + 1, &c, *p);
        }
        let mut r = Scanner::open(SimStorage::from_bytes(foreign), false, false).unwrap();
        assert!(!r.resume_after(off, seq, &chain).unwrap());
    }

    #[test]
    fn reads_back_what_was_written() {
        let got = items(journal(&[b"a", b"bb", b"ccc"]), true);
        assert_eq!(
            got,
            vec![
                Ok((1, b"a".to_vec())),
                Ok((2, b"bb".to_vec())),
                Ok((3, b"ccc".to_vec()))
            ]
        );
    }

    #[test]
    fn torn_tail_is_told_apart_from_inner_damage() {
        let j = journal(&[b"one", b"two", b"three"]);
        let cut = j.len() - 2;
        let got = items(j[..cut].to_vec(), false);
        assert_eq!(got.len(), 3);
        assert!(matches!(
            got[2],
            Err(Damage {
                kind: DamageKind::TornTail,
                seq: Some(3),
                ..
            })
        ));

        let mut flipped = j.clone();
        let second = HEADER_LEN + FRAME_LEN + 3 + FRAME_LEN + 1; // inside "two"
        flipped[second] ^= 4;
        let got = items(flipped, false);
        assert!(
            matches!(got[1], Err(Damage { kind: DamageKind::Checksum, seq: Some(2), offset, .. }) if offset == (HEADER_LEN + FRAME_LEN + 3) as u64),
            "{got:?}"
        );
        assert_eq!(got[2], Ok((3, b"three".to_vec())));
    }

    #[test]
    fn deleted_record_is_a_sequence_finding() {
        let j = journal(&[b"one", b"two", b"three"]);
        let a = HEADER_LEN + FRAME_LEN + 3;
        let b = a + FRAME_LEN + 3;
        let mut cut = j[..a].to_vec();
        cut.extend_from_slice(&j[b..]);
        let got = items(cut, true);
        assert!(matches!(
            got[1],
            Err(Damage {
                kind: DamageKind::Sequence,
                lost: Some((2, 2)),
                ..
            })
        ));
        assert_eq!(got[2], Ok((3, b"three".to_vec())));
    }
}
