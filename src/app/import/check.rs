//! The import's validation state: a [`View`] of the journal and of the
//! lines accepted so far, kept up to date one event at a time,
//! retractions included, for the one set of recording rules
//! (`app::rules`), which this applies in the words of an import.

use rustc_hash::{FxHashMap, FxHashSet};

use super::SourceRef;
use crate::app::rules::{self, ClientView, PromiseView, View, Wording};
use crate::events::{Envelope, EnvelopeRef, EventRef, Fit, PromiseId, Seq, Timestamp, EVENT_KINDS};
use crate::projections::state::PromiseStatus;

/// `kinds` entry of a seq with no event (a hole, or not seen).
const NO_KIND: u8 = u8::MAX;

/// What a seq's event is about, for folding it again when it is retracted.
#[derive(Clone, Copy)]
enum About {
    Nothing,
    Client(u32),
    Promise(u32),
}

/// What the recording commands' rules read of [`State`] — clients,
/// promises, the kind of each seq, what is retracted — kept up to date one
/// event at a time, retractions included. Each client and each promise
/// keeps the few events that shape it (a client's additions, fit changes,
/// losses and returns; a promise's making, moves and closing), so that a
/// retraction folds again only the one client or promise the retracted
/// event was about, from its own events: what a replay of the whole
/// journal without the retracted event would give for it, at the cost of
/// that client's or promise's history. (Interactions and notes change
/// nothing the rules read, so their retraction folds nothing.)
///
/// `State` is the reference: a test folds random histories with random
/// retractions both ways and compares everything the rules read. The rules
/// are one now (`app::rules`), but they run over two views, so that test
/// still holds something real: the import's view answers as a replay's.
#[derive(Default)]
pub(super) struct Check {
    handles: FxHashMap<Box<str>, u32>,
    clients: Vec<ClientRow>,
    promise_rows: FxHashMap<PromiseId, u32>,
    promises: Vec<PromiseRow>,
    /// Per seq: the kind of its event (an index into `EVENT_KINDS`), and
    /// what it is about.
    kinds: Vec<u8>,
    about: Vec<About>,
    /// Every seq a `Retracted` points at (a replay skips them all).
    retracted: FxHashSet<Seq>,
    /// seq → the last retraction of it that is not itself retracted (what
    /// `State` lists).
    retracted_by: FxHashMap<Seq, Seq>,
    /// Each retraction's target, and each target's retractions in order.
    target_of: FxHashMap<Seq, Seq>,
    retractions_of: FxHashMap<Seq, Vec<Seq>>,
    max_promise_id: PromiseId,
    /// Open promises per client row.
    open: Vec<u32>,
    /// Events folded again after retractions: the cost of retractions,
    /// which a test pins as proportional to what they touch.
    refolded: u64,
}

struct ClientRow {
    handle: Box<str>,
    ops: Vec<(Seq, ClientOp)>,
    now: Option<ClientNow>,
}

enum ClientOp {
    Added {
        name: Box<str>,
        fit: Fit,
        at: Timestamp,
    },
    Fit(Fit),
    Lost(Timestamp),
    Returned,
}

struct ClientNow {
    /// Index in `ops` of the `Added` it comes from.
    added: usize,
    fit: Fit,
    lost: Option<Timestamp>,
}

struct PromiseRow {
    id: PromiseId,
    ops: Vec<(Seq, PromiseOp)>,
    now: Option<PromiseNow>,
}

enum PromiseOp {
    Made {
        client: u32,
        what: Box<str>,
        at: Timestamp,
        due: Timestamp,
    },
    Moved(Timestamp),
    Closed(PromiseStatus, Timestamp),
}

struct PromiseNow {
    /// Index in `ops` of the `Made` it comes from.
    made: usize,
    due: Timestamp,
    status: PromiseStatus,
    closed: Option<Timestamp>,
}

