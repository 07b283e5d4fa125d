//! `status [<handle>]`: one row per client — fit, active or lost, open
//! promises, next due, overdue count, last contact, trust score.
//!
//! API: [`report`]`(&State, &Trust, now, handle) -> StatusReport`, over a
//! `State` and a `Trust` replayed from the same stream. An unknown `handle`
//! gives no rows: the CLI checks `state.clients` first to say so.

use serde::Serialize;

use super::state::{PromiseStatus, State};
use super::trust::Trust;
use super::{ser, ClientKey, Projection};
use crate::events::{EnvelopeRef, Fit, PromiseId, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    #[serde(serialize_with = "ser::ts")]
    pub now: Timestamp,
    pub clients: Vec<ClientStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientStatus {
    pub client: String,
    pub name: String,
    #[serde(serialize_with = "ser::fit")]
    pub fit: Fit,
    /// `"active"` or `"lost"`.
    pub status: &'static str,
    #[serde(serialize_with = "ser::opt_ts")]
    pub lost_at: Option<Timestamp>,
    pub lost_reason: Option<String>,
    pub open_promises: u64,
    /// The soonest due among open promises, and which promise it is.
    #[serde(serialize_with = "ser::opt_ts")]
    pub next_due: Option<Timestamp>,
    pub next_promise: Option<PromiseId>,
    /// Open promises whose due has passed (`due < now`).
    pub overdue: u64,
    #[serde(serialize_with = "ser::opt_ts")]
    pub last_contact: Option<Timestamp>,
    /// 0–100; `null` only if `trust` was not fed the same stream.
    pub trust: Option<f64>,
}

/// See the module docs. Clients in handle order.
pub fn report(state: &State, trust: &Trust, now: Timestamp, handle: Option<&str>) -> StatusReport {
    // One pass over the promises, not one per client: (open, soonest
    // (due, id), overdue) per client.
    type Open = (u64, Option<(Timestamp, PromiseId)>, u64);
    let mut open: rustc_hash::FxHashMap<&str, Open> = rustc_hash::FxHashMap::default();
    for p in state.promises.values() {
        if p.status != PromiseStatus::Open || handle.is_some_and(|h| h != p.client) {
            continue;
        }
        let e = open.entry(p.client.as_str()).or_insert((0, None, 0));
        e.0 += 1;
        let key = (p.due.at, p.id);
        if e.1.is_none_or(|m| key < m) {
            e.1 = Some(key);
        }
        if p.due.at < now {
            e.2 += 1;
        }
    }
    let clients = state
        .clients
        .values()
        .filter(|c| handle.is_none_or(|h| h == c.handle))
        .map(|c| {
            let (open_promises, next, overdue) =
                open.get(c.handle.as_str()).copied().unwrap_or((0, None, 0));
            ClientStatus {
                client: c.handle.clone(),
                name: c.name.clone(),
                fit: c.fit,
                status: if c.lost.is_some() { "lost" } else { "active" },
                lost_at: c.lost.as_ref().map(|l| l.0),
                lost_reason: c.lost.as_ref().map(|l| l.1.clone()),
                open_promises,
                next_due: next.map(|n| n.0),
                next_promise: next.map(|n| n.1),
                overdue,
                last_contact: c.last_contact,
                trust: trust.score(&c.handle),
            }
        })
        .collect();
    StatusReport { now, clients }
}

/// `State` and `Trust` fed together, for `status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    pub state: State,
    pub trust: Trust,
}

impl Status {
    pub fn report(&self, now: Timestamp, handle: Option<&str>) -> StatusReport {
        report(&self.state, &self.trust, now, handle)
    }
}

impl Projection for Status {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.state.apply(env);
        self.trust.apply(env);
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.state.skip(env);
        self.trust.skip(env);
    }
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        self.state.apply_keyed(env, key);
        self.trust.apply_keyed(env, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, InteractionKind};
    use crate::projections::testkit::*;

    #[test]
    fn one_row_per_client_with_next_due_overdue_and_trust() {
        // Given acme with two open promises (one overdue) and a good call,
        // and beta lost
        let mut g = Given::new();
        g.at(t(1000));
        g.client("acme");
        g.client("beta");
        g.promise(1, "acme", t(500));
        g.promise(2, "acme", t(5000));
        g.talk("acme", InteractionKind::Call, 1, Some(10));
        g.push(Event::ClientLost {
            client: "beta".into(),
            reason: "price".into(),
        });
        let s: Status = g.replay();
        // When asking for the status at t=2000
        let r = s.report(t(2000), None);
        // Then
        assert_eq!(r.clients.len(), 2);
        let a = &r.clients[0];
        assert_eq!(
            (a.client.as_str(), a.status, a.open_promises, a.overdue),
            ("acme", "active", 2, 1)
        );
        assert_eq!((a.next_due, a.next_promise), (Some(t(500)), Some(1)));
        assert_eq!(a.trust, Some(56.0), "first impression +1 ×3 ×2 points");
        assert_eq!(a.last_contact, Some(t(1004)));
        let b = &r.clients[1];
        assert_eq!(
            (b.status, b.lost_reason.as_deref()),
            ("lost", Some("price"))
        );
        assert_eq!(s.report(t(2000), Some("beta")).clients.len(), 1);
        assert!(s.report(t(2000), Some("nobody")).clients.is_empty());
    }
}
