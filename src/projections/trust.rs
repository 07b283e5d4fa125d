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

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{days_after, ser, words, Projection};
use crate::events::{
    AdvocacyKind, Cause, Envelope, Event, InteractionKind, PromiseId, Seq, Timestamp,
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

#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientTrust {
    score: i64,
    first: Option<FirstImpression>,
    debt_opened: bool,
    debt_left: u64,
    history: Vec<TrustEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct TrackedPromise {
    client: String,
    original_due: Timestamp,
    due: Timestamp,
    open: bool,
}

/// The trust projection; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Trust {
    params: TrustParams,
    only: Option<String>,
    clients: BTreeMap<String, ClientTrust>,
    promises: BTreeMap<PromiseId, TrackedPromise>,
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
            clients: BTreeMap::new(),
            promises: BTreeMap::new(),
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

    /// Handles of the clients followed, in order.
    pub fn clients(&self) -> impl Iterator<Item = &str> {
        self.clients.keys().map(String::as_str)
    }

    /// Score and history of one client; `None` for an unknown client.
    pub fn report(&self, handle: &str) -> Option<TrustReport> {
        let c = self.clients.get(handle)?;
        Some(TrustReport {
            client: handle.to_string(),
            score: c.score,
            history: c.history.clone(),
            first_impression: c.first.clone(),
            debt_opened: c.debt_opened,
            debt_minutes_left: c.debt_left,
        })
    }

    /// Applies `points` to a client's score, clamped to 0–100, and records
    /// it with its reason.
    fn change(c: &mut ClientTrust, env: &Envelope, points: f64, mut reason: String, always: bool) {
        let wanted = centi(points);
        let new = c.score.saturating_add(wanted).clamp(0, MAX_CENTI);
        let change = new - c.score;
        if change == 0 && !always {
            return;
        }
        if change != wanted {
            reason.push_str(if new == MAX_CENTI {
                " (clamped at 100)"
            } else {
                " (clamped at 0)"
            });
        }
        c.score = new;
        c.history.push(TrustEntry {
            at: env.occurred_at,
            seq: env.seq,
            score: new,
            change,
            reason,
        });
    }

    /// A positive change, reduced while a recovery debt is open. Returns the
    /// points and the words explaining them.
    fn positive(&self, c: &ClientTrust, base: f64) -> (f64, String) {
        if c.debt_left > 0 {
            let f = self.params.debt_positive_factor;
            (
                base * f,
                format!(
                    "+{} × {} during recovery debt = +{}",
                    words::num(base),
                    words::num(f),
                    words::num(base * f)
                ),
            )
        } else {
            (base, format!("+{}", words::num(base)))
        }
    }

    fn interacted(
        &mut self,
        env: &Envelope,
        client: &str,
        kind: InteractionKind,
        mood: i8,
        minutes: Option<u32>,
    ) {
        let p = &self.params;
        let Some(c) = self.clients.get(client) else {
            return;
        };
        let m = f64::from(mood);
        let mood_words = words::signed(i64::from(mood));
        let window = i64::from(p.first_impression_seconds);
        let first_part = match &c.first {
            None => Some(true),
            Some(f) if f.at.seconds_until(env.occurred_at).abs() <= window => Some(false),
            Some(_) => None,
        };
        if let Some(is_first) = first_part {
            let w = p.first_impression_weight;
            let points = m * p.mood_points * w;
            let mut reason = if is_first {
                format!(
                    "first impression, mood {mood_words}, weighed ×{}",
                    words::num(w)
                )
            } else {
                format!(
                    "part of the first impression (within {window} s of the first contact), \
                     mood {mood_words}, weighed ×{}",
                    words::num(w)
                )
            };
            let open_debt = mood < 0 && !c.debt_opened && p.debt_minutes() > 0;
            let debt = p.debt_minutes();
            if open_debt {
                reason.push_str(&format!(": recovery debt {} opened", words::hours(debt)));
            }
            let first = FirstImpression {
                seq: env.seq,
                at: env.occurred_at,
                kind,
                mood,
                minutes,
            };
            let Some(c) = self.clients.get_mut(client) else {
                return;
            };
            if is_first {
                c.first = Some(first);
            }
            if open_debt {
                c.debt_opened = true;
                c.debt_left = debt;
            }
            Self::change(c, env, points, reason, is_first);
            return;
        }
        if mood == 0 {
            return;
        }
        let base = m * p.mood_points;
        if mood < 0 {
            let reason = format!("{kind}, mood {mood_words}: {}", signed_points(base));
            if let Some(c) = self.clients.get_mut(client) {
                Self::change(c, env, base, reason, false);
            }
            return;
        }
        // Positive contact: repays the recovery debt, minute for minute.
        let (mins, said) = match minutes {
            Some(n) => (n, String::new()),
            None => (
                p.contact_minutes.of(kind),
                format!(" (default for a {kind})"),
            ),
        };
        let (points, how) = self.positive(c, base);
        let mut reason = format!("{kind}, mood {mood_words}, {mins} min{said}: {how}");
        let Some(c) = self.clients.get_mut(client) else {
            return;
        };
        if c.debt_left > 0 {
            let repaid = c.debt_left.min(u64::from(mins));
            c.debt_left -= repaid;
            if c.debt_left == 0 {
                reason.push_str("; recovery debt repaid");
            } else {
                reason.push_str(&format!(
                    "; {repaid} min repaid, {} of recovery debt left",
                    words::hours(c.debt_left)
                ));
            }
        }
        Self::change(c, env, points, reason, false);
    }

    fn promise_event(&mut self, env: &Envelope, id: PromiseId) {
        let Some(tp) = self.promises.get(&id) else {
            return;
        };
        if !tp.open {
            return;
        }
        let Some(c) = self.clients.get(&tp.client) else {
            return;
        };
        let p = &self.params;
        let (points, reason, close, new_due) = match &env.event {
            Event::PromiseMoved {
                due,
                cause,
                agreed_by_client,
                ..
            } => {
                let base = match cause {
                    Cause::Us => p.move_us,
                    Cause::Client => p.move_client,
                    Cause::External => p.move_external,
                };
                let (points, how) = if *agreed_by_client {
                    let f = p.move_agreed_factor;
                    (
                        base * f,
                        format!(
                            "agreed by the client: −{} × {} = {}",
                            words::num(base),
                            words::num(f),
                            signed_points(-base * f)
                        ),
                    )
                } else {
                    (base, format!("not agreed: {}", signed_points(-base)))
                };
                (
                    -points,
                    format!("promise #{id} moved (cause: {cause}), {how}"),
                    false,
                    Some(due.at),
                )
            }
            Event::PromiseKept { .. } => {
                let at = env.occurred_at;
                if at <= tp.original_due {
                    let (points, how) = self.positive(c, p.kept_on_time);
                    (
                        points,
                        format!("promise #{id} kept on time: {how}"),
                        true,
                        None,
                    )
                } else if at <= tp.due {
                    let (points, how) = self.positive(c, p.kept_after_move);
                    (
                        points,
                        format!(
                            "promise #{id} kept by its moved due (late on the original): {how}"
                        ),
                        true,
                        None,
                    )
                } else {
                    let days = days_after(tp.due, at);
                    let raw = p.late_base + p.late_per_day * days as f64;
                    let penalty = raw.min(p.late_max);
                    let capped = if raw > p.late_max {
                        format!(", capped at {}", words::num(p.late_max))
                    } else {
                        String::new()
                    };
                    (
                        -penalty,
                        format!(
                            "promise #{id} kept {} after its due: −({} + {} × {days}){capped} = {}",
                            words::days(days),
                            words::num(p.late_base),
                            words::num(p.late_per_day),
                            signed_points(-penalty)
                        ),
                        true,
                        None,
                    )
                }
            }
            Event::PromiseBroken { .. } => (
                -p.broken,
                format!("promise #{id} broken: {}", signed_points(-p.broken)),
                true,
                None,
            ),
            Event::PromiseReleased { .. } => (0.0, String::new(), true, None),
            _ => return,
        };
        let client = tp.client.clone();
        if let Some(tp) = self.promises.get_mut(&id) {
            if close {
                tp.open = false;
            }
            if let Some(d) = new_due {
                tp.due = d;
            }
        }
        if let Some(c) = self.clients.get_mut(&client) {
            Self::change(c, env, points, reason, false);
        }
    }
}

