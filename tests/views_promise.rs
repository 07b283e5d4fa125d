//! `promise show`, `promise list`, `due --client` and `log --promise/--from/
//! --to/--limit` through the binary (issue 12.1): JSON keys pinned, `--as-of`,
//! unknown ids and handles.

mod common;

use common::{Script, Tl};
use serde_json::{json, Value};

/// acme and beta; promise 1 (acme) moved by the client and kept late
/// against its original due, 2 (acme) open, 3 (beta) broken, 4 (acme)
/// made by mistake and retracted, 5 (acme) kept on time.
fn journal() -> Tl {
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&["client", "add", "acme", "--name", "Acme Ltd"])
        .cmd(&["client", "add", "beta"])
        .at("2026-11-02T10:00")
        .cmd(&[
            "promise",
            "make",
            "acme",
            "logo drafts",
            "--due",
            "2026-11-06",
        ]) // #3
        .cmd(&[
            "promise",
            "make",
            "acme",
            "brand book",
            "--due",
            "2026-11-30",
        ]) // #4
        .cmd(&["promise", "make", "beta", "site", "--due", "2026-11-08"]) // #5
        .at("2026-11-05T10:00")
        .cmd(&[
            "promise",
            "move",
            "1",
            "--due",
            "2026-11-09",
            "--cause",
            "client",
            "--agreed",
            "--reason",
            "brief late",
        ]) // #6
        .at("2026-11-07T10:00")
        .cmd(&["promise", "break", "3", "--reason", "no budget"]) // #7
        .cmd(&["promise", "make", "acme", "oops", "--due", "2026-11-20"]) // #8
        .cmd(&["retract", "8", "--reason", "typo"]) // #9
        .at("2026-11-09T10:00")
        .cmd(&["promise", "keep", "1"]) // #10
        .cmd(&["promise", "make", "acme", "cards", "--due", "2026-11-12"]) // #11
        .at("2026-11-11T10:00")
        .cmd(&["promise", "keep", "5"]); // #12
    s.journal()
}

fn ids(v: &Value) -> Vec<u64> {
    v["promises"]
        .as_array()
        .expect("promises")
        .iter()
        .map(|p| p["promise"].as_u64().expect("an id"))
        .collect()
}

#[test]
fn promise_show_gives_the_whole_history_and_the_outcome_against_the_original() {
    let t = journal();
    let v = t.query_json(&["promise", "show", "1"]);
    assert_eq!(
        v,
        json!({
            "now": "2026-11-20T10:00:00Z",
            "promise": {
                "promise": 1, "client": "acme", "what": "logo drafts",
                "status": "kept", "outcome": "kept_after_move",
                "made_at": "2026-11-02T10:00:00Z",
                "original_due": "2026-11-06T23:59:59.999999Z", "original_due_date_only": true,
                "due": "2026-11-09T23:59:59.999999Z", "date_only": true,
                "moves": 1, "closed_at": "2026-11-09T10:00:00Z", "days_late": 3
            },
            "history": [
                {"seq": 3, "step": "made", "occurred_at": "2026-11-02T10:00:00Z",
                 "recorded_at": "2026-11-02T10:00:00Z", "author": "alice",
                 "due": "2026-11-06T23:59:59.999999Z", "date_only": true,
                 "from_due": null, "cause": null, "agreed_by_client": null, "after_due": null,
                 "text": "logo drafts", "retracted_by": null},
                {"seq": 6, "step": "moved", "occurred_at": "2026-11-05T10:00:00Z",
                 "recorded_at": "2026-11-05T10:00:00Z", "author": "alice",
                 "due": "2026-11-09T23:59:59.999999Z", "date_only": true,
                 "from_due": "2026-11-06T23:59:59.999999Z", "cause": "client",
                 "agreed_by_client": true, "after_due": false,
                 "text": "brief late", "retracted_by": null},
                {"seq": 10, "step": "kept", "occurred_at": "2026-11-09T10:00:00Z",
                 "recorded_at": "2026-11-09T10:00:00Z", "author": "alice",
                 "due": null, "date_only": null,
                 "from_due": null, "cause": null, "agreed_by_client": null, "after_due": null,
                 "text": "", "retracted_by": null}
            ]
        })
    );
    let text = t.query_ok(&["promise", "show", "1"]).stdout;
    assert!(
        text.starts_with("promise 1: logo drafts for acme\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "kept 3 days late against the original 2026-11-06 (last due 2026-11-09) [kept_after_move]"
        ),
        "{text}"
    );
    assert!(
        text.contains("caused by client, agreed by the client: brief late"),
        "{text}"
    );
}

