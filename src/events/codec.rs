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
    let stored = StoredEnvelopeRef::V1 {
        recorded_at: env.recorded_at,
        occurred_at: env.occurred_at,
        author: &env.author,
        event: &env.event,
    };
    let bytes = bincode::serde::encode_to_vec(&stored, config())
        .map_err(|e| EventsError::Encode(e.to_string()))?;
    if bytes.len() > MAX_PAYLOAD {
        return Err(EventsError::TooLarge {
            len: bytes.len(),
            max: MAX_PAYLOAD,
        });
    }
    Ok(bytes)
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
pub fn decode_ref(seq: Seq, payload: &[u8]) -> Result<EnvelopeRef<'_>, EventsError> {
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
    bincode::serde::encode_to_vec(value, checkpoint_config())
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

    /// The borrowed decoder reads exactly what the owned one reads, for
    /// every variant: the fixture journal holds one of each.
    #[test]
    fn borrowed_and_owned_decode_agree_on_every_variant_of_the_fixture() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1.tlog");
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
