//! A deterministic synthetic workload for the side-by-side benchmarks
//! (`bench/compare.sh`): N events of a small agency's life, written as the
//! same data three ways.
//!
//!   synth [--seed S] [--end WHEN] [--only journal,sql,tasks] N OUTDIR
//!
//! N takes `k`/`M` suffixes (`10k`, `1M`, `10M`). In OUTDIR:
//!
//! - `journal.tlog`: a trustlog journal, written through the library
//!   (`JournalWriter::append_batch` + `codec::encode`). Every event is one the
//!   CLI would have accepted at its `recorded_at` (`tests/compare_smoke.rs`
//!   replays a small workload through the real binary and gets the same
//!   events back).
//! - `events.sql`: the same events as rows of one SQLite `events` table
//!   (times in microseconds since the epoch, UTC), plus a `meta` table with
//!   the workload's "now" (`--end`). `bench/audit_counts.sql` derives SPEC's
//!   audit from it.
//! - `tasks.json`: the promises as Taskwarrior import JSON, one task per
//!   line: `project` = client, `entry` = made, `due` = last due, `status`
//!   pending (open), completed (kept) or deleted (broken, released), `end`.
//!   Promises whose making was retracted are left out (they never were).
//! - `now.txt`: the workload's "now" (RFC 3339), to pin `--now` with.
//!
//! Same seed and arguments → the same bytes in `events.sql`, `tasks.json`
//! and in every record payload of the journal (the journal's header carries
//! a random id that seeds its chain, so its frames differ from run to run).
//!
//! The mix (one event per step, the clock spread over three years up to
//! `--end`): a new client about every 200 events; interactions (all kinds,
//! moods −2..2 leaning positive, minutes mostly given) about half; promises
//! made about a fifth, each with a planned fate — moved (by us, the client or
//! something external, some agreed, some moves recorded after the due had
//! passed), kept on time or late (some deliveries recorded days after they
//! happened: `occurred_at` before `recorded_at`), broken, released, or
//! forgotten (left open, so overdue by the end); expectations, mismatches,
//! advocacy, fit changes; lost clients (their open promises mostly broken or
//! released) and returns; and retractions of five kinds, each valid under the
//! CLI's rules: an interaction, a move, a close (the promise reopens), a
//! promise's making, and a client added by mistake (never a retraction, never
//! a client with open promises). `recorded_at` never decreases.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use trustlog::events::*;
use trustlog::log::{JournalWriter, DEFAULT_LOCK_WAIT};

type BoxError = Box<dyn std::error::Error>;

const SEC: i64 = 1_000_000;
const HOUR: i64 = 3_600 * SEC;
const DAY: i64 = 86_400 * SEC;
/// The workload's history: three years up to `--end`.
const SPAN: i64 = 3 * 365 * DAY;
/// Default `--end`: 2026-11-22T12:00:00Z.
pub const DEFAULT_END: i64 = 1_795_348_800 * SEC;
pub const DEFAULT_SEED: u64 = 0x5EED_2026_0005;

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct Config {
    pub events: u64,
    pub seed: u64,
    /// The workload's "now", microseconds since the epoch (UTC): the last
    /// event is recorded at or before it.
    pub end: i64,
    pub out: PathBuf,
    pub journal: bool,
    pub sql: bool,
    pub tasks: bool,
}

/// What was written, for the caller to print.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub events: u64,
    pub clients: u64,
    pub promises: u64,
    pub retractions: u64,
    pub tasks: u64,
}

struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Rng {
        // Never zero (xorshift's fixed point), and seeds that differ in one
        // bit give unrelated streams.
        Rng(splitmix(seed) | 1)
    }
    fn next(&mut self) -> u64 {
        // xorshift64*, as logbench: deterministic, fast, good enough here.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Uniform in `[lo, hi)` (`lo` when the range is empty).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64) as i64
        }
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Whole seconds: what a user types with `--at`/`--now` has no fraction.
fn secs(t: i64) -> i64 {
    t - t.rem_euclid(SEC)
}

