//! Shared helpers for the `engine_*` integration tests: building journals
//! byte by byte, reading them back in the recovery modes, and a writer over
//! `SimStorage`. Included with `#[path = "common/engine.rs"] mod engine;` so
//! it never clashes with other test helpers.

#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};

use trustlog::log::format::Digest;
use trustlog::log::format::{chain_next, encode_frame, Header, FRAME_LEN, HEADER_LEN};
use trustlog::log::scan::{Damage, DamageKind, Item, Scanner};
use trustlog::log::storage::{SimStorage, Storage};
use trustlog::log::writer::{find_tail, Writer};

/// A fixed header, so that tests building bytes by hand and tests going
/// through the writer produce the same files.
pub fn header() -> Header {
    Header::new([0x5a; 16], 1_795_000_000_000_000)
}

/// A whole journal (header + records 1..) and the offset of every record.
pub fn journal_bytes(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<u64>) {
    journal_bytes_with(&header(), payloads)
}

pub fn journal_bytes_with(h: &Header, payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<u64>) {
    let mut out = h.encode().to_vec();
    let mut chain = h.chain_seed();
    let mut offsets = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let seq = i as u64 + 1;
        chain = chain_next(&chain, seq, p);
        offsets.push(out.len() as u64);
        encode_frame(&mut out, seq, &chain, p);
    }
    (out, offsets)
}

/// Distinct, recognisable payloads of varied lengths (1 to ~70 bytes).
pub fn payloads(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let len = 1 + (i * 37) % 70;
            (0..len).map(|j| (i * 31 + j * 7) as u8 ^ 0xa5).collect()
        })
        .collect()
}

pub fn mem_path() -> PathBuf {
    PathBuf::from("mem.tlog")
}

/// A fresh journal (header only, durable) in `SimStorage` and a writer on
/// it, built the way `JournalWriter::open` does: header, then `find_tail`.
pub fn sim_writer() -> (SimStorage, Writer<SimStorage>) {
    let sim = SimStorage::from_bytes(header().encode().to_vec());
    let tail = find_tail(&sim, &header(), &mem_path()).expect("tail of a fresh journal");
    (sim.clone(), Writer::new(sim, mem_path(), &tail))
}

/// What a normal read (tolerate-corrupted-tail) returns: the records up to
/// the first finding, and that finding if there is one.
pub struct Tolerant {
    pub records: Vec<(u64, u64, Vec<u8>)>, // (offset, seq, payload)
    pub end: Option<Damage>,
    /// Offset just after the last record read.
    pub position: u64,
}

pub fn read_tolerant<S: Storage>(storage: S) -> Tolerant {
    let mut sc = Scanner::open(storage, false, false).expect("header must decode");
    let mut records = Vec::new();
    let mut end = None;
    while let Some(item) = sc.next_item().expect("sim reads cannot fail") {
        match item {
            Item::Record(r) => records.push((r.offset, r.seq, r.payload.to_vec())),
            Item::Damage(d) => {
                end = Some(d);
                break;
            }
        }
    }
    let position = records
        .last()
        .map(|(off, _, p)| off + (FRAME_LEN + p.len()) as u64)
        .unwrap_or(HEADER_LEN as u64);
    Tolerant {
        records,
        end,
        position,
    }
}

/// Absolute consistency over bytes in memory (the same scan `verify` runs):
/// every record and every finding, chain checked.
pub fn verify_bytes(bytes: Vec<u8>) -> (Vec<(u64, Vec<u8>)>, Vec<Damage>) {
    let mut sc = Scanner::open(SimStorage::from_bytes(bytes), true, true).expect("header");
    let mut records = Vec::new();
    let mut damage = Vec::new();
    while let Some(item) = sc.next_item().expect("sim reads cannot fail") {
        match item {
            Item::Record(r) => records.push((r.seq, r.payload.to_vec())),
            Item::Damage(d) => damage.push(d),
        }
    }
    (records, damage)
}

pub fn is_torn(d: &Option<Damage>) -> bool {
    matches!(
        d,
        Some(Damage {
            kind: DamageKind::TornTail,
            ..
        })
    )
}

/// Files in `dir` other than `except`, sorted.
pub fn other_files(dir: &Path, except: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p != except)
        .collect();
    v.sort();
    v
}

/// The chain digest after the first `n` of `payloads`.
pub fn chain_after(payloads: &[Vec<u8>], n: usize) -> Digest {
    let mut c = header().chain_seed();
    for (i, p) in payloads[..n].iter().enumerate() {
        c = chain_next(&c, i as u64 + 1, p);
    }
    c
}

