//! `postmortem <handle>`: one client's history replayed as it was known at
//! each point — the timeline, first impression, fit, expectations vs
//! mismatches, the promise record (the audit for that client), the longest
//! silence, the trust curve, and the warning signs, most serious first.
//!
//! API:
//! - [`Postmortem::new`]`(handle, TrustParams)`: the projection, for one
//!   client; feed it the whole stream (promise events name no client, so it
//!   follows them all).
//! - [`Postmortem::report`]`(now) -> Option<PostmortemReport>` (`None` for a
//!   client never added, or whose `ClientAdded` was retracted);
//!   `PostmortemReport` is `Serialize` for `--json`.
//!
//! "The end" of the relationship is the latest loss while the client is
//! lost, else `now` (a post-mortem of a live client is an early warning).
//! Warning signs, by rank (1 = most serious), each with a stable `kind`:
//!
//! | rank | kind | when |
//! |---|---|---|
//! | 1 | `bad_first_impression_unrecovered` | first impression mood < 0 and, at the end, recovery debt still owed or trust below 50 |
//! | 2 | `low_hit_rate` | original-date hit rate under 50% |
//! | 3 | `blame_on_client` | any move attributed to the client (says when it is the audit's blame pattern) |
//! | 4 | `mismatch_without_expectation` | a mismatch with no expectation recorded before it |
//! | 5 | `off_target_fit` | fit at the end is off-target |
//! | 6 | `long_silence` | no contact in the more than 30 days before the end |
//! | 7 | `promise_broken` | at least one promise declared broken |
//! | 8 | `mismatch_noted` | a mismatch, even after a recorded expectation |

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::audit::{Audit, AuditQuery, AuditReport, AuditRow, FLAG_BLAME_PATTERN};
use super::trust::{FirstImpression, Trust, TrustParams, TrustReport};
use super::{ser, words, ClientKey, Projection, DAY_SECONDS};
use crate::events::{EnvelopeRef, EventRef, Fit, PromiseId, Seq, Timestamp};

/// Silence longer than this many days before the end is a warning sign.
pub const SILENCE_WARNING_DAYS: i64 = 30;

/// Stable `kind` strings of [`Warning`], most serious first (rank = index + 1).
pub const WARNING_KINDS: [&str; 8] = [
    "bad_first_impression_unrecovered",
    "low_hit_rate",
    "blame_on_client",
    "mismatch_without_expectation",
    "off_target_fit",
    "long_silence",
    "promise_broken",
    "mismatch_noted",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub seq: Seq,
    #[serde(serialize_with = "ser::ts")]
    pub at: Timestamp,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitChange {
    pub seq: Seq,
    #[serde(serialize_with = "ser::ts")]
    pub at: Timestamp,
    #[serde(serialize_with = "ser::fit")]
    pub from: Fit,
    #[serde(serialize_with = "ser::fit")]
    pub to: Fit,
    pub reason: String,
}

/// An expectation and the mismatches recorded after it (and before the
/// next expectation); mismatches before any expectation come first, with
/// `expectation: null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideBySide {
    pub expectation: Option<Note>,
    pub mismatches: Vec<Note>,
}

/// A stretch without interactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Silence {
    #[serde(serialize_with = "ser::ts")]
    pub from: Timestamp,
    #[serde(serialize_with = "ser::ts")]
    pub to: Timestamp,
    /// Whole days (rounded down).
    pub days: i64,
    pub seconds: i64,
}

