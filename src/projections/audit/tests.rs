//! Given/when/then tests of the audit projection.

use super::*;
use crate::events::{Cause, Due, Event, Fit};
use crate::projections::testkit::*;

const DAY: i64 = 86_400;

/// Given acme and promise #1 due at `due`.
fn one_promise(due: Timestamp) -> Given {
    let mut g = Given::new();
    g.client("acme");
    g.promise(1, "acme", due);
    g
}

fn audit(g: &Given, now: Timestamp) -> AuditReport {
    g.replay::<Audit>().report(now, &AuditQuery::all())
}

fn only_outcome(r: &AuditReport) -> Outcome {
    assert_eq!(r.rows.len(), 1, "{:?}", r.rows);
    let o = r.rows[0].outcome;
    assert_eq!(r.promises.get(o), 1);
    assert_eq!(r.promises.total, 1);
    o
}

fn flags_of<'a>(r: &'a AuditReport, kind: &str) -> Vec<&'a Flag> {
    r.flags.iter().filter(|f| f.kind == kind).collect()
}

/// 2026-03-31 23:59:59 as a date-only due was resolved when recorded
/// (the zone does not matter here: only the instant is compared).
fn end_of_day() -> Timestamp {
    let d = chrono::DateTime::parse_from_rfc3339("2026-03-31T23:59:59Z").unwrap();
    Timestamp::from_datetime(&d)
}