/// A due as the CLI resolves it with `TZ=UTC`: a date means the last
/// microsecond of that day; a date and time here is on the hour.
fn due_at(t: i64, date_only: bool) -> Due {
    let at = if date_only {
        t - t.rem_euclid(DAY) + DAY - 1
    } else {
        t - t.rem_euclid(HOUR)
    };
    Due {
        at: Timestamp(at),
        date_only,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Open,
    Kept,
    Broken,
    Released,
    /// Its `PromiseMade` was retracted: it never was.
    Gone,
}

struct Promise {
    client: usize,
    what: &'static str,
    made_at: i64,
    /// `occurred_at` of its latest event (moves and closes come after it).
    last_at: i64,
    due: Due,
    moves: u32,
    status: Status,
    /// Bumped on every re-plan: older scheduled actions are stale.
    gen: u32,
    /// The latest move (its seq and the due before it), while retractable.
    last_move: Option<(u64, Due)>,
    /// The close in force: its seq and `occurred_at`.
    close: Option<(u64, i64)>,
    /// `recorded_at` of its latest event.
    modified: i64,
}

struct Client {
    handle: String,
    fit: Fit,
    lost: bool,
    promises: Vec<u64>,
}

/// What a scheduled follow-up does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Move = 0,
    Keep = 1,
    Break = 2,
    Release = 3,
}

/// A follow-up of a promise: (recorded no earlier than, promise, generation,
/// action, occurred_at). A min-heap on the first field; the rest makes ties
/// deterministic.
type Scheduled = Reverse<(i64, u64, u32, Action, i64)>;

/// An event that a later step will retract: what it was, to undo it in the
/// model, and from which step on.
#[derive(Debug, Clone, Copy)]
enum Target {
    Interaction,
    Move(u64),
    Close(u64),
    Made(u64),
    MistakenClient,
}

const WHAT: [&str; 8] = [
    "three logo concepts",
    "brand guidelines v2",
    "the client's brief, rewritten",
    "a quote for the trade fair stand",
    "website copy, first draft",
    "\"quick\" fixes to the packaging",
    "answer about the invoice",
    "monthly report",
];
const NOTES: [&str; 6] = [
    "talked about the next steps",
    "went through the drafts",
    "asked for a call back",
    "unhappy about the delay",
    "loved the concepts",
    "",
];
const AUTHORS: [&str; 3] = ["ana", "ben", "chloe"];
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

/// The outputs; each is optional.
struct Sinks {
    journal: Option<(JournalWriter, Vec<Vec<u8>>)>,
    sql: Option<BufWriter<File>>,
    sql_rows_in_stmt: usize,
}

const SQL_SCHEMA: &str = "\
-- trustlog synthetic workload (examples/synth.rs): the same events as the journal.
-- Times are microseconds since the epoch, UTC. One row per event, in journal order.
PRAGMA synchronous = OFF;
CREATE TABLE meta (now INTEGER NOT NULL);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,      -- sequence number in the journal
  kind TEXT NOT NULL,           -- ClientAdded, PromiseMade, ... (README's JSON `kind`)
  recorded_at INTEGER NOT NULL,
  occurred_at INTEGER NOT NULL,
  author TEXT NOT NULL,
  client TEXT,                  -- handle (client events and PromiseMade)
  promise INTEGER,              -- promise id (promise events)
  due INTEGER,                  -- PromiseMade, PromiseMoved: the (new) due
  date_only INTEGER,
  cause TEXT,                   -- PromiseMoved: us, client, external
  agreed INTEGER,               -- PromiseMoved: agreed by the client
  mood INTEGER,                 -- Interacted
  minutes INTEGER,              -- Interacted (NULL when not given)
  party TEXT,                   -- Interacted: who initiated (us, client)
  subkind TEXT,                 -- Interacted: interaction kind; Advocated: advocacy kind
  by_client INTEGER,            -- Advocated: initiated by the client
  fit TEXT,                     -- ClientAdded, FitChanged
  name TEXT,                    -- ClientAdded
  text TEXT,                    -- note, reason, what or text
  target INTEGER                -- Retracted: the seq it retracts
);
BEGIN;
";

/// After the rows: what the audit query reads by (bench/audit_counts.sql).
const SQL_INDEXES: &str = "\
COMMIT;
CREATE INDEX events_kind ON events (kind, promise, seq);
CREATE INDEX events_target ON events (target) WHERE target IS NOT NULL;
ANALYZE;
";

/// Rows per multi-row INSERT: few statements to parse, small ones.
const SQL_ROWS_PER_INSERT: usize = 500;

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "NULL".to_string(), |v| v.to_string())
}

fn fit_word(f: Fit) -> &'static str {
    f.as_str()
}

