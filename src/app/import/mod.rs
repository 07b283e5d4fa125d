//! `import`: events into the journal, from JSON lines (what `export`
//! writes, from this or another journal) or from a Taskwarrior `task export`.
//!
//! # All or nothing, checked first
//!
//! The whole file is read and every event is checked against the journal
//! (under the writer's lock, as a recording command does) before anything is
//! written: its shape (kind, keys, types), its references, and the same
//! rules the recording commands apply (a known client, an open promise, a
//! retraction of an event that exists …). One bad line rejects the import:
//! each rejected line is reported with its number and the reason, and the
//! journal is left byte-identical. A valid file is then written with one
//! batch append (one `fdatasync` for the lot).
//!
//! # Idempotent: an event's identity is its content
//!
//! Importing the same file twice adds nothing the second time. Events are
//! frozen types with no room for a "source id", and a side table of what
//! was imported would be derived state that can be lost. So an event is
//! recognised by what it says, and an event already in the journal is
//! skipped. Its *identity* is a BLAKE3 digest of
//!
//! - its kind, `recorded_at` and `occurred_at` (microseconds) and its fields,
//! - with each reference replaced by the identity of the event it refers to
//!   (a promise id by the identity of that promise's `PromiseMade`, a
//!   retracted seq by the identity of the retracted event) — ids and seqs
//!   differ between journals, the events they point at do not,
//! - and its occurrence number among earlier events with the same content
//!   (0 for the first), so that two genuinely identical events (a clock
//!   pinned with `--now`, the same call recorded twice) are two events, in
//!   the source and in the journal alike.
//!
//! The author is left out: the same fact imported by a colleague is still
//! the same fact. Identities are computed the same way for the journal and
//! for the file, so "export from A, import into B", "import it again",
//! "import B's export back into A" and "re-import a later export of A" each
//! add exactly the events B does not have yet. An event edited in the file
//! is a different event (it is imported, if it is valid). A file may not
//! carry one event id twice (a file concatenated with itself).
//!
//! # References are remapped
//!
//! New events get the journal's next sequence numbers and `PromiseMade`
//! gets the journal's next promise id; `promise` and `retracted` in later
//! lines are rewritten to the ids and seqs the events they name have in
//! this journal (skipped ones included). A reference to an event that is
//! not in the file (a filtered export) resolves only when the file was
//! exported from this very journal (its ids carry this journal's id);
//! otherwise the line is rejected.
//!
//! Times and authors are kept as they are in the source: `recorded_at`
//! says when the fact was first written down, which the audit (backdated
//! keeps) and `--as-of` depend on.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::Path;

use crate::app::error::AppError;
use crate::app::journal::{read_all, replay_into};
use crate::app::progress::{Progress, Unit};
use crate::events::{codec, Envelope, Event, EventRef, PromiseId, Seq, Timestamp};
use crate::log::{self, JournalWriter, LogError};
use crate::projections::state::State;

// The parts of one command, each importing by name what it uses; this
// module takes what they lend (`pub(super)`).
// check: the validation state and the rules; fast: the typed reading of a
// line and the reader threads' chunks; identity: content identities; jsonl:
// the general JSON-lines reader; scan: SWAR byte scans; taskwarrior: the
// `task export` mapping.
mod check;
mod fast;
#[doc(hidden)]
pub use fast::{fuzz_line, fuzz_rfc3339};
mod identity;
mod jsonl;
mod scan;
mod taskwarrior;

use check::{validate, Check};
use fast::{chunks, parse_chunk, CHUNK};
use identity::{short, Digester, JournalIds, Ref, SourceIds};
use jsonl::{hex, JsonlReader};

/// The formats `import` reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// JSON lines as written by `trustlog export`
    Jsonl,
    /// The JSON of `task export` (an array, or one task per line)
    Taskwarrior,
}

