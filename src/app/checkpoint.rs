//! Checkpoints: a cache of the folded projections next to the journal
//! (`<journal>.checkpoint`), so that queries and recording commands replay
//! only the events appended since, not the whole log. The file format is
//! in `docs/format.md` ("Derived files").
//!
//! A checkpoint is never trusted over the log. It is used only when all of
//! this holds; otherwise it is ignored (and rewritten by the next fold that
//! reads the whole journal):
//! - it is a regular file owned by the journal's owner that neither group
//!   nor others may write (a CRC is no defence against a forger);
//! - its header is intact (CRC), of this format version and projection
//!   layout, and was written by this version of trustlog;
//! - it names this journal (journal id and creation time from the header);
//! - the record it ends at is still in the journal, at the same offset, with
//!   the same seq and chain digest (the digest commits to every byte
//!   before it, so a rewritten, salvaged or cut journal never matches);
//! - each section it needs passes its own CRC and decodes;
//! - for `--as-of T`: every event it holds was recorded by `T`;
//! - for the trust scores: they were folded with the same parameters.
//!
//! A retraction in the tail that reaches back before the checkpoint makes
//! the driver fold from scratch (see `replay`).
//!
//! Refresh: a fold that reads at least [`refresh_bytes`] of the journal
//! (1 MiB by default, about 10,000 events of typical size; the whole
//! journal, when there was no usable checkpoint) writes a new checkpoint,
//! folding everything a checkpoint holds to do so — from the first record:
//! a checkpoint is rebuilt, never copied forward, because nothing but
//! `verify` ([`verify_derived`]) checks an old one's content against the
//! log. Below that the tail is
//! cheap to replay, and a checkpoint rewrite (a few MB and an fsync per
//! million events) would cost more than it saves. Written atomically: a
//! temporary file in the same directory, fsync, rename over the old one,
//! fsync the directory. Readers never block on a writer; when two
//! processes race, the last rename wins and both files are valid.
//! Deleting the file loses nothing.
//!
//! Sections (each CRC-checked and decoded only when needed): the retracted
//! seqs, `State`, `Audit`, and `Trust` (scores only). Their encoding is the
//! serde form of the projections, through `events::codec` (the only bincode
//! user), except the state's hot part: a layout of its own ([`hot`]) that a
//! recording command reads sparsely, only the client or promise it names
//! (so its cost does not grow with the journal, the clients or the open
//! promises). `LAYOUT` must change whenever any of these forms changes; a
//! test pins it.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashSet;

#[doc(hidden)] // pub for fuzz/src/checkpoint_sparse.rs only
pub mod hot;
pub use hot::Subset;

use super::error::AppError;
use super::replay::{self, Position, Resume};
use crate::events::{codec, EnvelopeRef, Seq, Timestamp};
use crate::log::atomic::{dir_of, AtomicFile};
use crate::log::format::{Digest, Header};
use crate::projections::audit::{Audit, SectionReader as _};
use crate::projections::state::State;
use crate::projections::trust::{Trust, TrustParams};
use crate::projections::{ClientKey, Projection};

/// `<journal>` + this is the checkpoint's path.
pub const SUFFIX: &str = ".checkpoint";

const MAGIC: [u8; 8] = *b"\x89TLCKPT\n";
/// Version of the file layout below.
const VERSION: u16 = 1;
/// Version of the sections' encoding (the projections' serde form, the
/// state section's own layout in [`hot`], the audit's columns). Bump it
/// whenever a field of a checkpointed projection or one of those layouts
/// changes.
pub const LAYOUT: u32 = 10;

// Header fields (offsets; all integers little-endian).
const H_MAGIC: usize = 0; // 8
const H_VERSION: usize = 8; // u16
const H_LAYOUT: usize = 12; // u32
const H_JOURNAL_ID: usize = 16; // 16
const H_CREATED: usize = 32; // i64
const H_RECORD_OFFSET: usize = 40; // u64
const H_END: usize = 48; // u64
const H_SEQ: usize = 56; // u64
const H_CHAIN: usize = 64; // 32
const H_MAX_RECORDED: usize = 96; // i64
const H_TRUST_PARAMS: usize = 104; // 32: BLAKE3 of the encoded TrustParams
const H_PROGRAM: usize = 136; // 16: trustlog version, zero-padded
const H_SECTIONS: usize = 152; // SECTIONS × 24: kind u32, crc u32, offset u64, len u64
const SECTIONS: usize = 5;
const H_CRC: usize = H_SECTIONS + SECTIONS * 24; // u32: CRC-32 of bytes 0..H_CRC
/// Header size; the sections follow.
pub const HEADER_LEN: usize = H_CRC + 4;

const S_RETRACTED: u32 = 1;
const S_STATE: u32 = 2;
const S_AUDIT: u32 = 3;
const S_TRUST: u32 = 4;
const S_STATE_COLD: u32 = 5;

/// Bytes of journal a fold must read before it writes a checkpoint;
/// `$TRUSTLOG_CHECKPOINT_BYTES` overrides the 1 MiB default (tests use a
/// small value; 0 disables checkpoints).
pub fn refresh_bytes() -> Option<u64> {
    match std::env::var("TRUSTLOG_CHECKPOINT_BYTES") {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(0) => None,
            Ok(n) => Some(n),
            Err(_) => Some(1 << 20),
        },
        Err(_) => Some(1 << 20),
    }
}

pub fn path_for(journal: &Path) -> PathBuf {
    let mut name = journal
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "journal".into());
    name.push(SUFFIX);
    journal.with_file_name(name)
}

