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
//! stop folding, guess the whole set from a quick walk over the frames (no
//! CRC, only retractions decoded), and fold again from the start (or from
//! the checkpoint, when no guessed target lies before it) with the guess.
//! That fold checks the guess: every guessed seq must be named by a
//! retraction it reads, or it folds once more with what it read (only
//! damaged bytes make a wrong guess); a retraction the guess missed is a
//! conflict again, and then the rest is read for retractions as before.
//! So a journal is folded once when no retraction reaches back, and about
//! once plus a walk over its frames otherwise.
//!
//! Threads: from 2 MiB of journal on, a reader thread reads, checks and
//! decodes the records and hands them over in batches (the events borrow
//! their text from the batch, so UTF-8 is checked once, there); this
//! thread folds. Client handles are interned once per event, where it is
//! decoded, and passed to the projections as a
//! [`crate::projections::ClientKey`].
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

use std::path::Path;

use super::progress::{Progress, Unit};

use rustc_hash::FxHashSet;

use super::error::AppError;
use crate::events::{codec, EventRef, EventsError, Seq, Timestamp};
use crate::log::format::{Digest, Header};
use crate::log::storage::FileStorage;
use crate::log::{self, Item, LogError, Scanner};
use crate::projections::table::Interner;
use crate::projections::{feed_keyed, ClientKey, Projection};

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
    /// The journal ended in bytes that are not a whole record (a torn
    /// tail), left out of the fold.
    pub torn_tail: Option<TornTail>,
}

/// Bytes at the end of the journal that do not form a whole record: a
/// write cut short by a crash, or damage inside the last record (no reader
/// can tell the two apart). Readers leave them out, quietly by design (the
/// log ends cleanly before them), so the fold that met them reports them
/// here and the command can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where the bytes start (just after the last whole record).
    pub offset: u64,
    /// How many there are (to the end of the file as read).
    pub len: u64,
}

/// The torn tail the last read of each journal in this process met, for
/// the command to report once, wherever in it the journal was read (a
/// query may read it through several folds and passes).
static TORN_TAILS: std::sync::Mutex<Vec<(std::path::PathBuf, TornTail)>> =
    std::sync::Mutex::new(Vec::new());

/// Notes that a read of `path` ended at `d` (a torn tail), unless the file
/// has changed length since the read opened it at `read_len`: then the
/// "torn" bytes were an append in progress (a reader sees a record being
/// written as a torn tail), or a writer has since cut them.
fn note_torn(path: &Path, d: &log::Damage, read_len: u64) -> Option<TornTail> {
    let now_len = std::fs::metadata(path).map(|m| m.len()).ok()?;
    if now_len != read_len {
        return None;
    }
    let t = TornTail {
        offset: d.offset,
        len: d.len,
    };
    if let Ok(mut seen) = TORN_TAILS.lock() {
        seen.retain(|(p, _)| p != path);
        seen.push((path.to_path_buf(), t));
    }
    Some(t)
}

/// The torn tail that a read of the journal at `path` met in this process,
/// if any (taken: a second call returns `None`). What the CLI reports after
/// a query (see `cli::integrity::say_torn_tail`).
pub fn take_torn_tail(path: &Path) -> Option<TornTail> {
    let mut seen = TORN_TAILS.lock().ok()?;
    let i = seen.iter().position(|(p, _)| p == path)?;
    Some(seen.swap_remove(i).1)
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
) -> Result<Replayed<P>, AppError> {
    replay_to(path, as_of, u64::MAX, fresh, resume)
}

