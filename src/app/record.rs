//! What a recording says, before the journal gives it a number: one
//! variant per recording command, with values already parsed (times are
//! timestamps, not WHEN strings). [`Recording::to_event`] turns it into
//! the event the journal stores, applying the rules an event obeys by
//! itself (`app::rules::fields`); the rules against the journal are the
//! journal handle's, under the writer's lock.

use crate::app::rules::{self, RuleError};
use crate::events::{AdvocacyKind, Cause, Due, Event, Fit, InteractionKind, Party, PromiseId, Seq};

/// One recording, as a user asks for it.
#[derive(Debug, Clone, PartialEq)]
pub enum Recording {
    /// A new client; `name` defaults to the handle.
    ClientAdd {
        handle: String,
        name: Option<String>,
        fit: Fit,
        note: String,
    },
    ClientFit {
        client: String,
        fit: Fit,
        reason: String,
    },
    /// What the client says they want.
    Expectation {
        client: String,
        text: String,
    },
    /// "Not what I expected".
    Mismatch {
        client: String,
        text: String,
    },
    ClientLost {
        client: String,
        reason: String,
    },
    ClientBack {
        client: String,
        note: String,
    },
    Praise {
        client: String,
        kind: AdvocacyKind,
        by_client: bool,
        note: String,
    },
    /// An interaction. `mood` (−2..2) and `minutes` (0..1440) are checked
    /// by the rules, so they are wide here.
    Talk {
        client: String,
        kind: InteractionKind,
        mood: i64,
        minutes: Option<i64>,
        by: Party,
        note: String,
    },
    /// A promise; the journal gives it the next promise id.
    PromiseMake {
        client: String,
        what: String,
        due: Due,
    },
    PromiseMove {
        promise: PromiseId,
        due: Due,
        cause: Cause,
        agreed: bool,
        reason: String,
    },
    PromiseKeep {
        promise: PromiseId,
        note: String,
    },
    PromiseBreak {
        promise: PromiseId,
        reason: String,
    },
    PromiseRelease {
        promise: PromiseId,
        reason: String,
    },
    Retract {
        seq: Seq,
        reason: String,
    },
}

/// What validating a recording reads of the journal when it accepts it.
pub(crate) enum Reads<'a> {
    /// One client (by handle), and the counters.
    Client(&'a str),
    /// One open promise, and the counters.
    Promise(PromiseId),
    /// The whole state: `retract` asks for the kind of any event, and
    /// whether it added a client with open promises.
    All,
}

impl Recording {
    pub(crate) fn reads(&self) -> Reads<'_> {
        use Recording as R;
        match self {
            R::ClientAdd { handle: c, .. }
            | R::ClientFit { client: c, .. }
            | R::Expectation { client: c, .. }
            | R::Mismatch { client: c, .. }
            | R::ClientLost { client: c, .. }
            | R::ClientBack { client: c, .. }
            | R::Praise { client: c, .. }
            | R::Talk { client: c, .. }
            | R::PromiseMake { client: c, .. } => Reads::Client(c),
            R::PromiseMove { promise, .. }
            | R::PromiseKeep { promise, .. }
            | R::PromiseBreak { promise, .. }
            | R::PromiseRelease { promise, .. } => Reads::Promise(*promise),
            R::Retract { .. } => Reads::All,
        }
    }

    /// The event, its texts trimmed, numbered `promise` when it makes one;
    /// refused when it breaks a rule that needs no journal to check.
    pub fn to_event(&self, promise: PromiseId) -> Result<Event, RuleError> {
        use Recording as R;
        let t = |s: &str| s.trim().to_string();
        let event = match self {
            R::ClientAdd {
                handle,
                name,
                fit,
                note,
            } => {
                // The handle first: a name defaults to it.
                rules::handle(handle)?;
                Event::ClientAdded {
                    handle: handle.clone(),
                    name: name.as_deref().map_or_else(|| handle.clone(), t),
                    fit: *fit,
                    note: t(note),
                }
            }
            R::ClientFit {
                client,
                fit,
                reason,
            } => Event::FitChanged {
                client: client.clone(),
                fit: *fit,
                reason: t(reason),
            },
            R::Expectation { client, text } => Event::ExpectationNoted {
                client: client.clone(),
                text: t(text),
            },
            R::Mismatch { client, text } => Event::MismatchNoted {
                client: client.clone(),
                text: t(text),
            },
            R::ClientLost { client, reason } => Event::ClientLost {
                client: client.clone(),
                reason: t(reason),
            },
            R::ClientBack { client, note } => Event::ClientReturned {
                client: client.clone(),
                note: t(note),
            },
            R::Praise {
                client,
                kind,
                by_client,
                note,
            } => Event::Advocated {
                client: client.clone(),
                kind: *kind,
                initiated_by_client: *by_client,
                note: t(note),
            },
            R::Talk {
                client,
                kind,
                mood,
                minutes,
                by,
                note,
            } => Event::Interacted {
                client: client.clone(),
                kind: *kind,
                mood: rules::mood(*mood)?,
                minutes: minutes.map(rules::minutes).transpose()?,
                initiated_by: *by,
                note: t(note),
            },
            R::PromiseMake { client, what, due } => Event::PromiseMade {
                promise,
                client: client.clone(),
                what: t(what),
                due: *due,
            },
            R::PromiseMove {
                promise,
                due,
                cause,
                agreed,
                reason,
            } => Event::PromiseMoved {
                promise: *promise,
                due: *due,
                cause: *cause,
                agreed_by_client: *agreed,
                reason: t(reason),
            },
            R::PromiseKeep { promise, note } => Event::PromiseKept {
                promise: *promise,
                note: t(note),
            },
            R::PromiseBreak { promise, reason } => Event::PromiseBroken {
                promise: *promise,
                reason: t(reason),
            },
            R::PromiseRelease { promise, reason } => Event::PromiseReleased {
                promise: *promise,
                reason: t(reason),
            },
            R::Retract { seq, reason } => Event::Retracted {
                seq: *seq,
                reason: t(reason),
            },
        };
        rules::fields(&event)?;
        Ok(event)
    }
}
