//! The domain: events (past-tense facts), their envelope, and the codec that
//! is the only code allowed to turn them into bytes. Knows nothing of files.

pub mod codec;
pub mod error;
pub mod json;
pub mod model;
pub mod time;

pub use error::EventsError;
pub use model::*;
pub use time::Timestamp;
