//! A bad import writes nothing. A table of malformed or invalid files, each
//! imported by the real binary into a copy of a journal that already has
//! events (and into a journal that does not exist yet): exit 1, every bad
//! line named with its number and the reason, nothing on stdout, and the
//! journal — and its directory — exactly as before.

mod common;

use std::fs;
use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

/// The export of a small journal: 1 ClientAdded acme, 2 PromiseMade 1,
/// 3 Interacted, 4 PromiseKept 1.
fn source() -> &'static Vec<Value> {
    static LINES: OnceLock<Vec<Value>> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut t = Tl::new();
        t.now = "2026-11-01T09:00".into();
        t.ok(&["client", "add", "acme", "--name", "Acme Ltd"]);
        t.now = "2026-11-02T09:00".into();
        t.ok(&[
            "promise",
            "make",
            "acme",
            "logo drafts",
            "--due",
            "2026-11-10",
        ]);
        t.ok(&["talk", "acme", "--kind", "call", "--mood", "1", "kick-off"]);
        t.now = "2026-11-09T09:00".into();
        t.ok(&["promise", "keep", "1"]);
        t.ok(&["export"])
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("export is JSON lines"))
            .collect()
    })
}

/// The journal imported into: its own client `zeta` and a promise.
fn target() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let t = Tl::new();
        t.ok(&["client", "add", "zeta", "--at", "2026-10-01"]);
        t.ok(&["promise", "make", "zeta", "report", "--due", "2026-12-01"]);
        t.bytes().expect("target journal")
    })
}

fn lines(vs: &[Value]) -> Vec<u8> {
    vs.iter()
        .map(|v| format!("{v}\n"))
        .collect::<String>()
        .into_bytes()
}

/// The source with line `n` (1-based) changed by `f`.
fn with(n: usize, f: impl Fn(&mut Value)) -> Vec<u8> {
    let mut vs = source().clone();
    f(&mut vs[n - 1]);
    lines(&vs)
}

/// The source with `extra` lines appended.
fn plus(extra: &[Value]) -> Vec<u8> {
    let mut vs = source().clone();
    vs.extend_from_slice(extra);
    lines(&vs)
}

fn other_journal_id(v: &Value) -> Value {
    let id = v["id"].as_str().unwrap();
    let (_, seq) = id.split_once('-').unwrap();
    json!(format!("{}-{seq}", "0f".repeat(16)))
}