#[test]
fn kept_exactly_at_the_original_due_is_on_time() {
    let mut g = one_promise(t(100 * DAY));
    g.keep(1, t(100 * DAY));
    let r = audit(&g, t(200 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptOnTime);
    assert_eq!(r.rows[0].days_late, Some(0));
    assert_eq!(r.original_date_hit_rate, Some(1.0));
}

#[test]
fn date_only_due_ends_at_235959_a_keep_at_midnight_is_a_day_late() {
    let eod = end_of_day();
    let made = |g: &mut Given| {
        g.client("acme");
        g.push(Event::PromiseMade {
            promise: 1,
            client: "acme".into(),
            what: "report".into(),
            due: Due {
                at: eod,
                date_only: true,
            },
        });
    };
    // Kept at 23:59:59 of the due day: on time
    let mut on_time = Given::new();
    made(&mut on_time);
    on_time.keep(1, eod);
    let r = audit(&on_time, eod.plus_seconds(DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptOnTime);
    // Kept at 00:00:00 the next day: late, by one day
    let mut next_day = Given::new();
    made(&mut next_day);
    next_day.keep(1, eod.plus_seconds(1));
    let r = audit(&next_day, eod.plus_seconds(DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptLate);
    assert_eq!(r.rows[0].days_late, Some(1));
    assert!(r.rows[0].original_due_date_only);
}

#[test]
fn kept_after_move_is_late_on_the_original_but_by_the_last_due() {
    let mut g = one_promise(t(10 * DAY));
    g.moved(1, t(20 * DAY), Cause::Client, true);
    g.keep(1, t(15 * DAY));
    let r = audit(&g, t(30 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptAfterMove);
    assert_eq!(
        r.rows[0].days_late,
        Some(5),
        "counted from the original due"
    );
    assert_eq!((r.rows[0].last_due, r.rows[0].moves), (t(20 * DAY), 1));
    assert_eq!(r.original_date_hit_rate, Some(0.0));
}

#[test]
fn kept_after_the_last_due_is_kept_late() {
    let mut g = one_promise(t(10 * DAY));
    g.moved(1, t(20 * DAY), Cause::Us, false);
    g.keep(1, t(20 * DAY).plus_seconds(1));
    let r = audit(&g, t(30 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptLate);
    assert_eq!(r.rows[0].days_late, Some(11));
}

#[test]
fn broken_is_broken_and_counts_against_the_hit_rate() {
    let mut g = one_promise(t(10 * DAY));
    g.broken(1);
    let r = audit(&g, t(30 * DAY));
    assert_eq!(only_outcome(&r), Outcome::Broken);
    assert_eq!(r.rows[0].days_late, None);
    assert_eq!(r.original_date_hit_rate, Some(0.0));
}

#[test]
fn released_is_released_and_leaves_the_hit_rate() {
    let mut g = one_promise(t(10 * DAY));
    g.released(1);
    let r = audit(&g, t(30 * DAY));
    assert_eq!(only_outcome(&r), Outcome::Released);
    assert_eq!(r.original_date_hit_rate, None, "denominator 0 → null");
}

#[test]
fn open_past_its_last_due_is_open_overdue_and_counts_as_a_miss() {
    let g = one_promise(t(10 * DAY));
    let r = audit(&g, t(10 * DAY).plus_seconds(1));
    assert_eq!(only_outcome(&r), Outcome::OpenOverdue);
    assert_eq!(r.rows[0].days_late, Some(1));
    assert_eq!(r.original_date_hit_rate, Some(0.0));
}

#[test]
fn open_until_its_last_due_has_passed() {
    // Due exactly now: not yet passed
    let g = one_promise(t(10 * DAY));
    let r = audit(&g, t(10 * DAY));
    assert_eq!(only_outcome(&r), Outcome::Open);
    assert_eq!(r.original_date_hit_rate, None);
    // Moved past its original due: open, but already late on the original
    let mut g = one_promise(t(10 * DAY));
    g.moved(1, t(20 * DAY), Cause::External, true);
    let r = audit(&g, t(12 * DAY));
    assert_eq!(only_outcome(&r), Outcome::Open);
    assert_eq!(r.rows[0].days_late, Some(2));
}

#[test]
fn hit_rate_is_on_time_over_all_but_released_and_open() {
    // One promise in each of the seven outcomes
    let now = t(100 * DAY);
    let mut g = Given::new();
    g.client("acme");
    for id in 1..=7 {
        g.promise(id, "acme", t(10 * DAY));
    }
    g.keep(1, t(9 * DAY));
    g.at(t(9 * DAY));
    g.moved(2, t(20 * DAY), Cause::Us, true);
    g.keep(2, t(19 * DAY));
    g.keep(3, t(11 * DAY));
    g.broken(4);
    g.released(5);
    // 6 stays open and overdue; 7 is moved beyond now
    g.at(t(9 * DAY));
    g.moved(7, t(200 * DAY), Cause::Client, true);
    let r = audit(&g, now);
    let p = r.promises;
    assert_eq!(
        [
            p.kept_on_time,
            p.kept_after_move,
            p.kept_late,
            p.broken,
            p.released,
            p.open_overdue,
            p.open,
            p.total
        ],
        [1, 1, 1, 1, 1, 1, 1, 7]
    );
    // 1 / (7 − 1 released − 1 open): open_overdue stays in
    assert_eq!(r.original_date_hit_rate, Some(1.0 / 5.0));
}

#[test]
fn period_is_on_the_original_due_inclusive() {
    let mut g = Given::new();
    g.client("acme");
    g.promise(1, "acme", t(10 * DAY)); // at `from`
    g.promise(2, "acme", t(20 * DAY)); // at `to`
    g.promise(3, "acme", t(21 * DAY)); // after
    g.promise(4, "acme", t(5 * DAY)); // before, moved into the period
    g.at(t(DAY));
    g.moved(4, t(15 * DAY), Cause::Us, true);
    g.moved(1, t(30 * DAY), Cause::Client, true); // moved out: still in
    let a: Audit = g.replay();
    let q = AuditQuery {
        client: None,
        from: Some(t(10 * DAY)),
        to: Some(t(20 * DAY)),
    };
    let r = a.report(t(0), &q);
    let ids: Vec<_> = r.rows.iter().map(|r| r.promise).collect();
    assert_eq!(ids, vec![1, 2]);
    assert_eq!(r.moves.client, 1);
    assert_eq!(r.moves.us, 0, "the move of #4 belongs to #4's period");
    let json = r.to_json();
    assert_eq!(json["period"]["from"], t(10 * DAY).to_rfc3339());
}

#[test]
fn client_filter_keeps_that_clients_promises() {
    let mut g = Given::new();
    g.client("acme");
    g.client("beta");
    g.promise(1, "acme", t(10));
    g.promise(2, "beta", t(10));
    g.promise(3, "beta", t(10));
    let a: Audit = g.replay();
    let r = a.report(t(0), &AuditQuery::client("beta"));
    assert_eq!(r.promises.total, 2);
    assert!(r.rows.iter().all(|r| r.client == "beta"));
    assert_eq!(r.client.as_deref(), Some("beta"));
}

#[test]
fn moves_counted_by_cause_and_after_the_due_they_moved() {
    let mut g = one_promise(t(10 * DAY));
    // First move, in time: 10 → 20
    g.at(t(5 * DAY));
    g.moved(1, t(20 * DAY), Cause::Us, false);
    // Second move at day 15: after the original due but before the due
    // in force (20), so not after_due
    g.at(t(15 * DAY));
    g.moved(1, t(30 * DAY), Cause::Client, true);
    // Third move recorded at day 31: the due it moved (30) had passed
    g.at(t(31 * DAY));
    g.moved(1, t(40 * DAY), Cause::External, false);
    let r = audit(&g, t(35 * DAY));
    assert_eq!(
        r.moves,
        MoveCounts {
            us: 1,
            client: 1,
            external: 1,
            after_due: 1,
            earlier: 0
        }
    );
    let f = flags_of(&r, FLAG_MOVE_AFTER_DUE);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].promise, f[0].seq), (Some(1), Some(5)));
    assert!(f[0].message.contains("#1"), "{}", f[0].message);
}

#[test]
fn flag_move_recorded_after_the_due_passed_even_if_dated_before() {
    let mut g = one_promise(t(10 * DAY));
    // Recorded on day 12, claiming it happened on day 9
    let e = Given::move_event(1, t(20 * DAY), Cause::Client, true);
    let seq = g.push_at(t(12 * DAY), t(9 * DAY), e);
    let r = audit(&g, t(12 * DAY));
    let f = flags_of(&r, FLAG_MOVE_AFTER_DUE);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].seq, Some(seq));
    assert_eq!(f[0].client.as_deref(), Some("acme"));
    assert!(f[0].message.contains("before the due"), "{}", f[0].message);
}

