//! The one place that turns events into bytes and back. Only this module
//! calls bincode (2.x, pinned), so the codec could be swapped for a
//! byte-compatible one without touching anything else.
//!
//! A payload is a `StoredEnvelope`: an enum whose variant index is the
//! envelope version. Version 1 is the only one so far; a future version adds
//! a variant and `decode` upcasts older ones to the current `Envelope`.

use bincode::config::{Configuration, Limit, LittleEndian, NoLimit, Varint};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error::EventsError;
use super::model::{Envelope, EnvelopeRef, Event, EventRef, Seq};
use super::time::Timestamp;

/// Largest payload the codec will produce or accept. Matches the log's frame
/// limit, so a hostile length can never make the decoder allocate more.
pub const MAX_PAYLOAD: usize = crate::log::format::MAX_PAYLOAD as usize;

type Config =
    Configuration<LittleEndian, Varint, Limit<{ crate::log::format::MAX_PAYLOAD as usize }>>;

fn config() -> Config {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
        .with_limit::<{ crate::log::format::MAX_PAYLOAD as usize }>()
}

/// Borrowed form for encoding, so appending never clones an event.
#[derive(Serialize)]
enum StoredEnvelopeRef<'a> {
    V1 {
        recorded_at: Timestamp,
        occurred_at: Timestamp,
        author: &'a str,
        event: &'a Event,
    },
}

/// APPEND-ONLY, like `Event`.
#[derive(Deserialize)]
enum StoredEnvelope {
    V1 {
        recorded_at: Timestamp,
        occurred_at: Timestamp,
        author: String,
        event: Event,
    },
}

/// The same layout, decoded without copying any text (replay's path).
#[derive(Deserialize)]
enum StoredEnvelopeView<'a> {
    V1 {
        recorded_at: Timestamp,
        occurred_at: Timestamp,
        author: &'a str,
        #[serde(borrow)]
        event: EventRef<'a>,
    },
}

/// Encodes everything of the envelope except `seq`, which the log frame holds.
pub fn encode(env: &Envelope) -> Result<Vec<u8>, EventsError> {
    let mut bytes = Vec::new();
    encode_into(env, &mut bytes)?;
    Ok(bytes)
}

/// [`encode`], appended to `out` (nothing is left on error): many events
/// into one buffer, without a vector per event.
pub fn encode_into(env: &Envelope, out: &mut Vec<u8>) -> Result<usize, EventsError> {
    let start = out.len();
    let stored = StoredEnvelopeRef::V1 {
        recorded_at: env.recorded_at,
        occurred_at: env.occurred_at,
        author: &env.author,
        event: &env.event,
    };
    if let Err(e) = bincode::serde::encode_into_std_write(&stored, out, config()) {
        out.truncate(start);
        return Err(EventsError::Encode(e.to_string()));
    }
    let len = out.len() - start;
    if len > MAX_PAYLOAD {
        out.truncate(start);
        return Err(EventsError::TooLarge {
            len,
            max: MAX_PAYLOAD,
        });
    }
    Ok(len)
}

/// Decodes a payload read from record `seq`. Trailing bytes are an error:
/// a payload is exactly one envelope.
pub fn decode(seq: Seq, payload: &[u8]) -> Result<Envelope, EventsError> {
    let (stored, used): (StoredEnvelope, usize) =
        bincode::serde::decode_from_slice(payload, config()).map_err(|e| EventsError::Decode {
            seq,
            detail: e.to_string(),
        })?;
    if used != payload.len() {
        return Err(EventsError::Decode {
            seq,
            detail: format!(
                "{} trailing bytes after the event (payload is {} bytes)",
                payload.len() - used,
                payload.len()
            ),
        });
    }
    match stored {
        StoredEnvelope::V1 {
            recorded_at,
            occurred_at,
            author,
            event,
        } => Ok(Envelope {
            seq,
            recorded_at,
            occurred_at,
            author,
            event,
        }),
    }
}

/// Decodes a payload read from record `seq` into a view that borrows its
/// text from `payload`: no allocation. Same rules as [`decode`].
///
/// Replay decodes every event of the journal, so the common case takes a
/// hand-written path ([`fast`]) that reads the same bytes as bincode's
/// serde decoder for envelope version 1, and accepts only their canonical
/// form; anything else (an error, an unusual but valid encoding) goes to
/// bincode, which decides.
pub fn decode_ref(seq: Seq, payload: &[u8]) -> Result<EnvelopeRef<'_>, EventsError> {
    if let Some(env) = fast::envelope(seq, payload) {
        return Ok(env);
    }
    decode_ref_bincode(seq, payload)
}

