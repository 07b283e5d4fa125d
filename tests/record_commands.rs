//! Every recording command through the real binary, with the clock pinned:
//! what it prints (for people and with `--json`) and what a replay of the
//! journal then contains, field by field. Plus the things around recording:
//! where the journal lives and how it is created, the clock and the author,
//! shell completions and the examples in `--help`.

mod common;

use std::os::unix::fs::PermissionsExt;

use clap::CommandFactory;
use common::*;
use serde_json::json;
use trustlog::events::*;

/// An event recorded at the pinned `NOW` by `AUTHOR`.
fn env(seq: Seq, occurred_at: Timestamp, event: Event) -> Envelope {
    Envelope {
        seq,
        recorded_at: ts(NOW),
        occurred_at,
        author: AUTHOR.to_string(),
        event,
    }
}

/// The envelope part of the JSON of an appended event.
fn head_json(seq: Seq, kind: &str, occurred_at: &str) -> serde_json::Value {
    json!({
        "seq": seq,
        "kind": kind,
        "recorded_at": "2026-11-20T10:00:00Z",
        "occurred_at": occurred_at,
        "author": AUTHOR,
    })
}

/// `head_json` plus the event's own fields.
fn event_json(
    seq: Seq,
    kind: &str,
    occurred_at: &str,
    fields: serde_json::Value,
) -> serde_json::Value {
    let mut v = head_json(seq, kind, occurred_at);
    let m = v.as_object_mut().unwrap();
    for (k, x) in fields.as_object().expect("fields are an object") {
        m.insert(k.clone(), x.clone());
    }
    v
}

fn added(handle: &str) -> Event {
    Event::ClientAdded {
        handle: handle.into(),
        name: handle.into(),
        fit: Fit::Target,
        note: String::new(),
    }
}

/// A journal holding `client add acme` (seq 1, at NOW).
fn with_acme() -> (Tl, Vec<Envelope>) {
    let t = Tl::new();
    t.ok(&["client", "add", "acme"]);
    let want = vec![env(1, ts(NOW), added("acme"))];
    assert_eq!(t.replay(), want);
    (t, want)
}

#[test]
fn client_add_prints_the_client_and_records_every_field() {
    let t = Tl::new();
    assert!(!t.journal.exists(), "the first write creates the journal");
    let out = t.ok(&[
        "client",
        "add",
        "acme",
        "--name",
        "Acme Ltd — Zürich",
        "--fit",
        "off-target",
        "--note",
        "  came via a referral  ",
    ]);
    assert_eq!(
        out.stdout,
        "#1 client acme (Acme Ltd — Zürich) added, off-target\n"
    );
    let mut want = vec![env(
        1,
        ts(NOW),
        Event::ClientAdded {
            handle: "acme".into(),
            name: "Acme Ltd — Zürich".into(),
            fit: Fit::OffTarget,
            note: "came via a referral".into(),
        },
    )];
    assert_eq!(t.replay(), want);

    // Defaults (name = handle, target, no note), --at in the past, --json.
    let out = t.ok(&[
        "--json",
        "client",
        "add",
        "globex",
        "--at",
        "2026-11-19T08:30",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            2,
            "ClientAdded",
            "2026-11-19T08:30:00Z",
            json!({"client": "globex", "name": "globex", "fit": "target", "note": ""})
        )
    );
    want.push(env(2, ts("2026-11-19T08:30"), added("globex")));
    assert_eq!(t.replay(), want);
}

