//! The event codec's two decoders on arbitrary payloads: they accept the
//! same bytes and give equal envelopes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    trustlog_fuzz::decode_ref_vs_decode::check(data);
});
