//! Where the bytes of a journal live. The writer and the scanner work through
//! the `Storage` trait so that the crash tests can swap the real file for
//! `SimStorage`, which keeps a "live" image (what the page cache holds) and a
//! "durable" image (what survived the last successful sync), as redb's crash
//! tests do, and can inject I/O errors.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, MutexGuard};

pub trait Storage {
    fn size(&self) -> io::Result<u64>;
    /// Reads up to `buf.len()` bytes at `offset`; fewer only at end of file.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes all of `data` at `offset` (the writer only ever writes at the end).
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Makes every written byte durable (`fdatasync`).
    fn sync_data(&mut self) -> io::Result<()>;
    /// Makes bytes and metadata, such as a new length, durable (`fsync`).
    fn sync_all(&mut self) -> io::Result<()>;
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

/// Fills `buf` as far as the file allows; returns how many bytes were read.
pub fn read_full<S: Storage + ?Sized>(s: &S, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match s.read_at(offset + done as u64, &mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The real thing: a file, with positional reads and writes.
#[derive(Debug)]
pub struct FileStorage {
    pub file: File,
}

impl FileStorage {
    pub fn new(file: File) -> Self {
        FileStorage { file }
    }
}

impl Storage for FileStorage {
    fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
    fn sync_all(&mut self) -> io::Result<()> {
        self.file.sync_all()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
}

/// Which operation a `SimStorage` fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOp {
    Write,
    Sync,
    /// A truncate (the writer's rollback after a failed write or sync).
    Truncate,
}

#[derive(Debug, Default)]
struct SimState {
    live: Vec<u8>,
    durable: Vec<u8>,
    /// Fail the n-th (0-based) future write or sync, once.
    faults: Vec<(FaultOp, usize)>,
    writes: usize,
    syncs: usize,
    truncates: usize,
    /// On a failing write, how many bytes still reach the live image first
    /// (a short write before ENOSPC).
    partial_on_fault: usize,
}

/// An in-memory file that remembers what a crash would keep. Clones share
/// the same state, so a test keeps a handle while the writer owns another.
#[derive(Debug, Clone, Default)]
pub struct SimStorage {
    state: Arc<Mutex<SimState>>,
}

impl SimStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// A storage whose live and durable images are both `bytes`.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        let s = Self::default();
        {
            let mut st = s.lock();
            st.durable = bytes.clone();
            st.live = bytes;
        }
        s
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A poisoned mutex only means another test thread panicked; the
        // bytes are still what they were.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the `nth` next operation of kind `op` fail with an I/O error.
    pub fn fail_nth(&self, op: FaultOp, nth: usize) {
        let mut st = self.lock();
        let base = match op {
            FaultOp::Write => st.writes,
            FaultOp::Sync => st.syncs,
            FaultOp::Truncate => st.truncates,
        };
        st.faults.push((op, base + nth));
    }

    /// With a write fault, let this many bytes reach the live image first.
    pub fn set_partial_on_fault(&self, n: usize) {
        self.lock().partial_on_fault = n;
    }

    pub fn live(&self) -> Vec<u8> {
        self.lock().live.clone()
    }

    pub fn durable(&self) -> Vec<u8> {
        self.lock().durable.clone()
    }

    /// What a crash now could leave on disk: the durable image, then `keep`
    /// bytes of what was written since the last sync, then `garbage`
    /// (sectors the disk allocated but never filled).
    pub fn crash_image(&self, keep: usize, garbage: &[u8]) -> Vec<u8> {
        let st = self.lock();
        let mut img = st.durable.clone();
        if st.live.len() >= img.len() && st.live[..img.len()] == img[..] {
            let extra = &st.live[img.len()..];
            img.extend_from_slice(&extra[..keep.min(extra.len())]);
        }
        img.extend_from_slice(garbage);
        img
    }

    fn take_fault(st: &mut SimState, op: FaultOp) -> bool {
        let count = match op {
            FaultOp::Write => st.writes,
            FaultOp::Sync => st.syncs,
            FaultOp::Truncate => st.truncates,
        };
        if let Some(i) = st.faults.iter().position(|f| *f == (op, count)) {
            st.faults.remove(i);
            return true;
        }
        false
    }
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what} failure"))
}

impl Storage for SimStorage {
    fn size(&self) -> io::Result<u64> {
        Ok(self.lock().live.len() as u64)
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let st = self.lock();
        let start = (offset as usize).min(st.live.len());
        let n = buf.len().min(st.live.len() - start);
        buf[..n].copy_from_slice(&st.live[start..start + n]);
        Ok(n)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut st = self.lock();
        let fault = Self::take_fault(&mut st, FaultOp::Write);
        st.writes += 1;
        let n = if fault {
            st.partial_on_fault.min(data.len())
        } else {
            data.len()
        };
        let off = offset as usize;
        if st.live.len() < off + n {
            st.live.resize(off + n, 0);
        }
        st.live[off..off + n].copy_from_slice(&data[..n]);
        if fault {
            return Err(injected("write"));
        }
        Ok(())
    }
    fn sync_data(&mut self) -> io::Result<()> {
        let mut st = self.lock();
        let fault = Self::take_fault(&mut st, FaultOp::Sync);
        st.syncs += 1;
        if fault {
            // Like Linux after a failed fsync: the dirty pages may be gone,
            // and nothing became durable.
            return Err(injected("sync"));
        }
        st.durable = st.live.clone();
        Ok(())
    }
    fn sync_all(&mut self) -> io::Result<()> {
        self.sync_data()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        let mut st = self.lock();
        let fault = Self::take_fault(&mut st, FaultOp::Truncate);
        st.truncates += 1;
        if fault {
            return Err(injected("truncate"));
        }
        st.live.truncate(len as usize);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_keeps_only_synced_bytes_across_a_crash() {
        let mut s = SimStorage::new();
        s.write_at(0, b"abc").unwrap();
        s.sync_data().unwrap();
        s.write_at(3, b"def").unwrap();
        assert_eq!(s.crash_image(0, b""), b"abc");
        assert_eq!(s.crash_image(2, b"\0\0"), b"abcde\0\0");
        assert_eq!(s.live(), b"abcdef");
    }

    #[test]
    fn sim_injects_faults_once() {
        let mut s = SimStorage::new();
        s.fail_nth(FaultOp::Sync, 0);
        s.write_at(0, b"x").unwrap();
        assert!(s.sync_data().is_err());
        assert!(s.durable().is_empty());
        assert!(s.sync_data().is_ok());
        s.fail_nth(FaultOp::Write, 0);
        s.set_partial_on_fault(1);
        assert!(s.write_at(1, b"yz").is_err());
        assert_eq!(s.live(), b"xy");
    }
}
