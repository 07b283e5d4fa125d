//! Issue 15.4: damage inside the last record reads as a torn tail (no
//! reader can tell the two apart). Queries still answer without it, exit
//! 0, but say so: one line on stderr with its offset and size and what to
//! run; answered from a checkpoint too (the tail after it is read anyway).

mod common;

use common::{Output, Tl};

fn run(tl: &Tl, every: &str, args: &[&str]) -> Output {
    let mut c = tl.query_command();
    c.env("TRUSTLOG_CHECKPOINT_BYTES", every)
        .arg("--journal")
        .arg(&tl.journal)
        .args(args);
    common::output(c)
}

const QUERIES: &[&[&str]] = &[
    &["status", "--json"],
    &["status"],
    &["due", "--json"],
    &["audit", "--json"],
    &["trust", "acme", "--json"],
    &["postmortem", "acme", "--json"],
    &["log", "--json"],
    &["log"],
    &["export"],
];

/// A journal whose last record has a byte flipped inside it; a copy cut
/// just before that record (what every query must answer); the offset
/// and length of the record. `checkpoint`: a checkpoint written before the
/// last record.
fn damaged_last_record(checkpoint: bool) -> (Tl, Tl, u64, u64) {
    let tl = Tl::new();
    for args in [
        &["client", "add", "acme"][..],
        &["promise", "make", "acme", "logo", "--due", "2026-11-25"],
        &["talk", "acme", "--mood", "2", "kick-off"],
        &["promise", "keep", "1"],
    ] {
        let o = run(&tl, "0", args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
    }
    if checkpoint {
        run(&tl, "1", &["status"]);
        assert!(trustlog::app::checkpoint::path_for(&tl.journal).exists());
    }
    let cut = std::fs::metadata(&tl.journal).unwrap().len();
    let o = run(
        &tl,
        "1000000000",
        &["talk", "acme", "--mood", "-1", "late reply"],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let mut bytes = std::fs::read(&tl.journal).unwrap();
    let len = bytes.len() as u64 - cut;
    let plain = Tl::new();
    std::fs::write(&plain.journal, &bytes[..cut as usize]).unwrap();
    // A flip in the payload of the acknowledged last record.
    let at = bytes.len() - 5;
    bytes[at] ^= 0x10;
    std::fs::write(&tl.journal, &bytes).unwrap();
    (tl, plain, cut, len)
}

fn assert_every_query_answers_and_says_so(tl: &Tl, plain: &Tl, offset: u64, len: u64) {
    for q in QUERIES {
        let want = run(plain, "0", q);
        assert_eq!(
            (want.code, want.stderr.as_str()),
            (0, ""),
            "{q:?}: {want:?}"
        );
        let got = run(tl, "1000000000", q);
        assert_eq!(got.code, 0, "{q:?}: {got:?}");
        assert_eq!(got.stdout, want.stdout, "{q:?}: the answer without it");
        let line = got.stderr.trim_end();
        assert_eq!(got.stderr.lines().count(), 1, "{q:?}: one line: {got:?}");
        assert!(
            line.contains(&format!("{len} bytes at offset {offset}"))
                && line.contains("run `trustlog verify`"),
            "{q:?}: {line}"
        );
    }
}

#[test]
fn regression_15_4_a_damaged_last_record_is_reported_by_every_query() {
    let (tl, plain, offset, len) = damaged_last_record(false);
    assert_every_query_answers_and_says_so(&tl, &plain, offset, len);
}

#[test]
fn regression_15_4_queries_answered_from_a_checkpoint_report_it_too() {
    let (tl, plain, offset, len) = damaged_last_record(true);
    assert_every_query_answers_and_says_so(&tl, &plain, offset, len);
}

#[test]
fn a_clean_journal_gets_no_such_line() {
    let (_, plain, _, _) = damaged_last_record(false);
    for q in QUERIES {
        let o = run(&plain, "1", q);
        assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{q:?}: {o:?}");
    }
}
