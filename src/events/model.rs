//! The domain events: immutable facts about clients and promises, named in
//! the past tense. This enum is part of the on-disk format (see
//! `docs/format.md`): variants are only ever appended at the end, and a
//! released variant's fields never change. A change of shape is a new variant
//! plus an upcast in `codec`.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::time::Timestamp;

/// Sequence number of a record in the journal; the first record is 1.
pub type Seq = u64;

/// Promise ids are small counters (1, 2, 3 …) handed out in the order the
/// promises were made, so a user can type them. They are never reused, not
/// even when the promise is retracted.
pub type PromiseId = u64;

/// Whether a client is the kind we set out to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fit {
    Target,
    OffTarget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InteractionKind {
    Meeting,
    Call,
    Email,
    Message,
    Visit,
    Delivery,
    Other,
}

/// Who took the initiative of an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Party {
    Us,
    Client,
}

/// Who caused a promise to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cause {
    Us,
    Client,
    External,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AdvocacyKind {
    Referral,
    Testimonial,
    Upsell,
    CrossSell,
}

/// When a promise is due. The instant is resolved when the event is recorded
/// (a date-only due becomes 23:59:59 local time of that day), so replay never
/// depends on the time zone of the machine that replays. `date_only` keeps
/// how the user said it, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Due {
    pub at: Timestamp,
    pub date_only: bool,
}

/// One domain event. APPEND-ONLY: new variants go at the end; never reorder,
/// never change the fields of a released variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    ClientAdded {
        handle: String,
        name: String,
        fit: Fit,
        note: String,
    },
    FitChanged {
        client: String,
        fit: Fit,
        reason: String,
    },
    ExpectationNoted {
        client: String,
        text: String,
    },
    MismatchNoted {
        client: String,
        text: String,
    },
    Interacted {
        client: String,
        kind: InteractionKind,
        /// −2 (very bad) ..= +2 (very good); 0 is neutral.
        mood: i8,
        /// Length of the contact; `None` when the user did not say.
        minutes: Option<u32>,
        initiated_by: Party,
        note: String,
    },
    PromiseMade {
        promise: PromiseId,
        client: String,
        what: String,
        due: Due,
    },
    PromiseMoved {
        promise: PromiseId,
        due: Due,
        cause: Cause,
        agreed_by_client: bool,
        reason: String,
    },
    PromiseKept {
        promise: PromiseId,
        note: String,
    },
    PromiseBroken {
        promise: PromiseId,
        reason: String,
    },
    PromiseReleased {
        promise: PromiseId,
        reason: String,
    },
    Advocated {
        client: String,
        kind: AdvocacyKind,
        initiated_by_client: bool,
        note: String,
    },
    ClientLost {
        client: String,
        reason: String,
    },
    ClientReturned {
        client: String,
        note: String,
    },
    Retracted {
        seq: Seq,
        reason: String,
    },
}

/// An event with the facts around it. `seq` lives in the log frame, not in
/// the encoded payload; the other fields are the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub seq: Seq,
    /// Wall clock (or `--now`) when the event was appended.
    pub recorded_at: Timestamp,
    /// When it happened (`--at`); defaults to `recorded_at`.
    pub occurred_at: Timestamp,
    pub author: String,
    pub event: Event,
}

/// A decoded event that borrows its text from the record it was read
/// from: replay decodes into this, so folding a journal allocates no string
/// per event. Same variants, same order, same fields as [`Event`], with
/// `&str` for `String` (the codec decodes the same bytes into either; a test
/// in `codec` pins that they agree on every variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EventRef<'a> {
    ClientAdded {
        handle: &'a str,
        name: &'a str,
        fit: Fit,
        note: &'a str,
    },
    FitChanged {
        client: &'a str,
        fit: Fit,
        reason: &'a str,
    },
    ExpectationNoted {
        client: &'a str,
        text: &'a str,
    },
    MismatchNoted {
        client: &'a str,
        text: &'a str,
    },
    Interacted {
        client: &'a str,
        kind: InteractionKind,
        mood: i8,
        minutes: Option<u32>,
        initiated_by: Party,
        note: &'a str,
    },
    PromiseMade {
        promise: PromiseId,
        client: &'a str,
        what: &'a str,
        due: Due,
    },
    PromiseMoved {
        promise: PromiseId,
        due: Due,
        cause: Cause,
        agreed_by_client: bool,
        reason: &'a str,
    },
    PromiseKept {
        promise: PromiseId,
        note: &'a str,
    },
    PromiseBroken {
        promise: PromiseId,
        reason: &'a str,
    },
    PromiseReleased {
        promise: PromiseId,
        reason: &'a str,
    },
    Advocated {
        client: &'a str,
        kind: AdvocacyKind,
        initiated_by_client: bool,
        note: &'a str,
    },
    ClientLost {
        client: &'a str,
        reason: &'a str,
    },
    ClientReturned {
        client: &'a str,
        note: &'a str,
    },
    Retracted {
        seq: Seq,
        reason: &'a str,
    },
}