fn signed_points(x: f64) -> String {
    if x < 0.0 {
        format!("−{}", words::num(-x))
    } else {
        format!("+{}", words::num(x))
    }
}

fn advocacy_words(kind: AdvocacyKind) -> &'static str {
    kind.as_str()
}

impl Projection for Trust {
    fn apply(&mut self, env: &Envelope) {
        match &env.event {
            Event::ClientAdded { handle, .. } => {
                if self.only.as_ref().is_some_and(|o| o != handle) {
                    return;
                }
                // A second `ClientAdded` for a known handle (an import, not
                // the CLI) keeps the history rather than erase it.
                if self.clients.contains_key(handle) {
                    return;
                }
                let start = centi(NEUTRAL);
                self.clients.insert(
                    handle.clone(),
                    ClientTrust {
                        score: start,
                        first: None,
                        debt_opened: false,
                        debt_left: 0,
                        history: vec![TrustEntry {
                            at: env.occurred_at,
                            seq: env.seq,
                            score: start,
                            change: 0,
                            reason: "client added: neutral start at 50".to_string(),
                        }],
                    },
                );
            }
            Event::Interacted {
                client,
                kind,
                mood,
                minutes,
                ..
            } => self.interacted(env, client, *kind, *mood, *minutes),
            Event::PromiseMade {
                promise,
                client,
                due,
                ..
            } => {
                if self.clients.contains_key(client) {
                    self.promises.insert(
                        *promise,
                        TrackedPromise {
                            client: client.clone(),
                            original_due: due.at,
                            due: due.at,
                            open: true,
                        },
                    );
                }
            }
            Event::PromiseMoved { promise, .. }
            | Event::PromiseKept { promise, .. }
            | Event::PromiseBroken { promise, .. }
            | Event::PromiseReleased { promise, .. } => self.promise_event(env, *promise),
            Event::MismatchNoted { client, .. } => {
                let points = self.params.mismatch;
                if let Some(c) = self.clients.get_mut(client) {
                    let reason = format!(
                        "mismatch noted (not what they expected): {}",
                        signed_points(-points)
                    );
                    Self::change(c, env, -points, reason, false);
                }
            }
            Event::Advocated {
                client,
                kind,
                initiated_by_client,
                ..
            } => {
                let Some(c) = self.clients.get(client) else {
                    return;
                };
                let base = if *initiated_by_client {
                    self.params.advocacy_by_client
                } else {
                    self.params.advocacy_by_us
                };
                let (points, how) = self.positive(c, base);
                let who = if *initiated_by_client {
                    "their initiative"
                } else {
                    "we asked"
                };
                let reason = format!("{} ({who}): {how}", advocacy_words(*kind));
                if let Some(c) = self.clients.get_mut(client) {
                    Self::change(c, env, points, reason, false);
                }
            }
            Event::FitChanged { .. }
            | Event::ExpectationNoted { .. }
            | Event::ClientLost { .. }
            | Event::ClientReturned { .. }
            | Event::Retracted { .. } => {}
        }
    }
}
