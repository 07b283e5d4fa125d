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
//! - [`Audit::write_json`]: the same JSON bytes as serializing
//!   [`Audit::summary`], written as they are made (no string per flag).
//!
//! Rules, exactly as implemented:
//! - A promise is in the period when its ORIGINAL due instant is in
//!   `[from, to]`, both ends inclusive and optional. A date-only due was
//!   resolved when recorded to 23:59:59 local of its day; only instants are
//!   compared here.
//! - Kept: the keep's `occurred_at` (the delivery) `<=` original due and
//!   `<=` last due → `kept_on_time`; else `<=` last due →
//!   `kept_after_move`; else `kept_late`. A move to an earlier due (a
//!   pull-in) is counted in `moves.earlier`, by no cause.
//!   Open: last due `< now` → `open_overdue`; else `open`.
//! - `recorded_out_of_order`: a record whose `recorded_at` is earlier than
//!   the latest one of the records before it. Every record folded counts,
//!   whatever it is about and retracted or not (a retraction takes back
//!   what a record says, not when it was written); with `--as-of`, those
//!   recorded by then. It belongs to the client it names, of its promise,
//!   or of the event it retracts; one about no known client is only in an
//!   audit of every client. In a period: by its promise's original due,
//!   else by its `occurred_at`.
//! - Flag messages: local time for people, RFC 3339 UTC in JSON (see
//!   `flags`); no words are kept, only timestamps and events.
//! - Only the first close (keep, break, release) of a promise counts, and
//!   moves count only while it is open, as in [`super::state::State`].
//! - A move is `after_due` when its `recorded_at` is after the due in force
//!   before it (the due it moved) — recorded once the miss had happened.
//! - Events about promises or clients that do not exist (e.g. their
//!   `PromiseMade` or `ClientAdded` was retracted) are ignored.
//!
//! Memory: the audit keeps every promise ever made (a period may reach any
//! original due), so it keeps them small: one slot per promise in columns
//! of fixed-size integers (id, client row, original due, last due, when it
//! closed, a byte of bits), one small record per move (slot, seq, bits),
//! and details only for what a flag will print (moves recorded after their
//! due, backdated keeps). Whether a move was recorded after its due and
//! whether a keep was backdated never change once applied (a closed
//! promise takes no more moves), so they are decided then. The columns are
//! what a checkpoint stores ([`Audit::to_checkpoint`]), so loading one is a
//! read, not a rebuild. What each promise is about is kept for every
//! promise only when rows are wanted ([`Audit::new`]);
//! [`Audit::flag_texts_only`] keeps only the texts a flag may print (open
//! or flagged promises): 2M promises fit in about 90 MB.

use std::collections::BTreeMap;
use std::io::Write;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::table::{HandleMap, IdMap};
use super::{days_after, ClientKey, Projection};
use crate::events::{
    Cause, Due, EnvelopeRef, Event, EventRef, EventsError, PromiseId, Seq, Timestamp,
};

/// Stable `kind` strings of [`Flag`].
pub const FLAG_MOVE_AFTER_DUE: &str = "move_after_due";
pub const FLAG_BACKDATED_KEEP: &str = "backdated_keep";
pub const FLAG_BLAME_PATTERN: &str = "blame_pattern";
pub const FLAG_RETRACTED: &str = "retracted";
pub const FLAG_RECORDED_OUT_OF_ORDER: &str = "recorded_out_of_order";

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

