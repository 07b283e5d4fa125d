//! The other queries end to end, through the real binary with the clock
//! pinned: `status`, `due`, `trust` (with the config file), `postmortem`
//! and `log`, their `--json` compared field by field with numbers derived
//! by hand from SPEC.md and docs/trust-model.md (defaults: mood 2 points a
//! step, first impression ×3, 40 h recovery debt, factor 0.5 while it is
//! open, move by the client 1.5, external 1, agreed ×0.5, kept after a
//! move +1, broken 15, mismatch 8).

mod common;

use common::*;
use serde_json::{json, Value};

/// Two clients (TZ=UTC); queried at NOW = 2026-11-20T10:00.
fn clients() -> Script {
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&["client", "add", "acme", "--name", "Acme Ltd"]) // 1
        .cmd(&[
            "client",
            "add",
            "beta",
            "--name",
            "Beta GmbH",
            "--fit",
            "off-target",
        ]) // 2
        // 3: first impression +2 × 2 × 3 = +12 → 62
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
        ])
        .cmd(&["promise", "make", "acme", "logo", "--due", "2026-11-10"]) // 4: #1
        .cmd(&["promise", "make", "acme", "site", "--due", "2026-11-22"]) // 5: #2
        .cmd(&["promise", "make", "beta", "brief", "--due", "2026-11-15"]) // 6: #3
        // 7: first impression −1 × 2 × 3 = −6 → 44, recovery debt opened
        .cmd(&[
            "talk",
            "beta",
            "--kind",
            "call",
            "--mood",
            "-1",
            "--minutes",
            "10",
            "--by",
            "client",
            "complaint",
        ]);
    s.at("2026-11-12T15:00")
        // 8: neutral: no change, but a contact
        .cmd(&[
            "talk",
            "acme",
            "--kind",
            "call",
            "--mood",
            "0",
            "--at",
            "2026-11-12T14:00",
            "status call",
        ])
        // 9: −1 (external, not agreed) → 61
        .cmd(&[
            "promise",
            "move",
            "2",
            "--due",
            "2026-11-25",
            "--cause",
            "external",
            "--reason",
            "printer strike",
        ])
        .cmd(&[
            "promise",
            "make",
            "acme",
            "deck",
            "--due",
            "2026-11-27T10:00",
        ]) // 10: #4
        .cmd(&["promise", "make", "acme", "later", "--due", "2026-12-20"]) // 11: #5
        .cmd(&["promise", "make", "acme", "booklet", "--due", "2026-11-27"]); // 12: #6
    s.at("2026-11-16T09:00").cmd(&[
        "client",
        "lost",
        "beta",
        "--reason",
        "went with a cheaper agency",
    ]); // 13
    s
}

fn acme_status(trust: f64) -> Value {
    json!({
        "client": "acme", "name": "Acme Ltd", "fit": "target", "status": "active",
        "lost_at": null, "lost_reason": null,
        "open_promises": 5,
        "next_due": "2026-11-10T23:59:59.999999Z", "next_promise": 1,
        "overdue": 1,
        "last_contact": "2026-11-12T14:00:00Z",
        "trust": trust,
    })
}

fn beta_status(trust: f64) -> Value {
    json!({
        "client": "beta", "name": "Beta GmbH", "fit": "off-target", "status": "lost",
        "lost_at": "2026-11-16T09:00:00Z", "lost_reason": "went with a cheaper agency",
        // a lost client's promise still counts
        "open_promises": 1,
        "next_due": "2026-11-15T23:59:59.999999Z", "next_promise": 3,
        "overdue": 1,
        "last_contact": "2026-11-01T09:00:00Z",
        "trust": trust,
    })
}

