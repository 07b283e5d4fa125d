//! Appending records. The writer finds the tail from the end of the file
//! (it does not read the whole log), frames and chains new records, writes
//! them at the end and acknowledges only after `fdatasync` succeeded.
//!
//! A failed write or sync rolls the file back to its last acknowledged
//! length (truncate, then `fsync`) before the error is returned, so a
//! command that fails has added nothing — not even bytes that a later read
//! would take for a record. And it poisons the writer: nothing more is
//! accepted, nothing is retried (fjall's rule: after a failed fsync the
//! kernel may have dropped the dirty pages, so a retry that "succeeds"
//! would be a lie).

use std::path::{Path, PathBuf};

use super::error::LogError;
use super::format::{
    chain_next, encode_frame, parse_frame, Digest, Frame, Header, Parse, FRAME_LEN, F_LEN,
    HEADER_LEN, MAX_PAYLOAD,
};
use super::scan::{DamageKind, Item, OpenError, Scanner};
use super::storage::{read_full, Storage};

/// Flush a batch to the file in pieces of about this size, syncing once.
const BATCH_WRITE: usize = 8 << 20;

/// Where the log ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    /// Offset just after the last intact record.
    pub end: u64,
    pub last_seq: u64,
    pub last_chain: Digest,
    /// An incomplete write after `end`: (offset, length).
    pub torn: Option<(u64, u64)>,
}

/// What an acknowledged append stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub first_seq: u64,
    pub last_seq: u64,
    /// Chain digest after the last record: the new head.
    pub head: Digest,
    pub end: u64,
}

/// Finds the tail. Fast path: the last record ends exactly at the end of the
/// file, found by trying each possible payload length in the last bytes of
/// the file (64 KiB, then the largest frame) and confirmed by its chain link
/// to the record before it (see `last_record_in`). Only when that fails (a
/// torn tail after a crash) does it scan the log from the start, once.
pub fn find_tail<S: Storage>(storage: &S, header: &Header, path: &Path) -> Result<Tail, LogError> {
    let io = |op, e| LogError::io(path, op, e);
    let file_len = storage.size().map_err(|e| io("reading the length of", e))?;
    if file_len <= HEADER_LEN as u64 {
        return Ok(Tail {
            end: HEADER_LEN as u64,
            last_seq: 0,
            last_chain: header.chain_seed(),
            torn: None,
        });
    }
    let body = file_len - HEADER_LEN as u64;
    for window in [64 * 1024u64, FRAME_LEN as u64 + MAX_PAYLOAD as u64] {
        let w = window.min(body);
        let mut buf = vec![0u8; w as usize];
        let got = read_full(storage, file_len - w, &mut buf).map_err(|e| io("reading", e))?;
        if got as u64 != w || buf.len() < FRAME_LEN {
            break;
        }
        if let Some(tail) = last_record_in(&buf, file_len - w, header) {
            return Ok(tail);
        }
        if w == body {
            break;
        }
    }
    slow_tail(storage, path)
}

/// The length field of a frame starting at `at`.
fn len_field(b: &[u8], at: usize) -> usize {
    let l = at + F_LEN;
    u32::from_le_bytes([b[l], b[l + 1], b[l + 2], b[l + 3]]) as usize
}

/// The last record, when the last bytes of the file (`buf`, starting at
/// file offset `base`) show it unambiguously: a frame that ends exactly at
/// the end of the file and whose chain digest follows from the record just
/// before it (or from the header's seed, for record 1).
///
/// Candidates are tried earliest first: of two valid frames ending at the
/// end of the file, the later one lies inside the earlier one's payload (a
/// record that stores journal bytes, or a note crafted to look like a
/// frame), so the nearest one to the end is the least trustworthy. The chain
/// link rules out such payload bytes when the real record starts before the
/// window, and stale copies of old frames after a torn tail. An unconfirmed
/// candidate ends the search in this window: the last record may start
/// before it, so the caller looks further back or scans.
fn last_record_in(buf: &[u8], base: u64, header: &Header) -> Option<Tail> {
    let end = base + buf.len() as u64;
    for start in 0..=buf.len() - FRAME_LEN {
        if len_field(buf, start) != buf.len() - FRAME_LEN - start {
            continue;
        }
        let Parse::Ok(f) = parse_frame(&buf[start..]) else {
            continue;
        };
        let linked = if base + start as u64 == HEADER_LEN as u64 {
            f.seq == 1 && chain_next(&header.chain_seed(), 1, f.payload) == f.chain
        } else {
            f.seq > 1 && links_back(&buf[..start], &f)
        };
        return linked.then_some(Tail {
            end,
            last_seq: f.seq,
            last_chain: f.chain,
            torn: None,
        });
    }
    None
}

/// True if `before` ends with an intact frame numbered `f.seq - 1` whose
/// digest `f`'s digest follows from. `f.seq` is at least 2.
fn links_back(before: &[u8], f: &Frame<'_>) -> bool {
    if before.len() < FRAME_LEN {
        return false;
    }
    (0..=before.len() - FRAME_LEN).rev().any(|start| {
        len_field(before, start) == before.len() - FRAME_LEN - start
            && matches!(parse_frame(&before[start..]), Parse::Ok(p)
                if p.seq == f.seq - 1 && chain_next(&p.chain, f.seq, f.payload) == f.chain)
    })
}

