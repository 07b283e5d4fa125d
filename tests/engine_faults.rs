//! Injected I/O errors on write and on sync (SimStorage::fail_nth, with
//! short writes via set_partial_on_fault): the failing append returns an
//! error (nothing acknowledged), the file is rolled back to its last
//! acknowledged length, durably, so nothing of the append is ever read
//! back (issue 15.7), and the writer is poisoned for good (a failed fsync
//! is never retried). When the rollback fails too (a truncate fault), the
//! error says so, and what is left — the page cache as the next process
//! would read it, or any image a crash could leave — still recovers to a
//! consistent prefix holding every acknowledged record.

#[path = "common/engine.rs"]
mod engine;

use proptest::prelude::*;
use trustlog::log::format::FRAME_LEN;
use trustlog::log::storage::{FaultOp, SimStorage};
use trustlog::log::writer::Writer;
use trustlog::log::LogError;

use engine::{assert_recovers, sim_writer, Rng};

/// Checks the live image and many crash images of `sim`.
fn assert_all_images_recover(sim: &SimStorage, acked: usize, intended: &[Vec<u8>], ctx: &str) {
    assert_recovers(&sim.live(), acked, intended, &format!("{ctx}, live image"));
    assert_recovers(&sim.durable(), acked, intended, &format!("{ctx}, durable"));
    let extra = sim.live().len().saturating_sub(sim.durable().len());
    let mut rng = Rng(extra as u64);
    for keep in 0..=extra + 1 {
        for garbage in [vec![], vec![0u8; 7], rng.bytes(60)] {
            let img = sim.crash_image(keep, &garbage);
            let what = format!(
                "{ctx}, crash keeping {keep} of {extra} + {} garbage",
                garbage.len()
            );
            assert_recovers(&img, acked, intended, &what);
        }
    }
}

/// After a failure, every further call is refused as poisoned and writes
/// nothing.
fn assert_poisoned<S: trustlog::log::storage::Storage>(
    w: &mut Writer<S>,
    sim: &SimStorage,
    ctx: &str,
) {
    let before = sim.live();
    let r = w.append(b"after the failure");
    assert!(matches!(r, Err(LogError::Poisoned { .. })), "{ctx}: {r:?}");
    let r = w.append_batch([b"a".as_slice(), b"b".as_slice()]);
    assert!(matches!(r, Err(LogError::Poisoned { .. })), "{ctx}: {r:?}");
    assert_eq!(sim.live(), before, "{ctx}: a poisoned writer wrote");
}

fn acked_three() -> (SimStorage, Writer<SimStorage>, Vec<Vec<u8>>) {
    let (sim, mut w) = sim_writer();
    let intended: Vec<Vec<u8>> = vec![b"one".to_vec(), vec![2u8; 70], b"three".to_vec()];
    for p in &intended {
        w.append(p).unwrap();
    }
    (sim, w, intended)
}

/// The error of a failed append: its operation, and whether the rollback
/// failed.
fn append_failed(
    r: &Result<trustlog::log::writer::Appended, LogError>,
    ctx: &str,
) -> (&'static str, bool) {
    match r {
        Err(LogError::AppendFailed {
            op, rollback_error, ..
        }) => (op, rollback_error.is_some()),
        other => panic!("{ctx}: expected a failed append, got {other:?}"),
    }
}

#[test]
fn a_failed_write_is_rolled_back_and_poisons() {
    let payload = vec![0x44u8; 60];
    let frame = FRAME_LEN + payload.len();
    for partial in [0, 1, 4, 8, 47, 48, 49, frame - 1, frame] {
        let ctx = format!("write fails after {partial} bytes");
        let (sim, mut w, intended) = acked_three();
        let before = sim.live();
        sim.fail_nth(FaultOp::Write, 0);
        sim.set_partial_on_fault(partial);
        let r = w.append(&payload);
        assert_eq!(append_failed(&r, &ctx), ("writing to", false), "{ctx}");
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("mem.tlog") && msg.contains("nothing was recorded"),
            "{ctx}: {msg}"
        );
        // The short write is gone from the page cache and the disk.
        assert_eq!(sim.live(), before, "{ctx}: not rolled back");
        assert_eq!(sim.durable(), before, "{ctx}: rollback not durable");
        assert_poisoned(&mut w, &sim, &ctx);
        // The failed record is never read back, by a reader or after a crash.
        assert_all_images_recover(&sim, 3, &intended, &ctx);
    }
}

/// Regression (issue 15.7): a record whose fdatasync failed stayed in the
/// file and was read as data, so a user who retried recorded it twice.
#[test]
fn a_failed_sync_is_rolled_back_and_never_retried() {
    let (sim, mut w, intended) = acked_three();
    let before = sim.live();
    sim.fail_nth(FaultOp::Sync, 0);
    let r = w.append(b"four");
    assert_eq!(append_failed(&r, "sync"), ("syncing (fdatasync)", false));
    assert_eq!(
        sim.live(),
        before,
        "the unacknowledged record is still there"
    );
    assert_eq!(sim.durable(), before);
    assert_poisoned(&mut w, &sim, "sync failed");
    assert_eq!(engine::read_tolerant(sim.clone()).records.len(), 3);
    assert_all_images_recover(&sim, 3, &intended, "sync failed");
}

