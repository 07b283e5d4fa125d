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
//! # Bounded memory
//!
//! The file is read as a stream ([`Input`]), never whole: what is held is
//! a chunk of lines per reader thread and the plan (the new events,
//! encoded, and their identities) — what will be written. A line longer
//! than [`MAX_LINE`] is rejected without reading the rest of it, and the
//! input is not read past it; after [`MAX_REJECTED`] rejected lines it is
//! not read further either (a file that is not an export is refused
//! quickly, whatever its size).
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
use std::io::{BufRead, IsTerminal};
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
mod lines;
mod scan;
mod taskwarrior;

use check::{validate, Check};
use fast::{parse_chunk, CHUNK};
use identity::{short, Digester, JournalIds, Ref, SourceIds};
use jsonl::{hex, JsonlReader, Parsed};
pub use lines::MAX_LINE;
use lines::{Chunk, Chunker, Stop};

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
    /// Taskwarrior: tasks entered after their due, imported as promises
    /// made at their due (issue 12.12), and what was done.
    pub fn migrated(&self) -> &[NotMapped] {
        &self.planned.migrated
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
    /// Taskwarrior: tasks imported with a made time of their own (entered
    /// after their due), and how.
    pub migrated: Vec<NotMapped>,
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

/// The file to import, read as a stream: whatever its size, what is held
/// is one chunk of lines per reader thread (no line longer than
/// [`MAX_LINE`]) and what the plan keeps — the events to write, encoded.
pub struct Input<'a> {
    pub reader: &'a mut (dyn BufRead + Send),
    /// Its length, when known: the total of the progress shown on a
    /// terminal, and a hint for the plan's buffers.
    pub len: Option<u64>,
}

/// After this many rejected lines (or tasks) the input is not read
/// further: a file that is not an export at all is refused at once, not
/// after reading (and listing) all of it.
pub const MAX_REJECTED: usize = 1000;

