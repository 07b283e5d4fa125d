//! The replay driver: streams the journal into projections, record by
//! record, in constant memory (nothing but the projections is kept), and
//! honours retractions exactly as `projections::replay_as_of` does.
//!
//! Retractions: a `Retracted` event makes the driver `skip` an *earlier*
//! event, so the set of retracted seqs must be known before the event it
//! names is folded. Retractions are rare, so the driver folds optimistically
//! with the set known so far (from a checkpoint, or empty) and adds each
//! retraction as it meets it. Only when it meets a retraction of an event
//! it may already have applied (an earlier seq not yet in the set) does it
//! stop folding, read the rest of the journal for retractions only, and
//! fold again from the start (or from the checkpoint, when every new target
//! lies after it) with the complete set. So a journal is read once when no
//! retraction reaches back, and at most about twice otherwise.
//!
//! `--as-of T` keeps the events recorded by `T` (a filter on `recorded_at`,
//! not a cut), and only retractions among them count, as in
//! [`crate::projections::as_of`].
//!
//! A fold can start from a [`Resume`]: projections already folded up to a
//! known record (a checkpoint). The scan then starts right after that
//! record, which must still be in the journal with the same seq and chain
//! digest ([`crate::log::Scanner::resume_after`]).
//!
//! Progress: a fold of a large journal shows a percentage on stderr when
//! stderr is a terminal, and nothing otherwise.

use std::io::{IsTerminal, Write};
use std::path::Path;

use rustc_hash::FxHashSet;

use super::error::CliError;
use crate::events::{codec, EventRef, EventsError, Seq, Timestamp};
use crate::log::format::{Digest, Header};
use crate::log::storage::FileStorage;
use crate::log::{self, Item, LogError, Scanner};
use crate::projections::{feed_ref, Projection};

/// Where a fold stopped: the last record it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Offset of the last record read (0 when none was).
    pub record_offset: u64,
    /// Offset just after it: where the next record starts.
    pub end: u64,
    /// Its seq (0 when none was read).
    pub seq: Seq,
    /// Its chain digest.
    pub chain: Digest,
    /// The latest `recorded_at` of the events read (`i64::MIN` if none):
    /// a checkpoint ending here answers `--as-of T` for any `T` at or
    /// after it.
    pub max_recorded_at: Timestamp,
}

impl Position {
    fn start() -> Self {
        Position {
            record_offset: 0,
            end: log::format::HEADER_LEN as u64,
            seq: 0,
            chain: [0; 32],
            max_recorded_at: Timestamp(i64::MIN),
        }
    }
}

/// Projections already folded up to a record of the journal.
pub struct Resume<P> {
    pub projections: P,
    /// Every seq named by a retraction among the events folded.
    pub retracted: FxHashSet<Seq>,
    pub at: Position,
}

/// A finished fold.
pub struct Replayed<P> {
    pub projections: P,
    pub retracted: FxHashSet<Seq>,
    /// The last record read.
    pub at: Position,
    /// The journal's header (id and creation time: a checkpoint's key);
    /// `None` for a journal whose creation was cut short.
    pub header: Option<Header>,
    /// Events folded by this run (after the resume point, if any).
    pub events_read: u64,
    /// Whether the fold started from the resume point it was offered.
    pub resumed: bool,
}

/// How a single pass over the records ended.
enum PassEnd {
    Done,
    /// A retraction of an earlier event not known to be retracted: the
    /// projections may have applied it. `before_resume`: the event lies
    /// before the resume point, so only a fold from scratch can skip it.
    Conflict {
        before_resume: bool,
    },
}

