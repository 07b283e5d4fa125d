//! Colour in tables (issue 12.7): overdue, late and broken in red, moved in
//! yellow, on time in green — on a terminal only, never with `$NO_COLOR`
//! set or `--color never`; `--color always` colours a pipe too. Colour
//! never moves a column: without its escapes a coloured table is the
//! plain one, byte for byte.

mod common;

use common::*;

const ESC: char = '\u{1b}';

fn journal() -> Tl {
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&["client", "add", "acme"])
        .cmd(&["promise", "make", "acme", "logo", "--due", "2026-11-05"])
        .cmd(&["promise", "make", "acme", "deck", "--due", "2026-11-20"])
        .at("2026-11-03T09:00")
        .cmd(&["promise", "keep", "2"]);
    let mut t = s.journal();
    t.set_now("2026-11-10T09:00");
    t
}

/// `s` without its SGR escapes (`ESC [ … m`).
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == ESC && it.peek() == Some(&'[') {
            for d in it.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_pipe_gets_no_colour_unless_asked_and_colour_moves_no_column() {
    let t = journal();
    for cmd in [&["due"][..], &["audit"], &["status"], &["promise", "list"]] {
        let piped = t.ok(cmd).stdout;
        assert!(!piped.contains(ESC), "{cmd:?}: {piped:?}");
        let mut always = vec!["--color", "always"];
        always.extend_from_slice(cmd);
        let coloured = t.ok(&always).stdout;
        assert!(coloured.contains(ESC), "{cmd:?}: {coloured:?}");
        assert_eq!(plain(&coloured), piped, "{cmd:?}");
        let mut never = vec!["--color", "never"];
        never.extend_from_slice(cmd);
        assert_eq!(t.ok(&never).stdout, piped, "{cmd:?}");
    }
    let due = t.ok(&["--color", "always", "due"]).stdout;
    assert!(
        due.contains("\u{1b}[31mOVERDUE 5d"),
        "overdue in red: {due:?}"
    );
    let audit = t.ok(&["--color", "always", "audit"]).stdout;
    assert!(
        audit.contains("\u{1b}[32mkept_on_time"),
        "on time in green: {audit:?}"
    );
    // JSON is never coloured.
    let json = t.ok(&["--color", "always", "--json", "due"]).stdout;
    assert!(!json.contains(ESC), "{json:?}");
}

#[test]
fn a_terminal_gets_colour_unless_no_color_is_set() {
    let t = journal();
    let Some(tty) = on_a_terminal(&t, "due", &[]) else {
        return;
    };
    assert!(tty.contains("\u{1b}[31mOVERDUE"), "{tty:?}");
    let Some(tty) = on_a_terminal(&t, "due", &[("NO_COLOR", "1")]) else {
        return;
    };
    assert!(!tty.contains("\u{1b}[31m"), "NO_COLOR: {tty:?}");
    let Some(tty) = on_a_terminal(&t, "--color never due", &[]) else {
        return;
    };
    assert!(!tty.contains("\u{1b}[31m"), "--color never: {tty:?}");
}