/// How a promise was closed, for [`Outcome::judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Kept,
    Broken,
    Released,
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

    /// THE rule (SPEC's seven outcomes, issue 15.3), stated once: the audit
    /// fold and the views of one promise both call it. `closed` is how the
    /// promise was closed and when it happened (None while open).
    pub fn judge(
        original_due: Timestamp,
        last_due: Timestamp,
        closed: Option<(Closed, Timestamp)>,
        now: Timestamp,
    ) -> Outcome {
        match closed {
            // On time: by the original due and by the last agreed one (a
            // promise pulled in and then missed is not on time).
            Some((Closed::Kept, t)) if t <= original_due.min(last_due) => Outcome::KeptOnTime,
            Some((Closed::Kept, t)) if t <= last_due => Outcome::KeptAfterMove,
            Some((Closed::Kept, _)) => Outcome::KeptLate,
            Some((Closed::Broken, _)) => Outcome::Broken,
            Some((Closed::Released, _)) => Outcome::Released,
            None if last_due < now => Outcome::OpenOverdue,
            None => Outcome::Open,
        }
    }

    /// Whole days (rounded up) past the ORIGINAL due — or past the last due
    /// when it was pulled in before the original (issue 15.3: a promise
    /// kept late against the date it was pulled in to is late by that
    /// date, not "0 days late") — of the delivery for a kept promise, of
    /// `now` for an open one; `None` for broken/released.
    pub fn days_late(
        original_due: Timestamp,
        last_due: Timestamp,
        closed: Option<(Closed, Timestamp)>,
        now: Timestamp,
    ) -> Option<i64> {
        let reference = original_due.min(last_due);
        match closed {
            Some((Closed::Kept, t)) => Some(days_after(reference, t)),
            None => Some(days_after(reference, now)),
            Some(_) => None,
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

// Bits of a promise slot.
const P_ORIGINAL_DATE_ONLY: u8 = 1;
const P_DUE_DATE_ONLY: u8 = 2;
/// Two bits: 0 open, then [`KEPT`], [`BROKEN`], [`RELEASED`].
const P_CLOSE_SHIFT: u8 = 2;
const P_CLOSE: u8 = 0b1100;
/// Replaced by a later `PromiseMade` of the same id (or, for
/// [`Audit::for_client`], made again for another client).
const P_DEAD: u8 = 16;
/// Has a flag that prints its text (a move after due, a backdated keep).
const P_FLAGGED: u8 = 32;
const P_KNOWN: u8 = 63;

const OPEN: u8 = 0;
const KEPT: u8 = 1;
const BROKEN: u8 = 2;
const RELEASED: u8 = 3;

// Bits of a move.
/// Two bits: 0 us, 1 client, 2 external.
const M_CAUSE: u8 = 3;
const M_AFTER_DUE: u8 = 4;
/// To a due earlier than the one in force: a pull-in, not a slip (counted
/// in `moves.earlier`, not by cause).
const M_EARLIER: u8 = 8;
const M_KNOWN: u8 = 15;

/// A column of fixed-size little-endian integers, kept as its bytes: what
/// a checkpoint stores is what memory holds, so loading one is a read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Col<const N: usize>(Vec<u8>);

impl<const N: usize> Col<N> {
    fn raw(&self, i: usize) -> [u8; N] {
        self.0
            .get(i * N..i * N + N)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; N])
    }

    fn put(&mut self, i: usize, v: [u8; N]) {
        if let Some(b) = self.0.get_mut(i * N..i * N + N) {
            b.copy_from_slice(&v);
        }
    }
}

impl Col<8> {
    fn u64(&self, i: usize) -> u64 {
        u64::from_le_bytes(self.raw(i))
    }
    fn ts(&self, i: usize) -> Timestamp {
        Timestamp(i64::from_le_bytes(self.raw(i)))
    }
    fn push_u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn push_ts(&mut self, t: Timestamp) {
        self.0.extend_from_slice(&t.0.to_le_bytes());
    }
    fn set_ts(&mut self, i: usize, t: Timestamp) {
        self.put(i, t.0.to_le_bytes());
    }
}

impl Col<4> {
    fn u32(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.raw(i))
    }
    fn push_u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// One slot per promise made, in the order made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Slots {
    id: Col<8>,
    /// Row of the client in `Audit::clients`.
    client: Col<4>,
    original_due: Col<8>,
    /// The due in force (the last one).
    due: Col<8>,
    /// `occurred_at` of the close; 0 while open.
    closed_at: Col<8>,
    bits: Vec<u8>,
}