fn slow_tail<S: Storage>(storage: &S, path: &Path) -> Result<Tail, LogError> {
    // The scanner takes its storage by value; a reference implements it too.
    let mut sc = Scanner::open(StorageRef(storage), false, false).map_err(|e| match e {
        OpenError::Io(e) => LogError::io(path, "reading", e),
        OpenError::Header(_) => LogError::HeaderDamaged(path.to_path_buf()),
    })?;
    loop {
        match sc
            .next_item()
            .map_err(|e| LogError::io(path, "reading", e))?
        {
            None => {
                return Ok(Tail {
                    end: sc.position(),
                    last_seq: sc.last_seq(),
                    last_chain: sc.last_chain(),
                    torn: None,
                })
            }
            Some(Item::Record(_)) => {}
            Some(Item::Damage(d)) if d.kind == DamageKind::TornTail => {
                return Ok(Tail {
                    end: d.offset,
                    last_seq: sc.last_seq(),
                    last_chain: sc.last_chain(),
                    torn: Some((d.offset, d.len)),
                })
            }
            Some(Item::Damage(d)) => return Err(LogError::damaged(path, &d)),
        }
    }
}

struct StorageRef<'a, S: Storage>(&'a S);

impl<S: Storage> Storage for StorageRef<'_, S> {
    fn size(&self) -> std::io::Result<u64> {
        self.0.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read_at(offset, buf)
    }
    fn write_at(&mut self, _: u64, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::other("read-only view"))
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn sync_all(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn truncate(&mut self, _: u64) -> std::io::Result<()> {
        Err(std::io::Error::other("read-only view"))
    }
}

/// Appends to a log whose tail is known and clean (the journal layer cuts a
/// torn tail before it builds a writer).
pub struct Writer<S: Storage> {
    storage: S,
    path: PathBuf,
    end: u64,
    last_seq: u64,
    last_chain: Digest,
    /// `(end, last_seq, last_chain)` after the last successful sync (or as
    /// found at open): what a failure rolls the file back to.
    acked: (u64, u64, Digest),
    poisoned: Option<String>,
    buf: Vec<u8>,
}

