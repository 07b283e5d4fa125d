//! `trustlog audit` end to end: journals recorded through the real binary
//! over several pinned clocks (so `recorded_at` and `occurred_at` tell a
//! story), then `audit --json` compared with the object SPEC.md's "deadline
//! audit (precise)" defines — every count, every move, every flag — plus
//! `--client`, `--from`/`--to` on the ORIGINAL due, `--csv` and the errors.
//!
//! Every expected number below is derived by hand from SPEC.md in the
//! comments next to it, never copied from the binary's output.

mod common;

use common::*;
use serde_json::{json, Value};

/// The audit's journal (TZ=UTC). Seqs and promise ids in the comments.
///
/// acme gets one promise per outcome (#1–#7, all originally due
/// 2026-09-10) and one move per cause; beta a blame pattern and a move
/// recorded after the due it moved; cora a backdated keep, a retracted keep
/// and a retracted promise.
fn scenario() -> Script {
    let mut s = Script::new();
    s.at("2026-09-01T09:00")
        .cmd(&["client", "add", "acme", "--name", "Acme Ltd"]) // 1
        .cmd(&["client", "add", "beta", "--fit", "off-target"]) // 2
        .cmd(&["client", "add", "cora"]); // 3
                                          // promises #1..#7 = seqs 4..10
    for what in [
        "on time",
        "after a move",
        "late",
        "broken",
        "released",
        "overdue",
        "open",
    ] {
        s.cmd(&["promise", "make", "acme", what, "--due", "2026-09-10"]);
    }
    s.at("2026-09-05T12:00")
        // 11: #2 → 09-20, by us, agreed, recorded before the due
        .cmd(&[
            "promise",
            "move",
            "2",
            "--due",
            "2026-09-20",
            "--cause",
            "us",
            "--agreed",
        ])
        // 12: #3 → 09-15, external
        .cmd(&[
            "promise",
            "move",
            "3",
            "--due",
            "2026-09-15",
            "--cause",
            "external",
        ])
        // 13: #7 → 12-31, the client's doing, agreed
        .cmd(&[
            "promise",
            "move",
            "7",
            "--due",
            "2026-12-31",
            "--cause",
            "client",
            "--agreed",
        ])
        .cmd(&["promise", "keep", "1"]); // 14: 09-05 ≤ 09-10 → on time
    s.at("2026-09-18T09:00")
        .cmd(&["promise", "keep", "2"]) // 15: 09-18 > 09-10, ≤ 09-20 → after move
        .cmd(&["promise", "keep", "3"]) // 16: 09-18 > 09-15 → late
        .cmd(&["promise", "break", "4", "--reason", "cannot"]) // 17
        .cmd(&["promise", "release", "5", "--reason", "not needed"]); // 18
    s.at("2026-09-20T09:00")
        .cmd(&["promise", "make", "beta", "brief", "--due", "2026-10-01"]) // 19: #8
        .cmd(&["promise", "make", "beta", "deck", "--due", "2026-10-05"]) // 20: #9
        .cmd(&[
            "promise",
            "make",
            "cora",
            "report, \"final\"",
            "--due",
            "2026-10-01T17:00",
        ]) // 21: #10
        .cmd(&["promise", "make", "cora", "slides", "--due", "2026-10-10"]) // 22: #11
        .cmd(&["promise", "make", "cora", "typo", "--due", "2026-10-20"]) // 23: #12
        // 24: #8 → 10-10, client, agreed, in time
        .cmd(&[
            "promise",
            "move",
            "8",
            "--due",
            "2026-10-10",
            "--cause",
            "client",
            "--agreed",
        ]);
    s.at("2026-10-03T09:00")
        // 25: delivered on 10-01 16:00 (before 17:00) but recorded on 10-03
        .cmd(&["promise", "keep", "10", "--at", "2026-10-01T16:00"]);
    s.at("2026-10-08T09:00")
        // 26: #8 → 10-20, client again; the due in force (10-10) has not passed
        .cmd(&[
            "promise",
            "move",
            "8",
            "--due",
            "2026-10-20",
            "--cause",
            "client",
        ])
        // 27: #9 → 10-12 by us, recorded 10-08 after its due 10-05 had
        // passed, and dated 10-04 (before the due)
        .cmd(&[
            "promise",
            "move",
            "9",
            "--due",
            "2026-10-12",
            "--cause",
            "us",
            "--at",
            "2026-10-04T10:00",
        ])
        .cmd(&["promise", "keep", "11", "--at", "2026-10-08T08:00"]); // 28
    s.at("2026-10-12T10:00")
        .cmd(&["promise", "keep", "9"]) // 29: 10-12 10:00 ≤ 10-12 → after move
        .cmd(&["retract", "28", "--reason", "wrong promise"]) // 30
        .cmd(&["retract", "23", "--reason", "never promised"]); // 31
    s.at("2026-10-15T09:00").cmd(&["promise", "keep", "8"]); // 32: ≤ 10-20 → after move
    s
}

