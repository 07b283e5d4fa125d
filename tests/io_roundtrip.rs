//! Export and import through the real binary: a journal exported and
//! imported into an empty one answers every query exactly as the original;
//! importing again adds nothing (the journal's bytes do not change); an
//! import into a journal that already has events remaps promise ids and
//! retracted seqs; filters; CSV; stdin; dry runs.

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use trustlog::events::{Envelope, Event};

/// A journal with every kind of event, promises in every outcome, flags
/// (a move recorded after the due, a backdated keep), two retractions, a
/// lost client and one that came back, two identical events (same clock,
/// same words), and strings that need quoting in CSV and escaping in HTML.
/// Each step runs with its own "now", so `recorded_at` varies.
pub fn rich(t: &mut Tl) {
    #[rustfmt::skip]
    let steps: &[(&str, &[&str])] = &[
        ("2026-09-01T09:00", &["client", "add", "acme", "--name", "Acme, \"the\" Ltd", "--note", "met at the fair\nsecond line"]),
        ("2026-09-01T09:10", &["talk", "acme", "--kind", "call", "--mood", "-2", "--minutes", "20", "--by", "client", "rough start, they said"]),
        ("2026-09-01T11:00", &["client", "want", "acme", "a logo that works on trucks"]),
        ("2026-09-02T09:00", &["client", "add", "globex", "--name", "Globex", "--fit", "off-target"]),
        ("2026-09-02T10:00", &["promise", "make", "acme", "three logo concepts", "--due", "2026-09-10"]),
        ("2026-09-03T10:00", &["promise", "make", "acme", "brand book", "--due", "2026-10-01T12:00"]),
        ("2026-09-05T10:00", &["promise", "make", "globex", "site map", "--due", "2026-11-01"]),
        ("2026-09-12T10:00", &["promise", "move", "1", "--due", "2026-09-15", "--cause", "client", "--agreed", "--reason", "brief came late"]),
        ("2026-09-16T10:00", &["promise", "keep", "1", "--at", "2026-09-14T16:00", "--note", "sent"]),
        ("2026-09-20T10:00", &["client", "mismatch", "acme", "expected three concepts, got one"]),
        ("2026-10-02T10:00", &["promise", "break", "2", "--reason", "designer left"]),
        ("2026-10-10T10:00", &["promise", "release", "3", "--reason", "project cancelled"]),
        ("2026-10-11T10:00", &["promise", "make", "globex", "typo promise", "--due", "2026-12-24"]),
        ("2026-10-11T10:01", &["retract", "13", "--reason", "wrong client"]),
        ("2026-10-11T11:00", &["promise", "make", "globex", "landing page", "--due", "2026-11-10"]),
        ("2026-10-11T11:05", &["promise", "make", "globex", "final files", "--due", "2026-12-01"]),
        ("2026-10-15T10:00", &["client", "praise", "globex", "--kind", "referral", "introduced us to Initech"]),
        ("2026-10-16T10:00", &["client", "fit", "globex", "target", "--reason", "signed a retainer"]),
        ("2026-10-16T11:00", &["client", "add", "initech", "--name", "Initech <Labs> & Co"]),
        ("2026-10-17T10:00", &["talk", "initech", "--kind", "email", "wrong person"]),
        ("2026-10-17T10:05", &["retract", "20", "--reason", "meant globex"]),
        ("2026-10-20T10:00", &["client", "lost", "acme", "--reason", "went with a cheaper agency"]),
        ("2026-10-30T10:00", &["client", "lost", "initech", "--reason", "never started"]),
        ("2026-11-01T10:00", &["client", "back", "acme", "--note", "new product line"]),
        ("2026-11-02T10:00", &["talk", "acme", "--kind", "meeting", "--mood", "1", "--minutes", "45", "restart"]),
        ("2026-11-02T10:00", &["talk", "acme", "--kind", "meeting", "--mood", "1", "--minutes", "45", "restart"]),
        ("2026-11-03T10:00", &["promise", "make", "acme", "new logo", "--due", "2026-11-30"]),
    ];
    for (now, args) in steps {
        t.now = now.to_string();
        t.ok(args);
    }
    t.now = NOW.to_string();
}

