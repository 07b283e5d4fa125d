//! Given/when/then tests of the trust projection.

use super::*;
use crate::events::{Due, Event, Party};
use crate::projections::testkit::*;

const DAY: i64 = 86_400;

/// A stream whose events happen on whole days (so no two interactions
/// fall in the 3 s first-impression window by accident).
struct Story(Given);

impl Story {
    fn new(handle: &str) -> Self {
        let mut g = Given::new();
        g.client(handle);
        Story(g)
    }
    fn on(&mut self, day: i64, e: Event) -> Seq {
        self.0.push_at(t(day * DAY), t(day * DAY), e)
    }
    fn talk(&mut self, day: i64, kind: InteractionKind, mood: i8, minutes: Option<u32>) -> Seq {
        self.on(
            day,
            Event::Interacted {
                client: "acme".into(),
                kind,
                mood,
                minutes,
                initiated_by: Party::Us,
                note: String::new(),
            },
        )
    }
    fn promise(&mut self, day: i64, id: PromiseId, due_day: i64) -> Seq {
        self.on(
            day,
            Event::PromiseMade {
                promise: id,
                client: "acme".into(),
                what: "work".into(),
                due: due(t(due_day * DAY)),
            },
        )
    }
    fn moved(&mut self, day: i64, id: PromiseId, to_day: i64, cause: Cause, agreed: bool) -> Seq {
        self.on(day, Given::move_event(id, t(to_day * DAY), cause, agreed))
    }
    fn kept(&mut self, day: i64, id: PromiseId) -> Seq {
        self.on(
            day,
            Event::PromiseKept {
                promise: id,
                note: String::new(),
            },
        )
    }
    fn advocated(&mut self, day: i64, kind: AdvocacyKind, by_client: bool) -> Seq {
        self.on(
            day,
            Event::Advocated {
                client: "acme".into(),
                kind,
                initiated_by_client: by_client,
                note: String::new(),
            },
        )
    }
    fn report(&self) -> TrustReport {
        let tr: Trust = self.0.replay();
        tr.report("acme").unwrap()
    }
}

/// (score, change) in points, and reason, per history entry.
fn steps(r: &TrustReport) -> Vec<(f64, f64, String)> {
    r.history
        .iter()
        .map(|h| (h.score_points(), h.change_points(), h.reason.clone()))
        .collect()
}

fn step(score: f64, change: f64, reason: &str) -> (f64, f64, String) {
    (score, change, reason.to_string())
}

// ---- The worked examples of docs/trust-model.md (same numbers) ----

#[test]
fn worked_example_1_a_bad_start() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, -2, Some(10));
    s.talk(3, InteractionKind::Meeting, 2, Some(90));
    s.talk(5, InteractionKind::Meeting, 1, None);
    s.promise(5, 1, 10);
    s.kept(9, 1);
    let r = s.report();
    assert_eq!(
        steps(&r),
        vec![
            step(50.0, 0.0, "client added: neutral start at 50"),
            step(
                38.0,
                -12.0,
                "first impression, mood −2, weighed ×3: recovery debt 40 h opened"
            ),
            step(
                40.0,
                2.0,
                "meeting, mood +2, 90 min: +4 × 0.5 during recovery debt = +2; \
                 90 min repaid, 38.5 h of recovery debt left"
            ),
            step(
                41.0,
                1.0,
                "meeting, mood +1, 60 min (default for a meeting): +2 × 0.5 during \
                 recovery debt = +1; 60 min repaid, 37.5 h of recovery debt left"
            ),
            step(
                43.0,
                2.0,
                "promise #1 kept on time: +4 × 0.5 during recovery debt = +2"
            ),
        ]
    );
    assert_eq!(r.score_points(), 43.0);
    assert_eq!(r.debt_minutes_left, 37 * 60 + 30);
    assert_eq!(r.first_impression.as_ref().map(|f| f.mood), Some(-2));
}

#[test]
fn worked_example_2_a_good_start_then_slips() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Meeting, 1, Some(45));
    s.promise(2, 1, 10);
    s.moved(5, 1, 15, Cause::Client, true);
    s.kept(14, 1);
    s.promise(15, 2, 20);
    s.moved(18, 2, 22, Cause::Us, false);
    s.kept(25, 2);
    s.on(
        26,
        Event::MismatchNoted {
            client: "acme".into(),
            text: "we wanted a bolder logo".into(),
        },
    );
    let r = s.report();
    assert_eq!(
        steps(&r)[1..],
        [
            step(56.0, 6.0, "first impression, mood +1, weighed ×3"),
            step(
                55.25,
                -0.75,
                "promise #1 moved (cause: client), agreed by the client: −1.5 × 0.5 = −0.75"
            ),
            step(
                56.25,
                1.0,
                "promise #1 kept by its moved due (late on the original): +1"
            ),
            step(53.25, -3.0, "promise #2 moved (cause: us), not agreed: −3"),
            step(
                48.25,
                -5.0,
                "promise #2 kept 3 days after its due: −(2 + 1 × 3) = −5"
            ),
            step(40.25, -8.0, "mismatch noted (not what they expected): −8"),
        ]
    );
}

