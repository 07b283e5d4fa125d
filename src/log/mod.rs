//! The log layer: frames, checksums, chains, appends, syncs, locks, reads and
//! recovers opaque payloads. It knows bytes, not clients.

pub mod format;
