//! A sequence of append / batch / fault / crash / reopen / read operations
//! over `SimStorage`, checked against an in-memory model: every
//! acknowledged record survives any crash, nothing else ever appears.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    trustlog_fuzz::append_crash_model::run(data);
});