/// The flags with their `message` taken out (checked separately).
fn split_flags(v: &mut Value) -> Vec<String> {
    v["flags"]
        .as_array_mut()
        .expect("flags is an array")
        .iter_mut()
        .map(|f| {
            f.as_object_mut()
                .unwrap()
                .remove("message")
                .and_then(|m| m.as_str().map(str::to_string))
                .expect("every flag has a message")
        })
        .collect()
}

fn flag(
    kind: &str,
    client: Option<&str>,
    promise: Option<u64>,
    seq: u64,
    retracted_by: Option<u64>,
    reason: Option<&str>,
) -> Value {
    json!({
        "kind": kind,
        "client": client,
        "promise": promise,
        "seq": seq,
        "retracted_by": retracted_by,
        "reason": reason,
    })
}

fn promises(counts: [u64; 7]) -> Value {
    let [a, b, c, d, e, f, g] = counts;
    json!({
        "kept_on_time": a, "kept_after_move": b, "kept_late": c, "broken": d,
        "released": e, "open_overdue": f, "open": g, "total": a + b + c + d + e + f + g,
    })
}

// `earlier` (pull-ins, issue 15.3) is 0 in the shared scenario; the pull-in
// test below and the projection's unit tests count it.
fn moves(us: u64, client: u64, external: u64, after_due: u64) -> Value {
    json!({"us": us, "client": client, "external": external, "after_due": after_due, "earlier": 0})
}

#[test]
fn audit_json_of_every_outcome_move_and_flag_is_exactly_the_spec_object() {
    let tl = scenario().journal();
    let mut got = tl.query_json(&["audit"]);
    let messages = split_flags(&mut got);

    let want = json!({
        "period": {"from": null, "to": null},
        // on time: #1, #10 · after move: #2, #8, #9 · late: #3 · broken: #4
        // · released: #5 · open overdue: #6, #11 (its keep was retracted)
        // · open: #7 (moved to 12-31) · #12 was retracted: not counted
        "promises": promises([2, 3, 1, 1, 1, 2, 1]),
        // kept_on_time / (all − released − open) = 2 / (11 − 1 − 1)
        "original_date_hit_rate": 2.0 / 9.0,
        // us: #2, #9 · client: #7, #8 twice · external: #3 · after due: #9
        "moves": moves(2, 3, 1, 1),
        "flags": [
            flag("move_after_due", Some("beta"), Some(9), 27, None, None),
            flag("backdated_keep", Some("cora"), Some(10), 25, None, None),
            // beta: 2 of 3 moves blamed on the client; the last one is #26
            flag("blame_pattern", Some("beta"), None, 26, None, None),
            flag("retracted", Some("cora"), Some(12), 23, Some(31), Some("never promised")),
            flag("retracted", Some("cora"), Some(11), 28, Some(30), Some("wrong promise")),
        ],
    });
    assert_eq!(got, want);

    // The messages say what happened, with the numbers an auditor checks;
    // their times in RFC 3339 UTC like every JSON time (issue 13: JSON
    // never depends on TZ; the human audit below says them in local time).
    let expect_in = |i: usize, parts: &[&str]| {
        for p in parts {
            assert!(
                messages[i].contains(p),
                "flag {i}: {p:?} not in {:?}",
                messages[i]
            );
        }
    };
    expect_in(
        0,
        &[
            "#9",
            "#27",
            "2026-10-05T23:59:59.999999Z",
            "2026-10-08T09:00:00Z",
            "before the due",
        ],
    );
    expect_in(
        1,
        &[
            "#10",
            "2026-10-01T16:00:00Z",
            "2026-10-03T09:00:00Z",
            "backdated",
        ],
    );
    expect_in(2, &["beta", "2 of 3"]);
    expect_in(3, &["#23", "PromiseMade", "#31", "never promised"]);
    expect_in(4, &["#28", "PromiseKept", "#30", "wrong promise"]);
}