impl Slots {
    fn len(&self) -> usize {
        self.bits.len()
    }
    fn bits(&self, s: usize) -> u8 {
        self.bits.get(s).copied().unwrap_or(P_DEAD)
    }
    fn close(&self, s: usize) -> u8 {
        (self.bits(s) & P_CLOSE) >> P_CLOSE_SHIFT
    }
    fn original_due(&self, s: usize) -> Due {
        Due {
            at: self.original_due.ts(s),
            date_only: self.bits(s) & P_ORIGINAL_DATE_ONLY != 0,
        }
    }
    fn due(&self, s: usize) -> Due {
        Due {
            at: self.due.ts(s),
            date_only: self.bits(s) & P_DUE_DATE_ONLY != 0,
        }
    }
    fn set_bits(&mut self, s: usize, on: u8) {
        if let Some(b) = self.bits.get_mut(s) {
            *b |= on;
        }
    }

    /// How slot `s` was closed and when, for the one rule in [`Outcome`].
    fn closed(&self, s: usize) -> Option<(Closed, Timestamp)> {
        let how = match self.close(s) {
            KEPT => Closed::Kept,
            BROKEN => Closed::Broken,
            RELEASED => Closed::Released,
            _ => return None,
        };
        Some((how, self.closed_at.ts(s)))
    }

    fn outcome(&self, s: usize, now: Timestamp) -> Outcome {
        Outcome::judge(self.original_due.ts(s), self.due.ts(s), self.closed(s), now)
    }

    fn days_late(&self, s: usize, now: Timestamp) -> Option<i64> {
        Outcome::days_late(self.original_due.ts(s), self.due.ts(s), self.closed(s), now)
    }
}

/// One record per move applied, in the order applied (which is seq order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Moves {
    slot: Col<4>,
    seq: Col<8>,
    bits: Vec<u8>,
}

impl Moves {
    fn len(&self) -> usize {
        self.bits.len()
    }
}

/// What the flag of a move recorded after its due prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LateMove {
    /// Number of the move in `Audit::moves`.
    index: u32,
    recorded_at: Timestamp,
    occurred_at: Timestamp,
    /// The due in force before the move (the due it moved).
    from: Due,
    to: Due,
}

/// What the flag of a backdated keep prints (it occurred at the slot's
/// `closed_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Backdated {
    slot: u32,
    seq: Seq,
    recorded_at: Timestamp,
    /// The due that had passed when the keep was recorded.
    due: Due,
}

/// What we know of a retracted (skipped) event, so its retraction can say
/// what it took back and whom it concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Skipped {
    client: Option<String>,
    promise: Option<PromiseId>,
    occurred_at: Timestamp,
    /// The event itself, put into words when a flag is written (so no
    /// word, and no time in some zone, is stored in a checkpoint).
    event: Event,
}

/// A record whose `recorded_at` is earlier than that of a record before it
/// in the journal (imported, synced, or from an old journal written with a
/// clock set back): what its flag prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OutOfOrder {
    seq: Seq,
    /// Index into `EVENT_KINDS`.
    kind: u8,
    recorded_at: Timestamp,
    occurred_at: Timestamp,
    /// The latest `recorded_at` of the records before it, and the first
    /// record that had it.
    latest_seq: Seq,
    latest_at: Timestamp,
    /// The client it is about: the one it names, of its promise, or of the
    /// event it retracts; `None` when not known (then it is in no client's
    /// audit).
    client: Option<String>,
    promise: Option<PromiseId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Retraction {
    seq: Seq,
    by: Seq,
    reason: String,
}

/// What each promise is about, by slot: texts end to end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TextCol {
    text: String,
    /// `ends[s]`: where the text of slot `s` ends (it starts where `s - 1`
    /// ends).
    ends: Col<8>,
}

