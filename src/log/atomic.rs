//! Replacing a file atomically: a temporary file in the target's directory
//! (so the rename never crosses a file system), written, `fsync`ed, renamed
//! over the target, then the directory `fsync`ed (the rename itself is a
//! directory change). At every instant the target path names either the
//! old file or the whole new one; a crash can leave at most the temporary
//! file, under a recognisable prefix, which is why every writer names its
//! own. On any error the temporary file is removed.
//!
//! Used by `repair --salvage` (the new journal); the checkpoint and the
//! HTML report write the same way (see their call sites).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::error::LogError;

/// The step that failed, for the message ("{step} {path}: {error}").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Create,
    Write,
    Sync,
    Rename,
    SyncDir,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Create => "creating a temporary file next to",
            Step::Write => "writing the temporary file for",
            Step::Sync => "syncing the temporary file for",
            Step::Rename => "renaming the temporary file over",
            Step::SyncDir => "syncing the directory of",
        }
    }
}

/// A failure of one step; `path` is the target (the file being replaced).
#[derive(Debug)]
pub struct AtomicError {
    pub step: Step,
    pub path: PathBuf,
    pub source: io::Error,
}

impl std::fmt::Display for AtomicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.step.as_str(),
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for AtomicError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<AtomicError> for LogError {
    fn from(e: AtomicError) -> Self {
        LogError::io(e.path, e.step.as_str(), e.source)
    }
}

/// A new version of `target` being written. Dropped without `commit`, the
/// temporary file is removed and the target is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    dir: PathBuf,
}

/// The directory a file is in (`.` for a bare name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl AtomicFile {
    /// Creates `<target's directory>/<prefix><random>`, mode 0600, with
    /// `O_EXCL` (never an existing file, never through a link).
    pub fn create(target: &Path, prefix: &str) -> Result<AtomicFile, AtomicError> {
        let dir = dir_of(target);
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(&dir)
            .map_err(|source| AtomicError {
                step: Step::Create,
                path: target.to_path_buf(),
                source,
            })?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            dir,
        })
    }

    /// The open temporary file (for positional writes, `try_lock`, or a
    /// `BufWriter` over `&File`).
    pub fn file(&self) -> &File {
        self.tmp.as_file()
    }

    pub fn file_mut(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Where the temporary file is until `commit`.
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// `fsync`s the temporary file, renames it over the target and
    /// `fsync`s the directory. The file stays open (and so any `flock` on
    /// it held) until the rename is durable, so a concurrent cleaner of
    /// stale temporary files that respects the lock never removes it.
    pub fn commit(self) -> Result<(), AtomicError> {
        let AtomicFile { tmp, target, dir } = self;
        let err = |step, source| AtomicError {
            step,
            path: target.clone(),
            source,
        };
        tmp.as_file().sync_all().map_err(|e| err(Step::Sync, e))?;
        // On failure the error hands the temporary file back; dropping it
        // removes it.
        let file = tmp
            .persist(&target)
            .map_err(|e| err(Step::Rename, e.error))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| AtomicError {
                step: Step::SyncDir,
                path: target.clone(),
                source: e,
            })?;
        drop(file);
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.as_file_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Replaces `target` with `bytes`: create, write, commit.
pub fn write_atomic(target: &Path, prefix: &str, bytes: &[u8]) -> Result<(), AtomicError> {
    let mut f = AtomicFile::create(target, prefix)?;
    f.file_mut()
        .write_all(bytes)
        .map_err(|source| AtomicError {
            step: Step::Write,
            path: target.to_path_buf(),
            source,
        })?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_target_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.html");
        std::fs::write(&target, b"old").unwrap();
        write_atomic(&target, ".trustlog-test-", b"new contents").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new contents");
        assert_eq!(names(dir.path()), ["report.html"]);

        // Written in place, positionally, under the prefix, until commit.
        let f = AtomicFile::create(&target, ".trustlog-test-").unwrap();
        let tmp = f.temp_path().to_path_buf();
        assert!(tmp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".trustlog-test-"));
        assert_eq!(tmp.parent(), Some(dir.path()));
        std::os::unix::fs::FileExt::write_all_at(f.file(), b"ABC", 0).unwrap();
        f.file().try_lock().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new contents");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"ABC");
        assert_eq!(names(dir.path()), ["report.html"]);
    }

    #[test]
    fn a_failure_removes_the_temporary_file_and_keeps_the_target() {
        let dir = tempfile::tempdir().unwrap();
        // The rename fails: the target is a non-empty directory.
        let target = dir.path().join("busy");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"x").unwrap();
        let e = write_atomic(&target, ".trustlog-test-", b"data").unwrap_err();
        assert_eq!(e.step, Step::Rename, "{e}");
        assert!(e.to_string().contains("busy"), "{e}");
        assert_eq!(names(dir.path()), ["busy"]);
        // Dropped without commit: removed too.
        let f = AtomicFile::create(&dir.path().join("other"), ".trustlog-test-").unwrap();
        drop(f);
        assert_eq!(names(dir.path()), ["busy"]);
        // No directory to create it in.
        let e = write_atomic(&dir.path().join("no/such/file"), ".t-", b"").unwrap_err();
        assert_eq!(e.step, Step::Create);
    }
}