#[test]
fn audit_of_one_client_is_the_same_object_for_that_client() {
    let tl = scenario().journal();

    // beta: #8 and #9, both kept after a move: nothing kept on its first date
    let mut beta = tl.query_json(&["audit", "--client", "beta"]);
    split_flags(&mut beta);
    assert_eq!(
        beta,
        json!({
            "client": "beta",
            "period": {"from": null, "to": null},
            "promises": promises([0, 2, 0, 0, 0, 0, 0]),
            "original_date_hit_rate": 0.0,
            "moves": moves(1, 2, 0, 1),
            "flags": [
                flag("move_after_due", Some("beta"), Some(9), 27, None, None),
                flag("blame_pattern", Some("beta"), None, 26, None, None),
            ],
        })
    );

    // cora: #10 on time, #11 open overdue; her two retractions
    let mut cora = tl.query_json(&["audit", "--client", "cora"]);
    split_flags(&mut cora);
    assert_eq!(
        cora,
        json!({
            "client": "cora",
            "period": {"from": null, "to": null},
            "promises": promises([1, 0, 0, 0, 0, 1, 0]),
            "original_date_hit_rate": 0.5,
            "moves": moves(0, 0, 0, 0),
            "flags": [
                flag("backdated_keep", Some("cora"), Some(10), 25, None, None),
                flag("retracted", Some("cora"), Some(12), 23, Some(31), Some("never promised")),
                flag("retracted", Some("cora"), Some(11), 28, Some(30), Some("wrong promise")),
            ],
        })
    );

    // acme: one of each outcome; 1 / (7 − released − open) = 1/5; one
    // client move out of three is no pattern
    let mut acme = tl.query_json(&["audit", "--client", "acme"]);
    assert!(split_flags(&mut acme).is_empty());
    assert_eq!(acme["promises"], promises([1, 1, 1, 1, 1, 1, 1]));
    assert_eq!(acme["original_date_hit_rate"], json!(0.2));
    assert_eq!(acme["moves"], moves(1, 1, 1, 0));
}

#[test]
fn period_is_on_the_original_due_not_the_last() {
    let tl = scenario().journal();

    // 10-01 00:00 .. 10-05 23:59:59.999999: #8 (orig 10-01, last 10-20:
    // counts), #9 (orig 10-05, the last day of the period), #10 (10-01
    // 17:00). Not #11 (10-10), not #7 (orig 09-10, last 12-31).
    let mut got = tl.query_json(&["audit", "--from", "2026-10-01", "--to", "2026-10-05"]);
    split_flags(&mut got);
    assert_eq!(
        got,
        json!({
            "period": {"from": "2026-10-01T00:00:00Z", "to": "2026-10-05T23:59:59.999999Z"},
            "promises": promises([1, 2, 0, 0, 0, 0, 0]),
            "original_date_hit_rate": 1.0 / 3.0,
            "moves": moves(1, 2, 0, 1),
            // the retractions concern #11 and #12, due outside the period
            "flags": [
                flag("move_after_due", Some("beta"), Some(9), 27, None, None),
                flag("backdated_keep", Some("cora"), Some(10), 25, None, None),
                flag("blame_pattern", Some("beta"), None, 26, None, None),
            ],
        })
    );

    // #7 was moved to 12-31, inside this period, but was first due 09-10
    let late = tl.query_json(&["audit", "--from", "2026-09-11", "--to", "2026-12-31"]);
    assert_eq!(late["promises"]["open"], 0, "{late}");
    assert_eq!(late["promises"]["total"], 4, "#8–#11 only: {late}");
    // …and counts where it was first due, although moved out of that period
    let early = tl.query_json(&["audit", "--to", "2026-09-30"]);
    assert_eq!(early["promises"], promises([1, 1, 1, 1, 1, 1, 1]));
    assert_eq!(
        early["period"],
        json!({"from": null, "to": "2026-09-30T23:59:59.999999Z"})
    );
    // the retraction of #12 (due 10-20) belongs to 10-20's period
    let mut last = tl.query_json(&["audit", "--from", "2026-10-20"]);
    split_flags(&mut last);
    assert_eq!(last["promises"]["total"], 0);
    assert_eq!(last["original_date_hit_rate"], Value::Null);
    assert_eq!(
        last["flags"],
        json!([flag(
            "retracted",
            Some("cora"),
            Some(12),
            23,
            Some(31),
            Some("never promised")
        )])
    );
}

#[test]
fn hit_rate_is_null_when_nothing_is_decided() {
    // Only a released promise and an open one: denominator 0
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&["client", "add", "acme"])
        .cmd(&["promise", "make", "acme", "a", "--due", "2026-11-25"])
        .cmd(&["promise", "make", "acme", "b", "--due", "2026-11-25"])
        .cmd(&["promise", "release", "2", "--reason", "agreed"]);
    let tl = s.journal();
    let got = tl.query_json(&["audit"]);
    assert_eq!(
        got,
        json!({
            "period": {"from": null, "to": null},
            "promises": promises([0, 0, 0, 0, 1, 0, 1]),
            "original_date_hit_rate": null,
            "moves": moves(0, 0, 0, 0),
            "flags": [],
        })
    );
    let human = tl.query_ok(&["audit"]).stdout;
    assert!(human.contains("n/a"), "{human}");
    // And an empty period
    let none = tl.query_json(&["audit", "--from", "2027-01-01"]);
    assert_eq!(none["promises"]["total"], 0);
    assert_eq!(none["original_date_hit_rate"], Value::Null);
}

