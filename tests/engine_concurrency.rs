//! One writer at a time. The exclusive lock is an `flock` on the open file,
//! so two `JournalWriter`s in one process contend exactly as two processes
//! do. A second writer waits its bounded time and fails with `Locked`
//! naming the journal; writers taking turns (open, append, drop) never
//! interleave or corrupt; readers take no lock and never see a partial
//! record.

#[path = "common/engine.rs"]
mod engine;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use trustlog::log::scan::{DamageKind, Item};
use trustlog::log::{for_each_record, open_scan, verify, JournalWriter, LogError};

/// Long enough that a writer waiting its turn behind the others never gives
/// up on a loaded machine; the lock is held for one append at a time.
const TURN_WAIT: Duration = Duration::from_secs(60);

#[test]
fn a_second_writer_waits_then_fails_naming_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    let mut first = JournalWriter::open(&path, 0, TURN_WAIT).unwrap();
    first.append(b"one").unwrap();

    let wait = Duration::from_millis(150);
    let e = JournalWriter::open(&path, 0, wait)
        .err()
        .expect("the lock is held");
    match &e {
        LogError::Locked { path: p, waited_ms } => {
            assert_eq!(p, &path);
            // It did wait (the loop only gives up once the wait is over).
            assert!(*waited_ms >= wait.as_millis() as u64, "{waited_ms}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(!e.is_damage());

    // The holder is unaffected; once it is gone the next writer gets in.
    first.append(b"two").unwrap();
    drop(first);
    let mut second = JournalWriter::open(&path, 0, wait).unwrap();
    assert_eq!(second.append(b"three").unwrap().first_seq, 3);
}

#[test]
fn a_waiting_writer_gets_the_lock_when_it_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    let mut first = JournalWriter::open(&path, 0, TURN_WAIT).unwrap();
    first.append(b"one").unwrap();
    let p = path.clone();
    let waiter = thread::spawn(move || {
        let mut w = JournalWriter::open(&p, 0, TURN_WAIT)?;
        w.append(b"two")
    });
    // Hold the lock a little, append, release: the waiter then continues
    // after our record, never before or in the middle of it.
    thread::sleep(Duration::from_millis(50));
    first.append(b"one and a half").unwrap();
    drop(first);
    let a = waiter.join().unwrap().expect("the waiter got the lock");
    assert_eq!(a.first_seq, 3, "the waiter wrote while the lock was held");
    let r = verify(&path, None, &mut |_, _| {}).unwrap();
    assert!(r.ok() && r.records == 3, "{r:?}");
}

fn read_all(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    for_each_record(path, |s, p| {
        out.push((s, p.to_vec()));
        Ok(())
    })
    .unwrap();
    out
}

/// Threads taking turns from a journal that does not exist yet (so the
/// creation races too), with readers scanning all the while.
#[test]
fn writers_taking_turns_never_interleave_or_corrupt() {
    const THREADS: usize = 4;
    const EACH: usize = 25;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    let done = Arc::new(AtomicBool::new(false));

    let reader = {
        let path = path.clone();
        let done = done.clone();
        thread::spawn(move || {
            let mut snapshots: Vec<Vec<(u64, Vec<u8>)>> = Vec::new();
            while !done.load(Ordering::Acquire) {
                let mut sc = match open_scan(&path, false, false) {
                    Ok(sc) => sc,
                    // Not created yet, or its header is being written:
                    // only before the header was ever seen whole.
                    Err(LogError::NotFound(_))
                    | Err(LogError::Truncated { .. })
                    | Err(LogError::HeaderDamaged(_))
                    | Err(LogError::NotAJournal(_))
                        if snapshots.is_empty() =>
                    {
                        thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                    Err(e) => panic!("reader: {e}"),
                };
                let mut seen = Vec::new();
                while let Some(item) = sc.next_item().unwrap() {
                    match item {
                        Item::Record(r) => seen.push((r.seq, r.payload.to_vec())),
                        // A write in flight at the end of the file may be
                        // visible in part; it is the end, never data.
                        Item::Damage(d) => {
                            assert_eq!(d.kind, DamageKind::TornTail, "reader saw {d:?}");
                            break;
                        }
                    }
                }
                snapshots.push(seen);
                thread::sleep(Duration::from_millis(1));
            }
            snapshots
        })
    };

    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let path = path.clone();
            thread::spawn(move || {
                let mut mine = Vec::new();
                let mut created = 0;
                for i in 0..EACH {
                    let mut w = JournalWriter::open(&path, 0, TURN_WAIT).unwrap();
                    created += w.created as usize;
                    assert!(w.cut.is_none(), "a clean turn left a torn tail");
                    let payload = format!("thread {t} append {i}").into_bytes();
                    let a = w.append(&payload).unwrap();
                    assert_eq!(a.first_seq, a.last_seq);
                    mine.push((a.first_seq, payload));
                }
                (mine, created)
            })
        })
        .collect();
    let mut acked: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut created = 0;
    for h in writers {
        let (mine, c) = h.join().unwrap();
        created += c;
        // Each thread's own appends got increasing sequence numbers.
        assert!(mine.windows(2).all(|w| w[0].0 < w[1].0));
        for (seq, p) in mine {
            assert!(acked.insert(seq, p).is_none(), "seq {seq} given twice");
        }
    }
    done.store(true, Ordering::Release);
    let snapshots = reader.join().unwrap();

    let total = (THREADS * EACH) as u64;
    assert_eq!(created, 1, "exactly one writer created the journal");
    assert_eq!(
        acked.keys().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    let r = verify(&path, None, &mut |_, _| {}).unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!((r.records, r.last_seq), (total, total));
    let all = read_all(&path);
    assert_eq!(all, acked.into_iter().collect::<Vec<_>>());
    // Every reader snapshot was a prefix of the final log.
    for s in &snapshots {
        assert_eq!(s.as_slice(), &all[..s.len()]);
    }
    // No side files: nothing was ever cut.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}
