//! The current state: clients, promises and what the recording commands
//! validate against (is this handle taken, is this promise still open, can
//! this event be retracted).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::table::{HandleMap, IdMap};
use super::{ClientKey, Projection};
use crate::events::{Due, EnvelopeRef, EventRef, Fit, PromiseId, Seq, Timestamp, EVENT_KINDS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub handle: String,
    pub name: String,
    pub fit: Fit,
    pub added_at: Timestamp,
    /// The seq of the `ClientAdded` event.
    pub added_seq: Seq,
    /// Set while the client is lost: when and why.
    pub lost: Option<(Timestamp, String)>,
    /// Latest `occurred_at` of an interaction with this client.
    pub last_contact: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromiseStatus {
    Open,
    Kept,
    Broken,
    Released,
}

impl PromiseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseStatus::Open => "open",
            PromiseStatus::Kept => "kept",
            PromiseStatus::Broken => "broken",
            PromiseStatus::Released => "released",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub id: PromiseId,
    pub client: String,
    pub what: String,
    pub made_seq: Seq,
    /// `occurred_at` of the promise: when it was made.
    pub made_at: Timestamp,
    pub original_due: Due,
    pub due: Due,
    pub moves: u32,
    pub status: PromiseStatus,
    /// When it was kept, broken or released (`occurred_at`), and the seq.
    pub closed: Option<(Timestamp, Seq)>,
}

/// `kinds` entry of a seq with no event (a hole, or not yet seen).
const NO_KIND: u8 = u8::MAX;

/// The state. Its *hot* part (its serde form; a checkpoint stores it in a
/// layout of its own, see `cli::checkpoint`): clients, open promises and
/// counters, which grow with clients and open work, not with the length of
/// the journal. The *cold* part (closed
/// promises, the kind of every event) is [`StateCold`], stored apart and
/// loaded only by what needs it; a state decoded without it is *partial*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub clients: HandleMap<Client>,
    /// Every promise; only the open ones in a partial state. The serde
    /// form holds the open ones (the closed ones are in [`StateCold`]).
    #[serde(serialize_with = "open_promises")]
    pub promises: IdMap<Promise>,
    /// Highest promise id ever handed out, retracted ones included, so an
    /// id is never reused.
    pub max_promise_id: PromiseId,
    pub last_seq: Seq,
    retracted: BTreeMap<Seq, Seq>,
    /// Event kind per seq (index = seq; an index into `EVENT_KINDS`,
    /// `NO_KIND` for holes): lets `retract` say what it would retract. One
    /// byte per event (cold).
    #[serde(skip)]
    kinds: Vec<u8>,
    /// Decoded without its cold part: closed promises and `kinds` are missing,
    /// so [`State::promise`] and [`State::kind_at`] may miss what they ask
    /// for (callers then ask the full state: see `cli::record`).
    #[serde(skip, default = "partial_when_decoded")]
    partial: bool,
}

fn partial_when_decoded() -> bool {
    true
}

/// The promises still open, as `IdMap`'s serde form (a sequence of
/// `(id, promise)`).
fn open_promises<S: serde::Serializer>(m: &IdMap<Promise>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let is_open = |e: &(PromiseId, &Promise)| e.1.status == PromiseStatus::Open;
    let mut seq = s.serialize_seq(Some(m.iter().filter(is_open).count()))?;
    for e in m.iter().filter(is_open) {
        seq.serialize_element(&e)?;
    }
    seq.end()
}

/// The cold part of a [`State`] (see there), as a checkpoint stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCold {
    closed: Vec<(PromiseId, Promise)>,
    kinds: Vec<u8>,
}

/// A [`StateCold`] borrowed from its [`State`]: the same serde form,
/// without copying every closed promise to store them.
#[derive(Serialize)]
pub struct StateColdRef<'a> {
    #[serde(serialize_with = "closed_promises")]
    closed: &'a IdMap<Promise>,
    kinds: &'a [u8],
}

/// The promises no longer open, as `Vec<(PromiseId, Promise)>`'s serde form.
fn closed_promises<S: serde::Serializer>(m: &&IdMap<Promise>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let is_closed = |e: &(PromiseId, &Promise)| e.1.status != PromiseStatus::Open;
    let mut seq = s.serialize_seq(Some(m.iter().filter(is_closed).count()))?;
    for e in m.iter().filter(is_closed) {
        seq.serialize_element(&e)?;
    }
    seq.end()
}

impl Default for State {
    fn default() -> Self {
        State {
            clients: HandleMap::new(),
            promises: IdMap::new(),
            max_promise_id: 0,
            last_seq: 0,
            retracted: BTreeMap::new(),
            kinds: Vec::new(),
            partial: false,
        }
    }
}

impl State {
    pub fn new() -> Self {
        Self::default()
    }