/// The projections a checkpoint holds. `audit` and `trust` are `None` when
/// the fold did not need them (and then no checkpoint can be written).
#[derive(Debug, Clone)]
pub struct Core {
    pub state: State,
    pub audit: Option<Audit>,
    pub trust: Option<Trust>,
}

impl Core {
    fn complete(&self) -> bool {
        !self.state.is_partial()
            && self.audit.as_ref().is_some_and(Audit::has_all_texts)
            && self.trust.is_some()
    }
}

impl Projection for Core {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.state.apply(env);
        if let Some(a) = &mut self.audit {
            a.apply(env);
        }
        if let Some(t) = &mut self.trust {
            t.apply(env);
        }
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.state.skip(env);
        if let Some(a) = &mut self.audit {
            a.skip(env);
        }
        if let Some(t) = &mut self.trust {
            t.skip(env);
        }
    }
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        self.state.apply_keyed(env, key);
        if let Some(a) = &mut self.audit {
            a.apply_keyed(env, key);
        }
        if let Some(t) = &mut self.trust {
            t.apply_keyed(env, key);
        }
    }
}

/// What a command needs folded besides the state.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// The whole state, closed promises and event kinds included (the
    /// checkpoint keeps them apart: most commands need only clients and
    /// open promises).
    pub full_state: bool,
    pub audit: bool,
    /// The audit's rows (what every promise is about, for the table and
    /// CSV); without it the audit keeps only the texts its flags print.
    pub audit_rows: bool,
    /// Trust scores folded with these parameters.
    pub trust: Option<TrustParams>,
    /// Only these clients and open promises (a recording command's
    /// validation): read sparsely from the checkpoint when nothing else is
    /// needed and it will not be rewritten. The state is then partial, and
    /// holds exactly what a full fold holds for them, with exact counters.
    pub only: Option<Subset>,
}

/// A finished fold of the core projections, and what is needed to write a
/// checkpoint of it later (a recording command writes after its append).
pub struct Folded {
    pub core: Core,
    retracted: FxHashSet<Seq>,
    at: Position,
    header: Option<Header>,
    /// The fold read enough to be worth a checkpoint, and holds everything
    /// one needs; always a fold from the first record (see [`fold`]).
    pub worth_saving: bool,
    /// The journal ended in a torn tail, left out of the fold.
    pub torn_tail: Option<replay::TornTail>,
}

/// A checkpoint file's header, read and checked.
struct Loaded {
    file: File,
    journal_id: [u8; 16],
    created: i64,
    at: Position,
    trust_params: Digest,
    sections: [(u32, u32, u64, u64); SECTIONS],
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn program_id() -> [u8; 16] {
    let mut p = [0u8; 16];
    let v = env!("CARGO_PKG_VERSION").as_bytes();
    let n = v.len().min(16);
    p[..n].copy_from_slice(&v[..n]);
    p
}

fn params_digest(p: &TrustParams) -> Result<Digest, AppError> {
    let bytes = codec::encode_checkpoint(p)?;
    Ok(*blake3::hash(&bytes).as_bytes())
}

impl Loaded {
    /// Reads and checks the header; `None` for a missing, short, damaged,
    /// foreign-format or other-version file.
    fn open(path: &Path) -> Option<Loaded> {
        let file = File::open(path).ok()?;
        let mut h = [0u8; HEADER_LEN];
        file.read_exact_at(&mut h, 0).ok()?;
        if h[H_MAGIC..H_MAGIC + 8] != MAGIC
            || crc32fast::hash(&h[..H_CRC]) != u32_at(&h, H_CRC)
            || u16::from_le_bytes([h[H_VERSION], h[H_VERSION + 1]]) != VERSION
            || u32_at(&h, H_LAYOUT) != LAYOUT
            || h[H_PROGRAM..H_PROGRAM + 16] != program_id()
        {
            return None;
        }
        let mut journal_id = [0u8; 16];
        journal_id.copy_from_slice(&h[H_JOURNAL_ID..H_JOURNAL_ID + 16]);
        let mut chain = [0u8; 32];
        chain.copy_from_slice(&h[H_CHAIN..H_CHAIN + 32]);
        let mut trust_params = [0u8; 32];
        trust_params.copy_from_slice(&h[H_TRUST_PARAMS..H_TRUST_PARAMS + 32]);
        let mut sections = [(0, 0, 0, 0); SECTIONS];
        for (i, s) in sections.iter_mut().enumerate() {
            let b = H_SECTIONS + i * 24;
            *s = (
                u32_at(&h, b),
                u32_at(&h, b + 4),
                u64_at(&h, b + 8),
                u64_at(&h, b + 16),
            );
        }
        Some(Loaded {
            file,
            journal_id,
            created: u64_at(&h, H_CREATED) as i64,
            at: Position {
                record_offset: u64_at(&h, H_RECORD_OFFSET),
                end: u64_at(&h, H_END),
                seq: u64_at(&h, H_SEQ),
                chain,
                max_recorded_at: Timestamp(u64_at(&h, H_MAX_RECORDED) as i64),
            },
            trust_params,
            sections,
        })
    }

    /// The bytes of section `kind`, if present and intact.
    fn section(&self, kind: u32) -> Option<Vec<u8>> {
        let &(_, crc, offset, len) = self.sections.iter().find(|s| s.0 == kind)?;
        let size = self.file.metadata().ok()?.len();
        if offset < HEADER_LEN as u64 || offset.checked_add(len)? > size {
            return None;
        }
        let mut buf = vec![0u8; usize::try_from(len).ok()?];
        self.file.read_exact_at(&mut buf, offset).ok()?;
        (crc32fast::hash(&buf) == crc).then_some(buf)
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, kind: u32, what: &str) -> Option<T> {
        codec::decode_checkpoint(&self.section(kind)?, what).ok()
    }

