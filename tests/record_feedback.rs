//! What `promise make` and `promise keep` say (issue 12.2): on a terminal,
//! what was promised, for whom, and whether it was kept on time against
//! the ORIGINAL due; in a pipe the same bytes as always (`id=$(…)`).

mod common;

use common::{on_a_terminal, Tl};

/// acme, and promise 1 "logo" due (date only) on the day of `due`, made
/// on 2026-11-16; the clock is then the usual 2026-11-20T10:00.
fn acme(due: &str) -> Tl {
    let mut t = Tl::new();
    t.set_now("2026-11-16T09:00");
    t.ok(&["client", "add", "acme", "--name", "Acme Ltd"]);
    t.ok(&["promise", "make", "acme", "logo", "--due", due]);
    t.set_now(common::NOW);
    t
}

/// The terminal's text without the `\r` of its line ends.
fn shown(s: String) -> String {
    s.replace('\r', "")
}

#[test]
fn make_in_a_pipe_prints_the_bare_id_and_on_a_terminal_says_what_and_when() {
    let t = acme("2026-11-27");
    // In a pipe: the id alone, for `id=$(trustlog promise make …)`.
    let out = t.ok(&[
        "promise",
        "make",
        "acme",
        "second drafts",
        "--due",
        "2026-11-30",
    ]);
    assert_eq!(out.stdout, "2\n");
    // On a terminal: what, for whom, due when.
    let Some(seen) = on_a_terminal(&t, "promise make acme 'brand book' --due 2026-12-04", &[])
    else {
        return;
    };
    assert_eq!(
        shown(seen),
        "promise 3 made: brand book for acme, due 2026-12-04\n"
    );
}

#[test]
fn keep_on_a_terminal_says_on_time_against_the_due() {
    let t = acme("2026-11-27");
    let Some(seen) = on_a_terminal(&t, "promise keep 1", &[]) else {
        return;
    };
    assert_eq!(
        shown(seen),
        "promise 1 (logo for acme) kept on time (due 2026-11-27)\n"
    );
}

#[test]
fn keep_after_a_move_on_a_terminal_says_how_late_against_the_original() {
    // Due (date only) 2026-11-18, moved by the client to the 20th, kept on
    // the 20th at 10:00: on time by the last due, 2 days late by the
    // original (the 19th and, rounded up, the 20th).
    let mut t = acme("2026-11-18");
    t.set_now("2026-11-17T09:00");
    t.ok(&[
        "promise",
        "move",
        "1",
        "--due",
        "2026-11-20",
        "--cause",
        "client",
        "--agreed",
    ]);
    t.set_now("2026-11-20T10:00");
    let Some(seen) = on_a_terminal(&t, "promise keep 1", &[]) else {
        return;
    };
    assert_eq!(
        shown(seen),
        "promise 1 (logo for acme) kept 2 days late against the original 2026-11-18 (last due 2026-11-20)\n"
    );
}

#[test]
fn keep_late_without_a_move_on_a_terminal_says_how_late() {
    let mut t = acme("2026-11-19");
    t.set_now("2026-11-20T10:00");
    let Some(seen) = on_a_terminal(&t, "promise keep 1", &[]) else {
        return;
    };
    assert_eq!(
        shown(seen),
        "promise 1 (logo for acme) kept 1 day late (due 2026-11-19)\n"
    );
}

#[test]
fn keep_in_a_pipe_prints_the_same_bytes_as_always() {
    let mut t = acme("2026-11-18");
    t.set_now("2026-11-17T09:00");
    t.ok(&[
        "promise",
        "move",
        "1",
        "--due",
        "2026-11-20",
        "--cause",
        "client",
        "--agreed",
    ]);
    t.set_now("2026-11-20T10:00");
    let out = t.ok(&["promise", "keep", "1"]);
    assert_eq!(out.stdout, "#4 promise 1 kept\n");
    // --json is the event, terminal or not.
    let Some(seen) = on_a_terminal(&t, "--json promise make acme x --due fri", &[]) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_str(seen.trim()).expect("one JSON value");
    assert_eq!(
        (v["kind"].as_str(), v["promise"].as_u64()),
        (Some("PromiseMade"), Some(2))
    );
}
