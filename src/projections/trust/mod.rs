//! The trust model of SPEC.md ("Trust history", "First impressions"): a
//! deterministic score from 0 to 100 per client, with a history that says,
//! per event that moved it, why. The formula, every parameter and three
//! worked examples are in `docs/trust-model.md`; the examples are the tests
//! `worked_example_*` below.
//!
//! API:
//! - [`TrustParams`]: every weight, `Default` = the documented defaults;
//!   `Deserialize` with `#[serde(default, deny_unknown_fields)]`, so a
//!   config file in any serde format can override any subset;
//!   [`TrustParams::validate`] says what is wrong, in words.
//! - [`Trust`]: the projection, for every client ([`Trust::new`]) or one
//!   ([`Trust::for_client`]).
//! - [`Trust::report`]`(handle) -> Option<TrustReport>`: serializes to
//!   SPEC's `trust --json` shape `{"client", "score", "history": [{"at",
//!   "seq", "score", "change", "reason"}]}`; [`Trust::score`] for `status`.
//!
//! Scores are kept in hundredths of a point (integers), so the fold is
//! exact and a replay split anywhere gives the same result; each change is
//! rounded to the hundredth once, when it is applied.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::table::{HandleMap, IdMap};
use super::{days_after, ser, words, ClientKey, Projection};
use crate::events::{
    AdvocacyKind, Cause, EnvelopeRef, EventRef, InteractionKind, PromiseId, Seq, Timestamp,
};

/// Where every client starts: neutral.
pub const NEUTRAL: f64 = 50.0;
const MAX_CENTI: i64 = 10_000;

/// The parameters of the trust model. See `docs/trust-model.md` for the
/// meaning of each and the field rules behind the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustParams {
    /// Points per mood step of an interaction (mood −2..=+2).
    pub mood_points: f64,
    /// Weight of the first impression (primacy effect).
    pub first_impression_weight: f64,
    /// A first impression forms in about 3 seconds: interactions that
    /// occurred within this many seconds of the first contact are part of
    /// the first impression (with the default, just the first contact).
    pub first_impression_seconds: u32,
    /// Hours of positive contact it takes to repair a bad first impression.
    pub recovery_debt_hours: f64,
    /// Factor on every positive change while a recovery debt is open
    /// (context effect: after a bad start, good news reads as less good).
    pub debt_positive_factor: f64,
    /// Kept at or before its original due.
    pub kept_on_time: f64,
    /// Kept after the original due but by the (moved) last due.
    pub kept_after_move: f64,
    /// Kept after the last due: `late_base + late_per_day × days late`,
    /// capped at `late_max` (days late counted from the last due, rounded up).
    pub late_base: f64,
    pub late_per_day: f64,
    pub late_max: f64,
    /// Declared broken.
    pub broken: f64,
    /// A move, by cause…
    pub move_us: f64,
    pub move_client: f64,
    pub move_external: f64,
    /// …times this when the client agreed to it.
    pub move_agreed_factor: f64,
    /// "Not what I expected."
    pub mismatch: f64,
    /// Referral, testimonial, upsell or cross-sell the client initiated…
    pub advocacy_by_client: f64,
    /// …or that we asked for.
    pub advocacy_by_us: f64,
    /// Minutes a positive contact repays when its length was not recorded.
    pub contact_minutes: ContactMinutes,
}

impl Default for TrustParams {
    fn default() -> Self {
        TrustParams {
            mood_points: 2.0,
            first_impression_weight: 3.0,
            first_impression_seconds: 3,
            recovery_debt_hours: 40.0,
            debt_positive_factor: 0.5,
            kept_on_time: 4.0,
            kept_after_move: 1.0,
            late_base: 2.0,
            late_per_day: 1.0,
            late_max: 10.0,
            broken: 15.0,
            move_us: 3.0,
            move_client: 1.5,
            move_external: 1.0,
            move_agreed_factor: 0.5,
            mismatch: 8.0,
            advocacy_by_client: 15.0,
            advocacy_by_us: 6.0,
            contact_minutes: ContactMinutes::default(),
        }
    }
}