impl ClientRow {
    fn apply(&mut self, i: usize) {
        match &self.ops[i].1 {
            ClientOp::Added { fit, .. } => {
                self.now = Some(ClientNow {
                    added: i,
                    fit: *fit,
                    lost: None,
                })
            }
            ClientOp::Fit(f) => {
                if let Some(c) = &mut self.now {
                    c.fit = *f;
                }
            }
            ClientOp::Lost(at) => {
                if let Some(c) = &mut self.now {
                    c.lost = Some(*at);
                }
            }
            ClientOp::Returned => {
                if let Some(c) = &mut self.now {
                    c.lost = None;
                }
            }
        }
    }
}

impl PromiseRow {
    fn apply(&mut self, i: usize) {
        match &self.ops[i].1 {
            // A repeated id replaces the promise (as in `State`).
            PromiseOp::Made { due, .. } => {
                self.now = Some(PromiseNow {
                    made: i,
                    due: *due,
                    status: PromiseStatus::Open,
                    closed: None,
                })
            }
            PromiseOp::Moved(due) => {
                if let Some(p) = self
                    .now
                    .as_mut()
                    .filter(|p| p.status == PromiseStatus::Open)
                {
                    p.due = *due;
                }
            }
            PromiseOp::Closed(status, at) => {
                if let Some(p) = self
                    .now
                    .as_mut()
                    .filter(|p| p.status == PromiseStatus::Open)
                {
                    p.status = *status;
                    p.closed = Some(*at);
                }
            }
        }
    }

    /// The client row of the promise while it is open.
    fn open_client(&self) -> Option<u32> {
        let now = self
            .now
            .as_ref()
            .filter(|p| p.status == PromiseStatus::Open)?;
        match self.ops[now.made].1 {
            PromiseOp::Made { client, .. } => Some(client),
            _ => None,
        }
    }
}

impl Check {
    fn client_row(&mut self, handle: &str) -> u32 {
        if let Some(&r) = self.handles.get(handle) {
            return r;
        }
        // Rows are counted in u32: a journal of four billion events is not
        // read into memory.
        let r = self.clients.len() as u32;
        self.handles.insert(handle.into(), r);
        self.clients.push(ClientRow {
            handle: handle.into(),
            ops: Vec::new(),
            now: None,
        });
        self.open.push(0);
        r
    }

    fn promise_row(&mut self, id: PromiseId) -> u32 {
        if let Some(&r) = self.promise_rows.get(&id) {
            return r;
        }
        let r = self.promises.len() as u32;
        self.promise_rows.insert(id, r);
        self.promises.push(PromiseRow {
            id,
            ops: Vec::new(),
            now: None,
        });
        r
    }

