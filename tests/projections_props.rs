//! Property tests of the projections over random event streams:
//! - replaying in one pass equals replaying in any split (what checkpoints
//!   rely on), for every projection, both its state and its reports;
//! - `--as-of T` equals a replay of the journal cut at the last event
//!   recorded by `T`;
//! - invariants of the answers: outcomes add up, per-client and per-period
//!   audits add up to the whole, trust stays in 0–100 and its history adds
//!   up, warnings come most serious first.
//!
//! Streams are built from random operations by a small model that keeps
//! them plausible (monotonic `recorded_at`, some backdated `occurred_at`,
//! promise ids handed out in order, retractions of earlier non-retraction
//! events), yet still contains what the CLI would refuse (moves of closed
//! promises, events about unknown promises or clients after a retraction),
//! which projections must take in stride.

use std::collections::HashSet;

use proptest::prelude::*;

use trustlog::events::*;
use trustlog::projections::audit::{Audit, AuditQuery};
use trustlog::projections::due::DueList;
use trustlog::projections::postmortem::Postmortem;
use trustlog::projections::state::State;
use trustlog::projections::status::Status;
use trustlog::projections::trust::{Trust, TrustParams};
use trustlog::projections::{as_of, feed, replay, replay_as_of, retracted_set, Projection};

const HANDLES: [&str; 3] = ["acme", "beta", "cora"];
const DAY: i64 = 86_400;