#[test]
fn flag_backdated_keep() {
    // Recorded a day after its due, dated on time
    let mut g = one_promise(t(10 * DAY));
    let kept = Event::PromiseKept {
        promise: 1,
        note: String::new(),
    };
    let seq = g.push_at(t(11 * DAY), t(10 * DAY), kept.clone());
    let r = audit(&g, t(20 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptOnTime);
    let f = flags_of(&r, FLAG_BACKDATED_KEEP);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].promise, f[0].seq), (Some(1), Some(seq)));
    assert!(f[0].message.contains("backdated"));

    // Recorded late and dated late: honest, not flagged
    let mut g = one_promise(t(10 * DAY));
    g.push_at(t(12 * DAY), t(11 * DAY), kept.clone());
    assert!(flags_of(&audit(&g, t(20 * DAY)), FLAG_BACKDATED_KEEP).is_empty());

    // Recorded after the original due (but before the moved one), dated
    // before the original: it would inflate the original-date hit rate
    let mut g = one_promise(t(10 * DAY));
    g.at(t(DAY));
    g.moved(1, t(20 * DAY), Cause::Us, true);
    g.push_at(t(15 * DAY), t(9 * DAY), kept);
    let r = audit(&g, t(20 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptOnTime);
    assert_eq!(flags_of(&r, FLAG_BACKDATED_KEEP).len(), 1);
}

#[test]
fn flag_blame_pattern_needs_two_client_moves_and_more_than_half() {
    let mut g = Given::new();
    g.client("acme");
    g.client("beta");
    g.client("cora");
    for (id, c) in [(1, "acme"), (2, "beta"), (3, "cora")] {
        g.promise(id, c, t(100 * DAY));
    }
    // acme: 2 of 3 moves blamed on the client → pattern
    g.moved(1, t(101 * DAY), Cause::Client, true);
    g.moved(1, t(102 * DAY), Cause::Us, true);
    let last = g.moved(1, t(103 * DAY), Cause::Client, false);
    // beta: 1 of 1 → a single slip is not a pattern
    g.moved(2, t(101 * DAY), Cause::Client, true);
    // cora: 2 of 4 → not mostly
    g.moved(3, t(101 * DAY), Cause::Client, true);
    g.moved(3, t(102 * DAY), Cause::Client, true);
    g.moved(3, t(103 * DAY), Cause::Us, true);
    g.moved(3, t(104 * DAY), Cause::External, true);
    let r = audit(&g, t(0));
    let f = flags_of(&r, FLAG_BLAME_PATTERN);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].client.as_deref(), f[0].seq),
        (Some("acme"), Some(last))
    );
    assert!(f[0].message.contains("2 of 3"), "{}", f[0].message);
    // The same rule per client filter
    let a: Audit = g.replay();
    assert!(a.report(t(0), &AuditQuery::client("cora")).flags.is_empty());
}