impl TextCol {
    fn get(&self, s: usize) -> &str {
        let end = self.ends.u64(s) as usize;
        let start = match s.checked_sub(1) {
            Some(p) => self.ends.u64(p) as usize,
            None => 0,
        };
        self.text.get(start..end).unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Texts {
    /// Every promise's text (for rows, and for a checkpoint).
    All(TextCol),
    /// Only those a flag may print: open or flagged promises.
    ForFlags(FxHashMap<u32, Box<str>>),
}

impl Texts {
    fn push(&mut self, s: usize, what: &str) {
        match self {
            Texts::All(t) => {
                t.text.push_str(what);
                t.ends.push_u64(t.text.len() as u64);
            }
            Texts::ForFlags(m) => {
                m.insert(s as u32, what.into());
            }
        }
    }
    fn get(&self, s: usize) -> &str {
        match self {
            Texts::All(t) => t.get(s),
            Texts::ForFlags(m) => m.get(&(s as u32)).map_or("", |t| t),
        }
    }
    /// The text of slot `s` will never be printed.
    fn forget(&mut self, s: usize) {
        if let Texts::ForFlags(m) = self {
            m.remove(&(s as u32));
        }
    }
}

/// The audit projection; see the module docs.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Set by [`Audit::for_client`]: only that client's promises are kept.
    only: Option<String>,
    /// Every client added (the value is unused: rows name clients).
    clients: HandleMap<()>,
    slots: Slots,
    /// Slot of each promise id; `None` while the ids of the slots strictly
    /// increase (promise ids are handed out in order), when a binary search
    /// finds them without an index.
    index: Option<IdMap<u32>>,
    texts: Texts,
    moves: Moves,
    late_moves: Vec<LateMove>,
    backdated: Vec<Backdated>,
    /// Client and original due of promises whose `PromiseMade` was
    /// retracted: a retraction of it is still in the period of that due.
    retracted_promises: BTreeMap<PromiseId, (String, Timestamp)>,
    skipped: BTreeMap<Seq, Skipped>,
    retractions: Vec<Retraction>,
    /// The latest `recorded_at` of every record folded so far (applied or
    /// skipped, whatever it is about) and the first record that had it.
    latest: Option<(Timestamp, Seq)>,
    out_of_order: Vec<OutOfOrder>,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            only: None,
            clients: HandleMap::new(),
            slots: Slots::default(),
            index: None,
            texts: Texts::All(TextCol::default()),
            moves: Moves::default(),
            late_moves: Vec::new(),
            backdated: Vec::new(),
            retracted_promises: BTreeMap::new(),
            skipped: BTreeMap::new(),
            retractions: Vec::new(),
            latest: None,
            out_of_order: Vec::new(),
        }
    }
}

/// Equal when they answer alike: the id index is a cache.
impl PartialEq for Audit {
    fn eq(&self, o: &Self) -> bool {
        self.only == o.only
            && self.clients == o.clients
            && self.slots == o.slots
            && self.texts == o.texts
            && self.moves == o.moves
            && self.late_moves == o.late_moves
            && self.backdated == o.backdated
            && self.retracted_promises == o.retracted_promises
            && self.skipped == o.skipped
            && self.retractions == o.retractions
            && self.latest == o.latest
            && self.out_of_order == o.out_of_order
    }
}

impl Eq for Audit {}

impl Audit {
    /// The audit with every promise's text (rows, checkpoints).
    pub fn new() -> Self {
        Self::default()
    }