/// One `events` row, as an SQL tuple.
fn sql_row(seq: u64, env: &Envelope) -> String {
    let mut client = None;
    let mut promise = None;
    let mut due: Option<Due> = None;
    let mut cause = None;
    let mut agreed = None;
    let mut mood = None;
    let mut minutes = None;
    let mut party = None;
    let mut subkind = None;
    let mut by_client = None;
    let mut fit = None;
    let mut name = None;
    let text: Option<&str>;
    let mut target = None;
    match &env.event {
        Event::ClientAdded {
            handle,
            name: n,
            fit: f,
            note,
        } => {
            client = Some(handle.as_str());
            fit = Some(fit_word(*f));
            name = Some(n.as_str());
            text = Some(note);
        }
        Event::FitChanged {
            client: c,
            fit: f,
            reason,
        } => {
            client = Some(c.as_str());
            fit = Some(fit_word(*f));
            text = Some(reason);
        }
        Event::ExpectationNoted { client: c, text: t }
        | Event::MismatchNoted { client: c, text: t } => {
            client = Some(c.as_str());
            text = Some(t);
        }
        Event::Interacted {
            client: c,
            kind,
            mood: m,
            minutes: mi,
            initiated_by,
            note,
        } => {
            client = Some(c.as_str());
            subkind = Some(kind.as_str());
            mood = Some(*m);
            minutes = *mi;
            party = Some(initiated_by.as_str());
            text = Some(note);
        }
        Event::PromiseMade {
            promise: p,
            client: c,
            what,
            due: d,
        } => {
            promise = Some(*p);
            client = Some(c.as_str());
            due = Some(*d);
            text = Some(what);
        }
        Event::PromiseMoved {
            promise: p,
            due: d,
            cause: c,
            agreed_by_client,
            reason,
        } => {
            promise = Some(*p);
            due = Some(*d);
            cause = Some(c.as_str());
            agreed = Some(u8::from(*agreed_by_client));
            text = Some(reason);
        }
        Event::PromiseKept { promise: p, note } => {
            promise = Some(*p);
            text = Some(note);
        }
        Event::PromiseBroken { promise: p, reason }
        | Event::PromiseReleased { promise: p, reason } => {
            promise = Some(*p);
            text = Some(reason);
        }
        Event::Advocated {
            client: c,
            kind,
            initiated_by_client,
            note,
        } => {
            client = Some(c.as_str());
            subkind = Some(kind.as_str());
            by_client = Some(u8::from(*initiated_by_client));
            text = Some(note);
        }
        Event::ClientLost { client: c, reason } => {
            client = Some(c.as_str());
            text = Some(reason);
        }
        Event::ClientReturned { client: c, note } => {
            client = Some(c.as_str());
            text = Some(note);
        }
        Event::Retracted { seq: s, reason } => {
            target = Some(*s);
            text = Some(reason);
        }
        Event::ClientRenamed {
            client: c,
            handle: _,
            name: n,
        } => {
            // The new handle is not a column of the comparison schema.
            client = Some(c.as_str());
            name = Some(n.as_str());
            text = None;
        }
        Event::Amended {
            seq: s,
            text: t,
            reason: _,
        } => {
            target = Some(*s);
            text = Some(t);
        }
        Event::PromiseDelivered { promise: p, note } => {
            promise = Some(*p);
            text = Some(note);
        }
        Event::CadenceSet { client: c, every } => {
            client = Some(c.as_str());
            minutes = u32::try_from(every / 60).ok();
            text = None;
        }
    }
    format!(
        "({seq},'{}',{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{})",
        env.event.kind_name(),
        env.recorded_at.0,
        env.occurred_at.0,
        sql_str(&env.author),
        sql_opt(client.map(sql_str)),
        sql_opt(promise),
        sql_opt(due.map(|d| d.at.0)),
        sql_opt(due.map(|d| u8::from(d.date_only))),
        sql_opt(cause.map(sql_str)),
        sql_opt(agreed),
        sql_opt(mood),
        sql_opt(minutes),
        sql_opt(party.map(sql_str)),
        sql_opt(subkind.map(sql_str)),
        sql_opt(by_client),
        sql_opt(fit.map(sql_str)),
        sql_opt(name.map(sql_str)),
        sql_opt(text.map(sql_str)),
        sql_opt(target),
    )
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Taskwarrior's date form in its JSON: `20261122T120000Z`.
fn tw_date(t: i64) -> String {
    match Timestamp(t).to_utc() {
        Some(d) => d.format("%Y%m%dT%H%M%SZ").to_string(),
        None => "19700101T000000Z".to_string(),
    }
}

/// A stable, unique UUID (version 4 layout) per promise and seed.
fn tw_uuid(seed: u64, id: u64) -> String {
    let a = splitmix(seed ^ 0x7A5C_0000_0000_0000 ^ id);
    let b = splitmix(a ^ id.rotate_left(32));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:08x}{:04x}",
        id as u32,
        (a >> 48) as u16,
        (a >> 36) & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b as u32,
        (a as u16)
    )
}