    /// The audit section, read in place part by part (never the whole
    /// section in memory at once: at 10M events it is most of the file),
    /// its CRC checked over every byte.
    fn audit(&self, all_texts: bool) -> Option<Audit> {
        let &(_, crc, offset, len) = self.sections.iter().find(|s| s.0 == S_AUDIT)?;
        let size = self.file.metadata().ok()?.len();
        if offset < HEADER_LEN as u64 || offset.checked_add(len)? > size {
            return None;
        }
        let mut r = AuditReader {
            file: &self.file,
            pos: offset,
            end: offset + len,
            crc: crc32fast::Hasher::new(),
            expected: crc,
            buf: Vec::new(),
            at: 0,
        };
        let audit = Audit::from_checkpoint(&mut r, all_texts)?;
        r.intact().then_some(audit)
    }

    /// Only the clients and promises of `only`, read in place (see
    /// [`hot`]); the retracted set holds the seqs after the checkpoint's
    /// (all a fold of the tail can meet; one that reaches back before it
    /// starts the fold over, as with the whole set).
    fn resume_sparse(&self, only: &Subset) -> Option<Resume<Core>> {
        let &(_, _, offset, len) = self.sections.iter().find(|s| s.0 == S_STATE)?;
        // Within the file, so no length from it can size a buffer past it.
        let size = self.file.metadata().ok()?.len();
        if offset < HEADER_LEN as u64 || offset.checked_add(len)? > size {
            return None;
        }
        let (state, retracted) = hot::decode_sparse(&self.file, offset, len, only)?;
        Some(Resume {
            projections: Core {
                state,
                audit: None,
                trust: None,
            },
            retracted,
            at: self.at,
        })
    }

    /// The projections named by `want`, decoded, with the retracted set.
    fn resume(&self, want: &Want) -> Option<Resume<Core>> {
        let retracted: Vec<Seq> = self.decode(S_RETRACTED, "retracted")?;
        let mut state = hot::decode(&self.section(S_STATE)?)?;
        if want.full_state {
            state = state.with_cold(self.decode(S_STATE_COLD, "closed promises")?);
        }
        let audit = match want.audit {
            true => Some(self.audit(want.audit_texts)?),
            false => None,
        };
        let trust = match want.trust {
            true => Some(self.decode::<Trust>(S_TRUST, "trust")?),
            false => None,
        };
        Some(Resume {
            projections: Core {
                state,
                audit,
                trust,
            },
            retracted: retracted.into_iter().collect(),
            at: self.at,
        })
    }
}

/// Which sections to load.
struct Want {
    full_state: bool,
    audit: bool,
    /// Every promise's text in the audit (not only the flagged ones').
    audit_texts: bool,
    trust: bool,
}

/// The audit section, read in order through a buffer for the small reads
/// (the texts a flag prints), straight into the column for the large.
struct AuditReader<'a> {
    file: &'a File,
    /// Next file offset to read.
    pos: u64,
    end: u64,
    /// Over every byte read from the file.
    crc: crc32fast::Hasher,
    /// The section's CRC in the header.
    expected: u32,
    buf: Vec<u8>,
    /// Next unread byte of `buf`.
    at: usize,
}

const AUDIT_READ_BUFFER: usize = 256 * 1024;

impl AuditReader<'_> {
    fn fill(&mut self, out: &mut [u8]) -> Option<()> {
        if (out.len() as u64) > self.end - self.pos {
            return None;
        }
        self.file.read_exact_at(out, self.pos).ok()?;
        self.crc.update(out);
        self.pos += out.len() as u64;
        Some(())
    }
}

impl crate::projections::audit::SectionReader for AuditReader<'_> {
    fn read_exact(&mut self, out: &mut [u8]) -> Option<()> {
        let buffered = (self.buf.len() - self.at).min(out.len());
        out[..buffered].copy_from_slice(&self.buf[self.at..self.at + buffered]);
        self.at += buffered;
        let out = &mut out[buffered..];
        if out.is_empty() {
            return Some(());
        }
        if out.len() >= AUDIT_READ_BUFFER {
            return self.fill(out);
        }
        let n = (AUDIT_READ_BUFFER as u64).min(self.end - self.pos) as usize;
        if n < out.len() {
            return None;
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(n, 0);
        let filled = self.fill(&mut buf);
        self.buf = buf;
        self.at = 0;
        filled?;
        out.copy_from_slice(&self.buf[..out.len()]);
        self.at = out.len();
        Some(())
    }

    fn remaining(&self) -> u64 {
        self.end - self.pos + (self.buf.len() - self.at) as u64
    }

    fn intact(&mut self) -> bool {
        self.remaining() == 0 && self.crc.clone().finalize() == self.expected
    }
}

/// The journal's header (64 bytes at the start), if readable.
fn journal_header(journal: &Path) -> Option<Header> {
    let f = File::open(journal).ok()?;
    let mut b = [0u8; crate::log::format::HEADER_LEN];
    f.read_exact_at(&mut b, 0).ok()?;
    Header::decode(&b).ok()
}