#[derive(Debug, Clone)]
enum Op {
    Add(usize, bool),
    Fit(usize, bool),
    Expect(usize),
    Mismatch(usize),
    Talk(usize, usize, i8, Option<u32>),
    Make(usize, i64),
    Move(u64, i64, usize, bool),
    Keep(u64),
    Break(u64),
    Release(u64),
    Praise(usize, usize, bool),
    Lost(usize),
    Back(usize),
    Retract(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let h = 0..HANDLES.len();
    let p = 0u64..12;
    prop_oneof![
        2 => (h.clone(), any::<bool>()).prop_map(|(h, f)| Op::Add(h, f)),
        1 => (h.clone(), any::<bool>()).prop_map(|(h, f)| Op::Fit(h, f)),
        1 => h.clone().prop_map(Op::Expect),
        1 => h.clone().prop_map(Op::Mismatch),
        4 => (h.clone(), 0usize..7, -2i8..=2, proptest::option::of(0u32..300))
            .prop_map(|(h, k, m, n)| Op::Talk(h, k, m, n)),
        3 => (h.clone(), -5i64..30).prop_map(|(h, d)| Op::Make(h, d)),
        2 => (p.clone(), -5i64..30, 0usize..3, any::<bool>())
            .prop_map(|(p, d, c, a)| Op::Move(p, d, c, a)),
        2 => p.clone().prop_map(Op::Keep),
        1 => p.clone().prop_map(Op::Break),
        1 => p.prop_map(Op::Release),
        1 => (h.clone(), 0usize..4, any::<bool>()).prop_map(|(h, k, b)| Op::Praise(h, k, b)),
        1 => h.clone().prop_map(Op::Lost),
        1 => h.prop_map(Op::Back),
        1 => (0usize..1000).prop_map(Op::Retract),
    ]
}

/// (operation, seconds to advance the clock, how far back `occurred_at` is)
fn stream() -> impl Strategy<Value = Vec<Envelope>> {
    proptest::collection::vec(
        (
            op(),
            0i64..3 * DAY,
            prop_oneof![3 => Just(0i64), 1 => 0i64..5 * DAY],
        ),
        0..60,
    )
    .prop_map(build)
}

fn build(ops: Vec<(Op, i64, i64)>) -> Vec<Envelope> {
    const KINDS: [InteractionKind; 7] = [
        InteractionKind::Meeting,
        InteractionKind::Call,
        InteractionKind::Email,
        InteractionKind::Message,
        InteractionKind::Visit,
        InteractionKind::Delivery,
        InteractionKind::Other,
    ];
    const CAUSES: [Cause; 3] = [Cause::Us, Cause::Client, Cause::External];
    const ADVOCACY: [AdvocacyKind; 4] = [
        AdvocacyKind::Referral,
        AdvocacyKind::Testimonial,
        AdvocacyKind::Upsell,
        AdvocacyKind::CrossSell,
    ];
    let fit = |f: bool| if f { Fit::Target } else { Fit::OffTarget };
    let mut clock = 1_700_000_000i64;
    let mut next_promise: PromiseId = 1;
    let mut out: Vec<Envelope> = Vec::new();
    let mut retracted: HashSet<Seq> = HashSet::new();
    for (op, advance, back) in ops {
        clock += advance;
        let at = |d: i64| Due {
            at: Timestamp((clock + d * DAY) * 1_000_000),
            date_only: d % 2 == 0,
        };
        let client = |h: usize| HANDLES[h].to_string();
        // Mostly promises that exist; 11 names one that never will.
        let made = next_promise - 1;
        let promise = |raw: u64| {
            if raw == 11 {
                999
            } else {
                1 + raw % made.max(1)
            }
        };
        let event = match op {
            Op::Add(h, f) => Event::ClientAdded {
                handle: client(h),
                name: client(h).to_uppercase(),
                fit: fit(f),
                note: String::new(),
            },
            Op::Fit(h, f) => Event::FitChanged {
                client: client(h),
                fit: fit(f),
                reason: "r".into(),
            },
            Op::Expect(h) => Event::ExpectationNoted {
                client: client(h),
                text: "want".into(),
            },
            Op::Mismatch(h) => Event::MismatchNoted {
                client: client(h),
                text: "not that".into(),
            },
            Op::Talk(h, k, mood, minutes) => Event::Interacted {
                client: client(h),
                kind: KINDS[k],
                mood,
                minutes,
                initiated_by: if k % 2 == 0 { Party::Us } else { Party::Client },
                note: String::new(),
            },
            Op::Make(h, d) => {
                next_promise += 1;
                Event::PromiseMade {
                    promise: next_promise - 1,
                    client: client(h),
                    what: "w".into(),
                    due: at(d),
                }
            }
            Op::Move(p, d, c, agreed) => Event::PromiseMoved {
                promise: promise(p),
                due: at(d),
                cause: CAUSES[c],
                agreed_by_client: agreed,
                reason: String::new(),
            },
            Op::Keep(p) => Event::PromiseKept {
                promise: promise(p),
                note: String::new(),
            },
            Op::Break(p) => Event::PromiseBroken {
                promise: promise(p),
                reason: "b".into(),
            },
            Op::Release(p) => Event::PromiseReleased {
                promise: promise(p),
                reason: "r".into(),
            },
            Op::Praise(h, k, by_client) => Event::Advocated {
                client: client(h),
                kind: ADVOCACY[k],
                initiated_by_client: by_client,
                note: String::new(),
            },
            Op::Lost(h) => Event::ClientLost {
                client: client(h),
                reason: "gone".into(),
            },
            Op::Back(h) => Event::ClientReturned {
                client: client(h),
                note: String::new(),
            },
            Op::Retract(k) => {
                // An earlier event that is neither a retraction nor already
                // retracted, as the CLI requires.
                let candidates: Vec<Seq> = out
                    .iter()
                    .filter(|e| !matches!(e.event, Event::Retracted { .. }))
                    .map(|e| e.seq)
                    .filter(|s| !retracted.contains(s))
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let seq = candidates[k % candidates.len()];
                retracted.insert(seq);
                Event::Retracted {
                    seq,
                    reason: "mistake".into(),
                }
            }
        };
        let recorded = Timestamp(clock * 1_000_000);
        out.push(Envelope {
            seq: out.len() as Seq + 1,
            recorded_at: recorded,
            occurred_at: recorded.plus_seconds(-back),
            author: "prop".into(),
            event,
        });
    }
    out
}

/// Every projection, fed together.
#[derive(Debug, Clone, PartialEq)]
struct All {
    state: State,
    due: DueList,
    audit: Audit,
    trust: Trust,
    status: Status,
    postmortems: Vec<Postmortem>,
}

impl All {
    fn new() -> Self {
        All {
            state: State::new(),
            due: DueList::new(),
            audit: Audit::new(),
            trust: Trust::default(),
            status: Status::default(),
            postmortems: HANDLES
                .iter()
                .map(|h| Postmortem::new(h, TrustParams::default()))
                .collect(),
        }
    }
}

impl Projection for All {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.state.apply(env);
        self.due.apply(env);
        self.audit.apply(env);
        self.trust.apply(env);
        self.status.apply(env);
        for p in &mut self.postmortems {
            p.apply(env);
        }
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.state.skip(env);
        self.due.skip(env);
        self.audit.skip(env);
        self.trust.skip(env);
        self.status.skip(env);
        for p in &mut self.postmortems {
            p.skip(env);
        }
    }
}

/// Everything the CLI would print, as of `now`, in one comparable value.
fn answers(a: &All, now: Timestamp) -> String {
    let mut out = String::new();
    let json = |v: serde_json::Value| v.to_string();
    out += &json(serde_json::to_value(a.due.report(now, Some(7 * DAY))).unwrap());
    out += &json(a.audit.report(now, &AuditQuery::all()).to_json());
    out += &format!("{:?}", a.audit.report(now, &AuditQuery::all()).rows);
    out += &json(serde_json::to_value(a.status.report(now, None)).unwrap());
    for h in HANDLES {
        out += &json(a.audit.report(now, &AuditQuery::client(h)).to_json());
        out += &json(serde_json::to_value(a.trust.report(h)).unwrap());
    }
    for p in &a.postmortems {
        out += &json(serde_json::to_value(p.report(now)).unwrap());
    }
    out
}

