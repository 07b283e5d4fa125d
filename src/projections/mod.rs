//! Projections: pure folds of the event stream into answers. No I/O, no
//! clock: time comes in as a value. Each question (state, due, audit, trust,
//! post-mortem) is its own projection.
//!
//! Retractions: an event whose seq is in the retracted set is not applied;
//! the driver calls `skip` for it instead, so a projection can still count it
//! (for example to never reuse a promise id). The retracted set is computed
//! from the whole stream being replayed (see `retracted_set`), so a fold over
//! the filtered stream is an ordinary left fold: replaying in one pass equals
//! replaying in any split, which checkpoints rely on.
//!
//! The projections and what they answer (each module's docs give its API):
//!
//! | module | projection | query |
//! |---|---|---|
//! | `state` | [`state::State`] | clients, promises; what recording validates against |
//! | `status` | [`status::Status`] (`State` + `Trust`) | [`status::Status::report`] / [`status::report`]: one row per client |
//! | `due` | [`due::DueList`] | [`due::DueList::report`]: open promises, soonest first |
//! | `audit` | [`audit::Audit`] | [`audit::Audit::report`]: the deadline audit of SPEC.md |
//! | `trust` | [`trust::Trust`] | [`trust::Trust::report`]: score and history per client |
//! | `postmortem` | [`postmortem::Postmortem`] | [`postmortem::Postmortem::report`] |
//!
//! Time travel (`--as-of T`): [`as_of`] keeps the envelopes recorded by `T`;
//! the retracted set must be computed from that cut stream (a retraction
//! recorded after `T` was not known at `T`). [`replay_as_of`] does both.
//!
//! Several projections can be fed in one pass: `&mut P` and tuples of up to
//! five projections are projections themselves.
//!
//! JSON: every report is `serde::Serialize`; times are RFC 3339 (UTC),
//! enums are the words users type, scores are numbers from 0 to 100.
//! Messages (flags, warnings, reasons) are for people: times in them are
//! local.

use std::collections::HashSet;

use crate::events::{Envelope, EnvelopeRef, Event, Seq, Timestamp};

pub mod audit;
pub mod due;
pub mod postmortem;
pub mod state;
pub mod status;
pub mod table;
pub mod trust;
pub mod views;
pub mod words;

/// A fold over the event stream. Events come as [`EnvelopeRef`]s, whose
/// text borrows from the record being read, so replay allocates only what
/// a projection decides to keep; `Envelope::as_ref` gives one from an owned
/// envelope.
pub trait Projection {
    fn apply(&mut self, env: &EnvelopeRef<'_>);
    /// Called instead of `apply` for a retracted event.
    fn skip(&mut self, _env: &EnvelopeRef<'_>) {}
    /// `apply`, with the event's client handle (`EventRef::client`)
    /// interned by the replay driver as `key` (`None`: not interned). A
    /// projection may use it to find the client by index (see
    /// [`table::HandleMap::index_of_keyed`]); the default ignores it.
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, _key: Option<ClientKey>) {
        self.apply(env)
    }
}

/// A client handle interned by the replay driver ([`table::Interner`]):
/// within one run (`run`, unique per interner in the process) the same
/// handle always has the same `id`, and two handles never share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientKey {
    pub run: u32,
    pub id: u32,
}

/// The seqs that `Retracted` events in `envs` point at.
pub fn retracted_set<'a>(envs: impl IntoIterator<Item = &'a Envelope>) -> HashSet<Seq> {
    envs.into_iter()
        .filter_map(|e| match e.event {
            Event::Retracted { seq, .. } => Some(seq),
            _ => None,
        })
        .collect()
}

/// Feeds one envelope to a projection, honouring retractions.
pub fn feed<P: Projection + ?Sized>(p: &mut P, env: &Envelope, retracted: &HashSet<Seq>) {
    feed_ref(p, &env.as_ref(), retracted)
}

/// [`feed`] for a borrowed envelope (what replay decodes).
pub fn feed_ref<P: Projection + ?Sized, H: std::hash::BuildHasher>(
    p: &mut P,
    env: &EnvelopeRef<'_>,
    retracted: &HashSet<Seq, H>,
) {
    if retracted.contains(&env.seq) {
        p.skip(env);
    } else {
        p.apply(env);
    }
}

/// [`feed_ref`] with the event's client handle interned as `key`.
#[inline]
pub fn feed_keyed<P: Projection + ?Sized, H: std::hash::BuildHasher>(
    p: &mut P,
    env: &EnvelopeRef<'_>,
    key: Option<ClientKey>,
    retracted: &HashSet<Seq, H>,
) {
    if retracted.contains(&env.seq) {
        p.skip(env);
    } else {
        p.apply_keyed(env, key);
    }
}

/// Replays a whole slice into a projection.
pub fn replay<'a, P: Projection>(
    p: &mut P,
    envs: impl IntoIterator<Item = &'a Envelope>,
    retracted: &HashSet<Seq>,
) {
    for e in envs {
        feed(p, e, retracted);
    }
}