#[test]
fn worked_example_3_a_champion() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Email, 2, None);
    s.promise(1, 1, 10);
    s.kept(9, 1);
    s.advocated(12, AdvocacyKind::Referral, true);
    s.advocated(13, AdvocacyKind::Testimonial, false);
    s.advocated(14, AdvocacyKind::Upsell, true);
    s.promise(15, 2, 20);
    s.kept(32, 2);
    let r = s.report();
    assert_eq!(
        steps(&r)[1..],
        [
            step(62.0, 12.0, "first impression, mood +2, weighed ×3"),
            step(66.0, 4.0, "promise #1 kept on time: +4"),
            step(81.0, 15.0, "referral (their initiative): +15"),
            step(87.0, 6.0, "testimonial (we asked): +6"),
            step(
                100.0,
                13.0,
                "upsell (their initiative): +15 (clamped at 100)"
            ),
            step(
                90.0,
                -10.0,
                "promise #2 kept 12 days after its due: −(2 + 1 × 12), capped at 10 = −10"
            ),
        ]
    );
}

// ---- The qualitative rules of SPEC.md ----

/// Ten one-hour good meetings after a first impression of `mood`.
fn ten_good_hours_after(mood: i8) -> TrustReport {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, mood, Some(5));
    for day in 2..12 {
        s.talk(day, InteractionKind::Meeting, 2, Some(60));
    }
    s.report()
}

#[test]
fn the_same_ten_good_hours_leave_a_bad_start_below_a_good_one() {
    let bad = ten_good_hours_after(-2);
    let good = ten_good_hours_after(2);
    assert_eq!(bad.score_points(), 38.0 + 10.0 * 2.0);
    assert_eq!(bad.debt_minutes_left, 30 * 60, "30 of the 40 h still owed");
    assert_eq!(good.score_points(), 100.0);
    assert!(bad.score < good.score);
    // Even a neutral start ends above the bad one
    assert!(ten_good_hours_after(0).score > bad.score);
}

#[test]
fn forty_good_hours_repay_the_debt_then_good_news_counts_in_full() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, -1, None);
    for day in 2..42 {
        s.talk(day, InteractionKind::Meeting, 1, Some(60));
    }
    let r = s.report();
    assert_eq!(r.debt_minutes_left, 0);
    assert!(r.debt_opened);
    let last = r.history.last().unwrap();
    assert!(
        last.reason.ends_with("recovery debt repaid"),
        "{}",
        last.reason
    );
    s.talk(50, InteractionKind::Meeting, 1, Some(60));
    let after = s.report();
    assert_eq!(after.score - r.score, 200, "+2 in full once repaid");
}

#[test]
fn first_impression_weighs_three_times_a_later_one() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, 1, None);
    s.talk(2, InteractionKind::Call, 1, None);
    let r = s.report();
    assert_eq!(r.history[1].change, 600);
    assert_eq!(r.history[2].change, 200);
}

#[test]
fn interactions_within_3_seconds_of_the_first_are_the_first_impression() {
    let mut g = Given::new();
    g.client("acme");
    g.at(t(1000));
    g.talk("acme", InteractionKind::Visit, -1, None); // t=1000
    g.talk("acme", InteractionKind::Visit, -1, None); // t=1001
    g.at(t(1004));
    g.talk("acme", InteractionKind::Visit, -1, None); // 4 s later: not
    let tr: Trust = g.replay();
    let r = tr.report("acme").unwrap();
    let changes: Vec<i64> = r.history.iter().map(|h| h.change).collect();
    assert_eq!(changes, vec![0, -600, -600, -200]);
    assert_eq!(r.debt_minutes_left, 40 * 60, "one debt, not two");
    assert!(r.history[2]
        .reason
        .starts_with("part of the first impression"));
}

#[test]
fn neutral_first_impression_is_in_the_history_with_no_change() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, 0, None);
    s.talk(2, InteractionKind::Call, 0, None);
    let r = s.report();
    assert_eq!(r.history.len(), 2);
    assert_eq!(r.history[1].change, 0);
    assert!(!r.debt_opened);
}

