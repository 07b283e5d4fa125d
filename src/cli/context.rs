//! What every command needs resolved before it runs: the journal path,
//! "now", the author, and output mode. (The whole-journal helpers that
//! lived here, `read_all`, `cut_as_of`, `replay_into`, are the
//! application layer's now: `app::journal`; re-exported for the queries.)

use std::path::PathBuf;

use chrono::{DateTime, Local};

use super::error::{invalid, CliError};
use super::when::{parse_when, When};
pub use crate::app::journal::{cut_as_of, read_all, replay_into};
use crate::events::Timestamp;
use crate::projections::trust::TrustParams;

/// The config's display zone becomes the process's `TZ` when the
/// environment sets none, so that everything reading `chrono::Local`
/// (human timestamps, "today" in WHEN) sees it and `--json`, which writes
/// UTC, does not change. `$TZ` wins: an explicit `TZ=… trustlog` is the
/// more specific wish.
fn apply_time_zone(zone: &str) {
    if std::env::var_os("TZ").is_none() {
        // Called from `Ctx::new` before the first `Local` reading, on the
        // main thread while no other thread runs (the CLI starts none
        // before dispatch), which is what `set_var` requires.
        std::env::set_var("TZ", zone);
    }
}

pub struct Ctx {
    pub journal: PathBuf,
    /// The pinned clock (`--now` / `$TRUSTLOG_NOW`) or the wall clock.
    pub now: DateTime<Local>,
    pub json: bool,
    pub author: String,
    /// `--config PATH`, if given.
    pub config: Option<PathBuf>,
    /// The trust parameters of the config (loaded once, with the rest).
    trust: TrustParams,
}

impl Ctx {
    /// `journal` and `now` are the flag, else the environment variable
    /// (`$TRUSTLOG_FILE`, `$TRUSTLOG_NOW`); the config fills in what they
    /// leave open. A broken config is an error here, before any command
    /// reads or writes the journal.
    pub fn new(
        journal: Option<PathBuf>,
        now: Option<&str>,
        json: bool,
        config: Option<PathBuf>,
    ) -> Result<Self, CliError> {
        let cfg = super::config::load(config.as_deref())?;
        if let Some(zone) = &cfg.defaults.time_zone {
            apply_time_zone(zone);
        }
        let wall = Local::now();
        let now = match now {
            None => wall,
            Some(s) => {
                let w = parse_when(s, wall, false)
                    .map_err(|e| invalid(format!("--now / $TRUSTLOG_NOW: {e}")))?;
                w.at.to_local()
                    .ok_or_else(|| invalid(format!("--now {s:?} is out of range")))?
            }
        };
        let journal = match journal.or(cfg.defaults.journal) {
            Some(p) if p.as_os_str().is_empty() => {
                return Err(invalid(
                    "--journal / $TRUSTLOG_FILE is empty: expected a file path",
                ))
            }
            Some(p) => p,
            None => default_journal()?,
        };
        Ok(Ctx {
            journal,
            now,
            json,
            author: author(cfg.defaults.author.as_deref()),
            config,
            trust: cfg.trust,
        })
    }

    pub fn now_ts(&self) -> Timestamp {
        Timestamp::from_datetime(&self.now)
    }

    /// The trust model's parameters: defaults overridden by the config file.
    pub fn trust_params(&self) -> Result<TrustParams, CliError> {
        Ok(self.trust.clone())
    }

    /// `--from` / `--to`: a date-only `--from` starts at the beginning of its
    /// day, a date-only `--to` ends at the end of its day; the period must
    /// run forwards.
    pub fn period(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(Option<Timestamp>, Option<Timestamp>), CliError> {
        let from = from
            .map(|s| self.when("--from", s, false))
            .transpose()?
            .map(|w| w.at);
        let to = to
            .map(|s| self.when("--to", s, true))
            .transpose()?
            .map(|w| w.at);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(invalid(format!(
                    "--from {} is after --to {}: expected a period that runs forwards",
                    f.to_local_string(),
                    t.to_local_string()
                )));
            }
        }
        Ok((from, to))
    }

    /// Parses a WHEN relative to the pinned "now"; `what` names the option
    /// in the error message.
    pub fn when(&self, what: &str, s: &str, end_of_day: bool) -> Result<When, CliError> {
        parse_when(s, self.now, end_of_day).map_err(|e| invalid(format!("{what}: {e}")))
    }
}

/// `$XDG_DATA_HOME/trustlog/journal.tlog` (usually
/// `~/.local/share/trustlog/journal.tlog`).
fn default_journal() -> Result<PathBuf, CliError> {
    use etcetera::BaseStrategy;
    let base = etcetera::choose_base_strategy().map_err(|e| {
        invalid(format!(
            "cannot find a data directory for the journal ({e}); pass --journal PATH or set $TRUSTLOG_FILE"
        ))
    })?;
    Ok(base.data_dir().join("trustlog").join("journal.tlog"))
}

/// `$TRUSTLOG_AUTHOR`, else the config's author, else the login name
/// (`$USER`, `$LOGNAME`, the password database), else "unknown".
fn author(configured: Option<&str>) -> String {
    let env = |var: &str| {
        std::env::var(var)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(v) = env("TRUSTLOG_AUTHOR") {
        return v;
    }
    if let Some(a) = configured {
        return a.trim().to_string();
    }
    for var in ["USER", "LOGNAME"] {
        if let Some(v) = env(var) {
            return v;
        }
    }
    login_name().unwrap_or_else(|| "unknown".to_string())
}

/// The name of the user running the process, from the password database
/// (no $USER in cron jobs and many containers).
fn login_name() -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: all-zero bytes are a valid `passwd` (null pointers, zero ids);
    // getpwuid_r fills it with pointers into `buf`, which outlives their use.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the sizes given; the result is only
    // read when getpwuid_r reports success and a non-null entry.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points to a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    let name = name.to_string_lossy().trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// clap's parser of a client handle argument: what the user typed, in NFC
/// (the form handles are kept in), so `에이투지` typed decomposed finds the
/// client. Whether it is a valid handle is the rules' to say.
pub fn handle_arg(s: &str) -> Result<String, std::convert::Infallible> {
    Ok(crate::app::rules::normalize_handle(s))
}
