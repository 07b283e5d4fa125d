//! Whether strace can inject faults here, for the process-level fault
//! tests (`engine_process`, `report_files`). Included with
//! `#[path = "common/strace.rs"] mod strace;`.

use std::process::{Command, Stdio};

/// `Some(())` when strace can trace here; None (with a loud message naming
/// `what` did not run) when it is missing outside CI. Under CI a missing
/// strace is a failure (`.ci/run` installs it).
pub fn strace_available(what: &str) -> Option<()> {
    let works = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "--", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if works {
        return Some(());
    }
    if std::env::var_os("CI").is_some() {
        panic!("strace is missing or cannot trace, and CI is set: .ci/run must `apt-get install -y strace`");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: strace is not installed (or cannot trace here); \
         {what} did not run. `apt-get install strace` !!!!!!!!\n"
    );
    None
}
