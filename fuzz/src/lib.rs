//! The checks behind trustlog's fuzz targets, as plain functions over bytes
//! so that the main crate's `tests/fuzz_corpus_replay.rs` can include the
//! same files (`#[path]`) and replay the seed corpora on stable `cargo test`.
//! Each module depends only on `trustlog` and std.

pub mod append_crash_model;
pub mod decode_frames;