struct Gen {
    cfg: Config,
    rng: Rng,
    now: i64,
    seq: u64,
    clients: Vec<Client>,
    /// Indices of clients that are not lost (order changes; only for picks).
    active: Vec<usize>,
    /// Position of each client in `active` (`usize::MAX` when lost).
    active_pos: Vec<usize>,
    lost: Vec<usize>,
    /// Index = promise id − 1.
    promises: Vec<Promise>,
    heap: BinaryHeap<Scheduled>,
    /// Retractions to record: (from step, seq, target), oldest first.
    retract: VecDeque<(u64, u64, Target)>,
    mistaken: u64,
    summary: Summary,
    sinks: Sinks,
}

impl Gen {
    fn author(&mut self) -> String {
        self.rng.pick(&AUTHORS).to_string()
    }

    /// Appends one event at the current clock, `occurred_at` = `at`.
    fn emit(&mut self, at: i64, event: Event) -> Result<u64, BoxError> {
        debug_assert!(at <= self.now);
        self.seq += 1;
        let env = Envelope {
            seq: self.seq,
            recorded_at: Timestamp(self.now),
            occurred_at: Timestamp(at),
            author: self.author(),
            event,
        };
        if let Some((_, batch)) = &mut self.sinks.journal {
            batch.push(codec::encode(&env)?);
        }
        if let Some((w, batch)) = &mut self.sinks.journal {
            if batch.len() >= 10_000 {
                w.append_batch(batch.iter().map(Vec::as_slice))?;
                batch.clear();
            }
        }
        if let Some(out) = &mut self.sinks.sql {
            if self.sinks.sql_rows_in_stmt == 0 {
                out.write_all(b"INSERT INTO events VALUES\n")?;
            } else {
                out.write_all(b",\n")?;
            }
            out.write_all(sql_row(self.seq, &env).as_bytes())?;
            self.sinks.sql_rows_in_stmt += 1;
            if self.sinks.sql_rows_in_stmt == SQL_ROWS_PER_INSERT {
                out.write_all(b";\n")?;
                self.sinks.sql_rows_in_stmt = 0;
            }
        }
        self.summary.events += 1;
        Ok(self.seq)
    }

    fn pick_active(&mut self) -> Option<usize> {
        if self.active.is_empty() {
            return None;
        }
        // Half the time one of the 50 most recently added active clients:
        // newer clients see more of the work.
        let n = self.active.len() as u64;
        let i = if self.rng.chance(500) {
            n - 1 - self.rng.below(n.min(50))
        } else {
            self.rng.below(n)
        };
        Some(self.active[i as usize])
    }

    fn set_lost(&mut self, c: usize, lost: bool) {
        self.clients[c].lost = lost;
        if lost {
            let pos = self.active_pos[c];
            let last = *self.active.last().expect("active client");
            self.active.swap_remove(pos);
            if last != c {
                self.active_pos[last] = pos;
            }
            self.active_pos[c] = usize::MAX;
            self.lost.push(c);
        } else {
            self.lost.retain(|&x| x != c);
            self.active_pos[c] = self.active.len();
            self.active.push(c);
        }
    }

    fn schedule(&mut self, id: u64, record_at: i64, action: Action, occurred: i64) {
        let p = &self.promises[(id - 1) as usize];
        self.heap
            .push(Reverse((record_at, id, p.gen, action, occurred)));
    }

    /// Decides what happens next to an open promise, from now on.
    fn plan(&mut self, id: u64) {
        let now = self.now;
        let p = &mut self.promises[(id - 1) as usize];
        p.gen += 1;
        let (due, moves, not_before) = (p.due.at.0, p.moves, p.last_at.max(now));
        let rng = &mut self.rng;
        let (action, occurred) = if moves < 3 && rng.chance(220) {
            // A move: usually ahead of the due, sometimes once it has passed.
            let t = if rng.chance(150) {
                due + rng.range(HOUR, 3 * DAY)
            } else {
                due - rng.range(0, 5 * DAY)
            };
            (Action::Move, t)
        } else {
            match rng.below(1000) {
                0..=29 => return, // forgotten: stays open, overdue in the end
                30..=79 => (Action::Break, due + rng.range(-5 * DAY, 5 * DAY)),
                80..=139 => (Action::Release, due - rng.range(0, 10 * DAY)),
                140..=299 => (Action::Keep, due + rng.range(HOUR, 10 * DAY)),
                _ => (Action::Keep, due - rng.range(0, 5 * DAY)),
            }
        };
        let occurred = secs(occurred.max(not_before));
        // A quarter of deliveries are written down hours or days later.
        let record_at = if action == Action::Keep && rng.chance(250) {
            occurred + rng.range(HOUR, 4 * DAY)
        } else {
            occurred
        };
        self.schedule(id, record_at, action, occurred);
    }