#[test]
fn promise_show_as_of_a_day_sees_the_promise_as_it_was_then() {
    let t = journal();
    let v = t.query_json(&["promise", "show", "1", "--as-of", "2026-11-06T12:00"]);
    assert_eq!(v["promise"]["status"], "open");
    assert_eq!(v["promise"]["outcome"], "open");
    assert_eq!(v["promise"]["days_late"], 0);
    assert_eq!(v["history"].as_array().map(Vec::len), Some(2));
    // Not made yet then.
    let e = t.query_fails(1, &["promise", "show", "5", "--as-of", "2026-11-05"]);
    assert!(
        e.contains("unknown promise 5: promise ids go from 1 to 3"),
        "{e}"
    );
}

#[test]
fn promise_show_of_an_unknown_or_retracted_id_exits_1_and_says_which() {
    let t = journal();
    let before = t.bytes();
    let e = t.query_fails(1, &["promise", "show", "99"]);
    assert!(
        e.contains("unknown promise 99: promise ids go from 1 to 5"),
        "{e}"
    );
    let e = t.query_fails(1, &["promise", "show", "4"]);
    assert!(e.contains("promise 4 was retracted"), "{e}");
    let empty = Tl::new();
    let e = empty.query_fails(1, &["promise", "show", "1"]);
    assert!(e.contains("no journal at"), "{e}");
    empty.ok(&["client", "add", "acme"]);
    for args in [&["promise", "show", "1"][..], &["log", "--promise", "1"]] {
        let e = empty.query_fails(1, args);
        assert!(
            e.contains("no promises have been made yet"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(t.bytes(), before);
}

#[test]
fn promise_list_filters_by_client_and_open_or_closed() {
    let t = journal();
    assert_eq!(ids(&t.query_json(&["promise", "list"])), [1, 2, 3, 5]);
    assert_eq!(ids(&t.query_json(&["promise", "list", "--open"])), [2]);
    assert_eq!(
        ids(&t.query_json(&["promise", "list", "--closed"])),
        [1, 3, 5]
    );
    let acme = t.query_json(&["promise", "list", "--client", "acme", "--closed"]);
    assert_eq!(ids(&acme), [1, 5]);
    assert_eq!(
        (&acme["client"], &acme["filter"]),
        (&json!("acme"), &json!("closed"))
    );
    let keys: Vec<&str> = acme
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["client", "filter", "now", "promises"]);
    // One row's keys, and the audit's outcome words.
    let row = &acme["promises"][1];
    assert_eq!(
        row,
        &json!({
            "promise": 5, "client": "acme", "what": "cards", "status": "kept",
            "outcome": "kept_on_time", "made_at": "2026-11-09T10:00:00Z",
            "original_due": "2026-11-12T23:59:59.999999Z", "original_due_date_only": true,
            "due": "2026-11-12T23:59:59.999999Z", "date_only": true, "moves": 0,
            "closed_at": "2026-11-11T10:00:00Z", "days_late": 0
        })
    );
    let beta = t.query_json(&["promise", "list", "--client", "beta"]);
    assert_eq!(beta["promises"][0]["outcome"], "broken");
    assert_eq!(beta["promises"][0]["days_late"], Value::Null);
    // As of the 8th: 1 still open (overdue on its moved due? no: due the 9th).
    let then = t.query_json(&["promise", "list", "--open", "--as-of", "2026-11-08"]);
    assert_eq!(ids(&then), [1, 2]);
    let text = t.query_ok(&["promise", "list"]).stdout;
    assert!(
        text.lines()
            .next()
            .is_some_and(|h| h.starts_with("#  client  what")),
        "{text}"
    );
    // --open and --closed together: a usage error.
    assert_eq!(t.query(&["promise", "list", "--open", "--closed"]).code, 2);
}

#[test]
fn promise_list_of_an_unknown_client_suggests_the_nearest() {
    let t = journal();
    let e = t.query_fails(1, &["promise", "list", "--client", "acne"]);
    assert!(
        e.contains("unknown client \"acne\": did you mean \"acme\"?"),
        "{e}"
    );
}

#[test]
fn due_client_lists_only_that_clients_open_promises() {
    let t = journal();
    let v = t.query_json(&["due", "--client", "acme"]);
    assert_eq!(ids(&v), [2]);
    assert!(t.query_json(&["due", "--client", "beta"])["promises"]
        .as_array()
        .is_some_and(Vec::is_empty));
    assert_eq!(
        ids(&t.query_json(&["due", "--client", "beta", "--as-of", "2026-11-06"])),
        [3]
    );
    let e = t.query_fails(1, &["due", "--client", "acne"]);
    assert!(e.contains("did you mean \"acme\"?"), "{e}");
}

fn seqs(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("log --json is an array")
        .iter()
        .map(|e| e["seq"].as_u64().expect("a seq"))
        .collect()
}

#[test]
fn log_promise_from_to_and_limit_select_events() {
    let t = journal();
    assert_eq!(seqs(&t.query_json(&["log", "--promise", "1"])), [3, 6, 10]);
    // A retracted promise still has its events to show, marked.
    let four = t.query_json(&["log", "--promise", "4"]);
    assert_eq!(seqs(&four), [8]);
    assert_eq!(four[0]["retracted_by"], 9);
    // --from/--to on when it happened; a date --to is the end of that day.
    assert_eq!(
        seqs(&t.query_json(&["log", "--from", "2026-11-05", "--to", "2026-11-07"])),
        [6, 7, 8, 9]
    );
    // --limit N: the last N selected, oldest first.
    assert_eq!(seqs(&t.query_json(&["log", "--limit", "2"])), [11, 12]);
    assert_eq!(
        seqs(&t.query_json(&["log", "-n", "2", "--client", "beta"])),
        [5, 7]
    );
    assert_eq!(
        seqs(&t.query_json(&["log", "--limit", "0"])),
        Vec::<u64>::new()
    );
    assert_eq!(seqs(&t.query_json(&["log", "--limit", "100"])).len(), 12);
    let text = t
        .query_ok(&["log", "--promise", "1", "--limit", "1"])
        .stdout;
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("promise 1 kept"), "{text}");
    // With --as-of.
    assert_eq!(
        seqs(&t.query_json(&["log", "--promise", "1", "--as-of", "2026-11-06"])),
        [3, 6]
    );
}

#[test]
fn log_with_a_bad_promise_or_period_exits_1_and_names_it() {
    let t = journal();
    let before = t.bytes();
    let e = t.query_fails(1, &["log", "--promise", "42"]);
    assert!(
        e.contains("unknown promise 42: promise ids go from 1 to 5"),
        "{e}"
    );
    let e = t.query_fails(1, &["log", "--from", "2026-11-09", "--to", "2026-11-01"]);
    assert!(e.contains("--from") && e.contains("after --to"), "{e}");
    let e = t.query_fails(1, &["log", "--from", "someday"]);
    assert!(e.contains("--from") && e.contains("someday"), "{e}");
    assert_eq!(t.query(&["log", "--limit", "-1"]).code, 2);
    assert_eq!(t.bytes(), before);
}

#[test]
fn promise_show_agrees_with_promise_list_for_every_promise() {
    let t = journal();
    let list = t.query_json(&["promise", "list"]);
    for row in list["promises"].as_array().expect("promises") {
        let id = row["promise"].to_string();
        let shown = t.query_json(&["promise", "show", &id]);
        assert_eq!(&shown["promise"], row, "promise {id}");
    }
}

#[test]
fn a_retracted_move_is_in_the_history_marked_and_does_not_count() {
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&["client", "add", "acme"])
        .cmd(&["promise", "make", "acme", "logo", "--due", "2026-11-06"]) // #2
        .cmd(&[
            "promise",
            "move",
            "1",
            "--due",
            "2026-11-09",
            "--cause",
            "us",
        ]) // #3
        .cmd(&["retract", "3", "--reason", "wrong promise"]); // #4
    let t = s.journal();
    let v = t.query_json(&["promise", "show", "1"]);
    assert_eq!(v["promise"]["moves"], 0);
    assert_eq!(v["promise"]["due"], "2026-11-06T23:59:59.999999Z");
    assert_eq!(v["history"][1]["step"], "moved");
    assert_eq!(v["history"][1]["retracted_by"], 4);
    let text = t.query_ok(&["promise", "show", "1"]).stdout;
    assert!(
        text.contains("[retracted by #4] due 2026-11-06 -> 2026-11-09"),
        "{text}"
    );
}

