//! Crash consistency of the log layer, redb-style: the writer runs over
//! `SimStorage`, which keeps a "live" image (the page cache) and a "durable"
//! image (what the last successful sync made permanent). At every point a
//! crash could happen we build what the disk could hold afterwards — the
//! durable bytes, any prefix of the unsynced ones, then zeros, random bytes
//! or a copy of a frame header — and check that recovery reads exactly an
//! acknowledged prefix (plus, possibly, whole records that were written but
//! not yet acknowledged), that `find_tail` finds the same end, and that a
//! writer opened on the image appends a clean, chained continuation.

#[path = "common/engine.rs"]
mod engine;

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use proptest::prelude::*;
use trustlog::log::format::{encode_frame, FRAME_LEN, HEADER_LEN};
use trustlog::log::storage::{SimStorage, Storage};
use trustlog::log::writer::{find_tail, Writer};
use trustlog::log::LogError;

use engine::{
    assert_recovers, header, is_torn, mem_path, read_tolerant, sim_writer, verify_bytes, Rng,
};

/// One image a crash could leave, and how many records had been
/// acknowledged (append returned `Ok`) when it was taken.
struct CrashImage {
    acked: usize,
    bytes: Vec<u8>,
    what: String,
}

/// Forwards to `SimStorage` and, right after every write (the moment the
/// bytes are in the page cache but not yet synced), records crash images
/// for many `keep` values and kinds of garbage.
struct Probe {
    sim: SimStorage,
    acked: Rc<Cell<usize>>,
    images: Rc<RefCell<Vec<CrashImage>>>,
    rng: Rng,
}

impl Probe {
    fn capture(&mut self) {
        let live = self.sim.live().len();
        let durable = self.sim.durable().len();
        let extra = live.saturating_sub(durable);
        let mut keeps = vec![0, 1, 3, 4, 8, 47, 48, 49, extra / 2];
        keeps.extend([extra.saturating_sub(1), extra, extra + 5]);
        for _ in 0..3 {
            keeps.push(self.rng.below(extra as u64 + 1) as usize);
        }
        keeps.sort_unstable();
        keeps.dedup();
        // A copy of a frame header that is on disk already (the first
        // record's, or the header of the frame being written): bytes that
        // look like the start of a record but are not followed by it.
        let full = self.sim.live();
        let frame_header: Vec<u8> = if full.len() >= HEADER_LEN + FRAME_LEN {
            full[HEADER_LEN..HEADER_LEN + FRAME_LEN].to_vec()
        } else {
            Vec::new()
        };
        for keep in keeps {
            let zeros = vec![0u8; 1 + self.rng.below(120) as usize];
            let noise_len = 1 + self.rng.below(120) as usize;
            let noise = self.rng.bytes(noise_len);
            let garbages: [(&str, &[u8]); 4] = [
                ("nothing", &[]),
                ("zeros", &zeros),
                ("random bytes", &noise),
                ("a copy of a frame header", &frame_header),
            ];
            for (what, g) in garbages {
                self.images.borrow_mut().push(CrashImage {
                    acked: self.acked.get(),
                    bytes: self.sim.crash_image(keep, g),
                    what: format!("keep {keep} of {extra} unsynced bytes, then {what}"),
                });
            }
        }
    }
}

impl Storage for Probe {
    fn size(&self) -> io::Result<u64> {
        self.sim.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.sim.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let r = self.sim.write_at(offset, data);
        self.capture();
        r
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.sim.sync_data()
    }
    fn sync_all(&mut self) -> io::Result<()> {
        self.sim.sync_all()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.sim.truncate(len)
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<u8>),
    Batch(Vec<Vec<u8>>),
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..120)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => payload().prop_map(Op::Append),
        1 => prop::collection::vec(payload(), 1..5).prop_map(Op::Batch),
    ]
}