/// Why a checkpoint file may not be used even before its bytes are read:
/// only the journal's owner may have written it. A file someone else owns,
/// or that group or others may write, could hold anything (its CRCs are no
/// defence: anyone can compute them), so it is ignored, as a damaged one
/// is, and replaced by the next fold that writes one. Checked on the open
/// file (`fstat`), so the file checked is the file read.
fn untrusted(file: &File, journal_owner: Option<u32>) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot be examined: {e}")),
    };
    if !m.file_type().is_file() {
        return Some("is not a regular file".into());
    }
    if journal_owner.is_some_and(|o| o != m.uid()) {
        return Some(format!(
            "is owned by uid {}, not by the journal's owner (uid {}): expected the journal's owner",
            m.uid(),
            journal_owner.unwrap_or_default()
        ));
    }
    if m.mode() & 0o022 != 0 {
        return Some(format!(
            "may be written by group or others (mode {:04o}): expected 0600",
            m.mode() & 0o7777
        ));
    }
    None
}

fn owner_of(journal: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(journal).ok().map(|m| m.uid())
}

/// Folds the journal (as known at `as_of`) into the core projections,
/// starting from the checkpoint when it is usable; when the fold read
/// enough (see the module docs), `worth_saving` is set and, for a query
/// (`save_now`), the checkpoint is rewritten before returning.
///
/// `params` are the trust parameters a rebuilt checkpoint folds its scores
/// with (the config's); `None` when they cannot be had (a broken config
/// file, for a command that does not need trust): then no checkpoint is
/// written.
pub fn fold(
    journal: &Path,
    as_of: Option<Timestamp>,
    needs: &Needs,
    params: Option<&TrustParams>,
    save_now: bool,
) -> Result<Folded, AppError> {
    let threshold = refresh_bytes();
    let ck_path = path_for(journal);
    let wanted_params = needs.trust.as_ref().or(params);
    let wanted_digest = wanted_params.map(params_digest).transpose()?;
    let journal_len = std::fs::metadata(journal).map(|m| m.len()).unwrap_or(0);

    // Is the checkpoint usable for this fold (before looking at the log)?
    // One that is there but damaged, of another version or journal, or
    // past the journal's end is bad: the fold replaces it.
    let (loaded, bad_file) = match threshold {
        None => (None, false),
        Some(_) => {
            let owner = owner_of(journal);
            let opened = Loaded::open(&ck_path).filter(|l| {
                untrusted(&l.file, owner).is_none()
                    && journal_header(journal).is_some_and(|h| {
                        h.journal_id == l.journal_id && h.created_micros == l.created
                    })
                    && l.at.end <= journal_len
            });
            let bad = opened.is_none() && ck_path.exists();
            let usable = opened.filter(|l| as_of.is_none_or(|t| l.at.max_recorded_at <= t));
            (usable, bad)
        }
    };
    // Its trust scores count only if folded with the parameters asked for.
    let trust_matches = loaded
        .as_ref()
        .is_some_and(|l| wanted_digest.is_some_and(|d| d == l.trust_params));
    let loaded = loaded.filter(|_| needs.trust.is_none() || trust_matches);
    let tail = journal_len.saturating_sub(loaded.as_ref().map_or(0, |l| l.at.end));
    // Fold everything a checkpoint holds when this fold will be saved.
    let saving =
        as_of.is_none() && params.is_some() && threshold.is_some_and(|t| tail >= t || bad_file);
    // A checkpoint is rebuilt, never copied forward: what a new one holds
    // is folded from the first record by the process that writes it, never
    // taken from an old one, whose content no reader checks against the
    // log (its CRCs catch accidents, not a forgery; that is `verify`'s
    // job). So a fold that will save does not resume. It costs a full
    // replay once per `refresh_bytes` of appends instead of a read of
    // that tail.
    let loaded = loaded.filter(|_| !saving);
    let want = Want {
        full_state: needs.full_state || saving,
        audit: needs.audit || saving,
        audit_texts: needs.audit_rows || saving,
        // A saved checkpoint carries trust scores: the checkpoint's own
        // (whatever their parameters: they stay consistent, and are keyed
        // by them), else new ones.
        trust: needs.trust.is_some() || saving,
    };
    let fresh_params = wanted_params.cloned().unwrap_or_default();
    // Set when the checkpoint's sections fail to decode: given up, as when
    // it no longer matches the log, so the fold from scratch replaces it.
    let undecodable = std::cell::Cell::new(false);
    let mut fresh = |rebuild: bool| {
        let all = (rebuild || undecodable.get())
            && as_of.is_none()
            && params.is_some()
            && threshold.is_some();
        Core {
            // Closed promises and event kinds only when they will be used.
            state: if want.full_state || all {
                State::new()
            } else {
                State::hot_only()
            },
            audit: (want.audit || all).then(|| match want.audit_texts || all {
                true => Audit::new(),
                false => Audit::flag_texts_only(),
            }),
            trust: (want.trust || all).then(|| Trust::scores_only(fresh_params.clone())),
        }
    };
    // A sparse read when only a few entries are needed; should it fail (a
    // damaged page), the whole section is read as usual.
    let sparse = needs
        .only
        .as_ref()
        .filter(|_| !want.full_state && !want.audit && !want.trust);
    let mut resume = || {
        let l = loaded.as_ref()?;
        if let Some(r) = sparse.and_then(|only| l.resume_sparse(only)) {
            return Some(r);
        }
        let r = l.resume(&want);
        if r.is_none() {
            undecodable.set(true);
        }
        r
    };
    let r = replay::replay(journal, as_of, &mut fresh, &mut resume)?;
    let rebuilt = !r.resumed && (loaded.is_some() || bad_file);
    let read = r.at.end.saturating_sub(if r.resumed {
        loaded.as_ref().map_or(0, |l| l.at.end)
    } else {
        0
    });
    let worth_saving = as_of.is_none()
        && !r.resumed
        && params.is_some()
        && r.header.is_some()
        && r.at.seq > 0
        && r.projections.complete()
        && threshold.is_some_and(|t| read >= t || (rebuilt && read > 0));
    let folded = Folded {
        core: r.projections,
        retracted: r.retracted,
        at: r.at,
        header: r.header,
        worth_saving,
        torn_tail: r.torn_tail,
    };
    if save_now && folded.worth_saving {
        // A checkpoint is a cache: failing to write one is not the
        // command's failure.
        let _ = folded.save(journal);
    }
    Ok(folded)
}

