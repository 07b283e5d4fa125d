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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use serde_json::{json, Value};

use super::context::{read_all, replay_into, Ctx};
use super::error::{invalid, CliError};
use super::output::{envelope_from_json, EXPORT_EXTRA_KEYS};
use crate::events::{
    codec, AdvocacyKind, Cause, Due, Envelope, EnvelopeRef, Event, EventRef, Fit, InteractionKind,
    Party, PromiseId, Seq, Timestamp, EVENT_KINDS,
};
use crate::log::{self, JournalWriter, LogError, DEFAULT_LOCK_WAIT};
use crate::projections::state::{PromiseStatus, State};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// JSON lines as written by `trustlog export`
    Jsonl,
    /// The JSON of `task export` (an array, or one task per line)
    Taskwarrior,
}

impl ImportFormat {
    fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Jsonl => "jsonl",
            ImportFormat::Taskwarrior => "taskwarrior",
        }
    }
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The file to import; `-` reads standard input
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ImportFormat,
    /// Check everything and say what would be imported; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// How many rejected lines an error message lists before "… and N more".
const SHOW_REJECTED: usize = 50;

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
pub(crate) struct Rejection {
    pub origin: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotMapped {
    pub task: String,
    pub description: String,
    pub reason: String,
}

pub fn import(ctx: &Ctx, a: &ImportArgs) -> Result<(), CliError> {
    let bytes = read_input(&a.file)?;
    let name = if a.file.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        a.file.display().to_string()
    };
    let now = ctx.now_ts();
    let mut progress = Progress::new();
    // The file's journal id decides how references to events outside the
    // file resolve, before the journal is read (see `JsonlReader::source_journal`).
    let from = match a.format {
        ImportFormat::Jsonl => JsonlReader::source_journal(&bytes),
        ImportFormat::Taskwarrior => None,
    };
    // Plans against the journal at `path` (or an empty one): JSON lines
    // are read as they are checked, a Taskwarrior export is converted
    // first, against the journal's state (projects become new clients only
    // when the journal does not have them).
    let plan_for = |path: Option<&Path>, progress: &mut Progress| -> Result<Planned, CliError> {
        let base = match path {
            Some(p) => Base::read(p, from)?,
            None => Base::empty(from),
        };
        let planned = match a.format {
            ImportFormat::Jsonl => plan_jsonl(base, &bytes, now, progress),
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
                let source = taskwarrior::convert(&bytes, &state, &envs, &ctx.author)?;
                drop((state, envs));
                plan_source(base, source, now, progress)
            }
        };
        progress.finish();
        Ok(planned)
    };

    // As `record` does: validate under the lock when the journal exists; a
    // journal that does not exist is only created when there is something
    // valid to write, and then everything is checked again under its lock.
    if ctx.journal.exists() {
        let locked = JournalWriter::lock(&ctx.journal, DEFAULT_LOCK_WAIT, false)?;
        let planned = plan_for(Some(&ctx.journal), &mut progress)?;
        let planned = checked(ctx, &name, a, planned)?;
        if planned.plan.new == 0 || a.dry_run {
            return print_report(ctx, &name, a, &planned, None);
        }
        let mut writer = locked.into_writer(now.0)?;
        write_plan(ctx, &name, a, &planned, &mut writer)
    } else {
        let planned = plan_for(None, &mut progress)?;
        let planned = checked(ctx, &name, a, planned)?;
        if planned.plan.new == 0 || a.dry_run {
            return print_report(ctx, &name, a, &planned, None);
        }
        let mut writer = JournalWriter::open(&ctx.journal, now.0, DEFAULT_LOCK_WAIT)?;
        // Another process may have created it meanwhile: plan again (the
        // first plan was against an empty journal; a journal just created,
        // still without records, plans the same).
        if writer.last_seq() == 0 {
            return write_plan(ctx, &name, a, &planned, &mut writer);
        }
        drop(planned);
        let planned = plan_for(Some(&ctx.journal), &mut progress)?;
        let planned = checked(ctx, &name, a, planned)?;
        if planned.plan.new == 0 {
            return print_report(ctx, &name, a, &planned, None);
        }
        write_plan(ctx, &name, a, &planned, &mut writer)
    }
}

fn read_input(file: &Path) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::Io(format!("reading standard input: {e}")))?;
        return Ok(bytes);
    }
    match std::fs::read(file) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(invalid(format!(
            "no file to import at {}: expected the path of an export (or - for standard input)",
            file.display()
        ))),
        Err(e) => Err(CliError::Io(format!("reading {}: {e}", file.display()))),
    }
}

/// Turns a plan with rejections into the error (and, with `--json`, the
/// report on stdout too, so a script sees every reason).
fn checked(ctx: &Ctx, name: &str, a: &ImportArgs, planned: Planned) -> Result<Planned, CliError> {
    if planned.plan.rejected.is_empty() {
        return Ok(planned);
    }
    if ctx.json {
        print_report(ctx, name, a, &planned, None)?;
    }
    let plan = &planned.plan;
    let mut msg = format!(
        "nothing imported from {name}: {} of its {} rejected; the journal is unchanged:",
        plan.rejected.len(),
        plural(plan.total, "event", "events"),
    );
    for r in plan.rejected.iter().take(SHOW_REJECTED) {
        msg.push_str(&format!("\n  {}: {}", r.origin, r.reason));
    }
    if plan.rejected.len() > SHOW_REJECTED {
        msg.push_str(&format!(
            "\n  … and {} more",
            plan.rejected.len() - SHOW_REJECTED
        ));
    }
    Err(invalid(msg))
}

fn write_plan(
    ctx: &Ctx,
    name: &str,
    a: &ImportArgs,
    planned: &Planned,
    writer: &mut JournalWriter,
) -> Result<(), CliError> {
    let plan = &planned.plan;
    if let Some(cut) = &writer.cut {
        eprintln!(
            "trustlog: cut {} bytes of an incomplete write at offset {} of {} (a crash mid-append); saved them to {}",
            cut.len,
            cut.offset,
            ctx.journal.display(),
            cut.saved_to.display()
        );
    }
    // The plan numbered the new events after the last record it read under
    // this same lock; the writer must agree, or the remapped references
    // would point at the wrong events.
    if writer.last_seq() != plan.base_seq {
        return Err(CliError::Io(format!(
            "the journal's last record is #{} but #{} was read while planning; nothing written, run the import again",
            writer.last_seq(),
            plan.base_seq
        )));
    }
    let progress_on = std::io::stderr().is_terminal() && plan.new >= 10_000;
    if progress_on {
        eprint!("\rimport: writing {} events…", plan.new);
    }
    let appended = writer.append_batch(plan.payloads())?;
    if progress_on {
        eprint!("\r\x1b[K");
    }
    print_report(
        ctx,
        name,
        a,
        planned,
        Some((appended.first_seq, appended.last_seq)),
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn print_report(
    ctx: &Ctx,
    name: &str,
    a: &ImportArgs,
    planned: &Planned,
    written: Option<(Seq, Seq)>,
) -> Result<(), CliError> {
    let (plan, source) = (&planned.plan, planned);
    if ctx.json {
        let v = json!({
            "file": name,
            "format": a.format.as_str(),
            "dry_run": a.dry_run,
            "new": if plan.rejected.is_empty() { plan.new } else { 0 },
            "skipped": plan.skipped,
            "rejected": plan.rejected.len(),
            "first_seq": written.map(|w| w.0),
            "last_seq": written.map(|w| w.1),
            "rejections": plan.rejected.iter().map(|r| json!({
                "line": r.line, "origin": r.origin, "reason": r.reason
            })).collect::<Vec<_>>(),
            "not_mapped": source.not_mapped.iter().map(|n| json!({
                "task": n.task, "description": n.description, "reason": n.reason
            })).collect::<Vec<_>>(),
            "ignored_attributes": source.ignored_attributes,
        });
        println!("{v}");
        return Ok(());
    }
    let new = plan.new;
    let mut out = String::new();
    match written {
        Some((first, last)) => out.push_str(&format!(
            "imported {} from {name}: {} (#{first}–#{last}), {} (already in the journal), 0 rejected\n",
            a.format.as_str(),
            plural(new, "new event", "new events"),
            plural(plan.skipped, "skipped", "skipped"),
        )),
        None if a.dry_run => out.push_str(&format!(
            "dry run, nothing written: {name} has {}, {} (already in the journal), 0 rejected\n",
            plural(new, "new event", "new events"),
            plural(plan.skipped, "skipped", "skipped"),
        )),
        None => out.push_str(&format!(
            "nothing to import from {name}: 0 new, {} (already in the journal), 0 rejected\n",
            plural(plan.skipped, "skipped", "skipped"),
        )),
    }
    if !source.not_mapped.is_empty() {
        out.push_str(&format!(
            "not mapped ({}): these tasks are not in the journal\n",
            source.not_mapped.len()
        ));
        for n in &source.not_mapped {
            out.push_str(&format!(
                "  task {} {:?}: {}\n",
                n.task, n.description, n.reason
            ));
        }
    }
    if !source.ignored_attributes.is_empty() {
        let parts: Vec<String> = source
            .ignored_attributes
            .iter()
            .map(|(k, n)| format!("{k} ({})", plural(*n as usize, "task", "tasks")))
            .collect();
        out.push_str(&format!(
            "Taskwarrior attributes with no place in trustlog, ignored: {}\n",
            parts.join(", ")
        ));
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .map_err(|e| CliError::Io(format!("writing to stdout: {e}")))
}

// ---------------------------------------------------------------------------
// JSON lines

/// Reads `export`'s JSON lines one event at a time, so that a big file is
/// checked as it is read and never held as events. Blank lines are allowed;
/// every other line must be one event object (see
/// `output::envelope_from_json`), with seqs increasing and all ids from one
/// journal. What it rejects, and the promise ids and seqs of the events it
/// rejected, it keeps for the plan.
pub(crate) struct JsonlReader<'b> {
    bytes: &'b [u8],
    /// Where the next line starts (past the end once the last is read).
    pos: usize,
    /// The number of the line last read.
    line: usize,
    journal_from: Option<([u8; 16], usize)>,
    last_seq: Option<(Seq, usize)>,
    ids_seen: SeenIds,
    /// Events read so far.
    pub events: usize,
    pub rejected: Vec<Rejection>,
    pub rejected_promises: HashMap<PromiseId, String>,
    pub rejected_seqs: HashMap<Seq, String>,
}

/// The seqs of the ids seen so far, with their lines: mostly increasing,
/// so a sorted vector, and a map for the few that are not.
#[derive(Default)]
struct SeenIds {
    sorted: Vec<(Seq, usize)>,
    others: HashMap<Seq, usize>,
}

impl SeenIds {
    /// Records `seq` on `line`; the line it was seen on before, if any.
    fn insert(&mut self, seq: Seq, line: usize) -> Option<usize> {
        let before = match self.sorted.last() {
            Some(&(last, _)) if seq <= last => self
                .sorted
                .binary_search_by_key(&seq, |e| e.0)
                .ok()
                .map(|i| self.sorted[i].1),
            _ => None,
        };
        let before = before.or_else(|| self.others.get(&seq).copied());
        match before {
            // As a map would: the later line is remembered.
            Some(_) => {
                if let Ok(i) = self.sorted.binary_search_by_key(&seq, |e| e.0) {
                    self.sorted[i].1 = line;
                } else {
                    self.others.insert(seq, line);
                }
            }
            None => match self.sorted.last() {
                Some(&(last, _)) if seq <= last => {
                    self.others.insert(seq, line);
                }
                _ => self.sorted.push((seq, line)),
            },
        }
        before
    }
}

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;

/// The high bit of each byte of `w` (little-endian) that is zero,
/// exactly (no false positives from carries).
fn zero_bits(v: u64) -> u64 {
    !(((v & LOW7) + LOW7) | v | LOW7)
}

/// The high bit of each byte of `w` that is a newline.
fn newline_bits(w: u64) -> u64 {
    zero_bits(w ^ NEWLINES)
}

/// The position of the first byte that ends or escapes a JSON string's
/// plain run: `"`, `\\` or a control character (below 0x20).
fn find_string_special(b: &[u8]) -> Option<usize> {
    const QUOTES: u64 = 0x2222_2222_2222_2222;
    const BACKSLASHES: u64 = 0x5c5c_5c5c_5c5c_5c5c;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const BELOW_0X20: u64 = 0x6060_6060_6060_6060;
    let mut chunks = b.chunks_exact(8);
    for (i, c) in chunks.by_ref().enumerate() {
        let w = word(c);
        // A byte below 0x80 plus 0x60 reaches 0x80 exactly when it is at
        // least 0x20.
        let control = !(((w & LOW7) + BELOW_0X20) | w) & HIGH;
        let bits = zero_bits(w ^ QUOTES) | zero_bits(w ^ BACKSLASHES) | control;
        if bits != 0 {
            return Some(i * 8 + bits.trailing_zeros() as usize / 8);
        }
    }
    let tail = chunks.remainder();
    let at = b.len() - tail.len();
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

fn word(chunk: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(chunk);
    u64::from_le_bytes(b)
}

/// The position of the first `\n`, eight bytes at a time (lines are long).
fn find_newline(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    for (i, c) in chunks.by_ref().enumerate() {
        let bits = newline_bits(word(c));
        if bits != 0 {
            return Some(i * 8 + bits.trailing_zeros() as usize / 8);
        }
    }
    let tail = chunks.remainder();
    let at = b.len() - tail.len();
    tail.iter().position(|&c| c == b'\n').map(|i| at + i)
}

fn count_newlines(b: &[u8]) -> usize {
    let mut chunks = b.chunks_exact(8);
    let n: usize = chunks
        .by_ref()
        .map(|c| newline_bits(word(c)).count_ones() as usize)
        .sum();
    n + chunks.remainder().iter().filter(|&&c| c == b'\n').count()
}

/// The `client` key of a line, for events that name no client.
enum ClientKey<'a> {
    Absent,
    Str(Cow<'a, str>),
    Other(Value),
}

/// The `id` key of a line.
enum IdKey<'a> {
    Absent,
    Str(&'a str),
    Other(Value),
}

impl IdKey<'_> {
    fn parse(&self) -> Option<([u8; 16], Seq)> {
        match self {
            IdKey::Absent => None,
            IdKey::Str(s) => parse_event_id_str(s),
            IdKey::Other(v) => parse_event_id(v),
        }
    }
}

impl fmt::Display for IdKey<'_> {
    /// As JSON, the way `Value` displays it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdKey::Absent => Ok(()),
            IdKey::Str(s) => write!(f, "{}", Value::String(s.to_string())),
            IdKey::Other(v) => write!(f, "{v}"),
        }
    }
}