fn change_of(setup: impl FnOnce(&mut Story)) -> i64 {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, 0, None);
    setup(&mut s);
    let r = s.report();
    r.score - 5000
}

#[test]
fn broken_lowers_more_than_late_however_late() {
    let broken = change_of(|s| {
        s.promise(2, 1, 10);
        s.on(
            3,
            Event::PromiseBroken {
                promise: 1,
                reason: "no".into(),
            },
        );
    });
    let late = |days: i64| {
        change_of(|s| {
            s.promise(2, 1, 10);
            s.kept(10 + days, 1);
        })
    };
    assert_eq!(broken, -1500);
    assert_eq!(
        [late(1), late(3), late(8), late(1000)],
        [-300, -500, -1000, -1000]
    );
    assert!(broken < late(1000));
    assert!(late(3) < late(1), "later lowers more");
}

#[test]
fn kept_on_time_raises() {
    let on_time = change_of(|s| {
        s.promise(2, 1, 10);
        s.kept(10, 1);
    });
    assert_eq!(on_time, 400);
}

#[test]
fn moves_lower_a_little_us_more_than_client_more_than_external_agreed_less() {
    let mv = |cause, agreed| {
        change_of(|s| {
            s.promise(2, 1, 10);
            s.moved(3, 1, 12, cause, agreed);
        })
    };
    let us = mv(Cause::Us, false);
    let client = mv(Cause::Client, false);
    let external = mv(Cause::External, false);
    assert_eq!([us, client, external], [-300, -150, -100]);
    assert_eq!(mv(Cause::Us, true), -150);
    assert!(mv(Cause::Us, true) > us, "agreed lowers less");
    assert!(us < client && client < external && external < 0);
}

#[test]
fn mismatch_lowers_and_advocacy_raises_most() {
    let mismatch = change_of(|s| {
        s.on(
            2,
            Event::MismatchNoted {
                client: "acme".into(),
                text: "no".into(),
            },
        );
    });
    assert_eq!(mismatch, -800);
    let by_client = change_of(|s| {
        s.advocated(2, AdvocacyKind::Referral, true);
    });
    let by_us = change_of(|s| {
        s.advocated(2, AdvocacyKind::Referral, false);
    });
    let best_talk = change_of(|s| {
        s.talk(2, InteractionKind::Meeting, 2, None);
    });
    let best_first = {
        let mut s = Story::new("acme");
        s.talk(1, InteractionKind::Meeting, 2, None);
        s.report().score - 5000
    };
    let kept = 400;
    assert!(by_client > by_us, "client-initiated more than asked for");
    assert!(by_us > kept && by_us > best_talk);
    assert!(by_client > best_first, "the strongest positive signal");
}

#[test]
fn score_is_clamped_to_0_100_and_history_adds_up() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, -2, None);
    for id in 1..=5 {
        s.promise(2, id, 10);
        s.on(
            3,
            Event::PromiseBroken {
                promise: id,
                reason: "no".into(),
            },
        );
    }
    let r = s.report();
    assert_eq!(r.score, 0);
    assert!(r.history.last().unwrap().reason.ends_with("(clamped at 0)"));
    for w in r.history.windows(2) {
        assert_eq!(w[0].score + w[1].change, w[1].score);
    }
}

#[test]
fn events_about_unknown_clients_and_promises_are_ignored() {
    let mut g = Given::new();
    g.talk("nobody", InteractionKind::Call, 2, None);
    g.keep(7, t(5));
    g.broken(8);
    g.client("acme");
    g.promise(1, "ghost", t(10));
    g.keep(1, t(5));
    let tr: Trust = g.replay();
    assert!(tr.report("nobody").is_none());
    assert!(tr.report("ghost").is_none());
    assert_eq!(tr.score("acme"), Some(50.0));
    assert_eq!(tr.clients().collect::<Vec<_>>(), ["acme"]);
}

#[test]
fn a_retracted_first_impression_leaves_the_next_contact_first() {
    let mut s = Story::new("acme");
    let bad = s.talk(1, InteractionKind::Call, -2, None);
    s.talk(2, InteractionKind::Call, 1, None);
    s.on(
        3,
        Event::Retracted {
            seq: bad,
            reason: "other client".into(),
        },
    );
    let r = s.report();
    assert_eq!(r.score_points(), 56.0);
    assert!(!r.debt_opened);
}

#[test]
fn for_client_follows_one_client_only() {
    let mut g = Given::new();
    g.client("acme");
    g.client("beta");
    let mut tr = Trust::for_client("beta", TrustParams::default());
    g.replay_into(&mut tr);
    assert_eq!(tr.clients().collect::<Vec<_>>(), ["beta"]);
}