    /// The audit keeping only the texts its flags may print: the same
    /// [`Audit::summary`] and JSON as [`Audit::new`], but rows without
    /// texts, and no checkpoint can be written of it.
    pub fn flag_texts_only() -> Self {
        Audit {
            texts: Texts::ForFlags(FxHashMap::default()),
            ..Self::default()
        }
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

    /// Whether it holds every promise's text (what rows and a checkpoint
    /// need).
    pub fn has_all_texts(&self) -> bool {
        matches!(self.texts, Texts::All(_))
    }

    /// The live slot of promise `id`.
    fn slot_of(&self, id: PromiseId) -> Option<usize> {
        let s = match &self.index {
            Some(m) => *m.get(&id)? as usize,
            None => {
                let (mut lo, mut hi) = (0, self.slots.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.slots.id.u64(mid) < id {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                if lo >= self.slots.len() || self.slots.id.u64(lo) != id {
                    return None;
                }
                lo
            }
        };
        (self.slots.bits(s) & P_DEAD == 0).then_some(s)
    }

    fn build_index(&mut self) {
        let mut m = IdMap::new();
        for s in 0..self.slots.len() {
            m.insert(self.slots.id.u64(s), s as u32);
        }
        self.index = Some(m);
    }

    fn kill(&mut self, s: usize) {
        self.slots.set_bits(s, P_DEAD);
        self.texts.forget(s);
    }

    fn push_slot(&mut self, id: PromiseId, client: u32, due: Due, what: &str) {
        // A repeated id replaces the promise, as in `State`.
        if let Some(old) = self.slot_of(id) {
            self.kill(old);
        }
        let s = self.slots.len();
        if self.index.is_none() && s > 0 && self.slots.id.u64(s - 1) >= id {
            self.build_index();
        }
        if let Some(m) = &mut self.index {
            m.insert(id, s as u32);
        }
        let date_only = if due.date_only {
            P_ORIGINAL_DATE_ONLY | P_DUE_DATE_ONLY
        } else {
            0
        };
        let sl = &mut self.slots;
        sl.id.push_u64(id);
        sl.client.push_u32(client);
        sl.original_due.push_ts(due.at);
        sl.due.push_ts(due.at);
        sl.closed_at.push_ts(Timestamp(0));
        sl.bits.push(date_only);
        self.texts.push(s, what);
    }

    /// Client and original due of a promise, whether or not its making was
    /// retracted.
    fn promise_facts(&self, id: PromiseId) -> Option<(&str, Timestamp)> {
        match self.slot_of(id) {
            Some(s) => Some((self.client_of(s), self.slots.original_due.ts(s))),
            None => self
                .retracted_promises
                .get(&id)
                .map(|(c, d)| (c.as_str(), *d)),
        }
    }

    fn client_of(&self, s: usize) -> &str {
        self.clients.key_at(self.slots.client.u32(s)).unwrap_or("")
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

    /// Writes `audit --json` for `q` (with `"client"` first when `q` names
    /// one), byte for byte what serializing [`Audit::summary`] gives (a
    /// test holds it to that), but each flag written straight out: no
    /// string per message, no escaping pass over text that needs none.
    pub fn write_json<W: Write>(
        &self,
        now: Timestamp,
        q: &AuditQuery,
        mut w: W,
    ) -> std::io::Result<()> {
        let f = self.findings(now, q, false);
        #[derive(Serialize)]
        struct Head<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            client: Option<&'a str>,
            period: Period,
            promises: OutcomeCounts,
            original_date_hit_rate: Option<f64>,
            moves: MoveCounts,
        }
        let mut b = Vec::with_capacity(1 << 16);
        serde_json::to_writer(
            &mut b,
            &Head {
                client: q.client.as_deref(),
                period: f.period,
                promises: f.counts,
                original_date_hit_rate: f.hit_rate(),
                moves: f.moves,
            },
        )?;
        // `{…}` → `{…,"flags":[`
        b.pop();
        b.extend_from_slice(b",\"flags\":[");
        for (i, flag) in f.flags.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            flag.write_json(&mut b)?;
            if b.len() >= 1 << 15 {
                w.write_all(&b)?;
                b.clear();
            }
        }
        b.extend_from_slice(b"]}");
        w.write_all(&b)
    }

    fn report_with(&self, now: Timestamp, q: &AuditQuery, with_rows: bool) -> AuditReport {
        let f = self.findings(now, q, with_rows);
        AuditReport {
            period: f.period,
            original_date_hit_rate: f.hit_rate(),
            promises: f.counts,
            moves: f.moves,
            flags: f.flags.iter().map(FlagOut::to_flag).collect(),
            client: q.client.clone(),
            rows: f.rows,
        }
    }

    fn findings<'a>(&'a self, now: Timestamp, q: &'a AuditQuery, with_rows: bool) -> Findings<'a> {
        // `Some(None)`: a client asked for that has no row, so no promise.
        let row = q.client.as_ref().map(|c| self.clients.index_of(c));
        let sl = &self.slots;
        let in_scope = |s: usize| {
            sl.bits(s) & P_DEAD == 0
                && row.is_none_or(|r| r == Some(sl.client.u32(s)))
                && q.in_period(sl.original_due.ts(s))
        };

        let mut counts = OutcomeCounts::default();
        let mut scoped = Vec::new();
        for s in 0..sl.len() {
            if in_scope(s) {
                counts.add(sl.outcome(s, now));
                if with_rows {
                    scoped.push(s);
                }
            }
        }

        let mut moves = MoveCounts::default();
        let mut flags = Vec::new();
        // client → (client-caused moves, all moves, seq of the last
        // client-caused move)
        let mut blame: FxHashMap<u32, (u64, u64, Seq)> = FxHashMap::default();
        let mut late = self.late_moves.iter().peekable();
        let mut move_counts = vec![0u32; if with_rows { sl.len() } else { 0 }];
        for i in 0..self.moves.len() {
            let s = self.moves.slot.u32(i) as usize;
            if !in_scope(s) {
                continue;
            }
            if let Some(n) = move_counts.get_mut(s) {
                *n += 1;
            }
            let bits = self.moves.bits[i];
            let seq = self.moves.seq.u64(i);
            if bits & M_EARLIER != 0 {
                // A pull-in: not a slip, so neither by cause nor in a
                // blame pattern (still flagged if recorded after its due).
                moves.earlier += 1;
            } else {
                let b = blame.entry(sl.client.u32(s)).or_insert((0, 0, 0));
                b.1 += 1;
                match bits & M_CAUSE {
                    0 => moves.us += 1,
                    1 => {
                        moves.client += 1;
                        b.0 += 1;
                        b.2 = b.2.max(seq);
                    }
                    _ => moves.external += 1,
                }
            }
            if bits & M_AFTER_DUE != 0 {
                moves.after_due += 1;
                while late.next_if(|m| (m.index as usize) < i).is_some() {}
                if let Some(m) = late.next_if(|m| m.index as usize == i) {
                    flags.push(FlagOut {
                        kind: FLAG_MOVE_AFTER_DUE,
                        client: Some(self.client_of(s)),
                        promise: Some(sl.id.u64(s)),
                        seq: Some(seq),
                        retracted_by: None,
                        reason: None,
                        message: Message::MoveAfterDue {
                            id: sl.id.u64(s),
                            what: self.texts.get(s),
                            client: self.client_of(s),
                            seq,
                            m,
                        },
                    });
                }
            }
        }
        // Within a kind, by the seq of the event concerned (moves are kept
        // in seq order already; sorting keeps it so whatever the journal).
        flags.sort_by_key(|f| f.seq);

        let keeps_start = flags.len();
        for b in &self.backdated {
            let s = b.slot as usize;
            if !in_scope(s) {
                continue;
            }
            let client = self.client_of(s);
            flags.push(FlagOut {
                kind: FLAG_BACKDATED_KEEP,
                client: Some(client),
                promise: Some(sl.id.u64(s)),
                seq: Some(b.seq),
                retracted_by: None,
                reason: None,
                message: Message::Backdated {
                    id: sl.id.u64(s),
                    what: self.texts.get(s),
                    client,
                    occurred_at: sl.closed_at.ts(s),
                    b,
                },
            });
        }
        flags[keeps_start..].sort_by_key(|f| f.seq);

        let blame_start = flags.len();
        for (row, (by_client, all, seq)) in blame {
            let client = self.clients.key_at(row).unwrap_or("");
            if by_client >= BLAME_MIN_CLIENT_MOVES && by_client * 2 > all {
                flags.push(FlagOut {
                    kind: FLAG_BLAME_PATTERN,
                    client: Some(client),
                    promise: None,
                    seq: Some(seq),
                    retracted_by: None,
                    reason: None,
                    message: Message::Blame {
                        client,
                        by_client,
                        all,
                    },
                });
            }
        }
        flags[blame_start..].sort_by_key(|f| f.seq);
        let retractions_start = flags.len();
        flags.extend(self.retraction_flags(q));
        flags[retractions_start..].sort_by_key(|f| f.seq);
        // Folded in seq order, so already sorted.
        flags.extend(self.out_of_order_flags(q));

        let mut rows = Vec::with_capacity(scoped.len());
        for s in scoped {
            let (original, due) = (sl.original_due(s), sl.due(s));
            rows.push(AuditRow {
                promise: sl.id.u64(s),
                client: self.client_of(s).to_string(),
                what: self.texts.get(s).to_string(),
                original_due: original.at,
                original_due_date_only: original.date_only,
                last_due: due.at,
                last_due_date_only: due.date_only,
                moves: move_counts.get(s).copied().unwrap_or(0),
                outcome: sl.outcome(s, now),
                days_late: sl.days_late(s, now),
                closed_at: (sl.close(s) != OPEN).then(|| sl.closed_at.ts(s)),
            });
        }
        rows.sort_by_key(|r| (r.original_due, r.promise));

        Findings {
            period: Period {
                from: q.from,
                to: q.to,
            },
            counts,
            moves,
            flags,
            rows,
        }
    }

    /// A record out of order is in the audit of the client it is about
    /// (none: only in an audit without `--client`), and in a period by the
    /// original due of its promise, else by when it happened — as a
    /// retraction is.
    fn out_of_order_flags<'a>(
        &'a self,
        q: &'a AuditQuery,
    ) -> impl Iterator<Item = FlagOut<'a>> + 'a {
        self.out_of_order.iter().filter_map(move |o| {
            let client = o.client.as_deref();
            if q.client.is_some() && q.client.as_deref() != client {
                return None;
            }
            let instant = o
                .promise
                .and_then(|id| self.promise_facts(id))
                .map_or(o.occurred_at, |(_, d)| d);
            if !q.in_period(instant) {
                return None;
            }
            Some(FlagOut {
                kind: FLAG_RECORDED_OUT_OF_ORDER,
                client,
                promise: o.promise,
                seq: Some(o.seq),
                retracted_by: None,
                reason: None,
                message: Message::OutOfOrder { o },
            })
        })
    }

    fn retraction_flags<'a>(&'a self, q: &'a AuditQuery) -> impl Iterator<Item = FlagOut<'a>> + 'a {
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
            Some(FlagOut {
                kind: FLAG_RETRACTED,
                client,
                promise: what.and_then(|s| s.promise),
                seq: Some(r.seq),
                retracted_by: Some(r.by),
                reason: Some(&r.reason),
                message: Message::Retracted { r, what },
            })
        })
    }
}

