//! A journal as a Rust value: open it, record validated events, fold it
//! into projections. This is what the command line runs on, and what a
//! Rust user or the team sync calls without clap.
//!
//! ```
//! use trustlog::app::{Journal, JournalOptions, Recording};
//! use trustlog::events::{Due, Fit, Timestamp};
//! use trustlog::projections::state::State;
//!
//! let dir = tempfile::tempdir()?;
//! let journal = Journal::open(dir.path().join("j.tlog"), JournalOptions::new("ana"));
//! let now = Timestamp(1_780_000_000_000_000);
//! journal.record(
//!     Recording::ClientAdd { handle: "acme".into(), name: None, fit: Fit::Target, note: String::new() },
//!     None,
//!     now,
//! )?;
//! let made = journal.record(
//!     Recording::PromiseMake {
//!         client: "acme".into(),
//!         what: "logo drafts".into(),
//!         due: Due { at: Timestamp(now.0 + 86_400_000_000), date_only: false },
//!     },
//!     None,
//!     now,
//! )?;
//! assert_eq!(made.envelope.event.promise(), Some(1));
//! // An unknown client is refused, with a typed reason.
//! let refused = journal.record(
//!     Recording::Expectation { client: "acne".into(), text: "a bold logo".into() },
//!     None,
//!     now,
//! );
//! assert!(refused.unwrap_err().to_string().contains("did you mean \"acme\"?"));
//! let state: State = journal.fold(None)?;
//! assert_eq!(state.clients.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::app::checkpoint::{self, Folded, Needs, Subset};
use crate::app::error::AppError;
use crate::app::record::{Reads, Recording};
use crate::app::replay;
use crate::app::rules::{self, RuleError};
use crate::events::{codec, Envelope, Event, Seq, Timestamp};
use crate::log::{JournalWriter, TornCut, DEFAULT_LOCK_WAIT};
use crate::projections::audit::{Audit, AuditQuery, AuditReport};
use crate::projections::state::{Promise, State};
use crate::projections::trust::TrustParams;
use crate::projections::{self, Projection};

/// How a journal is opened.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// Who records: the `author` of every event written.
    pub author: String,
    /// The trust parameters a rebuilt checkpoint folds its scores with
    /// (`None`: no checkpoint is written by this handle).
    pub trust: Option<TrustParams>,
    /// How long a write waits for another writer's lock.
    pub lock_wait: Duration,
}

