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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use super::context::{read_all, replay_into, Ctx};
use super::error::{invalid, CliError};
use super::output::{envelope_from_json, EXPORT_EXTRA_KEYS};
use crate::events::{codec, Envelope, Event, PromiseId, Seq, Timestamp};
use crate::log::{self, JournalWriter, LogError, DEFAULT_LOCK_WAIT};
use crate::projections::state::{PromiseStatus, State};
use crate::projections::Projection;

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
    /// Where it comes from, for messages: `line 7`, `task 0025cb39 "logo"`.
    pub origin: String,
    /// The line number (JSON lines) or the task's position (Taskwarrior).
    pub line: usize,
    pub env: Envelope,
    /// `client` given on a promise event that names only a promise.
    pub client_hint: Option<String>,
}

/// What the source holds: its events in order and, when its lines carry
/// ids, the journal they were exported from.
#[derive(Debug, Default)]
pub(crate) struct Source {
    pub events: Vec<SourceEvent>,
    pub journal: Option<[u8; 16]>,
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
    // The source is read against the journal's state: Taskwarrior projects
    // become new clients only when the journal does not have them.
    let read_source = |target: &Target| -> Result<Source, CliError> {
        match a.format {
            ImportFormat::Jsonl => Ok(parse_jsonl(&bytes)),
            ImportFormat::Taskwarrior => {
                taskwarrior::convert(&bytes, &target.state(), &target.envs, &ctx.author)
            }
        }
    };

