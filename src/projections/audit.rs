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
//! - Kept: the keep's `occurred_at` (the delivery) `<=` original due →
//!   `kept_on_time`; else `<=` last due → `kept_after_move`; else `kept_late`.
//!   Open: last due `< now` → `open_overdue`; else `open`.
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
use std::fmt;
use std::io::Write;

use chrono::{Datelike, Timelike};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::table::{HandleMap, IdMap};
use super::{days_after, ser, words, ClientKey, Projection};
use crate::events::{
    codec, Cause, Due, EnvelopeRef, EventRef, EventsError, PromiseId, Seq, Timestamp, EVENT_KINDS,
};

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
const M_KNOWN: u8 = 7;

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

    fn outcome(&self, s: usize, now: Timestamp) -> Outcome {
        let closed = self.closed_at.ts(s);
        match self.close(s) {
            KEPT if closed <= self.original_due.ts(s) => Outcome::KeptOnTime,
            KEPT if closed <= self.due.ts(s) => Outcome::KeptAfterMove,
            KEPT => Outcome::KeptLate,
            BROKEN => Outcome::Broken,
            RELEASED => Outcome::Released,
            _ if self.due.ts(s) < now => Outcome::OpenOverdue,
            _ => Outcome::Open,
        }
    }

    /// Whole days (rounded up) past the ORIGINAL due: of the delivery for a
    /// kept promise, of `now` for an open one; `None` for broken/released.
    fn days_late(&self, s: usize, now: Timestamp) -> Option<i64> {
        let original = self.original_due.ts(s);
        match self.close(s) {
            KEPT => Some(days_after(original, self.closed_at.ts(s))),
            OPEN => Some(days_after(original, now)),
            _ => None,
        }
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

/// A [`Flag`] borrowing from the audit, its message made as it is written.
struct FlagOut<'a> {
    kind: &'static str,
    client: Option<&'a str>,
    promise: Option<PromiseId>,
    seq: Option<Seq>,
    retracted_by: Option<Seq>,
    reason: Option<&'a str>,
    message: Message<'a>,
}

impl FlagOut<'_> {
    /// What serde_json writes for this flag's [`Flag`].
    fn write_json(&self, b: &mut Vec<u8>) -> std::io::Result<()> {
        let opt = |b: &mut Vec<u8>, v: Option<u64>| match v {
            Some(n) => write!(b, "{n}"),
            None => b.write_all(b"null"),
        };
        b.extend_from_slice(b"{\"kind\":");
        serde_json::to_writer(&mut *b, self.kind)?;
        b.extend_from_slice(b",\"client\":");
        serde_json::to_writer(&mut *b, &self.client)?;
        b.extend_from_slice(b",\"promise\":");
        opt(b, self.promise)?;
        b.extend_from_slice(b",\"seq\":");
        opt(b, self.seq)?;
        b.extend_from_slice(b",\"retracted_by\":");
        opt(b, self.retracted_by)?;
        b.extend_from_slice(b",\"reason\":");
        serde_json::to_writer(&mut *b, &self.reason)?;
        b.extend_from_slice(b",\"message\":\"");
        fmt::write(&mut JsonText(b), format_args!("{}", self.message))
            .map_err(|_| std::io::Error::other("formatting a flag"))?;
        b.extend_from_slice(b"\"}");
        Ok(())
    }

    fn to_flag(&self) -> Flag {
        Flag {
            kind: self.kind,
            client: self.client.map(str::to_string),
            promise: self.promise,
            seq: self.seq,
            retracted_by: self.retracted_by,
            reason: self.reason.map(str::to_string),
            message: self.message.to_string(),
        }
    }
}

/// The inside of a JSON string, escaped as serde_json escapes: text that
/// needs no escape (nearly all) is copied as is.
struct JsonText<'a>(&'a mut Vec<u8>);

impl fmt::Write for JsonText<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
            self.0.extend_from_slice(s.as_bytes());
            return Ok(());
        }
        let start = self.0.len();
        serde_json::to_writer(&mut *self.0, s).map_err(|_| fmt::Error)?;
        // Without the quotes serde_json put around it.
        self.0.pop();
        self.0.remove(start);
        Ok(())
    }
}

