//! Arbitrary bytes as a journal body and as whole files: the scanner never
//! panics and every record it accepts re-encodes to the same bytes; the
//! event codec never panics and round-trips what it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    trustlog_fuzz::decode_frames::check(data);
});