/// An envelope whose text borrows from the record: what projections fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeRef<'a> {
    pub seq: Seq,
    pub recorded_at: Timestamp,
    pub occurred_at: Timestamp,
    pub author: &'a str,
    pub event: EventRef<'a>,
}

impl Envelope {
    /// The borrowed view of this envelope (no copy of any text).
    pub fn as_ref(&self) -> EnvelopeRef<'_> {
        EnvelopeRef {
            seq: self.seq,
            recorded_at: self.recorded_at,
            occurred_at: self.occurred_at,
            author: &self.author,
            event: self.event.as_ref(),
        }
    }
}

impl EnvelopeRef<'_> {
    /// An owned copy (for the few places that keep whole events).
    pub fn to_owned(&self) -> Envelope {
        Envelope {
            seq: self.seq,
            recorded_at: self.recorded_at,
            occurred_at: self.occurred_at,
            author: self.author.to_string(),
            event: self.event.to_owned(),
        }
    }
}

impl<'a> EventRef<'a> {
    /// The stable name of the variant, as [`Event::kind_name`].
    pub fn kind_name(&self) -> &'static str {
        EVENT_KINDS[self.kind_index()]
    }

    /// The variant's index in the enum (and in [`EVENT_KINDS`]).
    pub fn kind_index(&self) -> usize {
        match self {
            EventRef::ClientAdded { .. } => 0,
            EventRef::FitChanged { .. } => 1,
            EventRef::ExpectationNoted { .. } => 2,
            EventRef::MismatchNoted { .. } => 3,
            EventRef::Interacted { .. } => 4,
            EventRef::PromiseMade { .. } => 5,
            EventRef::PromiseMoved { .. } => 6,
            EventRef::PromiseKept { .. } => 7,
            EventRef::PromiseBroken { .. } => 8,
            EventRef::PromiseReleased { .. } => 9,
            EventRef::Advocated { .. } => 10,
            EventRef::ClientLost { .. } => 11,
            EventRef::ClientReturned { .. } => 12,
            EventRef::Retracted { .. } => 13,
        }
    }

    /// The client this event names directly, as [`Event::client`].
    pub fn client(&self) -> Option<&'a str> {
        match *self {
            EventRef::ClientAdded { handle, .. } => Some(handle),
            EventRef::FitChanged { client, .. }
            | EventRef::ExpectationNoted { client, .. }
            | EventRef::MismatchNoted { client, .. }
            | EventRef::Interacted { client, .. }
            | EventRef::PromiseMade { client, .. }
            | EventRef::Advocated { client, .. }
            | EventRef::ClientLost { client, .. }
            | EventRef::ClientReturned { client, .. } => Some(client),
            EventRef::PromiseMoved { .. }
            | EventRef::PromiseKept { .. }
            | EventRef::PromiseBroken { .. }
            | EventRef::PromiseReleased { .. }
            | EventRef::Retracted { .. } => None,
        }
    }

    /// The promise this event is about, if any.
    pub fn promise(&self) -> Option<PromiseId> {
        match *self {
            EventRef::PromiseMade { promise, .. }
            | EventRef::PromiseMoved { promise, .. }
            | EventRef::PromiseKept { promise, .. }
            | EventRef::PromiseBroken { promise, .. }
            | EventRef::PromiseReleased { promise, .. } => Some(promise),
            _ => None,
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Event {
        let s = |x: &str| x.to_string();
        match *self {
            EventRef::ClientAdded {
                handle,
                name,
                fit,
                note,
            } => Event::ClientAdded {
                handle: s(handle),
                name: s(name),
                fit,
                note: s(note),
            },
            EventRef::FitChanged {
                client,
                fit,
                reason,
            } => Event::FitChanged {
                client: s(client),
                fit,
                reason: s(reason),
            },
            EventRef::ExpectationNoted { client, text } => Event::ExpectationNoted {
                client: s(client),
                text: s(text),
            },
            EventRef::MismatchNoted { client, text } => Event::MismatchNoted {
                client: s(client),
                text: s(text),
            },
            EventRef::Interacted {
                client,
                kind,
                mood,
                minutes,
                initiated_by,
                note,
            } => Event::Interacted {
                client: s(client),
                kind,
                mood,
                minutes,
                initiated_by,
                note: s(note),
            },
            EventRef::PromiseMade {
                promise,
                client,
                what,
                due,
            } => Event::PromiseMade {
                promise,
                client: s(client),
                what: s(what),
                due,
            },
            EventRef::PromiseMoved {
                promise,
                due,
                cause,
                agreed_by_client,
                reason,
            } => Event::PromiseMoved {
                promise,
                due,
                cause,
                agreed_by_client,
                reason: s(reason),
            },
            EventRef::PromiseKept { promise, note } => Event::PromiseKept {
                promise,
                note: s(note),
            },
            EventRef::PromiseBroken { promise, reason } => Event::PromiseBroken {
                promise,
                reason: s(reason),
            },
            EventRef::PromiseReleased { promise, reason } => Event::PromiseReleased {
                promise,
                reason: s(reason),
            },
            EventRef::Advocated {
                client,
                kind,
                initiated_by_client,
                note,
            } => Event::Advocated {
                client: s(client),
                kind,
                initiated_by_client,
                note: s(note),
            },
            EventRef::ClientLost { client, reason } => Event::ClientLost {
                client: s(client),
                reason: s(reason),
            },
            EventRef::ClientReturned { client, note } => Event::ClientReturned {
                client: s(client),
                note: s(note),
            },
            EventRef::Retracted { seq, reason } => Event::Retracted {
                seq,
                reason: s(reason),
            },
        }
    }
}

impl Event {
    /// The borrowed view of this event.
    pub fn as_ref(&self) -> EventRef<'_> {
        match self {
            Event::ClientAdded {
                handle,
                name,
                fit,
                note,
            } => EventRef::ClientAdded {
                handle,
                name,
                fit: *fit,
                note,
            },
            Event::FitChanged {
                client,
                fit,
                reason,
            } => EventRef::FitChanged {
                client,
                fit: *fit,
                reason,
            },
            Event::ExpectationNoted { client, text } => EventRef::ExpectationNoted { client, text },
            Event::MismatchNoted { client, text } => EventRef::MismatchNoted { client, text },
            Event::Interacted {
                client,
                kind,
                mood,
                minutes,
                initiated_by,
                note,
            } => EventRef::Interacted {
                client,
                kind: *kind,
                mood: *mood,
                minutes: *minutes,
                initiated_by: *initiated_by,
                note,
            },
            Event::PromiseMade {
                promise,
                client,
                what,
                due,
            } => EventRef::PromiseMade {
                promise: *promise,
                client,
                what,
                due: *due,
            },
            Event::PromiseMoved {
                promise,
                due,
                cause,
                agreed_by_client,
                reason,
            } => EventRef::PromiseMoved {
                promise: *promise,
                due: *due,
                cause: *cause,
                agreed_by_client: *agreed_by_client,
                reason,
            },
            Event::PromiseKept { promise, note } => EventRef::PromiseKept {
                promise: *promise,
                note,
            },
            Event::PromiseBroken { promise, reason } => EventRef::PromiseBroken {
                promise: *promise,
                reason,
            },
            Event::PromiseReleased { promise, reason } => EventRef::PromiseReleased {
                promise: *promise,
                reason,
            },
            Event::Advocated {
                client,
                kind,
                initiated_by_client,
                note,
            } => EventRef::Advocated {
                client,
                kind: *kind,
                initiated_by_client: *initiated_by_client,
                note,
            },
            Event::ClientLost { client, reason } => EventRef::ClientLost { client, reason },
            Event::ClientReturned { client, note } => EventRef::ClientReturned { client, note },
            Event::Retracted { seq, reason } => EventRef::Retracted { seq: *seq, reason },
        }
    }
}