    /// A state that keeps only its hot part (clients, open promises,
    /// counters): closed promises and event kinds are dropped as they come.
    /// For folds that need neither (`status`, `due`, accepting an event),
    /// at a fraction of the memory of a full state.
    pub fn hot_only() -> Self {
        State {
            partial: true,
            ..Self::default()
        }
    }

    /// True for a state decoded without its cold part, or folded by
    /// [`State::hot_only`].
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The cold part, to store it (`None` for a partial state).
    pub fn cold(&self) -> Option<StateCold> {
        (!self.partial).then(|| StateCold {
            closed: self
                .promises
                .iter()
                .filter(|(_, p)| p.status != PromiseStatus::Open)
                .map(|(id, p)| (id, p.clone()))
                .collect(),
            kinds: self.kinds.clone(),
        })
    }

    /// The cold part borrowed, to store it without a copy (`None` for a
    /// partial state); encodes as [`State::cold`] does.
    pub fn cold_ref(&self) -> Option<StateColdRef<'_>> {
        (!self.partial).then_some(StateColdRef {
            closed: &self.promises,
            kinds: &self.kinds,
        })
    }

    /// A partial state from its hot parts, as a checkpoint stores them
    /// (`cli::checkpoint`): clients, open promises (all of them, or only
    /// those a recording command names), counters, retractions.
    pub fn from_hot_parts(
        clients: HandleMap<Client>,
        promises: IdMap<Promise>,
        max_promise_id: PromiseId,
        last_seq: Seq,
        retracted: BTreeMap<Seq, Seq>,
    ) -> Self {
        State {
            clients,
            promises,
            max_promise_id,
            last_seq,
            retracted,
            kinds: Vec::new(),
            partial: true,
        }
    }

    /// Every retraction applied: (retracted seq, seq of the retraction),
    /// in seq order.
    pub fn retractions(&self) -> impl Iterator<Item = (Seq, Seq)> + '_ {
        self.retracted.iter().map(|(a, b)| (*a, *b))
    }

    /// Completes a partial state with its cold part.
    pub fn with_cold(mut self, cold: StateCold) -> Self {
        for (id, p) in cold.closed {
            // An id is open or closed, never both; the open one wins.
            if !self.promises.contains_key(&id) {
                self.promises.insert(id, p);
            }
        }
        self.kinds = cold.kinds;
        self.partial = false;
        self
    }

    /// A promise, open or closed.
    pub fn promise(&self, id: PromiseId) -> Option<&Promise> {
        self.promises.get(&id)
    }

    pub fn next_promise_id(&self) -> PromiseId {
        self.max_promise_id + 1
    }

    /// The kind of event at `seq`, if the journal has one there.
    pub fn kind_at(&self, seq: Seq) -> Option<&'static str> {
        let k = *self.kinds.get(usize::try_from(seq).ok()?)?;
        EVENT_KINDS.get(usize::from(k)).copied()
    }

    /// The seq of the `ClientAdded` event of `handle`.
    pub fn added_seq(&self, handle: &str) -> Option<Seq> {
        self.clients.get(handle).map(|c| c.added_seq)
    }

    /// The seq of the retraction that retracted `seq`, if any.
    pub fn retracted_by(&self, seq: Seq) -> Option<Seq> {
        self.retracted.get(&seq).copied()
    }

    fn note(&mut self, env: &EnvelopeRef<'_>) {
        self.last_seq = self.last_seq.max(env.seq);
        if let Some(id) = env.event.promise() {
            self.max_promise_id = self.max_promise_id.max(id);
        }
        if self.partial {
            return;
        }
        // A seq far beyond the events seen (only a damaged or hostile
        // journal has one: the log checks that seqs follow each other) is
        // not given a slot, so it cannot make this vector huge.
        if let Ok(i) = usize::try_from(env.seq) {
            if i < self.kinds.len() + (1 << 20) {
                if self.kinds.len() <= i {
                    self.kinds.resize(i + 1, NO_KIND);
                }
                self.kinds[i] = env.event.kind_index() as u8;
            }
        }
    }

    fn close(&mut self, id: PromiseId, status: PromiseStatus, env: &EnvelopeRef<'_>) {
        if self.partial {
            // Closed promises are not kept (see `hot_only`).
            if self
                .promises
                .get(&id)
                .is_some_and(|p| p.status == PromiseStatus::Open)
            {
                self.promises.remove(&id);
            }
            return;
        }
        if let Some(p) = self.promises.get_mut(&id) {
            if p.status == PromiseStatus::Open {
                p.status = status;
                p.closed = Some((env.occurred_at, env.seq));
            }
        }
    }
}

