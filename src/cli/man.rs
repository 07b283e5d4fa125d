//! `trustlog man`: the manual pages, generated from the same clap
//! definitions as `--help`, so they can never disagree with the program.
//! The only user of `clap_mangen` (kept behind this module).

use std::path::Path;

use clap::CommandFactory;

use super::error::CliError;
use super::Cli;

/// The page of `trustlog` itself, in roff (`man -l -` reads it).
pub fn page() -> Result<Vec<u8>, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| CliError::Io(format!("rendering the manual page: {e}")))?;
    Ok(page)
}

/// Writes `trustlog.1` and one page per subcommand (`trustlog-promise-make.1`
/// …) into `dir`, which must exist; returns the file names written.
pub fn write_all(dir: &Path) -> Result<Vec<String>, CliError> {
    if !dir.is_dir() {
        return Err(CliError::Io(format!(
            "man --dir {}: not a directory; expected an existing directory such as ~/.local/share/man/man1",
            dir.display()
        )));
    }
    let mut cmd = Cli::command();
    // The pages name the program as users type it, not the test binary.
    cmd = cmd.name("trustlog").bin_name("trustlog");
    clap_mangen::generate_to(cmd, dir)
        .map_err(|e| CliError::Io(format!("writing manual pages to {}: {e}", dir.display())))?;
    let mut written: Vec<String> = names(dir)?
        .into_iter()
        .filter(|n| n.starts_with("trustlog") && n.ends_with(".1"))
        .collect();
    written.sort();
    Ok(written)
}

fn names(dir: &Path) -> Result<Vec<String>, CliError> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| CliError::Io(format!("reading {}: {e}", dir.display())))?;
    Ok(rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect())
}
