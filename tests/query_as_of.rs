//! `--as-of T` end to end: the answer as it was known at T must equal the
//! same query on a copy of the journal cut at the last event recorded by T
//! (built by replaying only the recording commands run by T, with the same
//! pinned clocks, into a second journal) and asked with "now" = T. Checked
//! for every query, in JSON and for people, at several T: exactly at a
//! recording instant, between two, just before and after a retraction, and
//! after the last event. Plus: an event retracted after T still counts as
//! of T.

mod common;

use common::*;
use serde_json::Value;

/// Two clients over two months (TZ=UTC), with moves (one recorded after
/// its due), a backdated keep, a loss and a return, and retractions
/// recorded well after what they retract. Seqs and promise ids in the
/// comments.
fn history() -> Script {
    let mut s = Script::new();
    s.at("2026-09-01T09:00")
        .cmd(&["client", "add", "acme", "--name", "Acme Ltd"]) // 1
        .cmd(&["client", "add", "beta", "--fit", "off-target"]) // 2
        .cmd(&[
            "talk",
            "acme",
            "--kind",
            "meeting",
            "--mood",
            "2",
            "--minutes",
            "60",
            "kick-off",
        ]) // 3
        .cmd(&[
            "talk",
            "beta",
            "--kind",
            "call",
            "--mood",
            "-2",
            "--minutes",
            "10",
            "angry",
        ]) // 4
        .cmd(&["client", "want", "beta", "a full campaign"]) // 5
        .cmd(&["promise", "make", "acme", "logo", "--due", "2026-09-10"]) // 6: #1
        .cmd(&["promise", "make", "acme", "site", "--due", "2026-09-20"]) // 7: #2
        .cmd(&["promise", "make", "beta", "brief", "--due", "2026-09-08"]); // 8: #3
    s.at("2026-09-05T12:00")
        .cmd(&[
            "promise",
            "move",
            "2",
            "--due",
            "2026-09-30",
            "--cause",
            "us",
            "--agreed",
        ]) // 9
        .cmd(&["promise", "keep", "1"]) // 10 (retracted by 18)
        .cmd(&[
            "talk",
            "acme",
            "--kind",
            "call",
            "--mood",
            "1",
            "--minutes",
            "20",
            "check-in",
        ]); // 11
    s.at("2026-09-10T09:00")
        // 12: recorded after #3's due (09-08), dated before it
        .cmd(&[
            "promise",
            "move",
            "3",
            "--due",
            "2026-09-15",
            "--cause",
            "client",
            "--at",
            "2026-09-07T10:00",
        ])
        .cmd(&["client", "mismatch", "beta", "not what we asked"]) // 13
        .cmd(&[
            "promise",
            "make",
            "beta",
            "deck",
            "--due",
            "2026-09-12T17:00",
        ]); // 14: #4
    s.at("2026-09-14T09:00")
        .cmd(&["promise", "keep", "4", "--at", "2026-09-12T16:00"]) // 15: backdated
        .cmd(&[
            "promise",
            "move",
            "3",
            "--due",
            "2026-09-25",
            "--cause",
            "client",
            "--agreed",
        ]) // 16
        .cmd(&[
            "client",
            "praise",
            "acme",
            "--kind",
            "referral",
            "introduced Initech",
        ]); // 17
    s.at("2026-09-20T09:00")
        .cmd(&["retract", "10", "--reason", "kept the wrong promise"]) // 18
        .cmd(&["promise", "keep", "1", "--at", "2026-09-19T09:00"]) // 19: late
        .cmd(&["client", "lost", "beta", "--reason", "went elsewhere"]); // 20
    s.at("2026-10-02T09:00")
        .cmd(&["promise", "keep", "2", "--at", "2026-10-01T10:00"]) // 21: late
        .cmd(&["client", "back", "beta", "--note", "new budget"]) // 22
        .cmd(&["promise", "break", "3", "--reason", "no longer possible"]) // 23
        .cmd(&[
            "talk",
            "beta",
            "--kind",
            "visit",
            "--mood",
            "2",
            "--minutes",
            "90",
            "visit",
        ]); // 24 (retracted by 25)
    s.at("2026-10-20T09:00")
        .cmd(&["retract", "24", "--reason", "was someone else"]) // 25
        .cmd(&[
            "promise",
            "make",
            "beta",
            "second brief",
            "--due",
            "2026-11-30",
        ]); // 26: #5
    s
}