/// The core crash property, for one image a crash could leave. `intended`
/// is every payload the writer was given, in sequence order; the first
/// `acked` were acknowledged. Returns how many records were recovered.
pub fn assert_recovers(bytes: &[u8], acked: usize, intended: &[Vec<u8>], ctx: &str) -> usize {
    let len = bytes.len() as u64;
    let t = read_tolerant(SimStorage::from_bytes(bytes.to_vec()));

    // Never an altered, reordered or partial record: exactly the intended
    // records, in order, with their sequence numbers.
    let n = t.records.len();
    assert!(
        n >= acked,
        "{ctx}: lost an acknowledged record: read {n}, acknowledged {}",
        acked
    );
    assert!(n <= intended.len(), "{ctx}: read records never written");
    for (i, (_, seq, payload)) in t.records.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1, "{ctx}: sequence number of record {i}");
        assert_eq!(payload, &intended[i], "{ctx}: payload of record {}", i + 1);
    }
    // The only finding a crash may cause is a torn tail, right after the
    // last record read.
    match &t.end {
        None => assert_eq!(t.position, len, "{ctx}: clean end must be the end of file"),
        Some(d) => {
            assert_eq!(d.kind, DamageKind::TornTail, "{ctx}: a crash caused {d:?}");
            assert_eq!(d.offset, t.position, "{ctx}: torn tail offset");
            assert_eq!(d.seq, Some(n as u64 + 1), "{ctx}: torn tail seq");
            assert_eq!(d.len, len - t.position, "{ctx}: torn tail length");
        }
    }

    // find_tail (what the writer uses, reading from the end) agrees.
    let sim = SimStorage::from_bytes(bytes.to_vec());
    let tail = find_tail(&sim, &header(), &mem_path())
        .unwrap_or_else(|e| panic!("{ctx}: find_tail failed: {e}"));
    assert_eq!(tail.end, t.position, "{ctx}: tail end");
    assert_eq!(tail.last_seq, n as u64, "{ctx}: tail seq");
    assert_eq!(
        tail.last_chain,
        chain_after(intended, n),
        "{ctx}: tail chain"
    );
    let expect_torn = (t.position < len).then(|| (t.position, len - t.position));
    assert_eq!(tail.torn, expect_torn, "{ctx}: torn range");

    // A writer on the recovered image (after cutting the torn bytes, as
    // JournalWriter::open does) continues the chain cleanly.
    let mut s = sim.clone();
    s.truncate(tail.end).expect("truncate");
    let mut w = Writer::new(sim.clone(), mem_path(), &tail);
    let more: Vec<Vec<u8>> = vec![b"after the crash".to_vec(), vec![0xee; 33]];
    let a = w
        .append_batch(more.iter().map(|p| p.as_slice()))
        .unwrap_or_else(|e| panic!("{ctx}: append after recovery: {e}"));
    assert_eq!((a.first_seq, a.last_seq), (n as u64 + 1, n as u64 + 2));
    let (records, damage) = verify_bytes(sim.durable());
    assert!(damage.is_empty(), "{ctx}: after reopen+append: {damage:?}");
    let mut want: Vec<(u64, Vec<u8>)> = intended[..n]
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, p)| (i as u64 + 1, p))
        .collect();
    want.extend(
        more.into_iter()
            .enumerate()
            .map(|(i, p)| ((n + 1 + i) as u64, p)),
    );
    assert_eq!(records, want, "{ctx}: records after reopen+append");
    n
}

/// A small deterministic PRNG (SplitMix64), so loops that want "random"
/// bytes need no dependency and repeat exactly.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// The real binary on `journal`, environment pinned (no `$TRUSTLOG_*`,
/// no colour, stdin closed), for the engine tests that go through the CLI.
pub fn trustlog_bin(journal: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_trustlog"));
    c.env_remove("TRUSTLOG_FILE")
        .env_remove("TRUSTLOG_NOW")
        .env("NO_COLOR", "1")
        .env("TRUSTLOG_AUTHOR", "engine-test")
        .arg("--journal")
        .arg(journal)
        .arg("--now")
        .arg("2026-11-22T10:00")
        .stdin(std::process::Stdio::null());
    c
}

/// Runs the binary: (exit code, stdout, stderr).
pub fn run_bin(journal: &Path, args: &[&str]) -> (i32, String, String) {
    let o = trustlog_bin(journal)
        .args(args)
        .output()
        .expect("run trustlog");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
