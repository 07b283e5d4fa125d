//! Text from elsewhere (an imported note, a name, `$TRUSTLOG_AUTHOR`) is
//! shown safely and kept exactly.
//!
//! - Issue 15.11: CSV cells that a spreadsheet would run as a formula
//!   (`=`, `+`, `-`, `@`, TAB, CR first) get a leading `'` in
//!   `export --format csv` and `audit --csv`; plain numbers (`-2`) do not;
//!   JSON lines keep every byte.
//! - Issue 15.12: control characters (ESC, BEL, CR, LF, TAB, C1) reach
//!   people's terminals escaped (`\e]0;…\a`), through `log`, `status`,
//!   `due`, `audit`, `trust --history`, `postmortem`, tables and the
//!   recording confirmation; `--json` keeps them exact.

mod common;

use common::*;
use serde_json::Value;
use trustlog::events::{codec, Due, Envelope, Event, Fit, InteractionKind, Party};
use trustlog::log::{JournalWriter, DEFAULT_LOCK_WAIT};

const NAME: &str = "Acme\u{1b}]0;pwned\u{7}\nLtd";
const NAME_SHOWN: &str = "Acme\\e]0;pwned\\a\\nLtd";
const NOTE: &str = "=HYPERLINK(\"http://evil\",\"click\")";
const WHAT: &str = "logo\u{1b}[2J\r";
const WHAT_SHOWN: &str = "logo\\e[2J\\r";
const REASON: &str = "r\u{1b}[1m\u{9b}31m";
const REASON_SHOWN: &str = "r\\e[1m\\u{9b}31m";
const LOST: &str = "gone\u{1b}]0;t\u{7}";
const LOST_SHOWN: &str = "gone\\e]0;t\\a";
const AUTHOR_HOSTILE: &str = "bob\n\u{1b}[31m";
const AUTHOR_SHOWN: &str = "bob\\n\\e[31m";
const ENV_AUTHOR: &str = "eve\u{1b}[2J\tx";
const ENV_AUTHOR_SHOWN: &str = "eve\\e[2J\\tx";

/// A journal as it could arrive from elsewhere, written through the
/// library (the recording rules are not what is tested here): a client
/// with hostile text everywhere, its promises and talks, then lost.
fn hostile() -> Tl {
    let t = Tl::new();
    let mut w = JournalWriter::open(&t.journal, 0, DEFAULT_LOCK_WAIT).expect("open");
    let due = |d: &str| Due {
        at: end_of_day(d),
        date_only: true,
    };
    let talk = |mood: i8, note: &str| Event::Interacted {
        client: "acme".into(),
        kind: InteractionKind::Call,
        mood,
        minutes: Some(3),
        initiated_by: Party::Us,
        note: note.into(),
    };
    let events = [
        Event::ClientAdded {
            handle: "acme".into(),
            name: NAME.into(),
            fit: Fit::Target,
            note: NOTE.into(),
        },
        Event::PromiseMade {
            promise: 1,
            client: "acme".into(),
            what: WHAT.into(),
            due: due("2026-11-05"),
        },
        talk(-2, "-x"),
        talk(1, "@SUM(A1)"),
        Event::ExpectationNoted {
            client: "acme".into(),
            text: "\tx".into(),
        },
        Event::MismatchNoted {
            client: "acme".into(),
            text: "\rx".into(),
        },
        Event::PromiseMade {
            promise: 2,
            client: "acme".into(),
            what: "+cmd".into(),
            due: due("2026-11-27"),
        },
        Event::PromiseBroken {
            promise: 1,
            reason: REASON.into(),
        },
        Event::ClientLost {
            client: "acme".into(),
            reason: LOST.into(),
        },
    ];
    let envs: Vec<Envelope> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let at = ts(&format!("2026-11-0{}T09:00", i + 1));
            Envelope {
                seq: i as u64 + 1,
                recorded_at: at,
                occurred_at: at,
                author: AUTHOR_HOSTILE.into(),
                event,
            }
        })
        .collect();
    let bytes: Vec<Vec<u8>> = envs.iter().map(|e| codec::encode(e).unwrap()).collect();
    w.append_batch(bytes.iter().map(Vec::as_slice))
        .expect("append");
    t
}

/// RFC 4180 rows (CRLF between rows, quoted cells may hold anything).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "CSV ends mid-row: {s:?}"
    );
    rows
}

fn plain_number(c: &str) -> bool {
    let d = c.strip_prefix(['-', '+']).unwrap_or(c);
    !d.is_empty() && d.parse::<f64>().is_ok() && d.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Every cell of `rows` is safe in a spreadsheet; the cells of the column
/// named `col`, in order.
fn safe_cells(rows: &[Vec<String>], what: &str) {
    for r in rows {
        for c in r {
            let risky = c.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !risky || plain_number(c),
                "{what}: cell {c:?} would start a formula"
            );
        }
    }
}

fn column<'r>(rows: &'r [Vec<String>], col: &str) -> Vec<&'r str> {
    let i = rows[0]
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no column {col}"));
    rows[1..].iter().map(|r| r[i].as_str()).collect()
}

