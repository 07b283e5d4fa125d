//! Errors of the log layer. Each names the journal and says what to do.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::scan::{Damage, DamageKind};

#[derive(Debug)]
pub enum LogError {
    Io {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
    NotFound(PathBuf),
    NotAJournal(PathBuf),
    /// The path names something other than a regular file (`what`: "a
    /// directory", "a FIFO (named pipe)", …).
    NotRegular {
        path: PathBuf,
        what: &'static str,
    },
    UnsupportedVersion {
        path: PathBuf,
        version: u16,
    },
    HeaderDamaged(PathBuf),
    /// The file is shorter than a header and not recognisably a journal
    /// whose creation was interrupted.
    Truncated {
        path: PathBuf,
        len: u64,
    },
    Locked {
        path: PathBuf,
        waited_ms: u64,
    },
    Damaged {
        path: PathBuf,
        offset: u64,
        seq: Option<u64>,
        kind: DamageKind,
    },
    /// A write or `fdatasync` of an append failed: nothing was
    /// acknowledged. The writer then cut the file back to its last
    /// acknowledged length, durably (`rollback_error` is `None`), so
    /// nothing of the append is in it; or that failed too
    /// (`rollback_error`), and whether the record shows up is unknown.
    AppendFailed {
        path: PathBuf,
        /// "writing to" or "syncing (fdatasync)".
        op: &'static str,
        source: io::Error,
        rollback_error: Option<String>,
    },
    /// An earlier write or sync failed; this writer accepts nothing more.
    Poisoned {
        path: PathBuf,
        cause: String,
    },
    PayloadSize {
        len: usize,
        max: usize,
    },
}

impl LogError {
    pub fn io(path: impl Into<PathBuf>, op: &'static str, source: io::Error) -> Self {
        LogError::Io {
            path: path.into(),
            op,
            source,
        }
    }

    /// The error for damage a scan of `path` found.
    pub fn damaged(path: impl Into<PathBuf>, d: &Damage) -> Self {
        LogError::Damaged {
            path: path.into(),
            offset: d.offset,
            seq: d.seq,
            kind: d.kind,
        }
    }

    /// True for damage and rewrites (exit code 3 in the CLI).
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            LogError::Damaged { .. } | LogError::HeaderDamaged(_) | LogError::Truncated { .. }
        )
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io { path, op, source } => {
                write!(f, "{op} {}: {source}", path.display())
            }
            LogError::NotFound(p) => write!(
                f,
                "no journal at {}: record something first (e.g. `trustlog client add acme`), \
                 or point --journal / $TRUSTLOG_FILE at an existing journal",
                p.display()
            ),
            LogError::NotAJournal(p) => write!(
                f,
                "{} is not a trustlog journal (its first bytes are not the trustlog signature); \
                 it was left untouched",
                p.display()
            ),
            LogError::NotRegular { path, what } => write!(
                f,
                "{} is {what}, expected a regular file: a journal is a regular file \
                 (point --journal / $TRUSTLOG_FILE at one, or at a new name to create one)",
                path.display()
            ),
            LogError::UnsupportedVersion { path, version } => write!(
                f,
                "{} uses journal format version {version}, but this trustlog reads version {}; \
                 upgrade trustlog",
                path.display(),
                super::format::FORMAT_VERSION
            ),
            LogError::HeaderDamaged(p) => write!(
                f,
                "journal {} is damaged at byte offset 0: its header does not check \
                 (a damaged signature, version or checksum); run `trustlog verify` for details, \
                 `trustlog repair --salvage` to keep every intact record",
                p.display()
            ),
            LogError::Truncated { path, len } => write!(
                f,
                "{} is {len} bytes long, shorter than a journal header ({} bytes), \
                 and does not look like a journal",
                path.display(),
                super::format::HEADER_LEN
            ),
            LogError::Locked { path, waited_ms } => write!(
                f,
                "journal {} is locked by another trustlog process (waited {waited_ms} ms); \
                 try again when it has finished",
                path.display()
            ),
            LogError::Damaged {
                path,
                offset,
                seq,
                kind,
            } => {
                write!(
                    f,
                    "journal {} is damaged at byte offset {offset}",
                    path.display()
                )?;
                if let Some(s) = seq {
                    write!(f, " (record #{s})")?;
                }
                write!(
                    f,
                    ": {}; run `trustlog verify` to list all damage, \
                     `trustlog repair --salvage` to keep every intact record",
                    kind.as_str()
                )
            }
            LogError::AppendFailed {
                path,
                op,
                source,
                rollback_error: None,
            } => write!(
                f,
                "{op} {} failed: {source}; nothing was recorded (the journal was put back \
                 as it was before this command): fix the cause, e.g. free disk space, and run \
                 the command again",
                path.display()
            ),
            LogError::AppendFailed {
                path,
                op,
                source,
                rollback_error: Some(undo),
            } => write!(
                f,
                "{op} {} failed: {source}, and undoing the write failed too ({undo}): \
                 the record was not acknowledged, and whether it is in the journal is unknown; \
                 check `trustlog log` before recording it again (`trustlog verify` reports an \
                 incomplete record, which the next write cuts aside)",
                path.display()
            ),
            LogError::Poisoned { path, cause } => write!(
                f,
                "writing to {} failed earlier ({cause}); nothing more is accepted by this process \
                 (a failed sync is never retried: the kernel may have dropped the data)",
                path.display()
            ),
            LogError::PayloadSize { len, max } => write!(
                f,
                "a record of {len} bytes cannot be stored: records hold 1 to {max} bytes"
            ),
        }
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogError::Io { source, .. } | LogError::AppendFailed { source, .. } => Some(source),
            _ => None,
        }
    }
}