impl JournalOptions {
    /// Default trust parameters and lock wait.
    pub fn new(author: impl Into<String>) -> Self {
        JournalOptions {
            author: author.into(),
            trust: Some(TrustParams::default()),
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }
}

/// A journal file (which the first write creates).
pub struct Journal {
    path: PathBuf,
    options: JournalOptions,
}

/// A recording that was appended and is durable.
#[derive(Debug)]
pub struct Recorded {
    /// The event as written, with its seq.
    pub envelope: Envelope,
    /// A torn tail (a crash mid-append) that opening the journal cut aside.
    pub cut: Option<TornCut>,
    /// The promise the recording named (move, keep, break, release), as it
    /// stood just before: what the recording was validated against, so a
    /// caller can say what it did ("kept 2 days late against …") without
    /// a second replay. `None` for other recordings.
    pub promise_before: Option<Promise>,
}

/// Why a recording was not written. Either way the journal is as it was.
#[derive(Debug)]
pub enum RecordError {
    /// It breaks a recording rule.
    Refused(RuleError),
    /// The journal could not be read or written.
    Failed(AppError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Refused(e) => write!(f, "{e}"),
            RecordError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RecordError {}

impl From<AppError> for RecordError {
    fn from(e: AppError) -> Self {
        RecordError::Failed(e)
    }
}

impl From<RuleError> for RecordError {
    fn from(e: RuleError) -> Self {
        RecordError::Refused(e)
    }
}

impl From<crate::log::LogError> for RecordError {
    fn from(e: crate::log::LogError) -> Self {
        RecordError::Failed(e.into())
    }
}

impl From<crate::events::EventsError> for RecordError {
    fn from(e: crate::events::EventsError) -> Self {
        RecordError::Failed(e.into())
    }
}

impl Journal {
    /// A handle on the journal at `path`. Nothing is read or created yet.
    pub fn open(path: impl Into<PathBuf>, options: JournalOptions) -> Self {
        Journal {
            path: path.into(),
            options,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> &JournalOptions {
        &self.options
    }

    /// Validates `recording` under the writer's lock and appends it;
    /// returns once it is durable. `at` is when it happened (default
    /// `now`); `now` is the `recorded_at` (the caller's clock, so that it
    /// can be pinned). The checkpoint is refreshed when the fold read
    /// enough of the journal to be worth it.
    ///
    /// Only the client or promise the recording names is read from the
    /// checkpoint (with the counters), at a cost that does not grow with
    /// the journal; what that refuses is checked again against the full
    /// state, so that the answer and its message are a full replay's.
    pub fn record(
        &self,
        recording: Recording,
        at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Recorded, RecordError> {
        // The rules of the event by itself, before anything touches the
        // file (not even a header or the cut of a torn tail).
        recording.to_event(0)?;
        let occurred_at = at.unwrap_or(now);
        let probe = Envelope {
            seq: 0,
            recorded_at: now,
            occurred_at,
            author: self.options.author.clone(),
            event: Event::Retracted {
                seq: 0,
                reason: String::new(),
            },
        };
        rules::times(&probe, now, None)?;
        let params = self.options.trust.as_ref();
        let first = match recording.reads() {
            Reads::Client(h) => Needs {
                only: Some(Subset {
                    clients: vec![h.to_string()],
                    promises: Vec::new(),
                }),
                ..Needs::default()
            },
            Reads::Promise(id) => Needs {
                only: Some(Subset {
                    clients: Vec::new(),
                    promises: vec![id],
                }),
                ..Needs::default()
            },
            Reads::All => Needs {
                full_state: true,
                ..Needs::default()
            },
        };
        let build = |folded: &Folded| -> Result<Envelope, RuleError> {
            let state = &folded.core.state;
            let env = Envelope {
                seq: 0,
                recorded_at: now,
                occurred_at,
                author: self.options.author.clone(),
                event: recording.to_event(state.next_promise_id())?,
            };
            rules::check(state, &env, now, folded.latest_recorded_at(), None).map_err(|e| {
                match e {
                    // The command line's help: the nearest known handle.
                    RuleError::UnknownClient { handle, .. } => RuleError::UnknownClient {
                        hint: Some(rules::hint(state, &handle)),
                        handle,
                    },
                    e => e,
                }
            })?;
            Ok(env)
        };
        let validated = |path: &Path| -> Result<(Folded, Envelope), RecordError> {
            let folded = checkpoint::fold(path, None, &first, params, false)?;
            match build(&folded) {
                Ok(env) => Ok((folded, env)),
                Err(_) if folded.core.state.is_partial() => {
                    let needs = Needs {
                        full_state: true,
                        ..Needs::default()
                    };
                    let folded = checkpoint::fold(path, None, &needs, params, false)?;
                    let env = build(&folded)?;
                    Ok((folded, env))
                }
                Err(e) => Err(e.into()),
            }
        };
        let wait = self.options.lock_wait;
        let (mut writer, mut env, mut folded) = if self.path.exists() {
            let locked = JournalWriter::lock(&self.path, wait, false)?;
            let (folded, env) = validated(&self.path)?;
            (locked.into_writer(now.0)?, env, folded)
        } else {
            // Against the empty state first: a journal is only created for
            // a valid event.
            let empty = State::new();
            let env = Envelope {
                seq: 0,
                recorded_at: now,
                occurred_at,
                author: self.options.author.clone(),
                event: recording.to_event(empty.next_promise_id())?,
            };
            rules::check(&empty, &env, now, None, None).map_err(|e| match e {
                RuleError::UnknownClient { handle, .. } => RuleError::UnknownClient {
                    hint: Some(rules::hint(&empty, &handle)),
                    handle,
                },
                e => e,
            })?;
            let writer = JournalWriter::open(&self.path, now.0, wait)?;
            // Another process may have created it meanwhile: check again.
            let (folded, env) = validated(&self.path)?;
            (writer, env, folded)
        };
        let cut = writer.cut.take();
        let promise_before = match recording.reads() {
            Reads::Promise(id) => folded.core.state.promise(id).cloned(),
            _ => None,
        };
        env.seq = writer.last_seq() + 1;
        let payload = codec::encode(&env)?;
        let appended = writer.append(&payload)?;
        env.seq = appended.first_seq;
        if folded.worth_saving {
            // Still under the lock; a checkpoint is a cache, so failing to
            // write one is not the recording's failure.
            let frame = (crate::log::format::FRAME_LEN + payload.len()) as u64;
            folded.push_appended(
                &env.as_ref(),
                appended.end - frame,
                appended.end,
                appended.head,
            );
            if folded.worth_saving {
                let _ = folded.save(&self.path);
            }
        }
        Ok(Recorded {
            envelope: env,
            cut,
            promise_before,
        })
    }

    /// The core projections (state, and audit / trust as `needs` asks) as
    /// known at `as_of`, through the checkpoint.
    pub fn fold_core(&self, as_of: Option<Timestamp>, needs: &Needs) -> Result<Folded, AppError> {
        checkpoint::fold(&self.path, as_of, needs, self.options.trust.as_ref(), false)
    }

    /// The deadline audit of `q` as known at `as_of`, with `now` deciding
    /// what is overdue, through the checkpoint.
    ///
    /// ```
    /// use trustlog::app::{Journal, JournalOptions};
    /// use trustlog::events::Timestamp;
    /// use trustlog::projections::audit::AuditQuery;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let journal = Journal::open(dir.path().join("j.tlog"), JournalOptions::new("ana"));
    /// let report = journal.audit(&AuditQuery::all(), None, Timestamp(0))?;
    /// assert_eq!(report.promises.total, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audit(
        &self,
        q: &AuditQuery,
        as_of: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<AuditReport, AppError> {
        if !self.path.exists() {
            return Ok(Audit::new().report(now, q));
        }
        let needs = Needs {
            audit: true,
            audit_rows: true,
            ..Needs::default()
        };
        let folded = self.fold_core(as_of, &needs)?;
        Ok(folded.core.audit.unwrap_or_default().report(now, q))
    }

    /// Any projection, folded from scratch over the events recorded by
    /// `as_of` (all when `None`), retractions honoured.
    pub fn fold<P: Projection + Default>(&self, as_of: Option<Timestamp>) -> Result<P, AppError> {
        if !self.path.exists() {
            return Ok(P::default());
        }
        let r = replay::replay(&self.path, as_of, &mut |_| P::default(), &mut || None)?;
        Ok(r.projections)
    }
}

// ---------------------------------------------------------------------------
// The whole journal in memory (export, the Taskwarrior import; the report
// streams it)

/// Reads every event of the journal, in order. A torn tail is skipped (it
/// is cut by the next write); damage is an error.
pub fn read_all(path: &Path) -> Result<Vec<Envelope>, AppError> {
    // Through the replay reader, so a torn tail is noted for the CLI's
    // one-line warning (issue 15.4) like every other query.
    let mut out = Vec::new();
    crate::app::replay::for_each_event(path, None, None, &mut |e| {
        out.push(e.to_owned());
        Ok(())
    })?;
    Ok(out)
}

/// Events as known at `as_of`: only those recorded by then.
pub fn cut_as_of(envs: Vec<Envelope>, as_of: Option<Timestamp>) -> Vec<Envelope> {
    match as_of {
        None => envs,
        Some(t) => envs.into_iter().filter(|e| e.recorded_at <= t).collect(),
    }
}

/// Replays `envs` into each projection, honouring retractions.
pub fn replay_into(envs: &[Envelope], projections: &mut [&mut dyn Projection]) -> HashSet<Seq> {
    let retracted = projections::retracted_set(envs);
    for e in envs {
        for p in projections.iter_mut() {
            projections::feed(*p, e, &retracted);
        }
    }
    retracted
}