impl ImportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Jsonl => "jsonl",
            ImportFormat::Taskwarrior => "taskwarrior",
        }
    }
}

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: ImportFormat,
    /// Check everything and plan, but write nothing.
    pub dry_run: bool,
    /// Who imports (Taskwarrior tasks carry no author of their own).
    pub author: String,
    pub lock_wait: std::time::Duration,
}

/// What an import found and did. With rejections nothing was written.
pub struct Imported {
    planned: Planned,
    /// The seqs written (`None`: nothing was, a dry run, or rejections).
    pub written: Option<(Seq, Seq)>,
    /// A torn tail that opening the journal for the write cut aside.
    pub cut: Option<log::TornCut>,
}

impl Imported {
    /// Events that are new to the journal (0 when any line was rejected).
    pub fn new_events(&self) -> usize {
        if self.planned.plan.rejected.is_empty() {
            self.planned.plan.new
        } else {
            0
        }
    }
    /// Events already in the journal, skipped.
    pub fn skipped(&self) -> usize {
        self.planned.plan.skipped
    }
    /// Events in the source.
    pub fn total(&self) -> usize {
        self.planned.plan.total
    }
    /// Rejected lines, by line number.
    pub fn rejected(&self) -> &[Rejection] {
        &self.planned.plan.rejected
    }
    /// Taskwarrior: tasks that could not be turned into events.
    pub fn not_mapped(&self) -> &[NotMapped] {
        &self.planned.not_mapped
    }
    /// Taskwarrior: attributes with no place in trustlog, and on how many
    /// tasks they were set.
    pub fn ignored_attributes(&self) -> &BTreeMap<String, u64> {
        &self.planned.ignored_attributes
    }
}

/// One event as the source has it: its own seq, promise ids and retracted
/// seqs (not yet this journal's).
#[derive(Debug, Clone)]
pub(crate) struct SourceEvent {
    /// Where it comes from, for messages, when it is not `line N` (JSON
    /// lines leave it empty): `task 0025cb39 "logo"`.
    pub origin: String,
    /// The line number (JSON lines) or the task's position (Taskwarrior).
    pub line: usize,
    pub env: Envelope,
    /// `client` given on a promise event that names only a promise.
    pub client_hint: Option<String>,
}