#[test]
fn a_failed_batch_sync_leaves_nothing_of_the_batch() {
    let (sim, mut w, intended) = acked_three();
    let before = sim.live();
    let batch: Vec<Vec<u8>> = (0..4).map(|i| vec![i as u8 + 10; 20 + i * 9]).collect();
    sim.fail_nth(FaultOp::Sync, 0);
    let r = w.append_batch(batch.iter().map(|p| p.as_slice()));
    assert_eq!(append_failed(&r, "batch"), ("syncing (fdatasync)", false));
    assert_eq!(sim.live(), before);
    assert_poisoned(&mut w, &sim, "batch sync failed");
    assert_all_images_recover(&sim, 3, &intended, "batch sync failed");
}

/// When the rollback fails too, the error says the state is unknown, and
/// whatever is left (any prefix of the record, or all of it) recovers: a
/// partial record is a torn tail that readers ignore.
#[test]
fn a_failed_rollback_says_the_state_is_unknown_and_still_recovers() {
    let payload = vec![0x55u8; 40];
    for (sync, partial) in [(true, 0), (false, 10), (false, FRAME_LEN + 40)] {
        let ctx = format!("sync {sync}, partial {partial}");
        let (sim, mut w, mut intended) = acked_three();
        let durable_before = sim.durable();
        sim.fail_nth(if sync { FaultOp::Sync } else { FaultOp::Write }, 0);
        sim.set_partial_on_fault(partial);
        sim.fail_nth(FaultOp::Truncate, 0);
        let r = w.append(&payload);
        assert!(
            append_failed(&r, &ctx).1,
            "{ctx}: the rollback did not fail"
        );
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("unknown") && msg.contains("trustlog log"),
            "{ctx}: {msg}"
        );
        assert_eq!(sim.durable(), durable_before, "{ctx}");
        assert_poisoned(&mut w, &sim, &ctx);
        intended.push(payload.clone());
        assert_all_images_recover(&sim, 3, &intended, &ctx);
    }
}

#[test]
fn a_refused_payload_undoes_its_batch_without_poisoning() {
    let (sim, mut w, _) = acked_three();
    let before = sim.live();
    let r = w.append_batch([b"fine".as_slice(), b"".as_slice(), b"never".as_slice()]);
    assert!(
        matches!(r, Err(LogError::PayloadSize { len: 0, .. })),
        "{r:?}"
    );
    assert_eq!(sim.live(), before, "nothing of a refused batch stays");
    assert_eq!(w.append(b"four").unwrap().first_seq, 4);
}

/// A batch refused after part of it was already written (batches are
/// flushed every 8 MiB): the written part is cut back, durably.
#[test]
fn a_payload_refused_after_a_flush_undoes_the_written_part() {
    let (sim, mut w, intended) = acked_three();
    let before = sim.live();
    let big = vec![0x77u8; 1 << 20];
    let mut batch: Vec<&[u8]> = vec![&big; 9];
    batch.push(b"");
    let r = w.append_batch(batch);
    assert!(
        matches!(r, Err(LogError::PayloadSize { len: 0, .. })),
        "{r:?}"
    );
    assert_eq!(sim.live(), before, "the flushed part stays");
    assert_eq!(sim.durable(), before);
    assert_all_images_recover(&sim, 3, &intended, "refused after a flush");
    assert_eq!(w.append(b"four").unwrap().first_seq, 4);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random appends and batches with one write or sync failing at a
    /// random point, with a random short write, and sometimes its rollback
    /// failing too.
    #[test]
    fn any_single_fault_leaves_every_acknowledged_record(
        batches in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 1..90), 1..4), 1..8),
        fail_sync in any::<bool>(),
        undo_fails in any::<bool>(),
        nth in 0usize..8,
        partial in 0usize..200,
    ) {
        let (sim, mut w) = sim_writer();
        let op = if fail_sync { FaultOp::Sync } else { FaultOp::Write };
        sim.fail_nth(op, nth);
        sim.set_partial_on_fault(partial);
        if undo_fails {
            // Appends truncate only to roll back: the first truncate is it.
            sim.fail_nth(FaultOp::Truncate, 0);
        }
        // Every payload that may be in the file: the acknowledged ones,
        // and a failed batch's only if its rollback failed.
        let mut intended: Vec<Vec<u8>> = Vec::new();
        let mut acked = 0;
        let mut failed = false;
        for b in &batches {
            let before = sim.live();
            match w.append_batch(b.iter().map(|p| p.as_slice())) {
                Ok(a) => {
                    prop_assert!(!failed, "acknowledged after a failure");
                    intended.extend(b.iter().cloned());
                    prop_assert_eq!(a.last_seq as usize, intended.len());
                    acked = intended.len();
                }
                Err(LogError::AppendFailed { rollback_error, .. }) if !failed => {
                    failed = true;
                    prop_assert_eq!(rollback_error.is_some(), undo_fails);
                    if undo_fails {
                        intended.extend(b.iter().cloned());
                    } else {
                        prop_assert_eq!(sim.live(), before, "not rolled back");
                    }
                }
                Err(LogError::Poisoned { .. }) if failed => {}
                Err(e) => prop_assert!(false, "unexpected error {}", e),
            }
        }
        prop_assert_eq!(failed, nth < batches.len(), "the fault fired iff it was reached");
        assert_all_images_recover(&sim, acked, &intended, &format!("{op:?} #{nth}"));
    }
}