#[test]
fn log_from_to_select_on_when_it_happened_not_when_it_was_recorded() {
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&["client", "add", "acme"]) // #1
        .at("2026-11-10T09:00")
        .cmd(&["talk", "acme", "--at", "2026-11-03T15:00", "late note"]) // #2
        .cmd(&["talk", "acme", "today's call"]); // #3
    let t = s.journal();
    assert_eq!(
        seqs(&t.query_json(&["log", "--from", "2026-11-03", "--to", "2026-11-03"])),
        [2]
    );
    assert_eq!(seqs(&t.query_json(&["log", "--from", "2026-11-10"])), [3]);
    assert_eq!(seqs(&t.query_json(&["log", "--to", "2026-11-02"])), [1]);
}

/// The tables of one promise say their zone in the time headers, as every
/// other table does (issue 12.9), and count moves in words.
#[test]
fn promise_show_and_list_name_the_zone_and_count_moves_in_words() {
    let mut t = journal();
    t.tz = "Asia/Seoul".into();
    let show = t.ok(&["promise", "show", "1"]).stdout;
    assert!(show.contains("when (Asia/Seoul)"), "{show}");
    assert!(show.contains(", 1 move\n"), "{show}");
    let list = t.ok(&["promise", "list"]).stdout;
    assert!(list.contains("due (Asia/Seoul)"), "{list}");
}