/// What a converted source (Taskwarrior) holds: its events in order.
#[derive(Debug, Default)]
pub(crate) struct Source {
    pub events: Vec<SourceEvent>,
    /// Found while reading: malformed lines, inconsistent ids.
    pub rejected: Vec<Rejection>,
    /// Taskwarrior: what could not be turned into events, and why.
    pub not_mapped: Vec<NotMapped>,
    /// Taskwarrior: attributes with no place in trustlog, and on how many
    /// tasks they were set.
    pub ignored_attributes: BTreeMap<String, u64>,
    /// Promise ids and seqs of lines rejected while reading (they were
    /// events, but out of order or with a bad id), so that lines referring
    /// to them say why they cannot.
    pub rejected_promises: HashMap<PromiseId, String>,
    pub rejected_seqs: HashMap<Seq, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub origin: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMapped {
    pub task: String,
    pub description: String,
    pub reason: String,
}

/// Imports `bytes` (a file in `opts.format`) into the journal at
/// `journal`: planned and checked under the writer's lock, then written
/// with one batch append, all or nothing. `now` is the writer's clock
/// (events recorded after it are refused). `progress` shows the checking
/// on a terminal.
pub fn import(
    journal: &Path,
    bytes: &[u8],
    opts: &ImportOptions,
    now: Timestamp,
) -> Result<Imported, AppError> {
    // The total is set by each plan, once it knows how many events there
    // are to check.
    let mut progress = Progress::new("checking the import", Unit::Events, 0);
    // The file's journal id decides how references to events outside the
    // file resolve, before the journal is read (see `JsonlReader::source_journal`).
    let from = match opts.format {
        ImportFormat::Jsonl => JsonlReader::source_journal(bytes),
        ImportFormat::Taskwarrior => None,
    };
    // Plans against the journal at `path` (or an empty one): JSON lines
    // are read as they are checked, a Taskwarrior export is converted
    // first, against the journal's state (projects become new clients only
    // when the journal does not have them).
    let plan_for = |path: Option<&Path>, progress: &mut Progress| -> Result<Planned, AppError> {
        let base = match path {
            Some(p) => Base::read(p, from)?,
            None => Base::empty(from),
        };
        let planned = match opts.format {
            ImportFormat::Jsonl => plan_jsonl(base, bytes, now, progress),
            ImportFormat::Taskwarrior => {
                let (state, envs) = match path {
                    Some(p) => {
                        let envs = read_all(p)?;
                        let mut s = State::new();
                        replay_into(&envs, &mut [&mut s]);
                        (s, envs)
                    }
                    None => (State::new(), Vec::new()),
                };
                let source = taskwarrior::convert(bytes, &state, &envs, &opts.author)?;
                drop((state, envs));
                plan_source(base, source, now, progress)
            }
        };
        progress.finish();
        Ok(planned)
    };
    let done = |planned: Planned| Imported {
        planned,
        written: None,
        cut: None,
    };
    let nothing_to_write =
        |p: &Planned| !p.plan.rejected.is_empty() || p.plan.new == 0 || opts.dry_run;

    // As a recording does: validate under the lock when the journal
    // exists; a journal that does not exist is only created when there is
    // something valid to write, and then everything is checked again under
    // its lock.
    if journal.exists() {
        let locked = JournalWriter::lock(journal, opts.lock_wait, false)?;
        let planned = plan_for(Some(journal), &mut progress)?;
        if nothing_to_write(&planned) {
            return Ok(done(planned));
        }
        let mut writer = locked.into_writer(now.0)?;
        write_plan(planned, &mut writer)
    } else {
        let planned = plan_for(None, &mut progress)?;
        if nothing_to_write(&planned) {
            return Ok(done(planned));
        }
        let mut writer = JournalWriter::open(journal, now.0, opts.lock_wait)?;
        // Another process may have created it meanwhile: plan again (the
        // first plan was against an empty journal; a journal just created,
        // still without records, plans the same).
        if writer.last_seq() == 0 {
            return write_plan(planned, &mut writer);
        }
        drop(planned);
        let planned = plan_for(Some(journal), &mut progress)?;
        if !planned.plan.rejected.is_empty() || planned.plan.new == 0 {
            return Ok(done(planned));
        }
        write_plan(planned, &mut writer)
    }
}

fn write_plan(planned: Planned, writer: &mut JournalWriter) -> Result<Imported, AppError> {
    let plan = &planned.plan;
    let cut = writer.cut.take();
    // The plan numbered the new events after the last record it read under
    // this same lock; the writer must agree, or the remapped references
    // would point at the wrong events.
    if writer.last_seq() != plan.base_seq {
        return Err(AppError::Io(format!(
            "the journal's last record is #{} but #{} was read while planning; nothing written, run the import again",
            writer.last_seq(),
            plan.base_seq
        )));
    }
    let progress_on = std::io::stderr().is_terminal() && plan.new >= 10_000;
    if progress_on {
        eprint!("\r\x1b[Ktrustlog: writing {} events…", plan.new);
    }
    let appended = writer.append_batch(plan.payloads())?;
    if progress_on {
        eprint!("\r\x1b[K");
    }
    Ok(Imported {
        planned,
        written: Some((appended.first_seq, appended.last_seq)),
        cut,
    })
}

/// `1 event`, `2 events`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

// ---------------------------------------------------------------------------
// The plan: what is new, what is skipped, what is rejected

/// The journal as read under the lock: the identities of its events and
/// the validation state, read record by record (no event is kept).
struct Base {
    journal: Option<[u8; 16]>,
    /// The journal the file says it comes from (JSON lines with ids).
    from: Option<[u8; 16]>,
    /// The last record's seq (a hole included): new events follow it.
    last_seq: Seq,
    ids: JournalIds,
    check: Check,
}

impl Base {
    fn empty(from: Option<[u8; 16]>) -> Self {
        Base {
            journal: None,
            from,
            last_seq: 0,
            ids: JournalIds::default(),
            check: Check::default(),
        }
    }

