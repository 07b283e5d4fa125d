//! Tables with wide text (issue 12.4): Korean, Japanese and emoji take two
//! terminal cells a character, and every column still lines up in cells.
//! Measured with `unicode-width`, the crate the tables use (it counts an
//! emoji ZWJ sequence such as 👩‍💻 and a flag such as 🇰🇷 as one two-cell
//! picture, and a combining accent as none). In a pipe nothing is cut; on
//! a terminal the free-text column is cut with `…` to the terminal width.

mod common;

use common::*;
use unicode_width::UnicodeWidthStr;

fn journal() -> Tl {
    let mut t = Tl::new();
    #[rustfmt::skip]
    let steps: &[(&str, &[&str])] = &[
        ("2026-11-01T09:00", &["client", "add", "a2z", "--name", "주식회사 에이투지"]),
        ("2026-11-01T09:01", &["client", "add", "sample", "--name", "株式会社サンプル"]),
        ("2026-11-01T09:02", &["client", "add", "cafe", "--name", "Café ☕ 👩\u{200d}💻 🇰🇷"]),
        ("2026-11-01T09:03", &["client", "add", "acme", "--name", "Acme"]),
        ("2026-11-02T10:00", &["talk", "a2z", "--mood", "2", "--minutes", "30"]),
        ("2026-11-02T10:01", &["talk", "cafe", "--mood", "1", "--minutes", "15"]),
        ("2026-11-03T09:00", &["promise", "make", "a2z", "견적서 보내기", "--due", "2026-11-10"]),
        ("2026-11-03T09:01", &["promise", "make", "sample", "見積書を送る", "--due", "2026-11-25"]),
        ("2026-11-03T09:02", &["promise", "make", "cafe", "☕ menu 🇫🇷 👨\u{200d}👩\u{200d}👧", "--due", "2026-11-28"]),
        ("2026-11-03T09:03", &["promise", "make", "acme", "plain text", "--due", "2026-12-01"]),
    ];
    // Authors in wide text too, for `log`'s author column.
    let authors = ["alice", "김민지", "山田 太郎", "🦀 bot"];
    for (i, (now, args)) in steps.iter().enumerate() {
        t.now = now.to_string();
        t.author = authors[i % authors.len()].to_string();
        t.ok(args);
    }
    t.now = NOW.to_string();
    t.author = AUTHOR.to_string();
    t
}

/// The cells of a table line: each run of text between runs of two or
/// more spaces, with where it starts and ends in terminal cells.
fn cells(line: &str) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    let mut col = 0;
    for (i, part) in line.split("  ").enumerate() {
        if i > 0 {
            col += 2;
        }
        if !part.trim().is_empty() {
            let lead = part.len() - part.trim_start().len();
            let text = part.trim();
            let start = col + lead;
            out.push((start, start + text.width(), text.to_string()));
        }
        col += part.width();
    }
    out
}

/// Every row of `table` (its first line the header) has a cell under each
/// header, starting where the header starts (left-aligned) or ending where
/// it ends (right-aligned).
fn assert_lined_up(table: &str) {
    let mut lines = table.lines();
    let header = cells(lines.next().expect("a header"));
    for line in lines {
        let row = cells(line);
        assert_eq!(
            row.len(),
            header.len(),
            "{line:?} under {header:?}\n{table}"
        );
        for (h, c) in header.iter().zip(&row) {
            assert!(
                h.0 == c.0 || h.1 == c.1,
                "{:?} at cells {}..{} is not under {:?} at {}..{}:\n{table}",
                c.2,
                c.0,
                c.1,
                h.2,
                h.0,
                h.1
            );
        }
    }
}

/// The lines of `out` from the one starting with `header` to the first
/// empty line.
fn table_from(out: &str, header: &str) -> String {
    let start = out
        .find(&format!("\n{header}"))
        .map(|i| i + 1)
        .or_else(|| out.starts_with(header).then_some(0))
        .unwrap_or_else(|| panic!("no table starting {header:?} in\n{out}"));
    out[start..]
        .lines()
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn status_lines_up_in_terminal_cells() {
    let t = journal();
    let out = t.ok(&["status"]).stdout;
    assert!(
        out.contains("주식회사 에이투지"),
        "nothing cut in a pipe:\n{out}"
    );
    assert!(out.contains("Café ☕ 👩\u{200d}💻 🇰🇷"), "{out}");
    assert_lined_up(&out);
}

#[test]
fn due_lines_up_in_terminal_cells() {
    let t = journal();
    let out = t.ok(&["due"]).stdout;
    assert!(out.contains("☕ menu 🇫🇷 👨\u{200d}👩\u{200d}👧"), "{out}");
    assert_lined_up(&out);
}

#[test]
fn audit_rows_line_up_in_terminal_cells() {
    let t = journal();
    let out = t.ok(&["audit"]).stdout;
    let rows = table_from(&out, "#  client");
    assert!(rows.contains("見積書を送る"), "{rows}");
    assert_lined_up(&rows);
}

#[test]
fn log_lines_up_in_terminal_cells() {
    let t = journal();
    let out = t.ok(&["log"]).stdout;
    assert!(
        out.contains("견적서 보내기") && out.contains("山田 太郎"),
        "{out}"
    );
    assert_lined_up(&out);
}

#[test]
fn the_checker_sees_a_misaligned_table() {
    // A table padded by characters, as before issue 12.4: the checker
    // must refuse it, or the tests above prove nothing.
    let bad = "name  x\n주식회사  1\nacme  2\n";
    let ok = std::panic::catch_unwind(|| assert_lined_up(bad));
    assert!(ok.is_err());
    assert_lined_up("name        x\n주식회사    1\nacme        2\n");
}

#[test]
fn on_a_terminal_the_free_text_is_cut_to_the_width() {
    let t = journal();
    // Cells measured without colour escapes (tests/colour.rs shows colour
    // moves no column).
    let Some(tty) = on_a_terminal(&t, "due", &[("COLUMNS", "52"), ("NO_COLOR", "1")])
        .map(|o| o.replace('\r', ""))
    else {
        return;
    };
    let lines: Vec<&str> = tty.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() >= 5, "{tty}");
    for l in &lines {
        assert!(l.width() <= 52, "{l:?} is {} cells:\n{tty}", l.width());
    }
    assert!(tty.contains('…'), "something was cut:\n{tty}");
    assert_lined_up(&lines.join("\n"));
}