fn one_pass(envs: &[Envelope]) -> All {
    let mut a = All::new();
    let r = retracted_set(envs);
    replay(&mut a, envs, &r);
    a
}

fn last_time(envs: &[Envelope]) -> Timestamp {
    envs.last().map_or(Timestamp(0), |e| e.recorded_at)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn one_pass_equals_any_split(envs in stream(), cut in any::<prop::sample::Index>()) {
        let k = cut.index(envs.len() + 1);
        let whole = one_pass(&envs);
        // Fold the prefix, keep that state (a checkpoint), continue from it.
        let r = retracted_set(&envs);
        let mut first = All::new();
        replay(&mut first, &envs[..k], &r);
        let mut resumed = first.clone();
        for e in &envs[k..] {
            feed(&mut resumed, e, &r);
        }
        prop_assert_eq!(&resumed, &whole);
        let now = last_time(&envs).plus_seconds(DAY);
        prop_assert_eq!(answers(&resumed, now), answers(&whole, now));
    }

    #[test]
    fn as_of_equals_the_journal_cut_at_the_last_event_recorded_by_then(
        envs in stream(),
        pick in any::<prop::sample::Index>(),
        offset in 0i64..DAY,
    ) {
        // T: at or just after some event's recorded_at (or before all).
        let t = if envs.is_empty() {
            Timestamp(0)
        } else {
            envs[pick.index(envs.len())].recorded_at.plus_seconds(offset - DAY / 2)
        };
        let mut seen = All::new();
        let known = replay_as_of(&mut seen, &envs, Some(t));
        // The cut: everything up to the last event recorded by T.
        let k = envs.iter().rposition(|e| e.recorded_at <= t).map_or(0, |i| i + 1);
        let cut = &envs[..k];
        prop_assert_eq!(&known, &retracted_set(cut));
        prop_assert_eq!(as_of(&envs, t).count(), k);
        let replayed = one_pass(cut);
        prop_assert_eq!(&seen, &replayed);
        prop_assert_eq!(answers(&seen, t), answers(&replayed, t));
    }

    #[test]
    fn answers_add_up(envs in stream()) {
        let a = one_pass(&envs);
        let now = last_time(&envs);
        let all = a.audit.report(now, &AuditQuery::all());
        let c = all.promises;
        prop_assert_eq!(
            c.kept_on_time + c.kept_after_move + c.kept_late + c.broken + c.released
                + c.open_overdue + c.open,
            c.total
        );
        prop_assert_eq!(all.rows.len() as u64, c.total);
        let decided = c.total - c.released - c.open;
        match all.original_date_hit_rate {
            None => prop_assert_eq!(decided, 0),
            Some(h) => prop_assert_eq!(h, c.kept_on_time as f64 / decided as f64),
        }
        // Per-client audits add up to the whole.
        let (mut total, mut moves) = (0, 0);
        for h in HANDLES {
            let r = a.audit.report(now, &AuditQuery::client(h));
            total += r.promises.total;
            moves += r.moves.us + r.moves.client + r.moves.external;
        }
        prop_assert_eq!(total, c.total);
        prop_assert_eq!(moves, all.moves.us + all.moves.client + all.moves.external);
        // Two adjacent periods add up to their union.
        let mid = now.plus_seconds(-5 * DAY);
        let q = |from: Option<Timestamp>, to: Option<Timestamp>| AuditQuery { client: None, from, to };
        let before = a.audit.report(now, &q(None, Some(mid))).promises.total;
        let after = a.audit.report(now, &q(Some(Timestamp(mid.0 + 1)), None)).promises.total;
        prop_assert_eq!(before + after, c.total);
        // Trust stays in 0–100 and its history adds up from the neutral 50.
        for h in a.trust.clients() {
            let r = a.trust.report(h).unwrap();
            prop_assert!((0..=10_000).contains(&r.score));
            prop_assert_eq!(r.history[0].score, 5_000);
            for w in r.history.windows(2) {
                prop_assert_eq!(w[0].score + w[1].change, w[1].score);
            }
            prop_assert_eq!(r.history.last().unwrap().score, r.score);
        }
        // Post-mortems: warnings most serious first, timeline in order.
        for p in &a.postmortems {
            if let Some(r) = p.report(now) {
                prop_assert!(r.warnings.windows(2).all(|w| w[0].rank < w[1].rank));
                prop_assert!(r.timeline.windows(2).all(|w| w[0].seq < w[1].seq));
                prop_assert_eq!(r.audit.promises, a.audit.report(now, &AuditQuery::client(p.handle())).promises);
            }
        }
        // The due list holds exactly the open promises of known clients.
        let due = a.due.report(now, None);
        let open = a.state.promises.values().filter(|p| {
            p.status == trustlog::projections::state::PromiseStatus::Open
                && a.state.clients.contains_key(&p.client)
        });
        prop_assert_eq!(due.promises.len(), open.count());
        prop_assert!(due.promises.windows(2).all(|w| w[0].due <= w[1].due));
    }
}