impl Event {
    /// The stable name of the variant, as used by `log --kind`, JSON and CSV.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Event::ClientAdded { .. } => "ClientAdded",
            Event::FitChanged { .. } => "FitChanged",
            Event::ExpectationNoted { .. } => "ExpectationNoted",
            Event::MismatchNoted { .. } => "MismatchNoted",
            Event::Interacted { .. } => "Interacted",
            Event::PromiseMade { .. } => "PromiseMade",
            Event::PromiseMoved { .. } => "PromiseMoved",
            Event::PromiseKept { .. } => "PromiseKept",
            Event::PromiseBroken { .. } => "PromiseBroken",
            Event::PromiseReleased { .. } => "PromiseReleased",
            Event::Advocated { .. } => "Advocated",
            Event::ClientLost { .. } => "ClientLost",
            Event::ClientReturned { .. } => "ClientReturned",
            Event::Retracted { .. } => "Retracted",
        }
    }

    /// The client this event names directly (promise events name a promise,
    /// whose client is known only to a projection).
    pub fn client(&self) -> Option<&str> {
        match self {
            Event::ClientAdded { handle, .. } => Some(handle),
            Event::FitChanged { client, .. }
            | Event::ExpectationNoted { client, .. }
            | Event::MismatchNoted { client, .. }
            | Event::Interacted { client, .. }
            | Event::PromiseMade { client, .. }
            | Event::Advocated { client, .. }
            | Event::ClientLost { client, .. }
            | Event::ClientReturned { client, .. } => Some(client),
            Event::PromiseMoved { .. }
            | Event::PromiseKept { .. }
            | Event::PromiseBroken { .. }
            | Event::PromiseReleased { .. }
            | Event::Retracted { .. } => None,
        }
    }

    /// The promise this event is about, if any.
    pub fn promise(&self) -> Option<PromiseId> {
        match self {
            Event::PromiseMade { promise, .. }
            | Event::PromiseMoved { promise, .. }
            | Event::PromiseKept { promise, .. }
            | Event::PromiseBroken { promise, .. }
            | Event::PromiseReleased { promise, .. } => Some(*promise),
            _ => None,
        }
    }
}

