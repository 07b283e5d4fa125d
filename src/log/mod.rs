//! The log layer: frames, checksums, chains, appends, syncs, locks, reads and
//! recovers opaque payloads. It knows bytes, not clients; `docs/format.md`
//! is its specification.

pub mod atomic;
pub mod error;
pub mod format;
pub mod journal;
pub mod scan;
pub mod storage;
pub mod writer;

pub use error::LogError;
pub use journal::{
    for_each_record, head, open_scan, salvage, verify, JournalWriter, Locked, SalvageReport,
    TornCut, VerifyReport, DEFAULT_LOCK_WAIT,
};
pub use scan::{Damage, DamageKind, Item, Record, Scanner};