/// What a report is made of, before it is owned or written.
struct Findings<'a> {
    period: Period,
    counts: OutcomeCounts,
    moves: MoveCounts,
    flags: Vec<FlagOut<'a>>,
    rows: Vec<AuditRow>,
}

impl Findings<'_> {
    /// kept_on_time / (total − released − open); see `AuditReport`.
    fn hit_rate(&self) -> Option<f64> {
        let c = &self.counts;
        let denominator = c.total - c.released - c.open;
        (denominator > 0).then(|| c.kept_on_time as f64 / denominator as f64)
    }
}

impl Projection for Audit {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.apply_keyed(env, None)
    }

    /// The client is found by its interned key (a vector read) instead of
    /// hashing and comparing its handle.
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        self.note_order(env);
        match env.event {
            EventRef::ClientAdded { handle, .. } => {
                if self.clients.index_of_keyed(handle, key).is_none() {
                    self.clients.insert_keyed(handle, key, ());
                }
            }
            EventRef::PromiseMade {
                promise,
                client,
                what,
                due,
            } => {
                let Some(row) = self.clients.index_of_keyed(client, key) else {
                    return;
                };
                if self.only.as_ref().is_some_and(|o| o != client) {
                    // Not followed; but a repeated id still replaces the
                    // followed client's promise, as in a full audit.
                    if let Some(s) = self.slot_of(promise) {
                        self.kill(s);
                    }
                    return;
                }
                self.push_slot(promise, row, due, what);
            }
            EventRef::PromiseMoved {
                promise,
                due,
                cause,
                ..
            } => {
                let Some(s) = self.slot_of(promise) else {
                    return;
                };
                if self.slots.close(s) != OPEN {
                    return;
                }
                let from = self.slots.due(s);
                let after_due = env.recorded_at > from.at;
                let index = self.moves.len() as u32;
                let cause_bits = match cause {
                    Cause::Us => 0,
                    Cause::Client => 1,
                    Cause::External => 2,
                };
                self.moves.slot.push_u32(s as u32);
                self.moves.seq.push_u64(env.seq);
                let earlier = if due.at < from.at { M_EARLIER } else { 0 };
                self.moves
                    .bits
                    .push(cause_bits | earlier | if after_due { M_AFTER_DUE } else { 0 });
                if after_due {
                    self.late_moves.push(LateMove {
                        index,
                        recorded_at: env.recorded_at,
                        occurred_at: env.occurred_at,
                        from,
                        to: due,
                    });
                    self.slots.set_bits(s, P_FLAGGED);
                }
                self.slots.due.set_ts(s, due.at);
                if let Some(b) = self.slots.bits.get_mut(s) {
                    *b = (*b & !P_DUE_DATE_ONLY) | if due.date_only { P_DUE_DATE_ONLY } else { 0 };
                }
            }
            EventRef::PromiseKept { promise, .. } => self.close(promise, KEPT, env),
            EventRef::PromiseBroken { promise, .. } => self.close(promise, BROKEN, env),
            EventRef::PromiseReleased { promise, .. } => self.close(promise, RELEASED, env),
            EventRef::Retracted { seq, reason } => self.retractions.push(Retraction {
                seq,
                by: env.seq,
                reason: reason.to_string(),
            }),
            EventRef::ClientRenamed { .. }
            | EventRef::Amended { .. }
            | EventRef::PromiseDelivered { .. }
            | EventRef::CadenceSet { .. } => {}
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
        // A retraction takes back what an event says, not when it was
        // written down: a retracted record still sets the order and is
        // still flagged when out of it.
        self.note_order(env);
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
                client,
                promise,
                occurred_at: env.occurred_at,
                event: env.event.to_owned(),
            },
        );
    }
}

