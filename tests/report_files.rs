//! `report --html` and the files around it, through the real binary:
//! - a read of the journal that fails (EIO injected by `strace` into each
//!   `pread64` of the journal in turn) fails the report: exit 1, the
//!   journal and the failure named, the old report untouched, no temp file
//!   left; a run that is not hit writes the whole page, footer included
//!   (issue 15.5);
//! - what is at the `--html` path: a regular file is replaced, a symbolic
//!   link to one writes through (the link stays), anything else — a FIFO,
//!   a directory, a socket, a device node, a link to one or to nothing —
//!   is refused, exit 1, left as it was (issue 15.9).
//!
//! The strace test is skipped, loudly, only when strace is missing and `CI`
//! is unset; under CI a missing strace fails.

mod common;
#[path = "common/strace.rs"]
mod strace;

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use trustlog::events::{codec, Envelope, Event, InteractionKind, Party};
use trustlog::log::JournalWriter;

/// A journal with a lost client (so the report makes its post-mortem
/// pass), a retraction that reaches back (so the fold folds again), and
/// enough events after them (over 2 MiB) that the replay reads on a
/// second thread.
fn journal() -> Tl {
    let mut t = Tl::new();
    #[rustfmt::skip]
    let steps: &[(&str, &[&str])] = &[
        ("2026-09-01T09:00", &["client", "add", "acme"]),
        ("2026-09-01T10:00", &["talk", "acme", "--mood", "-1", "a rough start"]),
        ("2026-09-02T09:00", &["promise", "make", "acme", "logo", "--due", "2026-09-10"]),
        ("2026-09-03T09:00", &["talk", "acme", "a typo"]),
        ("2026-09-09T09:00", &["promise", "keep", "1"]),
        ("2026-09-10T09:00", &["retract", "4", "--reason", "typo"]),
        ("2026-10-10T09:00", &["client", "lost", "acme", "--reason", "went elsewhere"]),
        ("2026-10-11T09:00", &["client", "add", "globex"]),
    ];
    for (now, args) in steps {
        t.now = now.to_string();
        t.ok(args);
    }
    t.now = NOW.to_string();
    let last = t.replay().last().map(|e| e.seq).unwrap();
    let start = ts("2026-10-12T09:00").0;
    let payloads: Vec<Vec<u8>> = (0..20_000u64)
        .map(|i| {
            let at = trustlog::events::Timestamp(start + i as i64 * 60_000_000);
            codec::encode(&Envelope {
                seq: last + 1 + i,
                recorded_at: at,
                occurred_at: at,
                author: AUTHOR.into(),
                event: Event::Interacted {
                    client: "globex".into(),
                    kind: InteractionKind::Other,
                    mood: (i % 5) as i8 - 2,
                    minutes: None,
                    initiated_by: Party::Us,
                    note: format!("call number {i} about the brochure, the site and the invoice"),
                },
            })
            .unwrap()
        })
        .collect();
    let mut w = JournalWriter::open(&t.journal, start, Duration::from_secs(5)).unwrap();
    w.append_batch(payloads.iter().map(Vec::as_slice)).unwrap();
    drop(w);
    // Past `THREAD_MIN_BYTES` (2 MiB) of app::replay.
    assert!(fs::metadata(&t.journal).unwrap().len() > 2 << 20);
    t
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// See `common/strace.rs`.
fn strace_available() -> Option<()> {
    strace::strace_available("the report read-fault tests")
}

#[test]
fn a_failed_read_of_the_journal_fails_the_report_and_leaves_the_old_one() {
    let Some(()) = strace_available() else { return };
    let t = journal();
    let out = t.dir.path().join("report.html");
    let journal = t.journal.canonicalize().unwrap();
    let head = t.ok(&["head"]).stdout;
    let digest = head
        .split_whitespace()
        .nth(1)
        .expect("head digest")
        .to_string();
    // Only the journal's own reads are counted and hit (-P): not the
    // loader's, not the config file's.
    let run = |n: usize| {
        let mut c = Command::new("strace");
        c.args(["-f", "-o", "/dev/null", "-P"])
            .arg(&journal)
            .args(["-e", "trace=pread64", "-e"])
            .arg(format!("inject=pread64:error=EIO:when={n}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_trustlog"))
            .current_dir(t.dir.path())
            .env_remove("TRUSTLOG_FILE")
            .env("TRUSTLOG_NOW", NOW)
            .env("TRUSTLOG_AUTHOR", AUTHOR)
            .env("TZ", "UTC")
            .env("HOME", t.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", t.dir.path().join("home/.config"))
            .arg("--journal")
            .arg(&journal)
            .args(["report", "--html"])
            .arg(&out)
            .stdin(Stdio::null());
        output(c)
    };
    // The n-th read of the journal fails, for n = 1, 2, … until a run
    // reads less than n times and so is not hit.
    for n in 1..=500 {
        fs::write(&out, "the old report").unwrap();
        let before = listing(t.dir.path());
        let o = run(n);
        if o.code == 0 {
            // Not hit: the whole page, with the head digest in the footer.
            let html = fs::read_to_string(&out).unwrap();
            assert!(
                html.contains(&format!("trustlog verify --head {digest}")),
                "read #{n} not hit, yet the footer lacks the head digest: {o:?}"
            );
            assert!(html.ends_with("</html>\n"));
            let failed = n - 1;
            assert!(
                failed >= 4,
                "only {failed} reads were hit: the test is not testing"
            );
            eprintln!("{failed} reads of the journal were hit, one per run");
            return;
        }
        let what = format!("EIO on read #{n} of the journal: {o:?}");
        assert_eq!(o.code, 1, "{what}");
        assert!(o.stdout.is_empty(), "{what}");
        assert!(
            o.stderr.contains(journal.to_str().unwrap()) && o.stderr.contains("Input/output error"),
            "the journal and the failure are named: {what}"
        );
        assert_eq!(
            fs::read_to_string(&out).unwrap(),
            "the old report",
            "the old report is untouched: {what}"
        );
        assert_eq!(listing(t.dir.path()), before, "no temp file left: {what}");
    }
    panic!("every run of 500 was hit: the report reads the journal more often than expected");
}

/// `report --html <path>`: the run's output, and what `path` is after.
fn report_to(t: &Tl, path: &Path) -> Output {
    t.run(&["report", "--html", path.to_str().unwrap()])
}

fn assert_refused(t: &Tl, path: &Path, fragment: &str) {
    let o = report_to(t, path);
    assert_eq!(o.code, 1, "{}: {o:?}", path.display());
    assert!(o.stdout.is_empty(), "{o:?}");
    assert!(
        o.stderr.contains(fragment) && o.stderr.contains("expected a"),
        "expected {fragment:?} in {o:?}"
    );
}

#[test]
fn what_is_not_a_regular_file_at_the_report_path_is_refused_and_left_alone() {
    let mut t = Tl::new();
    t.now = "2026-11-01T09:00".into();
    t.ok(&["client", "add", "acme"]);
    t.now = NOW.into();
    let dir = t.dir.path().to_path_buf();

    // A FIFO (what /dev/full or /dev/null would be replaced like).
    let fifo = dir.join("pipe");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    assert_refused(&t, &fifo, "is a FIFO (named pipe)");
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());

    // A socket.
    let sock = dir.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    assert_refused(&t, &sock, "is a socket");
    assert!(fs::symlink_metadata(&sock).unwrap().file_type().is_socket());

    // A directory.
    let sub = dir.join("sub");
    fs::create_dir(&sub).unwrap();
    let o = report_to(&t, &sub);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("is a directory"), "{o:?}");
    assert!(
        fs::read_dir(&sub).unwrap().next().is_none(),
        "nothing put in it"
    );

    // A character device node like /dev/null (1, 3), where mknod is
    // allowed (root): made in the temp dir, never the real one.
    let dev = dir.join("null");
    // SAFETY: a NUL-terminated path and plain integer arguments.
    let made = unsafe {
        let p = std::ffi::CString::new(dev.to_str().unwrap()).unwrap();
        libc::mknod(p.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3))
    } == 0;
    if made {
        assert_refused(&t, &dev, "is a character device");
        assert!(fs::symlink_metadata(&dev)
            .unwrap()
            .file_type()
            .is_char_device());
    } else {
        eprintln!("(mknod not allowed here: the device node case did not run)");
    }
    // The real /dev/full, which the report must not even open for
    // writing: looked at only, and still a character device after.
    let full = Path::new("/dev/full");
    if fs::symlink_metadata(full).is_ok_and(|m| m.file_type().is_char_device()) {
        assert_refused(&t, full, "is a character device");
        assert!(fs::symlink_metadata(full)
            .unwrap()
            .file_type()
            .is_char_device());
    }

    // Links: to a FIFO, to nothing.
    let to_fifo = dir.join("to-pipe");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    assert_refused(&t, &to_fifo, "which is a FIFO (named pipe)");
    assert!(fs::symlink_metadata(&to_fifo)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("nowhere.html"), &dangling).unwrap();
    assert_refused(
        &t,
        &dangling,
        "is a symbolic link to a file that does not exist",
    );
    assert!(!dir.join("nowhere.html").exists());
    assert!(fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());

    // A link to the journal, and another hard link of it.
    let to_journal = dir.join("to-journal");
    std::os::unix::fs::symlink(&t.journal, &to_journal).unwrap();
    let hard = dir.join("hard");
    fs::hard_link(&t.journal, &hard).unwrap();
    let before = t.bytes().unwrap();
    for p in [&to_journal, &hard] {
        let o = report_to(&t, p);
        assert_eq!(o.code, 1, "{o:?}");
        assert!(o.stderr.contains("is the journal itself"), "{o:?}");
    }
    assert_eq!(t.bytes().unwrap(), before);
    assert!(!listing(&dir)
        .iter()
        .any(|n| n.starts_with(".trustlog-report-")));
}

#[test]
fn a_link_to_a_regular_file_writes_through_and_the_link_stays() {
    let mut t = Tl::new();
    t.now = "2026-11-01T09:00".into();
    t.ok(&["client", "add", "acme"]);
    t.now = NOW.into();
    let dir = t.dir.path();
    let shared = dir.join("shared");
    fs::create_dir(&shared).unwrap();
    let real = shared.join("report.html");
    fs::write(&real, "the old report").unwrap();
    let link = dir.join("latest.html");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = report_to(&t, &link);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays"
    );
    assert_eq!(fs::read_link(&link).unwrap(), real, "pointing where it did");
    let html = fs::read_to_string(&real).unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "the file it points at is the report"
    );
    // The temp file was made next to the file replaced, and is gone.
    assert_eq!(listing(&shared), ["report.html"]);
    assert!(!listing(dir)
        .iter()
        .any(|n| n.starts_with(".trustlog-report-")));
    // A plain file is replaced as before.
    let plain = dir.join("plain.html");
    fs::write(&plain, "old").unwrap();
    assert_eq!(report_to(&t, &plain).code, 0);
    assert_eq!(fs::read_to_string(&plain).unwrap(), html);
}