#[test]
fn client_fit_records_the_new_fit_and_the_reason() {
    let (t, mut want) = with_acme();
    let out = t.ok(&[
        "client",
        "fit",
        "acme",
        "off-target",
        "--reason",
        "price only",
    ]);
    assert_eq!(out.stdout, "#2 acme is now off-target\n");
    want.push(env(
        2,
        ts(NOW),
        Event::FitChanged {
            client: "acme".into(),
            fit: Fit::OffTarget,
            reason: "price only".into(),
        },
    ));
    assert_eq!(t.replay(), want);

    let out = t.ok(&[
        "--json",
        "client",
        "fit",
        "acme",
        "target",
        "--at",
        "2026-11-20T09:15",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            3,
            "FitChanged",
            "2026-11-20T09:15:00Z",
            json!({"client": "acme", "fit": "target", "reason": ""})
        )
    );
    want.push(env(
        3,
        ts("2026-11-20T09:15"),
        Event::FitChanged {
            client: "acme".into(),
            fit: Fit::Target,
            reason: String::new(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn client_want_joins_the_words_of_the_expectation() {
    let (t, mut want) = with_acme();
    let out = t.ok(&["client", "want", "acme", "a bold logo", "for", "trucks"]);
    assert_eq!(out.stdout, "#2 acme wants: a bold logo for trucks\n");
    want.push(env(
        2,
        ts(NOW),
        Event::ExpectationNoted {
            client: "acme".into(),
            text: "a bold logo for trucks".into(),
        },
    ));
    assert_eq!(t.replay(), want);

    // A date-only --at is the start of that day.
    let out = t.ok(&[
        "--json",
        "client",
        "want",
        "acme",
        "\"cheap\", fast",
        "--at",
        "yesterday",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            3,
            "ExpectationNoted",
            "2026-11-19T00:00:00Z",
            json!({"client": "acme", "text": "\"cheap\", fast"})
        )
    );
    want.push(env(
        3,
        ts("2026-11-19T00:00"),
        Event::ExpectationNoted {
            client: "acme".into(),
            text: "\"cheap\", fast".into(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn client_mismatch_records_the_text() {
    let (t, mut want) = with_acme();
    let out = t.ok(&[
        "client",
        "mismatch",
        "acme",
        "expected three concepts, got one",
    ]);
    assert_eq!(
        out.stdout,
        "#2 acme: not what they expected: expected three concepts, got one\n"
    );
    want.push(env(
        2,
        ts(NOW),
        Event::MismatchNoted {
            client: "acme".into(),
            text: "expected three concepts, got one".into(),
        },
    ));
    assert_eq!(t.replay(), want);

    // An --at with an explicit offset is converted to UTC.
    let out = t.ok(&[
        "--json",
        "client",
        "mismatch",
        "acme",
        "colours\nare off",
        "--at",
        "2026-11-20T09:00+02:00",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            3,
            "MismatchNoted",
            "2026-11-20T07:00:00Z",
            json!({"client": "acme", "text": "colours\nare off"})
        )
    );
    want.push(env(
        3,
        ts_rfc3339("2026-11-20T09:00:00+02:00"),
        Event::MismatchNoted {
            client: "acme".into(),
            text: "colours\nare off".into(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn client_lost_records_when_and_why() {
    let (t, mut want) = with_acme();
    let out = t.ok(&[
        "--json",
        "client",
        "lost",
        "acme",
        "--reason",
        "went with a cheaper agency",
        "--at",
        "2026-11-10T12:00",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            2,
            "ClientLost",
            "2026-11-10T12:00:00Z",
            json!({"client": "acme", "reason": "went with a cheaper agency"})
        )
    );
    want.push(env(
        2,
        ts("2026-11-10T12:00"),
        Event::ClientLost {
            client: "acme".into(),
            reason: "went with a cheaper agency".into(),
        },
    ));
    t.ok(&["client", "back", "acme"]);
    want.push(env(
        3,
        ts(NOW),
        Event::ClientReturned {
            client: "acme".into(),
            note: String::new(),
        },
    ));
    let out = t.ok(&["client", "lost", "acme", "--reason", "budget cut"]);
    assert_eq!(out.stdout, "#4 acme lost: budget cut\n");
    want.push(env(
        4,
        ts(NOW),
        Event::ClientLost {
            client: "acme".into(),
            reason: "budget cut".into(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn client_back_records_the_return_of_a_lost_client() {
    let (t, mut want) = with_acme();
    t.ok(&[
        "client",
        "lost",
        "acme",
        "--reason",
        "gone",
        "--at",
        "2026-11-02",
    ]);
    want.push(env(
        2,
        ts("2026-11-02T00:00"),
        Event::ClientLost {
            client: "acme".into(),
            reason: "gone".into(),
        },
    ));
    let out = t.ok(&["client", "back", "acme"]);
    assert_eq!(out.stdout, "#3 acme is back\n");
    want.push(env(
        3,
        ts(NOW),
        Event::ClientReturned {
            client: "acme".into(),
            note: String::new(),
        },
    ));
    assert_eq!(t.replay(), want);

    t.ok(&["client", "lost", "acme", "--reason", "gone again"]);
    want.push(env(
        4,
        ts(NOW),
        Event::ClientLost {
            client: "acme".into(),
            reason: "gone again".into(),
        },
    ));
    let out = t.ok(&[
        "--json",
        "client",
        "back",
        "acme",
        "--note",
        "new product line",
        "--at",
        "2026-11-20T08:00",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            5,
            "ClientReturned",
            "2026-11-20T08:00:00Z",
            json!({"client": "acme", "note": "new product line"})
        )
    );
    want.push(env(
        5,
        ts("2026-11-20T08:00"),
        Event::ClientReturned {
            client: "acme".into(),
            note: "new product line".into(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn client_praise_records_the_kind_and_whose_initiative() {
    let (t, mut want) = with_acme();
    let out = t.ok(&[
        "client",
        "praise",
        "acme",
        "--kind",
        "referral",
        "introduced us to Globex",
    ]);
    assert_eq!(out.stdout, "#2 acme: referral (their initiative)\n");
    want.push(env(
        2,
        ts(NOW),
        Event::Advocated {
            client: "acme".into(),
            kind: AdvocacyKind::Referral,
            initiated_by_client: true,
            note: "introduced us to Globex".into(),
        },
    ));
    assert_eq!(t.replay(), want);

    // No text, --by-us, --json. The event kind's own "kind" field is
    // checked in `json_of_an_event_with_a_kind_field_still_names_the_event`.
    let out = t.ok(&[
        "--json",
        "client",
        "praise",
        "acme",
        "--kind",
        "cross-sell",
        "--by-us",
        "--at",
        "2026-11-18T14:00",
    ]);
    let j = out.json();
    for (k, v) in [
        ("seq", json!(3)),
        ("recorded_at", json!("2026-11-20T10:00:00Z")),
        ("occurred_at", json!("2026-11-18T14:00:00Z")),
        ("author", json!(AUTHOR)),
        ("client", json!("acme")),
        ("by_client", json!(false)),
        ("note", json!("")),
    ] {
        assert_eq!(j[k], v, "key {k} of {j}");
    }
    want.push(env(
        3,
        ts("2026-11-18T14:00"),
        Event::Advocated {
            client: "acme".into(),
            kind: AdvocacyKind::CrossSell,
            initiated_by_client: false,
            note: String::new(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn talk_records_kind_mood_minutes_initiative_and_note() {
    let (t, mut want) = with_acme();
    let out = t.ok(&[
        "talk",
        "acme",
        "--kind",
        "call",
        "--mood",
        "-2",
        "--minutes",
        "20",
        "--by",
        "client",
        "kick-off,",
        "went badly",
    ]);
    assert_eq!(
        out.stdout,
        "#2 call with acme (mood \u{2212}2, 20 min, by client): kick-off, went badly\n"
    );
    want.push(env(
        2,
        ts(NOW),
        Event::Interacted {
            client: "acme".into(),
            kind: InteractionKind::Call,
            mood: -2,
            minutes: Some(20),
            initiated_by: Party::Client,
            note: "kick-off, went badly".into(),
        },
    ));
    assert_eq!(t.replay(), want);

    // Every default: other, mood 0, minutes unknown, by us, no note.
    let out = t.ok(&["talk", "acme"]);
    assert_eq!(out.stdout, "#3 other with acme (mood 0, by us)\n");
    want.push(env(
        3,
        ts(NOW),
        Event::Interacted {
            client: "acme".into(),
            kind: InteractionKind::Other,
            mood: 0,
            minutes: None,
            initiated_by: Party::Us,
            note: String::new(),
        },
    ));

    let out = t.ok(&[
        "--json",
        "talk",
        "acme",
        "--kind",
        "meeting",
        "--mood",
        "2",
        "--minutes",
        "0",
        "--at",
        "2026-11-20T09:59:30",
        "loved the drafts",
    ]);
    let j = out.json();
    for (k, v) in [
        ("seq", json!(4)),
        ("recorded_at", json!("2026-11-20T10:00:00Z")),
        ("occurred_at", json!("2026-11-20T09:59:30Z")),
        ("author", json!(AUTHOR)),
        ("client", json!("acme")),
        ("mood", json!(2)),
        ("minutes", json!(0)),
        ("by", json!("us")),
        ("note", json!("loved the drafts")),
    ] {
        assert_eq!(j[k], v, "key {k} of {j}");
    }
    want.push(env(
        4,
        ts("2026-11-20T09:59:30"),
        Event::Interacted {
            client: "acme".into(),
            kind: InteractionKind::Meeting,
            mood: 2,
            minutes: Some(0),
            initiated_by: Party::Us,
            note: "loved the drafts".into(),
        },
    ));

    let j = t.ok(&["--json", "talk", "acme", "--kind", "email"]).json();
    assert_eq!(j["minutes"], json!(null), "unknown minutes: {j}");
    want.push(env(
        5,
        ts(NOW),
        Event::Interacted {
            client: "acme".into(),
            kind: InteractionKind::Email,
            mood: 0,
            minutes: None,
            initiated_by: Party::Us,
            note: String::new(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn promise_make_prints_only_the_id_and_resolves_the_due() {
    let (t, mut want) = with_acme();
    // A date-only due is the end of that day, local time (TZ=UTC here).
    let out = t.ok(&[
        "promise",
        "make",
        "acme",
        "first logo drafts",
        "--due",
        "2026-11-27",
    ]);
    assert_eq!(
        out.stdout, "1\n",
        "only the id, for id=$(trustlog promise make …)"
    );
    let due_27 = Due {
        at: end_of_day("2026-11-27"),
        date_only: true,
    };
    assert_eq!(due_27.at, ts("2026-11-27T23:59:59.999999"));
    want.push(env(
        2,
        ts(NOW),
        Event::PromiseMade {
            promise: 1,
            client: "acme".into(),
            what: "first logo drafts".into(),
            due: due_27,
        },
    ));
    assert_eq!(t.replay(), want);

    // A date-time due, made in the past (--at), with --json.
    let out = t.ok(&[
        "--json",
        "promise",
        "make",
        "acme",
        "kick-off deck",
        "--due",
        "2026-11-23T15:30",
        "--at",
        "2026-11-19T16:00",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            3,
            "PromiseMade",
            "2026-11-19T16:00:00Z",
            json!({
                "promise": 2, "client": "acme", "what": "kick-off deck",
                "due": "2026-11-23T15:30:00Z", "due_date_only": false
            })
        )
    );
    want.push(env(
        3,
        ts("2026-11-19T16:00"),
        Event::PromiseMade {
            promise: 2,
            client: "acme".into(),
            what: "kick-off deck".into(),
            due: Due {
                at: ts("2026-11-23T15:30"),
                date_only: false,
            },
        },
    ));

    // A relative form: `fri` said on Friday 2026-11-20 is the next Friday.
    let out = t.ok(&[
        "--json",
        "promise",
        "make",
        "acme",
        "drafts v2",
        "--due",
        "fri",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            4,
            "PromiseMade",
            "2026-11-20T10:00:00Z",
            json!({
                "promise": 3, "client": "acme", "what": "drafts v2",
                "due": "2026-11-27T23:59:59.999999Z", "due_date_only": true
            })
        )
    );
    want.push(env(
        4,
        ts(NOW),
        Event::PromiseMade {
            promise: 3,
            client: "acme".into(),
            what: "drafts v2".into(),
            due: due_27,
        },
    ));
    assert_eq!(t.replay(), want);
}

/// acme, and promise 1 "drafts" due 2026-11-27 made at 2026-11-18T09:00.
fn with_promise() -> (Tl, Vec<Envelope>) {
    let (t, mut want) = with_acme();
    let out = t.ok(&[
        "promise",
        "make",
        "acme",
        "drafts",
        "--due",
        "2026-11-27",
        "--at",
        "2026-11-18T09:00",
    ]);
    assert_eq!(out.stdout, "1\n");
    want.push(env(
        2,
        ts("2026-11-18T09:00"),
        Event::PromiseMade {
            promise: 1,
            client: "acme".into(),
            what: "drafts".into(),
            due: Due {
                at: end_of_day("2026-11-27"),
                date_only: true,
            },
        },
    ));
    assert_eq!(t.replay(), want);
    (t, want)
}

#[test]
fn promise_move_records_the_new_due_the_cause_and_the_agreement() {
    let (t, mut want) = with_promise();
    let out = t.ok(&[
        "promise",
        "move",
        "1",
        "--due",
        "2026-12-04",
        "--cause",
        "client",
        "--agreed",
        "--reason",
        "brief arrived late",
    ]);
    assert_eq!(
        out.stdout,
        "#3 promise 1 moved to 2026-12-04 (cause: client, agreed by client)\n"
    );
    want.push(env(
        3,
        ts(NOW),
        Event::PromiseMoved {
            promise: 1,
            due: Due {
                at: end_of_day("2026-12-04"),
                date_only: true,
            },
            cause: Cause::Client,
            agreed_by_client: true,
            reason: "brief arrived late".into(),
        },
    ));
    assert_eq!(t.replay(), want);

    let out = t.ok(&[
        "--json",
        "promise",
        "move",
        "1",
        "--due",
        "2026-12-05T12:00",
        "--cause",
        "external",
        "--at",
        "2026-11-20T09:30",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            4,
            "PromiseMoved",
            "2026-11-20T09:30:00Z",
            json!({
                "promise": 1, "due": "2026-12-05T12:00:00Z", "due_date_only": false,
                "cause": "external", "agreed": false, "reason": ""
            })
        )
    );
    want.push(env(
        4,
        ts("2026-11-20T09:30"),
        Event::PromiseMoved {
            promise: 1,
            due: Due {
                at: ts("2026-12-05T12:00"),
                date_only: false,
            },
            cause: Cause::External,
            agreed_by_client: false,
            reason: String::new(),
        },
    ));
    let out = t.ok(&["promise", "move", "1", "--due", "+14d", "--cause", "us"]);
    assert_eq!(
        out.stdout,
        "#5 promise 1 moved to 2026-12-04 (cause: us, not agreed)\n"
    );
    want.push(env(
        5,
        ts(NOW),
        Event::PromiseMoved {
            promise: 1,
            due: Due {
                at: end_of_day("2026-12-04"),
                date_only: true,
            },
            cause: Cause::Us,
            agreed_by_client: false,
            reason: String::new(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn promise_keep_records_the_delivery_time() {
    let (t, mut want) = with_promise();
    t.ok(&[
        "promise",
        "make",
        "acme",
        "deck",
        "--due",
        "2026-11-25",
        "--at",
        "2026-11-18T10:00",
    ]);
    want.push(env(
        3,
        ts("2026-11-18T10:00"),
        Event::PromiseMade {
            promise: 2,
            client: "acme".into(),
            what: "deck".into(),
            due: Due {
                at: end_of_day("2026-11-25"),
                date_only: true,
            },
        },
    ));
    let out = t.ok(&["promise", "keep", "1"]);
    assert_eq!(out.stdout, "#4 promise 1 kept\n");
    want.push(env(
        4,
        ts(NOW),
        Event::PromiseKept {
            promise: 1,
            note: String::new(),
        },
    ));
    assert_eq!(t.replay(), want);

    // The delivery happened earlier than it was recorded.
    let out = t.ok(&[
        "--json",
        "promise",
        "keep",
        "2",
        "--note",
        "sent by courier",
        "--at",
        "2026-11-19T17:45",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            5,
            "PromiseKept",
            "2026-11-19T17:45:00Z",
            json!({"promise": 2, "note": "sent by courier"})
        )
    );
    want.push(env(
        5,
        ts("2026-11-19T17:45"),
        Event::PromiseKept {
            promise: 2,
            note: "sent by courier".into(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn promise_break_records_the_reason() {
    let (t, mut want) = with_promise();
    t.ok(&[
        "promise",
        "make",
        "acme",
        "deck",
        "--due",
        "2026-11-25T09:00",
    ]);
    want.push(env(
        3,
        ts(NOW),
        Event::PromiseMade {
            promise: 2,
            client: "acme".into(),
            what: "deck".into(),
            due: Due {
                at: ts("2026-11-25T09:00"),
                date_only: false,
            },
        },
    ));
    let out = t.ok(&[
        "promise",
        "break",
        "2",
        "--reason",
        "the printer went bankrupt",
    ]);
    assert_eq!(
        out.stdout,
        "#4 promise 2 broken: the printer went bankrupt\n"
    );
    want.push(env(
        4,
        ts(NOW),
        Event::PromiseBroken {
            promise: 2,
            reason: "the printer went bankrupt".into(),
        },
    ));
    let out = t.ok(&[
        "--json",
        "promise",
        "break",
        "1",
        "--reason",
        "scope changed",
        "--at",
        "2026-11-20T09:00",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            5,
            "PromiseBroken",
            "2026-11-20T09:00:00Z",
            json!({"promise": 1, "reason": "scope changed"})
        )
    );
    want.push(env(
        5,
        ts("2026-11-20T09:00"),
        Event::PromiseBroken {
            promise: 1,
            reason: "scope changed".into(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn promise_release_records_the_reason() {
    let (t, mut want) = with_promise();
    let out = t.ok(&[
        "--json",
        "promise",
        "release",
        "1",
        "--reason",
        "client dropped the campaign",
        "--at",
        "2026-11-19T11:11",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            3,
            "PromiseReleased",
            "2026-11-19T11:11:00Z",
            json!({"promise": 1, "reason": "client dropped the campaign"})
        )
    );
    want.push(env(
        3,
        ts("2026-11-19T11:11"),
        Event::PromiseReleased {
            promise: 1,
            reason: "client dropped the campaign".into(),
        },
    ));
    t.ok(&["promise", "make", "acme", "deck", "--due", "tomorrow"]);
    want.push(env(
        4,
        ts(NOW),
        Event::PromiseMade {
            promise: 2,
            client: "acme".into(),
            what: "deck".into(),
            due: Due {
                at: end_of_day("2026-11-21"),
                date_only: true,
            },
        },
    ));
    let out = t.ok(&[
        "promise",
        "release",
        "2",
        "--reason",
        "merged into promise 1",
    ]);
    assert_eq!(out.stdout, "#5 promise 2 released: merged into promise 1\n");
    want.push(env(
        5,
        ts(NOW),
        Event::PromiseReleased {
            promise: 2,
            reason: "merged into promise 1".into(),
        },
    ));
    assert_eq!(t.replay(), want);
}

#[test]
fn retract_records_the_retracted_seq_and_the_reason() {
    let (t, mut want) = with_acme();
    for n in 2..=3 {
        t.ok(&["talk", "acme"]);
        want.push(env(
            n,
            ts(NOW),
            Event::Interacted {
                client: "acme".into(),
                kind: InteractionKind::Other,
                mood: 0,
                minutes: None,
                initiated_by: Party::Us,
                note: String::new(),
            },
        ));
    }
    let out = t.ok(&["retract", "2", "--reason", "recorded for the wrong client"]);
    assert_eq!(
        out.stdout,
        "#4 event #2 retracted: recorded for the wrong client\n"
    );
    want.push(env(
        4,
        ts(NOW),
        Event::Retracted {
            seq: 2,
            reason: "recorded for the wrong client".into(),
        },
    ));
    let out = t.ok(&[
        "--json",
        "retract",
        "3",
        "--reason",
        "duplicate",
        "--at",
        "2026-11-20T09:59",
    ]);
    assert_eq!(
        out.json(),
        event_json(
            5,
            "Retracted",
            "2026-11-20T09:59:00Z",
            json!({"retracted": 3, "reason": "duplicate"})
        )
    );
    want.push(env(
        5,
        ts("2026-11-20T09:59"),
        Event::Retracted {
            seq: 3,
            reason: "duplicate".into(),
        },
    ));
    // Retracted events stay in the journal: a replay still sees all five.
    assert_eq!(t.replay(), want);
}

/// BUG (src/cli/output.rs, `envelope_json`): the event's own fields are
/// merged over the envelope's, so the `kind` of an interaction ("call") or
/// of an advocacy ("referral") replaces the event kind ("Interacted",
/// "Advocated") and a script cannot tell what the printed event is.
#[test]
fn json_of_an_event_with_a_kind_field_still_names_the_event() {
    let (t, _) = with_acme();
    let j = t.ok(&["--json", "talk", "acme", "--kind", "call"]).json();
    assert_eq!(j["kind"], json!("Interacted"), "{j}");
    assert!(
        j.as_object().unwrap().values().any(|v| v == &json!("call")),
        "the interaction kind must still be printed: {j}"
    );
    let j = t
        .ok(&["--json", "client", "praise", "acme", "--kind", "referral"])
        .json();
    assert_eq!(j["kind"], json!("Advocated"), "{j}");
    assert!(
        j.as_object()
            .unwrap()
            .values()
            .any(|v| v == &json!("referral")),
        "the advocacy kind must still be printed: {j}"
    );
}

#[test]
fn journal_is_created_with_mode_0600_and_missing_parent_dirs() {
    let mut t = Tl::new();
    t.journal = t.dir.path().join("a/b/c/journal.tlog");
    assert!(!t.dir.path().join("a").exists());
    t.ok(&["client", "add", "acme"]);
    let mode = std::fs::metadata(&t.journal).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    assert_eq!(t.replay(), vec![env(1, ts(NOW), added("acme"))]);
}

#[test]
fn trustlog_file_is_the_journal_when_there_is_no_journal_flag() {
    let t = Tl::new();
    let from_env = t.dir.path().join("from-env.tlog");
    let mut c = t.command();
    c.env("TRUSTLOG_FILE", &from_env)
        .args(["client", "add", "acme"]);
    let out = output(c);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    assert_eq!(replay(&from_env), vec![env(1, ts(NOW), added("acme"))]);
    assert!(!t.journal.exists());
    assert!(
        !t.dir.path().join("home").exists(),
        "the XDG default must not be used when $TRUSTLOG_FILE is set"
    );

    // --journal wins over $TRUSTLOG_FILE.
    let mut c = t.command();
    c.env("TRUSTLOG_FILE", &from_env)
        .arg("--journal")
        .arg(&t.journal)
        .args(["client", "add", "globex"]);
    let out = output(c);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(t.replay(), vec![env(1, ts(NOW), added("globex"))]);
    assert_eq!(replay(&from_env).len(), 1);
}

#[test]
fn without_journal_flag_or_env_the_journal_is_in_the_xdg_data_dir() {
    let t = Tl::new();
    let mut c = t.command();
    c.args(["client", "add", "acme"]);
    let out = output(c);
    assert_eq!(out.code, 0, "{out:?}");
    let xdg = t.dir.path().join("home/.local/share/trustlog/journal.tlog");
    assert_eq!(replay(&xdg), vec![env(1, ts(NOW), added("acme"))]);
}

#[test]
fn now_flag_wins_over_env_and_author_comes_from_env() {
    let mut t = Tl::new();
    t.author = "Bob Smith".into();
    let out = t.ok(&["--now", "2026-11-21T08:00:05", "client", "add", "acme"]);
    assert_eq!(out.stdout, "#1 client acme (acme) added, target\n");
    assert_eq!(
        t.replay(),
        vec![Envelope {
            seq: 1,
            recorded_at: ts("2026-11-21T08:00:05"),
            occurred_at: ts("2026-11-21T08:00:05"),
            author: "Bob Smith".into(),
            event: added("acme"),
        }]
    );
    // "today" in WHEN is the pinned day, not the machine's.
    t.ok(&[
        "--now",
        "2030-01-02T03:04",
        "promise",
        "make",
        "acme",
        "x",
        "--due",
        "today",
    ]);
    let last = t.replay().pop().unwrap();
    assert_eq!(last.recorded_at, ts("2030-01-02T03:04"));
    assert!(matches!(
        last.event,
        Event::PromiseMade { due: Due { at, date_only: true }, .. } if at == end_of_day("2030-01-02")
    ));
}

/// Times without an offset are local: with `TZ=CET-1` (UTC+1, a POSIX zone
/// needing no tz database) the pinned 10:00 is 09:00 UTC and a date-only due
/// ends at 23:59:59.999999 local, 22:59:59.999999 UTC.
#[test]
fn times_without_offset_are_local_time() {
    let mut t = Tl::new();
    t.tz = "CET-1".into();
    t.ok(&["client", "add", "acme"]);
    let out = t.ok(&[
        "--json",
        "promise",
        "make",
        "acme",
        "x",
        "--due",
        "2026-11-27",
    ]);
    let j = out.json();
    assert_eq!(j["recorded_at"], "2026-11-20T09:00:00Z", "{j}");
    assert_eq!(j["due"], "2026-11-27T22:59:59.999999Z", "{j}");
    let out = t.ok(&[
        "promise",
        "move",
        "1",
        "--due",
        "2026-11-28T12:00",
        "--cause",
        "us",
    ]);
    assert_eq!(
        out.stdout,
        "#3 promise 1 moved to 2026-11-28 12:00 (cause: us, not agreed)\n"
    );
    let got = t.replay();
    assert_eq!(got[0].recorded_at, ts("2026-11-20T09:00"));
    assert!(matches!(
        got[1].event,
        Event::PromiseMade { due: Due { at, date_only: true }, .. } if at == ts("2026-11-27T22:59:59.999999")
    ));
    assert!(matches!(
        got[2].event,
        Event::PromiseMoved { due: Due { at, date_only: false }, .. } if at == ts("2026-11-28T11:00")
    ));
}

#[test]
fn completions_are_non_empty_scripts_that_know_the_subcommands() {
    let t = Tl::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = t.ok(&["completions", shell]);
        assert!(
            out.stdout.len() > 500,
            "{shell}: {} bytes",
            out.stdout.len()
        );
        for word in [
            "client", "promise", "talk", "retract", "praise", "mismatch", "due", "cause",
        ] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert!(!t.journal.exists(), "completions must not create a journal");
}

/// Every subcommand path of the CLI, e.g. ["promise", "make"].
fn subcommand_paths() -> Vec<(Vec<String>, bool)> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<(Vec<String>, bool)>) {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            let is_group = sub.get_subcommands().any(|s| s.get_name() != "help");
            out.push((path.clone(), is_group));
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&trustlog::cli::Cli::command(), &[], &mut out);
    out
}

#[test]
fn help_of_every_command_shows_an_example() {
    let t = Tl::new();
    let paths = subcommand_paths();
    let leaves: Vec<_> = paths.iter().filter(|(_, group)| !group).collect();
    assert!(leaves.len() >= 18, "{leaves:?}");
    for (path, _) in leaves {
        let mut args = path.clone();
        args.push("--help".into());
        let out = t.ok(&args);
        assert!(
            out.stdout.contains("Example"),
            "`trustlog {}` has no example:\n{}",
            args.join(" "),
            out.stdout
        );
    }
}

/// ROUGH EDGE (src/cli/mod.rs, `Command::Client` / `Command::Promise`): the
/// help of the command groups has no example, though issue 3 asks for one
/// on every command and the groups are where a new user looks first.
#[test]
fn help_of_command_groups_shows_an_example() {
    let t = Tl::new();
    let groups: Vec<_> = subcommand_paths()
        .into_iter()
        .filter(|(_, group)| *group)
        .collect();
    assert!(groups.len() >= 2, "{groups:?}");
    for (path, _) in groups {
        let mut args = path.clone();
        args.push("--help".into());
        let out = t.ok(&args);
        assert!(
            out.stdout.contains("Example"),
            "`trustlog {}` has no example:\n{}",
            args.join(" "),
            out.stdout
        );
    }
}