/// Every query's JSON (and the audit's CSV), as strings, for comparison.
pub fn answers(t: &Tl) -> Vec<(String, String)> {
    let mut qs: Vec<Vec<String>> = vec![
        vec!["status".into(), "--json".into()],
        vec!["due".into(), "--json".into()],
        vec!["audit".into(), "--json".into()],
        vec!["audit".into(), "--csv".into()],
        vec!["log".into(), "--json".into()],
        vec![
            "status".into(),
            "--json".into(),
            "--as-of".into(),
            "2026-10-12".into(),
        ],
    ];
    for c in ["acme", "globex", "initech"] {
        qs.push(vec![
            "audit".into(),
            "--json".into(),
            "--client".into(),
            c.into(),
        ]);
        qs.push(vec!["trust".into(), c.into(), "--json".into()]);
        qs.push(vec!["postmortem".into(), c.into(), "--json".into()]);
    }
    qs.into_iter()
        .map(|q| {
            let out = t.ok(&q);
            (q.join(" "), out.stdout)
        })
        .collect()
}

fn write(t: &Tl, name: &str, text: &str) -> PathBuf {
    let p = t.dir.path().join(name);
    fs::write(&p, text).expect("write test file");
    p
}

/// A second journal in the same temp dir.
fn other(t: &Tl, name: &str) -> Tl {
    let mut o = Tl::new();
    o.journal = t.dir.path().join(name);
    o.now = t.now.clone();
    o
}

fn export(t: &Tl, args: &[&str]) -> String {
    let mut a = vec!["export"];
    a.extend_from_slice(args);
    t.ok(&a).stdout
}

fn import_json(t: &Tl, file: &Path, extra: &[&str]) -> Value {
    let mut a: Vec<String> = vec!["import".into(), file.display().to_string(), "--json".into()];
    a.extend(extra.iter().map(|s| s.to_string()));
    t.ok(&a).json()
}

fn counts(v: &Value) -> (u64, u64, u64) {
    (
        v["new"].as_u64().expect("new"),
        v["skipped"].as_u64().expect("skipped"),
        v["rejected"].as_u64().expect("rejected"),
    )
}

/// The journal id part of the export's ids.
fn journal_hex(export: &str) -> String {
    let first: Value = serde_json::from_str(export.lines().next().expect("a line")).unwrap();
    let id = first["id"].as_str().expect("id").to_string();
    id.split_once('-').expect("id form").0.to_string()
}

#[test]
fn export_then_import_into_an_empty_journal_answers_every_query_the_same() {
    let mut a = Tl::new();
    rich(&mut a);
    let file = write(&a, "a.jsonl", &export(&a, &[]));
    let n = fs::read_to_string(&file).unwrap().lines().count() as u64;
    assert_eq!(n, 27, "every event is exported, retracted ones included");

    let b = other(&a, "b.tlog");
    let v = import_json(&b, &file, &[]);
    assert_eq!(counts(&v), (27, 0, 0), "{v}");
    assert_eq!(
        (v["first_seq"].as_u64(), v["last_seq"].as_u64()),
        (Some(1), Some(27))
    );

    let (qa, qb) = (answers(&a), answers(&b));
    for ((q, x), (_, y)) in qa.iter().zip(&qb) {
        assert_eq!(
            x, y,
            "`{q}` differs between the original and the imported journal"
        );
    }
    // The events themselves: identical but for the journal part of the id.
    let ea = export(&a, &[]);
    let eb = export(&b, &[]);
    assert_ne!(journal_hex(&ea), journal_hex(&eb), "two journals, two ids");
    assert_eq!(
        ea.replace(&journal_hex(&ea), "J"),
        eb.replace(&journal_hex(&eb), "J")
    );
    // And the envelopes decoded by the library, authors and both times too.
    assert_eq!(a.replay(), b.replay());
}

