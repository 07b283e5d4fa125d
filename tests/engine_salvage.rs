//! Skip-corrupted recovery (`repair --salvage`): a new journal with every
//! intact record, a hole for each lost sequence number (so numbers that
//! events refer to stay stable), a new chain that verifies, and the damaged
//! original kept under a new name, byte for byte.

#[path = "common/engine.rs"]
mod engine;

use std::fs;
use std::path::Path;
use std::time::Duration;

use trustlog::log::format::{Header, FRAME_LEN, F_CRC, F_LEN, HEADER_LEN};
use trustlog::log::scan::{DamageKind, Item};
use trustlog::log::{
    for_each_record, open_scan, salvage, verify, JournalWriter, LogError, SalvageReport,
};

use engine::{journal_bytes, other_files, payloads};

const WAIT: Duration = Duration::from_millis(200);

/// (seq, payload) of every record, holes included (empty payloads).
fn all_records(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut sc = open_scan(path, true, false).unwrap();
    let mut out = Vec::new();
    while let Some(item) = sc.next_item().unwrap() {
        match item {
            Item::Record(r) => out.push((r.seq, r.payload.to_vec())),
            Item::Damage(d) => panic!("salvaged journal is damaged: {d:?}"),
        }
    }
    out
}

fn salvage_file(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf, SalvageReport) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    fs::write(&path, bytes).unwrap();
    let report = salvage(&path, 1_800_000_000_000_000, WAIT).expect("salvage");
    (dir, path, report)
}

/// Common checks: the original is kept verbatim and is the only other
/// file; the new journal verifies clean with `want` (holes as empty).
fn check_salvaged(
    dir: &tempfile::TempDir,
    path: &Path,
    report: &SalvageReport,
    damaged: &[u8],
    want: &[(u64, Vec<u8>)],
) {
    assert_eq!(fs::read(&report.original_saved_to).unwrap(), damaged);
    assert_eq!(
        other_files(dir.path(), path),
        vec![report.original_saved_to.clone()]
    );
    let name = report
        .original_saved_to
        .file_name()
        .unwrap()
        .to_string_lossy();
    assert!(name.starts_with("journal.tlog.damaged-"), "{name}");

    let v = verify(path, None, &mut |_, _| {}).unwrap();
    assert!(v.ok(), "salvaged journal: {v:?}");
    assert_eq!(v.records, want.len() as u64);
    assert_eq!(
        v.holes,
        want.iter().filter(|r| r.1.is_empty()).count() as u64
    );
    assert_eq!(v.last_seq, report.last_seq);
    assert_eq!(v.head, report.new_head);
    assert_eq!(all_records(path), want);

    // Normal reads skip the holes; a writer continues after them.
    let mut read = Vec::new();
    for_each_record(path, |s, p| {
        read.push((s, p.to_vec()));
        Ok(())
    })
    .unwrap();
    let non_holes: Vec<(u64, Vec<u8>)> = want.iter().filter(|r| !r.1.is_empty()).cloned().collect();
    assert_eq!(read, non_holes);
    let mut w = JournalWriter::open(path, 0, WAIT).unwrap();
    assert_eq!(
        w.append(b"after salvage").unwrap().first_seq,
        report.last_seq + 1
    );
    drop(w);
    assert!(verify(path, None, &mut |_, _| {}).unwrap().ok());
}

#[test]
fn a_flipped_byte_in_the_middle_record_becomes_a_hole() {
    let ps = payloads(5);
    let (bytes, offsets) = journal_bytes(&ps);
    // A byte in the payload, the chain digest, the length, the CRC.
    for at in [FRAME_LEN + 1, 20, F_LEN + 2, F_CRC] {
        let mut damaged = bytes.clone();
        damaged[offsets[2] as usize + at] ^= 0x40;
        let (dir, path, report) = salvage_file(&damaged);
        let ctx = format!("flip at record 3 + {at}");
        assert_eq!(
            (report.kept, report.holes, report.last_seq),
            (4, 1, 5),
            "{ctx}"
        );
        assert_eq!(report.damage.len(), 1, "{ctx}: {:?}", report.damage);
        let d = report.damage[0];
        assert_eq!((d.offset, d.seq), (offsets[2], Some(3)), "{ctx}");
        assert!(
            matches!(d.kind, DamageKind::Checksum | DamageKind::Length),
            "{ctx}: {d:?}"
        );
        assert_eq!(d.lost, Some((3, 3)), "{ctx}");
        let want = vec![
            (1, ps[0].clone()),
            (2, ps[1].clone()),
            (3, Vec::new()),
            (4, ps[3].clone()),
            (5, ps[4].clone()),
        ];
        check_salvaged(&dir, &path, &report, &damaged, &want);
        // A new journal: new id, so a new chain.
        let new_header = Header::decode(&fs::read(&path).unwrap()[..HEADER_LEN]).unwrap();
        let old_header = Header::decode(&bytes[..HEADER_LEN]).unwrap();
        assert_ne!(new_header.journal_id, old_header.journal_id);
        assert_eq!(new_header.created_micros, 1_800_000_000_000_000);
    }
}

#[test]
fn a_deleted_record_becomes_a_hole() {
    let ps = payloads(5);
    let (bytes, offsets) = journal_bytes(&ps);
    let mut damaged = bytes[..offsets[1] as usize].to_vec();
    damaged.extend_from_slice(&bytes[offsets[2] as usize..]);
    let (dir, path, report) = salvage_file(&damaged);
    assert_eq!((report.kept, report.holes), (4, 1));
    assert!(
        report
            .damage
            .iter()
            .any(|d| d.kind == DamageKind::Sequence && d.lost == Some((2, 2))),
        "{:?}",
        report.damage
    );
    let want: Vec<(u64, Vec<u8>)> = (1..=5u64)
        .map(|s| {
            (
                s,
                if s == 2 {
                    Vec::new()
                } else {
                    ps[s as usize - 1].clone()
                },
            )
        })
        .collect();
    check_salvaged(&dir, &path, &report, &damaged, &want);
}

