//! trustlog: an event-sourced, tamper-evident journal of client
//! relationships. Layers, one direction only (see ARCHITECTURE.md):
//! `cli` ▸ `app` ▸ `projections` ▸ `events` ▸ `log`.
//!
//! Without the command line, a [`Journal`] records [`Recording`]s
//! (validated by the one set of rules, `app::rules`, under the writer's
//! lock, durable on return) and folds the journal into projections; see
//! `app::journal` and `examples/library.rs`.

pub mod app;
pub mod cli;
pub mod events;
pub mod log;
pub mod projections;

pub use app::{Journal, JournalOptions, RecordError, Recorded, Recording, RuleError};
