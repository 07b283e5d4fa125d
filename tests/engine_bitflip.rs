//! Every single-bit flip in a small journal is found by `verify`
//! (absolute consistency) at the right place: the offset of the record
//! holding the flipped bit, or offset 0 for the file header.
//!
//! Classification nuances, pinned here on purpose:
//! - A flip in the 8-byte magic is header damage at offset 0, like any
//!   other header flip (issue 15.6): the header's CRC matches once the true
//!   magic is put back, so the damage is in the magic, and the file is a
//!   journal. Only a file with no trustlog structure is "not a journal".
//! - Any other header flip (version, id, time, reserved, CRC) fails the
//!   header checksum: one `header` finding at offset 0. A flipped version
//!   is damage, not a "future format": putting version 1 back makes the
//!   CRC match (docs/format.md, "File header").
//! - A flip in any record but the last is `checksum` damage — or `length`
//!   damage when it hits the length field and the length runs past the end
//!   of the file or above the maximum — at that record's offset, and the
//!   scan resumes at the next record.
//! - A flip in the LAST record is classified `torn_tail` at that record's
//!   offset: no intact frame follows it, and a crash can leave exactly such
//!   bytes (a prefix of the write filled with garbage). Still the right
//!   offset, still not ok. The consequence in tolerate-corrupted-tail mode
//!   (normal reads) is that bit rot in the last record reads as a clean end
//!   of the log, and the next writer cuts that record aside into a side
//!   file (and says so) — the LevelDB/RocksDB rule, documented in
//!   docs/format.md.

#[path = "common/engine.rs"]
mod engine;

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;

use trustlog::log::format::{FRAME_LEN, F_LEN, HEADER_LEN};
use trustlog::log::scan::DamageKind;
use trustlog::log::{for_each_record, verify, LogError};

use engine::{journal_bytes, payloads};

const RECORDS: usize = 5;

#[test]
fn every_single_bit_flip_is_reported_at_the_right_offset() {
    let ps = payloads(RECORDS);
    let (bytes, offsets) = journal_bytes(&ps);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    fs::write(&path, &bytes).unwrap();
    let clean = verify(&path, None, &mut |_, _| {}).unwrap();
    assert!(clean.ok() && clean.records == RECORDS as u64, "{clean:?}");

    let file = OpenOptions::new().write(true).open(&path).unwrap();
    let mut flips = 0;
    for (i, &orig) in bytes.iter().enumerate() {
        // The record holding byte i (None: the header).
        let rec = offsets.iter().rposition(|&o| o as usize <= i);
        let want_offset = rec.map(|r| offsets[r]).unwrap_or(0);
        let last = rec == Some(RECORDS - 1);
        for bit in 0..8 {
            let ctx = format!("byte {i} bit {bit}");
            file.write_all_at(&[bytes[i] ^ (1 << bit)], i as u64)
                .unwrap();

            match verify(&path, None, &mut |_, _| {}) {
                Err(e) => panic!("{ctx}: verify failed: {e}"),
                Ok(r) => {
                    assert!(!r.ok(), "{ctx}: verify says ok");
                    assert_eq!(r.damage.len(), 1, "{ctx}: {:?}", r.damage);
                    let d = r.damage[0];
                    assert_eq!(d.offset, want_offset, "{ctx}: {d:?}");
                    match rec {
                        None => {
                            assert_eq!((d.kind, d.seq), (DamageKind::Header, None), "{ctx}");
                            assert_eq!(r.records, RECORDS as u64, "{ctx}");
                        }
                        Some(k) => {
                            assert_eq!(d.seq, Some(k as u64 + 1), "{ctx}");
                            let in_len_field =
                                (F_LEN..F_LEN + 4).contains(&(i - offsets[k] as usize));
                            let kind_ok = if last {
                                d.kind == DamageKind::TornTail
                            } else if in_len_field {
                                matches!(d.kind, DamageKind::Checksum | DamageKind::Length)
                            } else {
                                d.kind == DamageKind::Checksum
                            };
                            assert!(kind_ok, "{ctx}: kind {:?}", d.kind);
                            // Every other record is still read.
                            assert_eq!(r.records, RECORDS as u64 - 1, "{ctx}");
                        }
                    }
                }
            }

            // Normal reads (tolerate-corrupted-tail) stop at inner damage
            // with its offset and seq; damage in the last record is a torn
            // tail to them (see the module comment).
            let mut seen = 0;
            let read = for_each_record(&path, |_, _| {
                seen += 1;
                Ok(())
            });
            match rec {
                Some(k) if !last => match read {
                    Err(LogError::Damaged { offset, seq, .. }) => {
                        assert_eq!((offset, seq), (want_offset, Some(k as u64 + 1)), "{ctx}");
                        assert_eq!(seen, k, "{ctx}: records before the damage");
                    }
                    other => panic!("{ctx}: inner damage not reported: {other:?}"),
                },
                Some(_) => {
                    assert!(read.is_ok(), "{ctx}: {read:?}");
                    assert_eq!(seen, RECORDS - 1, "{ctx}");
                }
                None => assert!(
                    matches!(read, Err(LogError::HeaderDamaged(_))),
                    "{ctx}: {read:?}"
                ),
            }

            file.write_all_at(&[orig], i as u64).unwrap();
            flips += 1;
        }
    }
    assert_eq!(flips, bytes.len() * 8);
    assert!(bytes.len() > HEADER_LEN + RECORDS * FRAME_LEN);
    // The file is back to its original bytes and verifies clean.
    assert_eq!(fs::read(&path).unwrap(), bytes);
    assert!(verify(&path, None, &mut |_, _| {}).unwrap().ok());
}