#[test]
fn status_lists_every_client_with_its_numbers() {
    let tl = clients().journal();
    let got = tl.query_json(&["status"]);
    assert_eq!(
        got,
        json!({
            "now": "2026-11-20T10:00:00Z",
            "clients": [acme_status(61.0), beta_status(44.0)],
        })
    );

    // With a handle, the same row (and the client in full under "client":
    // tests/views_client.rs).
    let one = tl.query_json(&["status", "beta"]);
    assert_eq!(
        (&one["now"], &one["clients"]),
        (&json!("2026-11-20T10:00:00Z"), &json!([beta_status(44.0)]))
    );

    // Human: one aligned row per client
    let out = tl.query_ok(&["status"]).stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("client"), "{out}");
    assert!(
        lines[1].starts_with("acme") && lines[1].contains("2026-11-10 23:59 (#1)"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("beta") && lines[2].contains("lost"),
        "{out}"
    );
    let col = |l: &str| {
        l.find("status")
            .or_else(|| l.find("active"))
            .or_else(|| l.find("lost"))
    };
    assert_eq!(col(lines[0]), col(lines[1]), "aligned:\n{out}");
    assert_eq!(col(lines[1]), col(lines[2]), "aligned:\n{out}");

    let e = tl.query_fails(1, &["status", "nobody"]);
    assert!(e.contains("\"nobody\"") && e.contains("acme"), "{e}");
}

/// One entry of `due --json`: (client, what), (due, date only), original
/// due, moves, (days overdue, seconds left).
fn due_item(
    promise: u64,
    (client, what): (&str, &str),
    (due, date_only): (&str, bool),
    original_due: &str,
    moves: u64,
    (days_overdue, seconds_left): (i64, i64),
) -> Value {
    json!({
        "promise": promise, "client": client, "what": what,
        "due": due, "date_only": date_only, "original_due": original_due,
        "moves": moves,
        "overdue": days_overdue > 0, "days_overdue": days_overdue,
        "seconds_left": seconds_left,
        "client_lost": client == "beta",
    })
}

#[test]
fn due_lists_open_promises_soonest_first_with_days_overdue() {
    const DAY: i64 = 86_400;
    let tl = clients().journal();
    let eod = |d: &str| format!("{d}T23:59:59.999999Z");
    // now = 11-20 10:00; seconds are whole, counted towards zero
    // #1 due 11-10 EOD: 9 d 10 h (+1 µs) ago → 10 days overdue
    let d = eod("2026-11-10");
    let p1 = due_item(
        1,
        ("acme", "logo"),
        (&d, true),
        &d,
        0,
        (10, -(9 * DAY + 10 * 3600)),
    );
    // #3 due 11-15 EOD: 4 d 10 h ago → 5 days overdue
    let d = eod("2026-11-15");
    let p3 = due_item(
        3,
        ("beta", "brief"),
        (&d, true),
        &d,
        0,
        (5, -(4 * DAY + 10 * 3600)),
    );
    // #2 moved 11-22 → 11-25 EOD: in 5 d 13:59:59
    let (d, orig) = (eod("2026-11-25"), eod("2026-11-22"));
    let p2 = due_item(
        2,
        ("acme", "site"),
        (&d, true),
        &orig,
        1,
        (0, 5 * DAY + 50_399),
    );
    // #4 due 11-27 10:00: in exactly 7 days
    let d = "2026-11-27T10:00:00Z";
    let p4 = due_item(4, ("acme", "deck"), (d, false), d, 0, (0, 7 * DAY));
    let d = eod("2026-11-27");
    let p6 = due_item(
        6,
        ("acme", "booklet"),
        (&d, true),
        &d,
        0,
        (0, 7 * DAY + 50_399),
    );
    let d = eod("2026-12-20");
    let p5 = due_item(
        5,
        ("acme", "later"),
        (&d, true),
        &d,
        0,
        (0, 30 * DAY + 50_399),
    );

    let all = tl.query_json(&["due"]);
    assert_eq!(
        all,
        json!({
            "now": "2026-11-20T10:00:00Z",
            "within_seconds": null,
            "promises": [p1, p3, p2, p4, p6, p5],
        })
    );

    // Within 7 days: due by the end of 11-27 (a span of whole days runs to
    // the end of its last day); overdue always listed
    let week = tl.query_json(&["due", "--within", "7d"]);
    assert_eq!(
        week,
        json!({
            "now": "2026-11-20T10:00:00Z",
            "within_seconds": 7 * DAY + 50_399,
            "promises": [p1, p3, p2, p4],
        })
    );
    let ids = |v: &Value| -> Vec<u64> {
        v["promises"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["promise"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&tl.query_json(&["due", "--within", "1h"])), [1, 3]);
    assert_eq!(
        ids(&tl.query_json(&["due", "--within", "2w"])),
        [1, 3, 2, 4, 6]
    );
    assert_eq!(ids(&tl.query_json(&["due", "--within", "30min"])), [1, 3]);

    // Human: overdue marked with days, the lost client named so
    let out = tl.query_ok(&["due", "--within", "7d"]).stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[1].contains("logo") && lines[1].contains("OVERDUE 10d"),
        "{out}"
    );
    assert!(
        lines[2].contains("beta (lost)") && lines[2].contains("OVERDUE 5d"),
        "{out}"
    );
    assert!(
        lines[3].contains("site") && lines[3].contains("in 5d"),
        "{out}"
    );
    assert!(
        lines[4].contains("deck") && lines[4].contains("in 7d"),
        "{out}"
    );
}

