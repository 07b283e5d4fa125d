//! Errors of the command line, and the exit code each maps to (SPEC.md):
//! 1 failure (bad input, unknown client, a promise that is not open, I/O),
//! 3 journal damaged or history rewritten. clap's own usage errors exit 2.

use std::fmt;

use crate::events::EventsError;
use crate::log::LogError;

#[derive(Debug)]
pub enum CliError {
    /// Input that makes sense to clap but not to trustlog: the message
    /// names the value and what was expected.
    Invalid(String),
    Log(LogError),
    Events(EventsError),
    /// The journal is damaged or its history was rewritten (exit 3).
    Damaged(String),
    Io(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Log(e) if e.is_damage() => 3,
            CliError::Damaged(_) => 3,
            // An event that passes its checksum but does not decode is
            // damage of a kind too: the file is not what this trustlog wrote.
            CliError::Events(EventsError::Decode { .. }) => 3,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Invalid(m) | CliError::Damaged(m) | CliError::Io(m) => f.write_str(m),
            CliError::Log(e) => write!(f, "{e}"),
            CliError::Events(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<LogError> for CliError {
    fn from(e: LogError) -> Self {
        CliError::Log(e)
    }
}

impl From<EventsError> for CliError {
    fn from(e: EventsError) -> Self {
        CliError::Events(e)
    }
}

/// Shorthand for a validation error.
pub fn invalid(msg: impl Into<String>) -> CliError {
    CliError::Invalid(msg.into())
}
