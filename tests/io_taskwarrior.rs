//! Taskwarrior migration, against a database made by the real `task`
//! binary (`scripts/taskwarrior-sample.sh`): tasks with due dates, some
//! completed late, one deleted, one annotated, two that cannot be mapped.
//! The import's counts and the audit's numbers are checked, then a second
//! import (a no-op), the one-task-per-line export form, and a later export
//! after more work in Taskwarrior. Without `task` the real-binary tests are
//! skipped loudly, except under CI=true, where they fail.
//!
//! Edge cases that need no Taskwarrior are written by hand below.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// True when `task` runs. Without it: a loud skip, or a failure on CI.
fn have_task(test: &str) -> bool {
    let ok = Command::new("task")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: Taskwarrior (`task`) is not installed and CI=true: .ci/run installs the Debian package `taskwarrior`");
    }
    eprintln!(
        "\n*** SKIPPED {test}: Taskwarrior (`task`) is not installed (apt-get install taskwarrior) ***\n"
    );
    false
}

/// The sample database in `dir`, and its `task export`.
fn sample(dir: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/taskwarrior-sample.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(dir)
        .output()
        .expect("run scripts/taskwarrior-sample.sh");
    assert!(
        out.status.success(),
        "taskwarrior-sample.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("task export is UTF-8")
}

/// Runs `task` on the sample database in `dir`, non-interactively.
fn task(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("task")
        .env("TASKDATA", dir.join("taskdata"))
        .env("TASKRC", dir.join("taskrc"))
        .env("TZ", "UTC")
        .args(["rc.confirmation=off", "rc.hooks=off", "rc.verbose=nothing"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run task");
    assert!(
        out.status.success(),
        "task {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("task output is UTF-8")
}

fn uuid_of(export: &str, description: &str) -> String {
    let tasks: Vec<Value> = serde_json::from_str(export).expect("task export is a JSON array");
    tasks
        .iter()
        .find(|t| t["description"] == description)
        .and_then(|t| t["uuid"].as_str())
        .unwrap_or_else(|| panic!("no task {description:?} in the export"))
        .to_string()
}

/// A journal whose clock is after anything the real Taskwarrior stamped
/// with its own clock (`end` of `task done`, annotations).
fn journal() -> Tl {
    let mut t = Tl::new();
    t.now = "2099-12-31T00:00".into();
    t
}

fn write(t: &Tl, name: &str, text: &str) -> PathBuf {
    let p = t.dir.path().join(name);
    fs::write(&p, text).unwrap();
    p
}

fn import(t: &Tl, file: &Path) -> Value {
    t.ok(&[
        "import",
        file.to_str().unwrap(),
        "--format",
        "taskwarrior",
        "--json",
    ])
    .json()
}

/// `audit --json` with "now" in 2030: the 2099 task is not yet due.
fn audit(t: &Tl) -> Value {
    t.ok(&["audit", "--json", "--now", "2030-01-01"]).json()
}

#[test]
fn a_real_taskwarrior_database_becomes_clients_promises_and_an_audit() {
    if !have_task("a_real_taskwarrior_database_becomes_clients_promises_and_an_audit") {
        return;
    }
    let t = journal();
    let tw = t.dir.path().join("tw");
    let export = sample(&tw);
    let file = write(&t, "tasks.json", &export);

    let v = import(&t, &file);
    // 2 clients, 6 promises, 2 kept + 1 kept now, 1 released, 1 annotation.
    assert_eq!(
        (
            v["new"].as_u64(),
            v["skipped"].as_u64(),
            v["rejected"].as_u64()
        ),
        (Some(13), Some(0), Some(0)),
        "{v}"
    );
    let not_mapped: Vec<(&str, &str)> = v["not_mapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["description"].as_str().unwrap(),
                n["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(not_mapped.len(), 2, "{v}");
    assert!(not_mapped
        .iter()
        .any(|(d, r)| *d == "no project" && r.contains("no project")));
    assert!(not_mapped
        .iter()
        .any(|(d, r)| *d == "no due" && r.contains("not a promise")));
    assert_eq!(v["ignored_attributes"], json!({"priority": 1}));

    let a = audit(&t);
    assert_eq!(
        a["promises"],
        json!({"kept_on_time": 1, "kept_after_move": 0, "kept_late": 2, "broken": 0,
               "released": 1, "open_overdue": 1, "open": 1, "total": 6}),
        "{a}"
    );
    assert_eq!(a["original_date_hit_rate"], json!(0.25));

    let status = t.ok(&["status", "--json", "--now", "2030-01-01"]).json();
    let clients: Vec<(&str, &str)> = status["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["client"].as_str().unwrap(), c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(clients, [("acme", "acme"), ("big-co", "Big.Co")]);

    let talks = t.ok(&["log", "--json", "--kind", "Interacted"]).json();
    assert_eq!(talks.as_array().unwrap().len(), 1);
    assert_eq!(talks[0]["client"], "big-co");
    assert_eq!(talks[0]["note"], "client called: wants it blue");
    assert_eq!(talks[0]["interaction"], "other");

    // Times come from Taskwarrior: made at entry, kept at end.
    let events = t.ok(&["log", "--json", "--client", "acme"]).json();
    let made = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "PromiseMade" && e["what"] == "logo drafts")
        .expect("logo drafts promise");
    assert_eq!(made["occurred_at"], "2020-01-01T00:00:00Z");
    assert_eq!(made["due"], "2020-01-10T00:00:00Z");
    let kept = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "PromiseKept" && e["promise"] == made["promise"])
        .expect("logo drafts kept");
    assert_eq!(kept["occurred_at"], "2020-01-08T00:00:00Z");

    // The same export again: nothing new, not a byte changed.
    let before = t.bytes().unwrap();
    let again = import(&t, &file);
    assert_eq!(
        (again["new"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(11)),
        "{again}"
    );
    assert_eq!(t.bytes().unwrap(), before);

    // The one-task-per-line form of the same database gives the same journal.
    let lines = task(&tw, &["rc.json.array=off", "export"]);
    assert!(
        !lines.trim_start().starts_with('['),
        "json.array=off is not an array"
    );
    let u = Tl {
        journal: t.dir.path().join("u.tlog"),
        ..journal()
    };
    let lf = write(&t, "tasks.lines", &lines);
    assert_eq!(import(&u, &lf)["new"], 13);
    assert_eq!(
        t.ok(&["log", "--json"]).stdout,
        u.ok(&["log", "--json"]).stdout
    );
}

#[test]
fn a_later_taskwarrior_export_adds_what_changed_since() {
    if !have_task("a_later_taskwarrior_export_adds_what_changed_since") {
        return;
    }
    let t = journal();
    let tw = t.dir.path().join("tw");
    let first = sample(&tw);
    import(&t, &write(&t, "1.json", &first));

    // More work in Taskwarrior: the overdue letterhead is delivered (late),
    // and the website's due is changed.
    let letterhead = uuid_of(&first, "letterhead");
    let website = uuid_of(&first, "website");
    task(&tw, &[&letterhead, "done", "end:2020-04-05"]);
    task(&tw, &[&website, "modify", "due:2099-07-01"]);
    let second = task(&tw, &["rc.json.array=on", "export"]);

    let v = import(&t, &write(&t, "2.json", &second));
    assert_eq!(
        (v["new"].as_u64(), v["skipped"].as_u64()),
        (Some(1), Some(11)),
        "{v}"
    );
    let changed = v["not_mapped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["description"] == "website")
        .expect("the changed due is listed");
    assert!(
        changed["reason"]
            .as_str()
            .unwrap()
            .contains("due changed in Taskwarrior"),
        "{changed}"
    );
    let a = audit(&t);
    assert_eq!(a["promises"]["kept_late"], 3, "{a}");
    assert_eq!(a["promises"]["open_overdue"], 0, "{a}");
    assert_eq!(
        a["promises"]["total"], 6,
        "the website is still one promise: {a}"
    );
}

#[test]
fn tasks_that_cannot_be_promises_are_listed_not_imported() {
    let t = Tl::new();
    let tasks = json!([
        {"uuid": "00000000-0000-0000-0000-000000000001", "description": "ok", "status": "pending",
         "project": "Acme", "entry": "20261101T090000Z", "due": "20261130T170000Z"},
        {"uuid": "00000000-0000-0000-0000-000000000002", "description": "due before entry", "status": "pending",
         "project": "Acme", "entry": "20261101T090000Z", "due": "20261001T000000Z"},
        {"uuid": "00000000-0000-0000-0000-000000000003", "description": "done, no end", "status": "completed",
         "project": "Acme", "entry": "20261101T090000Z", "due": "20261130T000000Z"},
        {"uuid": "00000000-0000-0000-0000-000000000004", "description": "weekly report", "status": "recurring",
         "project": "Acme", "entry": "20261101T090000Z", "due": "20261106T000000Z", "recur": "weekly"},
        {"uuid": "00000000-0000-0000-0000-000000000005", "description": "symbols only", "status": "pending",
         "project": "!!!", "entry": "20261101T090000Z", "due": "20261130T000000Z"},
        {"uuid": "00000000-0000-0000-0000-000000000006", "description": "waiting", "status": "waiting",
         "project": "Acme", "entry": "20261101T090000Z", "due": "20261201T000000Z", "wait": "20261115T000000Z",
         "tags": ["x"]}
    ]);
    let f = write(&t, "t.json", &tasks.to_string());
    let v = import(&t, &f);
    // A client and three promises: the task entered after its due is
    // migrated (issue 12.12), not left out.
    assert_eq!(v["new"], 4, "a client and three promises: {v}");
    let reasons: Vec<String> = v["not_mapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}: {}",
                n["description"].as_str().unwrap(),
                n["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:#?}");
    for (d, fragment) in [
        ("done, no end", "completed without an end date"),
        ("weekly report", "recurring template"),
        ("symbols only", "no letters or digits"),
    ] {
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with(d) && r.contains(fragment)),
            "{d}: {fragment} not in {reasons:#?}"
        );
    }
    assert_eq!(
        v["ignored_attributes"],
        json!({"recur": 1, "tags": 1, "wait": 1})
    );
    let due = t.ok(&["due", "--json"]).json();
    let whats: Vec<&str> = due["promises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats, ["due before entry", "ok", "waiting"]);
}

/// Issue 12.12: a task entered after its due (a backlog typed in late) is
/// a promise made at its due — overdue in the audit from then on —, listed
/// as migrated; a re-import adds nothing.
#[test]
fn a_task_entered_after_its_due_is_migrated_and_counted_overdue() {
    let t = Tl::new();
    let tasks = json!([
        {"uuid": "00000000-0000-0000-0000-0000000000a1", "description": "Logo", "status": "pending",
         "project": "gamma", "entry": "20260115T090000Z", "due": "20260110T000000Z"},
        {"uuid": "00000000-0000-0000-0000-0000000000a2", "description": "Deck", "status": "completed",
         "project": "gamma", "entry": "20260115T090000Z", "due": "20260112T000000Z",
         "end": "20260120T090000Z"}
    ]);
    let f = write(&t, "t.json", &tasks.to_string());
    let v = import(&t, &f);
    assert_eq!(v["new"], 4, "a client, two promises, one keep: {v}");
    assert_eq!(v["not_mapped"], json!([]), "{v}");
    let migrated = v["migrated"].as_array().expect("migrated");
    assert_eq!(migrated.len(), 2, "{v}");
    assert!(
        migrated[0]["how"]
            .as_str()
            .unwrap()
            .contains("made at its due"),
        "{v}"
    );
    let a = t.ok(&["audit", "--json"]).json();
    assert_eq!(a["promises"]["open_overdue"], 1, "{a}");
    assert_eq!(a["promises"]["kept_late"], 1, "{a}");
    let again = t.ok(&["import", f.to_str().unwrap(), "--format", "taskwarrior"]);
    assert!(
        again.stdout.contains("0 new"),
        "re-import adds nothing: {again:?}"
    );
}

#[test]
fn a_malformed_taskwarrior_file_is_refused_whole() {
    let t = Tl::new();
    t.ok(&["client", "add", "acme"]);
    let before = t.bytes().unwrap();
    for (text, fragment) in [
        ("[{\"uuid\": \"x\", \"description\": \"a\"", "not a JSON array"),
        ("[1]", "task #1: is a JSON number, not a task object"),
        (
            "[{\"uuid\":\"u\",\"description\":\"d\",\"status\":\"pending\",\"entry\":\"yesterday\"}]",
            "\"entry\" is \"yesterday\": expected a Taskwarrior date",
        ),
        (
            "{\"uuid\":\"u\",\"status\":\"pending\",\"entry\":\"20261101T090000Z\"}\nnot json\n",
            "has no \"description\"",
        ),
    ] {
        let f = write(&t, "bad.json", text);
        let out = t.run(&["import", f.to_str().unwrap(), "--format", "taskwarrior"]);
        assert_eq!(out.code, 1, "{text}: {out:?}");
        assert!(out.stderr.contains(fragment), "{text}: expected {fragment:?} in {}", out.stderr);
        assert_eq!(t.bytes().unwrap(), before, "{text}");
    }
}

#[test]
fn after_the_migration_the_journal_has_the_last_word() {
    let mut t = Tl::new();
    let task = |uuid: &str, what: &str, status: &str, end: Option<&str>| {
        let mut v = json!({"uuid": uuid, "description": what, "status": status, "project": "acme",
                           "entry": "20261101T090000Z", "due": "20261110T170000Z"});
        if let Some(e) = end {
            v["end"] = json!(e);
        }
        v
    };
    let first = json!([
        task("aaaaaaaa-1", "kept here", "pending", None),
        task("bbbbbbbb-2", "retracted here", "pending", None),
        task("cccccccc-3", "done there", "pending", None),
    ]);
    let v = import(&t, &write(&t, "1.json", &first.to_string()));
    assert_eq!(v["new"], 4, "a client and three promises: {v}");

    // In trustlog: promise 1 is kept, promise 2's PromiseMade (#3) retracted.
    t.now = "2026-11-12T09:00".into();
    t.ok(&["promise", "keep", "1"]);
    t.ok(&["retract", "3", "--reason", "not a promise after all"]);
    t.now = NOW.into();

    // Meanwhile in Taskwarrior all three were completed.
    let second = json!([
        task(
            "aaaaaaaa-1",
            "kept here",
            "completed",
            Some("20261115T090000Z")
        ),
        task(
            "bbbbbbbb-2",
            "retracted here",
            "completed",
            Some("20261115T090000Z")
        ),
        task(
            "cccccccc-3",
            "done there",
            "completed",
            Some("20261115T090000Z")
        ),
    ]);
    let before = t.bytes().unwrap();
    let v = import(&t, &write(&t, "2.json", &second.to_string()));
    assert_eq!(
        v["new"], 1,
        "only the completion the journal does not have: {v}"
    );
    let reasons: Vec<String> = v["not_mapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{}: {}",
                n["description"].as_str().unwrap(),
                n["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:#?}");
    assert!(
        reasons[0].starts_with("kept here: completed in Taskwarrior")
            && reasons[0].contains("already kept in the journal"),
        "{reasons:#?}"
    );
    assert!(
        reasons[1].starts_with("retracted here: imported before as promise 2, which was retracted"),
        "{reasons:#?}"
    );
    assert!(t.bytes().unwrap().starts_with(&before), "appended only");
    let kept = t.ok(&["log", "--json", "--kind", "PromiseKept"]).json();
    let kept: Vec<(u64, &str)> = kept
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["promise"].as_u64().unwrap(),
                k["occurred_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [(1, "2026-11-12T09:00:00Z"), (3, "2026-11-15T09:00:00Z")]
    );
    // And once more: nothing new.
    let again = import(&t, &write(&t, "2.json", &second.to_string()));
    assert_eq!(again["new"], 0, "{again}");
}