    fn client_added(&mut self) -> Result<(), BoxError> {
        let k = self.clients.len();
        let handle = format!("client-{k}");
        let fit = if self.rng.chance(250) {
            Fit::OffTarget
        } else {
            Fit::Target
        };
        let note = if self.rng.chance(300) {
            "met at the fair"
        } else {
            ""
        };
        self.emit(
            self.now,
            Event::ClientAdded {
                handle: handle.clone(),
                name: format!("Client {k} Ltd"),
                fit,
                note: note.into(),
            },
        )?;
        self.clients.push(Client {
            handle,
            fit,
            lost: false,
            promises: Vec::new(),
        });
        self.active_pos.push(self.active.len());
        self.active.push(k);
        self.summary.clients += 1;
        Ok(())
    }

    /// A follow-up whose time has come, if any (stale ones are dropped).
    fn follow_up(&mut self, step: u64) -> Result<bool, BoxError> {
        while let Some(&Reverse((record_at, id, gen, action, occurred))) = self.heap.peek() {
            if record_at > self.now {
                return Ok(false);
            }
            self.heap.pop();
            let p = &self.promises[(id - 1) as usize];
            if p.gen != gen || p.status != Status::Open {
                continue;
            }
            let occurred = occurred.max(p.last_at).min(self.now);
            let due = p.due;
            let seq_next = self.seq + 1;
            let (event, status) = match action {
                Action::Move => {
                    let date_only = due.date_only;
                    let base = due.at.0.max(occurred);
                    let new_due = due_at(base + self.rng.range(DAY, 14 * DAY), date_only);
                    let cause = self.rng.pick(&CAUSES);
                    // The client's own slips are agreed more often.
                    let agreed = self
                        .rng
                        .chance(if cause == Cause::Client { 800 } else { 400 });
                    let p = &mut self.promises[(id - 1) as usize];
                    p.last_move = Some((seq_next, p.due));
                    p.due = new_due;
                    p.moves += 1;
                    let reason = match cause {
                        Cause::Us => "we underestimated the work",
                        Cause::Client => "waiting for the client's material",
                        Cause::External => "the printer is late",
                    };
                    (
                        Event::PromiseMoved {
                            promise: id,
                            due: new_due,
                            cause,
                            agreed_by_client: agreed,
                            reason: reason.into(),
                        },
                        Status::Open,
                    )
                }
                Action::Keep => (
                    Event::PromiseKept {
                        promise: id,
                        note: if self.rng.chance(200) {
                            "sent by email".into()
                        } else {
                            String::new()
                        },
                    },
                    Status::Kept,
                ),
                Action::Break => (
                    Event::PromiseBroken {
                        promise: id,
                        reason: "we could not make it".into(),
                    },
                    Status::Broken,
                ),
                Action::Release => (
                    Event::PromiseReleased {
                        promise: id,
                        reason: "no longer needed".into(),
                    },
                    Status::Released,
                ),
            };
            let seq = self.emit(occurred, event)?;
            let now = self.now;
            let p = &mut self.promises[(id - 1) as usize];
            p.last_at = occurred;
            p.modified = now;
            let target = if status == Status::Open {
                Target::Move(id)
            } else {
                p.status = status;
                p.close = Some((seq, occurred));
                Target::Close(id)
            };
            // Some moves and closes are recorded by mistake and retracted.
            let per_mille = if status == Status::Open { 20 } else { 10 };
            if self.rng.chance(per_mille) {
                let from = step + 1 + self.rng.below(20);
                self.retract.push_back((from, seq, target));
            }
            if status == Status::Open {
                self.plan(id);
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// A retraction whose time has come and that is still valid.
    fn retraction(&mut self, step: u64) -> Result<bool, BoxError> {
        while let Some(&(from, seq, target)) = self.retract.front() {
            if from > step {
                return Ok(false);
            }
            self.retract.pop_front();
            let (valid, reason) = match target {
                Target::Interaction => (true, "recorded for the wrong client"),
                Target::MistakenClient => (true, "added by mistake: a duplicate"),
                Target::Move(id) => {
                    let p = &self.promises[(id - 1) as usize];
                    (
                        p.status == Status::Open && p.last_move.is_some_and(|(s, _)| s == seq),
                        "moved the wrong promise",
                    )
                }
                Target::Close(id) => {
                    let p = &self.promises[(id - 1) as usize];
                    (
                        p.status != Status::Gone && p.close.is_some_and(|(s, _)| s == seq),
                        "closed the wrong promise",
                    )
                }
                Target::Made(id) => (
                    self.promises[(id - 1) as usize].status != Status::Gone,
                    "this was never promised",
                ),
            };
            if !valid {
                continue;
            }
            self.emit(
                self.now,
                Event::Retracted {
                    seq,
                    reason: reason.into(),
                },
            )?;
            self.summary.retractions += 1;
            let now = self.now;
            match target {
                Target::Interaction | Target::MistakenClient => {}
                Target::Move(id) => {
                    let p = &mut self.promises[(id - 1) as usize];
                    let (_, before) = p.last_move.take().expect("checked");
                    p.due = before;
                    p.moves -= 1;
                    p.modified = now;
                    self.plan(id);
                }
                Target::Close(id) => {
                    let p = &mut self.promises[(id - 1) as usize];
                    p.status = Status::Open;
                    p.close = None;
                    p.modified = now;
                    self.plan(id);
                }
                Target::Made(id) => {
                    let p = &mut self.promises[(id - 1) as usize];
                    p.status = Status::Gone;
                    p.gen += 1;
                }
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// One event chosen by the mix (no follow-up or retraction was due).
    fn spontaneous(&mut self, step: u64) -> Result<(), BoxError> {
        if self.active.is_empty() || self.rng.below(150) == 0 {
            return self.client_added();
        }
        let now = self.now;
        let r = self.rng.below(1000);
        match r {
            0 if self.active.len() > 1 => {
                let c = self.pick_active().expect("active");
                let reason = self.rng.pick(&[
                    "went with a cheaper agency",
                    "not what they expected",
                    "budget cut",
                ]);
                self.emit(
                    now,
                    Event::ClientLost {
                        client: self.clients[c].handle.clone(),
                        reason: reason.into(),
                    },
                )?;
                self.set_lost(c, true);
                // Most open promises to a lost client are then broken or
                // released; the rest still get delivered.
                for id in self.clients[c].promises.clone() {
                    if self.promises[(id - 1) as usize].status == Status::Open
                        && self.rng.chance(600)
                    {
                        let p = &mut self.promises[(id - 1) as usize];
                        p.gen += 1;
                        let at = secs(now + self.rng.range(0, 7 * DAY));
                        let action = if self.rng.chance(500) {
                            Action::Break
                        } else {
                            Action::Release
                        };
                        self.schedule(id, at, action, at);
                    }
                }
                Ok(())
            }
            1 if !self.lost.is_empty() => {
                let c = self.lost[self.rng.below(self.lost.len() as u64) as usize];
                self.emit(
                    now,
                    Event::ClientReturned {
                        client: self.clients[c].handle.clone(),
                        note: "new project".into(),
                    },
                )?;
                self.set_lost(c, false);
                Ok(())
            }
            2 => {
                let c = self.pick_active().expect("active");
                let fit = match self.clients[c].fit {
                    Fit::Target => Fit::OffTarget,
                    Fit::OffTarget => Fit::Target,
                };
                self.clients[c].fit = fit;
                self.emit(
                    now,
                    Event::FitChanged {
                        client: self.clients[c].handle.clone(),
                        fit,
                        reason: "the relationship changed".into(),
                    },
                )?;
                Ok(())
            }
            3 => {
                // A client added by mistake (a duplicate), retracted soon.
                self.mistaken += 1;
                let seq = self.emit(
                    now,
                    Event::ClientAdded {
                        handle: format!("dup-{}", self.mistaken),
                        name: "Duplicate".into(),
                        fit: Fit::Target,
                        note: String::new(),
                    },
                )?;
                self.retract.push_back((
                    step + 1 + self.rng.below(10),
                    seq,
                    Target::MistakenClient,
                ));
                Ok(())
            }
            4..=29 => {
                let c = self.pick_active().expect("active");
                self.emit(
                    now,
                    Event::ExpectationNoted {
                        client: self.clients[c].handle.clone(),
                        text: "answers within a day".into(),
                    },
                )?;
                Ok(())
            }
            30..=35 => {
                let c = self.pick_active().expect("active");
                self.emit(
                    now,
                    Event::MismatchNoted {
                        client: self.clients[c].handle.clone(),
                        text: "this is not what I expected".into(),
                    },
                )?;
                Ok(())
            }
            36..=49 => {
                let c = self.pick_active().expect("active");
                let kind = self.rng.pick(&ADVOCACY);
                let by_client = self.rng.chance(800);
                self.emit(
                    now,
                    Event::Advocated {
                        client: self.clients[c].handle.clone(),
                        kind,
                        initiated_by_client: by_client,
                        note: "introduced us to a friend".into(),
                    },
                )?;
                Ok(())
            }
            50..=329 => {
                let c = self.pick_active().expect("active");
                let id = self.promises.len() as u64 + 1;
                let date_only = self.rng.chance(750);
                let due = due_at(now + self.rng.range(DAY, 30 * DAY), date_only);
                let what = self.rng.pick(&WHAT);
                let seq = self.emit(
                    now,
                    Event::PromiseMade {
                        promise: id,
                        client: self.clients[c].handle.clone(),
                        what: what.into(),
                        due,
                    },
                )?;
                self.promises.push(Promise {
                    client: c,
                    what,
                    made_at: now,
                    last_at: now,
                    due,
                    moves: 0,
                    status: Status::Open,
                    gen: 0,
                    last_move: None,
                    close: None,
                    modified: now,
                });
                self.clients[c].promises.push(id);
                self.summary.promises += 1;
                if self.rng.chance(5) {
                    self.retract
                        .push_back((step + 1 + self.rng.below(30), seq, Target::Made(id)));
                }
                self.plan(id);
                Ok(())
            }
            _ => {
                let c = self.pick_active().expect("active");
                let kind = self.rng.pick(&KINDS);
                let mood = [-2i8, -1, -1, 0, 0, 0, 1, 1, 1, 1, 2, 2][self.rng.below(12) as usize];
                let minutes = if self.rng.chance(850) {
                    Some(5 + self.rng.below(116) as u32)
                } else {
                    None
                };
                let initiated_by = if self.rng.chance(400) {
                    Party::Client
                } else {
                    Party::Us
                };
                let note = self.rng.pick(&NOTES);
                // Calls are often written down a little later.
                let at = secs(now - self.rng.range(0, 2 * HOUR)).max(self.start_of_history());
                let seq = self.emit(
                    at,
                    Event::Interacted {
                        client: self.clients[c].handle.clone(),
                        kind,
                        mood,
                        minutes,
                        initiated_by,
                        note: note.into(),
                    },
                )?;
                if self.rng.chance(5) {
                    self.retract.push_back((
                        step + 1 + self.rng.below(10),
                        seq,
                        Target::Interaction,
                    ));
                }
                Ok(())
            }
        }
    }

    fn start_of_history(&self) -> i64 {
        secs(self.cfg.end - SPAN)
    }

    fn write_tasks(&mut self) -> Result<(), BoxError> {
        let mut out = BufWriter::new(File::create(self.cfg.out.join("tasks.json"))?);
        for (i, p) in self.promises.iter().enumerate() {
            let id = i as u64 + 1;
            let status = match p.status {
                Status::Gone => continue,
                Status::Open => "pending",
                Status::Kept => "completed",
                Status::Broken | Status::Released => "deleted",
            };
            let mut line = format!(
                "{{\"uuid\":\"{}\",\"status\":\"{status}\",\"description\":{},\"project\":{},\"entry\":\"{}\",\"modified\":\"{}\",\"due\":\"{}\"",
                tw_uuid(self.cfg.seed, id),
                json_str(p.what),
                json_str(&self.clients[p.client].handle),
                tw_date(p.made_at),
                tw_date(p.modified),
                tw_date(p.due.at.0),
            );
            if let Some((_, end)) = p.close {
                line.push_str(&format!(",\"end\":\"{}\"", tw_date(end)));
            }
            match p.status {
                Status::Broken => line.push_str(",\"tags\":[\"broken\"]"),
                Status::Released => line.push_str(",\"tags\":[\"released\"]"),
                _ => {}
            }
            line.push_str("}\n");
            out.write_all(line.as_bytes())?;
            self.summary.tasks += 1;
        }
        out.flush()?;
        Ok(())
    }
}

/// Generates the workload of `cfg` into `cfg.out` (which must exist and
/// hold no journal yet).
pub fn generate(cfg: &Config) -> Result<Summary, BoxError> {
    let journal_path = cfg.out.join("journal.tlog");
    if cfg.journal && journal_path.exists() {
        return Err(format!(
            "{} exists: synth writes a new journal, remove it first",
            journal_path.display()
        )
        .into());
    }
    let start = secs(cfg.end - SPAN);
    let journal = if cfg.journal {
        Some((
            JournalWriter::open(&journal_path, start, DEFAULT_LOCK_WAIT)?,
            Vec::with_capacity(10_000),
        ))
    } else {
        None
    };
    let sql = if cfg.sql {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(cfg.out.join("events.sql"))?);
        w.write_all(SQL_SCHEMA.as_bytes())?;
        writeln!(w, "INSERT INTO meta VALUES ({});", cfg.end)?;
        Some(w)
    } else {
        None
    };
    let mut g = Gen {
        cfg: cfg.clone(),
        rng: Rng::new(cfg.seed),
        now: start,
        seq: 0,
        clients: Vec::new(),
        active: Vec::new(),
        active_pos: Vec::new(),
        lost: Vec::new(),
        promises: Vec::new(),
        heap: BinaryHeap::new(),
        retract: VecDeque::new(),
        mistaken: 0,
        summary: Summary::default(),
        sinks: Sinks {
            journal,
            sql,
            sql_rows_in_stmt: 0,
        },
    };
    let n = cfg.events.max(1);
    // The clock: step i lands in the i-th of n equal slices of the span, at
    // a random second of its first half, so it never goes backwards.
    let slice = (SPAN / n as i64).max(1);
    for step in 0..cfg.events {
        let base = start + (SPAN as i128 * step as i128 / n as i128) as i64;
        let t = secs(base + g.rng.range(0, (slice / 2).max(1))).max(g.now);
        g.now = t.min(cfg.end);
        if !g.retraction(step)? && !g.follow_up(step)? {
            g.spontaneous(step)?;
        }
    }
    if let Some((w, batch)) = &mut g.sinks.journal {
        if !batch.is_empty() {
            w.append_batch(batch.iter().map(Vec::as_slice))?;
            batch.clear();
        }
    }
    if let Some(mut out) = g.sinks.sql.take() {
        if g.sinks.sql_rows_in_stmt > 0 {
            out.write_all(b";\n")?;
        }
        out.write_all(SQL_INDEXES.as_bytes())?;
        out.flush()?;
    }
    if cfg.tasks {
        g.write_tasks()?;
    }
    std::fs::write(
        cfg.out.join("now.txt"),
        format!("{}\n", Timestamp(cfg.end).to_rfc3339()),
    )?;
    Ok(g.summary)
}

/// `10k`, `1M`, `10M` or a plain count.
pub fn parse_count(s: &str) -> Result<u64, BoxError> {
    let (digits, mult) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1_000),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 1_000_000),
        _ => (s, 1),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("event count {s:?}: expected a number, e.g. 10000, 10k, 1M"))?;
    Ok(n * mult)
}

/// `--end`: RFC 3339 (`2026-11-22T12:00:00Z`) or seconds since the epoch.
fn parse_end(s: &str) -> Result<i64, BoxError> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs * SEC);
    }
    let d = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("--end {s:?}: {e}: expected RFC 3339 or epoch seconds"))?;
    Ok(secs(d.timestamp_micros()))
}