#[test]
fn due_with_a_bad_span_exits_1_and_names_it() {
    let tl = clients().journal();
    for bad in ["7", "7x", "week", "d7", "", "=-1d"] {
        let arg = format!(
            "--within{}{bad}",
            if bad.starts_with('=') { "" } else { "=" }
        );
        let e = tl.query_fails(1, &["due", &arg]);
        assert!(e.contains("--within"), "{arg}: {e}");
        assert!(e.contains("7d"), "says what is expected: {e}");
    }
    let e = tl.query_fails(1, &["due", "--within", "99999999999999999999d"]);
    assert!(e.contains("99999999999999999999d"), "{e}");
}

#[test]
fn trust_json_has_the_spec_shape_and_the_first_impression_says_its_weight() {
    let tl = clients().journal();
    assert_eq!(
        tl.query_json(&["trust", "acme"]),
        json!({
            "client": "acme",
            "score": 61.0,
            "history": [
                {"at": "2026-11-01T09:00:00Z", "seq": 1, "score": 50.0, "change": 0.0,
                 "reason": "client added: neutral start at 50"},
                {"at": "2026-11-01T09:00:00Z", "seq": 3, "score": 62.0, "change": 12.0,
                 "reason": "first impression, mood +2, weighed ×3"},
                {"at": "2026-11-12T15:00:00Z", "seq": 9, "score": 61.0, "change": -1.0,
                 "reason": "promise #2 moved (cause: external), not agreed: −1"},
            ],
        })
    );
    assert_eq!(
        tl.query_json(&["trust", "beta", "--history"]),
        json!({
            "client": "beta",
            "score": 44.0,
            "history": [
                {"at": "2026-11-01T09:00:00Z", "seq": 2, "score": 50.0, "change": 0.0,
                 "reason": "client added: neutral start at 50"},
                {"at": "2026-11-01T09:00:00Z", "seq": 7, "score": 44.0, "change": -6.0,
                 "reason": "first impression, mood −1, weighed ×3: recovery debt 40 h opened"},
            ],
        })
    );
    // Human, with the history as a table and the debt still owed
    let out = tl.query_ok(&["trust", "beta", "--history"]).stdout;
    assert!(out.starts_with("beta: trust 44 / 100\n"), "{out}");
    assert!(out.contains("recovery debt: 40.0 h"), "{out}");
    assert!(out.contains("weighed ×3"), "{out}");
    let short = tl.query_ok(&["trust", "acme"]).stdout;
    assert_eq!(short, "acme: trust 61 / 100\n");

    let e = tl.query_fails(1, &["trust", "nobody"]);
    assert!(e.contains("\"nobody\""), "{e}");
}