/// If `payload` looks like a `Retracted` event in the canonical form of
/// envelope version 1: its `recorded_at` and the seq it retracts. A cheap
/// look (no text is validated, the rest is not read), for the replay
/// driver's first guess at the retracted set, which the full decode then
/// checks; never a substitute for [`decode_ref`].
pub fn peek_retraction(payload: &[u8]) -> Option<(Timestamp, Seq)> {
    fast::peek_retraction(payload)
}

fn decode_ref_bincode(seq: Seq, payload: &[u8]) -> Result<EnvelopeRef<'_>, EventsError> {
    let (stored, used): (StoredEnvelopeView<'_>, usize) =
        bincode::serde::borrow_decode_from_slice(payload, config()).map_err(|e| {
            EventsError::Decode {
                seq,
                detail: e.to_string(),
            }
        })?;
    if used != payload.len() {
        return Err(EventsError::Decode {
            seq,
            detail: format!(
                "{} trailing bytes after the event (payload is {} bytes)",
                payload.len() - used,
                payload.len()
            ),
        });
    }
    match stored {
        StoredEnvelopeView::V1 {
            recorded_at,
            occurred_at,
            author,
            event,
        } => Ok(EnvelopeRef {
            seq,
            recorded_at,
            occurred_at,
            author,
            event,
        }),
    }
}

/// A reader of bincode 2's standard configuration (little-endian, varint
/// integers) for exactly the types of envelope version 1. It returns `None`
/// whenever it meets anything it is not sure of, never a different value:
/// a test checks it against bincode on every variant and on damaged bytes.
///
/// It knows field *types* ([`Wire`]), not event kinds: the fields of each
/// kind are read in the order of the list of event kinds, by code that
/// `event_kinds!` generates (`EventRef::read_wire`), so a new kind needs
/// nothing here.
pub(super) mod fast {
    use super::super::model::{Due, EnvelopeRef, EventRef, Seq};
    use super::super::time::Timestamp;