/// The envelopes known at `t`: those with `recorded_at <= t`, in journal
/// order. This is a filter, not a prefix cut: a record appended with a clock
/// pinned earlier than its predecessors (`--now`) still counts when its own
/// `recorded_at` is `<= t`. For a journal whose `recorded_at` never goes
/// backwards (the normal case) it is exactly the journal cut at the last
/// event recorded by `t`.
///
/// Compute the retracted set from this cut stream, never from the whole
/// journal: a retraction recorded after `t` was not known at `t`.
pub fn as_of<'a, I>(envs: I, t: Timestamp) -> impl Iterator<Item = &'a Envelope>
where
    I: IntoIterator<Item = &'a Envelope>,
{
    envs.into_iter().filter(move |e| e.recorded_at <= t)
}

/// Replays into `p` what was known at `t` (everything when `t` is `None`),
/// with the retracted set computed from that same cut. Returns the set.
pub fn replay_as_of<P: Projection + ?Sized>(
    p: &mut P,
    envs: &[Envelope],
    t: Option<Timestamp>,
) -> HashSet<Seq> {
    let t = t.unwrap_or(Timestamp(i64::MAX));
    let retracted = retracted_set(as_of(envs, t));
    for e in as_of(envs, t) {
        feed(p, e, &retracted);
    }
    retracted
}

/// A mutable borrow of a projection is a projection, so several can be fed
/// together: `replay(&mut (&mut state, &mut trust), …)`.
impl<P: Projection + ?Sized> Projection for &mut P {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        (**self).apply(env)
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        (**self).skip(env)
    }
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        (**self).apply_keyed(env, key)
    }
}

macro_rules! tuple_projection {
    ($($name:ident . $idx:tt),+) => {
        /// A tuple of projections is fed in one pass over the stream.
        impl<$($name: Projection),+> Projection for ($($name,)+) {
            fn apply(&mut self, env: &EnvelopeRef<'_>) {
                $(self.$idx.apply(env);)+
            }
            fn skip(&mut self, env: &EnvelopeRef<'_>) {
                $(self.$idx.skip(env);)+
            }
            fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
                $(self.$idx.apply_keyed(env, key);)+
            }
        }
    };
}
tuple_projection!(A.0, B.1);
tuple_projection!(A.0, B.1, C.2);
tuple_projection!(A.0, B.1, C.2, D.3);
tuple_projection!(A.0, B.1, C.2, D.3, E.4);

/// Seconds in a day; "days late" and "days overdue" are counted in these.
pub const DAY_SECONDS: i64 = 86_400;

/// Whole days from `from` to `to`, rounded up (one second late is one day
/// late: a date-only due ends at 23:59:59, so a delivery at 00:00:00 the
/// next day is a day late); 0 when `to` is not after `from`.
pub fn days_after(from: Timestamp, to: Timestamp) -> i64 {
    // In microseconds: a date-only due ends at 23:59:59.999999, and a
    // delivery one microsecond later is late.
    let us = to.0.saturating_sub(from.0);
    let day = DAY_SECONDS * Timestamp::MICROS_PER_SECOND;
    if us <= 0 {
        0
    } else {
        us / day + i64::from(us % day != 0)
    }
}

/// Serde helpers so reports print times as RFC 3339 (UTC) and enums as the
/// words users type, as the rest of the JSON output does.
pub(crate) mod ser {
    use serde::Serializer;

    use crate::events::{Fit, Timestamp};

    pub fn ts<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub fn opt_ts<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_rfc3339()),
            None => s.serialize_none(),
        }
    }

    pub fn interaction<S: Serializer>(
        k: &crate::events::InteractionKind,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub fn fit<S: Serializer>(f: &Fit, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.as_str())
    }

    /// Scores are kept in hundredths of a point (exact integer arithmetic,
    /// so a replay split anywhere gives the same bits) and printed as
    /// numbers with at most two decimals.
    pub fn centi<S: Serializer>(c: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(*c as f64 / 100.0)
    }
}

/// Given/when/then helpers for the projections' unit tests: build a stream
/// of envelopes with explicit times, then replay it with retractions.
#[cfg(test)]
pub(crate) mod testkit {
    use super::{replay, retracted_set, Projection};
    use crate::events::*;

    /// Seconds since the epoch as a `Timestamp`.
    pub fn t(secs: i64) -> Timestamp {
        Timestamp(secs * Timestamp::MICROS_PER_SECOND)
    }

    pub fn due(at: Timestamp) -> Due {
        Due {
            at,
            date_only: false,
        }
    }

    /// The stream under construction. Events without an explicit time are
    /// recorded (and occur) at `clock`, which then advances by one second.
    pub struct Given {
        pub envs: Vec<Envelope>,
        pub clock: Timestamp,
    }

    impl Given {
        pub fn new() -> Self {
            Given {
                envs: Vec::new(),
                clock: t(0),
            }
        }

        pub fn at(&mut self, clock: Timestamp) -> &mut Self {
            self.clock = clock;
            self
        }