/// Imports `input` (a file in `opts.format`) into the journal at
/// `journal`: planned and checked under the writer's lock, then written
/// with one batch append, all or nothing. `now` is the writer's clock
/// (events recorded after it are refused). Progress of the checking is
/// shown on a terminal.
///
/// JSON lines are read and checked as a stream under the writer's lock
/// (so a slow standard input holds the lock while it is read); a
/// Taskwarrior export is read whole, as tasks, before the lock is taken
/// (its events are sorted by time).
pub fn import(
    journal: &Path,
    input: Input<'_>,
    opts: &ImportOptions,
    now: Timestamp,
) -> Result<Imported, AppError> {
    let mut progress = Progress::new("checking the import", Unit::Bytes, input.len.unwrap_or(0));
    let mut input = Some(input);
    let tasks = match opts.format {
        ImportFormat::Taskwarrior => match input.take() {
            Some(i) => Some(taskwarrior::read(i.reader)?),
            None => None,
        },
        ImportFormat::Jsonl => None,
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
    // something valid to write.
    let locked = if journal.exists() {
        Some(JournalWriter::lock(journal, opts.lock_wait, false)?)
    } else {
        None
    };
    let path = locked.as_ref().map(|_| journal);
    // Plans against the journal at `path` (or an empty one): JSON lines
    // are read as they are checked, a Taskwarrior export is converted
    // first, against the journal's state (projects become new clients only
    // when the journal does not have them).
    let planned = match (input, tasks) {
        (Some(input), _) => {
            let planned = plan_jsonl(path, input, now, &mut progress)?;
            // One hint rather than a rejection per task line.
            let first = planned.plan.rejected.iter().min_by_key(|r| r.line);
            if let Some(r) = first.filter(|r| r.reason.ends_with(jsonl::LOOKS_LIKE_TASKWARRIOR)) {
                progress.finish();
                return Err(AppError::Invalid(format!(
                    "nothing imported, the journal is unchanged: {} {}",
                    r.origin, r.reason
                )));
            }
            planned
        }
        (None, Some((tasks, read))) => {
            let (state, envs) = match path {
                Some(p) => {
                    let envs = read_all(p)?;
                    let mut s = State::new();
                    replay_into(&envs, &mut [&mut s]);
                    (s, envs)
                }
                None => (State::new(), Vec::new()),
            };
            let source = taskwarrior::convert(tasks, read, &state, &envs, &opts.author)?;
            drop((state, envs));
            let base = match path {
                Some(p) => Base::read(p, None)?,
                None => Base::empty(None),
            };
            plan_source(base, source, now, &mut progress)
        }
        (None, None) => return Err(AppError::Io("import: no input to read".into())),
    };
    progress.finish();
    if nothing_to_write(&planned) {
        return Ok(done(planned));
    }
    match locked {
        Some(locked) => {
            let mut writer = locked.into_writer(now.0)?;
            write_plan(planned, &mut writer)
        }
        None => {
            let mut writer = JournalWriter::open(journal, now.0, opts.lock_wait)?;
            // Planned against an empty journal; one just created by
            // another process, still without records, plans the same. One
            // with records does not, and the input cannot be read again.
            if writer.last_seq() == 0 {
                return write_plan(planned, &mut writer);
            }
            Err(AppError::Io(format!(
                "{} was created by another process while the import was being checked \
                 (it now ends at #{}): nothing written, run the import again",
                journal.display(),
                writer.last_seq()
            )))
        }
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
    // Progress on the terminal only; a stderr that fails cannot stop the
    // import (eprint! would panic).
    if progress_on {
        let line = format!("\r\x1b[Ktrustlog: writing {} events…", plan.new);
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    }
    let appended = writer.append_batch(plan.payloads())?;
    if progress_on {
        let _ = std::io::Write::write_all(&mut std::io::stderr(), b"\r\x1b[K");
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
    migrated: Vec<NotMapped>,
    ignored_attributes: BTreeMap<String, u64>,
}

/// What a reader thread hands over: the lines of a chunk, read on their
/// own; the input offset at its end; whether it was the last.
type Parsed1 = (Vec<(usize, Parsed<'static>)>, u64, bool);

/// Plans JSON lines, read as they are checked: one thread cuts the input
/// into chunks of whole lines, reader threads parse them on their own (JSON,
/// times, the checks of a line by itself), the caller's thread takes their
/// results in file order and plans, so the planner never waits for JSON.
/// Channels of one chunk each bound what is in flight.
///
/// The file's journal id decides how references to events outside the
/// file resolve, and is wanted before the journal is read: the events
/// before the first line with an id (usually none) wait for it.
fn plan_jsonl(
    path: Option<&Path>,
    input: Input<'_>,
    now: Timestamp,
    progress: &mut Progress,
) -> Result<Planned, AppError> {
    // A payload is about 40% of its JSON line: room for them all, so the
    // buffer is not copied as it grows (untouched room costs no memory);
    // a hint only, so capped.
    let input_len = input.len;
    let hint = usize::try_from(input_len.unwrap_or(0)).unwrap_or(usize::MAX);
    let (room, events) = ((hint / 2).min(1 << 30), (hint / 200).min(1 << 23));
    let start = |from: Option<[u8; 16]>| -> Result<Planner, AppError> {
        let base = match path {
            Some(p) => Base::read(p, from)?,
            None => Base::empty(from),
        };
        Ok(Planner::new(base, now, room, events))
    };
    let readers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let source = input.reader;
    let (reader, planner) = std::thread::scope(|scope| -> Result<_, AppError> {
        let mut work = Vec::new();
        let mut parsed = Vec::new();
        for _ in 0..readers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Chunk, Stop>>(1);
            let (ptx, prx) = std::sync::mpsc::sync_channel::<Result<Parsed1, Stop>>(1);
            work.push(tx);
            parsed.push(prx);
            scope.spawn(move || {
                for w in rx {
                    let out = w.map(|c| {
                        let lines = parse_chunk(&c)
                            .into_iter()
                            .map(|(n, p)| (n, p.into_owned()))
                            .collect();
                        (lines, c.offset, c.last)
                    });
                    if ptx.send(out).is_err() {
                        return;
                    }
                }
            });
        }
        scope.spawn(move || {
            let mut chunks = Chunker::new(source, CHUNK, MAX_LINE);
            for i in 0.. {
                let (msg, end) = match chunks.next() {
                    Ok(None) => return,
                    Ok(Some(c)) => {
                        let last = c.last;
                        (Ok(c), last)
                    }
                    Err(stop) => (Err(stop), true),
                };
                // The planner may have stopped reading (and dropped its
                // ends): then so does this thread.
                if work[i % readers].send(msg).is_err() || end {
                    return;
                }
            }
        });
        let mut reader = JsonlReader::default();
        let mut planner: Option<Planner> = None;
        let mut waiting: Vec<SourceEvent> = Vec::new();
        'read: for i in 0.. {
            // A reader thread only stops early on a bug (a panic), which
            // the scope passes on.
            let Ok(msg) = parsed[i % readers].recv() else {
                break;
            };
            let (batch, offset, last) = match msg {
                Ok(b) => b,
                Err(Stop::Io(e)) => return Err(AppError::Io(e.to_string())),
                Err(Stop::TooLong { line }) => {
                    reader.rejected.push(Rejection {
                        origin: format!("line {line}"),
                        line,
                        reason: Stop::too_long_reason("an export line"),
                    });
                    break;
                }
            };
            let n = batch.len();
            for (k, (line, parsed)) in batch.into_iter().enumerate() {
                if let Some(se) = reader.accept(line, parsed) {
                    match &mut planner {
                        Some(p) => p.take_or_reject(se),
                        None => waiting.push(se),
                    }
                }
                if planner.is_none() && reader.journal_from().is_some() {
                    let mut p = start(reader.journal_from())?;
                    for se in waiting.drain(..) {
                        p.take_or_reject(se);
                    }
                    planner = Some(p);
                }
                let rejected =
                    reader.rejected.len() + planner.as_ref().map_or(0, |p| p.rejected.len());
                if rejected >= MAX_REJECTED && !(last && k + 1 == n) {
                    reader.rejected.push(Rejection {
                        origin: format!("line {}", line + 1),
                        line: line + 1,
                        reason: format!(
                            "not read: {MAX_REJECTED} lines were rejected before it, so the input was not read further"
                        ),
                    });
                    break 'read;
                }
            }
            // Standard input has no length to count against.
            if input_len.is_some() {
                progress.at(offset);
            }
            if last {
                break;
            }
        }
        let mut p = match planner {
            Some(p) => p,
            None => start(None)?,
        };
        for se in waiting {
            p.take_or_reject(se);
        }
        Ok((reader, p))
    })?;
    let plan = planner.finish(
        reader.rejected,
        &reader.rejected_promises,
        &reader.rejected_seqs,
        reader.events,
    );
    Ok(Planned {
        plan,
        not_mapped: Vec::new(),
        migrated: Vec::new(),
        ignored_attributes: BTreeMap::new(),
    })
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
        migrated: src.migrated,
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
        match e.as_ref().seq_ref() {
            Some(seq) => Missing {
                retraction: true,
                n: seq,
            },
            None => Missing {
                retraction: false,
                n: e.promise().unwrap_or(0),
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
            seq: e.event.as_ref().seq_ref().unwrap_or(0),
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
            Event::Retracted { seq, .. } | Event::Amended { seq, .. } => self
                .sids
                .entry(seq)
                .map(|s| s.journal_seq)
                .filter(|&t| t != 0),
            Event::PromiseMoved { promise, .. }
            | Event::PromiseKept { promise, .. }
            | Event::PromiseBroken { promise, .. }
            | Event::PromiseReleased { promise, .. }
            | Event::PromiseDelivered { promise, .. } => {
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
                | Event::PromiseDelivered { promise, .. }
                | Event::Retracted { seq: promise, .. }
                | Event::Amended { seq: promise, .. },
                Some(t),
            ) => *promise = t,
            (
                Event::PromiseMoved { .. }
                | Event::PromiseKept { .. }
                | Event::PromiseBroken { .. }
                | Event::PromiseReleased { .. }
                | Event::PromiseDelivered { .. }
                | Event::Retracted { .. }
                | Event::Amended { .. },
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

#[cfg(test)]
mod tests {
    use super::identity::tests::env;
    use super::lines::tests::Counting;
    use super::*;
    use crate::events::Fit;
    use std::io::{BufReader, Read};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    const BUF: usize = 64 * 1024;

    /// Imports `good` followed by a line of `3 * MAX_LINE` bytes (never
    /// read whole) into a new journal; returns what it did and how many
    /// bytes it read.
    fn import_with_a_long_line(good: &[u8], format: ImportFormat) -> (Imported, u64, bool) {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.tlog");
        let read = Arc::new(AtomicU64::new(0));
        let src = Counting {
            inner: good.chain(std::io::repeat(b'a').take(3 * MAX_LINE as u64)),
            read: read.clone(),
        };
        let mut r = BufReader::with_capacity(BUF, src);
        let opts = ImportOptions {
            format,
            dry_run: false,
            author: "ana".into(),
            lock_wait: std::time::Duration::from_secs(1),
        };
        let input = Input {
            reader: &mut r,
            len: None,
        };
        let done = import(&journal, input, &opts, Timestamp(i64::MAX / 2)).unwrap();
        (done, read.load(Ordering::Relaxed), journal.exists())
    }

    #[test]
    fn a_line_too_long_is_rejected_without_reading_the_rest_of_it() {
        let e = env(
            1,
            Event::ClientAdded {
                handle: "acme".into(),
                name: "Acme".into(),
                fit: Fit::Target,
                note: String::new(),
            },
        );
        let good = format!("{}\n", crate::events::json::envelope_json(&e));
        let (done, read, created) = import_with_a_long_line(good.as_bytes(), ImportFormat::Jsonl);
        assert!(!created, "nothing written");
        assert_eq!(done.written, None);
        let r = done.rejected();
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].line, 2);
        assert!(
            r[0].reason
                .contains(&format!("longer than {MAX_LINE} bytes")),
            "{r:?}"
        );
        // The good line, at most the limit of the long one, and what the
        // buffer had read ahead.
        let bound = (good.len() + MAX_LINE + BUF) as u64;
        assert!(read <= bound, "read {read} bytes, more than {bound}");

        // A Taskwarrior array whose first task is too long.
        let (done, read, created) =
            import_with_a_long_line(b"[{\"a\":\"", ImportFormat::Taskwarrior);
        assert!(!created);
        let r = done.rejected();
        assert!(r.len() == 1 && r[0].origin == "task #1", "{r:?}");
        assert!(r[0]
            .reason
            .contains(&format!("longer than {MAX_LINE} bytes")));
        assert!(read <= (7 + MAX_LINE + BUF) as u64, "read {read} bytes");
        // One task per line.
        let (done, read, _) = import_with_a_long_line(b"{}\n", ImportFormat::Taskwarrior);
        let r = done.rejected();
        assert!(
            r.iter()
                .any(|r| r.origin == "line 2" && r.reason.contains("longer than")),
            "{r:?}"
        );
        assert!(read <= (3 + MAX_LINE + BUF) as u64, "read {read} bytes");
    }

    #[test]
    fn garbage_stops_the_reading_after_max_rejected_lines() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.tlog");
        let read = Arc::new(AtomicU64::new(0));
        // 64 MiB of garbage lines, far more than are read.
        struct Garbage(u64);
        impl Read for Garbage {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.0 as usize);
                for (i, b) in buf[..n].iter_mut().enumerate() {
                    *b = if (self.0 as usize - i) % 10 == 1 {
                        b'\n'
                    } else {
                        b'x'
                    };
                }
                self.0 -= n as u64;
                Ok(n)
            }
        }
        let total = 64u64 << 20;
        let mut src = Counting {
            inner: Garbage(total),
            read: read.clone(),
        };
        let mut r = BufReader::with_capacity(BUF, &mut src);
        let opts = ImportOptions {
            format: ImportFormat::Jsonl,
            dry_run: false,
            author: "ana".into(),
            lock_wait: std::time::Duration::from_secs(1),
        };
        let input = Input {
            reader: &mut r,
            len: None,
        };
        let done = import(&journal, input, &opts, Timestamp(i64::MAX / 2)).unwrap();
        let rejected = done.rejected();
        assert_eq!(rejected.len(), MAX_REJECTED + 1);
        assert_eq!(rejected[MAX_REJECTED].line, MAX_REJECTED + 1);
        assert!(rejected[MAX_REJECTED].reason.contains("not read"));
        assert!(!journal.exists());
        // Not read to its end: the lines checked and the chunks in flight.
        let n = read.load(Ordering::Relaxed);
        assert!(n < total / 4, "read {n} of {total} bytes");
    }
}