impl Audit {
    /// Keeps the latest `recorded_at` seen, and notes a record written
    /// down before it (SPEC: flagged `recorded_out_of_order`). Every record
    /// counts, whatever it is about, so the order is the journal's, not a
    /// client's; only the flag belongs to a client.
    fn note_order(&mut self, env: &EnvelopeRef<'_>) {
        let (latest_at, latest_seq) = match self.latest {
            Some((at, seq)) if env.recorded_at < at => (at, seq),
            Some((at, _)) if env.recorded_at == at => return,
            _ => {
                self.latest = Some((env.recorded_at, env.seq));
                return;
            }
        };
        let client = match env.event {
            EventRef::Retracted { seq, .. } => {
                self.skipped.get(&seq).and_then(|s| s.client.clone())
            }
            e => e.client().map(str::to_string).or_else(|| {
                e.promise()
                    .and_then(|id| self.promise_facts(id))
                    .map(|(c, _)| c.to_string())
            }),
        };
        if self.only.is_some() && client != self.only {
            return;
        }
        self.out_of_order.push(OutOfOrder {
            seq: env.seq,
            kind: env.event.kind_index() as u8,
            recorded_at: env.recorded_at,
            occurred_at: env.occurred_at,
            latest_seq,
            latest_at,
            client,
            promise: env.event.promise(),
        });
    }

