//! The domain: events (past-tense facts), their envelope, the codec that
//! is the only code allowed to turn them into bytes, and their JSON form
//! (`json`: `--json`, export, import). The list of event kinds, from which
//! the per-kind code is generated, is `event_kinds!` in `model.rs`. Knows
//! nothing of files.

pub mod codec;
pub mod error;
pub mod json;
pub mod model;
pub mod time;

pub use error::EventsError;
pub use model::*;
pub use time::Timestamp;