/// Runs `ops` through a writer whose storage captures crash images at every
/// write, then checks every image.
fn run_and_check(ops: &[Op], seed: u64) -> usize {
    let (sim, _) = sim_writer();
    let tail = find_tail(&sim, &header(), &mem_path()).unwrap();
    let acked = Rc::new(Cell::new(0usize));
    let images = Rc::new(RefCell::new(Vec::new()));
    let probe = Probe {
        sim: sim.clone(),
        acked: acked.clone(),
        images: images.clone(),
        rng: Rng(seed),
    };
    let mut w = Writer::new(probe, mem_path(), &tail);
    let mut intended: Vec<Vec<u8>> = Vec::new();
    for op in ops {
        let batch: Vec<Vec<u8>> = match op {
            Op::Append(p) => vec![p.clone()],
            Op::Batch(ps) => ps.clone(),
        };
        intended.extend(batch.iter().cloned());
        let a = w
            .append_batch(batch.iter().map(|p| p.as_slice()))
            .expect("no faults are injected here");
        assert_eq!(a.last_seq as usize, intended.len());
        acked.set(intended.len());
        // After the sync the durable image holds every acknowledged record.
        assert_eq!(sim.durable(), sim.live());
    }
    let images = images.borrow();
    for img in images.iter() {
        assert_recovers(&img.bytes, img.acked, &intended, &img.what);
    }
    images.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_crash_at_any_point_leaves_an_acknowledged_prefix(
        ops in prop::collection::vec(op(), 1..10),
        seed in any::<u64>(),
    ) {
        let checked = run_and_check(&ops, seed);
        prop_assert!(checked >= ops.len(), "every write must have been probed");
    }
}

/// A deterministic case that pins the shape of the test itself: a crash
/// between the write and the sync of the 3rd append may keep records 1–2
/// only, or all three, but never half of the third.
#[test]
fn crash_between_write_and_sync_keeps_acknowledged_records() {
    let ops = vec![
        Op::Append(b"one".to_vec()),
        Op::Append(b"two".to_vec()),
        Op::Batch(vec![b"three".to_vec(), vec![9u8; 200], b"five".to_vec()]),
        Op::Append(vec![1u8; 90]),
    ];
    let checked = run_and_check(&ops, 7);
    // 4 writes, each probed with several keeps and 4 kinds of garbage.
    assert!(checked >= 4 * 4 * 5, "only {checked} images checked");
}

/// Leaves `payload` written but not synced, as a crash between the write
/// and the sync would find it: the sync fails and so does the rollback
/// after it (a failed sync alone is rolled back; see below).
fn append_unsynced(sim: &SimStorage, w: &mut Writer<SimStorage>, payload: &[u8]) {
    sim.fail_nth(trustlog::log::storage::FaultOp::Sync, 0);
    sim.fail_nth(trustlog::log::storage::FaultOp::Truncate, 0);
    let r = w.append(payload);
    assert!(
        matches!(
            &r,
            Err(LogError::AppendFailed {
                rollback_error: Some(_),
                ..
            })
        ),
        "{r:?}"
    );
}