impl Silence {
    fn new(from: Timestamp, to: Timestamp) -> Self {
        let seconds = from.seconds_until(to).max(0);
        Silence {
            from,
            to,
            days: seconds / DAY_SECONDS,
            seconds,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub seq: Seq,
    #[serde(serialize_with = "ser::ts")]
    pub recorded_at: Timestamp,
    #[serde(serialize_with = "ser::ts")]
    pub occurred_at: Timestamp,
    /// The event's kind name (`PromiseKept`, …).
    pub kind: &'static str,
    pub text: String,
    /// The client's trust right after this event, as known then (`null`
    /// for a retracted event, which never counted).
    pub trust_after: Option<f64>,
    /// Set when this event was later retracted: by which seq.
    pub retracted_by: Option<Seq>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// 1 = most serious; see the module docs.
    pub rank: u8,
    pub kind: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostmortemReport {
    pub client: String,
    pub name: String,
    /// `"active"` or `"lost"`.
    pub status: &'static str,
    #[serde(serialize_with = "ser::opt_ts")]
    pub lost_at: Option<Timestamp>,
    pub lost_reason: Option<String>,
    /// The latest loss while lost, else `now`.
    #[serde(serialize_with = "ser::ts")]
    pub end: Timestamp,
    #[serde(serialize_with = "ser::fit")]
    pub initial_fit: Fit,
    #[serde(serialize_with = "ser::fit")]
    pub fit: Fit,
    pub fit_changes: Vec<FitChange>,
    pub first_impression: Option<FirstImpression>,
    pub expectations: Vec<Note>,
    pub mismatches: Vec<Note>,
    pub side_by_side: Vec<SideBySide>,
    /// The audit for this client (SPEC's audit shape) and its rows.
    pub audit: AuditReport,
    pub promises: Vec<AuditRow>,
    /// The longest gap between two consecutive interactions up to the end.
    pub longest_silence: Option<Silence>,
    /// From the last interaction (or, with none, the client's addition) to
    /// the end.
    pub silence_before_end: Option<Silence>,
    pub trust: TrustReport,
    /// Trust at the end (at the loss, as it was then).
    pub trust_at_end: f64,
    pub warnings: Vec<Warning>,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq)]
struct Loss {
    at: Timestamp,
    reason: String,
    trust: f64,
    debt_minutes_left: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Known {
    name: String,
    added_at: Timestamp,
    initial_fit: Fit,
    fit: Fit,
}

/// The post-mortem projection for one client; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Postmortem {
    handle: String,
    audit: Audit,
    trust: Trust,
    known: Option<Known>,
    fit_changes: Vec<FitChange>,
    expectations: Vec<Note>,
    mismatches: Vec<Note>,
    /// `occurred_at` of each interaction.
    contacts: Vec<Timestamp>,
    lost: Option<Loss>,
    promises: BTreeSet<PromiseId>,
    retracted_promises: BTreeSet<PromiseId>,
    timeline: Vec<TimelineEntry>,
    /// Every retraction seen: retracted seq → retracting seq.
    retracted_by: BTreeMap<Seq, Seq>,
}

impl Postmortem {
    pub fn new(handle: &str, params: TrustParams) -> Self {
        Postmortem {
            handle: handle.to_string(),
            audit: Audit::for_client(handle),
            trust: Trust::for_client(handle, params),
            known: None,
            fit_changes: Vec::new(),
            expectations: Vec::new(),
            mismatches: Vec::new(),
            contacts: Vec::new(),
            lost: None,
            promises: BTreeSet::new(),
            retracted_promises: BTreeSet::new(),
            timeline: Vec::new(),
            retracted_by: BTreeMap::new(),
        }
    }

    pub fn handle(&self) -> &str {
        &self.handle
    }

    /// Whether an event (applied or skipped) concerns this client.
    fn concerns(&self, e: &EventRef<'_>) -> bool {
        match e.client() {
            Some(c) => c == self.handle,
            None => match e {
                EventRef::Retracted { seq, .. } => self.timeline_index(*seq).is_some(),
                _ => e.promise().is_some_and(|id| {
                    self.promises.contains(&id) || self.retracted_promises.contains(&id)
                }),
            },
        }
    }

    fn timeline_index(&self, seq: Seq) -> Option<usize> {
        self.timeline.binary_search_by_key(&seq, |t| t.seq).ok()
    }

    fn push_timeline(&mut self, env: &EnvelopeRef<'_>, trust_after: Option<f64>) {
        // The stream is in seq order, so the timeline stays sorted; a
        // duplicate seq (never written by the log) is not entered twice.
        if self.timeline.last().is_some_and(|l| l.seq >= env.seq) {
            return;
        }
        self.timeline.push(TimelineEntry {
            seq: env.seq,
            recorded_at: env.recorded_at,
            occurred_at: env.occurred_at,
            kind: env.event.kind_name(),
            text: words::describe(&env.event, words::Zone::Local, words::Detail::Full),
            trust_after,
            retracted_by: None,
        });
    }

    /// The post-mortem as of `now`; `None` for an unknown client.
    pub fn report(&self, now: Timestamp) -> Option<PostmortemReport> {
        let known = self.known.as_ref()?;
        let trust = self.trust.report(&self.handle)?;
        let end = self.lost.as_ref().map_or(now, |l| l.at);

        let audit = self.audit.report(now, &AuditQuery::client(&self.handle));
        let promises = audit.rows.clone();

        let mut contacts: Vec<Timestamp> = self
            .contacts
            .iter()
            .copied()
            .filter(|t| *t <= end)
            .collect();
        contacts.sort();
        let longest_silence = contacts
            .windows(2)
            .map(|w| Silence::new(w[0], w[1]))
            .max_by_key(|s| (s.seconds, std::cmp::Reverse(s.from)));
        let silence_before_end = Some(Silence::new(
            contacts.last().copied().unwrap_or(known.added_at),
            end,
        ));

        let side_by_side = self.side_by_side();
        let (trust_at_end, debt_at_end) = match &self.lost {
            Some(l) => (l.trust, l.debt_minutes_left),
            None => (trust.score_points(), trust.debt_minutes_left),
        };

        let mut timeline = self.timeline.clone();
        for t in &mut timeline {
            t.retracted_by = self.retracted_by.get(&t.seq).copied();
        }

        let mut report = PostmortemReport {
            client: self.handle.clone(),
            name: known.name.clone(),
            status: if self.lost.is_some() {
                "lost"
            } else {
                "active"
            },
            lost_at: self.lost.as_ref().map(|l| l.at),
            lost_reason: self.lost.as_ref().map(|l| l.reason.clone()),
            end,
            initial_fit: known.initial_fit,
            fit: known.fit,
            fit_changes: self.fit_changes.clone(),
            first_impression: trust.first_impression.clone(),
            expectations: self.expectations.clone(),
            mismatches: self.mismatches.clone(),
            side_by_side,
            audit,
            promises,
            longest_silence,
            silence_before_end,
            trust,
            trust_at_end,
            warnings: Vec::new(),
            timeline,
        };
        report.warnings = warnings(&report, debt_at_end, self.lost.is_some());
        Some(report)
    }

    fn side_by_side(&self) -> Vec<SideBySide> {
        let mut rows: Vec<SideBySide> = Vec::new();
        let orphans: Vec<Note> = self
            .mismatches
            .iter()
            .filter(|m| self.expectations.first().is_none_or(|e| m.seq < e.seq))
            .cloned()
            .collect();
        if !orphans.is_empty() {
            rows.push(SideBySide {
                expectation: None,
                mismatches: orphans,
            });
        }
        for (i, e) in self.expectations.iter().enumerate() {
            let next = self.expectations.get(i + 1).map(|n| n.seq);
            rows.push(SideBySide {
                expectation: Some(e.clone()),
                mismatches: self
                    .mismatches
                    .iter()
                    .filter(|m| m.seq > e.seq && next.is_none_or(|n| m.seq < n))
                    .cloned()
                    .collect(),
            });
        }
        rows
    }
}

fn warnings(r: &PostmortemReport, debt_at_end: u64, lost: bool) -> Vec<Warning> {
    let at_end = if lost { "at the loss" } else { "now" };
    let mut out: Vec<(usize, String)> = Vec::new();

    if let Some(f) = r.first_impression.as_ref().filter(|f| f.mood < 0) {
        let owed = debt_at_end > 0;
        if owed || r.trust_at_end < 50.0 {
            let debt = if owed {
                format!(
                    "{} of recovery debt still owed, ",
                    words::hours(debt_at_end)
                )
            } else {
                String::new()
            };
            out.push((
                0,
                format!(
                    "bad first impression ({}, mood {}, {}) never recovered: {debt}trust {} {at_end}",
                    f.kind,
                    words::signed(i64::from(f.mood)),
                    words::when(f.at),
                    words::score(r.trust_at_end)
                ),
            ));
        }
    }

    if let Some(rate) = r.audit.original_date_hit_rate.filter(|h| *h < 0.5) {
        let c = &r.audit.promises;
        out.push((
            1,
            format!(
                "original-date hit rate {:.0}%: {} of {} decided promises kept on their first date",
                rate * 100.0,
                c.kept_on_time,
                c.total - c.released - c.open
            ),
        ));
    }

    let m = &r.audit.moves;
    if m.client > 0 {
        let all = m.us + m.client + m.external;
        let pattern = r.audit.flags.iter().any(|f| f.kind == FLAG_BLAME_PATTERN);
        out.push((
            2,
            format!(
                "{} of {all} slips attributed to the client{}: a slip is still a slip, and \
                 blaming the client is a known failure mode of the one who promised",
                m.client,
                if pattern { " (a blame pattern)" } else { "" }
            ),
        ));
    }

    let unprompted: Vec<&Note> = r
        .side_by_side
        .iter()
        .filter(|s| s.expectation.is_none())
        .flat_map(|s| &s.mismatches)
        .collect();
    if let Some(first) = unprompted.first() {
        out.push((
            3,
            format!(
                "{} with no expectation recorded before, first on {}: \"{}\" — what \
                 the client wanted was never written down",
                words::count(unprompted.len() as u64, "mismatch", "mismatches"),
                words::when(first.at),
                first.text
            ),
        ));
    }

    if r.fit == Fit::OffTarget {
        let how = match r.fit_changes.iter().rev().find(|c| c.to == Fit::OffTarget) {
            Some(c) => format!(
                "marked off-target on {}{}",
                words::when(c.at),
                if c.reason.trim().is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.reason)
                }
            ),
            None => "off-target from the start".to_string(),
        };
        out.push((
            4,
            format!("off-target client ({how}): mismatched fit predicts loss"),
        ));
    }