/// Every query, each asked with `--json` and for people.
fn queries() -> Vec<Vec<&'static str>> {
    let base: Vec<Vec<&'static str>> = vec![
        vec!["status"],
        vec!["status", "beta"],
        vec!["due"],
        vec!["due", "--within", "7d"],
        vec!["audit"],
        vec!["audit", "--client", "beta"],
        vec!["audit", "--from", "2026-09-09", "--to", "2026-09-30"],
        vec!["trust", "acme", "--history"],
        vec!["trust", "beta", "--history"],
        vec!["postmortem", "acme"],
        vec!["postmortem", "beta"],
        vec!["log"],
        vec!["log", "--client", "beta"],
    ];
    let mut all = Vec::new();
    for q in base {
        let mut json = vec!["--json"];
        json.extend(&q);
        all.push(json);
        all.push(q);
    }
    all.push(vec!["audit", "--csv"]);
    all
}

/// What a query answered, for comparison (and JSON parsed, so a failure
/// shows a readable diff).
fn answer(out: Output) -> (i32, Result<Value, String>, String) {
    let stdout = serde_json::from_str(out.stdout.trim()).map_err(|_| out.stdout.clone());
    (out.code, stdout, out.stderr)
}

#[test]
fn as_of_equals_the_same_query_on_the_journal_cut_at_that_time() {
    let script = history();
    let full = script.journal();
    let times = [
        // (T, steps recorded by T: checks `recorded_by` too)
        ("2026-09-01T09:00", 8),  // exactly at the first records
        ("2026-09-07T00:00", 11), // between two
        ("2026-09-14T09:00", 17), // a backdated keep just recorded
        ("2026-09-19T12:00", 17), // before the retraction of #10
        ("2026-09-20T09:00", 20), // at it
        ("2026-10-10T00:00", 24), // beta back; the visit not yet retracted
        ("2026-10-20T09:00", 26), // everything
        ("2026-12-01T00:00", 26), // after the pinned now: now = T
    ];
    for (t, k) in times {
        assert_eq!(script.recorded_by(t), k, "test bug: steps by {t}");
        let mut cut = Tl::new();
        script.play_first(&mut cut, k);
        assert_eq!(cut.replay().len(), k, "one event per step");
        cut.set_now(t);
        for q in queries() {
            let mut as_of = q.clone();
            as_of.extend(["--as-of", t]);
            let then = answer(full.query(&as_of));
            let cut_then = answer(cut.query(&q));
            assert_eq!(then, cut_then, "{q:?} as of {t}");
        }
        // Asked of the cut journal, --as-of T changes nothing
        let at = cut.query(&["--json", "audit", "--as-of", t]);
        let plain = cut.query(&["--json", "audit"]);
        assert_eq!(answer(at), answer(plain), "cut journal as of {t}");
    }
}

