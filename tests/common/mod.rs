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
            .env("XDG_DATA_HOME", self.dir.path().join("home/.local/share"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"));
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

// ---------------------------------------------------------------------------
// Helpers of the query tests (`tests/query_*.rs`).

impl Tl {
    /// Pins the clock of the following runs (`TRUSTLOG_NOW`).
    pub fn set_now(&mut self, now: &str) -> &mut Self {
        self.now = now.to_string();
        self
    }

    /// `command()` with the config directory also pointed into the temp
    /// dir, so neither `$XDG_CONFIG_HOME` nor `~/.config/trustlog` of the
    /// caller can change the trust parameters of a query.
    pub fn query_command(&self) -> Command {
        let mut c = self.command();
        c.env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"));
        c
    }

    /// Runs `trustlog --journal <journal> <args…>` with the config isolated.
    pub fn query<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let mut c = self.query_command();
        c.arg("--journal").arg(&self.journal).args(args);
        output(c)
    }

    /// Like `query`, and the command must succeed with nothing on stderr.
    pub fn query_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let out = self.query(args);
        assert!(
            out.code == 0 && out.stderr.is_empty(),
            "trustlog {:?} failed: {out:?}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>()
        );
        out
    }

    /// `trustlog --json <args…>`, which must succeed: its one JSON value.
    pub fn query_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.query_ok(&all).json()
    }

    /// Like `query`, and the command must fail with `code`, print nothing
    /// on stdout and say why on stderr: the stderr.
    pub fn query_fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.query(args);
        assert!(
            out.code == code && out.stdout.is_empty() && !out.stderr.trim().is_empty(),
            "trustlog {args:?}: expected exit {code} with a message, got {out:?}"
        );
        out.stderr
    }
}

/// A sequence of recording commands, each with the clock it runs under:
/// played into a journal, in full or only its first steps (a journal "cut"
/// at a given step).
#[derive(Debug, Clone, Default)]
pub struct Script {
    now: String,
    pub steps: Vec<(String, Vec<String>)>,
}

impl Script {
    pub fn new() -> Script {
        Script {
            now: NOW.to_string(),
            steps: Vec::new(),
        }
    }

    /// The clock of the following steps.
    pub fn at(&mut self, now: &str) -> &mut Self {
        self.now = now.to_string();
        self
    }

    /// One recording command (without `--journal`).
    pub fn cmd(&mut self, args: &[&str]) -> &mut Self {
        self.steps.push((
            self.now.clone(),
            args.iter().map(|a| a.to_string()).collect(),
        ));
        self
    }

    /// Plays the first `k` steps into `tl`, each of which must succeed;
    /// leaves `tl`'s clock as it was.
    pub fn play_first(&self, tl: &mut Tl, k: usize) {
        let before = tl.now.clone();
        for (now, args) in &self.steps[..k] {
            tl.set_now(now);
            tl.ok(args);
        }
        tl.set_now(&before);
    }

    /// Plays every step.
    pub fn play(&self, tl: &mut Tl) {
        self.play_first(tl, self.steps.len());
    }

    /// A new journal holding every step.
    pub fn journal(&self) -> Tl {
        let mut tl = Tl::new();
        self.play(&mut tl);
        tl
    }

    /// How many steps were recorded at or before `t` (a local date-time in
    /// the test zone, as `ts` reads it). The clocks of a script never go
    /// backwards, so these are its first steps.
    pub fn recorded_by(&self, t: &str) -> usize {
        let t = ts(t);
        let mut n = 0;
        for (i, (now, _)) in self.steps.iter().enumerate() {
            if i > 0 {
                assert!(
                    ts(now) >= ts(&self.steps[i - 1].0),
                    "test bug: the script's clock goes backwards at step {i}"
                );
            }
            if ts(now) <= t {
                n = i + 1;
            }
        }
        n
    }
}

/// Runs `trustlog --journal <t's journal> <args>` under a real
/// pseudo-terminal (util-linux `script`), with `t`'s pinned environment plus
/// `env`; what the terminal showed (stdout and stderr, `\r` kept). `None`
/// when `script` is missing, except under CI=true, where that fails.
pub fn on_a_terminal(t: &Tl, args: &str, env: &[(&str, &str)]) -> Option<String> {
    let have = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("`script` (util-linux) is missing and CI=true");
        }
        eprintln!("\n*** SKIPPED terminal test: `script` (util-linux) is not installed ***\n");
        return None;
    }
    let cmd = format!(
        "'{}' --journal '{}' {args}",
        env!("CARGO_BIN_EXE_trustlog"),
        t.journal.display()
    );
    // `t.command()` pins the environment (clock, zone, author, home) for
    // the trustlog binary; `script` gets the same and passes it down.
    let pinned = t.command();
    let mut c = Command::new("script");
    for (k, v) in pinned.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.envs(env.iter().copied());
    c.env("TERM", "dumb")
        .current_dir(t.dir.path())
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null());
    let out = c.output().expect("run script");
    assert!(out.status.success(), "{cmd}: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