/// Folds the journal at `path` into projections made by `fresh` (or
/// resumed from `resume()`, when it gives one that still matches the
/// journal), keeping the events recorded by `as_of` (all of them when
/// `None`). `fresh(true)` is asked for when a resume point was offered and
/// given up (it no longer matches the journal, or a retraction reaches back
/// before it): the caller may then want to fold what it needs to replace
/// it.
///
/// A torn tail ends the journal quietly; any other damage is an error, and
/// so is an event that does not decode (damage is reported first, as the
/// log is read to its end).
pub fn replay<P: Projection>(
    path: &Path,
    as_of: Option<Timestamp>,
    fresh: &mut dyn FnMut(bool) -> P,
    resume: &mut dyn FnMut() -> Option<Resume<P>>,
) -> Result<Replayed<P>, CliError> {
    let mut use_resume = true;
    let mut abandoned = false;
    // Seqs known to be retracted before a pass starts: grows after each
    // conflict, so the passes end (each conflict adds a retraction).
    let mut extra: FxHashSet<Seq> = FxHashSet::default();
    loop {
        let mut sc = match log::open_scan(path, false, false) {
            Ok(sc) => sc,
            // A creation cut short by a crash holds no records yet.
            Err(LogError::Truncated { .. }) => {
                return Ok(Replayed {
                    projections: fresh(false),
                    retracted: extra,
                    at: Position::start(),
                    header: None,
                    events_read: 0,
                    resumed: false,
                })
            }
            Err(e) => return Err(e.into()),
        };
        let header = *sc.header();
        let mut from = None;
        if use_resume {
            if let Some(r) = resume() {
                let ok = sc
                    .resume_after(r.at.record_offset, r.at.seq, &r.at.chain)
                    .map_err(|e| LogError::io(path, "reading", e))?;
                if ok {
                    from = Some(r);
                } else {
                    abandoned = true;
                    use_resume = false;
                }
            }
        }
        let resumed = from.is_some();
        let (mut projections, mut retracted, mut at) = match from {
            Some(r) => (r.projections, r.retracted, r.at),
            None => {
                let mut at = Position::start();
                at.chain = header.chain_seed();
                (fresh(abandoned), FxHashSet::default(), at)
            }
        };
        let resume_seq = at.seq;
        // What the resume point knew: a retraction of any other seq at or
        // before it means it folded an event it should have skipped.
        let known_at_resume = if resumed {
            retracted.clone()
        } else {
            FxHashSet::default()
        };
        retracted.extend(extra.iter().copied());
        let mut progress = Progress::new(at.end, sc.file_len());
        let mut events_read = 0;
        let end = pass(
            path,
            &mut sc,
            &mut projections,
            &mut retracted,
            as_of,
            &mut at,
            resume_seq,
            &mut events_read,
            &mut progress,
        )?;
        match end {
            PassEnd::Done => {
                progress.finish();
                return Ok(Replayed {
                    projections,
                    retracted,
                    at,
                    header: Some(header),
                    events_read,
                    resumed,
                });
            }
            PassEnd::Conflict { before_resume } => {
                collect_retractions(path, &mut sc, &mut retracted, as_of)?;
                progress.finish();
                let before_resume = before_resume
                    || retracted
                        .iter()
                        .any(|s| *s <= resume_seq && !known_at_resume.contains(s));
                if before_resume && resumed {
                    use_resume = false;
                    abandoned = true;
                }
                extra = retracted;
            }
        }
    }
}

/// Folds records until the end of the scan or a conflict.
#[allow(clippy::too_many_arguments)]
fn pass<P: Projection>(
    path: &Path,
    sc: &mut Scanner<FileStorage>,
    p: &mut P,
    retracted: &mut FxHashSet<Seq>,
    as_of: Option<Timestamp>,
    at: &mut Position,
    resume_seq: Seq,
    events_read: &mut u64,
    progress: &mut Progress,
) -> Result<PassEnd, CliError> {
    let t = as_of.unwrap_or(Timestamp(i64::MAX));
    let mut decode_err: Option<EventsError> = None;
    loop {
        let item = sc
            .next_item()
            .map_err(|e| LogError::io(path, "reading", e))?;
        let r = match item {
            None => break,
            Some(Item::Record(r)) => r,
            Some(Item::Damage(d)) if d.kind == log::DamageKind::TornTail => continue,
            Some(Item::Damage(d)) => {
                return Err(LogError::Damaged {
                    path: path.to_path_buf(),
                    offset: d.offset,
                    seq: d.seq,
                    kind: d.kind,
                }
                .into())
            }
        };
        at.record_offset = r.offset;
        at.end = r.end();
        at.seq = r.seq;
        at.chain = r.chain;
        if r.is_hole() || decode_err.is_some() {
            continue;
        }
        *events_read += 1;
        if *events_read & 0xFFFF == 0 {
            progress.at(at.end);
        }
        let env = match codec::decode_ref(r.seq, r.payload) {
            Ok(env) => env,
            Err(e) => {
                // Keep reading: damage later in the log is reported first.
                decode_err = Some(e);
                continue;
            }
        };
        at.max_recorded_at = at.max_recorded_at.max(env.recorded_at);
        if env.recorded_at > t {
            continue;
        }
        if let EventRef::Retracted { seq, .. } = env.event {
            if retracted.insert(seq) && seq < env.seq {
                // The projections may already hold `seq`.
                return Ok(PassEnd::Conflict {
                    before_resume: seq <= resume_seq,
                });
            }
        }
        feed_ref(p, &env, retracted);
    }
    match decode_err {
        Some(e) => Err(e.into()),
        None => Ok(PassEnd::Done),
    }
}