#[test]
fn human_audit_shows_the_rate_the_moves_and_the_flags() {
    let tl = scenario().journal();
    let out = tl.query_ok(&["audit"]).stdout;
    for part in [
        "kept as originally promised: 22%", // 2/9
        "; 1 recorded after the due had passed",
        "[move_after_due]",
        "[backdated_keep]",
        "[blame_pattern]",
        "[retracted]",
        "report, \"final\"",
        // In local time for people (TZ=UTC here), RFC 3339 in JSON
        "was recorded 2026-10-08 09:00 (dated 2026-10-04 10:00",
        // Pull-ins counted apart (issue 15.3)
        "moves: 2 by us, 3 by the client, 1 external, 0 pulled in to an earlier due;",
    ] {
        assert!(out.contains(part), "{part:?} missing from:\n{out}");
    }
}

#[test]
fn csv_has_the_header_and_one_rfc4180_row_per_promise() {
    let tl = scenario().journal();
    let out = tl.query_ok(&["audit", "--csv", "--client", "cora"]).stdout;
    // By original due. #11: open since its keep was retracted, 10-10
    // 23:59:59.999999 → 11-20 10:00 is 40 days and 10 hours: 41 days late.
    // Times in the local zone (UTC here) with its offset, a date-only due
    // as its day (issue 12.9).
    let want = "promise,client,what,original_due,last_due,moves,outcome,days_late\r\n\
                10,cora,\"report, \"\"final\"\"\",2026-10-01T17:00:00+00:00,2026-10-01T17:00:00+00:00,0,kept_on_time,0\r\n\
                11,cora,slides,2026-10-10,2026-10-10,0,open_overdue,41\r\n";
    assert_eq!(out, want);

    // Every promise of the period, broken and released without days late
    let all = tl
        .query_ok(&["audit", "--csv", "--to", "2026-09-30"])
        .stdout;
    let lines: Vec<&str> = all.split("\r\n").collect();
    assert_eq!(
        lines.len(),
        1 + 7 + 1,
        "header, 7 rows, final CRLF: {all:?}"
    );
    assert_eq!(lines[8], "");
    let row = |id: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("no row for #{id} in {all:?}"))
            .split(',')
            .collect()
    };
    // #3: moved to 09-15 by an external cause, kept 09-18 09:00: 7 days
    // and 9 hours after its original due → 8 days late
    assert_eq!(
        row("3"),
        [
            "3",
            "acme",
            "late",
            "2026-09-10",
            "2026-09-15",
            "1",
            "kept_late",
            "8"
        ]
    );
    assert_eq!(row("4")[6..], ["broken", ""]);
    assert_eq!(row("5")[6..], ["released", ""]);
    assert_eq!(row("7")[4..], ["2026-12-31", "1", "open", "71"]);

    // No promise: the header alone
    let empty = tl
        .query_ok(&["audit", "--csv", "--from", "2030-01-01"])
        .stdout;
    assert_eq!(
        empty,
        "promise,client,what,original_due,last_due,moves,outcome,days_late\r\n"
    );
}

#[test]
fn a_date_only_due_kept_at_2359_that_day_is_on_time_and_the_next_morning_late() {
    for tz in ["UTC", "Asia/Tokyo", "America/New_York"] {
        let mut s = Script::new();
        s.at("2026-09-01T09:00")
            .cmd(&["client", "add", "acme"])
            .cmd(&["promise", "make", "acme", "a", "--due", "2026-09-10"])
            .cmd(&["promise", "make", "acme", "b", "--due", "2026-09-10"])
            .cmd(&["promise", "make", "acme", "c", "--due", "2026-09-10"]);
        s.at("2026-09-11T09:00")
            .cmd(&["promise", "keep", "1", "--at", "2026-09-10T23:59"])
            .cmd(&["promise", "keep", "2", "--at", "2026-09-10T23:59:59"])
            .cmd(&["promise", "keep", "3", "--at", "2026-09-11T08:00"]);
        let mut tl = Tl::new();
        tl.tz = tz.to_string();
        s.play(&mut tl);
        let csv = tl.query_ok(&["audit", "--csv"]).stdout;
        let outcomes: Vec<(&str, &str)> = csv
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[6], f[7])
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                ("kept_on_time", "0"),
                ("kept_on_time", "0"),
                ("kept_late", "1")
            ],
            "TZ={tz}: {csv}"
        );
        let got = tl.query_json(&["audit"]);
        assert_eq!(got["promises"], promises([2, 0, 1, 0, 0, 0, 0]), "TZ={tz}");
        // Both were recorded the next morning, after the due, but dated on
        // time: backdated
        let backdated: Vec<&Value> = got["flags"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "backdated_keep")
            .map(|f| &f["promise"])
            .collect();
        assert_eq!(backdated, [&json!(1), &json!(2)], "TZ={tz}");
    }
}

