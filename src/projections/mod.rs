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

use std::collections::HashSet;

use crate::events::{Envelope, Event, Seq};

pub mod state;

pub trait Projection {
    fn apply(&mut self, env: &Envelope);
    /// Called instead of `apply` for a retracted event.
    fn skip(&mut self, _env: &Envelope) {}
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
    if retracted.contains(&env.seq) {
        p.skip(env);
    } else {
        p.apply(env);
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