#[test]
fn importing_the_same_file_again_adds_nothing_and_leaves_the_bytes_alone() {
    let mut a = Tl::new();
    rich(&mut a);
    let file = write(&a, "a.jsonl", &export(&a, &[]));
    let b = other(&a, "b.tlog");
    import_json(&b, &file, &[]);
    let before = b.bytes().expect("journal b");

    let again = import_json(&b, &file, &[]);
    assert_eq!(counts(&again), (0, 27, 0), "{again}");
    assert_eq!(again["first_seq"], Value::Null);
    assert_eq!(
        b.bytes().unwrap(),
        before,
        "a no-op import must not touch the journal"
    );

    // Into the journal it came from: every event is already there.
    let a_before = a.bytes().unwrap();
    let home = import_json(&a, &file, &[]);
    assert_eq!(counts(&home), (0, 27, 0), "{home}");
    assert_eq!(a.bytes().unwrap(), a_before);

    // And B's export (other ids, same events) back into A: nothing new.
    let fb = write(&a, "b.jsonl", &export(&b, &[]));
    assert_eq!(counts(&import_json(&a, &fb, &[])), (0, 27, 0));
    assert_eq!(a.bytes().unwrap(), a_before);

    // The human summary says so too.
    let out = b.ok(&["import", file.to_str().unwrap()]);
    assert!(
        out.stdout.contains("0 new") && out.stdout.contains("27 skipped"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_later_export_adds_only_what_is_new_since_the_last_import() {
    let mut a = Tl::new();
    rich(&mut a);
    let first = write(&a, "1.jsonl", &export(&a, &[]));
    let mut b = other(&a, "b.tlog");
    import_json(&b, &first, &[]);

    // A goes on: the open promise is kept, a new one is made and moved.
    a.now = "2026-11-20T11:00".into();
    a.ok(&["promise", "keep", "7"]);
    a.ok(&[
        "promise",
        "make",
        "globex",
        "extra page",
        "--due",
        "2026-12-10",
    ]);
    a.ok(&[
        "promise",
        "move",
        "8",
        "--due",
        "2026-12-12",
        "--cause",
        "us",
    ]);
    let second = write(&a, "2.jsonl", &export(&a, &[]));
    b.now = a.now.clone();
    let v = import_json(&b, &second, &[]);
    assert_eq!(counts(&v), (3, 27, 0), "{v}");
    for ((q, x), (_, y)) in answers(&a).iter().zip(&answers(&b)) {
        assert_eq!(x, y, "`{q}` differs after the incremental import");
    }
}

#[test]
fn importing_into_a_journal_with_history_remaps_promise_ids_and_retracted_seqs() {
    let mut a = Tl::new();
    rich(&mut a);
    let file = write(&a, "a.jsonl", &export(&a, &[]));
    let src = a.replay();

    // B already has its own client, two promises and a retraction.
    let mut b = other(&a, "b.tlog");
    b.now = "2026-08-01T09:00".into();
    b.ok(&["client", "add", "zeta"]);
    b.ok(&["promise", "make", "zeta", "first", "--due", "2026-08-10"]);
    b.ok(&["promise", "make", "zeta", "second", "--due", "2026-08-11"]);
    b.ok(&["talk", "zeta"]);
    b.ok(&["retract", "4", "--reason", "no call happened"]);
    b.now = NOW.into();
    let v = import_json(&b, &file, &[]);
    assert_eq!(counts(&v), (27, 0, 0), "{v}");
    assert_eq!(
        (v["first_seq"].as_u64(), v["last_seq"].as_u64()),
        (Some(6), Some(32))
    );

    let dst = b.replay();
    let imported = &dst[5..];
    assert_eq!(imported.len(), src.len());
    // Source promise p is B's promise p + 2; a source seq s is B's s + 5.
    let made = |envs: &[Envelope]| -> HashMap<u64, String> {
        envs.iter()
            .filter_map(|e| match &e.event {
                Event::PromiseMade { promise, what, .. } => Some((*promise, what.clone())),
                _ => None,
            })
            .collect()
    };
    let (made_src, made_dst) = (made(&src), made(&dst));
    for (s, d) in src.iter().zip(imported) {
        assert_eq!(d.seq, s.seq + 5);
        assert_eq!(
            (d.recorded_at, d.occurred_at, &d.author),
            (s.recorded_at, s.occurred_at, &s.author)
        );
        assert_eq!(d.event.kind_name(), s.event.kind_name());
        if let (Some(ps), Some(pd)) = (s.event.promise(), d.event.promise()) {
            assert_eq!(pd, ps + 2, "promise ids follow B's own");
            assert_eq!(made_src[&ps], made_dst[&pd], "the same promise");
        }
        if let (Event::Retracted { seq: rs, .. }, Event::Retracted { seq: rd, .. }) =
            (&s.event, &d.event)
        {
            assert_eq!(*rd, rs + 5, "a retraction points at the same event");
            let target_src = &src[(*rs - 1) as usize];
            let target_dst = &dst[(*rd - 1) as usize];
            assert_eq!(target_src.event.kind_name(), target_dst.event.kind_name());
            assert_eq!(target_src.occurred_at, target_dst.occurred_at);
        }
    }
    // B's own events still count, and acme's audit reads like A's.
    let za = b.ok(&["audit", "--json", "--client", "zeta"]).json();
    assert_eq!(za["promises"]["total"], 2);
    let pa = a.ok(&["audit", "--json", "--client", "acme"]).json();
    let pb = b.ok(&["audit", "--json", "--client", "acme"]).json();
    assert_eq!(pa["promises"], pb["promises"]);
    assert_eq!(pa["original_date_hit_rate"], pb["original_date_hit_rate"]);
    assert_eq!(pa["moves"], pb["moves"]);
    // Importing again is still a no-op.
    let before = b.bytes().unwrap();
    assert_eq!(counts(&import_json(&b, &file, &[])), (0, 27, 0));
    assert_eq!(b.bytes().unwrap(), before);
}

#[test]
fn identical_events_are_two_events_and_stay_two() {
    let a = Tl::new();
    a.ok(&["client", "add", "acme"]);
    a.ok(&["talk", "acme", "same words"]);
    a.ok(&["talk", "acme", "same words"]);
    let file = write(&a, "a.jsonl", &export(&a, &[]));
    let b = other(&a, "b.tlog");
    assert_eq!(counts(&import_json(&b, &file, &[])), (3, 0, 0));
    assert_eq!(counts(&import_json(&b, &file, &[])), (0, 3, 0));
    // B has one of the two: the other one is new.
    let c = other(&a, "c.tlog");
    let one: String = fs::read_to_string(&file)
        .unwrap()
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    let f1 = write(&a, "one.jsonl", &one);
    assert_eq!(counts(&import_json(&c, &f1, &[])), (2, 0, 0));
    assert_eq!(counts(&import_json(&c, &file, &[])), (1, 2, 0));
    assert_eq!(c.replay(), b.replay());
}

#[test]
fn a_filtered_export_goes_back_into_its_own_journal_but_not_into_another() {
    let mut a = Tl::new();
    rich(&mut a);
    let since = export(&a, &["--from", "2026-10-01"]);
    let file = write(&a, "since.jsonl", &since);
    let before = a.bytes().unwrap();
    let v = import_json(&a, &file, &[]);
    assert_eq!(v["new"], 0);
    assert_eq!(v["rejected"], 0);
    assert_eq!(a.bytes().unwrap(), before);

    let b = other(&a, "b.tlog");
    let out = b.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("exported from another journal") && out.stderr.contains("promise 2"),
        "{}",
        out.stderr
    );
    assert!(b.bytes().is_none(), "a refused import creates no journal");
}

#[test]
fn export_filters_by_client_and_by_when_it_happened() {
    let mut a = Tl::new();
    rich(&mut a);
    let lines = |s: &str| -> Vec<Value> {
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let initech = lines(&export(&a, &["--client", "initech"]));
    let kinds: Vec<&str> = initech
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["ClientAdded", "Interacted", "Retracted", "ClientLost"],
        "the client's events and the retraction of one of them"
    );
    let acme = lines(&export(&a, &["--client", "acme"]));
    assert!(
        acme.iter().all(|v| v["client"] == "acme"),
        "promise events carry their client"
    );
    assert!(acme.iter().any(|v| v["kind"] == "PromiseKept"));

    let oct = lines(&export(&a, &["--from", "2026-10-01", "--to", "2026-10-31"]));
    assert!(!oct.is_empty());
    for v in &oct {
        let at = v["occurred_at"].as_str().unwrap();
        assert!(("2026-10-01".."2026-11-01").contains(&at), "{v}");
    }
    let unknown = a.run(&["export", "--client", "nobody"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("\"nobody\""), "{}", unknown.stderr);
    let backwards = a.run(&["export", "--from", "2026-10-02", "--to", "2026-10-01"]);
    assert_eq!(backwards.code, 1);
    assert!(backwards.stderr.contains("--from"), "{}", backwards.stderr);
}

#[test]
fn every_line_is_self_describing_with_a_stable_id() {
    let mut a = Tl::new();
    rich(&mut a);
    let one = export(&a, &[]);
    a.now = "2026-11-21T10:00".into();
    a.ok(&["talk", "globex", "later"]);
    let two = export(&a, &[]);
    assert!(two.starts_with(&one), "earlier lines never change");
    let hex = journal_hex(&one);
    assert_eq!(hex.len(), 32);
    for (i, l) in two.lines().enumerate() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["seq"], (i + 1) as u64);
        assert_eq!(v["id"], format!("{hex}-{}", i + 1));
        for key in ["kind", "recorded_at", "occurred_at", "author"] {
            assert!(v.get(key).is_some(), "line {} lacks {key}: {l}", i + 1);
        }
    }
}

/// A minimal RFC 4180 reader for checking the CSV export.
fn csv_rows(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[test]
fn csv_has_a_fixed_set_of_columns_and_quotes_what_needs_it() {
    let mut a = Tl::new();
    rich(&mut a);
    let csv = export(&a, &["--format", "csv"]);
    assert!(csv.lines().all(|l| l.ends_with('\r') || !l.is_empty()));
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 28, "a header and one row per event");
    let header = &rows[0];
    assert_eq!(header.len(), 25);
    assert_eq!(
        &header[..8],
        [
            "id",
            "seq",
            "kind",
            "recorded_at",
            "occurred_at",
            "author",
            "client",
            "promise"
        ]
    );
    for r in &rows {
        assert_eq!(r.len(), header.len(), "{r:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let first = &rows[1];
    assert_eq!(first[col("name")], "Acme, \"the\" Ltd");
    assert_eq!(first[col("note")], "met at the fair\nsecond line");
    let kept = rows
        .iter()
        .find(|r| r[col("kind")] == "PromiseKept")
        .unwrap();
    assert_eq!(
        (kept[col("client")].as_str(), kept[col("promise")].as_str()),
        ("acme", "1")
    );
    let talk = &rows[2];
    assert_eq!(
        (
            talk[col("mood")].as_str(),
            talk[col("minutes")].as_str(),
            talk[col("by")].as_str()
        ),
        ("-2", "20", "client")
    );
    let retract = rows.iter().find(|r| r[col("kind")] == "Retracted").unwrap();
    assert_eq!(retract[col("retracted")], "13");
}

#[test]
fn standard_input_and_dry_runs() {
    let mut a = Tl::new();
    rich(&mut a);
    let text = export(&a, &[]);
    let b = other(&a, "b.tlog");
    let dry = write(&a, "a.jsonl", &text);
    let v = import_json(&b, &dry, &["--dry-run"]);
    assert_eq!(
        (v["new"].as_u64(), v["dry_run"].as_bool()),
        (Some(27), Some(true))
    );
    assert!(
        b.bytes().is_none(),
        "a dry run writes nothing, not even a new journal"
    );

    let mut c = b.command();
    c.arg("--journal").arg(&b.journal).args(["import", "-"]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("run trustlog");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write stdin");
    }
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("27 new events") && out.contains("standard input"),
        "{out}"
    );
    assert_eq!(a.replay(), b.replay());
}

/// Offsets at which the records of the journal at `path` start.
fn record_offsets(path: &Path) -> Vec<u64> {
    let mut sc = trustlog::log::open_scan(path, false, false).expect("scan");
    let mut out = Vec::new();
    while let Some(item) = sc.next_item().expect("read") {
        match item {
            trustlog::log::Item::Record(r) => out.push(r.offset),
            trustlog::log::Item::Damage(d) => panic!("damage: {d:?}"),
        }
    }
    out
}

#[test]
fn an_import_cut_short_by_a_crash_is_completed_by_running_it_again() {
    // A batch is not atomic (docs/format.md): a crash can leave a prefix of
    // it, whole records then perhaps a torn one. Running the import again
    // adds exactly what is missing.
    let mut a = Tl::new();
    rich(&mut a);
    let file = write(&a, "a.jsonl", &export(&a, &[]));
    let b = other(&a, "b.tlog");
    import_json(&b, &file, &[]);
    let whole = b.bytes().unwrap();
    let offsets = record_offsets(&b.journal);
    for (keep, torn) in [(0usize, 0usize), (10, 0), (10, 7), (26, 30)] {
        let c = other(&a, &format!("c{keep}-{torn}.tlog"));
        let cut = offsets[keep] as usize + torn;
        fs::write(&c.journal, &whole[..cut]).unwrap();
        let out = c.run(&["import", file.to_str().unwrap(), "--json"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(
            out.stderr.contains("cut 30 bytes") || out.stderr.contains("cut 7 bytes"),
            torn > 0,
            "{out:?}"
        );
        let v = out.json();
        assert_eq!(
            counts(&v),
            (27 - keep as u64, keep as u64, 0),
            "keep {keep}, torn {torn}: {v}"
        );
        assert_eq!(
            c.bytes().unwrap(),
            whole,
            "keep {keep}, torn {torn}: the same journal"
        );
    }
}