/// The words of a flag.
enum Message<'a> {
    MoveAfterDue {
        id: PromiseId,
        what: &'a str,
        client: &'a str,
        seq: Seq,
        m: &'a LateMove,
    },
    Backdated {
        id: PromiseId,
        what: &'a str,
        client: &'a str,
        occurred_at: Timestamp,
        b: &'a Backdated,
    },
    Blame {
        client: &'a str,
        by_client: u64,
        all: u64,
    },
    Retracted {
        r: &'a Retraction,
        what: Option<&'a Skipped>,
    },
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::MoveAfterDue {
                id,
                what,
                client,
                seq,
                m,
            } => {
                write!(
                    f,
                    "promise #{id} ({what}) for {client}: move #{seq} to {} was recorded {}",
                    DueText(m.to),
                    LocalTime(m.recorded_at)
                )?;
                if m.occurred_at <= m.from.at {
                    write!(f, " (dated {}, before the due)", LocalTime(m.occurred_at))?;
                }
                write!(
                    f,
                    ", after the due it moved ({}) had passed — a miss moved out of sight",
                    DueText(m.from)
                )
            }
            Message::Backdated {
                id,
                what,
                client,
                occurred_at,
                b,
            } => write!(
                f,
                "promise #{id} ({what}) for {client}: kept on {} by its date, but recorded only \
                 on {}, after its due {} had passed (backdated)",
                LocalTime(*occurred_at),
                LocalTime(b.recorded_at),
                DueText(b.due)
            ),
            Message::Blame {
                client,
                by_client,
                all,
            } => write!(
                f,
                "{client}: {by_client} of {all} moves attributed to the client. A slip blamed \
                 on the client is still a slip, and blaming the client is a known failure mode \
                 of the one who promised"
            ),
            Message::Retracted { r, what } => {
                match what {
                    Some(s) => {
                        let kind = EVENT_KINDS.get(usize::from(s.kind)).copied().unwrap_or("?");
                        write!(f, "event #{} ({kind}", r.seq)?;
                        if let Some(c) = &s.client {
                            write!(f, ", {c}")?;
                        }
                        write!(f, ": {})", s.summary)?;
                    }
                    None => write!(f, "event #{} (not in the journal)", r.seq)?,
                }
                let reason = if r.reason.trim().is_empty() {
                    "no reason given"
                } else {
                    &r.reason
                };
                write!(f, " retracted by #{}: {reason}", r.by)
            }
        }
    }
}

/// [`words::when`] written straight into the output (it is called three
/// times per flag; chrono's `format` parses its pattern every time).
struct LocalTime(Timestamp);

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        local(f, self.0, true)
    }
}

/// [`words::due`], likewise.
struct DueText(Due);

impl fmt::Display for DueText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        local(f, self.0.at, !self.0.date_only)
    }
}

