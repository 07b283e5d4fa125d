//! Decoding arbitrary bytes. The first input byte picks how the rest is
//! used: even — as the body of a journal after a valid header; odd — as a
//! whole file. Then:
//! - the scanner, in each recovery mode, never panics, terminates, and every
//!   record it accepts re-encodes (`encode_frame`) to exactly the bytes it
//!   was read from, at increasing, non-overlapping offsets;
//! - when a tolerate-corrupted-tail scan finds nothing but (at most) a torn
//!   tail, `find_tail` — which reads from the end — finds the same end;
//! - the event codec never panics on the bytes (nor on any record's
//!   payload), and what it decodes re-encodes to bytes that decode to an
//!   equal envelope.
//!
//! Shared by the `decode_frames` fuzz target and by the main crate's
//! `tests/fuzz_corpus_replay.rs`; it depends on `trustlog` and std only.

use std::path::Path;

use trustlog::events::codec;
use trustlog::log::format::{encode_frame, parse_frame, Header, Parse, HEADER_LEN};
use trustlog::log::scan::{DamageKind, Item, Scanner};
use trustlog::log::storage::SimStorage;
use trustlog::log::writer::find_tail;

/// The header used for "body" inputs; seeds are built with it.
pub fn fixed_header() -> Header {
    Header::new(*b"trustlog-fuzzing", 1_795_000_000_000_000)
}

pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode % 2 == 0 {
        let mut f = fixed_header().encode().to_vec();
        f.extend_from_slice(rest);
        f
    } else {
        rest.to_vec()
    };
    for (check_chain, lenient) in [(false, false), (true, true), (false, true), (true, false)] {
        scan(&file, check_chain, lenient);
    }
    tail_agrees_with_forward_scan(&file);
    codec_round_trip(rest);
}

/// Runs one scan over `file`, checking every item; returns the payloads of
/// the records read.
fn scan(file: &[u8], check_chain: bool, lenient: bool) -> Vec<Vec<u8>> {
    let Ok(mut sc) = Scanner::open(SimStorage::from_bytes(file.to_vec()), check_chain, lenient)
    else {
        return Vec::new();
    };
    assert_eq!(sc.file_len(), file.len() as u64);
    let mut next_free = HEADER_LEN as u64;
    let mut items = 0usize;
    let mut payloads = Vec::new();
    let mut torn_seen = false;
    while let Some(item) = sc.next_item().expect("SimStorage reads never fail") {
        items += 1;
        // Each item consumes at least one byte, or is a finding about the
        // header or about the frame returned right after it.
        assert!(items <= 2 * file.len() + 4, "the scan does not terminate");
        assert!(!torn_seen, "an item after a torn tail");
        match item {
            Item::Record(r) => {
                assert!(r.offset >= next_free, "records overlap or go backwards");
                let mut again = Vec::new();
                encode_frame(&mut again, r.seq, &r.chain, r.payload);
                let start = r.offset as usize;
                let end = start + again.len();
                assert!(end <= file.len(), "a record runs past the end of the file");
                assert_eq!(
                    &file[start..end],
                    &again[..],
                    "record at {start} does not re-encode to its bytes"
                );
                assert_eq!(r.end(), end as u64);
                next_free = r.end();
                payloads.push(r.payload.to_vec());
                if !r.is_hole() {
                    codec_round_trip(r.payload);
                }
            }
            Item::Damage(d) => {
                assert!(
                    d.offset + d.len <= file.len() as u64,
                    "finding past the end of the file: {d:?}"
                );
                match d.kind {
                    DamageKind::Header => {
                        assert!(lenient && d.offset == 0 && d.seq.is_none(), "{d:?}")
                    }
                    DamageKind::TornTail => {
                        assert_eq!(d.offset + d.len, file.len() as u64, "{d:?}");
                        torn_seen = true;
                    }
                    _ => assert!(d.offset >= next_free, "finding inside a record: {d:?}"),
                }
            }
        }
    }
    payloads
}

/// In tolerate-corrupted-tail mode, a log whose only finding is a torn tail
/// has a well-defined end, and `find_tail` (reading backwards from the end
/// of the file) must find exactly it.
fn tail_agrees_with_forward_scan(file: &[u8]) {
    let Ok(header) = Header::decode(file) else {
        return;
    };
    let mut sc = Scanner::open(SimStorage::from_bytes(file.to_vec()), false, false)
        .expect("the header decoded");
    let mut torn = None;
    let mut end = HEADER_LEN as u64;
    while let Some(item) = sc.next_item().expect("SimStorage reads never fail") {
        match item {
            Item::Record(r) => end = r.end(),
            Item::Damage(d) if d.kind == DamageKind::TornTail => torn = Some((d.offset, d.len)),
            // Damage inside the log: the writer would refuse; nothing to
            // compare with.
            Item::Damage(_) => return,
        }
    }
    // The resync search skips frames whose sequence number could not fit in
    // the bytes after the bad spot (bytes were removed, not just damaged),
    // so the scan may call a region holding intact, chained frames a torn
    // tail while `find_tail` finds the last of them. Compare only when the
    // torn region holds no valid frame at all: a real torn write.
    if let Some((off, _)) = torn {
        let frame_inside =
            (off as usize + 1..file.len()).any(|i| matches!(parse_frame(&file[i..]), Parse::Ok(_)));
        if frame_inside {
            return;
        }
    }
    let last_seq = sc.last_seq();
    let last_chain = sc.last_chain();
    let tail = find_tail(
        &SimStorage::from_bytes(file.to_vec()),
        &header,
        Path::new("fuzz"),
    )
    .expect("find_tail on a log with no inner damage");
    assert_eq!(tail.end, end, "find_tail end");
    assert_eq!(tail.last_seq, last_seq, "find_tail seq");
    assert_eq!(tail.last_chain, last_chain, "find_tail chain");
    assert_eq!(tail.torn, torn, "find_tail torn range");
    if torn.is_none() {
        assert_eq!(
            end,
            file.len() as u64,
            "a clean scan ends at the end of file"
        );
    }
}

/// Decoding never panics; a decoded envelope re-encodes, and the new bytes
/// decode to the same envelope. (The bytes need not be identical: several
/// encodings may decode to the same value.)
fn codec_round_trip(payload: &[u8]) {
    if let Ok(env) = codec::decode(7, payload) {
        let bytes = codec::encode(&env).expect("a decoded envelope encodes");
        let again = codec::decode(7, &bytes).expect("re-encoded bytes decode");
        assert_eq!(again, env, "codec round trip changed the envelope");
    }
}