/// `verify --head D` with a digest from the middle of the chain proves the
/// prefix; after a flip inside that prefix it no longer does.
#[test]
fn a_flip_before_a_known_head_breaks_the_proof() {
    let ps = payloads(RECORDS);
    let (bytes, offsets) = journal_bytes(&ps);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    fs::write(&path, &bytes[..offsets[3] as usize]).unwrap();
    let (seq, head) = trustlog::log::head(&path).unwrap();
    assert_eq!(seq, 3);
    fs::write(&path, &bytes).unwrap();
    let r = verify(&path, Some(&head), &mut |_, _| {}).unwrap();
    assert_eq!(r.head_found, Some(true));
    assert!(r.ok());

    let mut flipped = bytes.clone();
    flipped[offsets[1] as usize + FRAME_LEN] ^= 0x10; // record 2's payload
    fs::write(&path, &flipped).unwrap();
    let r = verify(&path, Some(&head), &mut |_, _| {}).unwrap();
    assert_eq!(r.head_found, Some(false));
    assert!(!r.ok());
}

/// Issue 15.6, through the real binary: every single-bit flip of the magic
/// of a journal the binary wrote is damage at offset 0 (exit 3 from
/// `verify`, which still reads every record, and from a normal read), not
/// "not a trustlog journal" (exit 1). The file is never modified.
#[test]
fn every_flip_of_the_magic_is_damage_at_offset_0_through_the_binary() {
    use engine::run_bin;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.tlog");
    for args in [
        &["client", "add", "acme"][..],
        &["talk", "acme", "kick-off call"],
    ] {
        let (code, _, err) = run_bin(&path, args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    let bytes = fs::read(&path).unwrap();
    for i in 0..8 {
        for bit in 0..8 {
            let ctx = format!("magic byte {i} bit {bit}");
            let mut flipped = bytes.clone();
            flipped[i] ^= 1 << bit;
            fs::write(&path, &flipped).unwrap();

            let (code, out, err) = run_bin(&path, &["verify", "--json"]);
            assert_eq!(code, 3, "{ctx}: verify exit {code}: {out}{err}");
            let v: serde_json::Value = serde_json::from_str(&out).expect("verify --json");
            let damage = v["damage"].as_array().expect("damage list");
            assert_eq!(damage.len(), 1, "{ctx}: {v}");
            assert_eq!(
                (&damage[0]["offset"], &damage[0]["kind"]),
                (&serde_json::json!(0), &serde_json::json!("header")),
                "{ctx}: {v}"
            );
            assert_eq!(v["records"], 2, "{ctx}: the records are still read: {v}");

            let (code, _, err) = run_bin(&path, &["log"]);
            assert_eq!(code, 3, "{ctx}: log exit {code}: {err}");
            assert!(err.contains("offset 0"), "{ctx}: {err}");
            assert!(!err.contains("not a trustlog journal"), "{ctx}: {err}");
            assert_eq!(fs::read(&path).unwrap(), flipped, "{ctx}: modified");
        }
    }
}
