//! `import` reads its input as a stream with bounds (issue 15.13): a line
//! longer than `MAX_LINE` (the longest line `export` can write for one
//! event) is rejected by number with the limit, and the input is not read
//! past it; after `MAX_REJECTED` rejected lines the input is not read
//! further. Either way nothing is written: the journal stays
//! byte-identical, or is not created. (That the rest of a long line is
//! never read is checked with a reader that counts bytes, in
//! `app::import`'s unit tests: no memory figures here.)

mod common;

use std::fs;

use common::*;
use serde_json::Value;
use trustlog::app::import::{MAX_LINE, MAX_REJECTED};

/// A journal with a few events, and its export as JSON lines.
fn source() -> (Tl, String) {
    let mut t = Tl::new();
    t.now = "2026-11-01T09:00".into();
    t.ok(&["client", "add", "acme"]);
    for i in 0..40 {
        t.now = format!("2026-11-02T09:{i:02}");
        t.ok(&["talk", "acme", &format!("call {i}")]);
    }
    t.now = NOW.into();
    let export = t.ok(&["export", "--format", "jsonl"]).stdout;
    (t, export)
}

/// A target journal with one client of its own.
fn target() -> Tl {
    let mut t = Tl::new();
    t.now = "2026-10-01T09:00".into();
    t.ok(&["client", "add", "zeta"]);
    t.now = NOW.into();
    t
}

#[test]
fn a_line_over_the_limit_is_refused_by_number_and_nothing_is_written() {
    let (_src, export) = source();
    let good_lines = export.lines().count();
    assert_eq!(good_lines, 41);
    // Every good line, then one a byte over the limit (and more after it,
    // which are not read).
    let mut file = export.clone().into_bytes();
    file.extend(std::iter::repeat_n(b'a', MAX_LINE + 1));
    file.extend_from_slice(b"\nnot json either\n");
    for existing in [true, false] {
        let t = if existing { target() } else { Tl::new() };
        let before = t.bytes();
        let f = t.dir.path().join("in.jsonl");
        fs::write(&f, &file).unwrap();
        let out = t.run(&["import", f.to_str().unwrap()]);
        let what = format!("existing journal: {existing}: {out:?}");
        assert_eq!(out.code, 1, "{what}");
        let want = format!("line {}: is longer than {MAX_LINE} bytes", good_lines + 1);
        assert!(out.stderr.contains(&want), "expected {want:?}: {what}");
        assert!(out.stderr.contains("the journal is unchanged"), "{what}");
        assert!(
            !out.stderr.contains(&format!("line {}:", good_lines + 2)),
            "the line after it is not read: {what}"
        );
        assert_eq!(t.bytes(), before, "nothing written: {what}");
    }
    // A line of exactly the limit is read (and refused for what it says),
    // and the reading goes on after it.
    let t = target();
    let before = t.bytes();
    let mut file = export.into_bytes();
    file.extend(std::iter::repeat_n(b'a', MAX_LINE));
    file.extend_from_slice(b"\nnot json either\n");
    let f = t.dir.path().join("in.jsonl");
    fs::write(&f, &file).unwrap();
    let out = t.run(&["import", f.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!out.stderr.contains("longer than"), "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("line {}: is not JSON", good_lines + 1))
            && out
                .stderr
                .contains(&format!("line {}: is not JSON", good_lines + 2)),
        "{out:?}"
    );
    assert_eq!(t.bytes(), before);
}

#[test]
fn a_file_of_garbage_is_refused_without_being_read_to_its_end() {
    let t = target();
    let before = t.bytes();
    let lines = 20 * MAX_REJECTED;
    let garbage = "garbage, not an export\n".repeat(lines);
    let f = t.dir.path().join("garbage.txt");
    fs::write(&f, &garbage).unwrap();
    for format in ["jsonl", "taskwarrior"] {
        let out = t.run(&["import", f.to_str().unwrap(), "--format", format, "--json"]);
        assert_eq!(out.code, 1, "{format}: {out:?}");
        let v: Value = serde_json::from_str(out.stdout.trim()).expect("--json report");
        let rejections = v["rejections"].as_array().unwrap();
        assert_eq!(rejections.len(), MAX_REJECTED + 1, "{format}");
        let last = &rejections[MAX_REJECTED];
        assert_eq!(last["line"], MAX_REJECTED + 1, "{format}: {last}");
        assert!(
            last["reason"]
                .as_str()
                .unwrap()
                .contains("not read further"),
            "{format}: {last}"
        );
        // People see why the list ends: the stop is not hidden among the
        // rejections left out of the message.
        let human = t.run(&["import", f.to_str().unwrap(), "--format", format]);
        assert_eq!(human.code, 1, "{format}: {human:?}");
        assert!(
            human.stderr.contains("not read further"),
            "{format}: {human:?}"
        );
        assert_eq!(t.bytes(), before, "{format}");
    }
}

#[test]
fn a_taskwarrior_task_over_the_limit_is_refused() {
    let t = target();
    let before = t.bytes();
    let mut file = b"[{\"uuid\":\"u\",\"description\":\"".to_vec();
    file.extend(std::iter::repeat_n(b'a', MAX_LINE));
    file.extend_from_slice(b"\"}]");
    let f = t.dir.path().join("tasks.json");
    fs::write(&f, &file).unwrap();
    let out = t.run(&["import", f.to_str().unwrap(), "--format", "taskwarrior"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("task #1: is longer than {MAX_LINE} bytes")),
        "{out:?}"
    );
    assert_eq!(t.bytes(), before);
}