#[test]
fn flag_retraction_listed_and_the_retracted_event_does_not_count() {
    let mut g = one_promise(t(10 * DAY));
    let kept = g.keep(1, t(5 * DAY));
    let by = g.retract(kept, "wrong promise");
    let r = audit(&g, t(20 * DAY));
    assert_eq!(
        only_outcome(&r),
        Outcome::OpenOverdue,
        "the keep was retracted"
    );
    let f = flags_of(&r, FLAG_RETRACTED);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].seq, f[0].retracted_by, f[0].reason.as_deref()),
        (Some(kept), Some(by), Some("wrong promise"))
    );
    assert_eq!(
        (f[0].client.as_deref(), f[0].promise),
        (Some("acme"), Some(1))
    );
    assert!(
        f[0].message.contains("PromiseKept") && f[0].message.contains("wrong promise"),
        "{}",
        f[0].message
    );
}

#[test]
fn retracted_promise_is_not_counted_but_its_retraction_is_in_its_period_and_client() {
    let mut g = Given::new();
    g.client("acme");
    g.client("beta");
    let made = g.promise(1, "acme", t(10 * DAY));
    g.retract(made, "typo");
    let a: Audit = g.replay();
    let r = a.report(t(20 * DAY), &AuditQuery::client("acme"));
    assert_eq!(r.promises.total, 0);
    assert_eq!(flags_of(&r, FLAG_RETRACTED).len(), 1);
    assert!(flags_of(&a.report(t(0), &AuditQuery::client("beta")), FLAG_RETRACTED).is_empty());
    let outside = AuditQuery {
        from: Some(t(11 * DAY)),
        ..AuditQuery::all()
    };
    assert!(a.report(t(0), &outside).flags.is_empty());
}

#[test]
fn promises_of_a_retracted_client_and_unknown_promises_are_ignored() {
    let mut g = Given::new();
    let added = g.client_fit("ghost", Fit::OffTarget);
    g.promise(1, "ghost", t(10));
    g.keep(1, t(5));
    g.keep(99, t(5));
    g.moved(98, t(5), Cause::Us, true);
    g.retract(added, "never a client");
    let r = audit(&g, t(20));
    assert_eq!(r.promises.total, 0);
    assert_eq!(r.moves, MoveCounts::default());
    assert_eq!(
        flags_of(&r, FLAG_RETRACTED)[0].client.as_deref(),
        Some("ghost")
    );
}