    fn read(path: &Path, from: Option<[u8; 16]>) -> Result<Self, AppError> {
        let journal = match log::open_scan(path, false, false) {
            Ok(sc) => sc.header().journal_id,
            // A creation cut short: no header yet, no records.
            Err(LogError::Truncated { .. }) => return Ok(Base::empty(from)),
            Err(e) => return Err(e.into()),
        };
        let mut base = Base::empty(from);
        base.journal = Some(journal);
        let mut d = Digester::default();
        let mut bad: Option<Seq> = None;
        log::for_each_record(path, |seq, payload| {
            match codec::decode_ref(seq, payload) {
                Ok(env) => {
                    base.ids.add(&mut d, &env);
                    base.check.add(&env);
                    if let EventRef::Retracted { seq: r, .. } = env.event {
                        base.check.note_retraction(env.seq, r);
                    }
                }
                Err(_) => {
                    bad.get_or_insert(seq);
                }
            }
            Ok(())
        })?;
        if let Some(seq) = bad {
            // The owned decoder's words for it, as every other reader says.
            let mut payload_err = None;
            log::for_each_record(path, |s, payload| {
                if s == seq {
                    payload_err = codec::decode(s, payload).err();
                }
                Ok(())
            })?;
            if let Some(e) = payload_err {
                return Err(e.into());
            }
        }
        base.check.settle();
        if !base.same_journal() {
            // References by seq are looked up here only for this journal's
            // own files.
            base.ids.by_seq = Vec::new();
        }
        base.last_seq = log::head(path)?.0;
        Ok(base)
    }

    fn same_journal(&self) -> bool {
        self.from.is_some() && self.from == self.journal
    }
}

struct Plan {
    /// How many events are new: appended numbered from `base_seq + 1`,
    /// references in this journal's ids.
    new: usize,
    /// Their payloads end to end; the i-th ends at `ends[i]`.
    payload_bytes: Vec<u8>,
    ends: Vec<usize>,
    skipped: usize,
    rejected: Vec<Rejection>,
    /// Events in the source.
    total: usize,
    base_seq: Seq,
}

impl Plan {
    fn payloads(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(s, e)| &self.payload_bytes[s..e])
    }
}

/// A plan and what the source says besides its events (Taskwarrior).
struct Planned {
    plan: Plan,
    not_mapped: Vec<NotMapped>,
    ignored_attributes: BTreeMap<String, u64>,
}

/// Plans JSON lines, read as they are checked: threads read chunks of
/// lines on their own (JSON, times, the checks of a line by itself), the
/// caller's thread takes their results in file order and plans, so the
/// planner never waits for JSON.
fn plan_jsonl(base: Base, bytes: &[u8], now: Timestamp, progress: &mut Progress) -> Planned {
    let (chunks, lines) = chunks(bytes, CHUNK);
    // For progress: the lines that can hold an event (not the empty one
    // after a final line break).
    let total = lines - usize::from(bytes.ends_with(b"\n"));
    progress.set_total(total as u64);
    // A payload is about 40% of its JSON line: room for them all, so the
    // buffer is not copied as it grows (untouched room costs no memory).
    let mut p = Planner::new(base, now, bytes.len() / 2, lines);
    let readers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let reader = std::thread::scope(|scope| {
        let mut parsed = Vec::new();
        for r in 0..readers {
            let (tx, rx) = std::sync::mpsc::sync_channel(2);
            parsed.push(rx);
            let chunks = &chunks;
            scope.spawn(move || {
                for (i, c) in chunks.iter().enumerate().skip(r).step_by(readers) {
                    let lines = parse_chunk(bytes, c, i + 1 == chunks.len());
                    if tx.send(lines).is_err() {
                        break;
                    }
                }
            });
        }
        let mut reader = JsonlReader::new(bytes);
        for i in 0..chunks.len() {
            // A reader thread only stops early on a bug (a panic), which
            // the scope passes on.
            let Ok(batch) = parsed[i % readers].recv() else {
                break;
            };
            for (line, parsed) in batch {
                progress.at(line as u64);
                if let Some(se) = reader.accept(line, parsed) {
                    p.take_or_reject(se);
                }
            }
        }
        reader
    });
    let plan = p.finish(
        reader.rejected,
        &reader.rejected_promises,
        &reader.rejected_seqs,
        reader.events,
    );
    Planned {
        plan,
        not_mapped: Vec::new(),
        ignored_attributes: BTreeMap::new(),
    }
}

