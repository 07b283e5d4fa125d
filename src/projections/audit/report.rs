//! What the audit answers: SPEC's `audit --json` object and one row per
//! promise for the table and CSV.

use serde::Serialize;

use super::Outcome;
use crate::events::{PromiseId, Seq, Timestamp};
use crate::projections::ser;

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
    /// `blame_pattern`, `retracted`, then `recorded_out_of_order`; within a
    /// kind by seq.
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
    pub(super) fn add(&mut self, o: Outcome) {
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
    /// Moves to a due earlier than the one in force: pull-ins, not slips,
    /// so in none of `us`, `client`, `external` (nor in a blame pattern).
    pub earlier: u64,
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
    /// The finding in words for people, times in local time (the human
    /// audit, the HTML report). Not in the JSON: see `json_message`.
    #[serde(skip)]
    pub message: String,
    /// The same words with every time in RFC 3339 UTC, as the other JSON
    /// times: JSON's `message`, the same bytes whatever `TZ`.
    #[serde(rename = "message")]
    pub json_message: String,
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

    /// The row under [`Self::CSV_HEADER`]: dues as `due(instant,
    /// date_only)` writes them (the caller knows the zone: a projection
    /// does not), an empty `days_late` when it does not apply. Quoting is
    /// the writer's job.
    pub fn csv_fields(&self, due: impl Fn(Timestamp, bool) -> String) -> [String; 8] {
        [
            self.promise.to_string(),
            self.client.clone(),
            self.what.clone(),
            due(self.original_due, self.original_due_date_only),
            due(self.last_due, self.last_due_date_only),
            self.moves.to_string(),
            self.outcome.as_str().to_string(),
            self.days_late.map(|d| d.to_string()).unwrap_or_default(),
        ]
    }
}
