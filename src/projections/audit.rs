//! The deadline audit of SPEC.md ("The deadline audit (precise)"): was each
//! promise kept as *originally* promised, who moved it, and what an auditor
//! must see.
//!
//! API:
//! - [`Audit`]: the projection; feed it the whole stream.
//! - [`Audit::report`]`(now, &AuditQuery) -> AuditReport`: `AuditQuery` holds
//!   the optional client and the optional inclusive period `[from, to]`.
//! - [`AuditReport`] serializes to exactly SPEC's `audit --json` shape
//!   (`period`, `promises` with the seven outcomes and `total`,
//!   `original_date_hit_rate`, `moves`, `flags`); [`AuditReport::to_json`]
//!   gives it as a `serde_json::Value`. Its `rows` (one per promise, for the
//!   table and `--csv`: see [`AuditRow::CSV_HEADER`] and
//!   [`AuditRow::csv_fields`]) are not part of that JSON.
//!
//! Rules, exactly as implemented:
//! - A promise is in the period when its ORIGINAL due instant is in
//!   `[from, to]`, both ends inclusive and optional. A date-only due was
//!   resolved when recorded to 23:59:59 local of its day; only instants are
//!   compared here.
//! - Kept: the keep's `occurred_at` (the delivery) `<=` original due →
//!   `kept_on_time`; else `<=` last due → `kept_after_move`; else `kept_late`.
//!   Open: last due `< now` → `open_overdue`; else `open`.
//! - Only the first close (keep, break, release) of a promise counts, and
//!   moves count only while it is open, as in [`super::state::State`].
//! - A move is `after_due` when its `recorded_at` is after the due in force
//!   before it (the due it moved) — recorded once the miss had happened.
//! - Events about promises or clients that do not exist (e.g. their
//!   `PromiseMade` or `ClientAdded` was retracted) are ignored.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{days_after, ser, words, Projection};
use crate::events::{Cause, Due, Envelope, Event, PromiseId, Seq, Timestamp};

/// Stable `kind` strings of [`Flag`].
pub const FLAG_MOVE_AFTER_DUE: &str = "move_after_due";
pub const FLAG_BACKDATED_KEEP: &str = "backdated_keep";
pub const FLAG_BLAME_PATTERN: &str = "blame_pattern";
pub const FLAG_RETRACTED: &str = "retracted";

/// Blame pattern: a client with at least this many moves attributed to the
/// client…
pub const BLAME_MIN_CLIENT_MOVES: u64 = 2;
// …and client-caused moves more than half of all that client's moves (in
// the audit's scope). Two, because a single slip is an incident, not a
// pattern; "more than half" because SPEC says "mostly".

/// What the audit is asked: one client or all, and an optional period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub client: Option<String>,
    /// Inclusive bounds on the ORIGINAL due.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl AuditQuery {
    pub fn all() -> Self {
        Self::default()
    }

    pub fn client(handle: &str) -> Self {
        AuditQuery {
            client: Some(handle.to_string()),
            ..Self::default()
        }
    }

    fn in_period(&self, t: Timestamp) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t <= to)
    }

    fn is_everything(&self) -> bool {
        self.client.is_none() && self.from.is_none() && self.to.is_none()
    }
}

/// The seven outcomes; each promise in the period is in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    KeptOnTime,
    KeptAfterMove,
    KeptLate,
    Broken,
    Released,
    OpenOverdue,
    Open,
}

impl Outcome {
    /// The JSON key / CSV word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::KeptOnTime => "kept_on_time",
            Outcome::KeptAfterMove => "kept_after_move",
            Outcome::KeptLate => "kept_late",
            Outcome::Broken => "broken",
            Outcome::Released => "released",
            Outcome::OpenOverdue => "open_overdue",
            Outcome::Open => "open",
        }
    }

    pub const ALL: [Outcome; 7] = [
        Outcome::KeptOnTime,
        Outcome::KeptAfterMove,
        Outcome::KeptLate,
        Outcome::Broken,
        Outcome::Released,
        Outcome::OpenOverdue,
        Outcome::Open,
    ];
}

/// One move of a promise, as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub seq: Seq,
    pub recorded_at: Timestamp,
    pub occurred_at: Timestamp,
    /// The due in force before the move (the due it moved).
    pub from: Due,
    pub to: Due,
    pub cause: Cause,
    pub agreed: bool,
}

