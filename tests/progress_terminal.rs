//! Long operations show progress on stderr when it is a terminal, and
//! nothing when it is not. The terminal is a real pseudo-terminal (util-linux
//! `script`); `TRUSTLOG_PROGRESS_AFTER_MS=0` drops the half-second delay
//! before the first line so that a small journal is enough.

mod common;

use common::*;

const NOW_FAST: [(&str, &str); 1] = [("TRUSTLOG_PROGRESS_AFTER_MS", "0")];

fn journal() -> Tl {
    let t = Tl::new();
    t.ok(&["client", "add", "acme"]);
    t.ok(&["talk", "acme", "--mood", "1", "first call"]);
    t.ok(&["promise", "make", "acme", "a report", "--due", "2026-12-01"]);
    t
}

/// The progress line was drawn, then erased before the command's output.
fn drawn_and_erased(tty: &str, what: &str) {
    let line = format!("trustlog: {what}… 100%");
    let at = tty
        .find(&line)
        .unwrap_or_else(|| panic!("no {line:?} on the terminal: {tty:?}"));
    assert!(
        tty[at..].contains("\r\x1b[K"),
        "the progress line is not erased: {tty:?}"
    );
}

/// Runs `trustlog <cmd>` with stderr a pipe (and the delay dropped): it
/// must succeed with nothing on stderr.
fn piped_quietly(t: &Tl, cmd: &str) -> Output {
    let mut piped = t.command();
    piped
        .envs(NOW_FAST)
        .arg("--journal")
        .arg(&t.journal)
        .arg(cmd);
    let out = output(piped);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "", "nothing on stderr in a pipe");
    out
}

#[test]
fn verify_shows_progress_only_on_a_terminal() {
    let t = journal();
    let out = piped_quietly(&t, "verify");
    // In a pipe, the answer is exactly what it is without progress at all
    // (the delay never passes): nothing of the progress line leaks into it.
    let plain = t.ok(&["verify"]);
    assert_eq!(out.stdout, plain.stdout);
    assert!(out.stdout.contains("ok"), "{out:?}");
    let Some(tty) = on_a_terminal(&t, "verify", &NOW_FAST) else {
        return;
    };
    drawn_and_erased(&tty, "verifying");
    // The command's own answer follows, whole.
    assert!(tty.contains("ok"), "{tty:?}");
}

#[test]
fn verify_shows_nothing_below_the_delay() {
    let t = journal();
    let Some(tty) = on_a_terminal(&t, "verify", &[("TRUSTLOG_PROGRESS_AFTER_MS", "600000")]) else {
        return;
    };
    assert!(!tty.contains("verifying"), "{tty:?}");
}

#[test]
fn a_cold_query_shows_the_replay_only_on_a_terminal() {
    let t = journal();
    // No checkpoint: the query folds the whole journal.
    piped_quietly(&t, "status");
    let Some(tty) = on_a_terminal(&t, "status", &NOW_FAST) else {
        return;
    };
    drawn_and_erased(&tty, "replaying the journal");
    assert!(tty.contains("acme"), "{tty:?}");
}

#[test]
fn import_shows_its_check_only_on_a_terminal() {
    let t = journal();
    let file = t.dir.path().join("events.jsonl");
    std::fs::write(&file, t.ok(&["export"]).stdout).expect("write the export");
    let args = format!("import '{}'", file.display());

    // Into a second journal, through a pipe.
    let piped_into = Tl::new();
    let mut piped = piped_into.command();
    piped
        .envs(NOW_FAST)
        .arg("--journal")
        .arg(&piped_into.journal)
        .args(["import".as_ref(), file.as_os_str()]);
    let out = output(piped);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "", "nothing on stderr in a pipe");
    assert_eq!(piped_into.replay().len(), 3, "{out:?}");

    // Into a third, on a terminal.
    let on_tty = Tl::new();
    let Some(tty) = on_a_terminal(&on_tty, &args, &NOW_FAST) else {
        return;
    };
    drawn_and_erased(&tty, "checking the import");
    // The command's own report follows, whole.
    let piped_report = out.stdout.trim_end();
    assert!(
        !piped_report.is_empty(),
        "import printed no report: {out:?}"
    );
    for line in piped_report.lines() {
        assert!(
            tty.contains(line),
            "{line:?} is not on the terminal: {tty:?}"
        );
    }
    assert_eq!(on_tty.replay().len(), 3, "{tty:?}");
}
