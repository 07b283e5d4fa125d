//! Errors of the events layer: encoding and decoding payloads.

use std::fmt;

use super::model::Seq;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsError {
    Encode(String),
    TooLarge { len: usize, max: usize },
    Decode { seq: Seq, detail: String },
}

impl fmt::Display for EventsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventsError::Encode(d) => write!(f, "could not encode the event: {d}"),
            EventsError::TooLarge { len, max } => write!(
                f,
                "the event is {len} bytes encoded; at most {max} bytes are allowed (shorten the text)"
            ),
            EventsError::Decode { seq, detail } => write!(
                f,
                "record #{seq} passed its checksum but does not decode as a trustlog event ({detail}); \
                 it was written by a newer or incompatible trustlog"
            ),
        }
    }
}

impl std::error::Error for EventsError {}