    // As `record` does: validate under the lock when the journal exists; a
    // journal that does not exist is only created when there is something
    // valid to write, and then everything is checked again under its lock.
    if ctx.journal.exists() {
        let locked = JournalWriter::lock(&ctx.journal, DEFAULT_LOCK_WAIT, false)?;
        let target = Target::read(&ctx.journal)?;
        let source = read_source(&target)?;
        let plan = make_plan(target, &source, now, &mut progress);
        progress.finish();
        let plan = checked(ctx, &name, a, &source, plan)?;
        if plan.new.is_empty() || a.dry_run {
            return print_report(ctx, &name, a, &source, &plan, None);
        }
        let mut writer = locked.into_writer(now.0)?;
        write_plan(ctx, &name, a, &source, &plan, &mut writer)
    } else {
        let source = read_source(&Target::empty())?;
        let plan = make_plan(Target::empty(), &source, now, &mut progress);
        progress.finish();
        let plan = checked(ctx, &name, a, &source, plan)?;
        if plan.new.is_empty() || a.dry_run {
            return print_report(ctx, &name, a, &source, &plan, None);
        }
        let mut writer = JournalWriter::open(&ctx.journal, now.0, DEFAULT_LOCK_WAIT)?;
        // Another process may have created it meanwhile: plan again.
        let target = Target::read(&ctx.journal)?;
        let source = read_source(&target)?;
        let plan = make_plan(target, &source, now, &mut progress);
        progress.finish();
        let plan = checked(ctx, &name, a, &source, plan)?;
        if plan.new.is_empty() {
            return print_report(ctx, &name, a, &source, &plan, None);
        }
        write_plan(ctx, &name, a, &source, &plan, &mut writer)
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
fn checked(
    ctx: &Ctx,
    name: &str,
    a: &ImportArgs,
    source: &Source,
    plan: Plan,
) -> Result<Plan, CliError> {
    if plan.rejected.is_empty() {
        return Ok(plan);
    }
    if ctx.json {
        print_report(ctx, name, a, source, &plan, None)?;
    }
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
    source: &Source,
    plan: &Plan,
    writer: &mut JournalWriter,
) -> Result<(), CliError> {
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
    let progress_on = std::io::stderr().is_terminal() && plan.new.len() >= 10_000;
    if progress_on {
        eprint!("\rimport: writing {} events…", plan.new.len());
    }
    let appended = writer.append_batch(plan.payloads.iter().map(Vec::as_slice))?;
    if progress_on {
        eprint!("\r\x1b[K");
    }
    print_report(
        ctx,
        name,
        a,
        source,
        plan,
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
    source: &Source,
    plan: &Plan,
    written: Option<(Seq, Seq)>,
) -> Result<(), CliError> {
    if ctx.json {
        let v = json!({
            "file": name,
            "format": a.format.as_str(),
            "dry_run": a.dry_run,
            "new": if plan.rejected.is_empty() { plan.new.len() } else { 0 },
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
    let new = plan.new.len();
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

/// Reads `export`'s JSON lines. Blank lines are allowed; every other line
/// must be one event object (see `output::envelope_from_json`), with seqs
/// increasing and all ids from one journal.
pub(crate) fn parse_jsonl(bytes: &[u8]) -> Source {
    let mut src = Source::default();
    let mut journal_from: Option<([u8; 16], usize)> = None;
    let mut last_seq: Option<(Seq, usize)> = None;
    let mut ids_seen: HashMap<Seq, usize> = HashMap::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if line == 1 {
            raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw)
        } else {
            raw
        };
        let reject = |src: &mut Source, reason: String| {
            src.rejected.push(Rejection {
                origin: format!("line {line}"),
                line,
                reason,
            })
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            reject(&mut src, "is not UTF-8 text".into());
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                reject(
                    &mut src,
                    format!("is not JSON ({e}): expected one event object per line"),
                );
                continue;
            }
        };
        let Value::Object(m) = v else {
            reject(
                &mut src,
                format!(
                    "is a JSON {}, not an object: expected one event object per line",
                    json_type(&v)
                ),
            );
            continue;
        };
        let env = match envelope_from_json(&m, &EXPORT_EXTRA_KEYS) {
            Ok(e) => e,
            Err(e) => {
                // Best effort, so that lines referring to this one say it
                // was rejected: its seq, and its promise if it makes one
                // (or its kind is unreadable).
                let origin = format!("line {line}");
                if let Some(seq) = m.get("seq").and_then(Value::as_u64) {
                    src.rejected_seqs.insert(seq, origin.clone());
                }
                let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
                if kind == "PromiseMade" || !crate::events::EVENT_KINDS.contains(&kind) {
                    if let Some(p) = m.get("promise").and_then(Value::as_u64) {
                        src.rejected_promises.insert(p, origin);
                    }
                }
                reject(&mut src, e);
                continue;
            }
        };
        // From here on the line is an event: remember what it would have
        // been referred to by, if it is rejected.
        let reject = |src: &mut Source, reason: String| {
            let origin = format!("line {line}");
            if let Event::PromiseMade { promise, .. } = env.event {
                src.rejected_promises.insert(promise, origin.clone());
            }
            src.rejected_seqs.insert(env.seq, origin.clone());
            src.rejected.push(Rejection {
                origin,
                line,
                reason,
            })
        };
        // `client` is only an extra on promise events that carry no client.
        let client_hint = if env.event.client().is_none() {
            match m.get("client") {
                None => None,
                Some(Value::String(c)) if env.event.promise().is_some() => Some(c.clone()),
                Some(Value::String(_)) => {
                    reject(
                        &mut src,
                        format!(
                            "unknown key \"client\" for a {}: it names no client",
                            env.event.kind_name()
                        ),
                    );
                    continue;
                }
                Some(other) => {
                    reject(
                        &mut src,
                        format!("\"client\" is {other}: expected a client handle (a string)"),
                    );
                    continue;
                }
            }
        } else {
            None
        };
        if let Some(id) = m.get("id") {
            match parse_event_id(id) {
                Some((j, s)) if s == env.seq => {
                    match journal_from {
                        Some((first, at)) if first != j => {
                            reject(
                                &mut src,
                                format!(
                                    "id {id} is from journal {} but line {at}'s is from journal {}: \
                                     expected one export per file (import each one separately)",
                                    hex(&j),
                                    hex(&first)
                                ),
                            );
                            continue;
                        }
                        Some(_) => {}
                        None => journal_from = Some((j, line)),
                    }
                    if let Some(prev) = ids_seen.insert(s, line) {
                        reject(
                            &mut src,
                            format!(
                                "id {id} is also on line {prev}: an event may be in a file once"
                            ),
                        );
                        continue;
                    }
                }
                Some((_, s)) => {
                    reject(
                        &mut src,
                        format!(
                            "id {id} ends in seq {s} but \"seq\" is {}: expected the same seq",
                            env.seq
                        ),
                    );
                    continue;
                }
                None => {
                    reject(
                        &mut src,
                        format!(
                            "\"id\" is {id}: expected \"<32 hex digits>-<seq>\" as written by export"
                        ),
                    );
                    continue;
                }
            }
        }
        if let Some((prev, at)) = last_seq {
            if env.seq <= prev {
                reject(
                    &mut src,
                    format!(
                        "seq {} is not after line {at}'s seq {prev}: expected the lines in journal order",
                        env.seq
                    ),
                );
                continue;
            }
        }
        last_seq = Some((env.seq, line));
        src.events.push(SourceEvent {
            origin: format!("line {line}"),
            line,
            env,
            client_hint,
        });
    }
    src.journal = journal_from.map(|(j, _)| j);
    src
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
    let s = v.as_str()?;
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

/// The identities of a sequence of events (the journal's, or the file's),
/// and what each reference resolves to.
#[derive(Default)]
struct Identities {
    /// identity → seq of the event (in this sequence's numbering)
    seq_of: HashMap<Key, Seq>,
    /// content digest → how many events had it so far
    occurrences: HashMap<Key, u64>,
    /// promise id → identity of its `PromiseMade`
    promise: HashMap<PromiseId, Key>,
    /// seq → identity
    by_seq: HashMap<Seq, Key>,
}

impl Identities {
    /// The identity of `env` whose reference (if any) resolves to
    /// `reference`; records it under `env.seq`.
    fn add(&mut self, env: &Envelope, reference: Option<Key>) -> Key {
        let content = content_digest(env, reference);
        let n = self.occurrences.entry(content).or_insert(0);
        let mut h = blake3::Hasher::new();
        h.update(&content);
        h.update(&n.to_le_bytes());
        *n += 1;
        let id: Key = *h.finalize().as_bytes();
        self.record(env, id);
        id
    }

    fn record(&mut self, env: &Envelope, id: Key) {
        self.seq_of.insert(id, env.seq);
        self.by_seq.insert(env.seq, id);
        if let Event::PromiseMade { promise, .. } = env.event {
            self.promise.insert(promise, id);
        }
    }

    /// What `env`'s reference resolves to within this sequence.
    fn reference(&self, env: &Envelope) -> Ref {
        match &env.event {
            Event::PromiseMade { .. } => Ref::None,
            Event::Retracted { seq, .. } => match self.by_seq.get(seq) {
                Some(k) => Ref::Found(*k),
                None => Ref::Missing,
            },
            e => match e.promise() {
                None => Ref::None,
                Some(p) => match self.promise.get(&p) {
                    Some(k) => Ref::Found(*k),
                    None => Ref::Missing,
                },
            },
        }
    }

    /// The identities of a journal's events, in order. A reference the
    /// journal itself cannot resolve (it cannot happen through the CLI)
    /// gets a stand-in derived from the raw number, so it still compares.
    fn of_journal(envs: &[Envelope]) -> Self {
        let mut ids = Identities::default();
        for e in envs {
            let r = match ids.reference(e) {
                Ref::None => None,
                Ref::Found(k) => Some(k),
                Ref::Missing => Some(dangling(e)),
            };
            ids.add(e, r);
        }
        ids
    }
}

enum Ref {
    None,
    Found(Key),
    Missing,
}

fn dangling(e: &Envelope) -> Key {
    let (what, n) = match &e.event {
        Event::Retracted { seq, .. } => ("seq", *seq),
        ev => ("promise", ev.promise().unwrap_or(0)),
    };
    *blake3::hash(format!("trustlog dangling {what} {n}").as_bytes()).as_bytes()
}

/// Kind, times and fields, with the reference fields zeroed and the
/// referenced identity in their place. Not the author (module docs).
fn content_digest(env: &Envelope, reference: Option<Key>) -> Key {
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
    // serde_json of the event: every field, deterministic, self-delimiting.
    let fields = serde_json::to_vec(&ev).unwrap_or_default();
    h.update(&(fields.len() as u64).to_le_bytes());
    h.update(&fields);
    h.update(&reference.unwrap_or([0; 32]));
    *h.finalize().as_bytes()
}

// ---------------------------------------------------------------------------
// The plan: what is new, what is skipped, what is rejected

/// The journal as read under the lock.
struct Target {
    envs: Vec<Envelope>,
    journal: Option<[u8; 16]>,
    /// The last record's seq (a hole included): new events follow it.
    last_seq: Seq,
}

impl Target {
    fn empty() -> Self {
        Target {
            envs: Vec::new(),
            journal: None,
            last_seq: 0,
        }
    }

    fn read(path: &Path) -> Result<Self, CliError> {
        let journal = match log::open_scan(path, false, false) {
            Ok(sc) => Some(sc.header().journal_id),
            // A creation cut short: no header yet, no records.
            Err(LogError::Truncated { .. }) => return Ok(Target::empty()),
            Err(e) => return Err(e.into()),
        };
        let envs = read_all(path)?;
        let (last_seq, _) = log::head(path)?;
        Ok(Target {
            envs,
            journal,
            last_seq,
        })
    }

    fn state(&self) -> State {
        let mut s = State::new();
        replay_into(&self.envs, &mut [&mut s]);
        s
    }
}

struct Plan {
    /// Envelopes to append, numbered from `base_seq + 1`, references in
    /// this journal's ids.
    new: Vec<Envelope>,
    payloads: Vec<Vec<u8>>,
    skipped: usize,
    rejected: Vec<Rejection>,
    /// Events in the source.
    total: usize,
    base_seq: Seq,
}

fn make_plan(target: Target, src: &Source, now: Timestamp, progress: &mut Progress) -> Plan {
    let mut p = Planner::new(target, src, now);
    for (i, se) in src.events.iter().enumerate() {
        progress.tick(i, src.events.len());
        if let Err(reason) = p.take(se) {
            if let Event::PromiseMade { promise, .. } = se.env.event {
                p.rejected_promises.insert(promise, se.origin.clone());
            }
            p.rejected_seqs.insert(se.env.seq, se.origin.clone());
            p.plan.rejected.push(Rejection {
                origin: se.origin.clone(),
                line: se.line,
                reason,
            });
        }
    }
    let mut plan = p.plan;
    if !plan.rejected.is_empty() {
        // Every bad line was checked and is reported; nothing is written.
        plan.rejected.sort_by_key(|r| r.line);
        plan.new.clear();
        plan.payloads.clear();
    }
    plan
}

/// Walks the source in order, deciding for each event: skip, new, reject.
struct Planner<'s> {
    src: &'s Source,
    now: Timestamp,
    same_journal: bool,
    /// Identities of the journal's events, new ones included as accepted.
    tids: Identities,
    /// Identities of the source's events.
    sids: Identities,
    /// The journal's events (the accepted new ones are `plan.new`).
    journal: Vec<Envelope>,
    /// The state of `all`: what new events are validated against.
    state: State,
    /// The journal's promise id of each `PromiseMade` seq.
    promise_at: HashMap<Seq, PromiseId>,
    /// Source promise id / seq → this journal's.
    promise_map: HashMap<PromiseId, PromiseId>,
    seq_map: HashMap<Seq, Seq>,
    /// Source promise ids / seqs whose event was rejected: dependents say so.
    rejected_promises: HashMap<PromiseId, String>,
    rejected_seqs: HashMap<Seq, String>,
    next_seq: Seq,
    plan: Plan,
}

impl<'s> Planner<'s> {
    fn new(target: Target, src: &'s Source, now: Timestamp) -> Self {
        let tids = Identities::of_journal(&target.envs);
        let mut state = State::new();
        replay_into(&target.envs, &mut [&mut state]);
        let promise_at = target
            .envs
            .iter()
            .filter_map(|e| match e.event {
                Event::PromiseMade { promise, .. } => Some((e.seq, promise)),
                _ => None,
            })
            .collect();
        Planner {
            src,
            now,
            same_journal: src.journal.is_some() && src.journal == target.journal,
            tids,
            sids: Identities::default(),
            journal: target.envs,
            state,
            promise_at,
            promise_map: HashMap::new(),
            seq_map: HashMap::new(),
            rejected_promises: src.rejected_promises.clone(),
            rejected_seqs: src.rejected_seqs.clone(),
            next_seq: target.last_seq + 1,
            plan: Plan {
                new: Vec::new(),
                payloads: Vec::new(),
                skipped: 0,
                rejected: src.rejected.clone(),
                total: src.events.len() + src.rejected.len(),
                base_seq: target.last_seq,
            },
        }
    }

    fn take(&mut self, se: &SourceEvent) -> Result<(), String> {
        let e = &se.env;
        // The reference, resolved in the source, or in the journal itself
        // for a file exported from it.
        let reference = match self.sids.reference(e) {
            Ref::None => None,
            Ref::Found(k) => Some(k),
            Ref::Missing => match (self.same_journal, self.tids.reference(e)) {
                (true, Ref::Found(k)) => Some(k),
                _ => return Err(self.missing_reference(e)),
            },
        };
        let id = self.sids.add(e, reference);
        if let Some(&tseq) = self.tids.seq_of.get(&id) {
            // Already in the journal: skip it, and remember where it is.
            self.seq_map.insert(e.seq, tseq);
            if let Event::PromiseMade { promise, .. } = e.event {
                if let Some(&tp) = self.promise_at.get(&tseq) {
                    self.promise_map.insert(promise, tp);
                }
            }
            self.plan.skipped += 1;
            return Ok(());
        }
        // New: its references in this journal's numbers.
        let mut event = e.event.clone();
        match &mut event {
            Event::PromiseMade { promise, .. } => *promise = self.state.next_promise_id(),
            Event::Retracted { seq, .. } => match self.seq_map.get(seq) {
                Some(t) => *seq = *t,
                None if self.same_journal => {}
                None => return Err(self.missing_reference(e)),
            },
            Event::PromiseMoved { promise, .. }
            | Event::PromiseKept { promise, .. }
            | Event::PromiseBroken { promise, .. }
            | Event::PromiseReleased { promise, .. } => match self.promise_map.get(promise) {
                Some(t) => *promise = *t,
                None if self.same_journal => {}
                None => return Err(self.missing_reference(e)),
            },
            _ => {}
        }
        let env = Envelope {
            seq: self.next_seq,
            recorded_at: e.recorded_at,
            occurred_at: e.occurred_at,
            author: e.author.clone(),
            event,
        };
        validate(&self.state, &env, se, self.now)?;
        let payload = codec::encode(&env).map_err(|err| err.to_string())?;

        // Accepted: from now on it is part of the journal for what follows.
        self.seq_map.insert(e.seq, env.seq);
        if let (Event::PromiseMade { promise: sp, .. }, Event::PromiseMade { promise: tp, .. }) =
            (&e.event, &env.event)
        {
            self.promise_map.insert(*sp, *tp);
            self.promise_at.insert(env.seq, *tp);
        }
        // The same identity in the journal's numbering (module docs): a
        // repeat of this content later in the file is a second occurrence.
        let content = content_digest(&env, reference);
        *self.tids.occurrences.entry(content).or_insert(0) += 1;
        self.tids.record(&env, id);
        let retraction = matches!(env.event, Event::Retracted { .. });
        if !retraction {
            self.state.apply(&env.as_ref());
        }
        self.next_seq += 1;
        self.plan.payloads.push(payload);
        self.plan.new.push(env);
        if retraction {
            // A retraction changes what earlier events mean: replay the
            // journal and the new events.
            let all = || self.journal.iter().chain(self.plan.new.iter());
            let retracted = crate::projections::retracted_set(all());
            self.state = State::new();
            for e in all() {
                crate::projections::feed(&mut self.state, e, &retracted);
            }
        }
        Ok(())
    }

    fn missing_reference(&self, e: &Envelope) -> String {
        missing_reference(
            e,
            self.src,
            self.same_journal,
            &self.rejected_promises,
            &self.rejected_seqs,
        )
    }
}

fn missing_reference(
    e: &Envelope,
    src: &Source,
    same_journal: bool,
    rejected_promises: &HashMap<PromiseId, String>,
    rejected_seqs: &HashMap<Seq, String>,
) -> String {
    let (what, rejected) = match &e.event {
        Event::Retracted { seq, .. } => (format!("retracts seq {seq}"), rejected_seqs.get(seq)),
        ev => {
            let p = ev.promise().unwrap_or(0);
            (format!("promise {p}"), rejected_promises.get(&p))
        }
    };
    if let Some(origin) = rejected {
        return format!("{what}, whose event ({origin}) was rejected");
    }
    let whence = match (src.journal, same_journal) {
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
    match &e.event {
        Event::Retracted { .. } => format!("{what}, which is not earlier in the file; {whence}"),
        _ => format!("{what} is not made earlier in the file; {whence}"),
    }
}

// ---------------------------------------------------------------------------
// Validation: the rules of the recording commands (record.rs), for events
// that arrive whole

fn validate(s: &State, e: &Envelope, se: &SourceEvent, now: Timestamp) -> Result<(), String> {
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
    let src_promise = se.env.event.promise().unwrap_or(0);
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
            if let Some(c) = s.clients.get(handle) {
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
            if let Some((when, _)) = &c.lost {
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
            let p = open_promise(s, *promise, src_promise, se)?;
            if p.due.at == due.at {
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
            not_before_made(e, p, src_promise)?;
        }
        Event::PromiseKept { promise, .. } => {
            let p = open_promise(s, *promise, src_promise, se)?;
            not_before_made(e, p, src_promise)?;
        }
        Event::PromiseBroken { promise, reason } | Event::PromiseReleased { promise, reason } => {
            let p = open_promise(s, *promise, src_promise, se)?;
            nonempty("reason", reason)?;
            not_before_made(e, p, src_promise)?;
        }
        Event::Advocated { client: h, .. } => {
            client(s, h)?;
        }
        Event::ClientLost { client: h, reason } => {
            let c = client(s, h)?;
            nonempty("reason", reason)?;
            if let Some((when, _)) = &c.lost {
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
            let src_seq = match se.env.event {
                Event::Retracted { seq, .. } => seq,
                _ => *seq,
            };
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
                    .promises
                    .values()
                    .filter(|p| p.status == PromiseStatus::Open)
                    .filter(|p| s.added_seq(&p.client) == Some(*seq))
                    .map(|p| p.id.to_string())
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

fn client<'s>(s: &'s State, h: &str) -> Result<&'s crate::projections::state::Client, String> {
    s.clients.get(h).ok_or_else(|| {
        format!("unknown client {h:?}: neither the journal nor an earlier line adds it")
    })
}

fn open_promise<'s>(
    s: &'s State,
    id: PromiseId,
    src_id: PromiseId,
    se: &SourceEvent,
) -> Result<&'s crate::projections::state::Promise, String> {
    let p = s
        .promises
        .get(&id)
        .ok_or_else(|| format!("promise {src_id} does not exist (or was retracted)"))?;
    if let Some(h) = &se.client_hint {
        if *h != p.client {
            return Err(format!(
                "\"client\" is {h:?} but promise {src_id} is {:?}'s: expected the promise's client",
                p.client
            ));
        }
    }
    if p.status != PromiseStatus::Open {
        let when = p
            .closed
            .map(|(t, _)| format!(" on {}", t.to_local_string()))
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

fn not_before_made(
    e: &Envelope,
    p: &crate::projections::state::Promise,
    src_id: PromiseId,
) -> Result<(), String> {
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
        let retracted_made: Vec<(&str, &str, Timestamp, PromiseId)> = journal
            .iter()
            .filter(|e| retracted.contains(&e.seq))
            .filter_map(|e| match &e.event {
                Event::PromiseMade {
                    promise,
                    client,
                    what,
                    ..
                } => Some((client.as_str(), what.as_str(), e.occurred_at, *promise)),
                _ => None,
            })
            .collect();

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
            let promise = promise_for(t, &handle, state, &retracted_made);
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
    fn promise_for(
        t: &Task,
        handle: &str,
        state: &State,
        retracted_made: &[(&str, &str, Timestamp, PromiseId)],
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
        let same = |client: &str, what: &str, made: Timestamp| {
            client == handle && made == t.entry && what == t.description
        };
        let Some(p) = state
            .promises
            .values()
            .find(|p| same(&p.client, &p.what, p.made_at))
        else {
            if let Some((.., id)) = retracted_made.iter().find(|r| same(r.0, r.1, r.2)) {
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

    #[test]
    fn identical_events_are_told_apart_by_occurrence() {
        let env = Envelope {
            seq: 1,
            recorded_at: Timestamp(5),
            occurred_at: Timestamp(5),
            author: "a".into(),
            event: Event::ClientLost {
                client: "acme".into(),
                reason: "x".into(),
            },
        };
        let mut ids = Identities::default();
        let a = ids.add(&env, None);
        let b = ids.add(
            &Envelope {
                seq: 2,
                ..env.clone()
            },
            None,
        );
        assert_ne!(a, b);
        // The author is not part of the identity; the times are.
        let mut other = Identities::default();
        let c = other.add(
            &Envelope {
                author: "bob".into(),
                ..env.clone()
            },
            None,
        );
        assert_eq!(a, c);
        let d = Identities::default().add(
            &Envelope {
                recorded_at: Timestamp(6),
                ..env
            },
            None,
        );
        assert_ne!(a, d);
    }
}