/// Regression pin: a date-only due ends at 23:59:59.999999, so a delivery
/// at 00:00:00 the next day is 1 µs late. `days_after`
/// (src/projections/mod.rs) counts whole *seconds* first
/// (`Timestamp::seconds_until` truncates), so that delivery is `kept_late`
/// with 0 days late — contradicting its own doc ("a delivery at 00:00:00
/// the next day is a day late") — and the same truncation shows in `due`
/// ("OVERDUE 0d" at midnight) and in the trust model's late penalty
/// ("kept 0 days after its due: −(2 + 1 × 0)").
#[test]
fn bug_kept_at_midnight_after_a_date_only_due_is_late_by_zero_days() {
    let mut s = Script::new();
    s.at("2026-09-01T09:00")
        .cmd(&["client", "add", "acme"])
        .cmd(&["promise", "make", "acme", "a", "--due", "2026-09-10"])
        .cmd(&["promise", "make", "acme", "b", "--due", "2026-09-10"]);
    s.at("2026-09-11T09:00")
        .cmd(&["promise", "keep", "1", "--at", "2026-09-11T00:00"]);
    let tl = s.journal();
    let mut wrong = Vec::new();

    let csv = tl.query_ok(&["audit", "--csv"]).stdout;
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    if row[6..] != ["kept_late", "1"] {
        wrong.push(format!("audit row of #1: {:?}", &row[6..]));
    }
    let due = tl.query_json(&["--now", "2026-09-11T00:00", "due"]);
    if due["promises"][0]["days_overdue"] != 1 {
        wrong.push(format!("due at midnight: {}", due["promises"][0]));
    }
    let trust = tl.query_json(&["trust", "acme"]);
    let last = &trust["history"][1];
    if last["change"] != -3.0 {
        wrong.push(format!("trust: {last}"));
    }
    assert!(wrong.is_empty(), "1 µs late counted as 0 days: {wrong:#?}");
}

#[test]
fn bad_audit_arguments_exit_1_and_name_the_problem() {
    let tl = scenario().journal();
    let before = tl.bytes();

    let e = tl.query_fails(1, &["audit", "--csv", "--json"]);
    assert!(e.contains("--csv") && e.contains("--json"), "{e}");
    let e = tl.query_fails(1, &["--json", "audit", "--csv"]);
    assert!(e.contains("--csv"), "{e}");

    let e = tl.query_fails(1, &["audit", "--from", "2026-10-06", "--to", "2026-10-05"]);
    assert!(e.contains("--from") && e.contains("--to"), "{e}");
    assert!(e.contains("2026-10-06"), "{e}");
    // The same day is a one-day period, not an error
    let one_day = tl.query_json(&["audit", "--from", "2026-10-05", "--to", "2026-10-05"]);
    assert_eq!(one_day["promises"]["total"], 1, "#9 only: {one_day}");

    let e = tl.query_fails(1, &["audit", "--client", "nobody"]);
    assert!(e.contains("\"nobody\""), "{e}");
    assert!(
        e.contains("acme") && e.contains("beta"),
        "lists the known ones: {e}"
    );
    let e = tl.query_fails(1, &["audit", "--csv", "--client", "nobody"]);
    assert!(e.contains("nobody"), "{e}");

    let e = tl.query_fails(1, &["audit", "--from", "someday"]);
    assert!(e.contains("--from") && e.contains("someday"), "{e}");

    assert_eq!(tl.bytes(), before, "a query never writes");
}

#[test]
fn period_bounds_take_every_when_form_including_negative_offsets() {
    let tl = scenario().journal();
    // NOW is 2026-11-20: -80d is 2026-09-01, -50d is 2026-10-01 (before
    // the fix in query.rs, clap read `-80d` as an option: exit 2)
    let rel = tl.query_json(&["audit", "--from", "-80d", "--to", "-50d"]);
    let abs = tl.query_json(&["audit", "--from", "2026-09-01", "--to", "2026-10-01"]);
    assert_eq!(rel, abs);
    assert_eq!(
        rel["period"],
        json!({"from": "2026-09-01T00:00:00Z", "to": "2026-10-01T23:59:59.999999Z"})
    );
    // #1–#7 (09-10), #8 (10-01) and #10 (10-01 17:00)
    assert_eq!(rel["promises"]["total"], 9);
    let e = tl.query_fails(1, &["audit", "--from", "-1d", "--to", "-2d"]);
    assert!(e.contains("--from"), "{e}");
}

