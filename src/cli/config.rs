//! The optional config file: `--config PATH`, else
//! `$XDG_CONFIG_HOME/trustlog/config.toml` (usually
//! `~/.config/trustlog/config.toml`) when it exists. It holds daily
//! defaults and the trust model's parameters:
//!
//! ```toml
//! [defaults]
//! journal = "~/work/clients.tlog"   # relative: to the config file's directory
//! author = "jane"
//! time_zone = "Asia/Seoul"          # human output and WHEN ("today", "fri")
//!
//! [trust]
//! first_impression_weight = 3.0
//! recovery_debt_hours = 40
//! broken = 20
//! ```
//!
//! Precedence, for each default: flag > environment variable > config >
//! built-in default (`--journal` > `$TRUSTLOG_FILE` > `journal`;
//! `$TRUSTLOG_AUTHOR` > `author` > login name; `$TZ` > `time_zone` > the
//! system zone).
//!
//! Unknown keys and out-of-range values are errors that name the key: a
//! typo must not silently fall back to a default. Every command (recording
//! ones too) refuses a broken config before it touches the journal.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{invalid, CliError};
use crate::projections::trust::TrustParams;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub defaults: Defaults,
    pub trust: TrustParams,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Defaults {
    /// The journal when neither `--journal` nor `$TRUSTLOG_FILE` names one;
    /// resolved against the config file's directory by `load`.
    pub journal: Option<PathBuf>,
    pub author: Option<String>,
    /// A tz database name (`Europe/Paris`), used when `$TZ` is not set.
    pub time_zone: Option<String>,
}

fn default_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    let base = etcetera::choose_base_strategy().ok()?;
    Some(base.config_dir().join("trustlog").join("config.toml"))
}

/// Loads the config: an explicit path must exist; the default one may not.
pub fn load(explicit: Option<&Path>) -> Result<Config, CliError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok(Config::default()),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        invalid(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let mut cfg =
        parse(&text).map_err(|m| invalid(format!("config file {}: {m}", path.display())))?;
    if let Some(j) = cfg.defaults.journal.take() {
        cfg.defaults.journal = Some(resolve_journal(&j, &path));
    }
    Ok(cfg)
}

/// `~/…` is in the home directory; a relative path is relative to the
/// config file, not to wherever the command happens to run.
fn resolve_journal(j: &Path, config_path: &Path) -> PathBuf {
    if let Ok(rest) = j.strip_prefix("~") {
        use etcetera::BaseStrategy;
        if let Ok(base) = etcetera::choose_base_strategy() {
            return base.home_dir().join(rest);
        }
    }
    match config_path.parent() {
        Some(dir) if j.is_relative() => dir.join(j),
        _ => j.to_path_buf(),
    }
}

pub fn parse(text: &str) -> Result<Config, String> {
    let cfg: Config = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
    cfg.trust.validate().map_err(|e| e.to_string())?;
    let d = &cfg.defaults;
    if d.journal.as_ref().is_some_and(|j| j.as_os_str().is_empty()) {
        return Err("defaults.journal is empty: expected a file path".to_string());
    }
    if let Some(a) = &d.author {
        if a.trim().is_empty() || a.chars().any(char::is_control) {
            return Err(format!(
                "defaults.author {a:?}: expected a name without control characters"
            ));
        }
    }
    if let Some(z) = &d.time_zone {
        if !is_zone_name(z) {
            return Err(format!(
                "defaults.time_zone {z:?} is not a time zone: expected a tz database name \
                 such as \"Europe/Paris\", \"Asia/Seoul\" or \"UTC\""
            ));
        }
    }
    Ok(cfg)
}

/// A name of the tz database installed here: a TZif file under `$TZDIR`
/// or `/usr/share/zoneinfo` (where chrono and the C library look). Checked
/// up front, since a zone neither can read silently becomes UTC.
fn is_zone_name(name: &str) -> bool {
    let path = Path::new(name);
    let plain = !name.is_empty()
        && path.is_relative()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return false;
    }
    let dirs = std::env::var_os("TZDIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/share/zoneinfo")]);
    dirs.into_iter().any(|dir| {
        use std::io::Read;
        let mut magic = [0u8; 4];
        std::fs::File::open(dir.join(path))
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
            && &magic == b"TZif"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_a_subset_and_keeps_the_rest() {
        let c = parse("[trust]\nbroken = 20\n").unwrap();
        assert_eq!(c.trust.broken, 20.0);
        assert_eq!(c.trust.kept_on_time, TrustParams::default().kept_on_time);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = parse("[trust]\nbrokn = 20\n").unwrap_err();
        assert!(e.contains("brokn"), "{e}");
        let e = parse("[trusst]\n").unwrap_err();
        assert!(e.contains("trusst"), "{e}");
        let e = parse("[trust]\nbroken = -3\n").unwrap_err();
        assert!(e.contains("broken"), "{e}");
        let e = parse("[defaults]\njournall = \"x\"\n").unwrap_err();
        assert!(e.contains("journall"), "{e}");
    }

    #[test]
    fn defaults_are_read_and_checked() {
        let c = parse("[defaults]\njournal = \"j.tlog\"\nauthor = \"jane\"\ntime_zone = \"UTC\"\n")
            .unwrap();
        assert_eq!(c.defaults.journal, Some(PathBuf::from("j.tlog")));
        assert_eq!(c.defaults.author.as_deref(), Some("jane"));
        for (text, named) in [
            ("[defaults]\ntime_zone = \"Mars/Olympus\"\n", "Mars/Olympus"),
            (
                "[defaults]\ntime_zone = \"../../etc/passwd\"\n",
                "../../etc/passwd",
            ),
            (
                "[defaults]\ntime_zone = \"/etc/localtime\"\n",
                "/etc/localtime",
            ),
            ("[defaults]\ntime_zone = \"\"\n", "time_zone"),
            ("[defaults]\nauthor = \" \"\n", "author"),
            ("[defaults]\njournal = \"\"\n", "journal"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(named), "{text}: {e}");
        }
    }

    #[test]
    fn a_relative_journal_is_beside_the_config() {
        let got = resolve_journal(Path::new("j.tlog"), Path::new("/etc/tl/config.toml"));
        assert_eq!(got, PathBuf::from("/etc/tl/j.tlog"));
        let got = resolve_journal(Path::new("/abs/j.tlog"), Path::new("/etc/tl/config.toml"));
        assert_eq!(got, PathBuf::from("/abs/j.tlog"));
    }
}