/// Plans a source converted whole (Taskwarrior).
fn plan_source(base: Base, src: Source, now: Timestamp, progress: &mut Progress) -> Planned {
    let events = src.events.len();
    progress.set_total(events as u64);
    let mut p = Planner::new(base, now, 0, events);
    for (i, se) in src.events.into_iter().enumerate() {
        p.take_or_reject(se);
        progress.at(i as u64 + 1);
    }
    let plan = p.finish(
        src.rejected,
        &src.rejected_promises,
        &src.rejected_seqs,
        events,
    );
    Planned {
        plan,
        not_mapped: src.not_mapped,
        ignored_attributes: src.ignored_attributes,
    }
}

/// Why an event is rejected. A reference to an event that is not there
/// is worded once the whole file is read: whether that event was on a
/// line rejected while reading is only known then.
enum Reject {
    Said(String),
    Missing(Missing),
}

/// A reference that resolves nowhere: a retracted seq, or a promise id.
struct Missing {
    retraction: bool,
    n: u64,
}

impl Missing {
    fn of(e: &Event) -> Self {
        match e {
            Event::Retracted { seq, .. } => Missing {
                retraction: true,
                n: *seq,
            },
            ev => Missing {
                retraction: false,
                n: ev.promise().unwrap_or(0),
            },
        }
    }
}

impl From<String> for Reject {
    fn from(s: String) -> Self {
        Reject::Said(s)
    }
}

/// Walks the source in order, deciding for each event: skip, new, reject.
struct Planner {
    now: Timestamp,
    from: Option<[u8; 16]>,
    same_journal: bool,
    d: Digester,
    /// Identities of the journal's events.
    tids: JournalIds,
    /// Identities of the source's events, and where they went.
    sids: SourceIds,
    /// The journal's state, new events included as accepted: what new
    /// events are validated against.
    check: Check,
    /// Source promise ids / seqs whose event the planner rejected:
    /// dependents say so (those rejected while reading are looked up at
    /// the end).
    rejected_promises: HashMap<PromiseId, String>,
    rejected_seqs: HashMap<Seq, String>,
    /// Rejected events: line, origin, why.
    rejected: Vec<(usize, String, Reject)>,
    next_seq: Seq,
    plan: Plan,
}

impl Planner {
    /// `bytes`: room for the payloads; `events`: about how many the source has.
    fn new(base: Base, now: Timestamp, bytes: usize, events: usize) -> Self {
        let same_journal = base.same_journal();
        let mut sids = SourceIds {
            identify: !base.ids.seq_of.is_empty(),
            ..SourceIds::default()
        };
        if sids.identify {
            sids.occurrences.reserve(events);
        }
        sids.events.reserve(events);
        Planner {
            now,
            from: base.from,
            same_journal,
            d: Digester::default(),
            tids: base.ids,
            sids,
            check: base.check,
            rejected_promises: HashMap::new(),
            rejected_seqs: HashMap::new(),
            rejected: Vec::new(),
            next_seq: base.last_seq + 1,
            plan: Plan {
                new: 0,
                payload_bytes: Vec::with_capacity(bytes),
                ends: Vec::with_capacity(events),
                skipped: 0,
                rejected: Vec::new(),
                total: 0,
                base_seq: base.last_seq,
            },
        }
    }