    pub(in crate::events) struct R<'a> {
        b: &'a [u8],
        at: usize,
    }

    /// A field type as bincode stores it, read in its canonical form.
    pub(in crate::events) trait Wire<'a>: Sized {
        fn wire(r: &mut R<'a>) -> Option<Self>;
    }

    impl<'a> Wire<'a> for &'a str {
        fn wire(r: &mut R<'a>) -> Option<Self> {
            r.str()
        }
    }

    impl<'a> Wire<'a> for u64 {
        fn wire(r: &mut R<'a>) -> Option<Self> {
            r.u64()
        }
    }

    impl<'a> Wire<'a> for bool {
        fn wire(r: &mut R<'a>) -> Option<Self> {
            r.bool()
        }
    }

    /// bincode writes an `i8` as its one byte, not as a varint.
    impl<'a> Wire<'a> for i8 {
        fn wire(r: &mut R<'a>) -> Option<Self> {
            Some(r.byte()? as i8)
        }
    }

    impl<'a> Wire<'a> for Option<u32> {
        fn wire(r: &mut R<'a>) -> Option<Self> {
            match r.byte()? {
                0 => Some(None),
                1 => Some(Some(r.u32()?)),
                _ => None,
            }
        }
    }

    impl<'a> Wire<'a> for Due {
        fn wire(r: &mut R<'a>) -> Option<Self> {
            r.due()
        }
    }

    impl<'a> R<'a> {
        fn byte(&mut self) -> Option<u8> {
            let x = *self.b.get(self.at)?;
            self.at += 1;
            Some(x)
        }

        fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
            let end = self.at.checked_add(n)?;
            let s = self.b.get(self.at..end)?;
            self.at = end;
            Some(s)
        }

        /// A varint: one byte up to 250, else a marker and 2, 4 or 8 bytes.
        fn u64(&mut self) -> Option<u64> {
            match self.byte()? {
                x @ 0..=250 => Some(u64::from(x)),
                251 => Some(u64::from(u16::from_le_bytes(
                    self.bytes(2)?.try_into().ok()?,
                ))),
                252 => Some(u64::from(u32::from_le_bytes(
                    self.bytes(4)?.try_into().ok()?,
                ))),
                253 => Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?)),
                _ => None,
            }
        }

        /// A `u32` varint: bincode does not take the 8-byte form here.
        /// (Also the variant index of a unit enum: see `word_enum!`.)
        pub(in crate::events) fn u32(&mut self) -> Option<u32> {
            match self.b.get(self.at)? {
                253.. => None,
                _ => u32::try_from(self.u64()?).ok(),
            }
        }

        fn i64(&mut self) -> Option<i64> {
            let n = self.u64()?;
            // Zig-zag.
            Some(if n % 2 == 0 {
                (n / 2) as i64
            } else {
                !(n / 2) as i64
            })
        }

        fn ts(&mut self) -> Option<Timestamp> {
            Some(Timestamp(self.i64()?))
        }

        fn bool(&mut self) -> Option<bool> {
            match self.byte()? {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            }
        }

        fn str(&mut self) -> Option<&'a str> {
            let n = usize::try_from(self.u64()?).ok()?;
            std::str::from_utf8(self.bytes(n)?).ok()
        }

        fn due(&mut self) -> Option<Due> {
            Some(Due {
                at: self.ts()?,
                date_only: self.bool()?,
            })
        }
    }

    pub(super) fn peek_retraction(payload: &[u8]) -> Option<(Timestamp, Seq)> {
        let mut r = R { b: payload, at: 0 };
        if r.u32()? != 0 {
            return None;
        }
        let recorded_at = r.ts()?;
        r.ts()?;
        let n = usize::try_from(r.u64()?).ok()?;
        r.bytes(n)?;
        if r.u32()? != 13 {
            return None;
        }
        Some((recorded_at, r.u64()?))
    }

    pub(super) fn envelope(seq: Seq, payload: &[u8]) -> Option<EnvelopeRef<'_>> {
        let mut r = R { b: payload, at: 0 };
        if r.u32()? != 0 {
            return None;
        }
        let recorded_at = r.ts()?;
        let occurred_at = r.ts()?;
        let author = r.str()?;
        let event = EventRef::read_wire(r.u32()?, &mut r)?;
        // A payload is exactly one envelope.
        if r.at != payload.len() {
            return None;
        }
        Some(EnvelopeRef {
            seq,
            recorded_at,
            occurred_at,
            author,
            event,
        })
    }
}

/// Checkpoints (derived state caches, `docs/format.md`) are encoded with the
/// same bincode configuration as events, without the 1 MiB payload limit: a
/// checkpoint holds a whole projection. Decoding borrows from the input
/// slice, so no length read from the file can make it allocate more than
/// the file holds (strings are copied out of the slice, sequences grow as
/// their elements are read).
fn checkpoint_config() -> Configuration<LittleEndian, Varint, NoLimit> {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
}

/// Encodes a value for a checkpoint file.
pub fn encode_checkpoint<T: Serialize>(value: &T) -> Result<Vec<u8>, EventsError> {
    let mut bytes = Vec::new();
    encode_checkpoint_into(value, &mut bytes)?;
    Ok(bytes)
}

/// Encodes a value for a checkpoint file straight into `w` (no buffer of
/// the whole encoding); the same bytes as [`encode_checkpoint`].
pub fn encode_checkpoint_into<T: Serialize, W: std::io::Write>(
    value: &T,
    w: &mut W,
) -> Result<usize, EventsError> {
    bincode::serde::encode_into_std_write(value, w, checkpoint_config())
        .map_err(|e| EventsError::Encode(e.to_string()))
}