    /// Folds the next event of the journal (or of the import). Retracted
    /// seqs are noted but not applied. A `Retracted` itself is handled by
    /// the caller (see [`Check::retract`]).
    pub(super) fn add(&mut self, env: &EnvelopeRef<'_>) {
        let seq = env.seq;
        if let Some(id) = env.event.promise() {
            self.max_promise_id = self.max_promise_id.max(id);
        }
        let at = env.occurred_at;
        let client_op = match env.event {
            EventRef::ClientAdded {
                handle, name, fit, ..
            } => Some((
                handle,
                ClientOp::Added {
                    name: name.into(),
                    fit,
                    at,
                },
            )),
            EventRef::FitChanged { client, fit, .. } => Some((client, ClientOp::Fit(fit))),
            EventRef::ClientLost { client, .. } => Some((client, ClientOp::Lost(at))),
            EventRef::ClientReturned { client, .. } => Some((client, ClientOp::Returned)),
            _ => None,
        };
        let promise_op = match env.event {
            EventRef::PromiseMade {
                promise,
                client,
                what,
                due,
            } => {
                let client = self.client_row(client);
                Some((
                    promise,
                    PromiseOp::Made {
                        client,
                        what: what.into(),
                        at,
                        due: due.at,
                    },
                ))
            }
            EventRef::PromiseMoved { promise, due, .. } => {
                Some((promise, PromiseOp::Moved(due.at)))
            }
            EventRef::PromiseKept { promise, .. } => {
                Some((promise, PromiseOp::Closed(PromiseStatus::Kept, at)))
            }
            EventRef::PromiseBroken { promise, .. } => {
                Some((promise, PromiseOp::Closed(PromiseStatus::Broken, at)))
            }
            EventRef::PromiseReleased { promise, .. } => {
                Some((promise, PromiseOp::Closed(PromiseStatus::Released, at)))
            }
            _ => None,
        };
        let applied = !self.retracted.contains(&seq);
        let about = if let Some((handle, op)) = client_op {
            let r = self.client_row(handle);
            let row = &mut self.clients[r as usize];
            row.ops.push((seq, op));
            if applied {
                row.apply(row.ops.len() - 1);
            }
            About::Client(r)
        } else if let Some((id, op)) = promise_op {
            let r = self.promise_row(id);
            let before = self.promises[r as usize].open_client();
            let row = &mut self.promises[r as usize];
            row.ops.push((seq, op));
            if applied {
                row.apply(row.ops.len() - 1);
            }
            self.count_open(before, r);
            About::Promise(r)
        } else {
            About::Nothing
        };
        // As `State`: a seq far beyond the events seen (only a damaged or
        // hostile journal has one) is not given a slot.
        if let Ok(i) = usize::try_from(seq) {
            if i < self.kinds.len() + (1 << 20) {
                if self.kinds.len() <= i {
                    self.kinds.resize(i + 1, NO_KIND);
                    self.about.resize(i + 1, About::Nothing);
                }
                self.kinds[i] = env.event.kind_index() as u8;
                self.about[i] = about;
            }
        }
    }

    /// Moves promise row `r` among the open counts, from `before`.
    fn count_open(&mut self, before: Option<u32>, r: u32) {
        let after = self.promises[r as usize].open_client();
        if before != after {
            if let Some(c) = before {
                self.open[c as usize] = self.open[c as usize].saturating_sub(1);
            }
            if let Some(c) = after {
                self.open[c as usize] += 1;
            }
        }
    }

    /// Notes the retraction at `by` of `seq`: a replay skips `seq`.
    pub(super) fn note_retraction(&mut self, by: Seq, seq: Seq) {
        self.retracted.insert(seq);
        self.target_of.insert(by, seq);
        self.retractions_of.entry(seq).or_default().push(by);
    }

    /// Which retraction `State` lists for `seq`: the last one applied (a
    /// retraction that is itself retracted still takes `seq` out of a
    /// replay, but is not applied).
    fn settle_retracted_by(&mut self, seq: Seq) {
        let by = self.retractions_of.get(&seq).and_then(|bys| {
            bys.iter()
                .rev()
                .find(|b| !self.retracted.contains(b))
                .copied()
        });
        match by {
            Some(by) => self.retracted_by.insert(seq, by),
            None => self.retracted_by.remove(&seq),
        };
    }

    /// The retraction at `by` of `seq`, as the import plans it: `seq` is
    /// skipped from now on, and what it was about is folded again without
    /// it.
    pub(super) fn retract(&mut self, by: Seq, seq: Seq) {
        self.note_retraction(by, seq);
        self.settle_retracted_by(seq);
        // A retraction retracted (a journal could hold one; the rules
        // refuse it) no longer counts as its target's.
        if let Some(&target) = self.target_of.get(&seq) {
            self.settle_retracted_by(target);
        }
        self.refold(seq);
    }