#[test]
fn only_the_first_close_counts_and_moves_after_it_are_ignored() {
    let mut g = one_promise(t(10 * DAY));
    g.keep(1, t(9 * DAY));
    g.broken(1);
    g.moved(1, t(30 * DAY), Cause::Us, false);
    let r = audit(&g, t(40 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptOnTime);
    assert_eq!(r.moves, MoveCounts::default());
}

#[test]
fn json_has_exactly_the_spec_shape() {
    let mut g = one_promise(t(10 * DAY));
    g.keep(1, t(DAY));
    let v = audit(&g, t(20 * DAY)).to_json();
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let mut top = keys(&v);
    top.sort();
    assert_eq!(
        top,
        [
            "flags",
            "moves",
            "original_date_hit_rate",
            "period",
            "promises"
        ]
    );
    let mut p = keys(&v["promises"]);
    p.sort();
    assert_eq!(
        p,
        [
            "broken",
            "kept_after_move",
            "kept_late",
            "kept_on_time",
            "open",
            "open_overdue",
            "released",
            "total"
        ]
    );
    let mut m = keys(&v["moves"]);
    m.sort();
    assert_eq!(m, ["after_due", "client", "earlier", "external", "us"]);
    assert_eq!(v["period"], serde_json::json!({"from": null, "to": null}));
    assert_eq!(v["original_date_hit_rate"], 1.0);
    assert_eq!(v["promises"]["kept_on_time"], 1);
}

#[test]
fn csv_row_in_header_order() {
    let mut g = one_promise(t(10 * DAY));
    g.at(t(DAY));
    g.moved(1, t(12 * DAY), Cause::Us, true);
    g.keep(1, t(13 * DAY));
    let r = audit(&g, t(20 * DAY));
    assert_eq!(
        r.rows[0].csv_fields(|t, _| t.to_rfc3339()),
        [
            "1",
            "acme",
            "deliverable 1",
            "1970-01-11T00:00:00Z",
            "1970-01-13T00:00:00Z",
            "1",
            "kept_late",
            "3"
        ]
        .map(String::from)
    );
    let broken = {
        let mut g = one_promise(t(10 * DAY));
        g.broken(1);
        audit(&g, t(0))
    };
    assert_eq!(
        broken.rows[0].csv_fields(|t, _| t.to_rfc3339())[7],
        "",
        "no days late for broken"
    );
}

/// A journal with every kind of flag, a repeated promise id, texts
/// that need JSON escapes, and a retracted promise.
fn busy() -> Given {
    let mut g = Given::new();
    g.client("acme");
    g.client("b\"e\\ta");
    for (id, c, what) in [
        (1, "acme", "plain"),
        (2, "acme", "quote \" and \\ and \n newline \u{1} é ✓"),
        (3, "b\"e\\ta", "tab\there"),
        (4, "b\"e\\ta", "x"),
        (5, "acme", "made twice"),
    ] {
        g.push(Event::PromiseMade {
            promise: id,
            client: c.into(),
            what: what.into(),
            due: Due {
                at: t(10 * DAY),
                date_only: id % 2 == 0,
            },
        });
    }
    g.at(t(11 * DAY));
    g.moved(2, t(20 * DAY), Cause::Client, true);
    g.moved(3, t(12 * DAY), Cause::Client, false);
    g.at(t(13 * DAY));
    g.moved(3, t(14 * DAY), Cause::Client, true);
    g.moved(5, t(30 * DAY), Cause::Us, true);
    // #5 again: replaces the first, its move gone
    g.push(Event::PromiseMade {
        promise: 5,
        client: "acme".into(),
        what: "made again".into(),
        due: due(t(40 * DAY)),
    });
    g.push_at(
        t(25 * DAY),
        t(19 * DAY),
        Event::PromiseKept {
            promise: 2,
            note: String::new(),
        },
    );
    let made = g.promise(6, "acme", t(50 * DAY));
    g.retract(made, "typo \"here\"");
    g.broken(4);
    g
}

fn json_of(a: &Audit, now: Timestamp, q: &AuditQuery) -> String {
    let mut out = Vec::new();
    a.write_json(now, q, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn queries() -> Vec<AuditQuery> {
    let mut qs = vec![AuditQuery::all(), AuditQuery::client("b\"e\\ta")];
    qs.push(AuditQuery::client("nobody"));
    qs.push(AuditQuery {
        client: Some("acme".into()),
        from: Some(t(10 * DAY)),
        to: Some(t(45 * DAY)),
    });
    qs.push(AuditQuery {
        client: None,
        from: Some(t(41 * DAY)),
        to: None,
    });
    qs
}

#[test]
fn write_json_is_the_summary_serialized() {
    #[derive(Serialize)]
    struct WithClient<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        client: Option<&'a str>,
        #[serde(flatten)]
        report: &'a AuditReport,
    }
    let a: Audit = busy().replay();
    for q in queries() {
        let r = a.summary(t(100 * DAY), &q);
        let want = serde_json::to_string(&WithClient {
            client: q.client.as_deref(),
            report: &r,
        })
        .unwrap();
        assert_eq!(json_of(&a, t(100 * DAY), &q), want, "{q:?}");
    }
    let r = a.summary(t(100 * DAY), &AuditQuery::all());
    let kinds: Vec<_> = r.flags.iter().map(|f| f.kind).collect();
    assert!(
        [
            FLAG_MOVE_AFTER_DUE,
            FLAG_BACKDATED_KEEP,
            FLAG_BLAME_PATTERN,
            FLAG_RETRACTED,
            FLAG_RECORDED_OUT_OF_ORDER
        ]
        .iter()
        .all(|k| kinds.contains(k)),
        "{kinds:?}"
    );
}

/// A checkpoint section read back through the reader checkpoints use.
struct Bytes<'a>(&'a [u8]);

impl SectionReader for Bytes<'_> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Option<()> {
        let (head, rest) = self.0.split_at_checked(buf.len())?;
        buf.copy_from_slice(head);
        self.0 = rest;
        Some(())
    }
    fn remaining(&self) -> u64 {
        self.0.len() as u64
    }
    fn intact(&mut self) -> bool {
        self.0.is_empty()
    }
}

