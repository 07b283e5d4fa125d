//! The checkpoint's state section: both readers give back what was
//! encoded; a changed byte makes the sparse reader give up or give the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    trustlog_fuzz::checkpoint_sparse::check(data);
});