impl Move {
    /// Recorded after the due it moved had passed (hiding a miss).
    pub fn after_due(&self) -> bool {
        self.recorded_at > self.from.at
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseKind {
    Kept,
    Broken,
    Released,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Close {
    kind: CloseKind,
    seq: Seq,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Tracked {
    id: PromiseId,
    client: String,
    what: String,
    original_due: Due,
    due: Due,
    moves: Vec<Move>,
    close: Option<Close>,
}

impl Tracked {
    fn outcome(&self, now: Timestamp) -> Outcome {
        match self.close {
            Some(c) => match c.kind {
                CloseKind::Kept if c.occurred_at <= self.original_due.at => Outcome::KeptOnTime,
                CloseKind::Kept if c.occurred_at <= self.due.at => Outcome::KeptAfterMove,
                CloseKind::Kept => Outcome::KeptLate,
                CloseKind::Broken => Outcome::Broken,
                CloseKind::Released => Outcome::Released,
            },
            None if self.due.at < now => Outcome::OpenOverdue,
            None => Outcome::Open,
        }
    }

    /// Whole days (rounded up) past the ORIGINAL due: of the delivery for a
    /// kept promise, of `now` for an open one; `None` for broken/released.
    fn days_late(&self, now: Timestamp) -> Option<i64> {
        match self.close {
            Some(Close {
                kind: CloseKind::Kept,
                occurred_at,
                ..
            }) => Some(days_after(self.original_due.at, occurred_at)),
            Some(_) => None,
            None => Some(days_after(self.original_due.at, now)),
        }
    }
}

/// What we know of a retracted (skipped) event, so its retraction can say
/// what it took back and whom it concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Skipped {
    kind: &'static str,
    client: Option<String>,
    promise: Option<PromiseId>,
    occurred_at: Timestamp,
    summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Retraction {
    seq: Seq,
    by: Seq,
    reason: String,
}

/// The audit projection; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    clients: BTreeSet<String>,
    promises: BTreeMap<PromiseId, Tracked>,
    /// Client and original due of promises whose `PromiseMade` was
    /// retracted: a retraction of it is still in the period of that due.
    retracted_promises: BTreeMap<PromiseId, (String, Timestamp)>,
    skipped: BTreeMap<Seq, Skipped>,
    retractions: Vec<Retraction>,
}

impl Audit {
    pub fn new() -> Self {
        Self::default()
    }

    /// The moves of a promise, oldest first (empty for an unknown promise).
    pub fn moves_of(&self, id: PromiseId) -> &[Move] {
        self.promises.get(&id).map_or(&[], |p| &p.moves)
    }

    /// Client and original due of a promise, whether or not its making was
    /// retracted.
    fn promise_facts(&self, id: PromiseId) -> Option<(&str, Timestamp)> {
        match self.promises.get(&id) {
            Some(p) => Some((&p.client, p.original_due.at)),
            None => self
                .retracted_promises
                .get(&id)
                .map(|(c, d)| (c.as_str(), *d)),
        }
    }

    /// The audit for `q`, with open promises judged against `now`.
    pub fn report(&self, now: Timestamp, q: &AuditQuery) -> AuditReport {
        let in_scope: Vec<&Tracked> = self
            .promises
            .values()
            .filter(|p| q.client.as_ref().is_none_or(|c| *c == p.client))
            .filter(|p| q.in_period(p.original_due.at))
            .collect();

        let mut counts = OutcomeCounts::default();
        let mut moves = MoveCounts::default();
        let mut rows = Vec::with_capacity(in_scope.len());
        let mut move_flags = Vec::new();
        let mut keep_flags = Vec::new();
        // client → (client-caused moves, all moves, seq of the last
        // client-caused move)
        let mut blame: BTreeMap<&str, (u64, u64, Seq)> = BTreeMap::new();

        for p in &in_scope {
            let outcome = p.outcome(now);
            counts.add(outcome);
            for m in &p.moves {
                let b = blame.entry(&p.client).or_insert((0, 0, 0));
                b.1 += 1;
                match m.cause {
                    Cause::Us => moves.us += 1,
                    Cause::Client => {
                        moves.client += 1;
                        b.0 += 1;
                        b.2 = m.seq;
                    }
                    Cause::External => moves.external += 1,
                }
                if m.after_due() {
                    moves.after_due += 1;
                    move_flags.push(move_after_due_flag(p, m));
                }
            }
            if let Some(f) = backdated_keep_flag(p) {
                keep_flags.push(f);
            }
            rows.push(AuditRow {
                promise: p.id,
                client: p.client.clone(),
                what: p.what.clone(),
                original_due: p.original_due.at,
                original_due_date_only: p.original_due.date_only,
                last_due: p.due.at,
                last_due_date_only: p.due.date_only,
                moves: p.moves.len() as u32,
                outcome,
                days_late: p.days_late(now),
                closed_at: p.close.map(|c| c.occurred_at),
            });
        }
        rows.sort_by_key(|r| (r.original_due, r.promise));

        let mut flags = move_flags;
        flags.extend(keep_flags);
        for (client, (by_client, all, seq)) in blame {
            if by_client >= BLAME_MIN_CLIENT_MOVES && by_client * 2 > all {
                flags.push(Flag {
                    kind: FLAG_BLAME_PATTERN,
                    client: Some(client.to_string()),
                    promise: None,
                    seq: Some(seq),
                    retracted_by: None,
                    reason: None,
                    message: format!(
                        "{client}: {by_client} of {all} moves attributed to the client. \
                         A slip blamed on the client is still a slip, and blaming the \
                         client is a known failure mode of the one who promised"
                    ),
                });
            }
        }
        flags.extend(self.retraction_flags(q));

        let denominator = counts.total - counts.released - counts.open;
        AuditReport {
            period: Period {
                from: q.from,
                to: q.to,
            },
            original_date_hit_rate: (denominator > 0)
                .then(|| counts.kept_on_time as f64 / denominator as f64),
            promises: counts,
            moves,
            flags,
            client: q.client.clone(),
            rows,
        }
    }

    fn retraction_flags<'a>(&'a self, q: &'a AuditQuery) -> impl Iterator<Item = Flag> + 'a {
        self.retractions.iter().filter_map(move |r| {
            let what = self.skipped.get(&r.seq);
            let client = what.and_then(|s| s.client.as_deref());
            // The instant that places the retraction in a period: the
            // original due of the promise it concerns, else when the
            // retracted event happened.
            let instant = what.map(|s| {
                s.promise
                    .and_then(|id| self.promise_facts(id))
                    .map_or(s.occurred_at, |(_, d)| d)
            });
            let in_scope = match (what, &q.client) {
                // An unknown target belongs to no client and no period.
                (None, _) => q.is_everything(),
                (Some(_), Some(c)) if client != Some(c.as_str()) => false,
                (Some(_), _) => instant.is_some_and(|t| q.in_period(t)),
            };
            if !in_scope {
                return None;
            }
            let described = match what {
                Some(s) => {
                    let whom = client.map(|c| format!(", {c}")).unwrap_or_default();
                    format!("event #{} ({}{whom}: {})", r.seq, s.kind, s.summary)
                }
                None => format!("event #{} (not in the journal)", r.seq),
            };
            let reason = if r.reason.trim().is_empty() {
                "no reason given".to_string()
            } else {
                r.reason.clone()
            };
            Some(Flag {
                kind: FLAG_RETRACTED,
                client: client.map(str::to_string),
                promise: what.and_then(|s| s.promise),
                seq: Some(r.seq),
                retracted_by: Some(r.by),
                reason: Some(r.reason.clone()),
                message: format!("{described} retracted by #{}: {reason}", r.by),
            })
        })
    }
}

fn move_after_due_flag(p: &Tracked, m: &Move) -> Flag {
    let backdated = if m.occurred_at <= m.from.at {
        format!(" (dated {}, before the due)", words::when(m.occurred_at))
    } else {
        String::new()
    };
    Flag {
        kind: FLAG_MOVE_AFTER_DUE,
        client: Some(p.client.clone()),
        promise: Some(p.id),
        seq: Some(m.seq),
        retracted_by: None,
        reason: None,
        message: format!(
            "promise #{} ({}) for {}: move #{} to {} was recorded {}{backdated}, after the due \
             it moved ({}) had passed — a miss moved out of sight",
            p.id,
            p.what,
            p.client,
            m.seq,
            words::due(&m.to),
            words::when(m.recorded_at),
            words::due(&m.from)
        ),
    }
}

/// A keep is backdated when its `occurred_at` is on time against a due
/// (original or last) that had already passed when it was recorded: the
/// date it carries gives it a better outcome than the date it was written.
fn backdated_keep_flag(p: &Tracked) -> Option<Flag> {
    let c = p.close.filter(|c| c.kind == CloseKind::Kept)?;
    let hides = |d: &Due| c.occurred_at <= d.at && d.at < c.recorded_at;
    let due = if hides(&p.due) {
        p.due
    } else if hides(&p.original_due) {
        p.original_due
    } else {
        return None;
    };
    Some(Flag {
        kind: FLAG_BACKDATED_KEEP,
        client: Some(p.client.clone()),
        promise: Some(p.id),
        seq: Some(c.seq),
        retracted_by: None,
        reason: None,
        message: format!(
            "promise #{} ({}) for {}: kept on {} by its date, but recorded only on {}, after \
             its due {} had passed (backdated)",
            p.id,
            p.what,
            p.client,
            words::when(c.occurred_at),
            words::when(c.recorded_at),
            words::due(&due)
        ),
    })
}

impl Projection for Audit {
    fn apply(&mut self, env: &Envelope) {
        match &env.event {
            Event::ClientAdded { handle, .. } => {
                self.clients.insert(handle.clone());
            }
            Event::PromiseMade {
                promise,
                client,
                what,
                due,
            } => {
                if !self.clients.contains(client) {
                    return;
                }
                // A repeated id replaces the promise, as in `State`.
                self.promises.insert(
                    *promise,
                    Tracked {
                        id: *promise,
                        client: client.clone(),
                        what: what.clone(),
                        original_due: *due,
                        due: *due,
                        moves: Vec::new(),
                        close: None,
                    },
                );
            }
            Event::PromiseMoved {
                promise,
                due,
                cause,
                agreed_by_client,
                ..
            } => {
                if let Some(p) = self.promises.get_mut(promise) {
                    if p.close.is_none() {
                        p.moves.push(Move {
                            seq: env.seq,
                            recorded_at: env.recorded_at,
                            occurred_at: env.occurred_at,
                            from: p.due,
                            to: *due,
                            cause: *cause,
                            agreed: *agreed_by_client,
                        });
                        p.due = *due;
                    }
                }
            }
            Event::PromiseKept { promise, .. } => self.close(*promise, CloseKind::Kept, env),
            Event::PromiseBroken { promise, .. } => self.close(*promise, CloseKind::Broken, env),
            Event::PromiseReleased { promise, .. } => {
                self.close(*promise, CloseKind::Released, env)
            }
            Event::Retracted { seq, reason } => self.retractions.push(Retraction {
                seq: *seq,
                by: env.seq,
                reason: reason.clone(),
            }),
            Event::FitChanged { .. }
            | Event::ExpectationNoted { .. }
            | Event::MismatchNoted { .. }
            | Event::Interacted { .. }
            | Event::Advocated { .. }
            | Event::ClientLost { .. }
            | Event::ClientReturned { .. } => {}
        }
    }

    fn skip(&mut self, env: &Envelope) {
        let promise = env.event.promise();
        if let Event::PromiseMade {
            promise,
            client,
            due,
            ..
        } = &env.event
        {
            self.retracted_promises
                .insert(*promise, (client.clone(), due.at));
        }
        let client = env.event.client().map(str::to_string).or_else(|| {
            promise
                .and_then(|id| self.promise_facts(id))
                .map(|(c, _)| c.to_string())
        });
        self.skipped.insert(
            env.seq,
            Skipped {
                kind: env.event.kind_name(),
                client,
                promise,
                occurred_at: env.occurred_at,
                summary: words::describe(&env.event),
            },
        );
    }
}

impl Audit {
    fn close(&mut self, id: PromiseId, kind: CloseKind, env: &Envelope) {
        if let Some(p) = self.promises.get_mut(&id) {
            if p.close.is_none() {
                p.close = Some(Close {
                    kind,
                    seq: env.seq,
                    occurred_at: env.occurred_at,
                    recorded_at: env.recorded_at,
                });
            }
        }
    }
}

/// `audit --json`: `{"period":…, "promises":{…,"total":N},
/// "original_date_hit_rate":…, "moves":{…}, "flags":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    pub period: Period,
    pub promises: OutcomeCounts,
    /// kept_on_time / (total − released − open), `None` (JSON `null`) when
    /// that denominator is 0. Taken literally from SPEC.md: `open_overdue`
    /// and `broken` stay in the denominator (a promise whose due has passed
    /// unkept has missed its original date), only `released` and `open`
    /// (not yet decided) leave it.
    pub original_date_hit_rate: Option<f64>,
    pub moves: MoveCounts,
    /// Most mechanical first: `move_after_due`, `backdated_keep`,
    /// `blame_pattern`, `retracted`; within a kind by seq.
    pub flags: Vec<Flag>,
    /// The `--client` asked for (not in the JSON: the caller knows it).
    #[serde(skip)]
    pub client: Option<String>,
    /// One row per promise in the period, by original due then id (for the
    /// table and CSV; not in SPEC's JSON).
    #[serde(skip)]
    pub rows: Vec<AuditRow>,
}

impl AuditReport {
    /// SPEC's `audit --json` object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The inclusive period asked for; `null` ends are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    #[serde(serialize_with = "ser::opt_ts")]
    pub from: Option<Timestamp>,
    #[serde(serialize_with = "ser::opt_ts")]
    pub to: Option<Timestamp>,
}

/// The seven outcome counts and their `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub kept_on_time: u64,
    pub kept_after_move: u64,
    pub kept_late: u64,
    pub broken: u64,
    pub released: u64,
    pub open_overdue: u64,
    pub open: u64,
    pub total: u64,
}

impl OutcomeCounts {
    fn add(&mut self, o: Outcome) {
        self.total += 1;
        *match o {
            Outcome::KeptOnTime => &mut self.kept_on_time,
            Outcome::KeptAfterMove => &mut self.kept_after_move,
            Outcome::KeptLate => &mut self.kept_late,
            Outcome::Broken => &mut self.broken,
            Outcome::Released => &mut self.released,
            Outcome::OpenOverdue => &mut self.open_overdue,
            Outcome::Open => &mut self.open,
        } += 1;
    }