    /// Folds again the client or promise that `seq`'s event is about.
    fn refold(&mut self, seq: Seq) {
        let about = usize::try_from(seq)
            .ok()
            .and_then(|i| self.about.get(i).copied())
            .unwrap_or(About::Nothing);
        match about {
            About::Nothing => {}
            About::Client(r) => {
                let row = &mut self.clients[r as usize];
                row.now = None;
                for i in 0..row.ops.len() {
                    if !self.retracted.contains(&row.ops[i].0) {
                        row.apply(i);
                    }
                }
                self.refolded += row.ops.len() as u64;
            }
            About::Promise(r) => {
                let before = self.promises[r as usize].open_client();
                let row = &mut self.promises[r as usize];
                row.now = None;
                for i in 0..row.ops.len() {
                    if !self.retracted.contains(&row.ops[i].0) {
                        row.apply(i);
                    }
                }
                self.refolded += row.ops.len() as u64;
                self.count_open(before, r);
            }
        }
    }

    /// After the journal's events were added as they came, with their
    /// retractions noted: what they retract was added before the set of
    /// retracted seqs was complete, so it is folded again.
    pub(super) fn settle(&mut self) {
        let mut seqs: Vec<Seq> = self.retractions_of.keys().copied().collect();
        seqs.sort_unstable();
        for seq in seqs {
            self.settle_retracted_by(seq);
            self.refold(seq);
        }
    }

    pub(super) fn next_promise_id(&self) -> PromiseId {
        self.max_promise_id + 1
    }

    fn kind_at(&self, seq: Seq) -> Option<&'static str> {
        let k = *self.kinds.get(usize::try_from(seq).ok()?)?;
        EVENT_KINDS.get(usize::from(k)).copied()
    }

    fn retracted_by(&self, seq: Seq) -> Option<Seq> {
        self.retracted_by.get(&seq).copied()
    }

    fn client(&self, handle: &str) -> Option<ClientView<'_>> {
        let row = &self.clients[*self.handles.get(handle)? as usize];
        let now = row.now.as_ref()?;
        match &row.ops[now.added] {
            (seq, ClientOp::Added { name, at, .. }) => Some(ClientView {
                name,
                fit: now.fit,
                added_at: *at,
                added_seq: *seq,
                lost: now.lost,
            }),
            _ => None,
        }
    }

    fn promise(&self, id: PromiseId) -> Option<PromiseView<'_>> {
        let row = &self.promises[*self.promise_rows.get(&id)? as usize];
        let now = row.now.as_ref()?;
        match &row.ops[now.made].1 {
            PromiseOp::Made {
                client, what, at, ..
            } => Some(PromiseView {
                client: &self.clients[*client as usize].handle,
                what,
                made_at: *at,
                due: now.due,
                status: now.status,
                closed: now.closed,
                closed_seq: None,
            }),
            _ => None,
        }
    }

    /// The open promises of the client whose `ClientAdded` is at `seq`, in
    /// id order (what retracting that event would leave without a client).
    fn open_promises_of_added(&self, seq: Seq) -> Vec<PromiseId> {
        let r = match usize::try_from(seq).ok().and_then(|i| self.about.get(i)) {
            Some(About::Client(r)) => *r,
            _ => return Vec::new(),
        };
        let row = &self.clients[r as usize];
        if self.client(&row.handle).map(|c| c.added_seq) != Some(seq) || self.open[r as usize] == 0
        {
            return Vec::new();
        }
        let mut ids: Vec<PromiseId> = self
            .promises
            .iter()
            .filter(|p| p.open_client() == Some(r))
            .map(|p| p.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

// ---------------------------------------------------------------------------
// Validation: the rules of `app::rules`, over this view, in the words of an
// import

impl View for Check {
    fn client(&self, handle: &str) -> Option<ClientView<'_>> {
        Check::client(self, handle)
    }
    fn promise(&self, id: PromiseId) -> Option<PromiseView<'_>> {
        Check::promise(self, id)
    }
    fn max_promise_id(&self) -> PromiseId {
        self.max_promise_id
    }
    fn last_seq(&self) -> Seq {
        self.kinds.len().saturating_sub(1) as Seq
    }
    fn kind_at(&self, seq: Seq) -> Option<&'static str> {
        Check::kind_at(self, seq)
    }
    fn retracted_by(&self, seq: Seq) -> Option<Seq> {
        Check::retracted_by(self, seq)
    }
    fn open_promises_of_added(&self, seq: Seq) -> Vec<PromiseId> {
        Check::open_promises_of_added(self, seq)
    }
}