    fn take_or_reject(&mut self, mut se: SourceEvent) {
        let (line, seq) = (se.line, se.env.seq);
        let made = match se.env.event {
            Event::PromiseMade { promise, .. } => Some(promise),
            _ => None,
        };
        let origin = std::mem::take(&mut se.origin);
        if let Err(reason) = self.take(se) {
            let origin = if origin.is_empty() {
                format!("line {line}")
            } else {
                origin
            };
            if let Some(promise) = made {
                self.rejected_promises.insert(promise, origin.clone());
            }
            self.rejected_seqs.insert(seq, origin.clone());
            self.rejected.push((line, origin, reason));
        }
    }

    /// The plan, with the rejections of reading first (as they were found),
    /// then the planner's, ordered by line.
    fn finish(
        self,
        mut rejected: Vec<Rejection>,
        read_promises: &HashMap<PromiseId, String>,
        read_seqs: &HashMap<Seq, String>,
        events: usize,
    ) -> Plan {
        let mut plan = self.plan;
        plan.total = events + rejected.len();
        for (line, origin, reason) in self.rejected {
            let reason = match reason {
                Reject::Said(s) => s,
                Reject::Missing(m) => {
                    let by = if m.retraction {
                        read_seqs.get(&m.n)
                    } else {
                        read_promises.get(&m.n)
                    };
                    missing_reference(&m, self.from, self.same_journal, by)
                }
            };
            rejected.push(Rejection {
                origin,
                line,
                reason,
            });
        }
        plan.rejected = rejected;
        if !plan.rejected.is_empty() {
            // Every bad line was checked and is reported; nothing is written.
            plan.rejected.sort_by_key(|r| r.line);
            plan.new = 0;
            plan.payload_bytes = Vec::new();
            plan.ends = Vec::new();
        }
        plan
    }

    /// A missing reference: worded now if the planner rejected the event
    /// it names, at the end otherwise.
    fn missing(&self, e: &Event) -> Reject {
        let m = Missing::of(e);
        let by = if m.retraction {
            self.rejected_seqs.get(&m.n)
        } else {
            self.rejected_promises.get(&m.n)
        };
        match by {
            Some(origin) => Reject::Said(missing_reference(
                &m,
                self.from,
                self.same_journal,
                Some(origin),
            )),
            None => Reject::Missing(m),
        }
    }