/// Decodes a value written by [`encode_checkpoint`]; trailing bytes are an
/// error. `what` names the part of the checkpoint in the error.
pub fn decode_checkpoint<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    let (v, used): (T, usize) =
        bincode::serde::borrow_decode_from_slice(bytes, checkpoint_config())
            .map_err(|e| format!("{what}: {e}"))?;
    if used != bytes.len() {
        return Err(format!(
            "{what}: {} trailing bytes",
            bytes.len().saturating_sub(used)
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast reader takes a word enum's variant index from its `ALL`
    /// list (`word_enum!`): that list must be in declaration order, which
    /// is what bincode writes.
    #[test]
    fn word_enum_lists_are_in_bincode_order() {
        fn check<T: Serialize + Copy + std::fmt::Debug>(all: &[T]) {
            for (i, v) in all.iter().enumerate() {
                let bytes = bincode::serde::encode_to_vec(v, config()).unwrap();
                assert_eq!(bytes, [i as u8], "{v:?} is not variant {i}");
            }
        }
        use crate::events::{AdvocacyKind, Cause, Fit, InteractionKind, Party};
        check(Fit::ALL);
        check(InteractionKind::ALL);
        check(Party::ALL);
        check(Cause::ALL);
        check(AdvocacyKind::ALL);
    }

    /// The borrowed decoder reads exactly what the owned one reads, for
    /// every variant: the fixture journal holds one of each.
    #[test]
    fn borrowed_and_owned_decode_agree_on_every_variant_of_the_fixture() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v2.tlog");
        let mut kinds = std::collections::BTreeSet::new();
        crate::log::for_each_record(&path, |seq, payload| {
            let owned = decode(seq, payload).unwrap();
            let view = decode_ref(seq, payload).unwrap();
            assert_eq!(view, owned.as_ref());
            assert_eq!(view.to_owned(), owned);
            assert_eq!(view.event.kind_name(), owned.event.kind_name());
            kinds.insert(view.event.kind_index());
            Ok(())
        })
        .unwrap();
        assert_eq!(kinds.len(), crate::events::EVENT_KINDS.len());
    }

    /// The hand-written reader agrees with bincode on every record of the
    /// fixture, and on every damaged copy of them: whenever it answers, it
    /// gives bincode's answer.
    #[test]
    fn fast_path_agrees_with_bincode_on_intact_and_damaged_payloads() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v2.tlog");
        let mut payloads = Vec::new();
        crate::log::for_each_record(&path, |seq, payload| {
            payloads.push((seq, payload.to_vec()));
            Ok(())
        })
        .unwrap();
        // Large values take the longer varint forms.
        let big = Envelope {
            seq: 1,
            recorded_at: Timestamp(i64::MIN),
            occurred_at: Timestamp(i64::MAX),
            author: "é".repeat(300),
            event: Event::Retracted {
                seq: u64::MAX,
                reason: "x".repeat(70_000),
            },
        };
        payloads.push((1, encode(&big).unwrap()));
        for (seq, p) in &payloads {
            let fast = fast::envelope(*seq, p).expect("intact payloads take the fast path");
            assert_eq!(fast, decode_ref_bincode(*seq, p).unwrap());
            for i in 0..p.len().min(64) {
                for bit in [0x01u8, 0x80, 0xff] {
                    let mut bad = p.clone();
                    bad[i] ^= bit;
                    if let Some(f) = fast::envelope(*seq, &bad) {
                        assert_eq!(
                            Ok(f),
                            decode_ref_bincode(*seq, &bad).map_err(|e| e.to_string())
                        );
                    }
                }
                let cut = &p[..i];
                if let Some(f) = fast::envelope(*seq, cut) {
                    assert_eq!(
                        Ok(f),
                        decode_ref_bincode(*seq, cut).map_err(|e| e.to_string())
                    );
                }
            }
        }
    }

    #[test]
    fn borrowed_decode_refuses_trailing_bytes_and_garbage() {
        let env = Envelope {
            seq: 1,
            recorded_at: Timestamp(1),
            occurred_at: Timestamp(2),
            author: "a".into(),
            event: Event::Retracted {
                seq: 9,
                reason: "r".into(),
            },
        };
        let mut bytes = encode(&env).unwrap();
        assert_eq!(decode_ref(1, &bytes).unwrap().to_owned(), env);
        bytes.push(0);
        assert!(decode_ref(1, &bytes).is_err());
        assert!(decode_ref(1, &[0xff; 7]).is_err());
    }

    #[test]
    fn checkpoint_values_round_trip_and_refuse_trailing_bytes() {
        let v: (Vec<u64>, String) = (vec![1, 2, 300], "x".into());
        let mut b = encode_checkpoint(&v).unwrap();
        assert_eq!(decode_checkpoint::<(Vec<u64>, String)>(&b, "t").unwrap(), v);
        b.push(1);
        assert!(decode_checkpoint::<(Vec<u64>, String)>(&b, "t").is_err());
        // A huge claimed length with few bytes behind it is an error, not
        // an allocation.
        assert!(decode_checkpoint::<Vec<u64>>(
            &[0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            "t"
        )
        .is_err());
    }
}
