//! The application layer: a journal as an API. Opening a journal,
//! recording validated events under the writer's lock, replaying the log
//! into projections (through the checkpoint cache), importing and
//! exporting. Everything the command line does that is not parsing or
//! rendering lives here, so that other components (the team sync, a Rust
//! user) can do it without clap.

pub mod checkpoint;
pub mod error;
pub mod import;
pub mod journal;
pub mod progress;
pub mod record;
pub mod replay;
pub mod rules;

pub use error::AppError;
pub use journal::{Journal, JournalOptions, RecordError, Recorded};
pub use record::Recording;
pub use rules::RuleError;