impl Projection for State {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.apply_keyed(env, None)
    }

    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        self.note(env);
        let at = env.occurred_at;
        match env.event {
            EventRef::ClientAdded {
                handle, name, fit, ..
            } => {
                self.clients.insert_keyed(
                    handle,
                    key,
                    Client {
                        handle: handle.to_string(),
                        name: name.to_string(),
                        fit,
                        added_at: at,
                        added_seq: env.seq,
                        lost: None,
                        last_contact: None,
                    },
                );
            }
            EventRef::FitChanged { client, fit, .. } => {
                if let Some(c) = self.clients.get_mut_keyed(client, key) {
                    c.fit = fit;
                }
            }
            EventRef::Interacted { client, .. } => {
                if let Some(c) = self.clients.get_mut_keyed(client, key) {
                    c.last_contact = Some(c.last_contact.map_or(at, |l| l.max(at)));
                }
            }
            EventRef::ClientLost { client, reason } => {
                if let Some(c) = self.clients.get_mut_keyed(client, key) {
                    c.lost = Some((at, reason.to_string()));
                }
            }
            EventRef::ClientReturned { client, .. } => {
                if let Some(c) = self.clients.get_mut_keyed(client, key) {
                    c.lost = None;
                }
            }
            EventRef::PromiseMade {
                promise,
                client,
                what,
                due,
            } => {
                // A repeated id replaces the promise.
                self.promises.insert(
                    promise,
                    Promise {
                        id: promise,
                        client: client.to_string(),
                        what: what.to_string(),
                        made_seq: env.seq,
                        made_at: at,
                        original_due: due,
                        due,
                        moves: 0,
                        status: PromiseStatus::Open,
                        closed: None,
                    },
                );
            }
            EventRef::PromiseMoved { promise, due, .. } => {
                if let Some(p) = self.promises.get_mut(&promise) {
                    if p.status == PromiseStatus::Open {
                        p.due = due;
                        p.moves += 1;
                    }
                }
            }
            EventRef::PromiseKept { promise, .. } => self.close(promise, PromiseStatus::Kept, env),
            EventRef::PromiseBroken { promise, .. } => {
                self.close(promise, PromiseStatus::Broken, env)
            }
            EventRef::PromiseReleased { promise, .. } => {
                self.close(promise, PromiseStatus::Released, env)
            }
            EventRef::Retracted { seq, .. } => {
                self.retracted.insert(seq, env.seq);
            }
            EventRef::ExpectationNoted { .. }
            | EventRef::MismatchNoted { .. }
            | EventRef::Advocated { .. } => {}
            // Folded by the issues that bring them (10, 11, 12.3).
            EventRef::ClientRenamed { .. }
            | EventRef::Amended { .. }
            | EventRef::PromiseDelivered { .. }
            | EventRef::CadenceSet { .. } => {}
        }
    }

    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.note(env);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Cause, Envelope, Event};
    use crate::projections::{replay, retracted_set};

    fn env(seq: Seq, event: Event) -> Envelope {
        Envelope {
            seq,
            recorded_at: Timestamp(seq as i64 * 1_000_000),
            occurred_at: Timestamp(seq as i64 * 1_000_000),
            author: "t".into(),
            event,
        }
    }

    fn due(s: i64) -> Due {
        Due {
            at: Timestamp(s * 1_000_000),
            date_only: false,
        }
    }

    #[test]
    fn promise_lifecycle_and_retraction() {
        let envs = vec![
            env(
                1,
                Event::ClientAdded {
                    handle: "acme".into(),
                    name: "Acme".into(),
                    fit: Fit::Target,
                    note: String::new(),
                },
            ),
            env(
                2,
                Event::PromiseMade {
                    promise: 1,
                    client: "acme".into(),
                    what: "logo".into(),
                    due: due(100),
                },
            ),
            env(
                3,
                Event::PromiseMoved {
                    promise: 1,
                    due: due(200),
                    cause: Cause::Client,
                    agreed_by_client: true,
                    reason: String::new(),
                },
            ),
            env(
                4,
                Event::PromiseMade {
                    promise: 2,
                    client: "acme".into(),
                    what: "typo".into(),
                    due: due(100),
                },
            ),
            env(
                5,
                Event::Retracted {
                    seq: 4,
                    reason: "typo".into(),
                },
            ),
            env(
                6,
                Event::PromiseKept {
                    promise: 1,
                    note: String::new(),
                },
            ),
        ];
        let r = retracted_set(&envs);
        let mut s = State::new();
        replay(&mut s, &envs, &r);
        let p = s.promise(1).unwrap();
        assert_eq!(
            (p.status, p.moves, p.due, p.original_due),
            (PromiseStatus::Kept, 1, due(200), due(100))
        );
        assert!(s.promise(2).is_none(), "retracted promise must not exist");
        assert_eq!(s.next_promise_id(), 3, "a retracted id is never reused");
        assert_eq!(s.retracted_by(4), Some(5));
        assert_eq!(s.kind_at(4), Some("PromiseMade"));
        assert_eq!(s.last_seq, 6);
    }
}