/// `%Y-%m-%d %H:%M` (or `%Y-%m-%d`) in local time, as
/// `Timestamp::to_local_string`; chrono's own formatting for years it
/// would write with a sign.
fn local(f: &mut fmt::Formatter<'_>, t: Timestamp, with_time: bool) -> fmt::Result {
    let Some(d) = t.to_local() else {
        return f.write_str(&words::when(t));
    };
    if !(0..=9999).contains(&d.year()) {
        let pattern = if with_time {
            "%Y-%m-%d %H:%M"
        } else {
            "%Y-%m-%d"
        };
        return write!(f, "{}", d.format(pattern));
    }
    let mut b = *b"0000-00-00 00:00";
    let digits = |b: &mut [u8], mut v: u32| {
        for c in b.iter_mut().rev() {
            *c = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    digits(&mut b[0..4], d.year() as u32);
    digits(&mut b[5..7], d.month());
    digits(&mut b[8..10], d.day());
    digits(&mut b[11..13], d.hour());
    digits(&mut b[14..16], d.minute());
    let n = if with_time { 16 } else { 10 };
    // Only ASCII digits and separators were written.
    f.write_str(std::str::from_utf8(&b[..n]).unwrap_or(""))
}

impl Projection for Audit {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.apply_keyed(env, None)
    }

    /// The client is found by its interned key (a vector read) instead of
    /// hashing and comparing its handle.
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
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
                self.moves
                    .bits
                    .push(cause_bits | if after_due { M_AFTER_DUE } else { 0 });
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

/// Reads a checkpoint's audit section in order (the caller checks its CRC
/// over every byte read, and that all were read).
pub trait SectionReader {
    /// Fills `buf` with the next bytes; `None` past the end or on error.
    fn read_exact(&mut self, buf: &mut [u8]) -> Option<()>;
    /// Bytes not read yet.
    fn remaining(&self) -> u64;
    /// Every byte was read and they are the bytes written (the section's
    /// CRC): asked before the serde part is decoded, since a damaged
    /// length there could ask for any amount of memory.
    fn intact(&mut self) -> bool;
}

/// The small parts of the audit, in the checkpoint's serde form.
#[derive(Serialize)]
struct MetaRef<'a> {
    only: &'a Option<String>,
    clients: &'a HandleMap<()>,
    late_moves: &'a [LateMove],
    backdated: &'a [Backdated],
    retracted_promises: &'a BTreeMap<PromiseId, (String, Timestamp)>,
    skipped: &'a BTreeMap<Seq, Skipped>,
    retractions: &'a [Retraction],
}

#[derive(Deserialize)]
struct Meta {
    only: Option<String>,
    clients: HandleMap<()>,
    late_moves: Vec<LateMove>,
    backdated: Vec<Backdated>,
    retracted_promises: BTreeMap<PromiseId, (String, Timestamp)>,
    skipped: BTreeMap<Seq, Skipped>,
    retractions: Vec<Retraction>,
}

/// Bytes of text skipped per read when only some texts are kept.
const SKIP_CHUNK: usize = 64 * 1024;

impl Audit {
    /// The audit's checkpoint section (layout in `docs/format.md`,
    /// "Derived files"): four u64 counts (slots N, moves M, text bytes T,
    /// meta bytes L), the slot columns (id N×u64, client N×u32, original due
    /// N×i64, due N×i64, closed at N×i64, bits N×u8), the move columns (slot
    /// M×u32, seq M×u64, bits M×u8), the text ends (N×u64), the texts (T
    /// bytes of UTF-8), then the rest in serde form (L bytes). An audit
    /// without every text cannot be written.
    pub fn to_checkpoint(&self) -> Result<Vec<u8>, EventsError> {
        let mut b = Vec::new();
        self.write_checkpoint(&mut b)?;
        Ok(b)
    }

    /// Writes what [`Audit::to_checkpoint`] returns straight into `w`,
    /// part by part (at 10M events the section is hundreds of MB: never
    /// all of it in memory again).
    pub fn write_checkpoint(&self, w: &mut dyn std::io::Write) -> Result<(), EventsError> {
        let Texts::All(texts) = &self.texts else {
            return Err(EventsError::Encode(
                "the audit holds only the texts of its flags".into(),
            ));
        };
        let meta = codec::encode_checkpoint(&MetaRef {
            only: &self.only,
            clients: &self.clients,
            late_moves: &self.late_moves,
            backdated: &self.backdated,
            retracted_promises: &self.retracted_promises,
            skipped: &self.skipped,
            retractions: &self.retractions,
        })?;
        let (sl, mv) = (&self.slots, &self.moves);
        let mut put = |b: &[u8]| {
            w.write_all(b)
                .map_err(|e| EventsError::Encode(e.to_string()))
        };
        for n in [sl.len(), mv.len(), texts.text.len(), meta.len()] {
            put(&(n as u64).to_le_bytes())?;
        }
        let parts: [&[u8]; 12] = [
            &sl.id.0,
            &sl.client.0,
            &sl.original_due.0,
            &sl.due.0,
            &sl.closed_at.0,
            &sl.bits,
            &mv.slot.0,
            &mv.seq.0,
            &mv.bits,
            &texts.ends.0,
            texts.text.as_bytes(),
            &meta,
        ];
        for p in parts {
            put(p)?;
        }
        Ok(())
    }

    /// Reads what [`Audit::to_checkpoint`] wrote; `None` when it does not
    /// hold together. With `all_texts` false, keeps only the texts a flag
    /// may print (see [`Audit::flag_texts_only`]), reading past the rest.
    pub fn from_checkpoint(r: &mut dyn SectionReader, all_texts: bool) -> Option<Audit> {
        let mut count = || -> Option<usize> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            usize::try_from(u64::from_le_bytes(b)).ok()
        };
        let (n, m, t, l) = (count()?, count()?, count()?, count()?);
        // Every part must be there before anything is allocated for it.
        let col = |r: &mut dyn SectionReader, len: usize, size: usize| -> Option<Vec<u8>> {
            let bytes = len.checked_mul(size)?;
            if bytes as u64 > r.remaining() {
                return None;
            }
            let mut v = vec![0u8; bytes];
            r.read_exact(&mut v)?;
            Some(v)
        };
        let slots = Slots {
            id: Col(col(r, n, 8)?),
            client: Col(col(r, n, 4)?),
            original_due: Col(col(r, n, 8)?),
            due: Col(col(r, n, 8)?),
            closed_at: Col(col(r, n, 8)?),
            bits: col(r, n, 1)?,
        };
        let moves = Moves {
            slot: Col(col(r, m, 4)?),
            seq: Col(col(r, m, 8)?),
            bits: col(r, m, 1)?,
        };
        if slots.bits.iter().any(|b| b & !P_KNOWN != 0)
            || moves
                .bits
                .iter()
                .any(|b| b & !M_KNOWN != 0 || b & M_CAUSE == 3)
            || (0..m).any(|i| moves.slot.u32(i) as usize >= n)
        {
            return None;
        }
        let texts = if all_texts {
            let ends = Col(col(r, n, 8)?);
            let text = String::from_utf8(col(r, t, 1)?).ok()?;
            let mut prev = 0u64;
            for s in 0..n {
                let e = ends.u64(s);
                if e < prev || e > t as u64 || !text.is_char_boundary(e as usize) {
                    return None;
                }
                prev = e;
            }
            Texts::All(TextCol { text, ends })
        } else {
            // Open and flagged promises: a flag may print their text.
            let wanted = |s: usize| {
                slots.bits(s) & P_DEAD == 0
                    && (slots.close(s) == OPEN || slots.bits(s) & P_FLAGGED != 0)
            };
            let mut ranges = Vec::new();
            let mut prev = 0u64;
            let mut chunk = vec![0u8; SKIP_CHUNK];
            let mut s = 0;
            while s < n {
                let k = (n - s).min(SKIP_CHUNK / 8);
                r.read_exact(&mut chunk[..k * 8])?;
                for (j, e) in chunk[..k * 8].chunks_exact(8).enumerate() {
                    let e = u64::from_le_bytes(e.try_into().ok()?);
                    if e < prev || e > t as u64 {
                        return None;
                    }
                    if wanted(s + j) {
                        ranges.push((s + j, prev, e));
                    }
                    prev = e;
                }
                s += k;
            }
            let mut kept = FxHashMap::default();
            let mut at = 0u64;
            let mut skip = |r: &mut dyn SectionReader, mut n: u64| -> Option<()> {
                while n > 0 {
                    let k = n.min(SKIP_CHUNK as u64) as usize;
                    r.read_exact(&mut chunk[..k])?;
                    n -= k as u64;
                }
                Some(())
            };
            for (s, start, end) in ranges {
                skip(r, start - at)?;
                let text = String::from_utf8(col(r, (end - start) as usize, 1)?).ok()?;
                kept.insert(s as u32, text.into_boxed_str());
                at = end;
            }
            skip(r, t as u64 - at)?;
            Texts::ForFlags(kept)
        };
        let meta = col(r, l, 1)?;
        if !r.intact() {
            return None;
        }
        let meta: Meta = codec::decode_checkpoint(&meta, "audit").ok()?;
        // Every move after its due has its details, in move order; every
        // backdated keep is a keep.
        let late = moves.bits.iter().filter(|b| *b & M_AFTER_DUE != 0).count();
        if r.remaining() != 0
            || late != meta.late_moves.len()
            || meta.late_moves.windows(2).any(|w| w[0].index >= w[1].index)
            || meta.late_moves.iter().any(|x| {
                moves
                    .bits
                    .get(x.index as usize)
                    .is_none_or(|b| b & M_AFTER_DUE == 0)
            })
            || meta
                .backdated
                .iter()
                .any(|x| slots.close(x.slot as usize) != KEPT)
        {
            return None;
        }
        let mut a = Audit {
            only: meta.only,
            clients: meta.clients,
            slots,
            index: None,
            texts,
            moves,
            late_moves: meta.late_moves,
            backdated: meta.backdated,
            retracted_promises: meta.retracted_promises,
            skipped: meta.skipped,
            retractions: meta.retractions,
        };
        if (1..n).any(|s| a.slots.id.u64(s - 1) >= a.slots.id.u64(s)) {
            a.build_index();
        }
        Some(a)
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
                FLAG_RETRACTED
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
}
