//! Issue 15.8: a stdout that cannot be written is an exit code and one
//! line on stderr, never a panic. Through the real binary: every command
//! with stdout on /dev/full (ENOSPC) exits 1; a recording command whose
//! event was appended says it *was* recorded (its seq) and exits 4, so a
//! script can tell it from "nothing recorded" and does not record it
//! twice; a query whose reader went away (`trustlog log | head`) exits 141
//! without a word.

mod common;

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use common::*;
use trustlog::events::{codec, Envelope, Event, InteractionKind, Party, Timestamp};
use trustlog::log::{JournalWriter, DEFAULT_LOCK_WAIT};

/// A small journal every query has something to say about: a lost client
/// (post-mortem), a promise (due, audit), talks (trust history).
fn journal() -> Tl {
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&["client", "add", "acme", "--name", "Acme Ltd"])
        .cmd(&["promise", "make", "acme", "logo", "--due", "2026-11-25"])
        .cmd(&["talk", "acme", "--mood", "1", "kick-off"])
        .at("2026-11-10T09:00")
        .cmd(&["client", "add", "globex"])
        .cmd(&["client", "lost", "globex", "--reason", "went elsewhere"]);
    s.journal()
}

/// Runs `args` with stdout on /dev/full.
fn to_dev_full(t: &Tl, args: &[&str]) -> Output {
    let full = File::options()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let mut c = t.query_command();
    c.arg("--journal")
        .arg(&t.journal)
        .args(args)
        .stdout(Stdio::from(full));
    output(c)
}

/// Runs `args` with stdout a pipe whose reading end is already closed:
/// the first write fails with EPIPE, whatever the size of the output.
fn to_closed_pipe(t: &Tl, args: &[&str]) -> Output {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: pipe2 succeeded: both descriptors are open and ours alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    let mut c = t.query_command();
    c.arg("--journal")
        .arg(&t.journal)
        .args(args)
        .stdout(Stdio::from(write));
    output(c)
}

fn no_panic(o: &Output, what: &str) {
    assert!(
        !o.stderr.contains("panicked") && !o.stderr.contains("RUST_BACKTRACE"),
        "{what}: panic text on stderr: {o:?}"
    );
}

fn one_line(o: &Output, what: &str) {
    assert_eq!(
        o.stderr.lines().count(),
        1,
        "{what}: expected exactly one line on stderr: {o:?}"
    );
}

/// How many events of the journal are `kind`, as `log --json` shows them.
fn count_kind(t: &Tl, kind: &str) -> usize {
    let v = t.query_json(&["log"]);
    v.as_array()
        .expect("log --json is an array")
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}

#[test]
fn every_command_with_stdout_on_dev_full_exits_1_with_one_line() {
    let t = journal();
    let before = t.bytes();
    #[rustfmt::skip]
    let cases: &[&[&str]] = &[
        &["status"], &["status", "acme"], &["due"], &["audit"], &["audit", "--csv"],
        &["log"], &["trust", "acme"], &["trust", "acme", "--history"],
        &["postmortem", "globex"], &["head"], &["verify"], &["export"],
        &["export", "--format", "csv"], &["completions", "bash"], &["--help"],
        &["status", "--help"], &["--version"], &["man"],
        &["status", "--json"], &["due", "--json"], &["audit", "--json"], &["log", "--json"],
        &["trust", "acme", "--json"], &["postmortem", "globex", "--json"],
        &["head", "--json"], &["verify", "--json"],
    ];
    for args in cases {
        let what = format!("{args:?} > /dev/full");
        let o = to_dev_full(&t, args);
        no_panic(&o, &what);
        assert_eq!(o.code, 1, "{what}: {o:?}");
        one_line(&o, &what);
        assert!(
            o.stderr.starts_with("trustlog: error: ") && o.stderr.contains("stdout"),
            "{what}: the line names the failure: {o:?}"
        );
    }
    assert_eq!(t.bytes(), before, "queries leave the journal alone");
}

/// `report` writes its page to a file and only its one-line summary to
/// stdout; `import` of nothing new prints its report. Neither may panic or
/// exit 0 when that line is lost.
#[test]
fn report_and_import_with_stdout_on_dev_full_exit_1_with_one_line() {
    let t = journal();
    let html = t.dir.path().join("report.html");
    let export = t.dir.path().join("events.jsonl");
    std::fs::write(&export, t.ok(&["export"]).stdout).expect("write the export");
    let (html, export) = (html.to_str().unwrap(), export.to_str().unwrap());
    for args in [&["report", "--html", html][..], &["import", export]] {
        let what = format!("{args:?} > /dev/full");
        let o = to_dev_full(&t, args);
        no_panic(&o, &what);
        assert_eq!(o.code, 1, "{what}: {o:?}");
        one_line(&o, &what);
        assert!(o.stderr.contains("stdout"), "{what}: {o:?}");
    }
}