/// Regression pin: `AuditReport::flags` is documented (audit.rs) as
/// "within a kind by seq", but move and keep flags come out in promise-id
/// order: a move recorded after the due of promise #1 (seq 7) is listed
/// before an earlier one of promise #2 (seq 6).
#[test]
fn bug_flags_within_a_kind_are_not_in_seq_order() {
    let mut s = Script::new();
    s.at("2026-09-01T09:00")
        .cmd(&["client", "add", "acme"])
        .cmd(&["promise", "make", "acme", "a", "--due", "2026-09-05"])
        .cmd(&["promise", "make", "acme", "b", "--due", "2026-09-05"]);
    s.at("2026-09-07T09:00")
        .cmd(&[
            "promise",
            "move",
            "2",
            "--due",
            "2026-09-10",
            "--cause",
            "us",
        ]) // 4
        .cmd(&[
            "promise",
            "move",
            "1",
            "--due",
            "2026-09-10",
            "--cause",
            "us",
        ]); // 5
    let tl = s.journal();
    let got = tl.query_json(&["audit"]);
    let seqs: Vec<&Value> = got["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["seq"])
        .collect();
    assert_eq!(seqs, [&json!(4), &json!(5)], "{got}");
}

/// Regression pin: a blame pattern's `seq` is documented (audit.rs `Flag`)
/// as "the last client-caused move", but it is the last one of the
/// highest-numbered promise, whatever their order in the journal.
#[test]
fn bug_blame_pattern_seq_is_not_the_last_client_move() {
    let mut s = Script::new();
    s.at("2026-09-01T09:00")
        .cmd(&["client", "add", "acme"])
        .cmd(&["promise", "make", "acme", "a", "--due", "2026-09-20"])
        .cmd(&["promise", "make", "acme", "b", "--due", "2026-09-20"])
        .cmd(&[
            "promise",
            "move",
            "2",
            "--due",
            "2026-09-25",
            "--cause",
            "client",
        ]) // 4
        .cmd(&[
            "promise",
            "move",
            "1",
            "--due",
            "2026-09-25",
            "--cause",
            "client",
        ]); // 5
    let tl = s.journal();
    let got = tl.query_json(&["audit"]);
    let blame: Vec<&Value> = got["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "blame_pattern")
        .collect();
    assert_eq!(blame.len(), 1, "{got}");
    assert_eq!(blame[0]["seq"], 5, "the last client move is #5: {got}");
}

/// The audit read from a checkpoint (its promises in columns, with only the
/// texts its flags print for `--json`) plus the events after it prints,
/// byte for byte, what a fold of the whole journal prints: for checkpoints
/// cut after several steps of the scenario, every format and filter.
#[test]
fn audit_from_a_checkpoint_and_a_tail_prints_what_a_full_replay_prints() {
    let s = scenario();
    let queries: [&[&str]; 7] = [
        &["--json", "audit"],
        &["--json", "audit", "--client", "beta"],
        &[
            "--json",
            "audit",
            "--client",
            "cora",
            "--from",
            "2026-09-01",
        ],
        &[
            "--json",
            "audit",
            "--from",
            "2026-09-10",
            "--to",
            "2026-10-05",
        ],
        &["--json", "audit", "--as-of", "2026-10-01"],
        &["audit", "--csv"],
        &["audit", "--client", "acme"],
    ];
    let run = |tl: &Tl, every: &str, args: &[&str]| {
        let mut c = tl.query_command();
        c.env("TRUSTLOG_CHECKPOINT_BYTES", every)
            .arg("--journal")
            .arg(&tl.journal)
            .args(args);
        output(c)
    };
    let n = s.steps.len();
    for k in [1, n / 3, n / 2, n - 2, n] {
        let mut tl = Tl::new();
        s.play_first(&mut tl, k);
        // Any query of a journal that has no checkpoint writes one when
        // checkpoints come every byte.
        run(&tl, "1", &["audit", "--json"]);
        let checkpoint = tl.journal.with_file_name(format!(
            "{}.checkpoint",
            tl.journal.file_name().unwrap().to_string_lossy()
        ));
        assert!(checkpoint.exists(), "no checkpoint after step {k}");
        let before = tl.now.clone();
        for (now, args) in &s.steps[k..] {
            tl.set_now(now);
            tl.ok(args);
        }
        tl.set_now(&before);
        for q in queries {
            // A threshold no tail reaches: the checkpoint is read, never
            // rewritten; 0: no checkpoint at all.
            let warm = run(&tl, "1000000000", q);
            let full = run(&tl, "0", q);
            assert_eq!(warm.code, 0, "{q:?} after step {k}: {warm:?}");
            assert_eq!(
                (warm.stdout, warm.stderr),
                (full.stdout, full.stderr),
                "{q:?}, checkpoint after step {k}"
            );
        }
    }
}

/// A journal with an import of events recorded before its own records
/// (issue 15.2): `new` records acme at 2026-10-01 09:00 and a talk at
/// 10:00; the import brings `old`'s client and promise, recorded on
/// 2026-09-01 09:00 (import keeps `recorded_at`), after them.
fn with_import_of_older_events() -> (Tl, std::path::PathBuf) {
    let mut old = Tl::new();
    old.set_now("2026-09-01T09:00");
    old.ok(&["client", "add", "old"]);
    old.ok(&["promise", "make", "old", "brief", "--due", "2026-09-20"]);
    let export = old.ok(&["export"]).stdout;
    let mut tl = Tl::new();
    let file = tl.dir.path().join("old.jsonl");
    std::fs::write(&file, export).unwrap();
    tl.set_now("2026-10-01T09:00");
    tl.ok(&["client", "add", "acme"]); // 1
    tl.set_now("2026-10-01T10:00");
    tl.ok(&["talk", "acme", "--mood", "1"]); // 2
    (tl, file)
}

fn out_of_order(v: &Value) -> Vec<Value> {
    v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "recorded_out_of_order")
        .cloned()
        .collect()
}

#[test]
fn regression_15_2_an_import_of_events_recorded_earlier_is_flagged_out_of_order() {
    let (mut tl, file) = with_import_of_older_events();
    // A journal in order: no such flag
    assert_eq!(
        out_of_order(&tl.query_json(&["audit"])),
        Vec::<Value>::new()
    );
    tl.set_now("2026-10-02T09:00");
    tl.ok(&["import", file.to_str().unwrap()]); // 3, 4: recorded 09-01
    assert_eq!(tl.replay()[2].recorded_at, ts("2026-09-01T09:00"));

    let v = tl.query_json(&["audit"]);
    let mut flags = out_of_order(&v);
    let messages: Vec<String> = flags
        .iter_mut()
        .map(|f| {
            f.as_object_mut()
                .unwrap()
                .remove("message")
                .unwrap()
                .as_str()
                .unwrap()
                .into()
        })
        .collect();
    assert_eq!(
        flags,
        [
            json!({"kind": "recorded_out_of_order", "client": "old", "promise": null,
                   "seq": 3, "retracted_by": null, "reason": null}),
            json!({"kind": "recorded_out_of_order", "client": "old", "promise": 1,
                   "seq": 4, "retracted_by": null, "reason": null}),
        ]
    );
    // Each names its seq, its recorded_at and the later time already seen
    for (m, kind) in messages.iter().zip(["ClientAdded", "PromiseMade"]) {
        for part in [
            kind,
            "recorded 2026-09-01T09:00:00Z",
            "#2",
            "2026-10-01T10:00:00Z",
        ] {
            assert!(m.contains(part), "{part:?} not in {m:?}");
        }
    }
    // They are the last flags
    assert_eq!(v["flags"].as_array().unwrap().len(), 2, "{v}");

    // The client's audit has them; another client's has none
    assert_eq!(
        out_of_order(&tl.query_json(&["audit", "--client", "old"])).len(),
        2
    );
    assert!(out_of_order(&tl.query_json(&["audit", "--client", "acme"])).is_empty());

    // The human audit, in local time
    let human = tl.query_ok(&["audit"]).stdout;
    assert!(
        human.contains("[recorded_out_of_order] event #4 (PromiseMade, old) was recorded 2026-09-01 09:00, earlier than #2")
            && human.contains("(recorded 2026-10-01 10:00)"),
        "{human}"
    );
}

/// The running latest `recorded_at` is audit state a checkpoint must
/// keep: records out of order before and after the checkpoint answer as a
/// full fold does.
#[test]
fn regression_15_2_out_of_order_records_before_and_after_a_checkpoint() {
    let (mut tl, file) = with_import_of_older_events();
    tl.set_now("2026-10-02T09:00");
    tl.ok(&["import", file.to_str().unwrap()]); // 3, 4: out of order
    let run = |tl: &Tl, every: &str, args: &[&str]| {
        let mut c = tl.query_command();
        c.env("TRUSTLOG_CHECKPOINT_BYTES", every)
            .arg("--journal")
            .arg(&tl.journal)
            .args(args);
        output(c)
    };
    run(&tl, "1", &["audit", "--json"]);
    let checkpoint = trustlog::app::checkpoint::path_for(&tl.journal);
    assert!(checkpoint.exists());
    // After it: older records again, out of order only against a record
    // before the checkpoint (#2), then a record in order
    let mut mid = Tl::new();
    mid.set_now("2026-09-20T12:00");
    mid.ok(&["client", "add", "mid"]);
    mid.ok(&["talk", "mid"]);
    let f2 = tl.dir.path().join("mid.jsonl");
    std::fs::write(&f2, mid.ok(&["export"]).stdout).unwrap();
    tl.set_now("2026-10-03T09:00");
    tl.ok(&["import", f2.to_str().unwrap()]); // 5, 6: before #2's 10-01 10:00
    tl.set_now("2026-10-04T09:00");
    tl.ok(&["talk", "acme"]); // 7 at 10-04: in order
    for q in [
        &["--json", "audit"][..],
        &["--json", "audit", "--client", "mid"],
        &["audit"],
    ] {
        let warm = run(&tl, "1000000000", q);
        let full = run(&tl, "0", q);
        assert_eq!(warm.code, 0, "{warm:?}");
        assert_eq!(
            (&warm.stdout, &warm.stderr),
            (&full.stdout, &full.stderr),
            "{q:?}"
        );
    }
    let v = tl.query_json(&["audit"]);
    let seqs: Vec<u64> = out_of_order(&v)
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [3, 4, 5, 6]);
    assert!(
        out_of_order(&v)[2]["message"]
            .as_str()
            .unwrap()
            .contains("#2 "),
        "{v}"
    );
}

