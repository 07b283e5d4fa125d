//! Pictures on a terminal: `audit` draws the on-time rate by month and
//! `trust --history` the trust curve, only when stdout is a terminal. The
//! terminal is a real pseudo-terminal from util-linux `script`; without it
//! the test is skipped loudly, except under CI=true, where it fails.

mod common;

use common::*;

fn journal() -> Tl {
    let mut t = Tl::new();
    #[rustfmt::skip]
    let steps: &[(&str, &[&str])] = &[
        ("2026-09-01T09:00", &["client", "add", "acme"]),
        ("2026-09-01T10:00", &["talk", "acme", "--mood", "2", "--minutes", "30"]),
        ("2026-09-02T09:00", &["promise", "make", "acme", "one", "--due", "2026-09-10"]),
        ("2026-09-02T09:01", &["promise", "make", "acme", "two", "--due", "2026-09-20"]),
        ("2026-09-02T09:02", &["promise", "make", "acme", "three", "--due", "2026-10-05"]),
        ("2026-09-09T09:00", &["promise", "keep", "1"]),
        ("2026-09-25T09:00", &["promise", "keep", "2"]),
        ("2026-10-06T09:00", &["promise", "keep", "3"]),
    ];
    for (now, args) in steps {
        t.now = now.to_string();
        t.ok(args);
    }
    t.now = NOW.to_string();
    t
}

#[test]
fn audit_draws_the_on_time_rate_by_month_only_on_a_terminal() {
    let t = journal();
    let piped = t.ok(&["audit"]).stdout;
    assert!(!piped.contains("by month"), "no picture in a pipe: {piped}");
    assert!(!piped.contains('█'));
    // Without colour (tests/colour.rs has it), so that the lines compare
    // with the pipe's.
    let Some(tty) = on_a_terminal(&t, "audit", &[("NO_COLOR", "1")]).map(|o| o.replace('\r', ""))
    else {
        return;
    };
    assert!(
        tty.contains("kept as originally promised, by month of the original due:"),
        "{tty}"
    );
    // September: two promises, one on time; October: one, late.
    let sep = tty
        .lines()
        .find(|l| l.starts_with("2026-09  "))
        .expect("a September bar");
    assert!(
        sep.contains("██████████░░░░░░░░░░") && sep.contains("50%  1 of 2"),
        "{sep}"
    );
    let oct = tty
        .lines()
        .find(|l| l.starts_with("2026-10  "))
        .expect("an October bar");
    assert!(
        oct.contains("░░░░░░░░░░░░░░░░░░░░") && oct.contains("0%  0 of 1"),
        "{oct}"
    );
    // Everything else is as in a pipe.
    for line in piped.lines() {
        assert!(tty.contains(line), "missing on the terminal: {line}");
    }
}

#[test]
fn trust_history_draws_the_curve_only_on_a_terminal() {
    let t = journal();
    let piped = t.ok(&["trust", "acme", "--history"]).stdout;
    assert!(!piped.contains("100 ┤"), "{piped}");
    let Some(tty) = on_a_terminal(&t, "trust acme --history", &[]).map(|o| o.replace('\r', ""))
    else {
        return;
    };
    assert!(tty.contains("100 ┤") && tty.contains("  0 ┤"), "{tty}");
}