impl Folded {
    /// The latest `recorded_at` among the events folded (`None` when there
    /// are none): a new record must not be earlier (issue 15.2).
    pub fn latest_recorded_at(&self) -> Option<Timestamp> {
        Some(self.at.max_recorded_at).filter(|t| t.0 != i64::MIN)
    }

    /// Folds one more event that was just appended (a recording command),
    /// at `record_offset`..`end` with chain digest `chain`. A retraction
    /// cannot be folded on top (it may name an event already applied): the
    /// fold is then no longer worth saving.
    pub fn push_appended(
        &mut self,
        env: &EnvelopeRef<'_>,
        record_offset: u64,
        end: u64,
        chain: Digest,
    ) {
        if matches!(env.event, crate::events::EventRef::Retracted { .. }) {
            self.worth_saving = false;
            return;
        }
        crate::projections::feed_ref(&mut self.core, env, &self.retracted);
        self.at = Position {
            record_offset,
            end,
            seq: env.seq,
            chain,
            max_recorded_at: self.at.max_recorded_at.max(env.recorded_at),
        };
    }

    /// What every section is encoded from: borrowed from the fold, the
    /// retracted set sorted. `None` when the fold lacks a part a checkpoint
    /// holds (then none is written).
    fn parts(&self) -> Option<Parts<'_>> {
        let (Some(header), Some(audit), Some(trust), Some(cold)) = (
            &self.header,
            &self.core.audit,
            &self.core.trust,
            self.core.state.cold_ref(),
        ) else {
            return None;
        };
        let mut retracted: Vec<Seq> = self.retracted.iter().copied().collect();
        retracted.sort_unstable();
        let future: Vec<Seq> = retracted
            .iter()
            .copied()
            .filter(|s| *s > self.at.seq)
            .collect();
        Some(Parts {
            header,
            audit,
            trust,
            cold,
            state: &self.core.state,
            retracted,
            future,
        })
    }

    /// Writes the checkpoint next to `journal`, atomically. Each section is
    /// streamed into the temporary file (its CRC and length counted on the
    /// way), never built in memory; the header, which holds the section
    /// table, is written last at offset 0, before the fsync and rename.
    ///
    /// The temporary file is locked (`flock`) while it is written, so that
    /// [`remove_stale_temp_files`], which runs first, can tell the files of
    /// killed writers from those of live ones.
    pub fn save(&self, journal: &Path) -> Result<(), AppError> {
        let Some(parts) = self.parts() else {
            return Ok(());
        };
        let mut h = [0u8; HEADER_LEN];
        h[H_MAGIC..H_MAGIC + 8].copy_from_slice(&MAGIC);
        h[H_VERSION..H_VERSION + 2].copy_from_slice(&VERSION.to_le_bytes());
        h[H_LAYOUT..H_LAYOUT + 4].copy_from_slice(&LAYOUT.to_le_bytes());
        h[H_JOURNAL_ID..H_JOURNAL_ID + 16].copy_from_slice(&parts.header.journal_id);
        h[H_CREATED..H_CREATED + 8].copy_from_slice(&parts.header.created_micros.to_le_bytes());
        h[H_RECORD_OFFSET..H_RECORD_OFFSET + 8]
            .copy_from_slice(&self.at.record_offset.to_le_bytes());
        h[H_END..H_END + 8].copy_from_slice(&self.at.end.to_le_bytes());
        h[H_SEQ..H_SEQ + 8].copy_from_slice(&self.at.seq.to_le_bytes());
        h[H_CHAIN..H_CHAIN + 32].copy_from_slice(&self.at.chain);
        h[H_MAX_RECORDED..H_MAX_RECORDED + 8]
            .copy_from_slice(&self.at.max_recorded_at.0.to_le_bytes());
        h[H_TRUST_PARAMS..H_TRUST_PARAMS + 32]
            .copy_from_slice(&params_digest(parts.trust.params())?);
        h[H_PROGRAM..H_PROGRAM + 16].copy_from_slice(&program_id());

        let target = path_for(journal);
        let dir = dir_of(&target);
        let io = |op: &str, e: std::io::Error| {
            AppError::Io(format!("{op} checkpoint {}: {e}", target.display()))
        };
        // A writer about to add a temporary file clears those killed
        // writers left (a cache, so a failure here is no failure).
        remove_stale_temp_files(&dir, STALE_TEMP_AGE);
        // One atomic replace for every derived file (log::atomic): the
        // temporary file stays open, so its lock is held, until the rename
        // is durable.
        let mut tmp = AtomicFile::create(&target, TEMP_PREFIX)
            .map_err(|e| AppError::Io(format!("checkpoint: {e}")))?;
        tmp.file()
            .try_lock()
            .map_err(|e| io("locking the temporary file of the", e.into()))?;
        {
            let f = tmp.file_mut();
            let mut w = Counted::new(std::io::BufWriter::with_capacity(1 << 20, &*f));
            // Room for the header, written once the section table is known.
            w.write_all(&[0u8; HEADER_LEN])
                .map_err(|e| io("writing the", e))?;
            for (i, kind) in KINDS.into_iter().enumerate() {
                let offset = w.len;
                w.crc = crc32fast::Hasher::new();
                parts.write(kind, &mut w)?;
                let b = H_SECTIONS + i * 24;
                h[b..b + 4].copy_from_slice(&kind.to_le_bytes());
                h[b + 4..b + 8].copy_from_slice(&w.crc.clone().finalize().to_le_bytes());
                h[b + 8..b + 16].copy_from_slice(&offset.to_le_bytes());
                h[b + 16..b + 24].copy_from_slice(&(w.len - offset).to_le_bytes());
            }
            w.inner.flush().map_err(|e| io("writing the", e))?;
            let crc = crc32fast::hash(&h[..H_CRC]);
            h[H_CRC..H_CRC + 4].copy_from_slice(&crc.to_le_bytes());
            f.write_all_at(&h, 0).map_err(|e| io("writing the", e))?;
        }
        tmp.commit()
            .map_err(|e| AppError::Io(format!("checkpoint: {e}")))?;
        Ok(())
    }
}

