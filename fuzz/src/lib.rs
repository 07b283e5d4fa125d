//! The checks behind trustlog's fuzz targets, as plain functions over bytes
//! so that the main crate's `tests/fuzz_corpus_replay.rs` can include the
//! same files (`#[path]`) and replay the seed corpora on stable `cargo test`.
//! Each module depends only on `trustlog` and std (`when_parse` on chrono
//! too, which trustlog depends on).

pub mod append_crash_model;
pub mod checkpoint_sparse;
pub mod decode_frames;
pub mod decode_ref_vs_decode;
pub mod import_fast;
pub mod when_parse;