#[test]
fn ten_good_hours_after_a_bad_first_impression_stay_below_a_good_one() {
    let mut s = Script::new();
    s.at("2026-10-01T09:00")
        .cmd(&["client", "add", "good"])
        .cmd(&["client", "add", "bad"]);
    let meeting = |who: &'static str, mood: &'static str| -> Vec<&'static str> {
        vec![
            "talk",
            who,
            "--kind",
            "meeting",
            "--mood",
            mood,
            "--minutes",
            "60",
        ]
    };
    s.cmd(&meeting("good", "2")).cmd(&meeting("bad", "-2"));
    let days: Vec<String> = (2..=11).map(|d| format!("2026-10-{d:02}T09:00")).collect();
    for day in &days {
        s.at(day)
            .cmd(&meeting("good", "2"))
            .cmd(&meeting("bad", "2"));
    }
    let tl = s.journal();
    let good = tl.query_json(&["trust", "good"]);
    let bad = tl.query_json(&["trust", "bad"]);
    // good: 50 + 12 = 62, then +4 per meeting, clamped at 100
    // bad: 50 − 12 = 38, then +4 × 0.5 per meeting = 58, 40 h − 10 h owed
    assert_eq!(
        (good["score"].as_f64(), bad["score"].as_f64()),
        (Some(100.0), Some(58.0))
    );
    assert!(bad["score"].as_f64() < good["score"].as_f64());
    let last = |v: &Value| v["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last(&good)["change"], 2.0);
    assert!(
        last(&good)["reason"]
            .as_str()
            .unwrap()
            .ends_with("(clamped at 100)"),
        "{good}"
    );
    let bad_last = last(&bad)["reason"].as_str().unwrap().to_string();
    assert!(
        bad_last.contains("during recovery debt")
            && bad_last.contains("30 h of recovery debt left"),
        "{bad_last}"
    );
    assert_eq!(bad["history"].as_array().unwrap().len(), 1 + 1 + 10);
    assert!(
        tl.query_ok(&["trust", "bad"])
            .stdout
            .contains("recovery debt: 30.0 h"),
        "the debt still owed is shown"
    );
}

#[test]
fn a_config_file_overrides_the_trust_parameters() {
    let tl = clients().journal();
    let cfg = tl.dir.path().join("trust.toml");
    std::fs::write(&cfg, "[trust]\nfirst_impression_weight = 5\n").unwrap();
    let cfg = cfg.to_str().unwrap();

    // acme: 50 + 2 × 2 × 5 = 70, then −1 → 69; beta: 50 − 1 × 2 × 5 = 40
    let acme = tl.query_json(&["--config", cfg, "trust", "acme"]);
    assert_eq!(acme["score"], 69.0);
    assert_eq!(acme["history"][1]["change"], 20.0);
    assert_eq!(
        acme["history"][1]["reason"],
        "first impression, mood +2, weighed ×5"
    );
    let status = tl.query_json(&["--config", cfg, "status"]);
    assert_eq!(
        status["clients"],
        json!([acme_status(69.0), beta_status(40.0)])
    );
    let pm = tl.query_json(&["--config", cfg, "postmortem", "beta"]);
    assert_eq!(pm["trust_at_end"], 40.0);

    // Without it, the defaults
    assert_eq!(tl.query_json(&["trust", "acme"])["score"], 61.0);

    // A config in the default place (XDG config dir) counts too
    let xdg = tl.dir.path().join("home/.config/trustlog");
    std::fs::create_dir_all(&xdg).unwrap();
    std::fs::write(
        xdg.join("config.toml"),
        "[trust]\nfirst_impression_weight = 1\n",
    )
    .unwrap();
    // acme: 50 + 4 = 54, − 1 = 53
    assert_eq!(tl.query_json(&["trust", "acme"])["score"], 53.0);
}