    fn take(&mut self, se: SourceEvent) -> Result<(), Reject> {
        let SourceEvent {
            env: mut e,
            client_hint,
            ..
        } = se;
        let er = e.as_ref();
        // The reference, resolved in the source, or in the journal itself
        // for a file exported from it.
        let reference = match self.sids.reference(&er.event) {
            Ref::None => None,
            Ref::Found(k) => Some(k),
            Ref::Missing => match (self.same_journal, self.tids.reference(&er.event)) {
                (true, Ref::Found(k)) => Some(k),
                _ => return Err(self.missing(&e.event)),
            },
        };
        let id = self.sids.add(&mut self.d, &er, reference.as_ref());
        // The source's own numbers, for messages and the maps.
        let src = SourceRef {
            promise: e.event.promise().unwrap_or(0),
            seq: match e.event {
                Event::Retracted { seq, .. } => seq,
                _ => 0,
            },
        };
        let made = matches!(e.event, Event::PromiseMade { .. });
        if let Some(&tseq) = self.tids.seq_of.get(&short(&id)) {
            // Already in the journal: skip it, and remember where it is.
            let tp = self.tids.promise_at.get(&tseq).copied();
            self.found_at(made.then_some(src.promise), tseq, tp);
            self.plan.skipped += 1;
            return Ok(());
        }
        // New: its references in this journal's numbers.
        let next_promise = self.check.next_promise_id();
        let remapped = match e.event {
            Event::PromiseMade { .. } => Some(next_promise),
            Event::Retracted { seq, .. } => self
                .sids
                .entry(seq)
                .map(|s| s.journal_seq)
                .filter(|&t| t != 0),
            Event::PromiseMoved { promise, .. }
            | Event::PromiseKept { promise, .. }
            | Event::PromiseBroken { promise, .. }
            | Event::PromiseReleased { promise, .. } => {
                self.sids.promise.get(&promise).and_then(|p| p.1)
            }
            _ => None,
        };
        match (&mut e.event, remapped) {
            (
                Event::PromiseMade { promise, .. }
                | Event::PromiseMoved { promise, .. }
                | Event::PromiseKept { promise, .. }
                | Event::PromiseBroken { promise, .. }
                | Event::PromiseReleased { promise, .. }
                | Event::Retracted { seq: promise, .. },
                Some(t),
            ) => *promise = t,
            (
                Event::PromiseMoved { .. }
                | Event::PromiseKept { .. }
                | Event::PromiseBroken { .. }
                | Event::PromiseReleased { .. }
                | Event::Retracted { .. },
                None,
            ) if !self.same_journal => return Err(self.missing(&e.event)),
            _ => {}
        }
        let env = Envelope {
            seq: self.next_seq,
            ..e
        };
        validate(&self.check, &env, src, client_hint.as_deref(), self.now)?;
        codec::encode_into(&env, &mut self.plan.payload_bytes).map_err(|err| err.to_string())?;

        // Accepted: from now on it is part of the journal for what follows.
        self.found_at(made.then_some(src.promise), env.seq, Some(next_promise));
        let er = env.as_ref();
        if self.same_journal {
            // The new event can be referred to by its seq or promise id in
            // this journal's numbering, as the journal's own events can.
            self.tids.record(&er, id);
        }
        self.check.add(&er);
        if let EventRef::Retracted { seq, .. } = er.event {
            self.check.retract(er.seq, seq);
        }
        self.next_seq += 1;
        self.plan.ends.push(self.plan.payload_bytes.len());
        self.plan.new += 1;
        Ok(())
    }

    /// The source event just added to `sids` is at `tseq` in the journal;
    /// when it is a `PromiseMade` (of the source's promise `made`), that
    /// promise is the journal's `tp`.
    fn found_at(&mut self, made: Option<PromiseId>, tseq: Seq, tp: Option<PromiseId>) {
        if let Some(last) = self.sids.events.last_mut() {
            last.journal_seq = tseq;
        }
        if let (Some(promise), Some(tp)) = (made, tp) {
            if let Some(p) = self.sids.promise.get_mut(&promise) {
                p.1 = Some(tp);
            }
        }
    }
}

/// A source event's own promise id and retracted seq (0 when it has none):
/// messages name what the file says.
#[derive(Clone, Copy)]
struct SourceRef {
    promise: PromiseId,
    seq: Seq,
}

fn missing_reference(
    m: &Missing,
    from: Option<[u8; 16]>,
    same_journal: bool,
    rejected: Option<&String>,
) -> String {
    let what = if m.retraction {
        format!("retracts seq {}", m.n)
    } else {
        format!("promise {}", m.n)
    };
    if let Some(origin) = rejected {
        return format!("{what}, whose event ({origin}) was rejected");
    }
    let whence = match (from, same_journal) {
        (_, true) => "this journal has no such event either".to_string(),
        (Some(j), false) => format!(
            "the file was exported from another journal ({}), so its other events cannot be looked up here; \
             export that journal whole, without --client/--from/--to",
            hex(&j)
        ),
        (None, false) => {
            "the file has no ids saying which journal it comes from, so only events in it can be referred to"
                .to_string()
        }
    };
    if m.retraction {
        format!("{what}, which is not earlier in the file; {whence}")
    } else {
        format!("{what} is not made earlier in the file; {whence}")
    }
}