#[test]
fn salvage_of_a_clean_journal_keeps_everything() {
    let ps = payloads(4);
    let (bytes, _) = journal_bytes(&ps);
    let (dir, path, report) = salvage_file(&bytes);
    assert_eq!((report.kept, report.holes), (4, 0));
    assert!(report.damage.is_empty());
    let want: Vec<(u64, Vec<u8>)> = ps
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, p)| (i as u64 + 1, p))
        .collect();
    check_salvaged(&dir, &path, &report, &bytes, &want);
}

#[test]
fn salvage_drops_a_torn_tail_and_says_so() {
    let ps = payloads(4);
    let (bytes, _) = journal_bytes(&ps);
    let torn = &bytes[..bytes.len() - 3];
    let (dir, path, report) = salvage_file(torn);
    assert_eq!((report.kept, report.holes, report.last_seq), (3, 0, 3));
    assert_eq!(report.damage.len(), 1);
    assert_eq!(report.damage[0].kind, DamageKind::TornTail);
    let want: Vec<(u64, Vec<u8>)> = ps[..3]
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, p)| (i as u64 + 1, p))
        .collect();
    check_salvaged(&dir, &path, &report, torn, &want);
}

#[test]
fn salvage_waits_for_the_writer_then_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    let mut w = JournalWriter::open(&path, 0, WAIT).unwrap();
    w.append(b"one").unwrap();
    let before = fs::read(&path).unwrap();
    let e = salvage(&path, 0, Duration::from_millis(50)).expect_err("locked");
    assert!(
        matches!(&e, LogError::Locked { path: p, .. } if *p == path),
        "{e:?}"
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(
        other_files(dir.path(), &path),
        Vec::<std::path::PathBuf>::new()
    );
}

/// Regression: sectors zeroed in the middle of the log (records 3–12 lost),
/// followed by only two intact records. The resync search's plausibility
/// bound counted the frames that fit AFTER a candidate instead of after the
/// bad spot, so records 13 and 14 looked impossible: the zeros read as a
/// torn tail, normal reads silently dropped 13 and 14, verify called it
/// torn_tail, and salvage kept only records 1 and 2.
#[test]
fn zeroed_sectors_in_the_middle_are_damage_and_salvage_keeps_what_follows() {
    let ps: Vec<Vec<u8>> = (0..14).map(|i| vec![i as u8 + 1; 60]).collect();
    let (mut damaged, offsets) = journal_bytes(&ps);
    damaged[offsets[2] as usize..offsets[12] as usize].fill(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    fs::write(&path, &damaged).unwrap();

    let v = verify(&path, None, &mut |_, _| {}).unwrap();
    assert_eq!(v.damage.len(), 1, "{:?}", v.damage);
    let d = v.damage[0];
    assert_eq!(
        (d.offset, d.seq, d.lost),
        (offsets[2], Some(3), Some((3, 12)))
    );
    assert_ne!(d.kind, DamageKind::TornTail);
    assert_eq!((v.records, v.last_seq), (4, 14));
    // Normal reads stop with an error naming the spot, never quietly.
    let r = for_each_record(&path, |_, _| Ok(()));
    assert!(
        matches!(r, Err(LogError::Damaged { offset, seq: Some(3), .. }) if offset == offsets[2]),
        "{r:?}"
    );

    let report = salvage(&path, 1_800_000_000_000_000, WAIT).unwrap();
    assert_eq!((report.kept, report.holes, report.last_seq), (4, 10, 14));
    let mut want: Vec<(u64, Vec<u8>)> = (1..=14u64).map(|s| (s, Vec::new())).collect();
    for s in [1usize, 2, 13, 14] {
        want[s - 1].1 = ps[s - 1].clone();
    }
    check_salvaged(&dir, &path, &report, &damaged, &want);
}

/// Issue 15.9: `repair --salvage` on a journal reached through a symbolic
/// link repairs the target, and the link stays a link to it. (Regression:
/// the new journal was renamed over the link, so the link became a new
/// file and the target kept the damage: two journals.)
#[test]
fn salvage_through_a_symbolic_link_repairs_the_target() {
    let ps = payloads(4);
    let (mut bytes, offsets) = journal_bytes(&ps);
    bytes[offsets[1] as usize + FRAME_LEN] ^= 0x01; // record 2's payload
    let link_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let target = data_dir.path().join("journal.tlog");
    fs::write(&target, &bytes).unwrap();
    let link = link_dir.path().join("journal.tlog");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let report = salvage(&link, 1_800_000_000_000_000, WAIT).expect("salvage");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_link(&link).unwrap(), target);
    // The damaged original is kept next to the target, and the target is
    // the repaired journal (read through the link or directly).
    let target = fs::canonicalize(&target).unwrap();
    assert_eq!(report.original_saved_to.parent(), target.parent());
    let mut want: Vec<(u64, Vec<u8>)> = vec![(1, ps[0].clone()), (2, Vec::new())];
    want.extend([(3, ps[2].clone()), (4, ps[3].clone())]);
    let data_dir_path = fs::canonicalize(data_dir.path()).unwrap();
    assert_eq!(fs::read(&report.original_saved_to).unwrap(), bytes);
    assert_eq!(all_records(&target), want);
    assert_eq!(all_records(&link), want);
    assert_eq!(
        other_files(&data_dir_path, &target),
        vec![report.original_saved_to.clone()]
    );
    assert_eq!(
        other_files(link_dir.path(), &link),
        Vec::<std::path::PathBuf>::new()
    );
}
