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

/// A field type of an event, and its borrowed form in [`EventRef`]: text
/// borrows from the record, everything else is copied.
pub trait Field {
    type Ref<'a>: Copy;
    fn borrow(&self) -> Self::Ref<'_>;
    fn own(r: Self::Ref<'_>) -> Self;
}

impl Field for String {
    type Ref<'a> = &'a str;
    fn borrow(&self) -> &str {
        self
    }
    fn own(r: &str) -> Self {
        r.to_string()
    }
}

macro_rules! copied_fields {
    ($($t:ty),*) => {$(
        impl Field for $t {
            type Ref<'a> = $t;
            fn borrow(&self) -> $t {
                *self
            }
            fn own(r: $t) -> Self {
                r
            }
        }
    )*};
}
copied_fields!(
    u64,
    i8,
    bool,
    Option<u32>,
    Due,
    Fit,
    InteractionKind,
    Party,
    Cause,
    AdvocacyKind
);

/// Text in an event: `String` in [`Event`], `&str` in [`EventRef`].
pub type Text = String;

/// Minutes of an interaction; `None` when the user did not say.
pub type Minutes = Option<u32>;

/// A field type in [`EventRef`]: text borrows, the rest is the same type.
macro_rules! borrowed {
    (Text, $a:lifetime) => {
        &$a str
    };
    ($t:ident, $a:lifetime) => {
        $t
    };
}

/// `Some` of a field's value when its role is the one asked for, else `None`.
macro_rules! role_value {
    (client, client, $v:expr) => {
        Some($v)
    };
    (promise, promise, $v:expr) => {
        Some($v)
    };
    (seq, retracted, $v:expr) => {
        Some($v)
    };
    (seq, amended, $v:expr) => {
        Some($v)
    };
    ($want:ident, $($have:ident)?, $v:expr) => {
        None
    };
}

/// A field's value with its reference (role `promise`, `retracted` or
/// `amended`)
/// replaced by 0.
macro_rules! unreferenced {
    (promise, $v:expr) => {
        0
    };
    (retracted, $v:expr) => {
        0
    };
    (amended, $v:expr) => {
        0
    };
    ($($role:ident)?, $v:expr) => {
        $v
    };
}

/// THE LIST OF EVENT KINDS. Each variant with its fields, in order; each
/// field with its type (one name: `Text` for text, an alias for a compound
/// type), its JSON key and, where it has one, its role
/// (`@client`: the client it names; `@promise`: the promise it is about;
/// `@retracted`: the seq it retracts; `@amended`: the seq it amends). From it come [`Event`],
/// [`EventRef`], [`EVENT_KINDS`], the kind names and indices, the
/// accessors (`client`, `promise`, `without_reference`), the conversions
/// between the two, the JSON fields ([`super::json`]) and the serde form
/// that bincode stores (`codec`) and import identities digest.
///
/// To add an event kind (checked by adding a dummy variant: the compiler
/// then points at exactly the matches of steps 3 and 4):
/// 1. add the variant at the END of this list (the variant index is the
///    on-disk tag: never reorder, never change a released variant). This
///    alone gives its Rust types, name, index, accessors, JSON form
///    (`--json`, export, import, both import readers) and import identity;
/// 2. only for a field type not used yet: `Field` (`copied_fields!` below),
///    `Wire` (the fast bincode reader, `events/codec.rs`) and `JsonField`
///    (`events/json.rs`, with a `Source` method for a new JSON shape); a
///    word enum gets all three from `word_enum!`; a compound type gets a
///    one-name alias (as `Minutes`);
/// 3. its words: `describe` in `projections/words.rs` (the one renderer
///    of events for people);
/// 4. what it means: its validation (`app/rules.rs`, for recording and
///    import alike; a `Recording` variant in `app/record.rs` and its clap
///    arguments in `cli/record.rs` when users record it from the shell)
///    and the projections that fold it (`projections/state.rs`, `audit/`,
///    `trust/`);
/// 5. tests: a line in `tests/fixtures/v1.golden` (and the fixture
///    journal), and an entry in the `every_kind` lists (`events/json.rs`,
///    `app/import/identity.rs`), whose identity digest is then pinned in
///    `GOLDEN`.
macro_rules! event_kinds {
    ($(
        $(#[$vdoc:meta])*
        $variant:ident {
            $( $(#[$fdoc:meta])* $field:ident : $ty:ident = $key:literal $(@ $role:ident)? ),* $(,)?
        }
    ),* $(,)?) => {
        /// One domain event. APPEND-ONLY: new variants go at the end; never
        /// reorder, never change the fields of a released variant.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Event {
            $( $(#[$vdoc])* $variant { $( $(#[$fdoc])* $field: $ty ),* } ),*
        }

        /// A decoded event that borrows its text from the record it was
        /// read from: replay decodes into this, so folding a journal
        /// allocates no string per event. Same variants, same order, same
        /// fields as [`Event`], with `&str` for `String` (the codec decodes
        /// the same bytes into either; a test in `codec` pins that they
        /// agree on every variant). Serialised, it is what `Event` is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum EventRef<'a> {
            $( $variant { $( #[serde(borrow)] $field: borrowed!($ty, 'a) ),* } ),*
        }

        /// The variants, for their index.
        #[allow(dead_code)]
        enum Kind {
            $( $variant ),*
        }

        /// All variant names, in enum order (for `--kind` validation and docs).
        pub const EVENT_KINDS: [&str; [$(stringify!($variant)),*].len()] =
            [$(stringify!($variant)),*];

        impl<'a> EventRef<'a> {
            /// The variant's index in the enum (and in [`EVENT_KINDS`]).
            pub fn kind_index(&self) -> usize {
                match self {
                    $( EventRef::$variant { .. } => Kind::$variant as usize ),*
                }
            }

            /// The client this event names directly (promise events name a
            /// promise, whose client is known only to a projection).
            #[allow(unused_variables)]
            pub fn client(&self) -> Option<&'a str> {
                match *self {
                    $( EventRef::$variant { $($field),* } => {
                        None $( .or(role_value!(client, $($role)?, $field)) )*
                    } )*
                }
            }

            /// The promise this event is about, if any.
            #[allow(unused_variables)]
            pub fn promise(&self) -> Option<PromiseId> {
                match *self {
                    $( EventRef::$variant { $($field),* } => {
                        None $( .or(role_value!(promise, $($role)?, $field)) )*
                    } )*
                }
            }

            /// The earlier record this event refers to by seq (the one it
            /// retracts or amends), if any.
            #[allow(unused_variables)]
            pub fn seq_ref(&self) -> Option<Seq> {
                match *self {
                    $( EventRef::$variant { $($field),* } => {
                        None $( .or(role_value!(seq, $($role)?, $field)) )*
                    } )*
                }
            }

            /// This event with its reference (promise id, retracted seq)
            /// set to 0: what an import identity digests.
            #[allow(unused_variables)]
            pub fn without_reference(&self) -> Self {
                match *self {
                    $( EventRef::$variant { $($field),* } => EventRef::$variant {
                        $( $field: unreferenced!($($role)?, $field) ),*
                    } ),*
                }
            }

            /// An owned copy.
            pub fn to_owned(&self) -> Event {
                match *self {
                    $( EventRef::$variant { $($field),* } => Event::$variant {
                        $( $field: <$ty as Field>::own($field) ),*
                    } ),*
                }
            }

            /// Reads the fields of the kind with index `tag` in bincode's
            /// canonical form (`codec`'s fast reader); `None` for a tag
            /// there is not or bytes it is not sure of.
            pub(super) fn read_wire(
                tag: u32,
                r: &mut super::codec::fast::R<'a>,
            ) -> Option<Self> {
                use super::codec::fast::Wire;
                Some(match tag {
                    $( t if t == Kind::$variant as u32 => EventRef::$variant {
                        $( $field: <borrowed!($ty, 'a) as Wire<'a>>::wire(r)? ),*
                    }, )*
                    _ => return None,
                })
            }

            /// Writes the event's own fields under their JSON keys.
            pub(super) fn write_json(&self, out: &mut super::json::JsonMap) {
                match *self {
                    $( EventRef::$variant { $($field),* } => {
                        $( <$ty as super::json::JsonField>::write($field, $key, out); )*
                    } )*
                }
            }
        }

        impl Event {
            /// The borrowed view of this event.
            pub fn as_ref(&self) -> EventRef<'_> {
                match self {
                    $( Event::$variant { $($field),* } => EventRef::$variant {
                        $( $field: Field::borrow($field) ),*
                    } ),*
                }
            }

            /// Reads the fields of an event of kind `kind` from `src`, in
            /// the order of the list; `None` for a kind there is not.
            pub(super) fn read_json<S: super::json::Source>(
                kind: &str,
                src: &mut S,
            ) -> Option<Result<Event, S::Error>> {
                let mut read = || -> Option<Result<Event, S::Error>> {
                    Some(match kind {
                        $( stringify!($variant) => (|| Ok(Event::$variant {
                            $( $field: <$ty as super::json::JsonField>::read(&mut *src, $key)? ),*
                        }))(), )*
                        _ => return None,
                    })
                };
                read()
            }
        }
    };
}

event_kinds! {
    ClientAdded {
        handle: Text = "client" @client,
        name: Text = "name",
        fit: Fit = "fit",
        note: Text = "note",
    },
    FitChanged {
        client: Text = "client" @client,
        fit: Fit = "fit",
        reason: Text = "reason",
    },
    ExpectationNoted {
        client: Text = "client" @client,
        text: Text = "text",
    },
    MismatchNoted {
        client: Text = "client" @client,
        text: Text = "text",
    },
    Interacted {
        client: Text = "client" @client,
        kind: InteractionKind = "interaction",
        /// −2 (very bad) ..= +2 (very good); 0 is neutral.
        mood: i8 = "mood",
        /// Length of the contact; `None` when the user did not say.
        minutes: Minutes = "minutes",
        initiated_by: Party = "by",
        note: Text = "note",
    },
    PromiseMade {
        promise: PromiseId = "promise" @promise,
        client: Text = "client" @client,
        what: Text = "what",
        due: Due = "due",
    },
    PromiseMoved {
        promise: PromiseId = "promise" @promise,
        due: Due = "due",
        cause: Cause = "cause",
        agreed_by_client: bool = "agreed",
        reason: Text = "reason",
    },
    PromiseKept {
        promise: PromiseId = "promise" @promise,
        note: Text = "note",
    },
    PromiseBroken {
        promise: PromiseId = "promise" @promise,
        reason: Text = "reason",
    },
    PromiseReleased {
        promise: PromiseId = "promise" @promise,
        reason: Text = "reason",
    },
    Advocated {
        client: Text = "client" @client,
        kind: AdvocacyKind = "advocacy",
        initiated_by_client: bool = "by_client",
        note: Text = "note",
    },
    ClientLost {
        client: Text = "client" @client,
        reason: Text = "reason",
    },
    ClientReturned {
        client: Text = "client" @client,
        note: Text = "note",
    },
    Retracted {
        seq: Seq = "retracted" @retracted,
        reason: Text = "reason",
    },
    /// The client's handle and/or display name changed. Both new values are
    /// stated in full (an unchanged one repeats the current value), so the
    /// event alone says who the client is from here on.
    ClientRenamed {
        client: Text = "client" @client,
        handle: Text = "new_client",
        name: Text = "new_name",
    },
    /// A correction of an earlier event's text (its note, reason, text or
    /// what): `text` supersedes that text from here on; the log keeps both.
    /// Times, dues, causes and outcomes are never changed by it.
    Amended {
        seq: Seq = "amended" @amended,
        text: Text = "text",
        reason: Text = "reason",
    },
    /// Something was delivered toward an open promise without closing it.
    PromiseDelivered {
        promise: PromiseId = "promise" @promise,
        note: Text = "note",
    },
    /// The client's stay-in-touch cadence: contact is due `every` seconds
    /// after the last contact; 0 turns the cadence off.
    CadenceSet {
        client: Text = "client" @client,
        every: u64 = "every_seconds",
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

impl EventRef<'_> {
    /// The stable name of the variant, as [`Event::kind_name`].
    pub fn kind_name(&self) -> &'static str {
        EVENT_KINDS[self.kind_index()]
    }
}

impl Event {
    /// The stable name of the variant, as used by `log --kind`, JSON and CSV.
    pub fn kind_name(&self) -> &'static str {
        self.as_ref().kind_name()
    }

    /// The variant's index in the enum (and in [`EVENT_KINDS`]).
    pub fn kind_index(&self) -> usize {
        self.as_ref().kind_index()
    }

    /// The client this event names directly (promise events name a promise,
    /// whose client is known only to a projection).
    pub fn client(&self) -> Option<&str> {
        self.as_ref().client()
    }

    /// The promise this event is about, if any.
    pub fn promise(&self) -> Option<PromiseId> {
        self.as_ref().promise()
    }
}

macro_rules! word_enum {
    ($ty:ty, $what:literal, $( $variant:path => $word:literal ),+ $(,)?) => {
        impl $ty {
            /// The word users type and read (CLI, JSON, CSV).
            pub fn as_str(self) -> &'static str {
                match self { $( $variant => $word ),+ }
            }
            /// Every accepted word, for error messages and completions.
            pub const WORDS: &'static [&'static str] = &[$( $word ),+];
            /// Every value, in the order of the words (and of the
            /// declaration: bincode's variant index; a test checks it).
            pub const ALL: &'static [$ty] = &[$( $variant ),+];
        }
        impl<'a> super::codec::fast::Wire<'a> for $ty {
            fn wire(r: &mut super::codec::fast::R<'a>) -> Option<Self> {
                Self::ALL.get(usize::try_from(r.u32()?).ok()?).copied()
            }
        }
        impl super::json::JsonField for $ty {
            fn write(v: Self, key: &'static str, out: &mut super::json::JsonMap) {
                out.insert(key.into(), v.as_str().into());
            }
            fn read<S: super::json::Source>(src: &mut S, key: &'static str) -> Result<Self, S::Error> {
                src.word(key)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                // The exact word first: no allocation for the usual case.
                match s {
                    $( $word => return Ok($variant), )+
                    _ => {}
                }
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