/// [`replay`] of the records that start before offset `limit` only, as if
/// the journal ended there: what a checkpoint written at that point holds
/// (`verify` compares the two).
pub fn replay_to<P: Projection>(
    path: &Path,
    as_of: Option<Timestamp>,
    limit: u64,
    fresh: &mut dyn FnMut(bool) -> P,
    resume: &mut dyn FnMut() -> Option<Resume<P>>,
) -> Result<Replayed<P>, AppError> {
    let mut use_resume = true;
    let mut abandoned = false;
    // Seqs known to be retracted before a pass starts: grows after each
    // conflict, so the passes end (each conflict adds a retraction).
    let mut extra: FxHashSet<Seq> = FxHashSet::default();
    // After a retraction that reaches back, the next pass starts with a
    // guess at the whole retracted set, from a cheap read of the file (see
    // `guess_retractions`), so that it need not stop again; once only.
    let mut want_guess = false;
    let mut guess_tried = false;
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
                    torn_tail: None,
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
        let guessed = if std::mem::take(&mut want_guess) {
            guess_tried = true;
            let g = guess_retractions(&sc, at.end, limit, as_of)
                .map_err(|e| LogError::io(path, "reading", e))?;
            let new: Vec<Seq> = g.into_iter().filter(|s| !retracted.contains(s)).collect();
            // A retraction in the tail of an event the resume point already
            // folded: only a fold from scratch can skip it.
            if resumed && new.iter().any(|s| *s <= resume_seq) {
                use_resume = false;
                abandoned = true;
                want_guess = true;
                guess_tried = false;
                continue;
            }
            retracted.extend(new.iter().copied());
            new
        } else {
            Vec::new()
        };
        let mut progress = Progress::new(
            "replaying the journal",
            Unit::Bytes,
            sc.file_len().saturating_sub(at.end),
        )
        .from_offset(at.end);
        let mut events_read = 0;
        let mut met = FxHashSet::default();
        let mut torn = None;
        let end = pass(
            path,
            &mut sc,
            limit,
            &mut torn,
            &mut projections,
            &mut retracted,
            &mut met,
            as_of,
            &mut at,
            resume_seq,
            !guess_tried,
            &mut events_read,
            &mut progress,
        )?;
        progress.finish();
        // Every guessed seq must have been retracted by an event the fold
        // read; otherwise the fold skipped an event it should have applied
        // (only damaged bytes make a wrong guess): fold again without it.
        if guessed.iter().any(|s| !met.contains(s)) {
            let truth: FxHashSet<Seq> = met.into_iter().chain(extra.iter().copied()).collect();
            if resumed {
                use_resume = false;
                abandoned = true;
            }
            extra = truth;
            continue;
        }
        match end {
            PassEnd::Done => {
                let torn_tail = torn.and_then(|d| note_torn(path, &d, sc.file_len()));
                return Ok(Replayed {
                    projections,
                    retracted,
                    at,
                    header: Some(header),
                    events_read,
                    resumed,
                    torn_tail,
                });
            }
            PassEnd::Conflict { before_resume } => {
                let before_resume = before_resume
                    || retracted
                        .iter()
                        .any(|s| *s <= resume_seq && !known_at_resume.contains(s));
                if before_resume && resumed {
                    use_resume = false;
                    abandoned = true;
                }
                want_guess = !guess_tried;
                extra = retracted;
            }
        }
    }
}

/// The seqs that `Retracted` events recorded by `as_of` seem to name, from
/// a quick walk over the frames after `from` (no CRC, no decode beyond the
/// retraction's first fields). Only a guess: the fold checks it. The walk
/// stops at the first frame that does not look whole.
fn guess_retractions(
    sc: &Scanner<FileStorage>,
    from: u64,
    limit: u64,
    as_of: Option<Timestamp>,
) -> std::io::Result<Vec<Seq>> {
    use log::format::{FRAME_LEN, F_LEN, MAX_PAYLOAD};
    let t = as_of.unwrap_or(Timestamp(i64::MAX));
    let file_len = sc.file_len().min(limit);
    let mut out = Vec::new();
    let mut buf = vec![0u8; GUESS_CHUNK];
    let mut pos = from;
    while pos + FRAME_LEN as u64 <= file_len {
        // Never past `limit`: a frame there is not the fold's.
        let room = usize::try_from(file_len - pos).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let got = sc.read_at(pos, &mut buf[..want])?;
        let b = &buf[..got];
        let mut i = 0usize;
        while let Some(head) = b.get(i..i + FRAME_LEN) {
            let len = u32::from_le_bytes([
                head[F_LEN],
                head[F_LEN + 1],
                head[F_LEN + 2],
                head[F_LEN + 3],
            ]);
            if len > MAX_PAYLOAD {
                return Ok(out);
            }
            let total = FRAME_LEN + len as usize;
            let Some(payload) = b.get(i + FRAME_LEN..i + total) else {
                break;
            };
            if let Some((recorded_at, seq)) = codec::peek_retraction(payload) {
                if recorded_at <= t {
                    out.push(seq);
                }
            }
            i += total;
        }
        if i == 0 {
            // Not even one frame fits: the file ends in a torn frame.
            break;
        }
        pos += i as u64;
    }
    Ok(out)
}