/// Default length, in minutes, of a contact whose length was not said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactMinutes {
    pub meeting: u32,
    pub call: u32,
    pub email: u32,
    pub message: u32,
    pub visit: u32,
    pub delivery: u32,
    pub other: u32,
}

impl Default for ContactMinutes {
    fn default() -> Self {
        ContactMinutes {
            meeting: 60,
            call: 20,
            email: 5,
            message: 2,
            visit: 90,
            delivery: 30,
            other: 15,
        }
    }
}

impl ContactMinutes {
    pub fn of(&self, kind: InteractionKind) -> u32 {
        match kind {
            InteractionKind::Meeting => self.meeting,
            InteractionKind::Call => self.call,
            InteractionKind::Email => self.email,
            InteractionKind::Message => self.message,
            InteractionKind::Visit => self.visit,
            InteractionKind::Delivery => self.delivery,
            InteractionKind::Other => self.other,
        }
    }
}

/// Largest recovery debt accepted (about 11 years of working hours): keeps
/// the minute counter far from overflow and catches unit mistakes.
pub const MAX_DEBT_HOURS: f64 = 100_000.0;

/// One thing wrong with a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    pub name: &'static str,
    pub value: f64,
    pub expected: &'static str,
}

/// Every problem found by [`TrustParams::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidTrustParams(pub Vec<ParamProblem>);

impl fmt::Display for InvalidTrustParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid trust parameters:")?;
        for p in &self.0 {
            write!(f, " `{}` = {} (expected {});", p.name, p.value, p.expected)?;
        }
        write!(f, " see docs/trust-model.md")
    }
}

impl std::error::Error for InvalidTrustParams {}

impl TrustParams {
    /// Checks every parameter; lists all problems at once.
    pub fn validate(&self) -> Result<(), InvalidTrustParams> {
        const POINTS: &str = "a number of points from 0 to 100";
        const FACTOR: &str = "a factor from 0 to 1";
        let mut problems = Vec::new();
        let mut check = |name, value: f64, lo: f64, hi: f64, expected| {
            // `!(..)` so that NaN fails too.
            if !(value.is_finite() && value >= lo && value <= hi) {
                problems.push(ParamProblem {
                    name,
                    value,
                    expected,
                });
            }
        };
        for (name, v) in [
            ("mood_points", self.mood_points),
            ("kept_on_time", self.kept_on_time),
            ("kept_after_move", self.kept_after_move),
            ("late_base", self.late_base),
            ("late_per_day", self.late_per_day),
            ("late_max", self.late_max),
            ("broken", self.broken),
            ("move_us", self.move_us),
            ("move_client", self.move_client),
            ("move_external", self.move_external),
            ("mismatch", self.mismatch),
            ("advocacy_by_client", self.advocacy_by_client),
            ("advocacy_by_us", self.advocacy_by_us),
        ] {
            check(name, v, 0.0, 100.0, POINTS);
        }
        check(
            "first_impression_weight",
            self.first_impression_weight,
            0.0,
            100.0,
            "a weight from 0 to 100",
        );
        check(
            "recovery_debt_hours",
            self.recovery_debt_hours,
            0.0,
            MAX_DEBT_HOURS,
            "a number of hours from 0 to 100000",
        );
        check(
            "debt_positive_factor",
            self.debt_positive_factor,
            0.0,
            1.0,
            FACTOR,
        );
        check(
            "move_agreed_factor",
            self.move_agreed_factor,
            0.0,
            1.0,
            FACTOR,
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidTrustParams(problems))
        }
    }

    fn debt_minutes(&self) -> u64 {
        // Saturating float→int cast: an unvalidated NaN or negative value
        // gives 0, never a panic.
        (self.recovery_debt_hours * 60.0).round() as u64
    }
}