#[test]
fn csv_cells_that_start_a_formula_are_prefixed_and_jsonl_keeps_every_byte() {
    let t = hostile();
    let csv = t.query_ok(&["export", "--format", "csv"]).stdout;
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 1 + 9, "{csv}");
    safe_cells(&rows, "export csv");
    let note = column(&rows, "note");
    assert_eq!(note[0], format!("'{NOTE}"), "the HYPERLINK note");
    assert_eq!(&note[2..4], ["'-x", "'@SUM(A1)"]);
    assert_eq!(&column(&rows, "text")[4..6], ["'\tx", "'\rx"]);
    assert_eq!(column(&rows, "what")[6], "'+cmd");
    assert_eq!(
        &column(&rows, "mood")[2..4],
        ["-2", "1"],
        "numbers stay numbers"
    );
    assert_eq!(column(&rows, "name")[0], NAME, "nothing else changes");

    let audit = t.query_ok(&["audit", "--csv"]).stdout;
    let rows = parse_csv(&audit);
    safe_cells(&rows, "audit --csv");
    assert_eq!(column(&rows, "what"), [WHAT, "'+cmd"]);

    // JSON lines: exact.
    let jsonl = t.query_ok(&["export"]).stdout;
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines[0]["name"], NAME);
    assert_eq!(lines[0]["note"], NOTE);
    assert_eq!(lines[0]["author"], AUTHOR_HOSTILE);
    assert_eq!(lines[1]["what"], WHAT);
    assert_eq!(lines[2]["note"], "-x");
    assert_eq!(lines[5]["text"], "\rx");
    assert_eq!(lines[7]["reason"], REASON);
    // …and imported into another journal, exported again: the same events.
    let copy = Tl::new();
    std::fs::write(copy.dir.path().join("in.jsonl"), &jsonl).unwrap();
    copy.ok(&["import", "in.jsonl"]);
    let again = copy.query_ok(&["export"]).stdout;
    let strip_id = |s: &str| -> Vec<Value> {
        s.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("id");
                v
            })
            .collect()
    };
    assert_eq!(strip_id(&again), strip_id(&jsonl));
}

/// No raw control character but the line ends.
fn no_raw_controls(s: &str, what: &str) {
    if let Some(c) = s.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("{what}: raw {c:?} in the output:\n{s}");
    }
}

#[test]
fn control_characters_are_shown_escaped_to_people_and_exact_in_json() {
    let t = hostile();
    // `$TRUSTLOG_AUTHOR` and a name given on the command line, too.
    let mut c = t.command();
    c.env("TRUSTLOG_AUTHOR", ENV_AUTHOR)
        .arg("--journal")
        .arg(&t.journal)
        .args(["client", "add", "beta", "--name", "B\u{1b}[2J"]);
    let o = output(c);
    assert_eq!(o.code, 0, "{o:?}");
    no_raw_controls(&o.stdout, "client add");
    assert!(o.stdout.contains("B\\e[2J"), "{o:?}");

    #[rustfmt::skip]
    let shown: &[(&[&str], &[&str])] = &[
        (&["log"], &[NAME_SHOWN, WHAT_SHOWN, REASON_SHOWN, LOST_SHOWN, AUTHOR_SHOWN, ENV_AUTHOR_SHOWN, "\\tx", "\\rx"]),
        (&["status"], &[NAME_SHOWN, "B\\e[2J"]),
        (&["due", "--as-of", "2026-11-06T10:00"], &[WHAT_SHOWN]),
        (&["audit"], &[WHAT_SHOWN]),
        (&["trust", "acme", "--history"], &["acme: trust"]),
        (&["postmortem", "acme"], &[NAME_SHOWN, LOST_SHOWN, WHAT_SHOWN, "\\tx", "\\rx"]),
    ];
    for (args, fragments) in shown {
        let out = t.query_ok(args).stdout;
        no_raw_controls(&out, &format!("{args:?}"));
        for f in *fragments {
            assert!(out.contains(f), "{args:?} lacks {f:?}:\n{out}");
        }
    }
    // A newline in an author or a name cannot break a table: one line per
    // event, and one per client, below the header.
    assert_eq!(t.query_ok(&["log"]).stdout.lines().count(), 1 + 10);
    assert_eq!(t.query_ok(&["status"]).stdout.lines().count(), 1 + 2);

    // JSON: exact.
    let log = t.query_json(&["log"]);
    assert_eq!(log[0]["name"], NAME);
    assert_eq!(log[0]["author"], AUTHOR_HOSTILE);
    assert_eq!(log[1]["what"], WHAT);
    assert_eq!(log[9]["author"], ENV_AUTHOR);
    assert_eq!(log[9]["name"], "B\u{1b}[2J");
    let status = t.query_json(&["status", "acme"]);
    assert_eq!(status["clients"][0]["name"], NAME, "{status}");
    let pm = t.query_json(&["postmortem", "acme"]);
    assert_eq!(pm["lost_reason"], LOST, "{pm}");
}
