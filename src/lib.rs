//! trustlog: an event-sourced, tamper-evident journal of client
//! relationships. Layers, one direction only (see ARCHITECTURE.md):
//! `cli` ▸ `projections` ▸ `events` ▸ `log`.

pub mod app;
pub mod cli;
pub mod events;
pub mod log;
pub mod projections;

pub use app::{Journal, JournalOptions, RecordError, Recorded, Recording, RuleError};
