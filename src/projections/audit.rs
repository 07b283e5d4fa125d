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

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::table::{Arena, HandleMap, IdMap};
use super::{days_after, ser, words, Projection};
use crate::events::{Cause, Due, EnvelopeRef, EventRef, PromiseId, Seq, Timestamp, EVENT_KINDS};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum CloseKind {
    Kept,
    Broken,
    Released,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Close {
    kind: CloseKind,
    seq: Seq,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Tracked {
    id: PromiseId,
    /// Row of the client in `Audit::clients`.
    client: u32,
    /// Number of the text in `Audit::whats`.
    what: u32,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Skipped {
    /// Index into `EVENT_KINDS`.
    kind: u8,
    client: Option<String>,
    promise: Option<PromiseId>,
    occurred_at: Timestamp,
    summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Retraction {
    seq: Seq,
    by: Seq,
    reason: String,
}

/// The audit projection; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// Set by [`Audit::for_client`]: only that client's promises are kept.
    only: Option<String>,
    /// Every client added (the value is unused: rows name clients).
    clients: HandleMap<()>,
    #[serde(with = "blob")]
    promises: IdMap<Tracked>,
    /// What each promise is about.
    whats: Arena,
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

    /// The audit of one client only (for the post-mortem): the same answers
    /// as [`Audit::new`] for `AuditQuery::client(handle)`, without keeping
    /// every other client's promises.
    pub fn for_client(handle: &str) -> Self {
        Audit {
            only: Some(handle.to_string()),
            ..Self::default()
        }
    }

    /// The moves of a promise, oldest first (empty for an unknown promise).
    pub fn moves_of(&self, id: PromiseId) -> &[Move] {
        self.promises.get(&id).map_or(&[], |p| &p.moves)
    }

    /// Client and original due of a promise, whether or not its making was
    /// retracted.
    fn promise_facts(&self, id: PromiseId) -> Option<(&str, Timestamp)> {
        match self.promises.get(&id) {
            Some(p) => Some((self.client_of(p), p.original_due.at)),
            None => self
                .retracted_promises
                .get(&id)
                .map(|(c, d)| (c.as_str(), *d)),
        }
    }

    fn client_of(&self, p: &Tracked) -> &str {
        self.clients.key_at(p.client).unwrap_or("")
    }

    /// The audit for `q`, with open promises judged against `now`.
    pub fn report(&self, now: Timestamp, q: &AuditQuery) -> AuditReport {
        self.report_with(now, q, true)
    }

    /// [`Audit::report`] without its `rows` (empty): what `audit --json`
    /// prints, without a row per promise built and sorted for nothing.
    pub fn summary(&self, now: Timestamp, q: &AuditQuery) -> AuditReport {
        self.report_with(now, q, false)
    }

    fn report_with(&self, now: Timestamp, q: &AuditQuery, with_rows: bool) -> AuditReport {
        // `Some(None)`: a client asked for that has no row, so no promise.
        let row = q.client.as_ref().map(|c| self.clients.index_of(c));
        let in_scope: Vec<&Tracked> = self
            .promises
            .values()
            .filter(|p| row.is_none_or(|r| r == Some(p.client)))
            .filter(|p| q.in_period(p.original_due.at))
            .collect();

        let mut counts = OutcomeCounts::default();
        let mut moves = MoveCounts::default();
        let mut rows = Vec::with_capacity(if with_rows { in_scope.len() } else { 0 });
        let mut move_flags = Vec::new();
        let mut keep_flags = Vec::new();
        // client → (client-caused moves, all moves, seq of the last
        // client-caused move)
        let mut blame: FxHashMap<u32, (u64, u64, Seq)> = FxHashMap::default();

        for p in &in_scope {
            let outcome = p.outcome(now);
            counts.add(outcome);
            let (client, what) = (self.client_of(p), self.whats.get(p.what));
            for m in &p.moves {
                let b = blame.entry(p.client).or_insert((0, 0, 0));
                b.1 += 1;
                match m.cause {
                    Cause::Us => moves.us += 1,
                    Cause::Client => {
                        moves.client += 1;
                        b.0 += 1;
                        b.2 = b.2.max(m.seq);
                    }
                    Cause::External => moves.external += 1,
                }
                if m.after_due() {
                    moves.after_due += 1;
                    move_flags.push(move_after_due_flag(p, client, what, m));
                }
            }
            if let Some(f) = backdated_keep_flag(p, client, what) {
                keep_flags.push(f);
            }
            if !with_rows {
                continue;
            }
            rows.push(AuditRow {
                promise: p.id,
                client: client.to_string(),
                what: what.to_string(),
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

        // Within a kind, by the seq of the event concerned.
        move_flags.sort_by_key(|f| f.seq);
        keep_flags.sort_by_key(|f| f.seq);
        let mut flags = move_flags;
        flags.extend(keep_flags);
        let blame_start = flags.len();
        for (row, (by_client, all, seq)) in blame {
            let client = self.clients.key_at(row).unwrap_or("");
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
        flags[blame_start..].sort_by_key(|f| f.seq);
        let mut retraction_flags: Vec<Flag> = self.retraction_flags(q).collect();
        retraction_flags.sort_by_key(|f| f.seq);
        flags.extend(retraction_flags);

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
                    let kind = EVENT_KINDS.get(usize::from(s.kind)).copied().unwrap_or("?");
                    format!("event #{} ({kind}{whom}: {})", r.seq, s.summary)
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

fn move_after_due_flag(p: &Tracked, client: &str, what: &str, m: &Move) -> Flag {
    let backdated = if m.occurred_at <= m.from.at {
        format!(" (dated {}, before the due)", words::when(m.occurred_at))
    } else {
        String::new()
    };
    Flag {
        kind: FLAG_MOVE_AFTER_DUE,
        client: Some(client.to_string()),
        promise: Some(p.id),
        seq: Some(m.seq),
        retracted_by: None,
        reason: None,
        message: format!(
            "promise #{} ({}) for {}: move #{} to {} was recorded {}{backdated}, after the due \
             it moved ({}) had passed — a miss moved out of sight",
            p.id,
            what,
            client,
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
fn backdated_keep_flag(p: &Tracked, client: &str, what: &str) -> Option<Flag> {
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
        client: Some(client.to_string()),
        promise: Some(p.id),
        seq: Some(c.seq),
        retracted_by: None,
        reason: None,
        message: format!(
            "promise #{} ({}) for {}: kept on {} by its date, but recorded only on {}, after \
             its due {} had passed (backdated)",
            p.id,
            what,
            client,
            words::when(c.occurred_at),
            words::when(c.recorded_at),
            words::due(&due)
        ),
    })
}

impl Projection for Audit {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        match env.event {
            EventRef::ClientAdded { handle, .. } => {
                if !self.clients.contains_key(handle) {
                    self.clients.insert(handle, ());
                }
            }
            EventRef::PromiseMade {
                promise,
                client,
                what,
                due,
            } => {
                let Some(row) = self.clients.index_of(client) else {
                    return;
                };
                if self.only.as_ref().is_some_and(|o| o != client) {
                    // Not followed; but a repeated id still replaces the
                    // followed client's promise, as in a full audit.
                    self.promises.remove(&promise);
                    return;
                }
                // A repeated id replaces the promise, as in `State`.
                self.promises.insert(
                    promise,
                    Tracked {
                        id: promise,
                        client: row,
                        what: self.whats.push(what),
                        original_due: due,
                        due,
                        moves: Vec::new(),
                        close: None,
                    },
                );
            }
            EventRef::PromiseMoved {
                promise,
                due,
                cause,
                agreed_by_client,
                ..
            } => {
                if let Some(p) = self.promises.get_mut(&promise) {
                    if p.close.is_none() {
                        p.moves.push(Move {
                            seq: env.seq,
                            recorded_at: env.recorded_at,
                            occurred_at: env.occurred_at,
                            from: p.due,
                            to: due,
                            cause,
                            agreed: agreed_by_client,
                        });
                        p.due = due;
                    }
                }
            }
            EventRef::PromiseKept { promise, .. } => self.close(promise, CloseKind::Kept, env),
            EventRef::PromiseBroken { promise, .. } => self.close(promise, CloseKind::Broken, env),
            EventRef::PromiseReleased { promise, .. } => {
                self.close(promise, CloseKind::Released, env)
            }
            EventRef::Retracted { seq, reason } => self.retractions.push(Retraction {
                seq,
                by: env.seq,
                reason: reason.to_string(),
            }),
            EventRef::FitChanged { .. }
            | EventRef::ExpectationNoted { .. }
            | EventRef::MismatchNoted { .. }
            | EventRef::Interacted { .. }
            | EventRef::Advocated { .. }
            | EventRef::ClientLost { .. }
            | EventRef::ClientReturned { .. } => {}
        }
    }

    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        let promise = env.event.promise();
        if let EventRef::PromiseMade {
            promise,
            client,
            due,
            ..
        } = env.event
        {
            self.retracted_promises
                .insert(promise, (client.to_string(), due.at));
        }
        let client = env.event.client().map(str::to_string).or_else(|| {
            promise
                .and_then(|id| self.promise_facts(id))
                .map(|(c, _)| c.to_string())
        });
        self.skipped.insert(
            env.seq,
            Skipped {
                kind: env.event.kind_index() as u8,
                client,
                promise,
                occurred_at: env.occurred_at,
                summary: words::describe(&env.event),
            },
        );
    }
}

impl Audit {
    fn close(&mut self, id: PromiseId, kind: CloseKind, env: &EnvelopeRef<'_>) {
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

/// The promises of the audit in a checkpoint: one byte string of
/// fixed-size little-endian records instead of serde's field-by-field form,
/// because a warm `audit` decodes every promise ever made (about 10 times
/// faster). Layout: promise count (u64); per promise, in id order, `id` u64,
/// `client` u32, `what` u32, original due i64 + date-only u8, due i64 +
/// date-only u8, close kind u8 (0 open, 1 kept, 2 broken, 3 released), close
/// seq u64, occurred i64, recorded i64, move count u32; then every move, in
/// the same order: seq u64, recorded i64, occurred i64, from i64 + u8, to
/// i64 + u8, cause u8, agreed u8.
mod blob {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    use super::{Close, CloseKind, IdMap, Move, Tracked};
    use crate::events::{Cause, Due, Timestamp};

    const PROMISE: usize = 8 + 4 + 4 + 9 + 9 + 1 + 8 + 8 + 8 + 4;
    const MOVE: usize = 8 + 8 + 8 + 9 + 9 + 1 + 1;

    pub fn serialize<S: Serializer>(m: &IdMap<Tracked>, s: S) -> Result<S::Ok, S::Error> {
        let moves: usize = m.values().map(|p| p.moves.len()).sum();
        let mut b = Vec::with_capacity(8 + m.len() * PROMISE + moves * MOVE);
        b.extend_from_slice(&(m.len() as u64).to_le_bytes());
        let due = |b: &mut Vec<u8>, d: &Due| {
            b.extend_from_slice(&d.at.0.to_le_bytes());
            b.push(u8::from(d.date_only));
        };
        for (id, p) in m.iter() {
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&p.client.to_le_bytes());
            b.extend_from_slice(&p.what.to_le_bytes());
            due(&mut b, &p.original_due);
            due(&mut b, &p.due);
            let (kind, c) = match p.close {
                None => (0u8, (0, 0, 0)),
                Some(c) => (
                    match c.kind {
                        CloseKind::Kept => 1,
                        CloseKind::Broken => 2,
                        CloseKind::Released => 3,
                    },
                    (c.seq, c.occurred_at.0, c.recorded_at.0),
                ),
            };
            b.push(kind);
            b.extend_from_slice(&c.0.to_le_bytes());
            b.extend_from_slice(&c.1.to_le_bytes());
            b.extend_from_slice(&c.2.to_le_bytes());
            b.extend_from_slice(&(p.moves.len() as u32).to_le_bytes());
        }
        for p in m.values() {
            for mv in &p.moves {
                b.extend_from_slice(&mv.seq.to_le_bytes());
                b.extend_from_slice(&mv.recorded_at.0.to_le_bytes());
                b.extend_from_slice(&mv.occurred_at.0.to_le_bytes());
                due(&mut b, &mv.from);
                due(&mut b, &mv.to);
                b.push(match mv.cause {
                    Cause::Us => 0,
                    Cause::Client => 1,
                    Cause::External => 2,
                });
                b.push(u8::from(mv.agreed));
            }
        }
        s.serialize_bytes(&b)
    }

    /// Reads fixed-size fields; every read is bounds-checked.
    struct R<'a>(&'a [u8]);

    impl R<'_> {
        fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
            let (head, rest) = self.0.split_first_chunk::<N>()?;
            self.0 = rest;
            Some(*head)
        }
        fn u8(&mut self) -> Option<u8> {
            Some(self.take::<1>()?[0])
        }
        fn u32(&mut self) -> Option<u32> {
            Some(u32::from_le_bytes(self.take()?))
        }
        fn u64(&mut self) -> Option<u64> {
            Some(u64::from_le_bytes(self.take()?))
        }
        fn ts(&mut self) -> Option<Timestamp> {
            Some(Timestamp(i64::from_le_bytes(self.take()?)))
        }
        fn flag(&mut self) -> Option<bool> {
            match self.u8()? {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            }
        }
        fn due(&mut self) -> Option<Due> {
            Some(Due {
                at: self.ts()?,
                date_only: self.flag()?,
            })
        }
    }

    fn parse(b: &[u8]) -> Option<IdMap<Tracked>> {
        let mut r = R(b);
        let n = usize::try_from(r.u64()?).ok()?;
        // The records must be there before anything is allocated for them.
        if n.checked_mul(PROMISE)? > r.0.len() {
            return None;
        }
        let mut order = Vec::with_capacity(n);
        let mut m = IdMap::new();
        m.reserve(n);
        for _ in 0..n {
            let id = r.u64()?;
            let client = r.u32()?;
            let what = r.u32()?;
            let original_due = r.due()?;
            let due = r.due()?;
            let kind = r.u8()?;
            let (seq, occurred, recorded) = (r.u64()?, r.ts()?, r.ts()?);
            let close = match kind {
                0 => None,
                k => Some(Close {
                    kind: match k {
                        1 => CloseKind::Kept,
                        2 => CloseKind::Broken,
                        3 => CloseKind::Released,
                        _ => return None,
                    },
                    seq,
                    occurred_at: occurred,
                    recorded_at: recorded,
                }),
            };
            let moves = r.u32()? as usize;
            order.push((id, moves));
            m.insert(
                id,
                Tracked {
                    id,
                    client,
                    what,
                    original_due,
                    due,
                    moves: Vec::new(),
                    close,
                },
            );
        }
        for (id, count) in order {
            if count.checked_mul(MOVE)? > r.0.len() {
                return None;
            }
            let mut moves = Vec::with_capacity(count);
            for _ in 0..count {
                moves.push(Move {
                    seq: r.u64()?,
                    recorded_at: r.ts()?,
                    occurred_at: r.ts()?,
                    from: r.due()?,
                    to: r.due()?,
                    cause: match r.u8()? {
                        0 => Cause::Us,
                        1 => Cause::Client,
                        2 => Cause::External,
                        _ => return None,
                    },
                    agreed: r.flag()?,
                });
            }
            m.get_mut(&id)?.moves = moves;
        }
        r.0.is_empty().then_some(m)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<IdMap<Tracked>, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IdMap<Tracked>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the audit's promises as one byte string")
            }
            fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<Self::Value, E> {
                parse(b).ok_or_else(|| E::custom("audit promises: malformed records"))
            }
        }
        d.deserialize_bytes(V)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Due, Event, Fit};
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
                after_due: 1
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
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
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
        assert_eq!(m, ["after_due", "client", "external", "us"]);
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
            r.rows[0].csv_fields(),
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
            broken.rows[0].csv_fields()[7],
            "",
            "no days late for broken"
        );
    }
}