        pub fn push_at(&mut self, recorded: Timestamp, occurred: Timestamp, event: Event) -> Seq {
            let seq = self.envs.len() as Seq + 1;
            self.envs.push(Envelope {
                seq,
                recorded_at: recorded,
                occurred_at: occurred,
                author: "test".into(),
                event,
            });
            seq
        }

        pub fn push(&mut self, event: Event) -> Seq {
            let at = self.clock;
            self.clock = at.plus_seconds(1);
            self.push_at(at, at, event)
        }

        pub fn client(&mut self, handle: &str) -> Seq {
            self.client_fit(handle, Fit::Target)
        }

        pub fn client_fit(&mut self, handle: &str, fit: Fit) -> Seq {
            self.push(Event::ClientAdded {
                handle: handle.into(),
                name: handle.to_uppercase(),
                fit,
                note: String::new(),
            })
        }

        pub fn promise(&mut self, id: PromiseId, client: &str, at: Timestamp) -> Seq {
            self.push(Event::PromiseMade {
                promise: id,
                client: client.into(),
                what: format!("deliverable {id}"),
                due: due(at),
            })
        }

        pub fn moved(&mut self, id: PromiseId, to: Timestamp, cause: Cause, agreed: bool) -> Seq {
            self.push(Self::move_event(id, to, cause, agreed))
        }

        pub fn move_event(id: PromiseId, to: Timestamp, cause: Cause, agreed: bool) -> Event {
            Event::PromiseMoved {
                promise: id,
                due: due(to),
                cause,
                agreed_by_client: agreed,
                reason: "because".into(),
            }
        }

        /// Kept at `at` (recorded then too).
        pub fn keep(&mut self, id: PromiseId, at: Timestamp) -> Seq {
            self.push_at(
                at,
                at,
                Event::PromiseKept {
                    promise: id,
                    note: String::new(),
                },
            )
        }

        pub fn broken(&mut self, id: PromiseId) -> Seq {
            self.push(Event::PromiseBroken {
                promise: id,
                reason: "cannot".into(),
            })
        }

        pub fn released(&mut self, id: PromiseId) -> Seq {
            self.push(Event::PromiseReleased {
                promise: id,
                reason: "agreed".into(),
            })
        }

        pub fn talk(
            &mut self,
            client: &str,
            kind: InteractionKind,
            mood: i8,
            minutes: Option<u32>,
        ) -> Seq {
            self.push(Event::Interacted {
                client: client.into(),
                kind,
                mood,
                minutes,
                initiated_by: Party::Us,
                note: String::new(),
            })
        }

        pub fn retract(&mut self, seq: Seq, reason: &str) -> Seq {
            self.push(Event::Retracted {
                seq,
                reason: reason.into(),
            })
        }

        pub fn replay_into<P: Projection>(&self, p: &mut P) {
            let r = retracted_set(&self.envs);
            replay(p, &self.envs, &r);
        }

        pub fn replay<P: Projection + Default>(&self) -> P {
            let mut p = P::default();
            self.replay_into(&mut p);
            p
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use crate::events::InteractionKind;

    #[test]
    fn days_after_rounds_up_and_never_goes_negative() {
        assert_eq!(days_after(t(0), t(0)), 0);
        assert_eq!(days_after(t(0), t(1)), 1);
        assert_eq!(days_after(t(0), t(DAY_SECONDS)), 1);
        assert_eq!(days_after(t(0), t(DAY_SECONDS + 1)), 2);
        assert_eq!(days_after(t(10), t(0)), 0);
    }

    #[test]
    fn as_of_filters_on_recorded_at_and_forgets_later_retractions() {
        // Given a talk recorded at 10, retracted at 30, and a record whose
        // clock was pinned back to 5 although appended last
        let mut g = Given::new();
        g.at(t(1));
        g.client("acme");
        g.at(t(10));
        let talk = g.talk("acme", InteractionKind::Call, 1, None);
        g.at(t(30));
        g.retract(talk, "no");
        g.at(t(5));
        g.talk("acme", InteractionKind::Call, 1, None);
        // When asking as of 20
        let seqs: Vec<Seq> = as_of(&g.envs, t(20)).map(|e| e.seq).collect();
        // Then the late-appended record dated 5 counts, the retraction does not
        assert_eq!(seqs, [1, 2, 4]);
        let mut s = state::State::new();
        let retracted = replay_as_of(&mut s, &g.envs, Some(t(20)));
        assert!(retracted.is_empty(), "the retraction was recorded after 20");
        let mut s = state::State::new();
        assert_eq!(replay_as_of(&mut s, &g.envs, None).len(), 1);
    }

    #[test]
    fn a_tuple_of_projections_is_fed_in_one_pass() {
        let mut g = Given::new();
        g.client("acme");
        g.talk("acme", InteractionKind::Call, 2, None);
        let mut both = (state::State::new(), trust::Trust::default());
        g.replay_into(&mut both);
        assert!(both.0.clients.contains_key("acme"));
        assert_eq!(both.1.score("acme"), Some(62.0));
        let (mut s, mut tr) = (state::State::new(), trust::Trust::default());
        g.replay_into(&mut (&mut s, &mut tr));
        assert_eq!((s, tr), both);
    }
}