/// Checks an event of the import against the journal and the lines
/// accepted before it. No rule on `recorded_at` following the journal's
/// latest: imported events come from other journals (or earlier exports)
/// and keep the times they were first written down at; the audit flags
/// those out of order (`recorded_out_of_order`).
pub(super) fn validate(
    s: &Check,
    e: &Envelope,
    src: SourceRef,
    client_hint: Option<&str>,
    now: Timestamp,
) -> Result<(), String> {
    rules::check(s, e, now, None, client_hint).map_err(|err| {
        err.render(Wording::Import {
            promise: src.promise,
            seq: src.seq,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::jsonl::read_all;
    use super::super::{Base, Planner};
    use super::*;
    use crate::app::journal::replay_into;
    use crate::events::{codec, Cause, Due, Event, InteractionKind, Party};
    use crate::projections::state::State;

    /// A random journal history: clients come, change fit, go and return;
    /// promises are made, moved and closed; any earlier event may be
    /// retracted (even one retracted before, as a hostile journal could).
    fn history(seed: u64, n: usize) -> Vec<Envelope> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut rnd = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m.max(1)
        };
        let handles = ["a", "b", "c", "d"];
        let mut out = Vec::new();
        let mut next_promise = 1;
        for seq in 1..=n as Seq {
            let h = handles[rnd(4) as usize].to_string();
            let p = 1 + rnd(next_promise);
            let t = |d: u64| Due {
                at: Timestamp(seq as i64 * 10 + d as i64),
                date_only: false,
            };
            let event = match rnd(12) {
                0 => Event::ClientAdded {
                    handle: h,
                    name: format!("n{seq}"),
                    fit: if rnd(2) == 0 {
                        Fit::Target
                    } else {
                        Fit::OffTarget
                    },
                    note: String::new(),
                },
                1 => Event::FitChanged {
                    client: h,
                    fit: if rnd(2) == 0 {
                        Fit::Target
                    } else {
                        Fit::OffTarget
                    },
                    reason: "r".into(),
                },
                2 => Event::ClientLost {
                    client: h,
                    reason: "r".into(),
                },
                3 => Event::ClientReturned {
                    client: h,
                    note: String::new(),
                },
                4 | 5 => {
                    next_promise += 1;
                    Event::PromiseMade {
                        // Now and then a repeated id.
                        promise: if rnd(20) == 0 { p } else { next_promise - 1 },
                        client: h,
                        what: format!("w{seq}"),
                        due: t(rnd(100)),
                    }
                }
                6 => Event::PromiseMoved {
                    promise: p,
                    due: t(rnd(100)),
                    cause: Cause::Us,
                    agreed_by_client: false,
                    reason: "r".into(),
                },
                7 => Event::PromiseKept {
                    promise: p,
                    note: String::new(),
                },
                8 => Event::PromiseBroken {
                    promise: p,
                    reason: "r".into(),
                },
                9 => Event::Interacted {
                    client: h,
                    kind: InteractionKind::Call,
                    mood: 0,
                    minutes: None,
                    initiated_by: Party::Us,
                    note: String::new(),
                },
                _ => Event::Retracted {
                    // Mostly an earlier event; now and then a later one.
                    seq: if rnd(30) == 0 {
                        seq + 1 + rnd(5)
                    } else {
                        1 + rnd(seq)
                    },
                    reason: "r".into(),
                },
            };
            out.push(Envelope {
                seq,
                recorded_at: Timestamp(seq as i64),
                occurred_at: Timestamp(seq as i64 - rnd(3) as i64),
                author: "t".into(),
                event,
            });
        }
        out
    }

    /// Everything the rules read, from `Check` and from a `State` replayed
    /// from scratch, must agree.
    fn assert_same(check: &Check, state: &State, upto: Seq) {
        for (h, c) in state.clients.iter() {
            let v = check
                .client(h)
                .unwrap_or_else(|| panic!("client {h} missing"));
            assert_eq!(
                (v.name, v.fit, v.added_at, v.added_seq, v.lost),
                (
                    c.name.as_str(),
                    c.fit,
                    c.added_at,
                    c.added_seq,
                    c.lost.as_ref().map(|l| l.0)
                ),
                "client {h}"
            );
        }
        for row in &check.clients {
            assert_eq!(
                check.client(&row.handle).is_some(),
                state.clients.contains_key(&row.handle)
            );
        }
        for (id, p) in state.promises.iter() {
            let v = check
                .promise(id)
                .unwrap_or_else(|| panic!("promise {id} missing"));
            assert_eq!(
                (v.client, v.what, v.made_at, v.due, v.status, v.closed),
                (
                    p.client.as_str(),
                    p.what.as_str(),
                    p.made_at,
                    p.due.at,
                    p.status,
                    p.closed.map(|c| c.0)
                ),
                "promise {id}"
            );
        }
        for row in &check.promises {
            assert_eq!(
                check.promise(row.id).is_some(),
                state.promise(row.id).is_some()
            );
        }
        assert_eq!(check.next_promise_id(), state.next_promise_id());
        for seq in 0..=upto + 6 {
            assert_eq!(check.kind_at(seq), state.kind_at(seq), "kind of {seq}");
            assert_eq!(check.retracted_by(seq), state.retracted_by(seq), "{seq}");
            if state.kind_at(seq) == Some("ClientAdded") {
                let mut open: Vec<PromiseId> = state
                    .promises
                    .iter()
                    .filter(|(_, p)| p.status == PromiseStatus::Open)
                    .filter(|(_, p)| state.added_seq(&p.client) == Some(seq))
                    .map(|(id, _)| id)
                    .collect();
                open.sort_unstable();
                assert_eq!(check.open_promises_of_added(seq), open, "open of {seq}");
            }
        }
    }

    fn replayed(envs: &[Envelope]) -> State {
        let mut s = State::new();
        replay_into(envs, &mut [&mut s]);
        s
    }

    #[test]
    fn the_validation_state_agrees_with_a_replay_through_retractions() {
        for seed in 0..60 {
            let envs = history(seed, 150);
            // As the journal is read: retractions settled at the end.
            let mut check = Check::default();
            for e in &envs {
                check.add(&e.as_ref());
                if let Event::Retracted { seq, .. } = e.event {
                    check.note_retraction(e.seq, seq);
                }
            }
            check.settle();
            assert_same(&check, &replayed(&envs), 150);

            // As an import plans: each retraction at once, compared with a
            // replay of everything so far after every event. (A retraction
            // of a later seq is where the two differ on purpose: a replay
            // of the prefix does not know that seq yet.)
            let envs: Vec<Envelope> = envs
                .into_iter()
                .filter(|e| !matches!(e.event, Event::Retracted { seq, .. } if seq >= e.seq))
                .enumerate()
                .map(|(i, e)| {
                    let seq = i as Seq + 1;
                    let event = match e.event {
                        Event::Retracted { seq: s, reason } => Event::Retracted {
                            seq: s.min(seq - 1).max(1),
                            reason,
                        },
                        ev => ev,
                    };
                    Envelope { seq, event, ..e }
                })
                .collect();
            let mut check = Check::default();
            for (i, e) in envs.iter().enumerate() {
                check.add(&e.as_ref());
                if let Event::Retracted { seq, .. } = e.event {
                    check.retract(e.seq, seq);
                }
                if i % 7 == 0 || i + 1 == envs.len() {
                    assert_same(&check, &replayed(&envs[..=i]), e.seq);
                }
            }
        }
    }

    /// A file of `n` events where every fifth or so retracts something of
    /// every kind a little earlier: the planner must not redo work per
    /// retraction in proportion to what came before (it used to replay the
    /// journal and the file so far for each one).
    #[test]
    fn retractions_cost_what_they_touch_not_what_came_before() {
        let mut lines = Vec::new();
        let t = |s: u64| Timestamp(1_600_000_000_000_000 + s as i64 * 1_000_000);
        let mut seq = 0;
        let mut push = |lines: &mut Vec<Envelope>, event: Event| {
            seq += 1;
            lines.push(Envelope {
                seq,
                recorded_at: t(seq),
                occurred_at: t(seq),
                author: "ana".into(),
                event,
            });
            seq
        };
        let n_rounds = 2_000;
        for r in 0..n_rounds {
            let promise = r + 1;
            let h = format!("c{r}");
            let added = push(
                &mut lines,
                Event::ClientAdded {
                    handle: h.clone(),
                    name: "n".into(),
                    fit: Fit::Target,
                    note: String::new(),
                },
            );
            let talk = push(
                &mut lines,
                Event::Interacted {
                    client: h.clone(),
                    kind: InteractionKind::Call,
                    mood: 0,
                    minutes: None,
                    initiated_by: Party::Us,
                    note: String::new(),
                },
            );
            let made = push(
                &mut lines,
                Event::PromiseMade {
                    promise,
                    client: h.clone(),
                    what: "w".into(),
                    due: Due {
                        at: t(10_000_000),
                        date_only: false,
                    },
                },
            );
            let moved = push(
                &mut lines,
                Event::PromiseMoved {
                    promise,
                    due: Due {
                        at: t(20_000_000),
                        date_only: false,
                    },
                    cause: Cause::Us,
                    agreed_by_client: false,
                    reason: "r".into(),
                },
            );
            let kept = push(
                &mut lines,
                Event::PromiseKept {
                    promise,
                    note: String::new(),
                },
            );
            let target = match r % 5 {
                0 => kept,
                1 => moved,
                2 => talk,
                // The promise (its move and keep go with it); then, in
                // one round of five, its client too.
                _ => made,
            };
            push(
                &mut lines,
                Event::Retracted {
                    seq: target,
                    reason: "r".into(),
                },
            );
            if r % 5 == 4 {
                push(
                    &mut lines,
                    Event::Retracted {
                        seq: added,
                        reason: "r".into(),
                    },
                );
            }
        }
        let retractions = lines
            .iter()
            .filter(|e| matches!(e.event, Event::Retracted { .. }))
            .count() as u64;
        let text: String = lines
            .iter()
            .map(|e| format!("{}\n", crate::events::json::envelope_json(e)))
            .collect();
        let (reader, events) = read_all(text.as_bytes());
        let mut p = Planner::new(Base::empty(None), t(1_000_000_000), 0, 0);
        for se in events {
            p.take_or_reject(se);
        }
        let refolded = p.check.refolded;
        let check = std::mem::take(&mut p.check);
        let plan = p.finish(
            reader.rejected,
            &reader.rejected_promises,
            &reader.rejected_seqs,
            reader.events,
        );
        assert!(
            plan.rejected.is_empty(),
            "{:?}",
            &plan.rejected[..3.min(plan.rejected.len())]
        );
        assert_eq!(plan.new, lines.len());
        // Each retraction folds one client or one promise again: a few
        // events each, whatever the length of the file.
        assert!(
            refolded <= 4 * retractions,
            "{refolded} events folded again for {retractions} retractions"
        );
        // And the state reached is the replay's.
        let written: Vec<Envelope> = plan
            .payloads()
            .enumerate()
            .map(|(i, b)| codec::decode(i as Seq + 1, b).unwrap())
            .collect();
        assert_eq!(written, lines);
        assert_same(&check, &replayed(&lines), seq);
    }
}
