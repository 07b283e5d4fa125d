//! The validation state and the rules: what the recording commands check
//! (record.rs), applied to events that arrive whole, against a state kept
//! up to date one event at a time, retractions included.

use super::*;

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
/// retractions both ways and compares everything the rules read.
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

/// A client as the rules see it.
struct ClientView<'a> {
    name: &'a str,
    fit: Fit,
    added_at: Timestamp,
    added_seq: Seq,
    lost: Option<Timestamp>,
}

/// A promise as the rules see it.
struct PromiseView<'a> {
    client: &'a str,
    what: &'a str,
    made_at: Timestamp,
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
// Validation: the rules of the recording commands (record.rs), for events
// that arrive whole

pub(super) fn validate(
    s: &Check,
    e: &Envelope,
    src: SourceRef,
    client_hint: Option<&str>,
    now: Timestamp,
) -> Result<(), String> {
    if e.author.trim().is_empty() {
        return Err("\"author\" is empty: expected who recorded the event".into());
    }
    if e.occurred_at > e.recorded_at {
        return Err(format!(
            "occurred_at {} is after recorded_at {}: an event is recorded when or after it happens",
            e.occurred_at, e.recorded_at
        ));
    }
    if e.recorded_at > now {
        return Err(format!(
            "recorded_at {} is after now ({}): expected events already recorded",
            e.recorded_at, now
        ));
    }
    // Promise ids as the source wrote them, for messages.
    let src_promise = src.promise;
    let nonempty = |key: &str, v: &str| -> Result<(), String> {
        if v.trim().is_empty() {
            Err(format!("{key:?} is empty: expected some text"))
        } else {
            Ok(())
        }
    };
    match &e.event {
        Event::ClientAdded { handle, name, .. } => {
            check_handle(handle)?;
            nonempty("name", name)?;
            if let Some(c) = s.client(handle) {
                return Err(format!(
                    "client {handle:?} already exists in the journal (as {:?}, added {}); a handle names one client",
                    c.name,
                    c.added_at.to_local_string()
                ));
            }
        }
        Event::FitChanged { client: h, fit, .. } => {
            let c = client(s, h)?;
            if c.fit == *fit {
                return Err(format!("{h} is already {fit}: expected a change of fit"));
            }
        }
        Event::ExpectationNoted { client: h, text } | Event::MismatchNoted { client: h, text } => {
            client(s, h)?;
            nonempty("text", text)?;
        }
        Event::Interacted {
            client: h,
            mood,
            minutes,
            ..
        } => {
            client(s, h)?;
            if !(-2..=2).contains(mood) {
                return Err(format!(
                    "mood {mood} is out of range: expected -2 (very bad) to 2 (very good)"
                ));
            }
            if minutes.is_some_and(|m| m > 24 * 60) {
                return Err(format!(
                    "minutes {} is more than a day: expected at most 1440 for one interaction",
                    minutes.unwrap_or(0)
                ));
            }
        }
        Event::PromiseMade {
            client: h,
            what,
            due,
            ..
        } => {
            let c = client(s, h)?;
            if let Some(when) = c.lost {
                return Err(format!(
                    "{h} was lost on {}: a promise to a lost client needs a ClientReturned first",
                    when.to_local_string()
                ));
            }
            nonempty("what", what)?;
            if due.at < e.occurred_at {
                return Err(format!(
                    "due {} is before the promise was made ({})",
                    due.at, e.occurred_at
                ));
            }
        }
        Event::PromiseMoved { promise, due, .. } => {
            let p = open_promise(s, *promise, src_promise, client_hint)?;
            if p.due == due.at {
                return Err(format!(
                    "promise {src_promise} is already due {}: a move needs a different due",
                    due.at
                ));
            }
            if due.at < p.made_at {
                return Err(format!(
                    "the new due {} is before promise {src_promise} was made ({})",
                    due.at, p.made_at
                ));
            }
            not_before_made(e, &p, src_promise)?;
        }
        Event::PromiseKept { promise, .. } => {
            let p = open_promise(s, *promise, src_promise, client_hint)?;
            not_before_made(e, &p, src_promise)?;
        }
        Event::PromiseBroken { promise, reason } | Event::PromiseReleased { promise, reason } => {
            let p = open_promise(s, *promise, src_promise, client_hint)?;
            nonempty("reason", reason)?;
            not_before_made(e, &p, src_promise)?;
        }
        Event::Advocated { client: h, .. } => {
            client(s, h)?;
        }
        Event::ClientLost { client: h, reason } => {
            let c = client(s, h)?;
            nonempty("reason", reason)?;
            if let Some(when) = c.lost {
                return Err(format!(
                    "{h} is already lost (since {})",
                    when.to_local_string()
                ));
            }
        }
        Event::ClientReturned { client: h, .. } => {
            let c = client(s, h)?;
            if c.lost.is_none() {
                return Err(format!(
                    "{h} is not lost: ClientReturned records the return of a lost client"
                ));
            }
        }
        Event::Retracted { seq, reason } => {
            nonempty("reason", reason)?;
            let src_seq = src.seq;
            let kind = s
                .kind_at(*seq)
                .ok_or_else(|| format!("retracts seq {src_seq}, which is not in the journal"))?;
            if kind == "Retracted" {
                return Err(format!(
                    "retracts seq {src_seq}, itself a retraction: a retraction cannot be retracted"
                ));
            }
            if let Some(by) = s.retracted_by(*seq) {
                return Err(format!(
                    "retracts seq {src_seq} ({kind}), which is already retracted (by #{by} in the journal)"
                ));
            }
            if kind == "ClientAdded" {
                let open: Vec<String> = s
                    .open_promises_of_added(*seq)
                    .iter()
                    .map(PromiseId::to_string)
                    .collect();
                if !open.is_empty() {
                    return Err(format!(
                        "retracts seq {src_seq}, which added a client who still has open promises (journal ids {})",
                        open.join(", ")
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Handles are what users type: the rule of `client add`.
fn check_handle(h: &str) -> Result<(), String> {
    crate::cli::record::handle_rule(h)
}

fn client<'s>(s: &'s Check, h: &str) -> Result<ClientView<'s>, String> {
    s.client(h).ok_or_else(|| {
        format!("unknown client {h:?}: neither the journal nor an earlier line adds it")
    })
}

fn open_promise<'s>(
    s: &'s Check,
    id: PromiseId,
    src_id: PromiseId,
    client_hint: Option<&str>,
) -> Result<PromiseView<'s>, String> {
    let p = s
        .promise(id)
        .ok_or_else(|| format!("promise {src_id} does not exist (or was retracted)"))?;
    if let Some(h) = client_hint {
        if h != p.client {
            return Err(format!(
                "\"client\" is {h:?} but promise {src_id} is {:?}'s: expected the promise's client",
                p.client
            ));
        }
    }
    if p.status != PromiseStatus::Open {
        let when = p
            .closed
            .map(|t| format!(" on {}", t.to_local_string()))
            .unwrap_or_default();
        return Err(format!(
            "promise {src_id} ({:?} for {}) is not open: it was {}{when}",
            p.what,
            p.client,
            p.status.as_str()
        ));
    }
    Ok(p)
}

fn not_before_made(e: &Envelope, p: &PromiseView<'_>, src_id: PromiseId) -> Result<(), String> {
    if e.occurred_at < p.made_at {
        return Err(format!(
            "occurred_at {} is before promise {src_id} was made ({})",
            e.occurred_at, p.made_at
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut reader = JsonlReader::new(text.as_bytes());
        let mut p = Planner::new(Base::empty(None), t(1_000_000_000), 0, 0);
        while let Some(se) = reader.next_event() {
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