/// Issue 13: `audit --json` is the same bytes whatever the reader's time
/// zone (its flag messages once said times in local time); the human
/// audit is in local time.
#[test]
fn regression_13_audit_json_does_not_depend_on_tz() {
    let (mut tl, file) = with_import_of_older_events();
    tl.set_now("2026-10-02T09:00");
    tl.ok(&["import", file.to_str().unwrap()]);
    // Every kind of flag with a time in its words, and a retracted move
    // (its words say its due)
    let mut s = scenario();
    s.at("2026-10-16T09:00")
        .cmd(&["retract", "27", "--reason", "typo"]);
    let mut sc = s.journal();
    for tl in [&mut sc, &mut tl] {
        let mut outs = Vec::new();
        let mut human = Vec::new();
        for tz in ["UTC", "Asia/Kolkata", "America/New_York"] {
            tl.tz = tz.to_string();
            outs.push(tl.query_ok(&["--json", "audit"]).stdout);
            human.push(tl.query_ok(&["audit"]).stdout);
        }
        assert_eq!(outs[1], outs[0], "TZ=Asia/Kolkata");
        assert_eq!(outs[2], outs[0], "TZ=America/New_York");
        assert!(outs[0].contains("T09:00:00Z"), "{}", outs[0]);
        assert_ne!(human[1], human[0], "the human audit is in local time");
        tl.tz = "UTC".into();
    }
}

