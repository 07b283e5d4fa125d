//! Truncation at every byte offset inside the last three records: a crash
//! mid-append leaves the file cut anywhere. Recovery (tolerate-corrupted-tail
//! scans and `find_tail`) must yield exactly the records before the cut, and
//! `JournalWriter::open` must cut the torn bytes into a side file holding
//! exactly those bytes, then append a clean continuation.

#[path = "common/engine.rs"]
mod engine;

use std::fs;
use std::time::Duration;

use trustlog::log::format::{FRAME_LEN, HEADER_LEN};
use trustlog::log::scan::DamageKind;
use trustlog::log::storage::SimStorage;
use trustlog::log::writer::find_tail;
use trustlog::log::{for_each_record, open_scan, verify, JournalWriter, LogError};

use engine::{header, journal_bytes, mem_path, other_files, payloads, read_tolerant};

const RECORDS: usize = 6;
const WAIT: Duration = Duration::from_millis(200);

/// Sequence numbers and payloads of every record in a journal file, read in
/// tolerate-corrupted-tail mode.
fn records_of(path: &std::path::Path) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    for_each_record(path, |seq, p| {
        out.push((seq, p.to_vec()));
        Ok(())
    })
    .expect("read");
    out
}

#[test]
fn every_cut_in_the_last_three_records_recovers_the_records_before_it() {
    let ps = payloads(RECORDS);
    let (bytes, offsets) = journal_bytes(&ps);
    let ends: Vec<u64> = offsets
        .iter()
        .zip(&ps)
        .map(|(o, p)| o + (FRAME_LEN + p.len()) as u64)
        .collect();
    let first_cut = offsets[RECORDS - 3] as usize;
    let mut cuts_checked = 0;
    for cut in first_cut..bytes.len() {
        let kept = ends.iter().filter(|&&e| e <= cut as u64).count();
        let end = if kept == 0 {
            HEADER_LEN as u64
        } else {
            ends[kept - 1]
        };
        let torn = cut as u64 - end;
        let img = bytes[..cut].to_vec();

        // Tolerate-corrupted-tail scan: the records before the cut, then a
        // torn tail if the cut fell inside a record.
        let t = read_tolerant(SimStorage::from_bytes(img.clone()));
        let got: Vec<u64> = t.records.iter().map(|r| r.1).collect();
        assert_eq!(got, (1..=kept as u64).collect::<Vec<_>>(), "cut {cut}");
        for (_, seq, p) in &t.records {
            assert_eq!(p, &ps[*seq as usize - 1], "cut {cut}: payload {seq}");
        }
        if torn == 0 {
            assert!(t.end.is_none(), "cut {cut} on a boundary: {:?}", t.end);
        } else {
            let d = t.end.expect("a torn tail");
            assert_eq!(
                (d.kind, d.offset, d.seq, d.len),
                (DamageKind::TornTail, end, Some(kept as u64 + 1), torn),
                "cut {cut}"
            );
        }

        // find_tail agrees.
        let tail = find_tail(&SimStorage::from_bytes(img.clone()), &header(), &mem_path())
            .expect("find_tail");
        assert_eq!(tail.end, end, "cut {cut}");
        assert_eq!(tail.last_seq, kept as u64, "cut {cut}");
        assert_eq!(tail.torn, (torn > 0).then_some((end, torn)), "cut {cut}");
        cuts_checked += 1;
    }
    // Every offset from the start of record 4 to one byte before the end.
    assert_eq!(cuts_checked, bytes.len() - first_cut);
}

#[test]
fn journal_writer_cuts_each_torn_tail_into_a_side_file_and_appends() {
    let ps = payloads(RECORDS);
    let (bytes, offsets) = journal_bytes(&ps);
    let ends: Vec<u64> = offsets
        .iter()
        .zip(&ps)
        .map(|(o, p)| o + (FRAME_LEN + p.len()) as u64)
        .collect();
    for cut in offsets[RECORDS - 3] as usize..bytes.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.tlog");
        fs::write(&path, &bytes[..cut]).unwrap();
        let kept = ends.iter().filter(|&&e| e <= cut as u64).count();
        let end = ends[kept - 1];

        let mut w = JournalWriter::open(&path, 0, WAIT)
            .unwrap_or_else(|e| panic!("cut {cut}: open failed: {e}"));
        assert!(!w.created, "cut {cut}: an existing journal is not new");
        assert_eq!(w.last_seq(), kept as u64, "cut {cut}");
        match &w.cut {
            None => assert_eq!(end, cut as u64, "cut {cut}: torn bytes were not cut"),
            Some(c) => {
                assert_eq!((c.offset, c.len), (end, cut as u64 - end), "cut {cut}");
                let side = fs::read(&c.saved_to).expect("the side file exists");
                assert_eq!(
                    side,
                    &bytes[end as usize..cut],
                    "cut {cut}: side file bytes"
                );
                assert_eq!(c.saved_to.parent(), Some(dir.path()), "next to the journal");
                // The side file is the only new file next to the journal.
                assert_eq!(other_files(dir.path(), &path), vec![c.saved_to.clone()]);
            }
        }
        // The torn bytes are gone from the journal, which is the old prefix.
        assert_eq!(
            fs::read(&path).unwrap(),
            &bytes[..end as usize],
            "cut {cut}"
        );

        let a = w.append(b"appended after the cut").unwrap();
        assert_eq!(a.first_seq, kept as u64 + 1, "cut {cut}");
        drop(w);
        let report = verify(&path, None, &mut |_, _| {}).unwrap();
        assert!(report.ok(), "cut {cut}: {report:?}");
        assert_eq!(report.records, kept as u64 + 1);
        let mut want: Vec<(u64, Vec<u8>)> = ps[..kept]
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, p)| (i as u64 + 1, p))
            .collect();
        want.push((kept as u64 + 1, b"appended after the cut".to_vec()));
        assert_eq!(records_of(&path), want, "cut {cut}");
    }
}

/// A crash while the journal was being created leaves a prefix of the
/// header (or nothing). Reads call it truncated; the next writer keeps the
/// bytes aside and starts the journal afresh.
#[test]
fn a_cut_inside_the_header_is_a_creation_that_never_finished() {
    let full = header().encode();
    for cut in 0..HEADER_LEN {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.tlog");
        fs::write(&path, &full[..cut]).unwrap();
        match open_scan(&path, false, false) {
            Err(LogError::Truncated { len, path: p }) => {
                assert_eq!((len, &p), (cut as u64, &path), "cut {cut}")
            }
            Err(e) => panic!("cut {cut}: {e}"),
            Ok(_) => panic!("cut {cut}: a partial header was read as a journal"),
        }
        let mut w = JournalWriter::open(&path, 0, WAIT).unwrap();
        if cut == 0 {
            assert!(w.cut.is_none());
        } else {
            let c = w.cut.clone().expect("partial header saved aside");
            assert_eq!(fs::read(&c.saved_to).unwrap(), &full[..cut]);
        }
        assert_eq!(w.append(b"first").unwrap().first_seq, 1);
        drop(w);
        assert!(verify(&path, None, &mut |_, _| {}).unwrap().ok());
    }
}
