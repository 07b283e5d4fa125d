//! Injected I/O errors on write and on sync (SimStorage::fail_nth, with
//! short writes via set_partial_on_fault): the failing append returns an
//! error (nothing acknowledged), the writer is poisoned for good (a failed
//! fsync is never retried), and what is left — the page cache as the next
//! process would read it, or any image a crash could leave — recovers to a
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

#[test]
fn a_failed_write_acknowledges_nothing_and_poisons() {
    let payload = vec![0x44u8; 60];
    let frame = FRAME_LEN + payload.len();
    for partial in [0, 1, 4, 8, 47, 48, 49, frame - 1, frame] {
        let ctx = format!("write fails after {partial} bytes");
        let (sim, mut w, mut intended) = acked_three();
        let durable_before = sim.durable();
        sim.fail_nth(FaultOp::Write, 0);
        sim.set_partial_on_fault(partial);
        let r = w.append(&payload);
        match &r {
            Err(LogError::Io { op, .. }) => assert_eq!(*op, "writing to", "{ctx}"),
            other => panic!("{ctx}: expected an I/O error, got {other:?}"),
        }
        assert!(r.unwrap_err().to_string().contains("mem.tlog"), "{ctx}");
        // The short write reached the page cache, not the disk.
        assert_eq!(sim.live().len(), durable_before.len() + partial, "{ctx}");
        assert_eq!(sim.durable(), durable_before, "{ctx}: nothing synced");
        assert_poisoned(&mut w, &sim, &ctx);
        // The failed record may be read back only if all of it was written.
        intended.push(payload.clone());
        assert_all_images_recover(&sim, 3, &intended, &ctx);
    }
}

#[test]
fn a_failed_sync_acknowledges_nothing_and_is_never_retried() {
    let (sim, mut w, mut intended) = acked_three();
    let durable_before = sim.durable();
    sim.fail_nth(FaultOp::Sync, 0);
    let r = w.append(b"four");
    assert!(matches!(&r, Err(LogError::SyncFailed { .. })), "{r:?}");
    assert_eq!(
        sim.durable(),
        durable_before,
        "a failed sync made nothing durable"
    );
    assert_poisoned(&mut w, &sim, "sync failed");
    // No retry: had the writer synced again, the durable image would now
    // hold record 4 (the next sync would succeed).
    assert_eq!(sim.durable(), durable_before, "the sync was retried");
    intended.push(b"four".to_vec());
    assert_all_images_recover(&sim, 3, &intended, "sync failed");
}

#[test]
fn a_failed_batch_sync_leaves_some_prefix_of_the_batch_at_most() {
    let (sim, mut w, mut intended) = acked_three();
    let batch: Vec<Vec<u8>> = (0..4).map(|i| vec![i as u8 + 10; 20 + i * 9]).collect();
    sim.fail_nth(FaultOp::Sync, 0);
    let r = w.append_batch(batch.iter().map(|p| p.as_slice()));
    assert!(matches!(r, Err(LogError::SyncFailed { .. })), "{r:?}");
    assert_poisoned(&mut w, &sim, "batch sync failed");
    intended.extend(batch);
    assert_all_images_recover(&sim, 3, &intended, "batch sync failed");
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random appends and batches with one write or sync failing at a
    /// random point, with a random short write.
    #[test]
    fn any_single_fault_leaves_every_acknowledged_record(
        batches in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 1..90), 1..4), 1..8),
        fail_sync in any::<bool>(),
        nth in 0usize..8,
        partial in 0usize..200,
    ) {
        let (sim, mut w) = sim_writer();
        let op = if fail_sync { FaultOp::Sync } else { FaultOp::Write };
        sim.fail_nth(op, nth);
        sim.set_partial_on_fault(partial);
        let mut intended: Vec<Vec<u8>> = Vec::new();
        let mut acked = 0;
        let mut failed = false;
        for b in &batches {
            intended.extend(b.iter().cloned());
            match w.append_batch(b.iter().map(|p| p.as_slice())) {
                Ok(a) => {
                    prop_assert!(!failed, "acknowledged after a failure");
                    prop_assert_eq!(a.last_seq as usize, intended.len());
                    acked = intended.len();
                }
                Err(LogError::Io { .. } | LogError::SyncFailed { .. }) if !failed => failed = true,
                Err(LogError::Poisoned { .. }) if failed => {}
                Err(e) => prop_assert!(false, "unexpected error {}", e),
            }
        }
        prop_assert_eq!(failed, nth < batches.len(), "the fault fired iff it was reached");
        assert_all_images_recover(&sim, acked, &intended, &format!("{op:?} #{nth}"));
    }
}