    pub fn get(&self, o: Outcome) -> u64 {
        match o {
            Outcome::KeptOnTime => self.kept_on_time,
            Outcome::KeptAfterMove => self.kept_after_move,
            Outcome::KeptLate => self.kept_late,
            Outcome::Broken => self.broken,
            Outcome::Released => self.released,
            Outcome::OpenOverdue => self.open_overdue,
            Outcome::Open => self.open,
        }
    }
}

/// Moves of the promises in the period, by cause, and how many were
/// recorded after the due they moved had passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MoveCounts {
    pub us: u64,
    pub client: u64,
    pub external: u64,
    pub after_due: u64,
}

/// A finding an auditor must see. Every key is always present (`null` when
/// it does not apply), so scripts can rely on the shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// One of the `FLAG_*` constants.
    pub kind: &'static str,
    pub client: Option<String>,
    pub promise: Option<PromiseId>,
    /// The event concerned: the move, the keep, the last client-caused move
    /// of a blame pattern, the retracted event.
    pub seq: Option<Seq>,
    /// For `retracted`: the seq of the retraction.
    pub retracted_by: Option<Seq>,
    /// For `retracted`: the reason given.
    pub reason: Option<String>,
    /// The finding in words.
    pub message: String,
}

/// One promise of the audit, for the table and CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub promise: PromiseId,
    pub client: String,
    pub what: String,
    #[serde(serialize_with = "ser::ts")]
    pub original_due: Timestamp,
    pub original_due_date_only: bool,
    #[serde(serialize_with = "ser::ts")]
    pub last_due: Timestamp,
    pub last_due_date_only: bool,
    pub moves: u32,
    pub outcome: Outcome,
    /// Whole days (rounded up) past the ORIGINAL due — of the delivery for
    /// a kept promise, of now for an open one; 0 when not past; `None` for
    /// broken and released promises.
    pub days_late: Option<i64>,
    /// When it was kept, broken or released (`occurred_at`).
    #[serde(serialize_with = "ser::opt_ts")]
    pub closed_at: Option<Timestamp>,
}

impl AuditRow {
    pub const CSV_HEADER: [&'static str; 8] = [
        "promise",
        "client",
        "what",
        "original_due",
        "last_due",
        "moves",
        "outcome",
        "days_late",
    ];

    /// The row under [`Self::CSV_HEADER`]: times in RFC 3339 (UTC), an
    /// empty `days_late` when it does not apply. Quoting is the writer's job.
    pub fn csv_fields(&self) -> [String; 8] {
        [
            self.promise.to_string(),
            self.client.clone(),
            self.what.clone(),
            self.original_due.to_rfc3339(),
            self.last_due.to_rfc3339(),
            self.moves.to_string(),
            self.outcome.as_str().to_string(),
            self.days_late.map(|d| d.to_string()).unwrap_or_default(),
        ]
    }
}
