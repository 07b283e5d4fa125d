//! The JSON-lines importer's fast path on arbitrary text: whatever it
//! accepts, the general reading gives the same envelope for.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    trustlog_fuzz::import_fast::check(data);
});