#[test]
fn checkpoint_round_trip_answers_alike_with_or_without_every_text() {
    let g = busy();
    let a: Audit = g.replay();
    let bytes = a.to_checkpoint().unwrap();
    let all = Audit::from_checkpoint(&mut Bytes(&bytes), true).unwrap();
    assert_eq!(all, a);
    let flags_only = Audit::from_checkpoint(&mut Bytes(&bytes), false).unwrap();
    assert!(!flags_only.has_all_texts());
    let mut folded = Audit::flag_texts_only();
    g.replay_into(&mut folded);
    for q in queries() {
        let now = t(100 * DAY);
        assert_eq!(all.report(now, &q), a.report(now, &q));
        assert_eq!(json_of(&flags_only, now, &q), json_of(&a, now, &q));
        assert_eq!(json_of(&folded, now, &q), json_of(&a, now, &q));
    }
    assert!(
        folded.to_checkpoint().is_err(),
        "no checkpoint without every text"
    );
    // Events on top of a decoded audit: as if folded in one go
    let mut more = busy();
    more.at(t(60 * DAY));
    more.moved(1, t(70 * DAY), Cause::External, false);
    more.keep(3, t(61 * DAY));
    more.promise(7, "acme", t(80 * DAY));
    more.promise(1, "acme", t(90 * DAY));
    let whole: Audit = more.replay();
    let mut resumed = Audit::from_checkpoint(&mut Bytes(&bytes), false).unwrap();
    let retracted = crate::projections::retracted_set(&more.envs);
    crate::projections::replay(&mut resumed, &more.envs[g.envs.len()..], &retracted);
    for q in queries() {
        let now = t(100 * DAY);
        assert_eq!(json_of(&resumed, now, &q), json_of(&whole, now, &q));
    }
}

#[test]
fn damaged_checkpoint_sections_are_refused_never_a_panic() {
    let a: Audit = busy().replay();
    let bytes = a.to_checkpoint().unwrap();
    for cut in 0..bytes.len() {
        assert!(Audit::from_checkpoint(&mut Bytes(&bytes[..cut]), true).is_none());
        assert!(Audit::from_checkpoint(&mut Bytes(&bytes[..cut]), false).is_none());
    }
    // The serde part at the end is decoded only once the section's
    // CRC held (`SectionReader::intact`); the rest is checked here.
    let meta_len = u64::from_le_bytes(bytes[24..32].try_into().unwrap()) as usize;
    for i in 0..bytes.len() - meta_len {
        for flip in [1u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            // Whatever it decodes to, reading it and reporting must not
            // panic (the CRC of the section catches the damage).
            for all in [true, false] {
                if let Some(d) = Audit::from_checkpoint(&mut Bytes(&b), all) {
                    let _ = d.report(t(100 * DAY), &AuditQuery::all());
                    let _ = json_of(&d, t(100 * DAY), &AuditQuery::all());
                }
            }
        }
    }
}