const GUESS_CHUNK: usize = 4 << 20;

/// One record handed from the reader to the fold.
struct Rec {
    offset: u64,
    seq: Seq,
    chain: Digest,
    /// The event's client handle, interned where it was decoded (`None`:
    /// the event has none).
    key: Option<ClientKey>,
    /// The payload: `Batch::bytes[start..start + len]`.
    start: usize,
    len: usize,
}

use batch::{Batch, Decoded};

/// Records read in a row, decoded where they were read.
mod batch {
    use super::{Interner, Rec};
    use crate::events::{codec, EnvelopeRef, EventsError};

    /// What the reader made of one record's payload.
    pub(super) enum Decoded<'a> {
        /// An empty payload (a hole): nothing to fold.
        Hole,
        Event(EnvelopeRef<'a>),
        Bad(EventsError),
    }

    type DecodedVec<'a> = Vec<Decoded<'a>>;

    self_cell::self_cell!(
        /// The payloads end to end (the owner) and the events decoded from
        /// them, which borrow their text from it: the reader thread decodes
        /// (and checks the UTF-8 of) every record once, and the fold reads
        /// the views. `self_cell` keeps the borrow safe across the move to
        /// the fold's thread.
        struct Views {
            owner: Vec<u8>,
            #[covariant]
            dependent: DecodedVec,
        }
    );

    /// Records read in a row: their payloads, then (after `decode`) what
    /// they decoded to. The payload buffer is reused from batch to batch.
    #[derive(Default)]
    pub(super) struct Batch {
        /// The payloads while records are being pushed (empty once decoded).
        bytes: Vec<u8>,
        /// The payloads and their decoded views, after `decode`.
        views: Option<Views>,
        recs: Vec<Rec>,
    }

    impl Batch {
        /// The payload buffer back from the views, if decoded.
        fn undecode(&mut self) {
            if let Some(v) = self.views.take() {
                self.bytes = v.into_owner();
            }
        }

        pub(super) fn clear(&mut self) {
            self.undecode();
            self.bytes.clear();
            self.recs.clear();
        }

        pub(super) fn is_empty(&self) -> bool {
            self.recs.is_empty()
        }

        pub(super) fn payload_len(&self) -> usize {
            match &self.views {
                Some(v) => v.borrow_owner().len(),
                None => self.bytes.len(),
            }
        }

        /// Adds a record (`rec.start`, `rec.len` are set here).
        pub(super) fn push(&mut self, mut rec: Rec, payload: &[u8]) {
            self.undecode();
            rec.start = self.bytes.len();
            rec.len = payload.len();
            self.bytes.extend_from_slice(payload);
            self.recs.push(rec);
        }

        /// Decodes every record pushed, and interns its client handle.
        pub(super) fn decode(&mut self, keys: &mut Interner) {
            self.undecode();
            let bytes = std::mem::take(&mut self.bytes);
            let recs = &mut self.recs;
            self.views = Some(Views::new(bytes, |bytes| {
                let mut events = Vec::with_capacity(recs.len());
                for r in recs.iter_mut() {
                    let d = match bytes.get(r.start..r.start + r.len) {
                        None => Decoded::Hole,
                        Some([]) => Decoded::Hole,
                        Some(p) => match codec::decode_ref(r.seq, p) {
                            Ok(env) => {
                                r.key = env.event.client().and_then(|h| keys.key(h));
                                Decoded::Event(env)
                            }
                            Err(e) => Decoded::Bad(e),
                        },
                    };
                    events.push(d);
                }
                events
            }));
        }

