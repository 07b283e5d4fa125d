//! The WHEN parser on arbitrary text at an arbitrary now: in range, a day
//! is a day, case-insensitive, round-trips its own output.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    trustlog_fuzz::when_parse::check(data);
});