#[test]
fn a_recording_command_on_dev_full_says_it_was_recorded_and_exits_4() {
    let t = journal();
    #[rustfmt::skip]
    let cases: &[(&[&str], &str)] = &[
        (&["promise", "make", "acme", "brand book", "--due", "2026-12-01"], "PromiseMade"),
        (&["client", "add", "initech"], "ClientAdded"),
        (&["--json", "talk", "acme", "follow-up"], "Interacted"),
    ];
    for (args, kind) in cases {
        let what = format!("{args:?} > /dev/full");
        let n = count_kind(&t, kind);
        let seq = t.replay().len() + 1;
        let o = to_dev_full(&t, args);
        no_panic(&o, &what);
        assert_eq!(o.code, 4, "{what}: {o:?}");
        one_line(&o, &what);
        assert!(
            o.stderr.contains(&format!("recorded as seq {seq},")),
            "{what}: the line names the seq: {o:?}"
        );
        assert_eq!(count_kind(&t, kind), n + 1, "{what}: recorded exactly once");
    }
}

/// A journal with a few thousand events: `log` prints far more than a
/// pipe holds.
fn big_journal() -> Tl {
    let t = Tl::new();
    let mut w = JournalWriter::open(&t.journal, 0, DEFAULT_LOCK_WAIT).expect("open");
    let at = ts("2026-11-01T09:00");
    let mut envs = vec![Envelope {
        seq: 1,
        recorded_at: at,
        occurred_at: at,
        author: AUTHOR.into(),
        event: Event::ClientAdded {
            handle: "acme".into(),
            name: "Acme".into(),
            fit: trustlog::events::Fit::Target,
            note: String::new(),
        },
    }];
    for i in 2..=3000u64 {
        let when = Timestamp(at.0 + i as i64 * 1_000_000);
        envs.push(Envelope {
            seq: i,
            recorded_at: when,
            occurred_at: when,
            author: AUTHOR.into(),
            event: Event::Interacted {
                client: "acme".into(),
                kind: InteractionKind::Call,
                mood: 1,
                minutes: Some(10),
                initiated_by: Party::Us,
                note: format!("call number {i}, long enough to fill a pipe quickly"),
            },
        });
    }
    let bytes: Vec<Vec<u8>> = envs.iter().map(|e| codec::encode(e).unwrap()).collect();
    w.append_batch(bytes.iter().map(Vec::as_slice))
        .expect("append");
    t
}

#[test]
fn a_query_whose_reader_went_away_exits_141_quietly() {
    let t = big_journal();
    for args in [&["log"][..], &["log", "--json"], &["export"], &["status"]] {
        let what = format!("{args:?} | (closed)");
        let o = to_closed_pipe(&t, args);
        assert_eq!(o.code, 141, "{what}: {o:?}");
        assert_eq!(o.stderr, "", "{what}: nothing said");
    }
    // The way it happens in a shell: `trustlog log | head -c 1000`.
    let mut c: Command = t.query_command();
    c.arg("--journal")
        .arg(&t.journal)
        .arg("log")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut head = [0u8; 1000];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut head)
        .expect("the first 1000 bytes");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(141), "log | head: {o:?}");
    assert!(o.stderr.is_empty(), "log | head: {o:?}");
}

#[test]
fn a_recording_command_whose_reader_went_away_exits_4() {
    let t = journal();
    let seq = t.replay().len() + 1;
    let o = to_closed_pipe(&t, &["promise", "make", "acme", "x", "--due", "fri"]);
    assert_eq!(o.code, 4, "{o:?}");
    one_line(&o, "promise make | (closed)");
    assert!(
        o.stderr.contains(&format!("recorded as seq {seq},")),
        "{o:?}"
    );
    assert_eq!(t.replay().len(), seq, "recorded once");
}

/// `trustlog … >&-`: stdout closed before the process starts (the runtime
/// puts /dev/null there, which would swallow a new promise's id).
fn with_stdout_closed(t: &Tl, args: &[&str]) -> Output {
    let mut c = t.query_command();
    c.env_remove("TRUSTLOG_FILE")
        .arg("-c")
        .arg("exec \"$0\" \"$@\" >&-")
        .arg(env!("CARGO_BIN_EXE_trustlog"))
        .arg("--journal")
        .arg(&t.journal)
        .args(args);
    let mut sh = Command::new("sh");
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.current_dir(t.dir.path()).args(c.get_args());
    output(sh)
}

#[test]
fn a_stdout_closed_from_the_start_is_not_a_silent_success() {
    let t = journal();
    let seq = t.replay().len() + 1;
    let o = with_stdout_closed(&t, &["promise", "make", "acme", "x", "--due", "fri"]);
    assert_eq!(o.code, 4, "promise make >&-: {o:?}");
    one_line(&o, "promise make >&-");
    assert!(
        o.stderr.contains(&format!("recorded as seq {seq},")),
        "{o:?}"
    );
    assert_eq!(t.replay().len(), seq, "recorded once");
    let o = with_stdout_closed(&t, &["status"]);
    assert_eq!(o.code, 1, "status >&-: {o:?}");
    one_line(&o, "status >&-");
    // A command that fails before writing says why, as always.
    let o = with_stdout_closed(&t, &["promise", "make", "nobody", "x", "--due", "fri"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("unknown client \"nobody\""), "{o:?}");
}