const USAGE: &str =
    "usage: synth [--seed S] [--end RFC3339|EPOCH] [--only journal,sql,tasks] N OUTDIR";

pub fn parse_args(args: &[String]) -> Result<Config, BoxError> {
    let mut cfg = Config {
        events: 0,
        seed: DEFAULT_SEED,
        end: DEFAULT_END,
        out: PathBuf::new(),
        journal: true,
        sql: true,
        tasks: true,
    };
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value; {USAGE}"))
        };
        match a.as_str() {
            "--seed" => cfg.seed = value()?.parse()?,
            "--end" => cfg.end = parse_end(value()?)?,
            "--only" => {
                let v = value()?;
                cfg.journal = false;
                cfg.sql = false;
                cfg.tasks = false;
                for f in v.split(',') {
                    match f {
                        "journal" => cfg.journal = true,
                        "sql" => cfg.sql = true,
                        "tasks" => cfg.tasks = true,
                        other => {
                            return Err(format!(
                                "--only: unknown output {other:?}: expected journal, sql, tasks"
                            )
                            .into())
                        }
                    }
                }
            }
            _ if a.starts_with("--") => return Err(format!("unknown option {a}; {USAGE}").into()),
            _ => positional.push(a.clone()),
        }
    }
    match positional.as_slice() {
        [n, out] => {
            cfg.events = parse_count(n)?;
            cfg.out = PathBuf::from(out);
        }
        _ => return Err(USAGE.into()),
    }
    Ok(cfg)
}

#[allow(dead_code)] // when included as a module by tests/compare_smoke.rs
fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = parse_args(&args)?;
    std::fs::create_dir_all(&cfg.out)?;
    let t = std::time::Instant::now();
    let s = generate(&cfg)?;
    eprintln!(
        "synth: {} events ({} clients, {} promises, {} retractions, {} tasks) in {:.1} s → {}",
        s.events,
        s.clients,
        s.promises,
        s.retractions,
        s.tasks,
        t.elapsed().as_secs_f64(),
        display(&cfg.out)
    );
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
