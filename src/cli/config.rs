//! The optional config file: `--config PATH`, else
//! `$XDG_CONFIG_HOME/trustlog/config.toml` (usually
//! `~/.config/trustlog/config.toml`) when it exists. Today it holds the
//! trust model's parameters:
//!
//! ```toml
//! [trust]
//! first_impression_weight = 3.0
//! recovery_debt_hours = 40
//! broken = 20
//! ```
//!
//! Unknown keys and out-of-range values are errors that name the key: a
//! typo must not silently fall back to a default.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{invalid, CliError};
use crate::projections::trust::TrustParams;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub trust: TrustParams,
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
    parse(&text).map_err(|m| invalid(format!("config file {}: {m}", path.display())))
}

pub fn parse(text: &str) -> Result<Config, String> {
    let cfg: Config = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
    cfg.trust.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
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
    }
}
