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
