//! Errors as the command line sees them, and the exit code each maps to
//! (SPEC.md): 1 failure (bad input, unknown client, a promise that is not
//! open, I/O), 3 journal damaged or history rewritten. clap's own usage
//! errors exit 2.

pub use crate::app::error::{invalid, AppError as CliError};

/// The exit code of a failed command.
pub fn exit_code(e: &CliError) -> u8 {
    if e.is_damage() {
        3
    } else {
        1
    }
}
