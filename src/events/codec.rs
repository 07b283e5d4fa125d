//! The one place that turns events into bytes and back. Only this module
//! calls bincode (2.x, pinned), so the codec could be swapped for a
//! byte-compatible one without touching anything else.
//!
//! A payload is a `StoredEnvelope`: an enum whose variant index is the
//! envelope version. Version 1 is the only one so far; a future version adds
//! a variant and `decode` upcasts older ones to the current `Envelope`.

use bincode::config::{Configuration, Limit, LittleEndian, Varint};
use serde::{Deserialize, Serialize};

use super::error::EventsError;
use super::model::{Envelope, Event, Seq};
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