/// The sections in the order they are written.
const KINDS: [u32; SECTIONS] = [S_RETRACTED, S_STATE, S_AUDIT, S_TRUST, S_STATE_COLD];

/// A section's name in messages (`verify`).
fn section_name(kind: u32) -> &'static str {
    match kind {
        S_RETRACTED => "retracted",
        S_STATE => "state",
        S_AUDIT => "audit",
        S_TRUST => "trust",
        S_STATE_COLD => "state_cold",
        _ => "unknown",
    }
}

/// A fold's projections as a checkpoint encodes them.
struct Parts<'a> {
    header: &'a Header,
    audit: &'a Audit,
    trust: &'a Trust,
    cold: crate::projections::state::StateColdRef<'a>,
    state: &'a State,
    retracted: Vec<Seq>,
    future: Vec<Seq>,
}

impl Parts<'_> {
    /// Streams section `kind` into `w` (what `save` writes, and what
    /// `verify` compares with a checkpoint's bytes).
    fn write<W: Write>(&self, kind: u32, w: &mut W) -> Result<(), AppError> {
        let io = |e: std::io::Error| AppError::Io(format!("encoding a checkpoint section: {e}"));
        match kind {
            S_RETRACTED => codec::encode_checkpoint_into(&self.retracted, w).map(drop)?,
            S_STATE => w
                .write_all(&hot::encode(self.state, &self.future))
                .map_err(io)?,
            S_AUDIT => self.audit.write_checkpoint(w)?,
            S_TRUST => codec::encode_checkpoint_into(self.trust, w).map(drop)?,
            _ => codec::encode_checkpoint_into(&self.cold, w).map(drop)?,
        }
        Ok(())
    }
}

/// Names of the temporary files a checkpoint is written to, in the
/// journal's directory (renamed over `<journal>.checkpoint` when whole).
pub const TEMP_PREFIX: &str = ".trustlog-checkpoint-";

/// A temporary checkpoint file untouched for this long, and not locked, is
/// a killed writer's (see [`remove_stale_temp_files`]).
pub const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the temporary checkpoint files (`.trustlog-checkpoint-*`) in
/// `dir` that killed writers left behind; returns how many.
///
/// Checkpoints are written by queries, which hold no lock on the journal,
/// as well as by recording commands, which hold the writer's lock: so the
/// journal's lock says nothing about whose a temporary file is. Instead
/// every writer holds an exclusive `flock` on its temporary file while it
/// writes it, and the kernel drops that lock when the process dies,
/// however it dies. A file is stale when this process can take its lock
/// (no live writer holds it) and it was last modified at least `min_age`
/// ago: the age covers the instant between a writer's creating its file
/// and locking it, and the files of older trustlog versions, which did not
/// lock them (a live writer streams into its file, so its time stays
/// fresh). Removing a live writer's file by mistake could only make its
/// rename fail: a checkpoint not written, which is never an error. Run by
/// every writer of a checkpoint before it creates its own.
pub fn remove_stale_temp_files(dir: &Path, min_age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let path = e.path();
        // Opened without following a symbolic link: only a regular file of
        // ours is ever removed.
        let Ok(f) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        else {
            continue;
        };
        let Ok(m) = f.metadata() else { continue };
        let old = m
            .modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age >= min_age);
        if !m.file_type().is_file() || !old || f.try_lock().is_err() {
            continue;
        }
        // Still the file that was checked (not renamed over since).
        use std::os::unix::fs::MetadataExt;
        let same = std::fs::symlink_metadata(&path)
            .is_ok_and(|now| now.ino() == m.ino() && now.dev() == m.dev());
        if same && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// What `verify` made of a derived file next to the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedStatus {
    /// It holds what a fold of the log up to its position holds.
    Ok,
    /// It claims to be this journal's, at a record that is there, and holds
    /// something else: set aside, so that no command reads it again.
    Differs,
    /// No command would use it (damaged, another version's or journal's,
    /// stale, or not safely owned); the next fold that writes one replaces
    /// it.
    Ignored,
    /// It could not be compared (the journal does not fold: see its damage).
    Unchecked,
}

impl DerivedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DerivedStatus::Ok => "ok",
            DerivedStatus::Differs => "differs",
            DerivedStatus::Ignored => "ignored",
            DerivedStatus::Unchecked => "unchecked",
        }
    }
}