impl<'b> JsonlReader<'b> {
    pub(crate) fn new(bytes: &'b [u8]) -> Self {
        JsonlReader {
            bytes,
            pos: 0,
            line: 0,
            journal_from: None,
            last_seq: None,
            ids_seen: SeenIds::default(),
            events: 0,
            rejected: Vec::new(),
            rejected_promises: HashMap::new(),
            rejected_seqs: HashMap::new(),
        }
    }

    /// The journal the file's events come from: the journal id of the
    /// first line whose id is taken (usually line 1, so this reads little).
    pub(crate) fn source_journal(bytes: &[u8]) -> Option<[u8; 16]> {
        let mut r = JsonlReader::new(bytes);
        while r.journal_from.is_none() && r.next_event().is_some() {}
        r.journal_from.map(|(j, _)| j)
    }

    /// The next line, without its line break; `None` past the last one.
    fn next_line(&mut self) -> Option<&'b [u8]> {
        if self.pos > self.bytes.len() {
            return None;
        }
        let rest = &self.bytes[self.pos..];
        let raw = match find_newline(rest) {
            Some(n) => {
                self.pos += n + 1;
                &rest[..n]
            }
            None => {
                self.pos = self.bytes.len() + 1;
                rest
            }
        };
        self.line += 1;
        Some(raw)
    }

    fn reject(&mut self, line: usize, reason: String) {
        self.rejected.push(Rejection {
            origin: format!("line {line}"),
            line,
            reason,
        })
    }

    /// The next event of the file; rejected lines are kept, not returned.
    pub(crate) fn next_event(&mut self) -> Option<SourceEvent> {
        loop {
            let raw = self.next_line()?;
            if let Some(se) = self.accept(self.line, parse_line(raw, self.line)) {
                return Some(se);
            }
        }
    }

    /// The checks that need the lines before (ids, order), for a line read
    /// on its own (by [`parse_line`], maybe on another thread).
    fn accept(&mut self, line: usize, parsed: Parsed<'b>) -> Option<SourceEvent> {
        let (env, client, id) = match parsed {
            Parsed::Blank => return None,
            Parsed::Rejected {
                reason,
                seq,
                promise,
            } => {
                let origin = format!("line {line}");
                if let Some(seq) = seq {
                    self.rejected_seqs.insert(seq, origin.clone());
                }
                if let Some(p) = promise {
                    self.rejected_promises.insert(p, origin);
                }
                self.reject(line, reason);
                return None;
            }
            Parsed::Event(env, client, id) => (env, client, id),
        };
        let se = self.accept_event(line, env, client, id)?;
        self.events += 1;
        Some(se)
    }

    fn accept_event(
        &mut self,
        line: usize,
        env: Envelope,
        client: ClientKey<'_>,
        id: IdKey<'_>,
    ) -> Option<SourceEvent> {
        // From here on the line is an event: remember what it would have
        // been referred to by, if it is rejected.
        let reject = |r: &mut Self, reason: String| {
            let origin = format!("line {line}");
            if let Event::PromiseMade { promise, .. } = env.event {
                r.rejected_promises.insert(promise, origin.clone());
            }
            r.rejected_seqs.insert(env.seq, origin.clone());
            r.rejected.push(Rejection {
                origin,
                line,
                reason,
            });
            None
        };
        // `client` is only an extra on promise events that carry no client.
        let client_hint = if env.event.client().is_none() {
            match client {
                ClientKey::Absent => None,
                ClientKey::Str(c) if env.event.promise().is_some() => Some(c.into_owned()),
                ClientKey::Str(_) => {
                    return reject(
                        self,
                        format!(
                            "unknown key \"client\" for a {}: it names no client",
                            env.event.kind_name()
                        ),
                    );
                }
                ClientKey::Other(other) => {
                    return reject(
                        self,
                        format!("\"client\" is {other}: expected a client handle (a string)"),
                    );
                }
            }
        } else {
            None
        };
        if !matches!(id, IdKey::Absent) {
            match id.parse() {
                Some((j, s)) if s == env.seq => {
                    match self.journal_from {
                        Some((first, at)) if first != j => {
                            return reject(
                                self,
                                format!(
                                    "id {id} is from journal {} but line {at}'s is from journal {}: \
                                     expected one export per file (import each one separately)",
                                    hex(&j),
                                    hex(&first)
                                ),
                            );
                        }
                        Some(_) => {}
                        None => self.journal_from = Some((j, line)),
                    }
                    if let Some(prev) = self.ids_seen.insert(s, line) {
                        return reject(
                            self,
                            format!(
                                "id {id} is also on line {prev}: an event may be in a file once"
                            ),
                        );
                    }
                }
                Some((_, s)) => {
                    return reject(
                        self,
                        format!(
                            "id {id} ends in seq {s} but \"seq\" is {}: expected the same seq",
                            env.seq
                        ),
                    );
                }
                None => {
                    return reject(
                        self,
                        format!(
                            "\"id\" is {id}: expected \"<32 hex digits>-<seq>\" as written by export"
                        ),
                    );
                }
            }
        }
        if let Some((prev, at)) = self.last_seq {
            if env.seq <= prev {
                return reject(
                    self,
                    format!(
                        "seq {} is not after line {at}'s seq {prev}: expected the lines in journal order",
                        env.seq
                    ),
                );
            }
        }
        self.last_seq = Some((env.seq, line));
        Some(SourceEvent {
            origin: String::new(),
            line,
            env,
            client_hint,
        })
    }
}

/// One line read on its own.
enum Parsed<'b> {
    Blank,
    /// Not an event; with what lines referring to it would have named
    /// (best effort: its seq, and its promise if it makes one).
    Rejected {
        reason: String,
        seq: Option<Seq>,
        promise: Option<PromiseId>,
    },
    Event(Envelope, ClientKey<'static>, IdKey<'b>),
}

/// Reads line number `line` on its own: everything that does not depend on
/// the other lines.
fn parse_line(raw: &[u8], line: usize) -> Parsed<'_> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let raw = if line == 1 {
        raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw)
    } else {
        raw
    };
    let Ok(text) = std::str::from_utf8(raw) else {
        return Parsed::Rejected {
            reason: "is not UTF-8 text".into(),
            seq: None,
            promise: None,
        };
    };
    // (An event line starts with `{`: only others can be blank.)
    if !text.starts_with('{') && text.trim().is_empty() {
        return Parsed::Blank;
    }
    // Lines as `export` writes them take the typed path; anything else
    // (and every mistake) the general one, which has the words for it.
    match fast::line(text) {
        Some((env, client, id)) => Parsed::Event(env, client, id),
        None => slow_line(text),
    }
}

/// The general reading of a line (any JSON, every reason for refusing it).
fn slow_line(text: &str) -> Parsed<'static> {
    let rejected = |reason: String| Parsed::Rejected {
        reason,
        seq: None,
        promise: None,
    };
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return rejected(format!(
                "is not JSON ({e}): expected one event object per line"
            ))
        }
    };
    let Value::Object(m) = v else {
        return rejected(format!(
            "is a JSON {}, not an object: expected one event object per line",
            json_type(&v)
        ));
    };
    let env = match envelope_from_json(&m, &EXPORT_EXTRA_KEYS) {
        Ok(e) => e,
        Err(reason) => {
            let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
            let makes = kind == "PromiseMade" || !crate::events::EVENT_KINDS.contains(&kind);
            return Parsed::Rejected {
                reason,
                seq: m.get("seq").and_then(Value::as_u64),
                promise: m.get("promise").and_then(Value::as_u64).filter(|_| makes),
            };
        }
    };
    let client = match m.get("client") {
        None => ClientKey::Absent,
        Some(Value::String(c)) => ClientKey::Str(Cow::Owned(c.clone())),
        Some(other) => ClientKey::Other(other.clone()),
    };
    let id = match m.get("id") {
        None => IdKey::Absent,
        Some(v) => IdKey::Other(v.clone()),
    };
    Parsed::Event(env, client, id)
}

/// The typed reading of a line as `export` writes it: no intermediate JSON
/// tree, text borrowed where it is only looked at. It accepts a subset of
/// what the general reading (`envelope_from_json`) accepts and gives the
/// same envelope for it (a test pins that); anything it does not take —
/// a missing, extra, repeated or mistyped key, an escaped word, an unusual
/// time — goes to the general reading, which decides.
mod fast {
    use std::borrow::Cow;

    use super::{ClientKey, IdKey};
    use crate::events::{Due, Envelope, Event, Fit, InteractionKind, Party, Timestamp};

