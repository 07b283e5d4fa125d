//! Differential check of the event codec's two decoders. The first input
//! byte picks the record's seq (1..=256); the rest is the payload.
//! - `decode` (owned, bincode's serde decoder) and `decode_ref` (borrowed;
//!   a hand-written fast path for the canonical form of envelope v1, then
//!   bincode for anything else) accept exactly the same payloads and give
//!   equal envelopes;
//! - what they accept re-encodes to bytes both decode to the same envelope;
//! - `peek_retraction` (the replay driver's cheap look), when it answers
//!   for a payload that decodes, agrees with the decoded `Retracted`.
//!
//! Shared by the `decode_ref_vs_decode` fuzz target and by the main crate's
//! `tests/fuzz_corpus_replay.rs`; it depends on `trustlog` and std only.

use trustlog::events::{codec, Event};

pub fn check(data: &[u8]) {
    let Some((&s, payload)) = data.split_first() else {
        return;
    };
    let seq = u64::from(s) + 1;
    let owned = codec::decode(seq, payload);
    let borrowed = codec::decode_ref(seq, payload).map(|e| e.to_owned());
    match (&owned, &borrowed) {
        (Ok(o), Ok(b)) => {
            assert_eq!(o, b, "decode and decode_ref differ on {payload:02x?}");
            assert_eq!(o.seq, seq);
            let again = codec::encode(o).expect("a decoded envelope encodes");
            let o2 = codec::decode(seq, &again).expect("re-encoded bytes decode");
            let b2 = codec::decode_ref(seq, &again).expect("re-encoded bytes decode by ref");
            assert_eq!(&o2, o, "re-encoding changed the envelope");
            assert_eq!(
                &b2.to_owned(),
                o,
                "re-encoding changed the borrowed envelope"
            );
        }
        (Err(_), Err(_)) => {}
        _ => panic!("decode and decode_ref disagree on {payload:02x?}: {owned:?} vs {borrowed:?}"),
    }
    if let (Some((at, target)), Ok(o)) = (codec::peek_retraction(payload), &owned) {
        match &o.event {
            Event::Retracted { seq, .. } => {
                assert_eq!((*seq, at), (target, o.recorded_at), "peek_retraction");
            }
            other => panic!("peek_retraction answered for {other:?}"),
        }
    }
}