    if let Some(s) = r
        .silence_before_end
        .filter(|s| s.seconds > SILENCE_WARNING_DAYS * DAY_SECONDS)
    {
        let before = if lost { "before the loss" } else { "up to now" };
        out.push((
            5,
            format!(
                "no contact for {} {before} (last contact {})",
                words::days(s.days),
                words::when(s.from)
            ),
        ));
    }

    if r.audit.promises.broken > 0 {
        out.push((
            6,
            format!(
                "{} declared broken",
                words::count(r.audit.promises.broken, "promise", "promises")
            ),
        ));
    }

    let prompted = r
        .side_by_side
        .iter()
        .filter(|s| s.expectation.is_some())
        .map(|s| s.mismatches.len())
        .sum::<usize>();
    if prompted > 0 {
        out.push((
            7,
            format!(
                "{} with what the client said they wanted: the classic \
                 cause of a contract ending",
                words::count(prompted as u64, "mismatch", "mismatches")
            ),
        ));
    }

    out.into_iter()
        .map(|(i, message)| Warning {
            rank: i as u8 + 1,
            kind: WARNING_KINDS[i],
            message,
        })
        .collect()
}

impl Projection for Postmortem {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.apply_keyed(env, None)
    }

    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        self.audit.apply_keyed(env, key);
        self.trust.apply_keyed(env, key);
        if let EventRef::Retracted { seq, .. } = env.event {
            self.retracted_by.insert(seq, env.seq);
        }
        let e = &env.event;
        if let EventRef::ClientAdded {
            handle, name, fit, ..
        } = e
        {
            if *handle == self.handle && self.known.is_none() {
                self.known = Some(Known {
                    name: name.to_string(),
                    added_at: env.occurred_at,
                    initial_fit: *fit,
                    fit: *fit,
                });
            }
        }
        if self.known.is_none() || !self.concerns(e) {
            return;
        }
        let at = env.occurred_at;
        match e {
            EventRef::FitChanged { fit, reason, .. } => {
                if let Some(k) = self.known.as_mut() {
                    self.fit_changes.push(FitChange {
                        seq: env.seq,
                        at,
                        from: k.fit,
                        to: *fit,
                        reason: reason.to_string(),
                    });
                    k.fit = *fit;
                }
            }
            EventRef::ExpectationNoted { text, .. } => self.expectations.push(Note {
                seq: env.seq,
                at,
                text: text.to_string(),
            }),
            EventRef::MismatchNoted { text, .. } => self.mismatches.push(Note {
                seq: env.seq,
                at,
                text: text.to_string(),
            }),
            EventRef::Interacted { .. } => self.contacts.push(at),
            EventRef::PromiseMade { promise, .. } => {
                self.promises.insert(*promise);
            }
            EventRef::ClientLost { reason, .. } => {
                self.lost = Some(Loss {
                    at,
                    reason: reason.to_string(),
                    trust: self.trust.score(&self.handle).unwrap_or(0.0),
                    debt_minutes_left: self.trust.debt_minutes_left(&self.handle).unwrap_or(0),
                });
            }
            EventRef::ClientReturned { .. } => self.lost = None,
            _ => {}
        }
        let score = self.trust.score(&self.handle);
        self.push_timeline(env, score);
    }

    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.audit.skip(env);
        self.trust.skip(env);
        if let EventRef::PromiseMade {
            promise, client, ..
        } = &env.event
        {
            if *client == self.handle {
                self.retracted_promises.insert(*promise);
            }
        }
        if self.known.is_some() && self.concerns(&env.event) {
            self.push_timeline(env, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Cause, Event, InteractionKind, Party};
    use crate::projections::testkit::*;

    const DAY: i64 = 86_400;

    struct Story(Given);

    impl Story {
        fn new(fit: Fit) -> Self {
            let mut g = Given::new();
            g.client_fit("acme", fit);
            Story(g)
        }
        fn on(&mut self, day: i64, e: Event) -> Seq {
            self.0.push_at(t(day * DAY), t(day * DAY), e)
        }
        fn talk(&mut self, day: i64, mood: i8, minutes: u32) -> Seq {
            self.on(
                day,
                Event::Interacted {
                    client: "acme".into(),
                    kind: InteractionKind::Meeting,
                    mood,
                    minutes: Some(minutes),
                    initiated_by: Party::Client,
                    note: String::new(),
                },
            )
        }
        fn note(&mut self, day: i64, expectation: bool, text: &str) -> Seq {
            let (client, text) = ("acme".to_string(), text.to_string());
            self.on(
                day,
                if expectation {
                    Event::ExpectationNoted { client, text }
                } else {
                    Event::MismatchNoted { client, text }
                },
            )
        }
        fn promise(&mut self, day: i64, id: PromiseId, due_day: i64) -> Seq {
            self.on(
                day,
                Event::PromiseMade {
                    promise: id,
                    client: "acme".into(),
                    what: format!("work {id}"),
                    due: due(t(due_day * DAY)),
                },
            )
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
        fn lost(&mut self, day: i64) -> Seq {
            self.on(
                day,
                Event::ClientLost {
                    client: "acme".into(),
                    reason: "went elsewhere".into(),
                },
            )
        }
        fn report(&self, now_day: i64) -> PostmortemReport {
            let mut p = Postmortem::new("acme", TrustParams::default());
            self.0.replay_into(&mut p);
            p.report(t(now_day * DAY)).unwrap()
        }
    }

    fn kinds(r: &PostmortemReport) -> Vec<&'static str> {
        r.warnings.iter().map(|w| w.kind).collect()
    }

    /// Given every warning sign, in a lost relationship.
    fn troubled() -> Story {
        let mut s = Story::new(Fit::Target);
        s.talk(1, -2, 30); // bad first impression
        s.note(2, false, "this is not the tone we asked for"); // no expectation yet
        s.note(3, true, "a calm, classic brand");
        s.promise(3, 1, 10);
        s.on(9, Given::move_event(1, t(20 * DAY), Cause::Client, true));
        s.on(19, Given::move_event(1, t(30 * DAY), Cause::Client, false));
        s.kept(29, 1); // kept after move
        s.promise(30, 2, 40);
        s.on(
            41,
            Event::PromiseBroken {
                promise: 2,
                reason: "no time".into(),
            },
        );
        s.note(42, false, "still not calm");
        s.talk(44, 1, 60);
        s.on(
            50,
            Event::FitChanged {
                client: "acme".into(),
                fit: Fit::OffTarget,
                reason: "wants a different service".into(),
            },
        );
        s.lost(90); // 46 days after the last contact
        s.talk(100, 2, 600); // after the loss: not in the silences
        s
    }

    #[test]
    fn every_warning_sign_most_serious_first() {
        let r = troubled().report(200);
        assert_eq!(
            kinds(&r),
            [
                "bad_first_impression_unrecovered",
                "low_hit_rate",
                "blame_on_client",
                "mismatch_without_expectation",
                "off_target_fit",
                "long_silence",
                "promise_broken",
                "mismatch_noted",
            ]
        );
        let ranks: Vec<u8> = r.warnings.iter().map(|w| w.rank).collect();
        assert_eq!(ranks, [1, 2, 3, 4, 5, 6, 7, 8]);
        let w = |k: &str| &r.warnings.iter().find(|w| w.kind == k).unwrap().message;
        assert!(
            w("blame_on_client").contains("2 of 2 slips"),
            "{}",
            w("blame_on_client")
        );
        assert!(w("blame_on_client").contains("blame pattern"));
        assert!(w("low_hit_rate").contains("0%"), "{}", w("low_hit_rate"));
        assert!(
            w("long_silence").contains("46 days before the loss"),
            "{}",
            w("long_silence")
        );
        assert!(w("off_target_fit").contains("wants a different service"));
        assert!(w("bad_first_impression_unrecovered").contains("at the loss"));
    }

    #[test]
    fn the_record_of_a_lost_client() {
        let r = troubled().report(200);
        assert_eq!((r.status, r.end), ("lost", t(90 * DAY)));
        assert_eq!((r.initial_fit, r.fit), (Fit::Target, Fit::OffTarget));
        assert_eq!(r.fit_changes.len(), 1);
        assert_eq!(r.first_impression.as_ref().map(|f| f.mood), Some(-2));
        // Expectations vs mismatches, side by side
        assert_eq!(r.side_by_side.len(), 2);
        assert!(r.side_by_side[0].expectation.is_none());
        assert_eq!(
            r.side_by_side[0].mismatches[0].text,
            "this is not the tone we asked for"
        );
        assert_eq!(
            r.side_by_side[1]
                .expectation
                .as_ref()
                .map(|e| e.text.as_str()),
            Some("a calm, classic brand")
        );
        assert_eq!(r.side_by_side[1].mismatches[0].text, "still not calm");
        // The audit for this client
        let p = r.audit.promises;
        assert_eq!((p.kept_after_move, p.broken, p.total), (1, 1, 2));
        assert_eq!(r.audit.original_date_hit_rate, Some(0.0));
        assert_eq!(r.promises.len(), 2);
        // Silences: the longest between contacts (day 1 → 44), and the one
        // before the loss (44 → 90); the contact after the loss is not counted
        let longest = r.longest_silence.unwrap();
        assert_eq!((longest.from, longest.days), (t(DAY), 43));
        assert_eq!(r.silence_before_end.unwrap().days, 46);
        // Trust at the loss, before the later contact raised it
        assert!(r.trust_at_end < 50.0);
        assert!(r.trust.score_points() > r.trust_at_end);
        // The timeline: every event of the client, in order, with the
        // trust known right after it
        assert_eq!(r.timeline.len(), 15);
        assert!(r.timeline.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(r.timeline[1].kind, "Interacted");
        assert_eq!(r.timeline[1].trust_after, Some(38.0));
    }

    #[test]
    fn a_healthy_client_has_no_warning() {
        let mut s = Story::new(Fit::Target);
        s.talk(1, 2, 60);
        s.note(1, true, "a bold identity");
        s.promise(1, 1, 10);
        s.kept(9, 1);
        s.talk(20, 1, 30);
        let r = s.report(30);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!((r.status, r.end), ("active", t(30 * DAY)));
        assert_eq!(r.audit.original_date_hit_rate, Some(1.0));
    }

    #[test]
    fn a_repaired_first_impression_is_not_a_warning() {
        let mut s = Story::new(Fit::Target);
        s.talk(1, -1, 10);
        for day in 2..12 {
            s.talk(day, 2, 240); // 40 h in all
        }
        let r = s.report(12);
        assert!(r.trust.debt_opened);
        assert_eq!(r.trust.debt_minutes_left, 0);
        assert!(r.trust_at_end >= 50.0);
        assert!(!kinds(&r).contains(&"bad_first_impression_unrecovered"));
    }

    #[test]
    fn silence_of_an_active_client_counts_up_to_now() {
        let mut s = Story::new(Fit::Target);
        s.talk(1, 1, 10);
        let r = s.report(40);
        assert_eq!(kinds(&r), ["long_silence"]);
        assert!(r.warnings[0].message.contains("39 days up to now"));
        assert!(!kinds(&s.report(31)).contains(&"long_silence"));
    }

    #[test]
    fn retracted_events_show_in_the_timeline_marked_and_do_not_count() {
        let mut s = Story::new(Fit::Target);
        s.talk(1, 1, 10);
        let wrong = s.note(2, false, "meant for another client");
        let by = s.on(
            3,
            Event::Retracted {
                seq: wrong,
                reason: "wrong client".into(),
            },
        );
        let r = s.report(4);
        assert!(r.mismatches.is_empty());
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let e = r.timeline.iter().find(|e| e.seq == wrong).unwrap();
        assert_eq!((e.retracted_by, e.trust_after), (Some(by), None));
        assert!(
            r.timeline.iter().any(|e| e.seq == by),
            "the retraction itself"
        );
        assert_eq!(r.audit.flags.len(), 1, "the audit lists the retraction");
    }

    #[test]
    fn a_returned_client_is_active_again() {
        let mut s = Story::new(Fit::Target);
        s.talk(1, 1, 10);
        s.lost(5);
        s.on(
            6,
            Event::ClientReturned {
                client: "acme".into(),
                note: String::new(),
            },
        );
        let r = s.report(7);
        assert_eq!((r.status, r.end, r.lost_at), ("active", t(7 * DAY), None));
    }

    #[test]
    fn unknown_or_retracted_client_has_no_postmortem() {
        let g = Given::new();
        let mut p = Postmortem::new("acme", TrustParams::default());
        g.replay_into(&mut p);
        assert!(p.report(t(0)).is_none());

        let mut g = Given::new();
        let added = g.client("acme");
        g.talk("acme", InteractionKind::Call, 1, None);
        g.retract(added, "typo");
        let mut p = Postmortem::new("acme", TrustParams::default());
        g.replay_into(&mut p);
        assert!(p.report(t(0)).is_none());
        assert_eq!(p.handle(), "acme");
    }

    #[test]
    fn serializes_for_json() {
        let r = troubled().report(200);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["client"], "acme");
        assert_eq!(v["fit"], "off-target");
        assert_eq!(v["warnings"][0]["kind"], "bad_first_impression_unrecovered");
        assert_eq!(v["audit"]["promises"]["total"], 2);
        assert_eq!(v["promises"][0]["outcome"], "kept_after_move");
        assert!(v["trust"]["history"]
            .as_array()
            .is_some_and(|h| h.len() > 3));
    }
}