#[test]
fn json_has_the_spec_shape() {
    let mut s = Story::new("acme");
    s.talk(1, InteractionKind::Call, 1, None);
    let v = serde_json::to_value(s.report()).unwrap();
    assert_eq!(v["client"], "acme");
    assert_eq!(v["score"], 56.0);
    assert_eq!(
        v["history"][1],
        serde_json::json!({
            "at": "1970-01-02T00:00:00Z",
            "seq": 2,
            "score": 56.0,
            "change": 6.0,
            "reason": "first impression, mood +1, weighed ×3"
        })
    );
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["client", "history", "score"]);
}

// ---- Parameters ----

#[test]
fn defaults_are_valid_and_documented_values() {
    let p = TrustParams::default();
    assert_eq!(p.validate(), Ok(()));
    assert_eq!(
        (
            p.first_impression_weight,
            p.first_impression_seconds,
            p.recovery_debt_hours
        ),
        (3.0, 3, 40.0)
    );
}

#[test]
fn a_config_overrides_any_subset_and_rejects_unknown_keys() {
    let p: TrustParams = serde_json::from_str(
        r#"{"broken": 20, "recovery_debt_hours": 10, "contact_minutes": {"call": 30}}"#,
    )
    .unwrap();
    assert_eq!((p.broken, p.recovery_debt_hours), (20.0, 10.0));
    assert_eq!(
        (p.contact_minutes.call, p.contact_minutes.meeting),
        (30, 60)
    );
    assert_eq!(p.kept_on_time, TrustParams::default().kept_on_time);
    let err = serde_json::from_str::<TrustParams>(r#"{"brokn": 20}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `brokn`"), "{err}");
    let err =
        serde_json::from_str::<TrustParams>(r#"{"contact_minutes": {"fax": 1}}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `fax`"), "{err}");
}

#[test]
fn validate_lists_every_problem_in_words() {
    let p = TrustParams {
        broken: -3.0,
        recovery_debt_hours: -1.0,
        debt_positive_factor: 1.5,
        mood_points: f64::NAN,
        ..TrustParams::default()
    };
    let err = p.validate().unwrap_err();
    let names: Vec<_> = err.0.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "mood_points",
            "broken",
            "recovery_debt_hours",
            "debt_positive_factor"
        ]
    );
    let text = err.to_string();
    assert!(
        text.contains("`broken` = -3 (expected a number of points from 0 to 100)"),
        "{text}"
    );
    assert!(text.contains("`debt_positive_factor` = 1.5 (expected a factor from 0 to 1)"));
}

#[test]
fn unvalidated_extreme_parameters_never_panic() {
    let p = TrustParams {
        broken: f64::INFINITY,
        mood_points: f64::NAN,
        recovery_debt_hours: -5.0,
        ..TrustParams::default()
    };
    let mut g = Given::new();
    g.client("acme");
    g.talk("acme", InteractionKind::Call, -2, None);
    g.promise(1, "acme", t(10));
    g.broken(1);
    let mut tr = Trust::new(p);
    g.replay_into(&mut tr);
    let s = tr.score("acme").unwrap();
    assert!((0.0..=100.0).contains(&s));
}

#[test]
fn date_only_due_kept_at_its_last_second_is_on_time() {
    let mut s = Story::new("acme");
    s.talk(0, InteractionKind::Call, 0, None);
    s.on(
        1,
        Event::PromiseMade {
            promise: 1,
            client: "acme".into(),
            what: "x".into(),
            due: Due {
                at: t(DAY - 1),
                date_only: true,
            },
        },
    );
    s.0.keep(1, t(DAY - 1));
    assert_eq!(s.report().score_points(), 54.0);
}

/// Issue 15.3: a promise pulled in and then kept after the new date but
/// before the original was scored +4 (on time), and the pull-in −3.
#[test]
fn pulled_in_then_missed_is_not_kept_on_time() {
    // Given #1 due day 10, pulled in (by us, not agreed) to day 6
    let pull_in = change_of(|s| {
        s.promise(2, 1, 10);
        s.moved(3, 1, 6, Cause::Us, false);
    });
    // Then the pull-in costs nothing
    assert_eq!(pull_in, 0);
    // When it is kept on day 8: 2 days after its last due
    let kept = change_of(|s| {
        s.promise(2, 1, 10);
        s.moved(3, 1, 6, Cause::Us, false);
        s.kept(8, 1);
    });
    // Then it is late: −(2 + 1 × 2)
    assert_eq!(kept, -400);
}