impl<S: Storage> Writer<S> {
    pub fn new(storage: S, path: PathBuf, tail: &Tail) -> Self {
        Writer {
            storage,
            path,
            end: tail.end,
            last_seq: tail.last_seq,
            last_chain: tail.last_chain,
            acked: (tail.end, tail.last_seq, tail.last_chain),
            poisoned: None,
            buf: Vec::new(),
        }
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn head(&self) -> Digest {
        self.last_chain
    }

    pub fn end(&self) -> u64 {
        self.end
    }

    /// Appends one record and makes it durable.
    pub fn append(&mut self, payload: &[u8]) -> Result<Appended, LogError> {
        self.append_batch(std::iter::once(payload))
    }

    /// Appends many records with one sync at the end.
    ///
    /// Until this returns `Ok`, nothing is acknowledged. On an error (a
    /// refused payload, a failed write or sync) the file is cut back to
    /// where it was before the batch, durably, so nothing of the batch
    /// stays. A crash part-way leaves some prefix of the batch on disk,
    /// possibly ending in a torn record that the next open cuts off: a
    /// batch is not atomic across a crash, and importers make re-runs
    /// idempotent instead.
    pub fn append_batch<'p, I>(&mut self, payloads: I) -> Result<Appended, LogError>
    where
        I: IntoIterator<Item = &'p [u8]>,
    {
        self.check_poison()?;
        let first_seq = self.last_seq + 1;
        for p in payloads {
            if p.is_empty() || p.len() > MAX_PAYLOAD as usize {
                // Nothing reached the file unless an earlier part of the
                // batch was flushed; then cut it back.
                if self.end == self.acked.0 {
                    self.forget();
                } else if let Err(e) = self.roll_back() {
                    self.poisoned = Some(format!("could not undo a refused batch: {e}"));
                    return Err(LogError::io(
                        self.path.clone(),
                        "undoing a refused batch in",
                        e,
                    ));
                }
                return Err(LogError::PayloadSize {
                    len: p.len(),
                    max: MAX_PAYLOAD as usize,
                });
            }
            self.push_frame(p)?;
        }
        self.flush_buf()?;
        self.sync()?;
        Ok(Appended {
            first_seq,
            last_seq: self.last_seq,
            head: self.last_chain,
            end: self.end,
        })
    }

    /// Writes placeholder records ("holes", empty payloads) for sequence
    /// numbers lost to damage; only `repair --salvage` does this. Not synced.
    pub(crate) fn push_hole(&mut self) -> Result<(), LogError> {
        self.push_frame(&[])
    }

    pub(crate) fn push_record(&mut self, payload: &[u8]) -> Result<(), LogError> {
        self.push_frame(payload)
    }

    /// Writes what is buffered, without syncing (salvage syncs the whole
    /// new file once, before renaming it into place).
    pub(crate) fn flush(&mut self) -> Result<(), LogError> {
        self.flush_buf()
    }

    /// Cuts the file back to its last acknowledged length and makes that
    /// durable (a new length is metadata: `fsync`, not `fdatasync`), and
    /// forgets the unacknowledged records. The bytes cut were never
    /// acknowledged; left in place, a complete one would read as a record
    /// (and a retry would record the event twice), and after a failed sync
    /// Linux may already have dropped some of their pages.
    fn roll_back(&mut self) -> std::io::Result<()> {
        self.buf.clear();
        self.storage.truncate(self.acked.0)?;
        self.storage.sync_all()?;
        self.forget();
        Ok(())
    }

    /// Forgets the records appended since the last acknowledged one.
    fn forget(&mut self) {
        self.buf.clear();
        (self.end, self.last_seq, self.last_chain) = self.acked;
    }

    /// The error for a failed write or sync of an append, after trying to
    /// roll the file back; poisons the writer either way.
    fn failed(&mut self, op: &'static str, source: std::io::Error) -> LogError {
        let rollback_error = self.roll_back().err().map(|e| e.to_string());
        self.poisoned = Some(format!("{op} failed: {source}"));
        LogError::AppendFailed {
            path: self.path.clone(),
            op,
            source,
            rollback_error,
        }
    }

    fn check_poison(&self) -> Result<(), LogError> {
        match &self.poisoned {
            Some(cause) => Err(LogError::Poisoned {
                path: self.path.clone(),
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    fn push_frame(&mut self, payload: &[u8]) -> Result<(), LogError> {
        self.check_poison()?;
        let seq = self.last_seq + 1;
        let chain = chain_next(&self.last_chain, seq, payload);
        encode_frame(&mut self.buf, seq, &chain, payload);
        self.last_seq = seq;
        self.last_chain = chain;
        if self.buf.len() >= BATCH_WRITE {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> Result<(), LogError> {
        self.check_poison()?;
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.storage.write_at(self.end, &self.buf) {
            return Err(self.failed("writing to", e));
        }
        self.end += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn sync(&mut self) -> Result<(), LogError> {
        self.check_poison()?;
        if let Err(e) = self.storage.sync_data() {
            return Err(self.failed("syncing (fdatasync)", e));
        }
        self.acked = (self.end, self.last_seq, self.last_chain);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::storage::{FaultOp, SimStorage};

    fn fresh() -> (SimStorage, Writer<SimStorage>, Header) {
        let h = Header::new([1u8; 16], 0);
        let sim = SimStorage::from_bytes(h.encode().to_vec());
        let tail = find_tail(&sim, &h, &PathBuf::from("mem")).unwrap();
        (
            sim.clone(),
            Writer::new(sim, PathBuf::from("mem"), &tail),
            h,
        )
    }

    #[test]
    fn tail_is_found_from_the_end() {
        let (sim, mut w, h) = fresh();
        w.append(b"first").unwrap();
        let a = w.append(&[7u8; 300]).unwrap();
        let t = find_tail(&sim, &h, &PathBuf::from("mem")).unwrap();
        assert_eq!(
            (t.end, t.last_seq, t.last_chain, t.torn),
            (a.end, 2, a.head, None)
        );
    }

    #[test]
    fn torn_tail_is_found_by_the_slow_path() {
        let (sim, mut w, h) = fresh();
        let a = w.append(b"first").unwrap();
        w.append(b"second").unwrap();
        let cut = sim.live()[..a.end as usize + 10].to_vec();
        let t = find_tail(&SimStorage::from_bytes(cut), &h, &PathBuf::from("mem")).unwrap();
        assert_eq!(t.end, a.end);
        assert_eq!(t.last_seq, 1);
        assert_eq!(t.torn, Some((a.end, 10)));
    }

    #[test]
    fn failed_sync_poisons_and_acknowledges_nothing() {
        let (sim, mut w, _) = fresh();
        w.append(b"kept").unwrap();
        let acked = sim.live();
        sim.fail_nth(FaultOp::Sync, 0);
        assert!(matches!(
            w.append(b"lost"),
            Err(LogError::AppendFailed {
                rollback_error: None,
                ..
            })
        ));
        assert!(matches!(w.append(b"again"), Err(LogError::Poisoned { .. })));
        assert_eq!(sim.durable(), acked);
        assert_eq!(sim.live(), acked, "rolled back");
    }

    #[test]
    fn empty_and_oversized_payloads_are_refused() {
        let (_, mut w, _) = fresh();
        assert!(matches!(
            w.append(b""),
            Err(LogError::PayloadSize { len: 0, .. })
        ));
        let big = vec![0u8; MAX_PAYLOAD as usize + 1];
        assert!(matches!(w.append(&big), Err(LogError::PayloadSize { .. })));
        assert_eq!(w.append(b"ok").unwrap().first_seq, 1);
    }
}