/// One derived file, checked by [`verify_derived`].
#[derive(Debug, Clone)]
pub struct DerivedCheck {
    pub file: PathBuf,
    /// What kind of derived file (`checkpoint`).
    pub kind: &'static str,
    pub status: DerivedStatus,
    /// The seq it ends at, when its header could be read.
    pub seq: Option<Seq>,
    /// With `Differs`: the first part that differs (`header`, or a
    /// section: `retracted`, `state`, `audit`, `trust`, `state_cold`).
    pub section: Option<&'static str>,
    /// What was found, in words.
    pub detail: String,
    /// With `Differs`: where the file was set aside.
    pub moved_to: Option<PathBuf>,
}

/// Checks every derived file next to `journal` (today: its checkpoint)
/// against a fresh fold of the log, no checkpoint used, up to the record
/// the file ends at; a checkpoint that differs in any byte of its
/// sections, or in what its header says of them, is renamed to
/// `<journal>.checkpoint.rejected-<now>` (kept, as evidence), so the next
/// query rebuilds it. `params`: the trust parameters to fold with when the
/// checkpoint's own cannot be read (they are in its trust section).
///
/// This is where a checkpoint's content is checked: queries and recording
/// commands check only that it is intact (CRCs), this journal's, and at a
/// record still in the log — a CRC does not tell a forgery from the truth.
pub fn verify_derived(
    journal: &Path,
    params: Option<&TrustParams>,
    now_micros: i64,
) -> Vec<DerivedCheck> {
    let file = path_for(journal);
    if std::fs::symlink_metadata(&file).is_err() {
        return Vec::new();
    }
    let mut c = DerivedCheck {
        file: file.clone(),
        kind: "checkpoint",
        status: DerivedStatus::Ignored,
        seq: None,
        section: None,
        detail: String::new(),
        moved_to: None,
    };
    let Some(l) = Loaded::open(&file) else {
        c.detail = "not a checkpoint of this trustlog version, or its header is damaged: \
                    ignored, and replaced by the next fold that writes one"
            .into();
        return vec![c];
    };
    c.seq = Some(l.at.seq);
    if let Some(why) = untrusted(&l.file, owner_of(journal)) {
        c.detail = format!("{why}: ignored, and replaced by the next fold that writes one");
        return vec![c];
    }
    let journal_len = std::fs::metadata(journal).map(|m| m.len()).unwrap_or(0);
    let ours = journal_header(journal)
        .is_some_and(|h| h.journal_id == l.journal_id && h.created_micros == l.created);
    if !ours {
        c.detail = "belongs to another journal (or to this one before a salvage): ignored".into();
        return vec![c];
    }
    if l.at.end > journal_len {
        c.detail = format!(
            "ends at offset {}, past the journal's end ({journal_len}): stale, ignored",
            l.at.end
        );
        return vec![c];
    }
    match compare(journal, &l, params) {
        Err(e) => {
            c.status = DerivedStatus::Unchecked;
            c.detail = format!("not compared: the journal does not fold ({e})");
        }
        Ok(Compared::Stale) => {
            c.detail = format!(
                "the record it ends at (#{} at offset {}) is not in the journal: stale, ignored",
                l.at.seq, l.at.record_offset
            );
        }
        Ok(Compared::Same) => {
            c.status = DerivedStatus::Ok;
            c.detail = format!("matches a fold of the log up to #{}", l.at.seq);
        }
        Ok(Compared::Differs(section, what)) => {
            c.status = DerivedStatus::Differs;
            c.section = Some(section);
            c.moved_to = set_aside(&file, &l.file, now_micros);
            let fate = match &c.moved_to {
                Some(p) => format!("set aside as {}", p.display()),
                None => "could not be set aside: delete it".into(),
            };
            c.detail = format!(
                "{what} differs from a fold of the log up to #{}: {fate}; the next query rebuilds it",
                l.at.seq
            );
        }
    }
    vec![c]
}

enum Compared {
    Same,
    /// The record it ends at is not in the journal.
    Stale,
    /// The first part that differs, and that part in words.
    Differs(&'static str, String),
}

/// Folds the log up to `l`'s record, from scratch, and compares what a
/// checkpoint of that fold would hold with what `l` holds.
fn compare(journal: &Path, l: &Loaded, params: Option<&TrustParams>) -> Result<Compared, AppError> {
    // The scores are compared as folded with the parameters the checkpoint
    // names (its header's digest must be theirs, below).
    let params = l
        .decode::<Trust>(S_TRUST, "trust")
        .map(|t| t.params().clone())
        .or_else(|| params.cloned())
        .unwrap_or_default();
    let r = replay::replay_to(
        journal,
        None,
        l.at.end,
        &mut |_| Core {
            state: State::new(),
            audit: Some(Audit::new()),
            trust: Some(Trust::scores_only(params.clone())),
        },
        &mut || None,
    )?;
    if (r.at.record_offset, r.at.end, r.at.seq, r.at.chain)
        != (l.at.record_offset, l.at.end, l.at.seq, l.at.chain)
    {
        return Ok(Compared::Stale);
    }
    let folded = Folded {
        core: r.projections,
        retracted: r.retracted,
        at: r.at,
        header: r.header,
        worth_saving: false,
        torn_tail: None,
    };
    let Some(parts) = folded.parts() else {
        return Err(AppError::Io(
            "verifying the checkpoint: the fold lacks a projection".into(),
        ));
    };
    if folded.at.max_recorded_at != l.at.max_recorded_at {
        return Ok(Compared::Differs(
            "header",
            "its latest recorded_at (what `--as-of` relies on)".into(),
        ));
    }
    if params_digest(parts.trust.params())? != l.trust_params {
        return Ok(Compared::Differs(
            "header",
            "its trust parameters digest".into(),
        ));
    }
    let size = l
        .file
        .metadata()
        .map_err(|e| AppError::Io(format!("reading the checkpoint: {e}")))?
        .len();
    for kind in KINDS {
        let name = section_name(kind);
        let Some(&(_, crc, offset, len)) = l.sections.iter().find(|s| s.0 == kind) else {
            return Ok(Compared::Differs(name, format!("section {name} (missing)")));
        };
        if offset < HEADER_LEN as u64 || offset.checked_add(len).is_none_or(|e| e > size) {
            return Ok(Compared::Differs(
                name,
                format!("section {name} (outside the file)"),
            ));
        }
        let mut same = SameBytes {
            file: &l.file,
            pos: offset,
            end: offset + len,
            same: true,
            crc: crc32fast::Hasher::new(),
            buf: Vec::new(),
        };
        {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut same);
            parts.write(kind, &mut w)?;
            w.flush()
                .map_err(|e| AppError::Io(format!("reading the checkpoint: {e}")))?;
        }
        if !same.same || same.pos != same.end || same.crc.finalize() != crc {
            return Ok(Compared::Differs(name, format!("section {name}")));
        }
    }
    Ok(Compared::Same)
}