/// Issue 15.3: moved to a date earlier than its due, kept after that date
/// but before the original: kept after its last agreed due, so late.
#[test]
fn pulled_in_then_missed_is_not_kept_on_time() {
    // Given #1 due day 100, pulled in to day 50 (cause us)
    let mut g = one_promise(t(100 * DAY));
    g.moved(1, t(50 * DAY), Cause::Us, true);
    // When it is kept on day 70 (after day 50, before day 100)
    g.keep(1, t(70 * DAY));
    // Then it is kept late, and the pull-in is counted apart, not as a slip
    let r = audit(&g, t(200 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptLate);
    assert_eq!(r.original_date_hit_rate, Some(0.0));
    assert_eq!((r.moves.us, r.moves.client, r.moves.external), (0, 0, 0));
    assert_eq!(r.moves.earlier, 1);
    // late by the date it was pulled in to (day 50), not 0 days
    assert_eq!(r.rows[0].days_late, Some(20));
}

#[test]
fn pulled_in_and_kept_by_the_new_date_is_on_time() {
    let mut g = one_promise(t(100 * DAY));
    g.moved(1, t(50 * DAY), Cause::Client, false);
    g.keep(1, t(40 * DAY));
    let r = audit(&g, t(200 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptOnTime);
    assert_eq!((r.moves.client, r.moves.earlier), (0, 1));
}

#[test]
fn pulled_in_then_moved_out_past_the_original_is_kept_after_move() {
    // Given #1 due day 100, pulled in to day 50, then moved out to day 120
    let mut g = one_promise(t(100 * DAY));
    g.moved(1, t(50 * DAY), Cause::Us, true);
    g.moved(1, t(120 * DAY), Cause::Client, true);
    // When kept on day 110: after the original, by the last due
    g.keep(1, t(110 * DAY));
    let r = audit(&g, t(200 * DAY));
    assert_eq!(only_outcome(&r), Outcome::KeptAfterMove);
    assert_eq!((r.moves.client, r.moves.earlier), (1, 1));
}

#[test]
fn pull_ins_do_not_make_a_blame_pattern() {
    let mut g = one_promise(t(100 * DAY));
    g.moved(1, t(90 * DAY), Cause::Client, true);
    g.moved(1, t(80 * DAY), Cause::Client, true);
    let r = audit(&g, t(10 * DAY));
    assert!(flags_of(&r, FLAG_BLAME_PATTERN).is_empty());
    assert_eq!(r.moves.earlier, 2);
}

/// Issue 15.2: acme and beta; a talk recorded at 5 after one recorded at
/// 20 (an import), a promise of beta and its keep recorded at 15 and 16,
/// a record at 40 that is retracted, then a talk at 35 and the retraction.
fn out_of_order() -> (Given, Seq, Seq) {
    let mut g = Given::new();
    g.at(t(10));
    g.client("acme"); // 1 at 10
    g.client("beta"); // 2 at 11
    g.at(t(20));
    g.talk("acme", crate::events::InteractionKind::Call, 1, None); // 3 at 20
    g.at(t(5));
    g.talk("acme", crate::events::InteractionKind::Call, 1, None); // 4 at 5
    g.at(t(15));
    g.promise(1, "beta", t(100)); // 5 at 15
    g.push(Event::PromiseKept {
        promise: 1,
        note: String::new(),
    }); // 6 at 16
    g.at(t(40));
    let late = g.talk("beta", crate::events::InteractionKind::Call, 1, None); // 7 at 40
    g.at(t(35));
    let after = g.talk("acme", crate::events::InteractionKind::Call, 1, None); // 8 at 35
    g.at(t(50));
    g.retract(late, "wrong"); // 9 at 50
    (g, late, after)
}

fn out_of_order_flags(r: &AuditReport) -> Vec<(Seq, Option<&str>, Option<PromiseId>)> {
    flags_of(r, FLAG_RECORDED_OUT_OF_ORDER)
        .iter()
        .map(|f| (f.seq.unwrap(), f.client.as_deref(), f.promise))
        .collect()
}

#[test]
fn recorded_out_of_order_flags_every_record_before_the_latest_time_seen() {
    let (g, late, after) = out_of_order();
    let a: Audit = g.replay();
    let r = a.report(t(200), &AuditQuery::all());
    // #4, #5, #6 are before #3's 20; #8 before the retracted #7's 40 (a
    // retraction does not change when a record was written); #7 itself,
    // retracted, was in order
    assert_eq!(
        out_of_order_flags(&r),
        [
            (4, Some("acme"), None),
            (5, Some("beta"), Some(1)),
            (6, Some("beta"), Some(1)),
            (after, Some("acme"), None),
        ]
    );
    assert_eq!(late, 7);
    let f = flags_of(&r, FLAG_RECORDED_OUT_OF_ORDER);
    // Named: the record, its time, the later record and time already seen
    for (i, want) in [
        ["#4 ", "#3", "00:00:05Z", "00:00:20Z"],
        ["#8 ", "#7", "00:00:35Z", "00:00:40Z"],
    ]
    .iter()
    .enumerate()
    {
        let m = &f[[0, 3][i]].json_message;
        assert!(want.iter().all(|p| m.contains(p)), "{m}");
    }
    assert!(f[0].message.contains("Interacted"), "{}", f[0].message);
    // The last flags: after the retraction of #7
    let kinds: Vec<_> = r.flags.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FLAG_RETRACTED,
            FLAG_RECORDED_OUT_OF_ORDER,
            FLAG_RECORDED_OUT_OF_ORDER,
            FLAG_RECORDED_OUT_OF_ORDER,
            FLAG_RECORDED_OUT_OF_ORDER
        ]
    );
}