/// Issue 15.7: a failed sync is rolled back (truncate, then fsync) before
/// the error is returned, so whatever a crash leaves afterwards — at any
/// point of the sequence, keeping any part of what was written, with any
/// garbage after it — holds the acknowledged records only, never the one
/// whose sync failed, and the next writer gives the next record its seq.
/// (Regression: the record stayed in the file and was read back as data.)
#[test]
fn a_failed_sync_is_rolled_back_in_every_crash_image() {
    for fail_at in 0..4usize {
        let (sim, mut w) = sim_writer();
        let payloads: Vec<Vec<u8>> = (0..fail_at + 1)
            .map(|i| vec![i as u8 + 1; 10 + 30 * i])
            .collect();
        for p in &payloads[..fail_at] {
            w.append(p).unwrap();
        }
        let before = sim.live();
        sim.fail_nth(trustlog::log::storage::FaultOp::Sync, 0);
        let r = w.append(&payloads[fail_at]);
        assert!(
            matches!(
                &r,
                Err(LogError::AppendFailed {
                    rollback_error: None,
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(sim.live(), before, "fail at {fail_at}: not rolled back");
        let written = FRAME_LEN + payloads[fail_at].len();
        let mut rng = Rng(fail_at as u64);
        for keep in [0, 1, 48, written - 1, written, written + 10] {
            for garbage in [vec![], vec![0u8; 50], rng.bytes(80)] {
                let ctx = format!("fail at {fail_at}, keep {keep}, {} garbage", garbage.len());
                let img = sim.crash_image(keep, &garbage);
                let n = assert_recovers(&img, fail_at, &payloads[..fail_at], &ctx);
                assert_eq!(n, fail_at, "{ctx}");
            }
        }
        let w2_tail = find_tail(&sim, &header(), &mem_path()).unwrap();
        let mut w2 = Writer::new(sim.clone(), mem_path(), &w2_tail);
        assert_eq!(w2.append(b"retried").unwrap().first_seq, fail_at as u64 + 1);
    }
}

/// The crash image itself: with the second append written but not synced
/// (its sync and its rollback failing), the durable bytes hold record 1 only, whatever a crash keeps of record 2 is a
/// torn tail or the whole record, and nothing is ever read half-written.
#[test]
fn every_prefix_of_an_unsynced_record_recovers_to_the_synced_one() {
    let (sim, mut w) = sim_writer();
    w.append(b"synced").unwrap();
    append_unsynced(&sim, &mut w, b"never acknowledged");
    let extra = sim.live().len() - sim.durable().len();
    assert_eq!(extra, FRAME_LEN + b"never acknowledged".len());
    for keep in 0..=extra {
        let img = sim.crash_image(keep, &[]);
        let t = read_tolerant(SimStorage::from_bytes(img.clone()));
        let seqs: Vec<u64> = t.records.iter().map(|r| r.1).collect();
        if keep == extra {
            assert_eq!(seqs, vec![1, 2], "keep {keep}");
            assert!(t.end.is_none());
        } else {
            assert_eq!(seqs, vec![1], "keep {keep}");
            assert_eq!(is_torn(&t.end), keep > 0, "keep {keep}: {:?}", t.end);
        }
    }
}

/// Regression: `find_tail` reads backwards from the end of the file and used
/// to take the nearest CRC-valid frame ending there as the last record. A
/// payload whose last bytes are themselves a valid frame (a record that
/// stores journal bytes; or a note crafted to look like one) then made the
/// next writer continue from the fake frame's sequence number and chain,
/// so every later append was "damage" to verify.
#[test]
fn find_tail_is_not_fooled_by_a_frame_inside_the_last_payload() {
    let mut fake = Vec::new();
    encode_frame(&mut fake, 99, &[0x42; 32], b"inner");
    for prefix_len in [0usize, 1, 10, 200] {
        let mut p = vec![b'x'; prefix_len];
        p.extend_from_slice(&fake);
        let (sim, mut w) = sim_writer();
        w.append(b"first").unwrap();
        let a = w.append(&p).unwrap();
        let tail = find_tail(&sim, &header(), &mem_path()).unwrap();
        assert_eq!(
            (tail.end, tail.last_seq, tail.last_chain, tail.torn),
            (a.end, 2, a.head, None),
            "prefix {prefix_len}"
        );
        // And a writer opened there appends record 3, chained to record 2.
        let mut w2 = Writer::new(sim.clone(), mem_path(), &tail);
        assert_eq!(w2.append(b"third").unwrap().first_seq, 3);
        let (records, damage) = verify_bytes(sim.durable());
        assert!(damage.is_empty(), "prefix {prefix_len}: {damage:?}");
        assert_eq!(records.len(), 3);
    }
}

/// The same with a last record larger than the first window `find_tail`
/// reads (64 KiB): the fake frame is then the only candidate in that window.
#[test]
fn find_tail_is_not_fooled_by_a_frame_inside_a_large_last_payload() {
    let mut p = vec![b'y'; 100 * 1024];
    encode_frame(&mut p, 7, &[0x11; 32], b"inner");
    let (sim, mut w) = sim_writer();
    w.append(b"first").unwrap();
    let a = w.append(&p).unwrap();
    let tail = find_tail(&sim, &header(), &mem_path()).unwrap();
    assert_eq!(
        (tail.end, tail.last_seq, tail.last_chain),
        (a.end, 2, a.head)
    );
}

/// A stale copy of an earlier record after a torn tail (bytes a disk could
/// return for blocks that were allocated but never written) is never taken
/// for the end of the log: the writer must not append after garbage.
#[test]
fn a_stale_whole_frame_after_a_torn_tail_is_not_the_tail() {
    let (sim, mut w) = sim_writer();
    let first = w.append(b"first record").unwrap();
    w.append(b"second record").unwrap();
    append_unsynced(&sim, &mut w, b"third, never acknowledged");
    let stale = sim.live()[HEADER_LEN..first.end as usize].to_vec();
    for keep in [0usize, 5, 30] {
        let img = sim.crash_image(keep, &stale);
        let s = SimStorage::from_bytes(img.clone());
        match find_tail(&s, &header(), &mem_path()) {
            // Either the stale frame is recognised as part of the torn
            // tail (the end is right after record 2) ...
            Ok(t) => {
                assert_eq!(t.last_seq, 2, "keep {keep}: {t:?}");
                assert_eq!(t.torn.map(|(o, _)| o), Some(sim.durable().len() as u64));
            }
            // ... or it is reported as damage, so nothing is appended.
            Err(e) => assert!(matches!(e, LogError::Damaged { .. }), "keep {keep}: {e}"),
        }
        // Readers see records 1 and 2, intact, before anything else.
        let t = read_tolerant(s);
        assert_eq!(t.records.len(), 2);
        assert!(t.end.is_some());
    }
}

/// A record cut short by a crash and holding a whole valid frame inside its
/// payload (opaque payloads may hold anything, e.g. journal bytes). The
/// inner frame claims seq 3, the number the torn record should have had, so
/// the resync search's plausibility check (seq within reach) lets it in.
fn crash_inside_a_payload_holding_a_frame() -> Vec<u8> {
    let mut p = b"before ".to_vec();
    encode_frame(&mut p, 3, &[0x42; 32], b"inner");
    p.extend_from_slice(b" and after the embedded frame");
    let (sim, mut w) = sim_writer();
    w.append(b"acked one").unwrap();
    w.append(b"acked two").unwrap();
    append_unsynced(&sim, &mut w, &p);
    let extra = sim.live().len() - sim.durable().len();
    // Keep all but the last 10 bytes: the embedded frame is whole.
    sim.crash_image(extra - 10, &[])
}

/// A frame inside a torn payload is not a record: the resync search only
/// accepts a frame that ends the file or is followed by a frame chained to
/// it. So the crash reads as the torn tail it is, the writer cuts it, and
/// nothing fake survives. (Regression: the embedded frame used to make the
/// scanner report damage, the writer refuse to open, and salvage keep the
/// frame as record 3.)
#[test]
fn a_frame_inside_a_torn_payload_is_part_of_the_torn_tail() {
    let img = crash_inside_a_payload_holding_a_frame();
    let t = read_tolerant(SimStorage::from_bytes(img.clone()));
    assert_eq!(
        t.records.iter().map(|r| r.2.clone()).collect::<Vec<_>>(),
        vec![b"acked one".to_vec(), b"acked two".to_vec()]
    );
    let d = t.end.expect("a finding");
    assert_eq!(
        (d.offset, d.seq, d.kind),
        (t.position, Some(3), trustlog::log::DamageKind::TornTail)
    );
    let tail = find_tail(&SimStorage::from_bytes(img), &header(), &mem_path())
        .expect("a torn tail, not damage");
    assert_eq!((tail.last_seq, tail.end), (2, t.position));
    assert!(tail.torn.is_some());
}

#[test]
fn salvage_never_keeps_a_frame_found_inside_a_torn_payload() {
    let img = crash_inside_a_payload_holding_a_frame();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    std::fs::write(&path, &img).unwrap();
    let s = trustlog::log::salvage(&path, 0, std::time::Duration::from_millis(50)).unwrap();
    assert_eq!((s.kept, s.holes, s.last_seq), (2, 0, 2), "{s:?}");
}