/// A writer that compares what is written with a file's bytes from `pos`
/// to `end` (a checkpoint section), reading them as it goes.
struct SameBytes<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    /// Every byte so far was the file's.
    same: bool,
    /// Of the file's bytes compared.
    crc: crc32fast::Hasher,
    buf: Vec<u8>,
}

impl Write for SameBytes<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if !self.same {
            return Ok(b.len());
        }
        if b.len() as u64 > self.end - self.pos {
            self.same = false;
            return Ok(b.len());
        }
        self.buf.resize(b.len(), 0);
        self.file.read_exact_at(&mut self.buf, self.pos)?;
        self.crc.update(&self.buf);
        self.same = self.buf == b;
        self.pos += b.len() as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renames the checkpoint `file` (still the one `opened`) to
/// `<file>.rejected-<now>`, so that no command reads it again and the
/// evidence stays; `None` if it could not be.
fn set_aside(file: &Path, opened: &File, now_micros: i64) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let m = opened.metadata().ok()?;
    let now = std::fs::symlink_metadata(file).ok()?;
    if (now.ino(), now.dev()) != (m.ino(), m.dev()) {
        // Replaced since it was read (a fold rewrote it): not the bad one.
        return None;
    }
    let base = file.as_os_str().to_os_string();
    let mut target = None;
    for i in 0..100u32 {
        let mut name = base.clone();
        name.push(format!(".rejected-{now_micros}"));
        if i > 0 {
            name.push(format!("-{i}"));
        }
        let p = PathBuf::from(name);
        if std::fs::symlink_metadata(&p).is_err() {
            target = Some(p);
            break;
        }
    }
    let target = target?;
    std::fs::rename(file, &target).ok()?;
    let _ = File::open(dir_of(file)).and_then(|d| d.sync_all());
    Some(target)
}

/// A writer that counts the bytes through it and their CRC (of the
/// current section: reset between sections).
struct Counted<W> {
    inner: W,
    len: u64,
    crc: crc32fast::Hasher,
}

impl<W: Write> Counted<W> {
    fn new(inner: W) -> Self {
        Counted {
            inner,
            len: 0,
            crc: crc32fast::Hasher::new(),
        }
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sections' encoding of a known fold. When this fails, the serde
    /// form of a checkpointed projection changed: bump `LAYOUT` (old
    /// checkpoints are then ignored instead of misread) and the digest.
    #[test]
    fn layout_is_pinned() {
        let fixture =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.tlog");
        let r = replay::replay(
            &fixture,
            None,
            &mut |_| Core {
                state: State::new(),
                audit: Some(Audit::new()),
                trust: Some(Trust::scores_only(TrustParams::default())),
            },
            &mut || None,
        )
        .unwrap();
        let core = r.projections;
        // What `save` streams is what the owned forms encode to.
        let cold = codec::encode_checkpoint(&core.state.cold().unwrap()).unwrap();
        let mut streamed = Vec::new();
        codec::encode_checkpoint_into(&core.state.cold_ref().unwrap(), &mut streamed).unwrap();
        assert_eq!(streamed, cold);
        let mut streamed = Vec::new();
        core.audit
            .as_ref()
            .unwrap()
            .write_checkpoint(&mut streamed)
            .unwrap();
        assert_eq!(
            streamed,
            core.audit.as_ref().unwrap().to_checkpoint().unwrap()
        );
        let mut h = blake3::Hasher::new();
        h.update(&hot::encode(&core.state, &[]));
        h.update(&codec::encode_checkpoint(&core.state.cold().unwrap()).unwrap());
        h.update(&core.audit.as_ref().unwrap().to_checkpoint().unwrap());
        h.update(&codec::encode_checkpoint(core.trust.as_ref().unwrap()).unwrap());
        assert_eq!(
            (LAYOUT, h.finalize().to_hex().to_string()),
            (LAYOUT, PINNED.to_string()),
            "the checkpoint encoding changed: bump LAYOUT and update PINNED"
        );
    }

    const PINNED: &str = "1aa9e2c63516e658cbe10bc8c498cdf08a2f361363e1ec1333ba76bdfcef0893";

    #[test]
    fn header_fields_fit_and_do_not_overlap() {
        assert_eq!(H_SECTIONS, H_PROGRAM + 16);
        assert_eq!(H_PROGRAM, H_TRUST_PARAMS + 32);
        assert_eq!(HEADER_LEN, 152 + SECTIONS * 24 + 4);
    }
}