/// All variant names, in enum order (for `--kind` validation and docs).
pub const EVENT_KINDS: [&str; 14] = [
    "ClientAdded",
    "FitChanged",
    "ExpectationNoted",
    "MismatchNoted",
    "Interacted",
    "PromiseMade",
    "PromiseMoved",
    "PromiseKept",
    "PromiseBroken",
    "PromiseReleased",
    "Advocated",
    "ClientLost",
    "ClientReturned",
    "Retracted",
];

macro_rules! word_enum {
    ($ty:ty, $what:literal, $( $variant:path => $word:literal ),+ $(,)?) => {
        impl $ty {
            /// The word users type and read (CLI, JSON, CSV).
            pub fn as_str(self) -> &'static str {
                match self { $( $variant => $word ),+ }
            }
            /// Every accepted word, for error messages and completions.
            pub const WORDS: &'static [&'static str] = &[$( $word ),+];
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.to_ascii_lowercase().as_str() {
                    $( $word => Ok($variant), )+
                    other => Err(format!(
                        "unknown {} {:?}: expected one of {}",
                        $what,
                        other,
                        Self::WORDS.join(", ")
                    )),
                }
            }
        }
    };
}

word_enum!(Fit, "fit", Fit::Target => "target", Fit::OffTarget => "off-target");
word_enum!(
    InteractionKind,
    "interaction kind",
    InteractionKind::Meeting => "meeting",
    InteractionKind::Call => "call",
    InteractionKind::Email => "email",
    InteractionKind::Message => "message",
    InteractionKind::Visit => "visit",
    InteractionKind::Delivery => "delivery",
    InteractionKind::Other => "other",
);
word_enum!(Party, "party", Party::Us => "us", Party::Client => "client");
word_enum!(
    Cause,
    "cause",
    Cause::Us => "us",
    Cause::Client => "client",
    Cause::External => "external",
);
word_enum!(
    AdvocacyKind,
    "advocacy kind",
    AdvocacyKind::Referral => "referral",
    AdvocacyKind::Testimonial => "testimonial",
    AdvocacyKind::Upsell => "upsell",
    AdvocacyKind::CrossSell => "cross-sell",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for w in Cause::WORDS {
            let c: Cause = w.parse().unwrap();
            assert_eq!(c.as_str(), *w);
        }
        assert_eq!("OFF-TARGET".parse::<Fit>(), Ok(Fit::OffTarget));
        let err = "later".parse::<Cause>().unwrap_err();
        assert!(
            err.contains("\"later\"") && err.contains("us, client, external"),
            "{err}"
        );
    }
}