    fn close(&mut self, id: PromiseId, kind: u8, env: &EnvelopeRef<'_>) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        if self.slots.close(s) != OPEN {
            return;
        }
        self.slots.set_bits(s, kind << P_CLOSE_SHIFT);
        self.slots.closed_at.set_ts(s, env.occurred_at);
        if kind == KEPT {
            // Backdated: on time against a due (the last, else the
            // original) that had already passed when it was recorded — the
            // date it carries gives it a better outcome than the date it
            // was written. No move comes after a close, so this is final.
            let hides = |d: &Due| env.occurred_at <= d.at && d.at < env.recorded_at;
            let (due, original) = (self.slots.due(s), self.slots.original_due(s));
            let hidden = if hides(&due) {
                Some(due)
            } else if hides(&original) {
                Some(original)
            } else {
                None
            };
            if let Some(due) = hidden {
                self.backdated.push(Backdated {
                    slot: s as u32,
                    seq: env.seq,
                    recorded_at: env.recorded_at,
                    due,
                });
                self.slots.set_bits(s, P_FLAGGED);
            }
        }
        if self.slots.bits(s) & P_FLAGGED == 0 {
            self.texts.forget(s);
        }
    }
}

mod checkpoint;
mod flags;
use flags::{FlagOut, Message};
mod report;
#[cfg(test)]
mod tests;

pub use checkpoint::SectionReader;
pub use report::{AuditReport, AuditRow, Flag, MoveCounts, OutcomeCounts, Period};