    /// The keys of a line; `None` for a key the line does not have.
    #[derive(Default)]
    struct Line<'a> {
        kind: Option<&'a str>,
        seq: Option<u64>,
        recorded_at: Option<&'a str>,
        occurred_at: Option<&'a str>,
        author: Option<Cow<'a, str>>,
        id: Option<&'a str>,
        client: Option<Cow<'a, str>>,
        name: Option<Cow<'a, str>>,
        note: Option<Cow<'a, str>>,
        reason: Option<Cow<'a, str>>,
        text: Option<Cow<'a, str>>,
        what: Option<Cow<'a, str>>,
        fit: Option<&'a str>,
        interaction: Option<&'a str>,
        by: Option<&'a str>,
        cause: Option<&'a str>,
        advocacy: Option<&'a str>,
        due: Option<&'a str>,
        mood: Option<i8>,
        /// `null` is a value here (no minutes), unlike a missing key.
        minutes: Option<Option<u32>>,
        promise: Option<u64>,
        retracted: Option<u64>,
        due_date_only: Option<bool>,
        agreed: Option<bool>,
        by_client: Option<bool>,
    }

    impl Line<'_> {
        /// Optional keys present (all but the five every line has).
        fn present(&self) -> usize {
            [
                self.id.is_some(),
                self.client.is_some(),
                self.name.is_some(),
                self.note.is_some(),
                self.reason.is_some(),
                self.text.is_some(),
                self.what.is_some(),
                self.fit.is_some(),
                self.interaction.is_some(),
                self.by.is_some(),
                self.cause.is_some(),
                self.advocacy.is_some(),
                self.due.is_some(),
                self.mood.is_some(),
                self.minutes.is_some(),
                self.promise.is_some(),
                self.retracted.is_some(),
                self.due_date_only.is_some(),
                self.agreed.is_some(),
                self.by_client.is_some(),
            ]
            .iter()
            .filter(|&&b| b)
            .count()
        }
    }

    /// Reads compact JSON as `export` writes it: one object, no
    /// whitespace, values that are strings, whole numbers, booleans or
    /// null. Anything else — whitespace, a nested value, a fraction, a
    /// leading zero, a repeated or unknown key, a control character — is
    /// `None` (the general reading then has the words for it).
    struct Scan<'a> {
        text: &'a str,
        at: usize,
    }

    impl<'a> Scan<'a> {
        fn next(&mut self) -> Option<u8> {
            let c = *self.text.as_bytes().get(self.at)?;
            self.at += 1;
            Some(c)
        }

        fn expect(&mut self, c: u8) -> Option<()> {
            (self.next()? == c).then_some(())
        }

        fn literal(&mut self, word: &str) -> Option<()> {
            let end = self.at + word.len();
            (self.text.as_bytes().get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
        }

        /// A string: borrowed when it has no escapes; `serde_json` reads
        /// the escapes of one that has.
        fn string(&mut self) -> Option<Cow<'a, str>> {
            let start = self.at;
            self.expect(b'"')?;
            let b = self.text.as_bytes();
            let mut escaped = false;
            loop {
                let rest = b.get(self.at..)?;
                let n = super::find_string_special(rest)?;
                self.at += n;
                match rest[n] {
                    b'"' => break,
                    b'\\' => {
                        // The escaped character is skipped; serde_json
                        // reads the escapes below.
                        escaped = true;
                        self.at += 2;
                    }
                    _ => return None,
                }
            }
            self.at += 1;
            if escaped {
                serde_json::from_str(&self.text[start..self.at])
                    .ok()
                    .map(Cow::Owned)
            } else {
                // Quotes are ASCII: these are character boundaries.
                Some(Cow::Borrowed(&self.text[start + 1..self.at - 1]))
            }
        }

        /// A string without escapes (keys, words, times, ids).
        fn plain(&mut self) -> Option<&'a str> {
            match self.string()? {
                Cow::Borrowed(s) => Some(s),
                Cow::Owned(_) => None,
            }
        }

        fn digits(&mut self) -> Option<u64> {
            let b = self.text.as_bytes();
            let start = self.at;
            let mut n: u64 = 0;
            while let Some(c) = b.get(self.at).filter(|c| c.is_ascii_digit()) {
                n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
                self.at += 1;
            }
            let len = self.at - start;
            // No digits, or a leading zero (not JSON).
            if len == 0 || (len > 1 && b[start] == b'0') {
                return None;
            }
            Some(n)
        }

        fn int8(&mut self) -> Option<i8> {
            if self.text.as_bytes().get(self.at) == Some(&b'-') {
                self.at += 1;
                let n = self.digits()?;
                // `-0` is left to the general reading.
                (n != 0).then_some(())?;
                i8::try_from(-i64::try_from(n).ok()?).ok()
            } else {
                i8::try_from(self.digits()?).ok()
            }
        }

        fn boolean(&mut self) -> Option<bool> {
            match self.text.as_bytes().get(self.at)? {
                b't' => self.literal("true").map(|_| true),
                b'f' => self.literal("false").map(|_| false),
                _ => None,
            }
        }
    }

    fn set<T>(slot: &mut Option<T>, v: T) -> Option<()> {
        // A repeated key is left to the general reading.
        slot.is_none().then(|| *slot = Some(v))
    }

    fn scan(text: &str) -> Option<Line<'_>> {
        let mut s = Scan { text, at: 0 };
        let mut l = Line::default();
        s.expect(b'{')?;
        loop {
            let key = s.plain()?;
            s.expect(b':')?;
            // By length and first letter first: one comparison, not twenty.
            let kb = key.as_bytes();
            let second = kb.get(1).copied();
            let known = match (kb.len(), kb.first().copied().unwrap_or(0)) {
                (4, b'k') => "kind",
                (3, b's') => "seq",
                (11, b'r') => "recorded_at",
                (11, b'o') => "occurred_at",
                (6, b'a') if second == Some(b'u') => "author",
                (2, b'i') => "id",
                (6, b'c') => "client",
                (4, b'n') if second == Some(b'a') => "name",
                (4, b'n') => "note",
                (6, b'r') => "reason",
                (4, b't') => "text",
                (4, b'w') => "what",
                (3, b'f') => "fit",
                (11, b'i') => "interaction",
                (2, b'b') => "by",
                (5, b'c') => "cause",
                (8, b'a') => "advocacy",
                (3, b'd') => "due",
                (4, b'm') => "mood",
                (7, b'm') => "minutes",
                (7, b'p') => "promise",
                (9, b'r') => "retracted",
                (13, b'd') => "due_date_only",
                (6, b'a') => "agreed",
                (9, b'b') => "by_client",
                _ => return None,
            };
            if key != known {
                return None;
            }
            match known {
                "kind" => set(&mut l.kind, s.plain()?),
                "seq" => set(&mut l.seq, s.digits()?),
                "recorded_at" => set(&mut l.recorded_at, s.plain()?),
                "occurred_at" => set(&mut l.occurred_at, s.plain()?),
                "author" => set(&mut l.author, s.string()?),
                "id" => set(&mut l.id, s.plain()?),
                "client" => set(&mut l.client, s.string()?),
                "name" => set(&mut l.name, s.string()?),
                "note" => set(&mut l.note, s.string()?),
                "reason" => set(&mut l.reason, s.string()?),
                "text" => set(&mut l.text, s.string()?),
                "what" => set(&mut l.what, s.string()?),
                "fit" => set(&mut l.fit, s.plain()?),
                "interaction" => set(&mut l.interaction, s.plain()?),
                "by" => set(&mut l.by, s.plain()?),
                "cause" => set(&mut l.cause, s.plain()?),
                "advocacy" => set(&mut l.advocacy, s.plain()?),
                "due" => set(&mut l.due, s.plain()?),
                "mood" => set(&mut l.mood, s.int8()?),
                "minutes" => {
                    let m = if s.literal("null").is_some() {
                        None
                    } else {
                        Some(u32::try_from(s.digits()?).ok()?)
                    };
                    set(&mut l.minutes, m)
                }
                "promise" => set(&mut l.promise, s.digits()?),
                "retracted" => set(&mut l.retracted, s.digits()?),
                "due_date_only" => set(&mut l.due_date_only, s.boolean()?),
                "agreed" => set(&mut l.agreed, s.boolean()?),
                "by_client" => set(&mut l.by_client, s.boolean()?),
                _ => None,
            }?;
            match s.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
        (s.at == text.len()).then_some(l)
    }

    // Words as `export` writes them, matched without the allocation of
    // `FromStr` (which lowercases first); any other spelling goes to it.

    fn fit(s: Option<&str>) -> Option<Fit> {
        match s? {
            "target" => Some(Fit::Target),
            "off-target" => Some(Fit::OffTarget),
            s => s.parse().ok(),
        }
    }

    fn interaction(s: Option<&str>) -> Option<InteractionKind> {
        match s? {
            "meeting" => Some(InteractionKind::Meeting),
            "call" => Some(InteractionKind::Call),
            "email" => Some(InteractionKind::Email),
            "message" => Some(InteractionKind::Message),
            s => s.parse().ok(),
        }
    }

    fn party(s: Option<&str>) -> Option<Party> {
        match s? {
            "us" => Some(Party::Us),
            "client" => Some(Party::Client),
            s => s.parse().ok(),
        }
    }

    fn word<T: std::str::FromStr>(s: Option<&str>) -> Option<T> {
        s?.parse().ok()
    }

    fn time(s: &str) -> Option<Timestamp> {
        rfc3339_utc(s).or_else(|| crate::cli::output::parse_rfc3339(s))
    }

    /// The line's envelope, its `client` and its `id`; `None` to leave
    /// the line to the general reading.
    pub(super) fn line(text: &str) -> Option<(Envelope, ClientKey<'static>, IdKey<'_>)> {
        let mut l = scan(text)?;
        let present = l.present();
        // The optional keys the kind reads: each must be there.
        let (event, read) = match l.kind? {
            "ClientAdded" => (
                Event::ClientAdded {
                    handle: l.client.take()?.into_owned(),
                    name: l.name.take()?.into_owned(),
                    fit: fit(l.fit)?,
                    note: l.note.take()?.into_owned(),
                },
                4,
            ),
            "FitChanged" => (
                Event::FitChanged {
                    client: l.client.take()?.into_owned(),
                    fit: fit(l.fit)?,
                    reason: l.reason.take()?.into_owned(),
                },
                3,
            ),
            "ExpectationNoted" => (
                Event::ExpectationNoted {
                    client: l.client.take()?.into_owned(),
                    text: l.text.take()?.into_owned(),
                },
                2,
            ),
            "MismatchNoted" => (
                Event::MismatchNoted {
                    client: l.client.take()?.into_owned(),
                    text: l.text.take()?.into_owned(),
                },
                2,
            ),
            "Interacted" => (
                Event::Interacted {
                    client: l.client.take()?.into_owned(),
                    kind: interaction(l.interaction)?,
                    mood: l.mood?,
                    minutes: l.minutes?,
                    initiated_by: party(l.by)?,
                    note: l.note.take()?.into_owned(),
                },
                6,
            ),
            "PromiseMade" => (
                Event::PromiseMade {
                    promise: l.promise?,
                    client: l.client.take()?.into_owned(),
                    what: l.what.take()?.into_owned(),
                    due: Due {
                        at: time(l.due?)?,
                        date_only: l.due_date_only?,
                    },
                },
                5,
            ),
            "PromiseMoved" => (
                Event::PromiseMoved {
                    promise: l.promise?,
                    due: Due {
                        at: time(l.due?)?,
                        date_only: l.due_date_only?,
                    },
                    cause: word(l.cause)?,
                    agreed_by_client: l.agreed?,
                    reason: l.reason.take()?.into_owned(),
                },
                6,
            ),
            "PromiseKept" => (
                Event::PromiseKept {
                    promise: l.promise?,
                    note: l.note.take()?.into_owned(),
                },
                2,
            ),
            "PromiseBroken" => (
                Event::PromiseBroken {
                    promise: l.promise?,
                    reason: l.reason.take()?.into_owned(),
                },
                2,
            ),
            "PromiseReleased" => (
                Event::PromiseReleased {
                    promise: l.promise?,
                    reason: l.reason.take()?.into_owned(),
                },
                2,
            ),
            "Advocated" => (
                Event::Advocated {
                    client: l.client.take()?.into_owned(),
                    kind: word(l.advocacy)?,
                    initiated_by_client: l.by_client?,
                    note: l.note.take()?.into_owned(),
                },
                4,
            ),
            "ClientLost" => (
                Event::ClientLost {
                    client: l.client.take()?.into_owned(),
                    reason: l.reason.take()?.into_owned(),
                },
                2,
            ),
            "ClientReturned" => (
                Event::ClientReturned {
                    client: l.client.take()?.into_owned(),
                    note: l.note.take()?.into_owned(),
                },
                2,
            ),
            "Retracted" => (
                Event::Retracted {
                    seq: l.retracted?,
                    reason: l.reason.take()?.into_owned(),
                },
                2,
            ),
            _ => return None,
        };
        // Extras: `client` on an event that names none (it was not taken
        // above), and `id`.
        let client = match l.client.take() {
            Some(c) => ClientKey::Str(Cow::Owned(c.into_owned())),
            None => ClientKey::Absent,
        };
        let id = match l.id {
            Some(s) => IdKey::Str(s),
            None => IdKey::Absent,
        };
        let extras = usize::from(!matches!(client, ClientKey::Absent))
            + usize::from(!matches!(id, IdKey::Absent));
        // Any other key present is one this kind does not have.
        if present != read + extras {
            return None;
        }
        Some((
            Envelope {
                seq: l.seq?,
                recorded_at: time(l.recorded_at?)?,
                occurred_at: time(l.occurred_at?)?,
                author: l.author?.into_owned(),
                event,
            },
            client,
            id,
        ))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` from 1970 on, as `export` writes
    /// times; `None` for anything else (chrono then reads it). Gives what
    /// chrono gives for what it accepts (a test compares them).
    pub(super) fn rfc3339_utc(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.len() < 20 || b[b.len() - 1] != b'Z' {
            return None;
        }
        for (i, sep) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            if b[i] != sep {
                return None;
            }
        }
        let num = |from: usize, to: usize| -> Option<i64> {
            b[from..to].iter().try_fold(0i64, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
            })
        };
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (hour, min, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let month_days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if year < 1970 || day < 1 || day > month_days || hour > 23 || min > 59 || sec > 59 {
            return None;
        }
        let frac = &b[19..b.len() - 1];
        let micros = match frac.split_first() {
            None => 0,
            Some((&b'.', digits)) if (1..=9).contains(&digits.len()) => {
                let mut n = 0i64;
                for (i, &c) in digits.iter().enumerate() {
                    if !c.is_ascii_digit() {
                        return None;
                    }
                    if i < 6 {
                        n = n * 10 + i64::from(c - b'0');
                    }
                }
                n * 10i64.pow(6u32.saturating_sub(digits.len() as u32))
            }
            Some(_) => return None,
        };
        // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400 + hour * 3_600 + min * 60 + sec;
        Some(Timestamp(secs * 1_000_000 + micros))
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `"<32 hex>-<seq>"` → (journal id, seq).
fn parse_event_id(v: &Value) -> Option<([u8; 16], Seq)> {
    parse_event_id_str(v.as_str()?)
}

fn parse_event_id_str(s: &str) -> Option<([u8; 16], Seq)> {
    let (j, seq) = s.split_once('-')?;
    if j.len() != 32 || !j.is_ascii() {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&j[2 * i..2 * i + 2], 16).ok()?;
    }
    if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((id, seq.parse().ok()?))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------------------
// Identities (see the module docs)

type Key = [u8; 32];

/// The first 128 bits of an identity: what the maps are keyed by (among
/// millions of random 128-bit values a collision is not a concern), so
/// that they stay small. References are hashed with the whole identity.
fn short(k: &Key) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&k[..16]);
    u128::from_le_bytes(b)
}

/// The identity of the `n`-th event (from 0) with this content digest.
fn identity(content: &Key, n: u64) -> Key {
    let mut h = blake3::Hasher::new();
    h.update(content);
    h.update(&n.to_le_bytes());
    *h.finalize().as_bytes()
}

enum Ref {
    None,
    Found(Key),
    Missing,
}

/// The stand-in identity of a reference a journal cannot resolve itself
/// (it cannot happen through the CLI), derived from the raw number, so it
/// still compares.
fn dangling(e: &EventRef<'_>) -> Key {
    let (what, n) = match e {
        EventRef::Retracted { seq, .. } => ("seq", *seq),
        ev => ("promise", ev.promise().unwrap_or(0)),
    };
    *blake3::hash(format!("trustlog dangling {what} {n}").as_bytes()).as_bytes()
}

/// An event as `serde_json` writes an [`Event`] (same names, same order,
/// same types), borrowing its text: the digest's view of an event, with
/// its reference zeroed. A test pins that the bytes are `Event`'s.
#[derive(Serialize)]
enum EventJson<'a> {
    ClientAdded {
        handle: &'a str,
        name: &'a str,
        fit: Fit,
        note: &'a str,
    },
    FitChanged {
        client: &'a str,
        fit: Fit,
        reason: &'a str,
    },
    ExpectationNoted {
        client: &'a str,
        text: &'a str,
    },
    MismatchNoted {
        client: &'a str,
        text: &'a str,
    },
    Interacted {
        client: &'a str,
        kind: InteractionKind,
        mood: i8,
        minutes: Option<u32>,
        initiated_by: Party,
        note: &'a str,
    },
    PromiseMade {
        promise: PromiseId,
        client: &'a str,
        what: &'a str,
        due: Due,
    },
    PromiseMoved {
        promise: PromiseId,
        due: Due,
        cause: Cause,
        agreed_by_client: bool,
        reason: &'a str,
    },
    PromiseKept {
        promise: PromiseId,
        note: &'a str,
    },
    PromiseBroken {
        promise: PromiseId,
        reason: &'a str,
    },
    PromiseReleased {
        promise: PromiseId,
        reason: &'a str,
    },
    Advocated {
        client: &'a str,
        kind: AdvocacyKind,
        initiated_by_client: bool,
        note: &'a str,
    },
    ClientLost {
        client: &'a str,
        reason: &'a str,
    },
    ClientReturned {
        client: &'a str,
        note: &'a str,
    },
    Retracted {
        seq: Seq,
        reason: &'a str,
    },
}

impl<'a> EventJson<'a> {
    /// `e` with its reference (promise id, retracted seq) set to 0.
    fn unreferenced(e: &EventRef<'a>) -> Self {
        match *e {
            EventRef::ClientAdded {
                handle,
                name,
                fit,
                note,
            } => EventJson::ClientAdded {
                handle,
                name,
                fit,
                note,
            },
            EventRef::FitChanged {
                client,
                fit,
                reason,
            } => EventJson::FitChanged {
                client,
                fit,
                reason,
            },
            EventRef::ExpectationNoted { client, text } => {
                EventJson::ExpectationNoted { client, text }
            }
            EventRef::MismatchNoted { client, text } => EventJson::MismatchNoted { client, text },
            EventRef::Interacted {
                client,
                kind,
                mood,
                minutes,
                initiated_by,
                note,
            } => EventJson::Interacted {
                client,
                kind,
                mood,
                minutes,
                initiated_by,
                note,
            },
            EventRef::PromiseMade {
                client, what, due, ..
            } => EventJson::PromiseMade {
                promise: 0,
                client,
                what,
                due,
            },
            EventRef::PromiseMoved {
                due,
                cause,
                agreed_by_client,
                reason,
                ..
            } => EventJson::PromiseMoved {
                promise: 0,
                due,
                cause,
                agreed_by_client,
                reason,
            },
            EventRef::PromiseKept { note, .. } => EventJson::PromiseKept { promise: 0, note },
            EventRef::PromiseBroken { reason, .. } => {
                EventJson::PromiseBroken { promise: 0, reason }
            }
            EventRef::PromiseReleased { reason, .. } => {
                EventJson::PromiseReleased { promise: 0, reason }
            }
            EventRef::Advocated {
                client,
                kind,
                initiated_by_client,
                note,
            } => EventJson::Advocated {
                client,
                kind,
                initiated_by_client,
                note,
            },
            EventRef::ClientLost { client, reason } => EventJson::ClientLost { client, reason },
            EventRef::ClientReturned { client, note } => EventJson::ClientReturned { client, note },
            EventRef::Retracted { reason, .. } => EventJson::Retracted { seq: 0, reason },
        }
    }
}

/// Content digests, with one buffer for the event's JSON.
#[derive(Default)]
struct Digester {
    buf: Vec<u8>,
}

impl Digester {
    /// Kind, times and fields, with the reference fields zeroed and the
    /// referenced identity in their place. Not the author (module docs).
    fn content(&mut self, env: &EnvelopeRef<'_>, reference: Option<&Key>) -> Key {
        self.buf.clear();
        // Writing into a vector does not fail, nor does serialising these
        // types; the bytes are `serde_json::to_vec(&event)`'s.
        let _ = serde_json::to_writer(&mut self.buf, &EventJson::unreferenced(&env.event));
        let mut h = blake3::Hasher::new();
        h.update(b"trustlog event identity v1\0");
        h.update(env.event.kind_name().as_bytes());
        h.update(&[0]);
        h.update(&env.recorded_at.0.to_le_bytes());
        h.update(&env.occurred_at.0.to_le_bytes());
        h.update(&(self.buf.len() as u64).to_le_bytes());
        h.update(&self.buf);
        h.update(reference.unwrap_or(&[0; 32]));
        *h.finalize().as_bytes()
    }
}

/// The journal's side: the identity of each of its events.
#[derive(Default)]
struct JournalIds {
    /// identity → seq. Only the journal's events: the file's own new
    /// events never match a later line of the file (occurrence numbers
    /// tell repeats apart).
    seq_of: FxHashMap<u128, Seq>,
    /// (seq, identity) in seq order, the new events' appended as they are
    /// accepted: what a reference by seq resolves to. Kept after reading
    /// only for a file exported from this journal (the only one whose
    /// references are looked up here).
    by_seq: Vec<(Seq, Key)>,
    /// promise id → identity of its `PromiseMade` (new ones included).
    promise: FxHashMap<PromiseId, Key>,
    /// seq of each of the journal's `PromiseMade` → its promise id.
    promise_at: FxHashMap<Seq, PromiseId>,
}

impl JournalIds {
    fn key_at(&self, seq: Seq) -> Option<&Key> {
        let i = self.by_seq.binary_search_by_key(&seq, |e| e.0).ok()?;
        Some(&self.by_seq[i].1)
    }

    /// What `e`'s reference resolves to among these events.
    fn reference(&self, e: &EventRef<'_>) -> Ref {
        let k = match e {
            EventRef::PromiseMade { .. } => return Ref::None,
            EventRef::Retracted { seq, .. } => self.key_at(*seq),
            e => match e.promise() {
                None => return Ref::None,
                Some(p) => self.promise.get(&p),
            },
        };
        k.map_or(Ref::Missing, |k| Ref::Found(*k))
    }

    /// Adds the journal's next event. The occurrence number is found by
    /// asking which identities of this content are already taken.
    fn add(&mut self, d: &mut Digester, env: &EnvelopeRef<'_>) {
        let r = match self.reference(&env.event) {
            Ref::None => None,
            Ref::Found(k) => Some(k),
            Ref::Missing => Some(dangling(&env.event)),
        };
        let content = d.content(env, r.as_ref());
        let mut n = 0u64;
        let id = loop {
            let id = identity(&content, n);
            if !self.seq_of.contains_key(&short(&id)) {
                break id;
            }
            n += 1;
        };
        self.seq_of.insert(short(&id), env.seq);
        self.record(env, id);
        if let EventRef::PromiseMade { promise, .. } = env.event {
            self.promise_at.insert(env.seq, promise);
        }
    }

    fn record(&mut self, env: &EnvelopeRef<'_>, id: Key) {
        if self.by_seq.last().is_none_or(|l| l.0 < env.seq) {
            self.by_seq.push((env.seq, id));
        } else if let Ok(i) = self.by_seq.binary_search_by_key(&env.seq, |e| e.0) {
            self.by_seq[i].1 = id;
        }
        if let EventRef::PromiseMade { promise, .. } = env.event {
            self.promise.insert(promise, id);
        }
    }
}

/// One of the file's events whose identity was computed.
struct SourceEntry {
    seq: Seq,
    id: Key,
    /// Its seq in the journal, once it is found there or accepted (0: not).
    journal_seq: Seq,
}

/// The file's side.
#[derive(Default)]
struct SourceIds {
    /// Whether identities are computed at all: they only serve to find
    /// events already in the journal, and an empty journal has none (its
    /// events then carry a zero identity, and only where they are is kept).
    identify: bool,
    /// content digest → events with it so far (occurrence numbers).
    occurrences: FxHashMap<u128, u64>,
    /// In the file's order, so by increasing seq.
    events: Vec<SourceEntry>,
    /// The file's promise id → the identity of its `PromiseMade`, and the
    /// journal's promise id for it once known.
    promise: FxHashMap<PromiseId, (Key, Option<PromiseId>)>,
}

impl SourceIds {
    fn entry(&self, seq: Seq) -> Option<&SourceEntry> {
        let i = self.events.binary_search_by_key(&seq, |e| e.seq).ok()?;
        Some(&self.events[i])
    }

    fn reference(&self, e: &EventRef<'_>) -> Ref {
        let k = match e {
            EventRef::PromiseMade { .. } => return Ref::None,
            EventRef::Retracted { seq, .. } => self.entry(*seq).map(|e| &e.id),
            e => match e.promise() {
                None => return Ref::None,
                Some(p) => self.promise.get(&p).map(|e| &e.0),
            },
        };
        k.map_or(Ref::Missing, |k| Ref::Found(*k))
    }

    /// The identity of `env`, whose reference resolves to `reference`;
    /// records it (as the last entry).
    fn add(&mut self, d: &mut Digester, env: &EnvelopeRef<'_>, reference: Option<&Key>) -> Key {
        let id = if self.identify {
            let content = d.content(env, reference);
            let n = self.occurrences.entry(short(&content)).or_insert(0);
            let id = identity(&content, *n);
            *n += 1;
            id
        } else {
            [0; 32]
        };
        self.events.push(SourceEntry {
            seq: env.seq,
            id,
            journal_seq: 0,
        });
        if let EventRef::PromiseMade { promise, .. } = env.event {
            self.promise
                .entry(promise)
                .and_modify(|e| e.0 = id)
                .or_insert((id, None));
        }
        id
    }
}

// ---------------------------------------------------------------------------
// The validation state

/// `kinds` entry of a seq with no event (a hole, or not seen).
const NO_KIND: u8 = u8::MAX;

/// What a seq's event is about, for folding it again when it is retracted.
#[derive(Clone, Copy)]
enum About {
    Nothing,
    Client(u32),
    Promise(u32),
}

/// What the recording commands' rules read of [`State`] — clients,
/// promises, the kind of each seq, what is retracted — kept up to date one
/// event at a time, retractions included. Each client and each promise
/// keeps the few events that shape it (a client's additions, fit changes,
/// losses and returns; a promise's making, moves and closing), so that a
/// retraction folds again only the one client or promise the retracted
/// event was about, from its own events: what a replay of the whole
/// journal without the retracted event would give for it, at the cost of
/// that client's or promise's history. (Interactions and notes change
/// nothing the rules read, so their retraction folds nothing.)
///
/// `State` is the reference: a test folds random histories with random
/// retractions both ways and compares everything the rules read.
#[derive(Default)]
struct Check {
    handles: FxHashMap<Box<str>, u32>,
    clients: Vec<ClientRow>,
    promise_rows: FxHashMap<PromiseId, u32>,
    promises: Vec<PromiseRow>,
    /// Per seq: the kind of its event (an index into `EVENT_KINDS`), and
    /// what it is about.
    kinds: Vec<u8>,
    about: Vec<About>,
    /// Every seq a `Retracted` points at (a replay skips them all).
    retracted: FxHashSet<Seq>,
    /// seq → the last retraction of it that is not itself retracted (what
    /// `State` lists).
    retracted_by: FxHashMap<Seq, Seq>,
    /// Each retraction's target, and each target's retractions in order.
    target_of: FxHashMap<Seq, Seq>,
    retractions_of: FxHashMap<Seq, Vec<Seq>>,
    max_promise_id: PromiseId,
    /// Open promises per client row.
    open: Vec<u32>,
    /// Events folded again after retractions: the cost of retractions,
    /// which a test pins as proportional to what they touch.
    refolded: u64,
}

struct ClientRow {
    handle: Box<str>,
    ops: Vec<(Seq, ClientOp)>,
    now: Option<ClientNow>,
}

enum ClientOp {
    Added {
        name: Box<str>,
        fit: Fit,
        at: Timestamp,
    },
    Fit(Fit),
    Lost(Timestamp),
    Returned,
}

struct ClientNow {
    /// Index in `ops` of the `Added` it comes from.
    added: usize,
    fit: Fit,
    lost: Option<Timestamp>,
}

struct PromiseRow {
    id: PromiseId,
    ops: Vec<(Seq, PromiseOp)>,
    now: Option<PromiseNow>,
}

enum PromiseOp {
    Made {
        client: u32,
        what: Box<str>,
        at: Timestamp,
        due: Timestamp,
    },
    Moved(Timestamp),
    Closed(PromiseStatus, Timestamp),
}

struct PromiseNow {
    /// Index in `ops` of the `Made` it comes from.
    made: usize,
    due: Timestamp,
    status: PromiseStatus,
    closed: Option<Timestamp>,
}

/// A client as the rules see it.
struct ClientView<'a> {
    name: &'a str,
    fit: Fit,
    added_at: Timestamp,
    added_seq: Seq,
    lost: Option<Timestamp>,
}

/// A promise as the rules see it.
struct PromiseView<'a> {
    client: &'a str,
    what: &'a str,
    made_at: Timestamp,
    due: Timestamp,
    status: PromiseStatus,
    closed: Option<Timestamp>,
}

impl ClientRow {
    fn apply(&mut self, i: usize) {
        match &self.ops[i].1 {
            ClientOp::Added { fit, .. } => {
                self.now = Some(ClientNow {
                    added: i,
                    fit: *fit,
                    lost: None,
                })
            }
            ClientOp::Fit(f) => {
                if let Some(c) = &mut self.now {
                    c.fit = *f;
                }
            }
            ClientOp::Lost(at) => {
                if let Some(c) = &mut self.now {
                    c.lost = Some(*at);
                }
            }
            ClientOp::Returned => {
                if let Some(c) = &mut self.now {
                    c.lost = None;
                }
            }
        }
    }
}

impl PromiseRow {
    fn apply(&mut self, i: usize) {
        match &self.ops[i].1 {
            // A repeated id replaces the promise (as in `State`).
            PromiseOp::Made { due, .. } => {
                self.now = Some(PromiseNow {
                    made: i,
                    due: *due,
                    status: PromiseStatus::Open,
                    closed: None,
                })
            }
            PromiseOp::Moved(due) => {
                if let Some(p) = self
                    .now
                    .as_mut()
                    .filter(|p| p.status == PromiseStatus::Open)
                {
                    p.due = *due;
                }
            }
            PromiseOp::Closed(status, at) => {
                if let Some(p) = self
                    .now
                    .as_mut()
                    .filter(|p| p.status == PromiseStatus::Open)
                {
                    p.status = *status;
                    p.closed = Some(*at);
                }
            }
        }
    }

    /// The client row of the promise while it is open.
    fn open_client(&self) -> Option<u32> {
        let now = self
            .now
            .as_ref()
            .filter(|p| p.status == PromiseStatus::Open)?;
        match self.ops[now.made].1 {
            PromiseOp::Made { client, .. } => Some(client),
            _ => None,
        }
    }
}

impl Check {
    fn client_row(&mut self, handle: &str) -> u32 {
        if let Some(&r) = self.handles.get(handle) {
            return r;
        }
        // Rows are counted in u32: a journal of four billion events is not
        // read into memory.
        let r = self.clients.len() as u32;
        self.handles.insert(handle.into(), r);
        self.clients.push(ClientRow {
            handle: handle.into(),
            ops: Vec::new(),
            now: None,
        });
        self.open.push(0);
        r
    }

    fn promise_row(&mut self, id: PromiseId) -> u32 {
        if let Some(&r) = self.promise_rows.get(&id) {
            return r;
        }
        let r = self.promises.len() as u32;
        self.promise_rows.insert(id, r);
        self.promises.push(PromiseRow {
            id,
            ops: Vec::new(),
            now: None,
        });
        r
    }

    /// Folds the next event of the journal (or of the import). Retracted
    /// seqs are noted but not applied. A `Retracted` itself is handled by
    /// the caller (see [`Check::retract`]).
    fn add(&mut self, env: &EnvelopeRef<'_>) {
        let seq = env.seq;
        if let Some(id) = env.event.promise() {
            self.max_promise_id = self.max_promise_id.max(id);
        }
        let at = env.occurred_at;
        let client_op = match env.event {
            EventRef::ClientAdded {
                handle, name, fit, ..
            } => Some((
                handle,
                ClientOp::Added {
                    name: name.into(),
                    fit,
                    at,
                },
            )),
            EventRef::FitChanged { client, fit, .. } => Some((client, ClientOp::Fit(fit))),
            EventRef::ClientLost { client, .. } => Some((client, ClientOp::Lost(at))),
            EventRef::ClientReturned { client, .. } => Some((client, ClientOp::Returned)),
            _ => None,
        };
        let promise_op = match env.event {
            EventRef::PromiseMade {
                promise,
                client,
                what,
                due,
            } => {
                let client = self.client_row(client);
                Some((
                    promise,
                    PromiseOp::Made {
                        client,
                        what: what.into(),
                        at,
                        due: due.at,
                    },
                ))
            }
            EventRef::PromiseMoved { promise, due, .. } => {
                Some((promise, PromiseOp::Moved(due.at)))
            }
            EventRef::PromiseKept { promise, .. } => {
                Some((promise, PromiseOp::Closed(PromiseStatus::Kept, at)))
            }
            EventRef::PromiseBroken { promise, .. } => {
                Some((promise, PromiseOp::Closed(PromiseStatus::Broken, at)))
            }
            EventRef::PromiseReleased { promise, .. } => {
                Some((promise, PromiseOp::Closed(PromiseStatus::Released, at)))
            }
            _ => None,
        };
        let applied = !self.retracted.contains(&seq);
        let about = if let Some((handle, op)) = client_op {
            let r = self.client_row(handle);
            let row = &mut self.clients[r as usize];
            row.ops.push((seq, op));
            if applied {
                row.apply(row.ops.len() - 1);
            }
            About::Client(r)
        } else if let Some((id, op)) = promise_op {
            let r = self.promise_row(id);
            let before = self.promises[r as usize].open_client();
            let row = &mut self.promises[r as usize];
            row.ops.push((seq, op));
            if applied {
                row.apply(row.ops.len() - 1);
            }
            self.count_open(before, r);
            About::Promise(r)
        } else {
            About::Nothing
        };
        // As `State`: a seq far beyond the events seen (only a damaged or
        // hostile journal has one) is not given a slot.
        if let Ok(i) = usize::try_from(seq) {
            if i < self.kinds.len() + (1 << 20) {
                if self.kinds.len() <= i {
                    self.kinds.resize(i + 1, NO_KIND);
                    self.about.resize(i + 1, About::Nothing);
                }
                self.kinds[i] = env.event.kind_index() as u8;
                self.about[i] = about;
            }
        }
    }

    /// Moves promise row `r` among the open counts, from `before`.
    fn count_open(&mut self, before: Option<u32>, r: u32) {
        let after = self.promises[r as usize].open_client();
        if before != after {
            if let Some(c) = before {
                self.open[c as usize] = self.open[c as usize].saturating_sub(1);
            }
            if let Some(c) = after {
                self.open[c as usize] += 1;
            }
        }
    }

    /// Notes the retraction at `by` of `seq`: a replay skips `seq`.
    fn note_retraction(&mut self, by: Seq, seq: Seq) {
        self.retracted.insert(seq);
        self.target_of.insert(by, seq);
        self.retractions_of.entry(seq).or_default().push(by);
    }

    /// Which retraction `State` lists for `seq`: the last one applied (a
    /// retraction that is itself retracted still takes `seq` out of a
    /// replay, but is not applied).
    fn settle_retracted_by(&mut self, seq: Seq) {
        let by = self.retractions_of.get(&seq).and_then(|bys| {
            bys.iter()
                .rev()
                .find(|b| !self.retracted.contains(b))
                .copied()
        });
        match by {
            Some(by) => self.retracted_by.insert(seq, by),
            None => self.retracted_by.remove(&seq),
        };
    }

    /// The retraction at `by` of `seq`, as the import plans it: `seq` is
    /// skipped from now on, and what it was about is folded again without
    /// it.
    fn retract(&mut self, by: Seq, seq: Seq) {
        self.note_retraction(by, seq);
        self.settle_retracted_by(seq);
        // A retraction retracted (a journal could hold one; the rules
        // refuse it) no longer counts as its target's.
        if let Some(&target) = self.target_of.get(&seq) {
            self.settle_retracted_by(target);
        }
        self.refold(seq);
    }

    /// Folds again the client or promise that `seq`'s event is about.
    fn refold(&mut self, seq: Seq) {
        let about = usize::try_from(seq)
            .ok()
            .and_then(|i| self.about.get(i).copied())
            .unwrap_or(About::Nothing);
        match about {
            About::Nothing => {}
            About::Client(r) => {
                let row = &mut self.clients[r as usize];
                row.now = None;
                for i in 0..row.ops.len() {
                    if !self.retracted.contains(&row.ops[i].0) {
                        row.apply(i);
                    }
                }
                self.refolded += row.ops.len() as u64;
            }
            About::Promise(r) => {
                let before = self.promises[r as usize].open_client();
                let row = &mut self.promises[r as usize];
                row.now = None;
                for i in 0..row.ops.len() {
                    if !self.retracted.contains(&row.ops[i].0) {
                        row.apply(i);
                    }
                }
                self.refolded += row.ops.len() as u64;
                self.count_open(before, r);
            }
        }
    }

    /// After the journal's events were added as they came, with their
    /// retractions noted: what they retract was added before the set of
    /// retracted seqs was complete, so it is folded again.
    fn settle(&mut self) {
        let mut seqs: Vec<Seq> = self.retractions_of.keys().copied().collect();
        seqs.sort_unstable();
        for seq in seqs {
            self.settle_retracted_by(seq);
            self.refold(seq);
        }
    }

    fn next_promise_id(&self) -> PromiseId {
        self.max_promise_id + 1
    }

    fn kind_at(&self, seq: Seq) -> Option<&'static str> {
        let k = *self.kinds.get(usize::try_from(seq).ok()?)?;
        EVENT_KINDS.get(usize::from(k)).copied()
    }

    fn retracted_by(&self, seq: Seq) -> Option<Seq> {
        self.retracted_by.get(&seq).copied()
    }

    fn client(&self, handle: &str) -> Option<ClientView<'_>> {
        let row = &self.clients[*self.handles.get(handle)? as usize];
        let now = row.now.as_ref()?;
        match &row.ops[now.added] {
            (seq, ClientOp::Added { name, at, .. }) => Some(ClientView {
                name,
                fit: now.fit,
                added_at: *at,
                added_seq: *seq,
                lost: now.lost,
            }),
            _ => None,
        }
    }

    fn promise(&self, id: PromiseId) -> Option<PromiseView<'_>> {
        let row = &self.promises[*self.promise_rows.get(&id)? as usize];
        let now = row.now.as_ref()?;
        match &row.ops[now.made].1 {
            PromiseOp::Made {
                client, what, at, ..
            } => Some(PromiseView {
                client: &self.clients[*client as usize].handle,
                what,
                made_at: *at,
                due: now.due,
                status: now.status,
                closed: now.closed,
            }),
            _ => None,
        }
    }

    /// The open promises of the client whose `ClientAdded` is at `seq`, in
    /// id order (what retracting that event would leave without a client).
    fn open_promises_of_added(&self, seq: Seq) -> Vec<PromiseId> {
        let r = match usize::try_from(seq).ok().and_then(|i| self.about.get(i)) {
            Some(About::Client(r)) => *r,
            _ => return Vec::new(),
        };
        let row = &self.clients[r as usize];
        if self.client(&row.handle).map(|c| c.added_seq) != Some(seq) || self.open[r as usize] == 0
        {
            return Vec::new();
        }
        let mut ids: Vec<PromiseId> = self
            .promises
            .iter()
            .filter(|p| p.open_client() == Some(r))
            .map(|p| p.id)
            .collect();
        ids.sort_unstable();
        ids
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

    fn read(path: &Path, from: Option<[u8; 16]>) -> Result<Self, CliError> {
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

/// About how many bytes of JSON lines are read as one piece of work.
const CHUNK: usize = 256 * 1024;

/// A run of whole lines: bytes `start..end`, the first being line `line`.
struct Chunk {
    start: usize,
    end: usize,
    line: usize,
}

/// The file cut into chunks at line breaks, with their line numbers, and
/// the number of lines (as `split` on `\n` counts them).
fn chunks(bytes: &[u8], size: usize) -> (Vec<Chunk>, usize) {
    let mut out = Vec::new();
    let (mut start, mut line) = (0, 1);
    loop {
        let end = match bytes.get(start + size..).and_then(find_newline) {
            Some(n) => start + size + n + 1,
            None => bytes.len(),
        };
        out.push(Chunk { start, end, line });
        if end == bytes.len() {
            let lines = line + count_newlines(&bytes[start..end]);
            return (out, lines);
        }
        line += count_newlines(&bytes[start..end]);
        start = end;
    }
}

/// Reads the lines of a chunk on their own.
fn parse_chunk<'b>(bytes: &'b [u8], c: &Chunk, last: bool) -> Vec<(usize, Parsed<'b>)> {
    let mut out = Vec::with_capacity(CHUNK / 200);
    let (mut at, mut line) = (c.start, c.line);
    loop {
        let rest = &bytes[at..c.end];
        match find_newline(rest) {
            Some(n) => {
                out.push((line, parse_line(&rest[..n], line)));
                at += n + 1;
                line += 1;
                // A chunk ends after a line break; only the file's last
                // line has none (and may be empty).
                if at == c.end && !last {
                    return out;
                }
            }
            None => {
                out.push((line, parse_line(rest, line)));
                return out;
            }
        }
    }
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
                progress.tick(line, total);
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
    let mut p = Planner::new(base, now, 0, events);
    for (i, se) in src.events.into_iter().enumerate() {
        progress.tick(i, events);
        p.take_or_reject(se);
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

// ---------------------------------------------------------------------------
// Validation: the rules of the recording commands (record.rs), for events
// that arrive whole

fn validate(
    s: &Check,
    e: &Envelope,
    src: SourceRef,
    client_hint: Option<&str>,
    now: Timestamp,
) -> Result<(), String> {
    if e.author.trim().is_empty() {
        return Err("\"author\" is empty: expected who recorded the event".into());
    }
    if e.occurred_at > e.recorded_at {
        return Err(format!(
            "occurred_at {} is after recorded_at {}: an event is recorded when or after it happens",
            e.occurred_at, e.recorded_at
        ));
    }
    if e.recorded_at > now {
        return Err(format!(
            "recorded_at {} is after now ({}): expected events already recorded",
            e.recorded_at, now
        ));
    }
    // Promise ids as the source wrote them, for messages.
    let src_promise = src.promise;
    let nonempty = |key: &str, v: &str| -> Result<(), String> {
        if v.trim().is_empty() {
            Err(format!("{key:?} is empty: expected some text"))
        } else {
            Ok(())
        }
    };
    match &e.event {
        Event::ClientAdded { handle, name, .. } => {
            check_handle(handle)?;
            nonempty("name", name)?;
            if let Some(c) = s.client(handle) {
                return Err(format!(
                    "client {handle:?} already exists in the journal (as {:?}, added {}); a handle names one client",
                    c.name,
                    c.added_at.to_local_string()
                ));
            }
        }
        Event::FitChanged { client: h, fit, .. } => {
            let c = client(s, h)?;
            if c.fit == *fit {
                return Err(format!("{h} is already {fit}: expected a change of fit"));
            }
        }
        Event::ExpectationNoted { client: h, text } | Event::MismatchNoted { client: h, text } => {
            client(s, h)?;
            nonempty("text", text)?;
        }
        Event::Interacted {
            client: h,
            mood,
            minutes,
            ..
        } => {
            client(s, h)?;
            if !(-2..=2).contains(mood) {
                return Err(format!(
                    "mood {mood} is out of range: expected -2 (very bad) to 2 (very good)"
                ));
            }
            if minutes.is_some_and(|m| m > 24 * 60) {
                return Err(format!(
                    "minutes {} is more than a day: expected at most 1440 for one interaction",
                    minutes.unwrap_or(0)
                ));
            }
        }
        Event::PromiseMade {
            client: h,
            what,
            due,
            ..
        } => {
            let c = client(s, h)?;
            if let Some(when) = c.lost {
                return Err(format!(
                    "{h} was lost on {}: a promise to a lost client needs a ClientReturned first",
                    when.to_local_string()
                ));
            }
            nonempty("what", what)?;
            if due.at < e.occurred_at {
                return Err(format!(
                    "due {} is before the promise was made ({})",
                    due.at, e.occurred_at
                ));
            }
        }
        Event::PromiseMoved { promise, due, .. } => {
            let p = open_promise(s, *promise, src_promise, client_hint)?;
            if p.due == due.at {
                return Err(format!(
                    "promise {src_promise} is already due {}: a move needs a different due",
                    due.at
                ));
            }
            if due.at < p.made_at {
                return Err(format!(
                    "the new due {} is before promise {src_promise} was made ({})",
                    due.at, p.made_at
                ));
            }
            not_before_made(e, &p, src_promise)?;
        }
        Event::PromiseKept { promise, .. } => {
            let p = open_promise(s, *promise, src_promise, client_hint)?;
            not_before_made(e, &p, src_promise)?;
        }
        Event::PromiseBroken { promise, reason } | Event::PromiseReleased { promise, reason } => {
            let p = open_promise(s, *promise, src_promise, client_hint)?;
            nonempty("reason", reason)?;
            not_before_made(e, &p, src_promise)?;
        }
        Event::Advocated { client: h, .. } => {
            client(s, h)?;
        }
        Event::ClientLost { client: h, reason } => {
            let c = client(s, h)?;
            nonempty("reason", reason)?;
            if let Some(when) = c.lost {
                return Err(format!(
                    "{h} is already lost (since {})",
                    when.to_local_string()
                ));
            }
        }
        Event::ClientReturned { client: h, .. } => {
            let c = client(s, h)?;
            if c.lost.is_none() {
                return Err(format!(
                    "{h} is not lost: ClientReturned records the return of a lost client"
                ));
            }
        }
        Event::Retracted { seq, reason } => {
            nonempty("reason", reason)?;
            let src_seq = src.seq;
            let kind = s
                .kind_at(*seq)
                .ok_or_else(|| format!("retracts seq {src_seq}, which is not in the journal"))?;
            if kind == "Retracted" {
                return Err(format!(
                    "retracts seq {src_seq}, itself a retraction: a retraction cannot be retracted"
                ));
            }
            if let Some(by) = s.retracted_by(*seq) {
                return Err(format!(
                    "retracts seq {src_seq} ({kind}), which is already retracted (by #{by} in the journal)"
                ));
            }
            if kind == "ClientAdded" {
                let open: Vec<String> = s
                    .open_promises_of_added(*seq)
                    .iter()
                    .map(PromiseId::to_string)
                    .collect();
                if !open.is_empty() {
                    return Err(format!(
                        "retracts seq {src_seq}, which added a client who still has open promises (journal ids {})",
                        open.join(", ")
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Handles are what users type: the rule of `client add`.
fn check_handle(h: &str) -> Result<(), String> {
    let ok_chars = h
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let first_ok = h
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if h.is_empty() || h.len() > 32 || !ok_chars || !first_ok {
        return Err(format!(
            "invalid handle {h:?}: expected 1 to 32 lowercase letters, digits, '-' or '_', \
             starting with a letter or digit"
        ));
    }
    Ok(())
}

fn client<'s>(s: &'s Check, h: &str) -> Result<ClientView<'s>, String> {
    s.client(h).ok_or_else(|| {
        format!("unknown client {h:?}: neither the journal nor an earlier line adds it")
    })
}

fn open_promise<'s>(
    s: &'s Check,
    id: PromiseId,
    src_id: PromiseId,
    client_hint: Option<&str>,
) -> Result<PromiseView<'s>, String> {
    let p = s
        .promise(id)
        .ok_or_else(|| format!("promise {src_id} does not exist (or was retracted)"))?;
    if let Some(h) = client_hint {
        if h != p.client {
            return Err(format!(
                "\"client\" is {h:?} but promise {src_id} is {:?}'s: expected the promise's client",
                p.client
            ));
        }
    }
    if p.status != PromiseStatus::Open {
        let when = p
            .closed
            .map(|t| format!(" on {}", t.to_local_string()))
            .unwrap_or_default();
        return Err(format!(
            "promise {src_id} ({:?} for {}) is not open: it was {}{when}",
            p.what,
            p.client,
            p.status.as_str()
        ));
    }
    Ok(p)
}

fn not_before_made(e: &Envelope, p: &PromiseView<'_>, src_id: PromiseId) -> Result<(), String> {
    if e.occurred_at < p.made_at {
        return Err(format!(
            "occurred_at {} is before promise {src_id} was made ({})",
            e.occurred_at, p.made_at
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Progress on a terminal

/// "import: checking 1200 of 50000 events" on stderr, redrawn at most ten
/// times a second, only when stderr is a terminal and the work lasts long
/// enough to be worth it (after half a second).
struct Progress {
    on: bool,
    started: Instant,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            on: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    fn tick(&mut self, done: usize, total: usize) {
        if !self.on || !done.is_multiple_of(256) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.started) < Duration::from_millis(500)
            || self
                .last
                .is_some_and(|l| now.duration_since(l) < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        self.drawn = true;
        eprint!("\rimport: checking {done} of {total} events");
        let _ = std::io::stderr().flush();
    }

    fn finish(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[K");
            self.drawn = false;
        }
        self.started = Instant::now();
    }
}

// ---------------------------------------------------------------------------
// Taskwarrior

/// `task export` → events. The mapping (README has the user's version):
///
/// | Taskwarrior | trustlog |
/// |---|---|
/// | `project` | the client: its handle is the project slugified (`Big.Co` → `big-co`); a `ClientAdded` (fit target, name = the project) when the journal has no such client, at the earliest time of its tasks |
/// | task with a `due` | `PromiseMade` at `entry`: what = description, due = `due` (an instant, as Taskwarrior stores it) |
/// | `completed` with `end` | `PromiseKept` at `end` |
/// | `deleted` with `end` | `PromiseReleased` at `end`, reason "deleted in Taskwarrior" |
/// | `pending`, `waiting` | the promise stays open |
/// | annotation | `Interacted` (kind other, mood 0, by us, note = its text) at its `entry` |
///
/// Each event is recorded (`recorded_at`) at the time Taskwarrior wrote it
/// down (`entry`, `end`), and they go in time order. So a re-import of
/// the same export has the same identities and adds nothing, and a later
/// export adds what changed since (a completion, a new task).
///
/// Not mapped, and listed: tasks without a project (no client), without a
/// due (not a promise — their annotations still count as interactions),
/// with a due before their entry, completed or deleted without an `end`,
/// recurring templates (their instances are imported), and a task whose due
/// was changed in Taskwarrior after an earlier import (its promise keeps
/// the due it was imported with: a move needs a cause Taskwarrior does not
/// record, so `trustlog promise move` it). After the migration the journal
/// has the last word: a completion or deletion of a task whose promise was
/// since closed or retracted in trustlog is listed, not imported.
mod taskwarrior {
    use super::*;
    use crate::projections::state::Promise;
    use chrono::NaiveDateTime;

    /// Attributes read; every other one is counted as ignored.
    const MAPPED: [&str; 11] = [
        "uuid",
        "description",
        "status",
        "project",
        "due",
        "entry",
        "end",
        "annotations",
        // Bookkeeping of Taskwarrior itself, nothing to map:
        "id",
        "urgency",
        "modified",
    ];

    struct Task {
        index: usize,
        uuid: String,
        description: String,
        status: String,
        project: Option<String>,
        due: Option<Timestamp>,
        entry: Timestamp,
        end: Option<Timestamp>,
        annotations: Vec<(Timestamp, String)>,
    }

    impl Task {
        fn short(&self) -> String {
            self.uuid.chars().take(8).collect()
        }
    }

    pub(crate) fn convert(
        bytes: &[u8],
        state: &State,
        journal: &[Envelope],
        author: &str,
    ) -> Result<Source, CliError> {
        let mut src = Source::default();
        let tasks = read_tasks(bytes, &mut src)?;
        // Promises of the journal that were retracted: a task imported
        // before whose promise was then retracted stays out.
        let retracted = crate::projections::retracted_set(journal);
        let mut retracted_made: Made<'_, PromiseId> = HashMap::new();
        for e in journal.iter().filter(|e| retracted.contains(&e.seq)) {
            if let Event::PromiseMade {
                promise,
                client,
                what,
                ..
            } = &e.event
            {
                // The first in journal order, as a search would find.
                retracted_made
                    .entry((client.as_str(), e.occurred_at, what.as_str()))
                    .or_insert(*promise);
            }
        }
        // The journal's promises by what a task is recognised by: the
        // first in id order, as a search would find (one lookup per task,
        // not a search through every promise).
        let mut promises: Made<'_, &Promise> = HashMap::new();
        for p in state.promises.values() {
            promises
                .entry((p.client.as_str(), p.made_at, p.what.as_str()))
                .or_insert(p);
        }

        // Events before sorting: (time, rank, task index, n, client, event).
        // Rank orders what happens at one instant: a client before its
        // promises, a promise before what becomes of it.
        let mut out: Vec<(Timestamp, u8, usize, usize, String, Event)> = Vec::new();
        let mut new_clients: BTreeMap<String, (String, Timestamp)> = BTreeMap::new();
        let mut promise_ids: PromiseId = 0;
        // A promise id per task, in the file's space.
        for t in &tasks {
            let not_mapped = |src: &mut Source, reason: String| {
                src.not_mapped.push(NotMapped {
                    task: t.short(),
                    description: t.description.clone(),
                    reason,
                })
            };
            let Some(project) = &t.project else {
                not_mapped(&mut src, "no project, so no client to give it to".into());
                continue;
            };
            let handle = slug(project);
            if handle.is_empty() {
                not_mapped(
                    &mut src,
                    format!("project {project:?} has no letters or digits to make a client handle"),
                );
                continue;
            }
            let mut times = vec![t.entry];
            for (n, (at, text)) in t.annotations.iter().enumerate() {
                times.push(*at);
                out.push((
                    *at,
                    2,
                    t.index,
                    n + 1,
                    handle.clone(),
                    Event::Interacted {
                        client: handle.clone(),
                        kind: crate::events::InteractionKind::Other,
                        mood: 0,
                        minutes: None,
                        initiated_by: crate::events::Party::Us,
                        note: text.clone(),
                    },
                ));
            }
            let promise = promise_for(t, &handle, &promises, &retracted_made);
            match promise {
                Err(reason) => not_mapped(&mut src, reason),
                Ok(PromisePlan { due, notes, close }) => {
                    for n in notes {
                        not_mapped(&mut src, n);
                    }
                    promise_ids += 1;
                    let id = promise_ids;
                    out.push((
                        t.entry,
                        1,
                        t.index,
                        0,
                        handle.clone(),
                        Event::PromiseMade {
                            promise: id,
                            client: handle.clone(),
                            what: t.description.clone(),
                            due: crate::events::Due {
                                at: due,
                                date_only: false,
                            },
                        },
                    ));
                    match (t.status.as_str(), t.end) {
                        _ if !close => {}
                        ("completed", Some(end)) => {
                            times.push(end);
                            out.push((
                                end,
                                3,
                                t.index,
                                0,
                                handle.clone(),
                                Event::PromiseKept {
                                    promise: id,
                                    note: format!("done in Taskwarrior (task {})", t.short()),
                                },
                            ));
                        }
                        ("deleted", Some(end)) => {
                            times.push(end);
                            out.push((
                                end,
                                3,
                                t.index,
                                0,
                                handle.clone(),
                                Event::PromiseReleased {
                                    promise: id,
                                    reason: format!("deleted in Taskwarrior (task {})", t.short()),
                                },
                            ));
                        }
                        _ => {}
                    }
                }
            }
            if !state.clients.contains_key(&handle) {
                let first = times.iter().min().copied().unwrap_or(t.entry);
                let e = new_clients
                    .entry(handle.clone())
                    .or_insert((project.clone(), first));
                e.1 = e.1.min(first);
            }
        }
        // Only clients something was mapped to.
        let used: HashSet<String> = out.iter().map(|o| o.4.clone()).collect();
        for (handle, (project, first)) in &new_clients {
            if !used.contains(handle) {
                continue;
            }
            out.push((
                *first,
                0,
                0,
                0,
                handle.clone(),
                Event::ClientAdded {
                    handle: handle.clone(),
                    name: project.clone(),
                    fit: crate::events::Fit::Target,
                    note: format!("imported from Taskwarrior project {project:?}"),
                },
            ));
        }
        out.sort_by(|a, b| (a.0, a.1, a.2, a.3, &a.4).cmp(&(b.0, b.1, b.2, b.3, &b.4)));
        let by_index: HashMap<usize, &Task> = tasks.iter().map(|t| (t.index, t)).collect();
        for (seq, (at, _, index, _, _, event)) in out.into_iter().enumerate() {
            let origin = match (&event, by_index.get(&index)) {
                (Event::ClientAdded { name, .. }, _) => format!("project {name:?}"),
                (_, Some(t)) => format!("task {} {:?}", t.short(), t.description),
                (_, None) => format!("task #{index}"),
            };
            src.events.push(SourceEvent {
                origin,
                line: index,
                env: Envelope {
                    seq: seq as Seq + 1,
                    recorded_at: at,
                    occurred_at: at,
                    author: author.to_string(),
                    event,
                },
                client_hint: None,
            });
        }
        Ok(src)
    }

    /// What a task with a due becomes.
    struct PromisePlan {
        /// The due of its `PromiseMade`.
        due: Timestamp,
        /// What is listed as not mapped about it.
        notes: Vec<String>,
        /// Whether its completion or deletion becomes an event.
        close: bool,
    }

    /// The promise a task becomes, or why it is none. A task imported
    /// before is found in the journal by client, entry time and description:
    /// it keeps the due it was imported with, and what the journal has
    /// since recorded (kept, broken, released, retracted) stands.
    /// Promises by client, time made and what (how a task is recognised).
    type Made<'a, T> = HashMap<(&'a str, Timestamp, &'a str), T>;

    fn promise_for(
        t: &Task,
        handle: &str,
        promises: &Made<'_, &Promise>,
        retracted_made: &Made<'_, PromiseId>,
    ) -> Result<PromisePlan, String> {
        let Some(due) = t.due else {
            return Err(match t.annotations.len() {
                0 => "no due date: a task without a due is not a promise".into(),
                n => format!(
                    "no due date: a task without a due is not a promise ({} imported as interactions)",
                    plural(n, "annotation", "annotations")
                ),
            });
        };
        let closing = match t.status.as_str() {
            "pending" | "waiting" => None,
            "completed" | "deleted" => match t.end {
                Some(end) => Some((t.status.as_str(), end)),
                None => return Err(format!("{} without an end date: when is unknown", t.status)),
            },
            "recurring" => {
                return Err("a recurring template: its instances are imported one by one".into())
            }
            other => return Err(format!("unknown status {other:?}")),
        };
        if due < t.entry {
            return Err(format!(
                "due {} is before the task was entered ({}): a promise cannot be due before it is made",
                due.to_local_string(),
                t.entry.to_local_string()
            ));
        }
        if let Some((_, end)) = closing {
            if end < t.entry {
                return Err(format!(
                    "ended {} before it was entered ({})",
                    end.to_local_string(),
                    t.entry.to_local_string()
                ));
            }
        }
        let key = (handle, t.entry, t.description.as_str());
        let Some(&p) = promises.get(&key) else {
            if let Some(id) = retracted_made.get(&key) {
                return Err(format!(
                    "imported before as promise {id}, which was retracted in the journal: left out"
                ));
            }
            return Ok(PromisePlan {
                due,
                notes: Vec::new(),
                close: closing.is_some(),
            });
        };
        // Imported before.
        let mut notes = Vec::new();
        if p.original_due.at != due {
            notes.push(format!(
                "due changed in Taskwarrior to {} since it was imported as promise {} (due {}): \
                 not moved — record it with `trustlog promise move {} --due … --cause …`",
                due.to_local_string(),
                p.id,
                p.original_due.at.to_local_string(),
                p.id
            ));
        }
        let close = match (p.status, closing) {
            (_, None) => false,
            (PromiseStatus::Open, Some(_)) => true,
            // Closed by the earlier import of this very completion.
            (PromiseStatus::Kept, Some(("completed", end)))
            | (PromiseStatus::Released, Some(("deleted", end)))
                if p.closed.map(|c| c.0) == Some(end) =>
            {
                true
            }
            (status, Some((tw, end))) => {
                notes.push(format!(
                    "{tw} in Taskwarrior on {}, but promise {} is already {} in the journal{}: left as the journal has it",
                    end.to_local_string(),
                    p.id,
                    status.as_str(),
                    p.closed
                        .map(|c| format!(" (on {})", c.0.to_local_string()))
                        .unwrap_or_default()
                ));
                false
            }
        };
        Ok(PromisePlan {
            due: p.original_due.at,
            notes,
            close,
        })
    }

    /// Lowercase letters and digits; anything else becomes one `-`; at most
    /// 32 characters (a handle's limit). `Big.Co` → `big-co`.
    pub(crate) fn slug(project: &str) -> String {
        let mut s = String::new();
        for c in project.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                s.push(c);
            } else if !s.is_empty() && !s.ends_with('-') {
                s.push('-');
            }
        }
        let mut s: String = s.trim_end_matches('-').chars().take(32).collect();
        while s.ends_with('-') {
            s.pop();
        }
        if s.starts_with('_') {
            s.remove(0);
        }
        s
    }

    /// Reads `task export`: a JSON array, or one object per line (each
    /// optionally followed by a comma, as `rc.json.array=off` writes).
    fn read_tasks(bytes: &[u8], src: &mut Source) -> Result<Vec<Task>, CliError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            invalid(format!(
                "the Taskwarrior export is not UTF-8 text (at byte {}): expected the output of `task export`",
                e.valid_up_to()
            ))
        })?;
        let text = text.trim_start_matches('\u{feff}');
        let mut values: Vec<(usize, Value)> = Vec::new();
        if text.trim_start().starts_with('[') {
            let v: Value = serde_json::from_str(text).map_err(|e| {
                invalid(format!(
                    "the Taskwarrior export is not a JSON array ({e}): expected the output of `task export`"
                ))
            })?;
            if let Value::Array(items) = v {
                values.extend(items.into_iter().enumerate().map(|(i, v)| (i + 1, v)));
            }
        } else {
            for (i, line) in text.lines().enumerate() {
                let l = line.trim().trim_end_matches(',');
                if l.is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(l) {
                    Ok(v) => values.push((i + 1, v)),
                    Err(e) => src.rejected.push(Rejection {
                        origin: format!("line {}", i + 1),
                        line: i + 1,
                        reason: format!("is not JSON ({e}): expected one task object per line"),
                    }),
                }
            }
        }
        let mut tasks = Vec::new();
        for (n, v) in values {
            match task(n, &v, src) {
                Ok(t) => tasks.push(t),
                Err(reason) => src.rejected.push(Rejection {
                    origin: format!("task #{n}"),
                    line: n,
                    reason,
                }),
            }
        }
        Ok(tasks)
    }

    fn task(index: usize, v: &Value, src: &mut Source) -> Result<Task, String> {
        let Value::Object(m) = v else {
            return Err(format!(
                "is a JSON {}, not a task object",
                super::json_type(v)
            ));
        };
        for k in m.keys() {
            if !MAPPED.contains(&k.as_str()) {
                *src.ignored_attributes.entry(k.clone()).or_insert(0) += 1;
            }
        }
        let s = |k: &str| -> Result<Option<String>, String> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("{k:?} is {other}: expected a string")),
            }
        };
        let required = |k: &str| -> Result<String, String> {
            s(k)?.ok_or_else(|| format!("has no {k:?}: expected every task to have one"))
        };
        let time = |k: &str| -> Result<Option<Timestamp>, String> {
            match s(k)? {
                None => Ok(None),
                Some(t) => tw_time(&t).map(Some).ok_or_else(|| {
                    format!("{k:?} is {t:?}: expected a Taskwarrior date like 20261120T100000Z")
                }),
            }
        };
        let uuid = required("uuid")?;
        let description = required("description")?;
        let status = required("status")?;
        let entry = time("entry")?
            .ok_or_else(|| "has no \"entry\": expected every task to have one".to_string())?;
        let mut annotations = Vec::new();
        match m.get("annotations") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for a in items {
                    let at = a.get("entry").and_then(Value::as_str).and_then(tw_time);
                    let text = a.get("description").and_then(Value::as_str);
                    match (at, text) {
                        (Some(at), Some(text)) if !text.trim().is_empty() => {
                            annotations.push((at, text.trim().to_string()))
                        }
                        _ => {
                            return Err(format!(
                            "annotation {a} is not {{\"entry\": <date>, \"description\": <text>}}"
                        ))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(format!(
                    "\"annotations\" is {other}: expected a list of annotations"
                ))
            }
        }
        Ok(Task {
            index,
            uuid,
            description: description.trim().to_string(),
            status,
            project: s("project")?.filter(|p| !p.trim().is_empty()),
            due: time("due")?,
            entry,
            end: time("end")?,
            annotations,
        })
    }

    /// Taskwarrior's `20261120T100000Z` (UTC), or RFC 3339.
    pub(crate) fn tw_time(s: &str) -> Option<Timestamp> {
        if let Some(t) = super::super::output::parse_rfc3339(s) {
            return Some(t);
        }
        let body = s.strip_suffix('Z')?;
        NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S")
            .ok()
            .map(|n| Timestamp(n.and_utc().timestamp_micros()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn slugs() {
            assert_eq!(slug("Big.Co"), "big-co");
            assert_eq!(slug("acme"), "acme");
            assert_eq!(slug("  Home / Garden  "), "home-garden");
            assert_eq!(slug("!!!"), "");
            assert_eq!(slug("_x"), "x");
            assert_eq!(slug(&"ab".repeat(40)).len(), 32);
            assert_eq!(slug("Ünïcode"), "n-code");
        }

        #[test]
        fn taskwarrior_times() {
            assert_eq!(
                tw_time("20200105T000000Z").map(|t| t.to_rfc3339()),
                Some("2020-01-05T00:00:00Z".into())
            );
            assert!(tw_time("2020-01-05").is_none());
            assert!(tw_time("20200105T000000").is_none());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn event_ids_parse_only_in_export_form() {
        let id = format!("{}-7", "ab".repeat(16));
        assert_eq!(parse_event_id(&json!(id)), Some(([0xab; 16], 7)));
        for bad in [
            json!("ab-7"),
            json!(format!("{}-", "ab".repeat(16))),
            json!(format!("{}-x", "ab".repeat(16))),
            json!(format!("{}-7", "zz".repeat(16))),
            json!(7),
        ] {
            assert_eq!(parse_event_id(&bad), None, "{bad}");
        }
    }

    fn every_kind() -> Vec<Event> {
        let due = Due {
            at: Timestamp(1_790_000_000_123_456),
            date_only: true,
        };
        vec![
            Event::ClientAdded {
                handle: "acme".into(),
                name: "Acme, \"Ltd\" — ünï \u{1}".into(),
                fit: Fit::OffTarget,
                note: "line\nbreak\ttab\\".into(),
            },
            Event::FitChanged {
                client: "acme".into(),
                fit: Fit::Target,
                reason: "".into(),
            },
            Event::ExpectationNoted {
                client: "acme".into(),
                text: "a logo".into(),
            },
            Event::MismatchNoted {
                client: "acme".into(),
                text: "not that".into(),
            },
            Event::Interacted {
                client: "acme".into(),
                kind: InteractionKind::Visit,
                mood: -2,
                minutes: None,
                initiated_by: Party::Client,
                note: "".into(),
            },
            Event::Interacted {
                client: "acme".into(),
                kind: InteractionKind::Call,
                mood: 1,
                minutes: Some(30),
                initiated_by: Party::Us,
                note: "ok".into(),
            },
            Event::PromiseMade {
                promise: 7,
                client: "acme".into(),
                what: "logo".into(),
                due,
            },
            Event::PromiseMoved {
                promise: 7,
                due: Due {
                    date_only: false,
                    ..due
                },
                cause: Cause::External,
                agreed_by_client: true,
                reason: "strike".into(),
            },
            Event::PromiseKept {
                promise: 7,
                note: "".into(),
            },
            Event::PromiseBroken {
                promise: 7,
                reason: "x".into(),
            },
            Event::PromiseReleased {
                promise: 7,
                reason: "y".into(),
            },
            Event::Advocated {
                client: "acme".into(),
                kind: AdvocacyKind::CrossSell,
                initiated_by_client: false,
                note: "".into(),
            },
            Event::ClientLost {
                client: "acme".into(),
                reason: "gone".into(),
            },
            Event::ClientReturned {
                client: "acme".into(),
                note: "back".into(),
            },
            Event::Retracted {
                seq: 3,
                reason: "typo".into(),
            },
        ]
    }

    fn env(seq: Seq, event: Event) -> Envelope {
        Envelope {
            seq,
            recorded_at: Timestamp(1_700_000_000_000_000 + seq as i64),
            occurred_at: Timestamp(1_600_000_000_000_000 + seq as i64),
            author: "ana".into(),
            event,
        }
    }

    /// The digest as it was first defined (`serde_json` of the owned event
    /// with its reference zeroed): identities must never change, or a
    /// re-import would no longer recognise what an earlier one wrote.
    fn digest_as_defined(env: &Envelope, reference: Option<Key>) -> Key {
        let mut ev = env.event.clone();
        match &mut ev {
            Event::PromiseMade { promise, .. }
            | Event::PromiseMoved { promise, .. }
            | Event::PromiseKept { promise, .. }
            | Event::PromiseBroken { promise, .. }
            | Event::PromiseReleased { promise, .. } => *promise = 0,
            Event::Retracted { seq, .. } => *seq = 0,
            _ => {}
        }
        let mut h = blake3::Hasher::new();
        h.update(b"trustlog event identity v1\0");
        h.update(ev.kind_name().as_bytes());
        h.update(&[0]);
        h.update(&env.recorded_at.0.to_le_bytes());
        h.update(&env.occurred_at.0.to_le_bytes());
        let fields = serde_json::to_vec(&ev).unwrap();
        h.update(&(fields.len() as u64).to_le_bytes());
        h.update(&fields);
        h.update(&reference.unwrap_or([0; 32]));
        *h.finalize().as_bytes()
    }

    #[test]
    fn payloads_encoded_into_one_buffer_are_encode_s() {
        let mut buf = vec![1, 2, 3];
        for (i, ev) in every_kind().into_iter().enumerate() {
            let e = env(i as Seq + 1, ev);
            let start = buf.len();
            let n = codec::encode_into(&e, &mut buf).unwrap();
            assert_eq!(&buf[start..], &codec::encode(&e).unwrap()[..]);
            assert_eq!(n, buf.len() - start);
        }
    }

    #[test]
    fn content_digests_are_the_ones_first_defined() {
        let mut d = Digester::default();
        for (i, ev) in every_kind().into_iter().enumerate() {
            let e = env(i as Seq + 1, ev);
            let r = [i as u8; 32];
            assert_eq!(
                d.content(&e.as_ref(), Some(&r)),
                digest_as_defined(&e, Some(r)),
                "{e:?}"
            );
            assert_eq!(d.content(&e.as_ref(), None), digest_as_defined(&e, None));
        }
    }

    #[test]
    fn identical_events_are_told_apart_by_occurrence() {
        let ids = || SourceIds {
            identify: true,
            ..SourceIds::default()
        };
        let e = Envelope {
            seq: 1,
            recorded_at: Timestamp(5),
            occurred_at: Timestamp(5),
            author: "a".into(),
            event: Event::ClientLost {
                client: "acme".into(),
                reason: "x".into(),
            },
        };
        let mut d = Digester::default();
        let mut source = ids();
        let a = source.add(&mut d, &e.as_ref(), None);
        let b = source.add(
            &mut d,
            &Envelope {
                seq: 2,
                ..e.clone()
            }
            .as_ref(),
            None,
        );
        assert_ne!(a, b);
        // The journal's side numbers occurrences the same way.
        let mut j = JournalIds::default();
        j.add(&mut d, &e.as_ref());
        j.add(
            &mut d,
            &Envelope {
                seq: 2,
                ..e.clone()
            }
            .as_ref(),
        );
        assert_eq!(j.key_at(1), Some(&a));
        assert_eq!(j.key_at(2), Some(&b));
        // The author is not part of the identity; the times are.
        let c = ids().add(
            &mut d,
            &Envelope {
                author: "bob".into(),
                ..e.clone()
            }
            .as_ref(),
            None,
        );
        assert_eq!(a, c);
        let later = Envelope {
            recorded_at: Timestamp(6),
            ..e
        };
        assert_ne!(a, ids().add(&mut d, &later.as_ref(), None));
        // Without a journal to compare with, no identity is computed.
        assert_eq!(
            SourceIds::default().add(&mut d, &later.as_ref(), None),
            [0; 32]
        );
    }

    /// The general reading of a line, as `JsonlReader` falls back to.
    fn slow(text: &str) -> Option<Envelope> {
        match slow_line(text) {
            Parsed::Event(e, ..) => Some(e),
            _ => None,
        }
    }

    #[test]
    fn the_typed_reading_gives_what_the_general_one_gives() {
        let id = format!("{}-", "ab".repeat(16));
        for (i, ev) in every_kind().into_iter().enumerate() {
            let mut e = env(i as Seq + 1, ev);
            // Microseconds, whole seconds, another fraction.
            e.recorded_at =
                Timestamp(e.recorded_at.0 - e.recorded_at.0 % 1_000_000 * (i as i64 % 2));
            let mut m = match crate::cli::output::envelope_json(&e) {
                Value::Object(m) => m,
                _ => unreachable!(),
            };
            m.insert("id".into(), json!(format!("{id}{}", e.seq)));
            if e.event.promise().is_some() && e.event.client().is_none() {
                m.insert("client".into(), json!("acme"));
            }
            let line = Value::Object(m.clone()).to_string();
            let (fast, client, idk) =
                fast::line(&line).expect("an export line takes the typed path");
            assert_eq!(fast, e);
            assert_eq!(Some(fast), slow(&line));
            assert!(matches!(idk, IdKey::Str(_)));
            assert_eq!(
                matches!(client, ClientKey::Str(_)),
                e.event.promise().is_some() && e.event.client().is_none()
            );
            // What the typed path leaves to the general one.
            let mut variants: Vec<Map<String, Value>> = Vec::new();
            for k in m.keys() {
                let mut v = m.clone();
                v.remove(k);
                variants.push(v);
                let mut v = m.clone();
                v.insert(k.clone(), Value::Null);
                variants.push(v);
            }
            let mut extra = m.clone();
            extra.insert("unheard".into(), json!(1));
            variants.push(extra);
            for other in ["what", "retracted", "mood", "fit", "due_date_only"] {
                if !m.contains_key(other) {
                    let mut v = m.clone();
                    v.insert(other.into(), json!(0));
                    variants.push(v);
                }
            }
            for v in variants {
                let line = Value::Object(v).to_string();
                if let Some((env, ..)) = fast::line(&line) {
                    assert_eq!(Some(env), slow(&line), "{line}");
                }
            }
            // Raw tokens in place of each value, and whitespace.
            let raw = |k: &str, token: &str| -> String {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(kk, v)| {
                        if kk == k {
                            format!("{}:{token}", Value::String(kk.clone()))
                        } else {
                            format!("{}:{v}", Value::String(kk.clone()))
                        }
                    })
                    .collect();
                format!("{{{}}}", parts.join(","))
            };
            let tokens = [
                "01",
                "-0",
                "-1",
                "1.0",
                "1e2",
                "300",
                "-300",
                "[]",
                "{}",
                "true",
                "false",
                "null",
                "\"\\u0041\"",
                "\"a\\\"b\"",
                "\"\\ud83d\\ude00\"",
                "\"\\x\"",
                "\"\u{1}\"",
                " 1",
                "18446744073709551616",
                "4294967296",
                "\"target\"",
                "\"OFF-TARGET\"",
                "\"2026-11-20T10:00:00Z\"",
                "\"2026-11-20T10:00:00+01:00\"",
            ];
            for k in m.keys() {
                for token in tokens {
                    let line = raw(k, token);
                    if let Some((env, ..)) = fast::line(&line) {
                        assert_eq!(Some(env), slow(&line), "{line}");
                    }
                }
            }
            let spaced = line.replace(",\"", ", \"");
            assert!(fast::line(&spaced).is_none());
            assert_eq!(slow(&spaced), Some(e.clone()));
            // An escaped word, a repeated key.
            let escaped = line.replace(
                &format!("\"{}\"", e.event.kind_name()),
                &format!(
                    "\"\\u{:04x}{}\"",
                    e.event.kind_name().as_bytes()[0],
                    &e.event.kind_name()[1..]
                ),
            );
            assert!(fast::line(&escaped).is_none(), "{escaped}");
            assert_eq!(slow(&escaped), Some(e.clone()));
            let repeated = line.replacen('{', "{\"author\":\"x\",", 1);
            assert!(fast::line(&repeated).is_none());
        }
    }

    #[test]
    fn newlines_are_found_and_counted_as_bytewise() {
        let mut x: u64 = 7;
        for len in 0..200 {
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    [b'\n', 0x0b, 0x09, 0x8a, 0x0a ^ 0x80, b'a', 0xff, 0][(x % 8) as usize]
                })
                .collect();
            for from in 0..len.min(9) {
                assert_eq!(
                    find_newline(&b[from..]),
                    b[from..].iter().position(|&c| c == b'\n')
                );
            }
            assert_eq!(
                count_newlines(&b),
                b.iter().filter(|&&c| c == b'\n').count()
            );
        }
    }

    #[test]
    fn string_ends_are_found_as_bytewise() {
        let mut x: u64 = 11;
        for len in 0..200 {
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    [
                        b'"', b'\\', 0x1f, 0x20, 0x00, 0x7f, 0x80, 0xa2, 0xdc, b'a', 0x9f, 0x21,
                    ][(x % 12) as usize]
                })
                .collect();
            for from in 0..len.min(9) {
                assert_eq!(
                    find_string_special(&b[from..]),
                    b[from..]
                        .iter()
                        .position(|&c| c == b'"' || c == b'\\' || c < 0x20),
                    "{:?}",
                    &b[from..]
                );
            }
        }
    }

    #[test]
    fn chunks_hold_every_line_once_with_its_number() {
        let texts: [&[u8]; 6] = [
            b"",
            b"\n",
            b"a\nbb\n\nccc",
            b"a\nbb\n\nccc\n",
            b"\n\n\n{\"x\":1}\r\n  \n\xff\n",
            b"abcdefghij\nk\nlmnopqrstuvwxyz\n\n",
        ];
        for text in texts {
            // What reading line by line sees.
            let mut r = JsonlReader::new(text);
            let mut want = Vec::new();
            while let Some(raw) = r.next_line() {
                want.push((r.line, raw.to_vec()));
            }
            for size in 0..text.len() + 2 {
                let (cs, lines) = chunks(text, size);
                assert_eq!(lines, want.len());
                let mut got = Vec::new();
                for (i, c) in cs.iter().enumerate() {
                    let (mut at, mut line) = (c.start, c.line);
                    // The same walk as `parse_chunk`, keeping the raw lines.
                    loop {
                        let rest = &text[at..c.end];
                        match find_newline(rest) {
                            Some(n) => {
                                got.push((line, rest[..n].to_vec()));
                                at += n + 1;
                                line += 1;
                                if at == c.end && i + 1 != cs.len() {
                                    break;
                                }
                            }
                            None => {
                                got.push((line, rest.to_vec()));
                                break;
                            }
                        }
                    }
                    assert_eq!(
                        parse_chunk(text, c, i + 1 == cs.len()).len(),
                        got.len() - got.iter().filter(|g| g.0 < c.line).count()
                    );
                }
                assert_eq!(got, want, "{text:?} in chunks of {size}");
            }
        }
    }

    #[test]
    fn times_read_as_chrono_reads_them() {
        let mut cases: Vec<String> = vec![
            "1970-01-01T00:00:00Z".into(),
            "2000-02-29T23:59:59.999999Z".into(),
            "2001-02-29T00:00:00Z".into(),
            "2100-02-29T00:00:00Z".into(),
            "2024-12-31T23:59:60Z".into(),
            "2024-13-01T00:00:00Z".into(),
            "2024-00-10T00:00:00Z".into(),
            "2024-04-31T00:00:00Z".into(),
            "2024-01-01T24:00:00Z".into(),
            "2024-01-01T00:00:00.Z".into(),
            "2024-01-01T00:00:00.1234567891Z".into(),
            "2024-01-01T00:00:00.123456789Z".into(),
            "2024-01-01T00:00:00.5Z".into(),
            "2024-01-01t00:00:00Z".into(),
            "2024-01-01T00:00:00z".into(),
            "2024-01-01T00:00:00+00:00".into(),
            "1969-12-31T23:59:59.5Z".into(),
            "9999-12-31T23:59:59Z".into(),
            "+2024-01-01T00:00:00Z".into(),
            "2024-1-01T00:00:00Z".into(),
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = Timestamp((x % 8_000_000_000_000_000) as i64);
            let s = t.to_rfc3339();
            cases.push(s.clone());
            // Other fraction lengths.
            cases.push(s.replace('Z', "1Z"));
            if let Some((head, _)) = s.split_once('.') {
                cases.push(format!("{head}.{}Z", x % 1000));
            }
        }
        for c in cases {
            if let Some(t) = fast::rfc3339_utc(&c) {
                assert_eq!(Some(t), crate::cli::output::parse_rfc3339(&c), "{c}");
            }
        }
        assert_eq!(
            fast::rfc3339_utc("2026-11-20T10:00:00Z"),
            crate::cli::output::parse_rfc3339("2026-11-20T10:00:00Z")
        );
    }

    /// A random journal history: clients come, change fit, go and return;
    /// promises are made, moved and closed; any earlier event may be
    /// retracted (even one retracted before, as a hostile journal could).
    fn history(seed: u64, n: usize) -> Vec<Envelope> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut rnd = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m.max(1)
        };
        let handles = ["a", "b", "c", "d"];
        let mut out = Vec::new();
        let mut next_promise = 1;
        for seq in 1..=n as Seq {
            let h = handles[rnd(4) as usize].to_string();
            let p = 1 + rnd(next_promise);
            let t = |d: u64| Due {
                at: Timestamp(seq as i64 * 10 + d as i64),
                date_only: false,
            };
            let event = match rnd(12) {
                0 => Event::ClientAdded {
                    handle: h,
                    name: format!("n{seq}"),
                    fit: if rnd(2) == 0 {
                        Fit::Target
                    } else {
                        Fit::OffTarget
                    },
                    note: String::new(),
                },
                1 => Event::FitChanged {
                    client: h,
                    fit: if rnd(2) == 0 {
                        Fit::Target
                    } else {
                        Fit::OffTarget
                    },
                    reason: "r".into(),
                },
                2 => Event::ClientLost {
                    client: h,
                    reason: "r".into(),
                },
                3 => Event::ClientReturned {
                    client: h,
                    note: String::new(),
                },
                4 | 5 => {
                    next_promise += 1;
                    Event::PromiseMade {
                        // Now and then a repeated id.
                        promise: if rnd(20) == 0 { p } else { next_promise - 1 },
                        client: h,
                        what: format!("w{seq}"),
                        due: t(rnd(100)),
                    }
                }
                6 => Event::PromiseMoved {
                    promise: p,
                    due: t(rnd(100)),
                    cause: Cause::Us,
                    agreed_by_client: false,
                    reason: "r".into(),
                },
                7 => Event::PromiseKept {
                    promise: p,
                    note: String::new(),
                },
                8 => Event::PromiseBroken {
                    promise: p,
                    reason: "r".into(),
                },
                9 => Event::Interacted {
                    client: h,
                    kind: InteractionKind::Call,
                    mood: 0,
                    minutes: None,
                    initiated_by: Party::Us,
                    note: String::new(),
                },
                _ => Event::Retracted {
                    // Mostly an earlier event; now and then a later one.
                    seq: if rnd(30) == 0 {
                        seq + 1 + rnd(5)
                    } else {
                        1 + rnd(seq)
                    },
                    reason: "r".into(),
                },
            };
            out.push(Envelope {
                seq,
                recorded_at: Timestamp(seq as i64),
                occurred_at: Timestamp(seq as i64 - rnd(3) as i64),
                author: "t".into(),
                event,
            });
        }
        out
    }

    /// Everything the rules read, from `Check` and from a `State` replayed
    /// from scratch, must agree.
    fn assert_same(check: &Check, state: &State, upto: Seq) {
        for (h, c) in state.clients.iter() {
            let v = check
                .client(h)
                .unwrap_or_else(|| panic!("client {h} missing"));
            assert_eq!(
                (v.name, v.fit, v.added_at, v.added_seq, v.lost),
                (
                    c.name.as_str(),
                    c.fit,
                    c.added_at,
                    c.added_seq,
                    c.lost.as_ref().map(|l| l.0)
                ),
                "client {h}"
            );
        }
        for row in &check.clients {
            assert_eq!(
                check.client(&row.handle).is_some(),
                state.clients.contains_key(&row.handle)
            );
        }
        for (id, p) in state.promises.iter() {
            let v = check
                .promise(id)
                .unwrap_or_else(|| panic!("promise {id} missing"));
            assert_eq!(
                (v.client, v.what, v.made_at, v.due, v.status, v.closed),
                (
                    p.client.as_str(),
                    p.what.as_str(),
                    p.made_at,
                    p.due.at,
                    p.status,
                    p.closed.map(|c| c.0)
                ),
                "promise {id}"
            );
        }
        for row in &check.promises {
            assert_eq!(
                check.promise(row.id).is_some(),
                state.promise(row.id).is_some()
            );
        }
        assert_eq!(check.next_promise_id(), state.next_promise_id());
        for seq in 0..=upto + 6 {
            assert_eq!(check.kind_at(seq), state.kind_at(seq), "kind of {seq}");
            assert_eq!(check.retracted_by(seq), state.retracted_by(seq), "{seq}");
            if state.kind_at(seq) == Some("ClientAdded") {
                let mut open: Vec<PromiseId> = state
                    .promises
                    .iter()
                    .filter(|(_, p)| p.status == PromiseStatus::Open)
                    .filter(|(_, p)| state.added_seq(&p.client) == Some(seq))
                    .map(|(id, _)| id)
                    .collect();
                open.sort_unstable();
                assert_eq!(check.open_promises_of_added(seq), open, "open of {seq}");
            }
        }
    }

    fn replayed(envs: &[Envelope]) -> State {
        let mut s = State::new();
        replay_into(envs, &mut [&mut s]);
        s
    }

    #[test]
    fn the_validation_state_agrees_with_a_replay_through_retractions() {
        for seed in 0..60 {
            let envs = history(seed, 150);
            // As the journal is read: retractions settled at the end.
            let mut check = Check::default();
            for e in &envs {
                check.add(&e.as_ref());
                if let Event::Retracted { seq, .. } = e.event {
                    check.note_retraction(e.seq, seq);
                }
            }
            check.settle();
            assert_same(&check, &replayed(&envs), 150);

            // As an import plans: each retraction at once, compared with a
            // replay of everything so far after every event. (A retraction
            // of a later seq is where the two differ on purpose: a replay
            // of the prefix does not know that seq yet.)
            let envs: Vec<Envelope> = envs
                .into_iter()
                .filter(|e| !matches!(e.event, Event::Retracted { seq, .. } if seq >= e.seq))
                .enumerate()
                .map(|(i, e)| {
                    let seq = i as Seq + 1;
                    let event = match e.event {
                        Event::Retracted { seq: s, reason } => Event::Retracted {
                            seq: s.min(seq - 1).max(1),
                            reason,
                        },
                        ev => ev,
                    };
                    Envelope { seq, event, ..e }
                })
                .collect();
            let mut check = Check::default();
            for (i, e) in envs.iter().enumerate() {
                check.add(&e.as_ref());
                if let Event::Retracted { seq, .. } = e.event {
                    check.retract(e.seq, seq);
                }
                if i % 7 == 0 || i + 1 == envs.len() {
                    assert_same(&check, &replayed(&envs[..=i]), e.seq);
                }
            }
        }
    }

    /// A file of `n` events where every fifth or so retracts something of
    /// every kind a little earlier: the planner must not redo work per
    /// retraction in proportion to what came before (it used to replay the
    /// journal and the file so far for each one).
    #[test]
    fn retractions_cost_what_they_touch_not_what_came_before() {
        let mut lines = Vec::new();
        let t = |s: u64| Timestamp(1_600_000_000_000_000 + s as i64 * 1_000_000);
        let mut seq = 0;
        let mut push = |lines: &mut Vec<Envelope>, event: Event| {
            seq += 1;
            lines.push(Envelope {
                seq,
                recorded_at: t(seq),
                occurred_at: t(seq),
                author: "ana".into(),
                event,
            });
            seq
        };
        let n_rounds = 2_000;
        for r in 0..n_rounds {
            let promise = r + 1;
            let h = format!("c{r}");
            let added = push(
                &mut lines,
                Event::ClientAdded {
                    handle: h.clone(),
                    name: "n".into(),
                    fit: Fit::Target,
                    note: String::new(),
                },
            );
            let talk = push(
                &mut lines,
                Event::Interacted {
                    client: h.clone(),
                    kind: InteractionKind::Call,
                    mood: 0,
                    minutes: None,
                    initiated_by: Party::Us,
                    note: String::new(),
                },
            );
            let made = push(
                &mut lines,
                Event::PromiseMade {
                    promise,
                    client: h.clone(),
                    what: "w".into(),
                    due: Due {
                        at: t(10_000_000),
                        date_only: false,
                    },
                },
            );
            let moved = push(
                &mut lines,
                Event::PromiseMoved {
                    promise,
                    due: Due {
                        at: t(20_000_000),
                        date_only: false,
                    },
                    cause: Cause::Us,
                    agreed_by_client: false,
                    reason: "r".into(),
                },
            );
            let kept = push(
                &mut lines,
                Event::PromiseKept {
                    promise,
                    note: String::new(),
                },
            );
            let target = match r % 5 {
                0 => kept,
                1 => moved,
                2 => talk,
                // The promise (its move and keep go with it); then, in
                // one round of five, its client too.
                _ => made,
            };
            push(
                &mut lines,
                Event::Retracted {
                    seq: target,
                    reason: "r".into(),
                },
            );
            if r % 5 == 4 {
                push(
                    &mut lines,
                    Event::Retracted {
                        seq: added,
                        reason: "r".into(),
                    },
                );
            }
        }
        let retractions = lines
            .iter()
            .filter(|e| matches!(e.event, Event::Retracted { .. }))
            .count() as u64;
        let text: String = lines
            .iter()
            .map(|e| format!("{}\n", crate::cli::output::envelope_json(e)))
            .collect();
        let mut progress = Progress {
            on: false,
            started: Instant::now(),
            last: None,
            drawn: false,
        };
        let mut reader = JsonlReader::new(text.as_bytes());
        let mut p = Planner::new(Base::empty(None), t(1_000_000_000), 0, 0);
        while let Some(se) = reader.next_event() {
            progress.tick(reader.line, 0);
            p.take_or_reject(se);
        }
        let refolded = p.check.refolded;
        let check = std::mem::take(&mut p.check);
        let plan = p.finish(
            reader.rejected,
            &reader.rejected_promises,
            &reader.rejected_seqs,
            reader.events,
        );
        assert!(
            plan.rejected.is_empty(),
            "{:?}",
            &plan.rejected[..3.min(plan.rejected.len())]
        );
        assert_eq!(plan.new, lines.len());
        // Each retraction folds one client or one promise again: a few
        // events each, whatever the length of the file.
        assert!(
            refolded <= 4 * retractions,
            "{refolded} events folded again for {retractions} retractions"
        );
        // And the state reached is the replay's.
        let written: Vec<Envelope> = plan
            .payloads()
            .enumerate()
            .map(|(i, b)| codec::decode(i as Seq + 1, b).unwrap())
            .collect();
        assert_eq!(written, lines);
        assert_same(&check, &replayed(&lines), seq);
    }
}