        /// The records and what they decoded to (after `decode`; nothing
        /// before).
        pub(super) fn iter(&self) -> impl Iterator<Item = (&Rec, &Decoded<'_>)> + '_ {
            let events: &[Decoded<'_>] = match &self.views {
                Some(v) => v.borrow_dependent(),
                None => &[],
            };
            self.recs.iter().zip(events.iter())
        }
    }
}

/// Payload bytes per batch: large enough that handing a batch over costs
/// nothing per record, small enough to stay in the cache.
const BATCH_BYTES: usize = 256 << 10;
/// Batches in flight between the reader and the fold.
const BATCHES_IN_FLIGHT: usize = 8;
/// Journals (from where the fold starts) shorter than this are read on
/// the fold's own thread: a thread costs more than it saves there.
const THREAD_MIN_BYTES: u64 = 2 << 20;

/// What the reader hands over.
enum Msg {
    Batch(Batch),
    /// Damage other than a torn tail: the read stops here.
    Damage(log::Damage),
    /// A torn tail: the end of the journal.
    Torn(log::Damage),
    Io(std::io::Error),
}

/// Reads the next batch of records: `None` at the end of the journal (a
/// torn tail ends it quietly), or the damage or error that stops it, after
/// the batch of records before it. The records come decoded.
fn read_batch(
    sc: &mut Scanner<FileStorage>,
    limit: u64,
    keys: &mut Interner,
    batch: Batch,
) -> (Batch, Option<Msg>, bool) {
    let (mut batch, stop, last) = read_records(sc, limit, batch);
    batch.decode(keys);
    (batch, stop, last)
}

/// Records up to the one starting at `limit` (excluded).
fn read_records(
    sc: &mut Scanner<FileStorage>,
    limit: u64,
    mut batch: Batch,
) -> (Batch, Option<Msg>, bool) {
    batch.clear();
    loop {
        let item = match sc.next_item() {
            Ok(i) => i,
            Err(e) => return (batch, Some(Msg::Io(e)), true),
        };
        match item {
            None => return (batch, None, true),
            Some(Item::Record(r)) if r.offset >= limit => return (batch, None, true),
            Some(Item::Record(r)) => {
                batch.push(
                    Rec {
                        offset: r.offset,
                        seq: r.seq,
                        chain: r.chain,
                        key: None,
                        start: 0,
                        len: 0,
                    },
                    r.payload,
                );
                if batch.payload_len() >= BATCH_BYTES {
                    return (batch, None, false);
                }
            }
            Some(Item::Damage(d)) if d.offset >= limit => return (batch, None, true),
            Some(Item::Damage(d)) if d.kind == log::DamageKind::TornTail => {
                return (batch, Some(Msg::Torn(d)), true)
            }
            Some(Item::Damage(d)) => return (batch, Some(Msg::Damage(d)), true),
        }
    }
}

/// What the fold does with the records it is handed.
enum Mode {
    Fold,
    /// After a conflict: only the retractions, for the next pass.
    Collect,
    /// After a conflict: nothing more.
    Stop,
}

/// Folds records until the end of the scan or a conflict (after which it
/// reads the rest for retractions only). Reading, CRC checks and copying
/// run on a second thread for a long journal, the fold on this one.
#[allow(clippy::too_many_arguments)]
fn pass<P: Projection>(
    path: &Path,
    sc: &mut Scanner<FileStorage>,
    limit: u64,
    torn: &mut Option<log::Damage>,
    p: &mut P,
    retracted: &mut FxHashSet<Seq>,
    met: &mut FxHashSet<Seq>,
    as_of: Option<Timestamp>,
    at: &mut Position,
    resume_seq: Seq,
    stop_on_conflict: bool,
    events_read: &mut u64,
    progress: &mut Progress,
) -> Result<PassEnd, AppError> {
    let mut f = Folder {
        p,
        retracted,
        met,
        t: as_of.unwrap_or(Timestamp(i64::MAX)),
        at,
        resume_seq,
        events_read,
        progress,
        decode_err: None,
        stop_on_conflict,
        mode: Mode::Fold,
        conflict: None,
    };
    // Handles are interned where the records are read (the reader thread
    // for a long journal), off the fold's path.
    let mut keys = Interner::new();
    let stop = if sc.file_len().saturating_sub(f.at.end) < THREAD_MIN_BYTES {
        let mut batch = Batch::default();
        loop {
            let (b, stop, last) = read_batch(sc, limit, &mut keys, batch);
            let more = f.batch(&b);
            batch = b;
            if last || !more {
                break stop;
            }
        }
    } else {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(BATCHES_IN_FLIGHT);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Batch>();
        std::thread::scope(|s| {
            s.spawn(move || loop {
                let batch = back_rx.try_recv().unwrap_or_default();
                let (b, stop, last) = read_batch(sc, limit, &mut keys, batch);
                if !b.is_empty() && tx.send(Msg::Batch(b)).is_err() {
                    return;
                }
                if let Some(m) = stop {
                    let _ = tx.send(m);
                }
                if last {
                    return;
                }
            });
            let mut stop = None;
            for m in rx {
                match m {
                    Msg::Batch(b) => {
                        if !f.batch(&b) {
                            break;
                        }
                        // The reader may be gone already: then the batch is
                        // simply dropped.
                        let _ = back_tx.send(b);
                    }
                    other => {
                        stop = Some(other);
                        break;
                    }
                }
            }
            stop
        })
    };
    match stop {
        Some(Msg::Io(e)) => return Err(LogError::io(path, "reading", e).into()),
        // After a conflict, damage is left to the next pass, which reports
        // it in order.
        Some(Msg::Damage(d)) if f.conflict.is_none() => {
            return Err(LogError::damaged(path, &d).into())
        }
        Some(Msg::Torn(d)) => *torn = Some(d),
        _ => {}
    }
    if let Some(c) = f.conflict {
        return Ok(c);
    }
    match f.decode_err {
        Some(e) => Err(e.into()),
        None => Ok(PassEnd::Done),
    }
}

/// The fold side of a pass.
struct Folder<'a, P> {
    p: &'a mut P,
    retracted: &'a mut FxHashSet<Seq>,
    /// Seqs named by the retractions read (the guess is checked against it).
    met: &'a mut FxHashSet<Seq>,
    t: Timestamp,
    at: &'a mut Position,
    resume_seq: Seq,
    events_read: &'a mut u64,
    progress: &'a mut Progress,
    decode_err: Option<EventsError>,
    /// After a conflict, stop (the next pass guesses the retracted set)
    /// instead of reading on for retractions.
    stop_on_conflict: bool,
    mode: Mode,
    conflict: Option<PassEnd>,
}