/// Issue 15.3 end to end: made due 10-10, pulled in to 10-05 by us, kept
/// 10-07 — after its last due, before the original: `kept_late`; the
/// pull-in is in `moves.earlier`, in no cause, and costs no trust.
#[test]
fn regression_15_3_pulled_in_then_kept_after_the_new_due_is_kept_late() {
    let mut tl = Tl::new();
    tl.set_now("2026-09-01T09:00");
    tl.ok(&["client", "add", "acme"]); // 1
    tl.ok(&["promise", "make", "acme", "deck", "--due", "2026-10-10"]); // 2
    tl.set_now("2026-09-15T09:00");
    tl.ok(&[
        "promise",
        "move",
        "1",
        "--due",
        "2026-10-05",
        "--cause",
        "us",
    ]); // 3
    tl.set_now("2026-10-07T12:00");
    tl.ok(&["promise", "keep", "1"]); // 4
    tl.set_now("2026-10-20T09:00");

    let v = tl.query_json(&["audit"]);
    assert_eq!(v["promises"], promises([0, 0, 1, 0, 0, 0, 0]), "{v}");
    assert_eq!(
        v["moves"],
        json!({"us": 0, "client": 0, "external": 0, "after_due": 0, "earlier": 1})
    );
    assert_eq!(v["original_date_hit_rate"], 0.0);
    let csv = tl.query_ok(&["audit", "--csv"]).stdout;
    // Two days past the due it was pulled in to (2026-10-05 end of day).
    assert!(
        csv.lines().any(|l| l.trim_end().ends_with(",kept_late,2")),
        "{csv}"
    );
    let human = tl.query_ok(&["audit"]).stdout;
    assert!(
        human.contains(
            "moves: 0 by us, 0 by the client, 0 external, 1 pulled in to an earlier due;"
        ),
        "{human}"
    );

    // Trust: the move is not in the history (no cost); the keep is late
    let t = tl.query_json(&["trust", "acme"]);
    let history = t["history"].as_array().unwrap();
    let seqs: Vec<u64> = history.iter().map(|h| h["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 4], "{t}");
    assert!(history[1]["change"].as_f64().unwrap() < 0.0, "{t}");
    assert!(
        history[1]["reason"]
            .as_str()
            .unwrap()
            .contains("after its due"),
        "{t}"
    );
}
