//! `status <handle>`: one client in full (issue 12.1), through the binary:
//! JSON keys pinned, `--as-of`, an unknown handle.

mod common;

use common::{Script, Tl};
use serde_json::{json, Value};

/// acme with a note, three contacts, a fit change, an open and a kept
/// promise; beta with nothing.
fn journal() -> Tl {
    let mut s = Script::new();
    s.at("2026-11-01T09:00")
        .cmd(&[
            "client",
            "add",
            "acme",
            "--name",
            "Acme Ltd",
            "--note",
            "via a referral",
        ]) // #1
        .cmd(&["client", "add", "beta"]) // #2
        .at("2026-11-01T10:00")
        .cmd(&[
            "talk",
            "acme",
            "--kind",
            "call",
            "--mood",
            "1",
            "--minutes",
            "20",
            "kick-off",
        ]) // #3
        .at("2026-11-02T10:00")
        .cmd(&[
            "promise",
            "make",
            "acme",
            "logo drafts",
            "--due",
            "2026-11-06",
        ]) // #4
        .cmd(&[
            "promise",
            "make",
            "acme",
            "brand book",
            "--due",
            "2026-11-30",
        ]) // #5
        .at("2026-11-06T10:00")
        .cmd(&["promise", "keep", "1"]) // #6
        .cmd(&[
            "talk", "acme", "--kind", "meeting", "--mood", "2", "--by", "client", "loved it",
        ]) // #7
        .at("2026-11-09T11:00")
        .cmd(&[
            "client",
            "fit",
            "acme",
            "off-target",
            "--reason",
            "only wants the cheapest",
        ]) // #8
        .cmd(&[
            "talk",
            "acme",
            "--kind",
            "email",
            "--mood",
            "-1",
            "price again",
        ]); // #9
    s.journal()
}

#[test]
fn status_of_one_client_shows_it_in_full() {
    let t = journal();
    let v = t.query_json(&["status", "acme"]);
    // The summary row of `status` is still there, as before.
    assert_eq!(v["now"], "2026-11-20T10:00:00Z");
    assert_eq!(v["clients"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["clients"][0]["client"], "acme");
    assert_eq!(v["clients"][0]["open_promises"], 1);
    let c = &v["client"];
    let keys: Vec<&str> = c
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "added_at",
            "contacts_total",
            "fit",
            "fit_changes",
            "handle",
            "name",
            "note",
            "open_promises",
            "recent_contacts",
            "trust",
            "trust_changes"
        ]
    );
    assert_eq!(
        (
            &c["handle"],
            &c["name"],
            &c["fit"],
            &c["note"],
            &c["added_at"]
        ),
        (
            &json!("acme"),
            &json!("Acme Ltd"),
            &json!("off-target"),
            &json!("via a referral"),
            &json!("2026-11-01T09:00:00Z")
        )
    );
    assert_eq!(
        c["fit_changes"],
        json!([{"seq": 8, "at": "2026-11-09T11:00:00Z", "fit": "off-target",
                "reason": "only wants the cheapest"}])
    );
    assert_eq!(
        c["open_promises"],
        json!([{
            "promise": 2, "client": "acme", "what": "brand book", "status": "open",
            "outcome": "open", "made_at": "2026-11-02T10:00:00Z",
            "original_due": "2026-11-30T23:59:59.999999Z", "original_due_date_only": true,
            "due": "2026-11-30T23:59:59.999999Z", "date_only": true, "moves": 0,
            "closed_at": null, "days_late": 0
        }])
    );
    // Latest first.
    assert_eq!(c["contacts_total"], 3);
    assert_eq!(
        c["recent_contacts"][0],
        json!({"seq": 9, "at": "2026-11-09T11:00:00Z", "kind": "email", "mood": -1,
               "minutes": null, "by": "us", "note": "price again"})
    );
    let contact_seqs: Vec<&Value> = c["recent_contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .map(|x| &x["seq"])
        .collect();
    assert_eq!(contact_seqs, [&json!(9), &json!(7), &json!(3)]);
    // Trust: the score of `trust acme`, and its last changes latest first,
    // as `trust acme --history` gives them (without the neutral start).
    let trust = t.query_json(&["trust", "acme", "--history"]);
    assert_eq!(c["trust"], trust["score"]);
    let mut history: Vec<Value> = trust["history"].as_array().expect("history")[1..].to_vec();
    history.reverse();
    history.truncate(5);
    assert_eq!(c["trust_changes"], Value::Array(history));
    assert_eq!(c["trust_changes"][0]["seq"], 9);
}

#[test]
fn status_of_one_client_for_people_has_every_part() {
    let t = journal();
    let out = t.query_ok(&["status", "acme"]).stdout;
    for part in [
        "acme (Acme Ltd)\n",
        "status: active\n",
        "note: via a referral\n",
        "fit: off-target (since 2026-11-09 11:00: only wants the cheapest)\n",
        "trust: ",
        "open promises:\n",
        "brand book",
        "recent contacts (3 of 3):\n",
        "price again",
        "last trust changes:\n",
    ] {
        assert!(out.contains(part), "missing {part:?} in:\n{out}");
    }
    let quiet = t.query_ok(&["status", "beta"]).stdout;
    assert!(quiet.contains("open promises: none\n"), "{quiet}");
    assert!(quiet.contains("contacts: none recorded\n"), "{quiet}");
}

#[test]
fn status_of_one_client_as_of_a_day_is_the_client_as_known_then() {
    let t = journal();
    let v = t.query_json(&["status", "acme", "--as-of", "2026-11-03"]);
    let c = &v["client"];
    assert_eq!(v["now"], "2026-11-03T23:59:59.999999Z");
    assert_eq!(c["fit"], "target");
    assert_eq!(c["fit_changes"], json!([]));
    assert_eq!(c["contacts_total"], 1);
    let open: Vec<&Value> = c["open_promises"]
        .as_array()
        .expect("open")
        .iter()
        .map(|p| &p["promise"])
        .collect();
    assert_eq!(open, [&json!(1), &json!(2)], "soonest due first");
}

#[test]
fn status_of_an_unknown_client_exits_1_and_suggests_the_nearest() {
    let t = journal();
    let before = t.bytes();
    let e = t.query_fails(1, &["status", "acne"]);
    assert!(
        e.contains("unknown client \"acne\": did you mean \"acme\"?"),
        "{e}"
    );
    let e = t.query_fails(1, &["status", "zzzzzz"]);
    assert!(e.contains("known clients are acme, beta"), "{e}");
    // Not known yet then.
    let e = t.query_fails(1, &["status", "acme", "--as-of", "2026-10-01"]);
    assert!(e.contains("unknown client \"acme\""), "{e}");
    // No journal: said as every other query says it.
    let e = Tl::new().query_fails(1, &["status", "acme"]);
    assert!(e.contains("no journal at"), "{e}");
    assert_eq!(t.bytes(), before);
}
