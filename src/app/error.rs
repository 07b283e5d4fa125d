//! Errors of the application layer: what recording, replaying, importing
//! or checkpointing a journal can fail with. Each message names the
//! offending value and what was expected; the command line maps each kind
//! to an exit code (`cli::error`).

use std::fmt;

use crate::events::EventsError;
use crate::log::LogError;

#[derive(Debug)]
pub enum AppError {
    /// Input that makes sense to clap but not to trustlog: the message
    /// names the value and what was expected.
    Invalid(String),
    Log(LogError),
    Events(EventsError),
    /// The journal is damaged or its history was rewritten (exit 3).
    Damaged(String),
    Io(String),
}

impl AppError {
    /// The journal is damaged or its history was rewritten (as opposed to
    /// bad input or a failed I/O operation).
    pub fn is_damage(&self) -> bool {
        match self {
            AppError::Log(e) => e.is_damage(),
            AppError::Damaged(_) => true,
            // An event that passes its checksum but does not decode is
            // damage of a kind too: the file is not what this trustlog wrote.
            AppError::Events(EventsError::Decode { .. }) => true,
            _ => false,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Invalid(m) | AppError::Damaged(m) | AppError::Io(m) => f.write_str(m),
            AppError::Log(e) => write!(f, "{e}"),
            AppError::Events(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<LogError> for AppError {
    fn from(e: LogError) -> Self {
        AppError::Log(e)
    }
}

impl From<EventsError> for AppError {
    fn from(e: EventsError) -> Self {
        AppError::Events(e)
    }
}

/// Shorthand for a validation error.
pub fn invalid(msg: impl Into<String>) -> AppError {
    AppError::Invalid(msg.into())
}
