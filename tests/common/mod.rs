//! The one helper of the command-line integration tests: runs the real
//! `trustlog` binary in a temp dir, against a temp journal, with the clock
//! (`TRUSTLOG_NOW`), the author (`TRUSTLOG_AUTHOR`) and the time zone
//! (`TZ=UTC`) pinned, and decodes the journal through the library to check
//! what a replay sees. Nothing of the caller's environment leaks in: the
//! `TRUSTLOG_*` variables are removed and `HOME` / `XDG_DATA_HOME` point into
//! the temp dir, so a missing `--journal` can never reach a real journal.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use tempfile::TempDir;
use trustlog::events::{codec, Envelope, Timestamp};

/// The pinned "now" of every test unless it says otherwise: a Friday.
pub const NOW: &str = "2026-11-20T10:00";
pub const AUTHOR: &str = "alice";

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout as one JSON value (what `--json` prints).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {self:?}"))
    }
}

/// A temp dir with a journal path inside it (the file itself is only
/// created by the first write).
pub struct Tl {
    pub dir: TempDir,
    pub journal: PathBuf,
    pub now: String,
    pub author: String,
    /// `TZ` of the run: UTC unless a test says otherwise.
    pub tz: String,
}

impl Tl {
    pub fn new() -> Tl {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = dir.path().join("journal.tlog");
        Tl {
            dir,
            journal,
            now: NOW.to_string(),
            author: AUTHOR.to_string(),
            tz: "UTC".to_string(),
        }
    }

    /// The binary with the environment pinned, run in the temp dir, without
    /// `--journal`.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_trustlog"));
        c.current_dir(self.dir.path())
            .env_remove("TRUSTLOG_FILE")
            .env_remove("NO_COLOR")
            .env("TRUSTLOG_NOW", &self.now)
            .env("TRUSTLOG_AUTHOR", &self.author)
            .env("TZ", &self.tz)
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_DATA_HOME", self.dir.path().join("home/.local/share"));
        c
    }

    /// Runs `trustlog --journal <journal> <args…>`.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let mut c = self.command();
        c.arg("--journal").arg(&self.journal).args(args);
        output(c)
    }

    /// Like `run`, and the command must succeed with nothing on stderr.
    pub fn ok<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let out = self.run(args);
        assert!(
            out.code == 0 && out.stderr.is_empty(),
            "trustlog {:?} failed: {out:?}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
        );
        out
    }

    /// Every event of the journal, decoded through the library.
    pub fn replay(&self) -> Vec<Envelope> {
        replay(&self.journal)
    }

    /// The journal's bytes (`None` when it does not exist).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        std::fs::read(&self.journal).ok()
    }
}

/// Runs a prepared command and collects its exit code and output.
pub fn output(mut c: Command) -> Output {
    let o = c.output().expect("run trustlog");
    Output {
        code: o.status.code().expect("trustlog was killed by a signal"),
        stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
    }
}

/// Decodes every record of the journal at `path` with the library's own
/// reader and codec, failing the test on any damage or decode error.
pub fn replay(path: &Path) -> Vec<Envelope> {
    let mut out = Vec::new();
    trustlog::log::for_each_record(path, |seq, payload| {
        out.push(
            codec::decode(seq, payload)
                .unwrap_or_else(|e| panic!("record #{seq} does not decode: {e}")),
        );
        Ok(())
    })
    .unwrap_or_else(|e| panic!("cannot replay {}: {e}", path.display()));
    out
}

/// An instant written as local time in the test zone (UTC):
/// `2026-11-20T10:00`, `2026-11-20T10:00:05` or `2026-11-20T10:00:05.25`.
pub fn ts(s: &str) -> Timestamp {
    let naive = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .unwrap_or_else(|| panic!("test bug: bad time {s:?}"));
    Timestamp(naive.and_utc().timestamp_micros())
}

/// An instant with an explicit offset, e.g. `2026-11-20T10:00:00+02:00`.
pub fn ts_rfc3339(s: &str) -> Timestamp {
    Timestamp::from_datetime(&DateTime::parse_from_rfc3339(s).expect("test bug: bad RFC 3339"))
}

/// What a date-only due of `day` (`2026-11-27`) means in the test zone:
/// the last microsecond of that day.
pub fn end_of_day(day: &str) -> Timestamp {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("test bug: bad day");
    let next = d.succ_opt().expect("a next day");
    Timestamp(
        next.and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros()
            - 1,
    )
}