#[test]
fn a_bad_config_file_exits_1_naming_the_key() {
    let tl = clients().journal();
    let write = |name: &str, text: &str| -> String {
        let p = tl.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let cases = [
        (
            write("typo.toml", "[trust]\nfirst_impresion_weight = 5\n"),
            "first_impresion_weight",
        ),
        (write("neg.toml", "[trust]\nbroken = -3\n"), "`broken`"),
        (
            write("factor.toml", "[trust]\ndebt_positive_factor = 1.5\n"),
            "`debt_positive_factor`",
        ),
        (write("table.toml", "[trusst]\nbroken = 3\n"), "trusst"),
        (
            write("minutes.toml", "[trust.contact_minutes]\ncall = -5\n"),
            "call",
        ),
    ];
    for (path, key) in &cases {
        for q in [&["trust", "acme"][..], &["status"], &["postmortem", "beta"]] {
            let mut args = vec!["--config", path.as_str()];
            args.extend_from_slice(q);
            let e = tl.query_fails(1, &args);
            assert!(e.contains(key), "{args:?}: {key} not named in {e}");
            assert!(e.contains(path.as_str()), "names the file: {e}");
        }
    }
    // Two problems at once are both named
    let two = write("two.toml", "[trust]\nbroken = -3\nmove_us = 200\n");
    let e = tl.query_fails(1, &["--config", &two, "trust", "acme"]);
    assert!(e.contains("`broken`") && e.contains("`move_us`"), "{e}");
    // A missing explicit config is an error, not a silent default
    let e = tl.query_fails(1, &["--config", "/nonexistent/trustlog.toml", "status"]);
    assert!(e.contains("/nonexistent/trustlog.toml"), "{e}");
}

/// A lost client with every warning sign (TZ=UTC). Trust, per
/// docs/trust-model.md, in the comments.
fn globex() -> Script {
    let mut s = Script::new();
    s.at("2026-06-01T09:00")
        .cmd(&["client", "add", "globex", "--name", "Globex"]) // 1: 50
        // 2: −2 × 2 × 3 = −12 → 38, 40 h debt
        .cmd(&[
            "talk",
            "globex",
            "--kind",
            "call",
            "--mood",
            "-2",
            "--minutes",
            "15",
            "angry",
        ])
        // 3: before any expectation; −8 → 30
        .cmd(&["client", "mismatch", "globex", "expected a full campaign"])
        .cmd(&["promise", "make", "globex", "brief", "--due", "2026-06-10"]) // 4: #1
        .cmd(&[
            "promise",
            "make",
            "globex",
            "moodboard",
            "--due",
            "2026-06-12",
        ]); // 5: #2
    s.at("2026-06-05T10:00")
        // 6: +1 × 2 × 0.5 = +1 → 31; 60 min repaid, 39 h left
        .cmd(&[
            "talk",
            "globex",
            "--kind",
            "meeting",
            "--mood",
            "1",
            "--minutes",
            "60",
            "workshop",
        ])
        .cmd(&[
            "client",
            "want",
            "globex",
            "a campaign for the autumn launch",
        ]) // 7
        // 8: client, agreed: −1.5 × 0.5 = −0.75 → 30.25
        .cmd(&[
            "promise",
            "move",
            "1",
            "--due",
            "2026-06-20",
            "--cause",
            "client",
            "--agreed",
            "--reason",
            "their input came late",
        ]);
    s.at("2026-06-15T09:00")
        // 9: client, not agreed, recorded after the due 06-12: −1.5 → 28.75
        .cmd(&[
            "promise",
            "move",
            "2",
            "--due",
            "2026-06-25",
            "--cause",
            "client",
            "--reason",
            "legal review",
        ])
        .cmd(&[
            "client",
            "fit",
            "globex",
            "off-target",
            "--reason",
            "wants a full agency",
        ]) // 10
        // 11: kept after its original due, by the moved one: +1 × 0.5 → 29.25
        .cmd(&["promise", "keep", "1"]);
    s.at("2026-07-30T09:00")
        .cmd(&[
            "talk", "globex", "--kind", "email", "--mood", "0", "chasing",
        ]) // 12
        // 13: −15 → 14.25
        .cmd(&[
            "promise",
            "break",
            "2",
            "--reason",
            "client stopped answering",
        ])
        // 14: after the expectation; −8 → 6.25
        .cmd(&["client", "mismatch", "globex", "not what we asked for"])
        .cmd(&[
            "talk",
            "globex",
            "--kind",
            "call",
            "--mood",
            "2",
            "--minutes",
            "30",
            "meant for acme",
        ]) // 15
        .cmd(&["retract", "15", "--reason", "wrong client"]); // 16
    s.at("2026-09-10T09:00").cmd(&[
        "client",
        "lost",
        "globex",
        "--reason",
        "went with a cheaper agency",
    ]); // 17
    s
}

#[test]
fn postmortem_of_a_lost_client_has_every_part_and_the_warnings_most_serious_first() {
    let tl = globex().journal();
    let pm = tl.query_json(&["postmortem", "globex"]);

    assert_eq!(pm["client"], "globex");
    assert_eq!(pm["name"], "Globex");
    assert_eq!(pm["status"], "lost");
    assert_eq!(pm["lost_at"], "2026-09-10T09:00:00Z");
    assert_eq!(pm["end"], "2026-09-10T09:00:00Z");
    assert_eq!(pm["lost_reason"], "went with a cheaper agency");
    assert_eq!(
        (&pm["initial_fit"], &pm["fit"]),
        (&json!("target"), &json!("off-target"))
    );
    assert_eq!(
        pm["fit_changes"],
        json!([{"seq": 10, "at": "2026-06-15T09:00:00Z", "from": "target",
                "to": "off-target", "reason": "wants a full agency"}])
    );
    let fi = &pm["first_impression"];
    assert_eq!(
        (&fi["seq"], &fi["mood"], &fi["minutes"]),
        (&json!(2), &json!(-2), &json!(15))
    );
    assert_eq!(fi["at"], "2026-06-01T09:00:00Z");

    // Expectations and mismatches side by side: the first mismatch came
    // before anything was written down
    let note = |seq: u64, at: &str, text: &str| json!({"seq": seq, "at": at, "text": text});
    let m3 = note(3, "2026-06-01T09:00:00Z", "expected a full campaign");
    let e7 = note(
        7,
        "2026-06-05T10:00:00Z",
        "a campaign for the autumn launch",
    );
    let m14 = note(14, "2026-07-30T09:00:00Z", "not what we asked for");
    assert_eq!(pm["expectations"], json!([e7]));
    assert_eq!(pm["mismatches"], json!([m3, m14]));
    assert_eq!(
        pm["side_by_side"],
        json!([
            {"expectation": null, "mismatches": [m3]},
            {"expectation": e7, "mismatches": [m14]},
        ])
    );

    // Contacts 06-01 09:00, 06-05 10:00, 07-30 09:00 (the retracted call
    // does not count): longest gap 54 d 23 h; 42 days before the loss
    assert_eq!(
        pm["longest_silence"],
        json!({"from": "2026-06-05T10:00:00Z", "to": "2026-07-30T09:00:00Z",
               "days": 54, "seconds": 54 * 86_400 + 23 * 3_600})
    );
    assert_eq!(
        pm["silence_before_end"],
        json!({"from": "2026-07-30T09:00:00Z", "to": "2026-09-10T09:00:00Z",
               "days": 42, "seconds": 42 * 86_400})
    );

    // Trust: as `trust --json` says, and 6.25 at the loss
    assert_eq!(pm["trust"], tl.query_json(&["trust", "globex"]));
    assert_eq!(pm["trust_at_end"], 6.25);
    let scores: Vec<(u64, f64)> = pm["trust"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["seq"].as_u64().unwrap(), h["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        scores,
        [
            (1, 50.0),
            (2, 38.0),
            (3, 30.0),
            (6, 31.0),
            (8, 30.25),
            (9, 28.75),
            (11, 29.25),
            (13, 14.25),
            (14, 6.25)
        ]
    );

    // The audit for that client: #1 kept after a move (06-15 09:00, 4 d 9 h
    // after its original due: 5 days late), #2 broken; both moves the
    // client's, one recorded after its due; the retracted call listed
    let mut audit = tl.query_json(&["audit", "--client", "globex"]);
    audit.as_object_mut().unwrap().remove("client");
    assert_eq!(pm["audit"], audit);
    assert_eq!(
        pm["audit"]["promises"],
        json!({"kept_on_time": 0, "kept_after_move": 1, "kept_late": 0, "broken": 1,
               "released": 0, "open_overdue": 0, "open": 0, "total": 2})
    );
    assert_eq!(pm["audit"]["original_date_hit_rate"], 0.0);
    assert_eq!(
        pm["audit"]["moves"],
        json!({"us": 0, "client": 2, "external": 0, "after_due": 1, "earlier": 0})
    );
    let flags: Vec<(&str, u64)> = pm["audit"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["seq"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        flags,
        [
            ("move_after_due", 9),
            ("blame_pattern", 9),
            ("retracted", 15)
        ]
    );
    let rows: Vec<(u64, &str, &Value)> = pm["promises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["promise"].as_u64().unwrap(),
                r["outcome"].as_str().unwrap(),
                &r["days_late"],
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "kept_after_move", &json!(5)),
            (2, "broken", &Value::Null)
        ]
    );

    // Every warning sign, most serious first
    let warnings: Vec<(u64, &str)> = pm["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["rank"].as_u64().unwrap(), w["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        warnings,
        [
            (1, "bad_first_impression_unrecovered"),
            (2, "low_hit_rate"),
            (3, "blame_on_client"),
            (4, "mismatch_without_expectation"),
            (5, "off_target_fit"),
            (6, "long_silence"),
            (7, "promise_broken"),
            (8, "mismatch_noted"),
        ]
    );
    let msg = |i: usize| pm["warnings"][i]["message"].as_str().unwrap().to_string();
    assert!(
        // Whole points in words, as every score people read (issue 12.11);
        // `trust_at_end` keeps 6.25.
        msg(0).contains("39 h") && msg(0).contains("trust 6 at the loss"),
        "{}",
        msg(0)
    );
    assert!(
        msg(1).contains("0%") && msg(1).contains("0 of 2"),
        "{}",
        msg(1)
    );
    assert!(
        msg(2).contains("2 of 2") && msg(2).contains("blame pattern"),
        "{}",
        msg(2)
    );
    assert!(msg(3).contains("expected a full campaign"), "{}", msg(3));
    assert!(msg(4).contains("wants a full agency"), "{}", msg(4));
    assert!(msg(5).contains("42 days"), "{}", msg(5));

    // The timeline: every event of the client, the retracted one marked
    // and without a trust value
    let timeline = pm["timeline"].as_array().unwrap();
    let seqs: Vec<u64> = timeline
        .iter()
        .map(|t| t["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=17).collect::<Vec<_>>());
    assert_eq!(timeline[14]["retracted_by"], 16);
    assert_eq!(timeline[14]["trust_after"], Value::Null);
    assert_eq!(timeline[13]["retracted_by"], Value::Null);
    assert_eq!(timeline[13]["trust_after"], 6.25);
    assert_eq!(timeline[16]["kind"], "ClientLost");

    // Human: the same warnings in the same order
    let out = tl.query_ok(&["postmortem", "globex"]).stdout;
    let mut at = 0;
    for (rank, kind) in &warnings {
        let line = format!("{rank}. [{kind}]");
        let i = out[at..]
            .find(&line)
            .unwrap_or_else(|| panic!("{line:?} missing or out of order in:\n{out}"));
        at += i + line.len();
    }
    assert!(out.contains("[retracted by #16]"), "{out}");
    assert!(out.contains("wanted: (nothing recorded)"), "{out}");
    assert!(out.contains("longest silence: 54 days"), "{out}");

    let e = tl.query_fails(1, &["postmortem", "nobody"]);
    assert!(e.contains("\"nobody\""), "{e}");
}

/// Regression pin: `first_impression.kind` in `postmortem --json` is the
/// Rust variant name (`"Call"`), where every other JSON output — the event
/// JSON's `interaction`, documented in the README — uses the word users
/// type (`"call"`), and src/projections/mod.rs promises "enums are the
/// words users type". `InteractionKind` derives `Serialize` without
/// `rename_all` (src/events/model.rs), and `FirstImpression`
/// (src/projections/trust.rs) serializes it as is.
#[test]
fn bug_postmortem_first_impression_kind_is_not_the_word_users_type() {
    let tl = globex().journal();
    let pm = tl.query_json(&["postmortem", "globex"]);
    let log = tl.query_json(&["log", "--kind", "Interacted"]);
    assert_eq!(log[0]["interaction"], "call");
    assert_eq!(
        pm["first_impression"]["kind"], "call",
        "{}",
        pm["first_impression"]
    );
}

#[test]
fn log_filters_by_client_and_kind_and_marks_retractions() {
    let tl = clients().journal();
    let seqs = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect()
    };
    let all = tl.query_json(&["log"]);
    assert_eq!(seqs(&all), (1..=13).collect::<Vec<_>>());
    // beta: added, its promise, its call, its loss
    assert_eq!(
        seqs(&tl.query_json(&["log", "--client", "beta"])),
        [2, 6, 7, 13]
    );
    // A promise event names no client: it is found through its promise
    let moved = tl.query_json(&["log", "--client", "acme", "--kind", "promise-moved"]);
    assert_eq!(seqs(&moved), [9]);
    assert_eq!(moved[0]["promise"], 2);
    assert_eq!(moved[0]["cause"], "external");
    assert_eq!(moved[0]["recorded_at"], "2026-11-12T15:00:00Z");
    assert_eq!(moved[0]["retracted_by"], Value::Null);
    assert_eq!(
        seqs(&tl.query_json(&["log", "--kind", "PROMISE_MADE"])),
        [4, 5, 6, 10, 11, 12]
    );
    assert_eq!(
        seqs(&tl.query_json(&["log", "--client", "beta", "--kind", "PromiseMoved"])),
        Vec::<u64>::new()
    );
    // The backdated call shows when it happened, and when it was written
    assert_eq!(all[7]["occurred_at"], "2026-11-12T14:00:00Z");
    assert_eq!(all[7]["recorded_at"], "2026-11-12T15:00:00Z");

    let e = tl.query_fails(1, &["log", "--kind", "Promised"]);
    assert!(
        e.contains("\"Promised\"") && e.contains("PromiseKept"),
        "{e}"
    );
    let e = tl.query_fails(1, &["log", "--client", "nobody"]);
    assert!(e.contains("\"nobody\""), "{e}");

    // Retractions: the retracted event says by which seq, in JSON and text
    let tl = globex().journal();
    let all = tl.query_json(&["log"]);
    let marked: Vec<(u64, u64)> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["retracted_by"].is_null())
        .map(|e| {
            (
                e["seq"].as_u64().unwrap(),
                e["retracted_by"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(marked, [(15, 16)]);
    let retraction = tl.query_json(&["log", "--kind", "retracted"]);
    assert_eq!(seqs(&retraction), [16]);
    assert_eq!(retraction[0]["retracted"], 15);
    assert_eq!(retraction[0]["reason"], "wrong client");
    let text = tl.query_ok(&["log", "--client", "globex"]).stdout;
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("15 "))
        .unwrap_or_else(|| panic!("no line for #15:\n{text}"));
    assert!(
        line.contains("[retracted by #16]") && line.contains("meant for acme"),
        "{line}"
    );
    assert!(!text
        .lines()
        .any(|l| l.trim_start().starts_with("14 ") && l.contains("retracted by")));
}