impl<P: Projection> Folder<'_, P> {
    /// Folds a batch; false once nothing more is wanted.
    fn batch(&mut self, b: &Batch) -> bool {
        for (r, d) in b.iter() {
            match self.mode {
                Mode::Fold => self.record(r, d),
                Mode::Collect => self.collect(d),
                Mode::Stop => return false,
            }
        }
        self.progress.at(self.at.end);
        !matches!(self.mode, Mode::Stop)
    }

    #[inline]
    fn record(&mut self, r: &Rec, d: &Decoded<'_>) {
        let at = &mut *self.at;
        at.record_offset = r.offset;
        at.end = r.offset + (log::format::FRAME_LEN + r.len) as u64;
        at.seq = r.seq;
        at.chain = r.chain;
        if matches!(d, Decoded::Hole) || self.decode_err.is_some() {
            return;
        }
        *self.events_read += 1;
        let env = match d {
            Decoded::Event(env) => env,
            Decoded::Bad(e) => {
                // Keep reading: damage later in the log is reported first.
                self.decode_err = Some(e.clone());
                return;
            }
            Decoded::Hole => return,
        };
        at.max_recorded_at = at.max_recorded_at.max(env.recorded_at);
        if env.recorded_at > self.t {
            return;
        }
        if let EventRef::Retracted { seq, .. } = env.event {
            self.met.insert(seq);
            if self.retracted.insert(seq) && seq < env.seq {
                // The projections may already hold `seq`.
                self.conflict = Some(PassEnd::Conflict {
                    before_resume: seq <= self.resume_seq,
                });
                self.mode = if self.stop_on_conflict {
                    Mode::Stop
                } else {
                    Mode::Collect
                };
                return;
            }
        }
        feed_keyed(self.p, env, r.key, self.retracted);
    }

    /// Retractions only; errors are left to the next pass, which reports
    /// them in order.
    fn collect(&mut self, d: &Decoded<'_>) {
        if let Decoded::Event(env) = d {
            if let EventRef::Retracted { seq, .. } = env.event {
                if env.recorded_at <= self.t {
                    self.retracted.insert(seq);
                    self.met.insert(seq);
                }
            }
        }
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
    f: &mut dyn FnMut(&crate::events::EnvelopeRef<'_>) -> Result<(), AppError>,
) -> Result<Seq, AppError> {
    let mut sc = match log::open_scan(path, false, false) {
        Ok(sc) => sc,
        Err(LogError::Truncated { .. }) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let t = as_of.unwrap_or(Timestamp(i64::MAX));
    let mut last = 0;
    let mut decode_err: Option<EventsError> = None;
    let read_len = sc.file_len();
    while let Some(item) = sc
        .next_item()
        .map_err(|e| LogError::io(path, "reading", e))?
    {
        let r = match item {
            Item::Record(r) => r,
            Item::Damage(d) if d.kind == log::DamageKind::TornTail => {
                // The last item: reported to the command (see `TornTail`).
                note_torn(path, &d, read_len);
                continue;
            }
            Item::Damage(d) => return Err(LogError::damaged(path, &d).into()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Envelope, Event, Fit, InteractionKind, Party};
    use crate::log::{JournalWriter, DEFAULT_LOCK_WAIT};
    use crate::projections::audit::Audit;
    use crate::projections::postmortem::Postmortem;
    use crate::projections::state::State;
    use crate::projections::trust::Trust;

    /// A journal long enough for the reader thread, with retractions that
    /// reach back (some before, some after a mid-journal checkpoint).
    fn long_journal(path: &Path) -> Vec<Envelope> {
        let mut w = JournalWriter::open(path, 0, DEFAULT_LOCK_WAIT).unwrap();
        let mut envs = Vec::new();
        let pad = "x".repeat(120);
        for i in 1..=30_000u64 {
            let c = format!("client-{}", i % 97);
            let event = if i <= 97 {
                Event::ClientAdded {
                    handle: format!("client-{}", i % 97),
                    name: "n".into(),
                    fit: Fit::Target,
                    note: String::new(),
                }
            } else if i % 1000 == 7 {
                Event::Retracted {
                    seq: i - 500,
                    reason: "r".into(),
                }
            } else if i % 3 == 0 {
                Event::PromiseMade {
                    promise: i,
                    client: c,
                    what: pad.clone(),
                    due: crate::events::Due {
                        at: Timestamp(i as i64 * 1_000_000),
                        date_only: false,
                    },
                }
            } else {
                Event::Interacted {
                    client: c,
                    kind: InteractionKind::Call,
                    mood: (i % 5) as i8 - 2,
                    minutes: Some(10),
                    initiated_by: Party::Us,
                    note: pad.clone(),
                }
            };
            envs.push(Envelope {
                seq: i,
                recorded_at: Timestamp(i as i64 * 1_000_000),
                occurred_at: Timestamp(i as i64 * 1_000_000),
                author: "t".into(),
                event,
            });
        }
        let bytes: Vec<Vec<u8>> = envs.iter().map(|e| codec::encode(e).unwrap()).collect();
        w.append_batch(bytes.iter().map(Vec::as_slice)).unwrap();
        envs
    }

    type All = (State, Audit, Trust, Postmortem);

    fn fresh() -> All {
        (
            State::new(),
            Audit::new(),
            Trust::default(),
            Postmortem::new("client-3", Default::default()),
        )
    }

    #[test]
    fn threaded_fold_with_retractions_equals_the_in_memory_fold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.tlog");
        let envs = long_journal(&path);
        assert!(std::fs::metadata(&path).unwrap().len() > 2 * THREAD_MIN_BYTES);
        for as_of in [None, Some(Timestamp(20_000 * 1_000_000))] {
            let mut want = fresh();
            let retracted = crate::projections::replay_as_of(&mut want, &envs, as_of);
            let got = replay(&path, as_of, &mut |_| fresh(), &mut || None).unwrap();
            assert_eq!(got.projections, want);
            let mut r: Vec<Seq> = got.retracted.into_iter().collect();
            let mut w: Vec<Seq> = retracted.into_iter().collect();
            r.sort_unstable();
            w.sort_unstable();
            assert_eq!(r, w);
        }
        // Resumed from a fold of the first half: a retraction in the tail
        // reaches back before it, so the fold starts over.
        let half = &envs[..15_000];
        let mut first = fresh();
        let known = crate::projections::replay_as_of(&mut first, half, None);
        let mut sc = log::open_scan(&path, false, false).unwrap();
        let mut at = Position::start();
        while let Some(Item::Record(r)) = sc.next_item().unwrap() {
            at.record_offset = r.offset;
            at.end = r.end();
            at.seq = r.seq;
            at.chain = r.chain;
            if r.seq == 15_000 {
                break;
            }
        }
        let mut offered = Some(Resume {
            projections: first,
            retracted: known.into_iter().collect(),
            at,
        });
        let got = replay(&path, None, &mut |_| fresh(), &mut || offered.take()).unwrap();
        assert!(!got.resumed);
        let mut want = fresh();
        crate::projections::replay_as_of(&mut want, &envs, None);
        assert_eq!(got.projections, want);
    }
}