/// Points → hundredths of a point (saturating; NaN → 0).
fn centi(points: f64) -> i64 {
    (points * 100.0).round() as i64
}

/// One change of the score, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustEntry {
    /// When the event happened (`occurred_at`).
    #[serde(serialize_with = "ser::ts")]
    pub at: Timestamp,
    pub seq: Seq,
    /// The score after this event, in hundredths (JSON: a number, 0–100).
    #[serde(serialize_with = "ser::centi")]
    pub score: i64,
    /// The change actually applied (after clamping to 0–100), hundredths.
    #[serde(serialize_with = "ser::centi")]
    pub change: i64,
    pub reason: String,
}

impl TrustEntry {
    pub fn score_points(&self) -> f64 {
        self.score as f64 / 100.0
    }
    pub fn change_points(&self) -> f64 {
        self.change as f64 / 100.0
    }
}

/// The first interaction with a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstImpression {
    pub seq: Seq,
    #[serde(serialize_with = "ser::ts")]
    pub at: Timestamp,
    #[serde(serialize_with = "ser::interaction")]
    pub kind: InteractionKind,
    pub mood: i8,
    pub minutes: Option<u32>,
}

/// `trust --json`: `{"client", "score", "history"}`. The other fields are
/// for the human rendering and the post-mortem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustReport {
    pub client: String,
    /// Hundredths of a point (JSON: a number, 0–100).
    #[serde(serialize_with = "ser::centi")]
    pub score: i64,
    /// The first entry is the neutral start (change 0); then one entry per
    /// event that moved the score, plus the first impression even if it
    /// was neutral.
    pub history: Vec<TrustEntry>,
    #[serde(skip)]
    pub first_impression: Option<FirstImpression>,
    /// A recovery debt was opened (bad first impression).
    #[serde(skip)]
    pub debt_opened: bool,
    /// Minutes of positive contact still owed.
    #[serde(skip)]
    pub debt_minutes_left: u64,
}

impl TrustReport {
    pub fn score_points(&self) -> f64 {
        self.score as f64 / 100.0
    }
}

/// Why the score moved, with the numbers used. Kept structured and put
/// into words only when a report is asked for: a full replay then formats
/// nothing (most events are never displayed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Why {
    Start,
    /// `window`: `Some(seconds)` when this interaction was part of the first
    /// impression without being the first contact.
    FirstImpression {
        mood: i8,
        weight: f64,
        window: Option<u32>,
        debt_opened: Option<u64>,
    },
    BadContact {
        kind: InteractionKind,
        mood: i8,
        points: f64,
    },
    GoodContact {
        kind: InteractionKind,
        mood: i8,
        minutes: u32,
        said: bool,
        base: f64,
        factor: Option<f64>,
        /// (minutes repaid, minutes of debt left)
        repaid: Option<(u64, u64)>,
    },
    Moved {
        id: PromiseId,
        cause: Cause,
        base: f64,
        agreed_factor: Option<f64>,
    },
    KeptOnTime {
        id: PromiseId,
        base: f64,
        factor: Option<f64>,
    },
    KeptAfterMove {
        id: PromiseId,
        base: f64,
        factor: Option<f64>,
    },
    KeptLate {
        id: PromiseId,
        days: i64,
        late_base: f64,
        per_day: f64,
        cap: Option<f64>,
        penalty: f64,
    },
    Broken {
        id: PromiseId,
        points: f64,
    },
    Mismatch {
        points: f64,
    },
    Advocacy {
        kind: AdvocacyKind,
        by_client: bool,
        base: f64,
        factor: Option<f64>,
    },
}

/// `+4`, or `+4 × 0.5 during recovery debt = +2`.
fn positive_words(base: f64, factor: Option<f64>) -> String {
    match factor {
        Some(f) => format!(
            "+{} × {} during recovery debt = +{}",
            words::num(base),
            words::num(f),
            words::num(base * f)
        ),
        None => format!("+{}", words::num(base)),
    }
}