/// Calls `f` with every event known at `as_of` (all when `None`), in
/// journal order, up to seq `until` when given, streaming: nothing is kept.
/// Errors as [`replay`]: damage stops the read at once; an event that does
/// not decode is reported at the end, unless damage follows it. Returns the
/// seq of the last record read.
pub fn for_each_event(
    path: &Path,
    as_of: Option<Timestamp>,
    until: Option<Seq>,
    f: &mut dyn FnMut(&crate::events::EnvelopeRef<'_>) -> Result<(), CliError>,
) -> Result<Seq, CliError> {
    let mut sc = match log::open_scan(path, false, false) {
        Ok(sc) => sc,
        Err(LogError::Truncated { .. }) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let t = as_of.unwrap_or(Timestamp(i64::MAX));
    let mut last = 0;
    let mut decode_err: Option<EventsError> = None;
    while let Some(item) = sc
        .next_item()
        .map_err(|e| LogError::io(path, "reading", e))?
    {
        let r = match item {
            Item::Record(r) => r,
            Item::Damage(d) if d.kind == log::DamageKind::TornTail => continue,
            Item::Damage(d) => {
                return Err(LogError::Damaged {
                    path: path.to_path_buf(),
                    offset: d.offset,
                    seq: d.seq,
                    kind: d.kind,
                }
                .into())
            }
        };
        if until.is_some_and(|u| r.seq > u) {
            break;
        }
        last = r.seq;
        if r.is_hole() || decode_err.is_some() {
            continue;
        }
        match codec::decode_ref(r.seq, r.payload) {
            Ok(env) if env.recorded_at <= t => f(&env)?,
            Ok(_) => {}
            Err(e) => decode_err = Some(e),
        }
    }
    match decode_err {
        Some(e) => Err(e.into()),
        None => Ok(last),
    }
}

/// Reads the rest of the scan for retractions only (known at `as_of`).
fn collect_retractions(
    path: &Path,
    sc: &mut Scanner<FileStorage>,
    retracted: &mut FxHashSet<Seq>,
    as_of: Option<Timestamp>,
) -> Result<(), CliError> {
    let t = as_of.unwrap_or(Timestamp(i64::MAX));
    while let Some(item) = sc
        .next_item()
        .map_err(|e| LogError::io(path, "reading", e))?
    {
        if let Item::Record(r) = item {
            if r.is_hole() {
                continue;
            }
            // Errors are left to the next pass, which reports them in order.
            if let Ok(env) = codec::decode_ref(r.seq, r.payload) {
                if let EventRef::Retracted { seq, .. } = env.event {
                    if env.recorded_at <= t {
                        retracted.insert(seq);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Replays below this many bytes show no progress: they take well under a
/// second.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// A percentage on stderr, only on a terminal and only for long folds.
struct Progress {
    from: u64,
    to: u64,
    /// The percentage shown last; `None` when progress is not shown.
    shown: Option<u64>,
}

impl Progress {
    /// A fold that reads the journal from offset `from` to `to`.
    fn new(from: u64, to: u64) -> Self {
        let on = to.saturating_sub(from) >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal();
        Progress {
            from,
            to,
            shown: on.then_some(u64::MAX),
        }
    }

    fn at(&mut self, offset: u64) {
        let Some(last) = self.shown else { return };
        let pct = offset.saturating_sub(self.from) * 100 / self.to.saturating_sub(self.from).max(1);
        if pct != last {
            let _ = write!(
                std::io::stderr(),
                "\rtrustlog: replaying the journal… {pct:>3}%"
            );
            self.shown = Some(pct);
        }
    }

    fn finish(&mut self) {
        if self.shown.is_some_and(|s| s != u64::MAX) {
            let _ = write!(std::io::stderr(), "\r{:60}\r", "");
        }
        self.shown = None;
    }
}