struct Case {
    name: &'static str,
    file: Vec<u8>,
    /// `(line, fragment)` that stderr must contain, as `line N: …fragment…`.
    expect: Vec<(usize, &'static str)>,
    /// Also refused when the journal does not exist yet.
    refused_when_new: bool,
}

fn cases() -> Vec<Case> {
    let s = source();
    let keep_again = {
        let mut k = s[3].clone();
        k["seq"] = json!(5);
        k["id"] = json!(k["id"].as_str().unwrap().replace("-4", "-5"));
        k
    };
    let mut c = vec![
        Case {
            name: "not JSON",
            file: {
                let mut b = lines(&s[..1]);
                b.extend_from_slice(b"{\"kind\": \n");
                b
            },
            expect: vec![(2, "is not JSON")],
            refused_when_new: true,
        },
        Case {
            name: "an array, not an object",
            file: {
                let mut b = lines(&s[..1]);
                b.extend_from_slice(b"[1, 2]\n");
                b
            },
            expect: vec![(2, "is a JSON array, not an object")],
            refused_when_new: true,
        },
        Case {
            name: "not UTF-8",
            file: {
                let mut b = lines(&s[..1]);
                b.extend_from_slice(b"{\"kind\": \"\xff\xfe\"}\n");
                b
            },
            expect: vec![(2, "is not UTF-8")],
            refused_when_new: true,
        },
        Case {
            name: "unknown kind",
            file: with(3, |v| v["kind"] = json!("Interactd")),
            expect: vec![(3, "unknown kind \"Interactd\": expected one of ClientAdded")],
            refused_when_new: true,
        },
        Case {
            name: "missing key",
            file: with(3, |v| {
                v.as_object_mut().unwrap().remove("note");
            }),
            expect: vec![(3, "missing key \"note\" for a Interacted")],
            refused_when_new: true,
        },
        Case {
            name: "unknown key",
            file: with(3, |v| v["colour"] = json!("red")),
            expect: vec![(3, "unknown key \"colour\" for a Interacted")],
            refused_when_new: true,
        },
        Case {
            name: "wrong type",
            file: with(3, |v| v["mood"] = json!("very")),
            expect: vec![(
                3,
                "\"mood\" is \"very\": expected a whole number from -2 to 2",
            )],
            refused_when_new: true,
        },
        Case {
            name: "mood out of range",
            file: with(3, |v| v["mood"] = json!(5)),
            expect: vec![(3, "mood 5 is out of range")],
            refused_when_new: true,
        },
        Case {
            name: "unknown word",
            file: with(3, |v| v["interaction"] = json!("telepathy")),
            expect: vec![(3, "unknown interaction kind \"telepathy\"")],
            refused_when_new: true,
        },
        Case {
            name: "time that is not RFC 3339",
            file: with(3, |v| v["occurred_at"] = json!("yesterday")),
            expect: vec![(
                3,
                "\"occurred_at\" is \"yesterday\": expected an RFC 3339 time",
            )],
            refused_when_new: true,
        },
        Case {
            name: "unknown client",
            file: with(3, |v| v["client"] = json!("nobody")),
            expect: vec![(3, "unknown client \"nobody\"")],
            refused_when_new: true,
        },
        Case {
            name: "handle already taken in the journal",
            file: {
                let mut z = s[0].clone();
                z["client"] = json!("zeta");
                z["seq"] = json!(5);
                z["id"] = json!(z["id"].as_str().unwrap().replace("-1", "-5"));
                plus(&[z])
            },
            expect: vec![(5, "client \"zeta\" already exists in the journal")],
            refused_when_new: false,
        },
        Case {
            name: "promise that is no longer open",
            file: plus(&[keep_again]),
            expect: vec![(
                5,
                "promise 1 (\"logo drafts\" for acme) is not open: it was kept",
            )],
            refused_when_new: true,
        },
        Case {
            name: "promise client that does not match",
            file: with(4, |v| v["client"] = json!("zeta")),
            expect: vec![(4, "\"client\" is \"zeta\" but promise 1 is \"acme\"'s")],
            refused_when_new: false,
        },
        Case {
            name: "due before the promise is made",
            file: with(2, |v| v["due"] = json!("2026-01-01T00:00:00Z")),
            expect: vec![
                (2, "is before the promise was made"),
                (4, "promise 1, whose event (line 2) was rejected"),
            ],
            refused_when_new: true,
        },
        Case {
            name: "dependent of a rejected line",
            file: with(2, |v| v["what"] = json!("")),
            expect: vec![
                (2, "\"what\" is empty"),
                (4, "promise 1, whose event (line 2) was rejected"),
            ],
            refused_when_new: true,
        },
        Case {
            name: "retraction of an event not in the file (no ids)",
            file: {
                let mut vs: Vec<Value> = s.clone();
                for v in &mut vs {
                    v.as_object_mut().unwrap().remove("id");
                }
                vs.push(json!({
                    "seq": 5, "kind": "Retracted", "recorded_at": "2026-11-10T09:00:00Z",
                    "occurred_at": "2026-11-10T09:00:00Z", "author": "alice",
                    "retracted": 99, "reason": "typo"
                }));
                lines(&vs)
            },
            expect: vec![(5, "retracts seq 99, which is not earlier in the file")],
            refused_when_new: true,
        },
        Case {
            name: "the same id twice (a file concatenated with itself)",
            file: {
                let mut b = lines(s);
                b.extend_from_slice(&lines(&s[..1]));
                b
            },
            expect: vec![(5, "is also on line 1")],
            refused_when_new: true,
        },
        Case {
            name: "lines out of journal order",
            file: lines(&[s[0].clone(), s[2].clone(), s[1].clone(), s[3].clone()]),
            expect: vec![
                (3, "seq 2 is not after line 2's seq 3"),
                (4, "promise 1, whose event (line 3) was rejected"),
            ],
            refused_when_new: true,
        },
        Case {
            name: "id and seq disagree",
            file: with(3, |v| {
                let id = v["id"].as_str().unwrap().replace("-3", "-9");
                v["id"] = json!(id);
            }),
            expect: vec![(3, "ends in seq 9 but \"seq\" is 3")],
            refused_when_new: true,
        },
        Case {
            name: "id that is not an export id",
            file: with(3, |v| v["id"] = json!("not-an-id")),
            expect: vec![(3, "expected \"<32 hex digits>-<seq>\"")],
            refused_when_new: true,
        },
        Case {
            name: "ids from two journals",
            file: with(3, |v| v["id"] = other_journal_id(v)),
            expect: vec![(3, "expected one export per file")],
            refused_when_new: true,
        },
        Case {
            name: "empty author",
            file: with(3, |v| v["author"] = json!(" ")),
            expect: vec![(3, "\"author\" is empty")],
            refused_when_new: true,
        },
        Case {
            name: "occurred after it was recorded",
            file: with(3, |v| v["occurred_at"] = json!("2026-11-05T00:00:00Z")),
            expect: vec![(3, "is after recorded_at")],
            refused_when_new: true,
        },
        Case {
            name: "recorded after now",
            file: with(4, |v| {
                v["recorded_at"] = json!("2026-12-24T00:00:00Z");
            }),
            expect: vec![(4, "is after now")],
            refused_when_new: true,
        },
    ];
    // Several bad lines at once: each is reported.
    c.push(Case {
        name: "several bad lines",
        file: {
            let mut vs = source().clone();
            vs[1]["kind"] = json!("Nope");
            vs[2]["mood"] = json!(-3);
            lines(&vs)
        },
        expect: vec![
            (2, "unknown kind \"Nope\""),
            (3, "mood -3 is out of range"),
            (4, "promise 1, whose event (line 2) was rejected"),
        ],
        refused_when_new: true,
    });
    c
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_bad_file_is_refused_with_line_numbers_and_nothing_written() {
    let cases = cases();
    assert!(cases.len() >= 20);
    // The unchanged source imports cleanly: every case fails because of
    // its change alone.
    {
        let t = Tl::new();
        fs::write(&t.journal, target()).unwrap();
        let f = t.dir.path().join("ok.jsonl");
        fs::write(&f, lines(source())).unwrap();
        let out = t.ok(&["import", f.to_str().unwrap()]);
        assert!(out.stdout.contains("4 new events"), "{}", out.stdout);
    }
    for case in &cases {
        for new_journal in [false, true] {
            if new_journal && !case.refused_when_new {
                continue;
            }
            let t = Tl::new();
            if !new_journal {
                fs::write(&t.journal, target()).unwrap();
            }
            let f = t.dir.path().join("in.jsonl");
            fs::write(&f, &case.file).unwrap();
            let before = listing(t.dir.path());
            let out = t.run(&["import", f.to_str().unwrap()]);
            let what = format!("case {:?} (new journal: {new_journal}): {out:?}", case.name);
            assert_eq!(out.code, 1, "{what}");
            assert!(out.stdout.is_empty(), "{what}");
            assert!(out.stderr.contains("nothing imported from"), "{what}");
            assert!(out.stderr.contains("the journal is unchanged"), "{what}");
            for (line, fragment) in &case.expect {
                let hit = out.stderr.lines().any(|l| {
                    l.trim_start().starts_with(&format!("line {line}: ")) && l.contains(fragment)
                });
                assert!(hit, "expected `line {line}: …{fragment}…` in {what}");
            }
            let rejected_lines = out
                .stderr
                .lines()
                .filter(|l| l.trim_start().starts_with("line "))
                .count();
            assert_eq!(
                rejected_lines,
                case.expect.len(),
                "only the bad lines: {what}"
            );
            if new_journal {
                assert!(t.bytes().is_none(), "no journal created: {what}");
            } else {
                assert_eq!(
                    t.bytes().as_deref(),
                    Some(target()),
                    "journal unchanged: {what}"
                );
            }
            assert_eq!(
                listing(t.dir.path()),
                before,
                "no file added or removed: {what}"
            );
        }
    }
}

#[test]
fn with_json_the_reasons_are_also_on_stdout() {
    let t = Tl::new();
    fs::write(&t.journal, target()).unwrap();
    let f = t.dir.path().join("in.jsonl");
    fs::write(&f, with(3, |v| v["mood"] = json!(9))).unwrap();
    let out = t.run(&["import", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 1);
    let v = out.json();
    assert_eq!(
        (v["new"].as_u64(), v["rejected"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(v["rejections"][0]["line"], 3);
    assert!(v["rejections"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("mood 9"));
    assert_eq!(t.bytes().as_deref(), Some(target()));
}

#[test]
fn a_missing_file_or_a_damaged_journal_is_an_error_that_changes_nothing() {
    let t = Tl::new();
    fs::write(&t.journal, target()).unwrap();
    let out = t.run(&["import", "no-such-file.jsonl"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no-such-file.jsonl"), "{}", out.stderr);

    // A flipped byte inside the first record: the import refuses (exit 3)
    // before writing anything.
    let mut damaged = target().to_vec();
    damaged[64 + 48] ^= 0xff;
    fs::write(&t.journal, &damaged).unwrap();
    let f = t.dir.path().join("ok.jsonl");
    fs::write(&f, lines(source())).unwrap();
    let out = t.run(&["import", f.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(fs::read(&t.journal).unwrap(), damaged);
}