#[test]
fn as_of_reads_when_like_every_option() {
    let full = history().journal();
    // A date alone is the end of that day: the records of 09-20 09:00 count
    let day = full.query_json(&["log", "--as-of", "2026-09-20"]);
    assert_eq!(day.as_array().unwrap().len(), 20);
    let status = full.query_json(&["status", "--as-of", "2026-09-20"]);
    assert_eq!(status["now"], "2026-09-20T23:59:59.999999Z");
    // Relative to the pinned now (2026-11-20 10:00): `-35d` is the day
    // 2026-10-16, so its end (this needs `allow_hyphen_values`: clap took
    // `-35d` for an option and exited 2)
    let rel = full.query_json(&["status", "--as-of", "-35d"]);
    assert_eq!(rel["now"], "2026-10-16T23:59:59.999999Z");
    assert_eq!(rel, full.query_json(&["status", "--as-of", "2026-10-16"]));
    assert_eq!(
        full.query_json(&["audit", "--as-of", "-35d"]),
        full.query_json(&["audit", "--as-of", "2026-10-16"])
    );
    // Before the first record: nothing was known
    assert_eq!(
        full.query_json(&["log", "--as-of", "2026-08-31"]),
        serde_json::json!([])
    );
    let e = full.query_fails(1, &["trust", "acme", "--as-of", "2026-08-31"]);
    assert!(e.contains("\"acme\""), "{e}");
    let e = full.query_fails(1, &["due", "--as-of", "the day before"]);
    assert!(e.contains("--as-of") && e.contains("the day before"), "{e}");
}

#[test]
fn an_event_retracted_after_t_still_counts_as_of_t() {
    let full = history().journal();
    let before = "2026-09-19T12:00"; // #10 (keep of #1) recorded, not yet retracted
    let after = "2026-09-20T09:00";

    // Audit: #1 kept on time then; kept late (09-19) once the keep was retracted
    let row_of_1 = |t: &str| -> Vec<String> {
        let csv = full.query_ok(&["audit", "--csv", "--as-of", t]).stdout;
        csv.lines()
            .find(|l| l.starts_with("1,"))
            .unwrap_or_else(|| panic!("no row for #1 as of {t}: {csv}"))
            .split(',')
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row_of_1(before)[6..], ["kept_on_time", "0"]);
    assert_eq!(row_of_1(after)[6..], ["kept_late", "9"]); // 09-10 EOD → 09-19 09:00
    let audit_then = full.query_json(&["audit", "--as-of", before]);
    assert!(
        !audit_then["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "retracted"),
        "no retraction was known: {audit_then}"
    );
    let audit_now = full.query_json(&["audit"]);
    assert!(audit_now["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["kind"] == "retracted" && f["seq"] == 10 && f["retracted_by"] == 18));

    // Trust: the keep on time was in acme's history then, not now
    let has_keep_10 = |t: Option<&str>| -> bool {
        let mut args = vec!["trust", "acme"];
        if let Some(t) = t {
            args.extend(["--as-of", t]);
        }
        full.query_json(&args)["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["seq"] == 10)
    };
    assert!(has_keep_10(Some(before)));
    assert!(!has_keep_10(Some(after)));
    assert!(!has_keep_10(None));

    // Log: not marked retracted as of T
    let log_then = full.query_json(&["log", "--as-of", before]);
    assert_eq!(log_then[9]["seq"], 10);
    assert_eq!(log_then[9]["retracted_by"], Value::Null);
    assert_eq!(full.query_json(&["log"])[9]["retracted_by"], 18);

    // The visit to beta (#24, retracted on 10-20) was a contact on 10-10
    let pm = |t: &str| full.query_json(&["postmortem", "beta", "--as-of", t]);
    let then = pm("2026-10-10T00:00");
    let later = pm("2026-10-20T09:00");
    assert_eq!(
        then["timeline"].as_array().unwrap().last().unwrap()["seq"],
        24
    );
    assert_eq!(
        then["timeline"].as_array().unwrap().last().unwrap()["retracted_by"],
        Value::Null
    );
    assert_ne!(
        then["trust"]["score"], later["trust"]["score"],
        "the visit counted then"
    );
    let status_then = full.query_json(&["status", "beta", "--as-of", "2026-10-10T00:00"]);
    assert_eq!(
        status_then["clients"][0]["last_contact"],
        "2026-10-02T09:00:00Z"
    );
    let status_now = full.query_json(&["status", "beta"]);
    assert_eq!(
        status_now["clients"][0]["last_contact"],
        "2026-09-01T09:00:00Z"
    );
}