#[test]
fn recorded_out_of_order_belongs_to_the_client_it_is_about() {
    let (mut g, _, _) = out_of_order();
    // A retraction recorded early of a beta event: beta's; a retraction
    // of a retraction names no client: only in the audit of everyone
    g.at(t(41));
    let talk = g.talk("beta", crate::events::InteractionKind::Call, 1, None); // 10 at 41
    g.at(t(45));
    let r1 = g.retract(talk, "no"); // 11 at 45
    g.at(t(46));
    let r2 = g.retract(r1, "no"); // 12 at 46
    let a: Audit = g.replay();
    let all = a.report(t(200), &AuditQuery::all());
    assert_eq!(
        out_of_order_flags(&all)[4..],
        [
            (talk, Some("beta"), None),
            (r1, Some("beta"), None),
            (r2, None, None)
        ]
    );
    let acme = a.report(t(200), &AuditQuery::client("acme"));
    assert_eq!(
        out_of_order_flags(&acme),
        [(4, Some("acme"), None), (8, Some("acme"), None)]
    );
    let beta = a.report(t(200), &AuditQuery::client("beta"));
    assert_eq!(
        out_of_order_flags(&beta),
        [
            (5, Some("beta"), Some(1)),
            (6, Some("beta"), Some(1)),
            (talk, Some("beta"), None),
            (r1, Some("beta"), None)
        ]
    );
    // A period: by the promise's original due (100), else when it happened
    let q = AuditQuery {
        client: None,
        from: Some(t(90)),
        to: Some(t(110)),
    };
    assert_eq!(
        out_of_order_flags(&a.report(t(200), &q)),
        [(5, Some("beta"), Some(1)), (6, Some("beta"), Some(1))]
    );
    // The audit of one client answers as the full one does for it
    for h in ["acme", "beta"] {
        let mut one = Audit::for_client(h);
        g.replay_into(&mut one);
        let q = AuditQuery::client(h);
        assert_eq!(one.report(t(200), &q), a.report(t(200), &q), "{h}");
    }
}

#[test]
fn a_journal_in_order_has_no_out_of_order_flag() {
    let mut g = one_promise(t(100 * DAY));
    g.at(t(DAY));
    g.moved(1, t(120 * DAY), Cause::Client, true);
    g.at(t(2 * DAY));
    g.talk("acme", crate::events::InteractionKind::Call, 0, None);
    // Two records at the same instant are not out of order
    g.at(t(2 * DAY));
    g.talk("acme", crate::events::InteractionKind::Call, 0, None);
    let r = audit(&g, t(200 * DAY));
    assert!(
        flags_of(&r, FLAG_RECORDED_OUT_OF_ORDER).is_empty(),
        "{:?}",
        r.flags
    );
}

#[test]
fn out_of_order_records_survive_a_checkpoint_before_and_after_it() {
    let (g, _, _) = out_of_order();
    let whole: Audit = g.replay();
    let retracted = crate::projections::retracted_set(&g.envs);
    for cut in 0..=g.envs.len() {
        let mut first = Audit::new();
        crate::projections::replay(&mut first, &g.envs[..cut], &retracted);
        let bytes = first.to_checkpoint().unwrap();
        for all_texts in [true, false] {
            let mut resumed = Audit::from_checkpoint(&mut Bytes(&bytes), all_texts).unwrap();
            crate::projections::replay(&mut resumed, &g.envs[cut..], &retracted);
            for q in [
                AuditQuery::all(),
                AuditQuery::client("acme"),
                AuditQuery::client("beta"),
            ] {
                assert_eq!(
                    json_of(&resumed, t(200), &q),
                    json_of(&whole, t(200), &q),
                    "cut {cut}"
                );
            }
        }
    }
}

/// Issue 13: the words of `audit --json` carry no local time; the words
/// for people do. The retraction's words are made from the stored event.
#[test]
fn json_messages_are_in_utc_and_the_words_for_people_local() {
    let mut g = one_promise(t(10 * DAY));
    g.at(t(11 * DAY));
    let m = g.moved(1, t(20 * DAY), Cause::Us, false);
    g.retract(m, "typo");
    let r = audit(&g, t(30 * DAY));
    let f = flags_of(&r, FLAG_RETRACTED);
    assert!(
        f[0].json_message.contains("moved to 1970-01-21T00:00:00Z"),
        "{}",
        f[0].json_message
    );
    assert!(
        f[0].message
            .contains(&format!("moved to {}", t(20 * DAY).to_local_string())),
        "{}",
        f[0].message
    );
}