fn signed_points(x: f64) -> String {
    if x < 0.0 {
        format!("−{}", words::num(-x))
    } else {
        format!("+{}", words::num(x))
    }
}

impl Why {
    fn words(&self) -> String {
        match self {
            Why::Start => format!("client added: neutral start at {}", words::num(NEUTRAL)),
            Why::FirstImpression {
                mood,
                weight,
                window,
                debt_opened,
            } => {
                let mood = words::signed(i64::from(*mood));
                let head = match window {
                    None => format!(
                        "first impression, mood {mood}, weighed ×{}",
                        words::num(*weight)
                    ),
                    Some(w) => format!(
                        "part of the first impression (within {w} s of the first contact), \
                         mood {mood}, weighed ×{}",
                        words::num(*weight)
                    ),
                };
                match debt_opened {
                    Some(d) => format!("{head}: recovery debt {} opened", words::hours(*d)),
                    None => head,
                }
            }
            Why::BadContact { kind, mood, points } => format!(
                "{kind}, mood {}: {}",
                words::signed(i64::from(*mood)),
                signed_points(*points)
            ),
            Why::GoodContact {
                kind,
                mood,
                minutes,
                said,
                base,
                factor,
                repaid,
            } => {
                let default = if *said {
                    String::new()
                } else {
                    format!(" (default for a {kind})")
                };
                let debt = match repaid {
                    None => String::new(),
                    Some((_, 0)) => "; recovery debt repaid".to_string(),
                    Some((r, left)) => format!(
                        "; {r} min repaid, {} of recovery debt left",
                        words::hours(*left)
                    ),
                };
                format!(
                    "{kind}, mood {}, {minutes} min{default}: {}{debt}",
                    words::signed(i64::from(*mood)),
                    positive_words(*base, *factor)
                )
            }
            Why::Moved {
                id,
                cause,
                base,
                agreed_factor,
            } => match agreed_factor {
                Some(f) => format!(
                    "promise #{id} moved (cause: {cause}), agreed by the client: −{} × {} = {}",
                    words::num(*base),
                    words::num(*f),
                    signed_points(-base * f)
                ),
                None => format!(
                    "promise #{id} moved (cause: {cause}), not agreed: {}",
                    signed_points(-base)
                ),
            },
            Why::KeptOnTime { id, base, factor } => format!(
                "promise #{id} kept on time: {}",
                positive_words(*base, *factor)
            ),
            Why::KeptAfterMove { id, base, factor } => format!(
                "promise #{id} kept by its moved due (late on the original): {}",
                positive_words(*base, *factor)
            ),
            Why::KeptLate {
                id,
                days,
                late_base,
                per_day,
                cap,
                penalty,
            } => format!(
                "promise #{id} kept {} after its due: −({} + {} × {days}){} = {}",
                words::days(*days),
                words::num(*late_base),
                words::num(*per_day),
                cap.map(|c| format!(", capped at {}", words::num(c)))
                    .unwrap_or_default(),
                signed_points(-penalty)
            ),
            Why::Broken { id, points } => {
                format!("promise #{id} broken: {}", signed_points(-points))
            }
            Why::Mismatch { points } => format!(
                "mismatch noted (not what they expected): {}",
                signed_points(-points)
            ),
            Why::Advocacy {
                kind,
                by_client,
                base,
                factor,
            } => format!(
                "{kind} ({}): {}",
                if *by_client {
                    "their initiative"
                } else {
                    "we asked"
                },
                positive_words(*base, *factor)
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Clamp {
    Low,
    High,
}

/// One change as stored: numbers, not words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Step {
    at: Timestamp,
    seq: Seq,
    score: i64,
    change: i64,
    why: Why,
    clamped: Option<Clamp>,
}

impl Step {
    fn entry(&self) -> TrustEntry {
        let mut reason = self.why.words();
        match self.clamped {
            Some(Clamp::High) => reason.push_str(" (clamped at 100)"),
            Some(Clamp::Low) => reason.push_str(" (clamped at 0)"),
            None => {}
        }
        TrustEntry {
            at: self.at,
            seq: self.seq,
            score: self.score,
            change: self.change,
            reason,
        }
    }
}

/// The first impression as the fold keeps it ([`FirstImpression`] is its
/// report form, with JSON-only serializers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct First {
    seq: Seq,
    at: Timestamp,
    kind: InteractionKind,
    mood: i8,
    minutes: Option<u32>,
}

impl First {
    fn report(&self) -> FirstImpression {
        FirstImpression {
            seq: self.seq,
            at: self.at,
            kind: self.kind,
            mood: self.mood,
            minutes: self.minutes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ClientTrust {
    score: i64,
    first: Option<First>,
    debt_opened: bool,
    debt_left: u64,
    /// Every change, when the projection keeps history (not for `status`,
    /// which needs only scores).
    history: Vec<Step>,
    keep_history: bool,
}

impl ClientTrust {
    /// The factor on a positive change: `Some` while a debt is open.
    fn damping(&self, p: &TrustParams) -> Option<f64> {
        (self.debt_left > 0).then_some(p.debt_positive_factor)
    }

    /// Applies `points`, clamped to 0–100, and records why. A zero change
    /// is recorded only when `always` (the first impression).
    fn change(&mut self, env: &EnvelopeRef<'_>, points: f64, why: Why, always: bool) {
        let wanted = centi(points);
        let new = self.score.saturating_add(wanted).clamp(0, MAX_CENTI);
        let change = new - self.score;
        if change == 0 && !always {
            return;
        }
        let clamped = (change != wanted).then_some(if new == MAX_CENTI {
            Clamp::High
        } else {
            Clamp::Low
        });
        self.score = new;
        if !self.keep_history {
            return;
        }
        self.history.push(Step {
            at: env.occurred_at,
            seq: env.seq,
            score: new,
            change,
            why,
            clamped,
        });
    }
}

/// An open promise of a followed client. Closed promises are dropped: no
/// later event about them changes a score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct TrackedPromise {
    /// Row of the client in `Trust::clients`.
    client: u32,
    original_due: Timestamp,
    due: Timestamp,
}

/// The trust projection; see the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trust {
    params: TrustParams,
    only: Option<String>,
    history: bool,
    clients: HandleMap<ClientTrust>,
    promises: IdMap<TrackedPromise>,
}

impl Default for Trust {
    fn default() -> Self {
        Trust::new(TrustParams::default())
    }
}

impl Trust {
    /// Every client. The parameters are used as given: validate them first.
    pub fn new(params: TrustParams) -> Self {
        Trust {
            params,
            only: None,
            history: true,
            clients: HandleMap::new(),
            promises: IdMap::new(),
        }
    }

    /// Every client, scores only (no history): what `status` needs, at a
    /// fraction of the memory and time.
    pub fn scores_only(params: TrustParams) -> Self {
        Trust {
            history: false,
            ..Trust::new(params)
        }
    }

    /// One client only (cheaper for `trust <handle>` and `postmortem`).
    pub fn for_client(handle: &str, params: TrustParams) -> Self {
        Trust {
            only: Some(handle.to_string()),
            ..Trust::new(params)
        }
    }

    pub fn params(&self) -> &TrustParams {
        &self.params
    }

    /// The current score, 0–100; `None` for an unknown client.
    pub fn score(&self, handle: &str) -> Option<f64> {
        self.clients.get(handle).map(|c| c.score as f64 / 100.0)
    }

    /// Minutes of recovery debt still owed; `None` for an unknown client.
    pub fn debt_minutes_left(&self, handle: &str) -> Option<u64> {
        self.clients.get(handle).map(|c| c.debt_left)
    }

    /// Handles of the clients followed, in order.
    pub fn clients(&self) -> impl Iterator<Item = &str> {
        self.clients.keys()
    }

    /// Score and history of one client; `None` for an unknown client.
    pub fn report(&self, handle: &str) -> Option<TrustReport> {
        let c = self.clients.get(handle)?;
        Some(TrustReport {
            client: handle.to_string(),
            score: c.score,
            history: c.history.iter().map(Step::entry).collect(),
            first_impression: c.first.as_ref().map(First::report),
            debt_opened: c.debt_opened,
            debt_minutes_left: c.debt_left,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn interacted(
        &mut self,
        env: &EnvelopeRef<'_>,
        client: &str,
        key: Option<ClientKey>,
        kind: InteractionKind,
        mood: i8,
        minutes: Option<u32>,
    ) {
        let p = &self.params;
        let Some(c) = self.clients.get_mut_keyed(client, key) else {
            return;
        };
        let m = f64::from(mood);
        let window = p.first_impression_seconds;
        let first_part = match &c.first {
            None => Some(None),
            Some(f) if f.at.seconds_until(env.occurred_at).abs() <= i64::from(window) => {
                Some(Some(window))
            }
            Some(_) => None,
        };
        if let Some(window) = first_part {
            let debt = p.debt_minutes();
            let opens = mood < 0 && !c.debt_opened && debt > 0;
            if window.is_none() {
                c.first = Some(First {
                    seq: env.seq,
                    at: env.occurred_at,
                    kind,
                    mood,
                    minutes,
                });
            }
            if opens {
                c.debt_opened = true;
                c.debt_left = debt;
            }
            let why = Why::FirstImpression {
                mood,
                weight: p.first_impression_weight,
                window,
                debt_opened: opens.then_some(debt),
            };
            let points = m * p.mood_points * p.first_impression_weight;
            c.change(env, points, why, window.is_none());
            return;
        }
        let base = m * p.mood_points;
        if mood < 0 {
            let why = Why::BadContact {
                kind,
                mood,
                points: base,
            };
            c.change(env, base, why, false);
        } else if mood > 0 {
            // Positive contact: repays the recovery debt, minute for minute.
            let mins = minutes.unwrap_or_else(|| p.contact_minutes.of(kind));
            let factor = c.damping(p);
            let repaid = (c.debt_left > 0).then(|| {
                let r = c.debt_left.min(u64::from(mins));
                c.debt_left -= r;
                (r, c.debt_left)
            });
            let why = Why::GoodContact {
                kind,
                mood,
                minutes: mins,
                said: minutes.is_some(),
                base,
                factor,
                repaid,
            };
            c.change(env, base * factor.unwrap_or(1.0), why, false);
        }
    }

    fn promise_event(&mut self, env: &EnvelopeRef<'_>, id: PromiseId) {
        let Some(tp) = self.promises.get_mut(&id) else {
            return;
        };
        let Some(c) = self.clients.get_at_mut(tp.client) else {
            return;
        };
        let p = &self.params;
        let mut closed = true;
        let (points, why) = match env.event {
            EventRef::PromiseMoved {
                due,
                cause,
                agreed_by_client,
                ..
            } => {
                closed = false;
                let earlier = due.at < tp.due;
                tp.due = due.at;
                if earlier {
                    // A pull-in is not a slip: no cost.
                    return;
                }
                let base = match cause {
                    Cause::Us => p.move_us,
                    Cause::Client => p.move_client,
                    Cause::External => p.move_external,
                };
                let agreed_factor = agreed_by_client.then_some(p.move_agreed_factor);
                (
                    -base * agreed_factor.unwrap_or(1.0),
                    Why::Moved {
                        id,
                        cause,
                        base,
                        agreed_factor,
                    },
                )
            }
            EventRef::PromiseKept { .. } => {
                let at = env.occurred_at;
                let factor = c.damping(p);
                // On time: by the original due and by the last agreed one
                // (pulled in and then missed is late), as in the audit.
                if at <= tp.original_due.min(tp.due) {
                    let base = p.kept_on_time;
                    (
                        base * factor.unwrap_or(1.0),
                        Why::KeptOnTime { id, base, factor },
                    )
                } else if at <= tp.due {
                    let base = p.kept_after_move;
                    (
                        base * factor.unwrap_or(1.0),
                        Why::KeptAfterMove { id, base, factor },
                    )
                } else {
                    let days = days_after(tp.due, at);
                    let raw = p.late_base + p.late_per_day * days as f64;
                    let penalty = raw.min(p.late_max);
                    (
                        -penalty,
                        Why::KeptLate {
                            id,
                            days,
                            late_base: p.late_base,
                            per_day: p.late_per_day,
                            cap: (raw > p.late_max).then_some(p.late_max),
                            penalty,
                        },
                    )
                }
            }
            EventRef::PromiseBroken { .. } => (
                -p.broken,
                Why::Broken {
                    id,
                    points: p.broken,
                },
            ),
            EventRef::PromiseReleased { .. } => {
                self.promises.remove(&id);
                return;
            }
            _ => return,
        };
        c.change(env, points, why, false);
        if closed {
            self.promises.remove(&id);
        }
    }
}

impl Projection for Trust {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.apply_keyed(env, None)
    }

    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        match env.event {
            EventRef::ClientAdded { handle, .. } => {
                if self.only.as_ref().is_some_and(|o| o != handle) {
                    return;
                }
                // A second `ClientAdded` for a known handle (an import, not
                // the CLI) keeps the history rather than erase it.
                if self.clients.index_of_keyed(handle, key).is_some() {
                    return;
                }
                let start = centi(NEUTRAL);
                let history = if self.history {
                    vec![Step {
                        at: env.occurred_at,
                        seq: env.seq,
                        score: start,
                        change: 0,
                        why: Why::Start,
                        clamped: None,
                    }]
                } else {
                    Vec::new()
                };
                self.clients.insert_keyed(
                    handle,
                    key,
                    ClientTrust {
                        score: start,
                        first: None,
                        debt_opened: false,
                        debt_left: 0,
                        history,
                        keep_history: self.history,
                    },
                );
            }
            EventRef::Interacted {
                client,
                kind,
                mood,
                minutes,
                ..
            } => self.interacted(env, client, key, kind, mood, minutes),
            EventRef::PromiseMade {
                promise,
                client,
                due,
                ..
            } => {
                if let Some(row) = self.clients.index_of_keyed(client, key) {
                    self.promises.insert(
                        promise,
                        TrackedPromise {
                            client: row,
                            original_due: due.at,
                            due: due.at,
                        },
                    );
                }
            }
            EventRef::PromiseMoved { promise, .. }
            | EventRef::PromiseKept { promise, .. }
            | EventRef::PromiseBroken { promise, .. }
            | EventRef::PromiseReleased { promise, .. } => self.promise_event(env, promise),
            EventRef::MismatchNoted { client, .. } => {
                let points = self.params.mismatch;
                if let Some(c) = self.clients.get_mut_keyed(client, key) {
                    c.change(env, -points, Why::Mismatch { points }, false);
                }
            }
            EventRef::Advocated {
                client,
                kind,
                initiated_by_client,
                ..
            } => {
                let p = &self.params;
                let Some(c) = self.clients.get_mut_keyed(client, key) else {
                    return;
                };
                let base = if initiated_by_client {
                    p.advocacy_by_client
                } else {
                    p.advocacy_by_us
                };
                let factor = c.damping(p);
                let why = Why::Advocacy {
                    kind,
                    by_client: initiated_by_client,
                    base,
                    factor,
                };
                c.change(env, base * factor.unwrap_or(1.0), why, false);
            }
            EventRef::FitChanged { .. }
            | EventRef::ExpectationNoted { .. }
            | EventRef::ClientLost { .. }
            | EventRef::ClientReturned { .. }
            | EventRef::Retracted { .. } => {}
            EventRef::ClientRenamed { .. }
            | EventRef::Amended { .. }
            | EventRef::PromiseDelivered { .. }
            | EventRef::CadenceSet { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
